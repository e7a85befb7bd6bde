"""A spam mirror (www.cqxw-mirror.test): damaged copies of 新渝报 stories, plus the seed verbatim.

The copies are the xinyubao text (lead included) run through `transforms.mirror.damage` (Traditional,
`(pinyin)` glued after characters, NFKC), with spam keyword lines above the title and `網站專欄`
navigation residue at the end. List `/list/` (= `index.html`), `index_1.html`, …; articles
`/html/YYYY/MMDD/<n>.html`. The seed file is served as one article of 2025-11-15, line for line.
"""

from __future__ import annotations

import importlib
import logging
from zlib import crc32

from quxian.registry import Outlet
from quxian.sites import bylines
from quxian.sites.build import Article, _time_of
from quxian.sites.layout import chunks, list_page_name, newest_first
from quxian.sites.pages import DISALLOWED, Site, esc, paras_html
from quxian.sites.seed import SEED_PUBLISHED, Seed

log = logging.getLogger(__name__)
PER_PAGE = 10
SPAM = (
    "重慶網站建設 專業優化 快速排名",
    "大足新聞 今日熱點 權威發布",
    "本地生活資訊 免費發布信息",
    "全網推廣 一站式服務",
)
RESIDUE = "網站專欄"
RESIDUE_SIMPLIFIED = "网站专栏"


def _damager(outlet_id: str):
    """`text -> damaged text`; before `transforms.mirror` exists, only the s2t conversion."""
    mirror_seed = crc32(outlet_id.encode()) % 997 + 1
    try:
        mod = importlib.import_module("transforms.mirror")
        return lambda text: mod.damage(text, mirror_seed)
    except ImportError:
        import opencc

        log.warning("transforms.mirror is missing: the mirror serves undamaged Traditional text")
        s2t = opencc.OpenCC("s2t")
        return s2t.convert


def article_path(a: Article) -> str:
    return f"/html/{a.day:%Y}/{a.day:%m%d}/{a.number}.html"


def _lines(a: Article, damage) -> list[str]:
    s = a.story
    head = " ".join(x for x in (s.pre_title, s.title, s.sub_title) if x)
    # The navigation residue went through the same damage on the mirrors (`網(wǎng)站專欄`).
    text = "\n".join([head, *bylines.body(s, "xinyubao"), RESIDUE_SIMPLIFIED])
    return damage(text).split("\n")


def _article_page(a: Article, title: str, lines: list[str], spam: list[str]) -> str:
    spam_html = "\n".join(f'<div class="kw">{esc(k)}</div>' for k in spam)
    return f"""<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>{esc(title)}</title>
<meta name="keywords" content="{esc(" ".join(spam))}"></head>
<body>
<div class="main">
{spam_html}
<h1>{esc(title)}</h1>
<div class="time">{a.stamp}</div>
<div class="text">
{paras_html(lines)}
</div>
</div>
<div class="links"><a href="/list/">{RESIDUE}</a></div>
</body>
</html>
"""


def _list_page(items: list[tuple[Article, str]], index: int, total: int) -> str:
    lis = "\n".join(
        f'<li><a href="{article_path(a)}">{esc(t)}</a> <em>{a.day.isoformat()}</em></li>' for a, t in items
    )
    nxt = f'<a href="{list_page_name(index + 1)}">下一頁</a>' if index + 1 < total else ""
    tools = f'<a href="{DISALLOWED}html/2025/1114/1.html">後台</a>' if index == 0 else ""
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>最新資訊</title></head>
<body><ul class="list">
{lis}
</ul><div class="page">{nxt}</div><div>{tools}</div></body></html>
"""


def render(site: Site, outlet: Outlet, articles: list[Article], seed: Seed | None) -> None:
    damage = _damager(outlet.id)
    entries: list[tuple[Article, str]] = []
    for a in articles:
        lines = _lines(a, damage)
        spam = [SPAM[(crc32(a.story.id.encode()) + k) % len(SPAM)] for k in range(1 + a.slot % 2)]
        site.add_html(article_path(a), _article_page(a, lines[0], lines[1:], spam))
        entries.append((a, lines[0]))
    if seed is not None:
        raw_lines = [ln for ln in seed.raw_text.splitlines() if ln.strip()]
        number = max((a.number for a in articles), default=0) + 7
        slot = sum(1 for a in articles if a.day == SEED_PUBLISHED)
        a = Article(outlet.id, seed.story, SEED_PUBLISHED, number, slot, _time_of(seed.story, slot))
        # Verbatim: the seed already ends with its own 網站專欄 residue and has no spam lines.
        site.add_html(article_path(a), _article_page(a, raw_lines[0], raw_lines[1:], []))
        entries.append((a, raw_lines[0]))
    ordered = newest_first(a for a, _ in entries)
    titles = {id(a): t for a, t in entries}
    pages = chunks([(a, titles[id(a)]) for a in ordered], PER_PAGE)
    for i, items in enumerate(pages):
        html = _list_page(items, i, len(pages))
        site.add_html("/list/" + list_page_name(i), html)
        if i == 0:
            site.add_html("/list/", html)
    site.add_html(
        "/", '<html><head><meta charset="utf-8"></head><body><a href="/list/">最新資訊</a></body></html>'
    )
