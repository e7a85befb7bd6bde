"""District government portal on the municipal TRS-like CMS (outlets.md, platform E).

Home `/` links news columns (`/<base>/qxdt/` 区县要闻, `/<base>/gzdt/` 工作动态); column lists
`index.html`, `index_1.html`, … (newest first, dated); articles
`/<base>/<col>/YYYYMM/tYYYYMMDD_<docid>.html` plus a `_wap.html` twin that no list links. Meta tags
ArticleTitle, PubDate, ContentSource, ColumnName, SiteName, SiteIDCode, Keywords; body in
`#UCAP-CONTENT` (`.trs_paper_default` for paper republications, `.TRS_UEDITOR` otherwise).
Recurring template items (air quality bulletins, notices) go to 工作动态.
"""

from __future__ import annotations

from zlib import crc32

from quxian.registry import Outlet
from quxian.sites import bylines
from quxian.sites.build import Article
from quxian.sites.layout import chunks, list_page_name, newest_first
from quxian.sites.pages import DISALLOWED, Site, esc, paras_html
from quxian.sites.seed import Seed

PER_PAGE = 10
COLUMN_NAMES = {"qxdt": "区县要闻", "gzdt": "工作动态"}
# Per portal: the news section's path segment and the site's SiteIDCode.
PORTALS = {
    "dazu_gov": ("zwxx_176", "5001110001", "大足区人民政府"),
    "wanzhou_gov": ("zwxx_266", "5001010001", "万州区人民政府"),
}


def portal(outlet: Outlet) -> tuple[str, str, str]:
    """(news section, SiteIDCode, SiteName); outlets without an entry get stable made-up values."""
    fallback = ("zwxx_1", f"{crc32(outlet.id.encode()) % 10**10:010d}", outlet.name)
    return PORTALS.get(outlet.id, fallback)


def column_of(a: Article) -> str:
    return "gzdt" if a.story.template else "qxdt"


def article_path(base: str, a: Article, wap: bool = False) -> str:
    suffix = "_wap" if wap else ""
    return f"/{base}/{column_of(a)}/{a.day:%Y%m}/t{a.day:%Y%m%d}_{a.number}{suffix}.html"


def headline(a: Article) -> str:
    return a.story.alt_title or a.story.title


def _shell(title: str, metas: dict[str, str], body: str) -> str:
    meta_html = "\n".join(f'<meta name="{k}" content="{esc(v)}">' for k, v in metas.items())
    return f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
{meta_html}
<title>{esc(title)}</title>
</head>
<body>
{body}
<div class="footer">主办单位: {esc(metas.get("SiteName", ""))}</div>
</body>
</html>
"""


def _article_page(outlet: Outlet, base: str, a: Article, wap: bool) -> str:
    s = a.story
    _, code, site_name = portal(outlet)
    col = column_of(a)
    source = bylines.source_name(s, outlet.id, site_name)
    metas = {
        "SiteName": site_name,
        "SiteDomain": outlet.hosts[0],
        "SiteIDCode": code,
        "ColumnName": COLUMN_NAMES[col],
        "ColumnType": col,
        "ArticleTitle": headline(a),
        "PubDate": a.stamp[:16],
        "ContentSource": source,
        "Keywords": f"{site_name.removesuffix('人民政府')},{COLUMN_NAMES[col]}",
        "Description": headline(a),
    }
    box = "trs_paper_default" if bylines.republishes_paper(s, outlet.id) else "TRS_UEDITOR"
    body = f"""<div class="zwxl-main">
<div class="location"><a href="/">首页</a> &gt; <a href="/{base}/{col}/">{COLUMN_NAMES[col]}</a></div>
<h1 class="zwxl-title">{esc(headline(a))}</h1>
<div class="zwxl-info">发布时间：{a.stamp[:16]} 来源：{esc(source)}</div>
<div id="UCAP-CONTENT"><div class="{box}">
{paras_html(bylines.body(s, outlet.id))}
</div></div>
<div class="zwxl-editor">责任编辑:{esc(s.editor)}</div>
{"" if wap else f'<div class="wap"><a href="{article_path(base, a, wap=True).rsplit("/", 1)[1]}">手机版</a></div>'}
</div>"""
    return _shell(f"{headline(a)}_{site_name}", metas, body)


def _list_page(outlet: Outlet, base: str, col: str, items: list[Article], index: int, total: int) -> str:
    lis = "\n".join(
        f'<li><a href="{article_path(base, a)}" title="{esc(headline(a))}">{esc(headline(a))}</a><span>{a.day.isoformat()}</span></li>'
        for a in items
    )
    nxt = f'<a href="{list_page_name(index + 1)}">下一页</a>' if index + 1 < total else ""
    name = portal(outlet)[2]
    metas = {"SiteName": name, "ColumnName": COLUMN_NAMES[col]}
    return _shell(
        f"{COLUMN_NAMES[col]}_{name}",
        metas,
        f'<ul class="list">\n{lis}\n</ul>\n<div class="page">{nxt}</div>',
    )


def render(site: Site, outlet: Outlet, articles: list[Article], seed: Seed | None) -> None:
    base, _, name = portal(outlet)
    ordered = newest_first(articles)
    for col in COLUMN_NAMES:
        pages = chunks([a for a in ordered if column_of(a) == col], PER_PAGE)
        for i, items in enumerate(pages):
            html = _list_page(outlet, base, col, items, i, len(pages))
            site.add_html(f"/{base}/{col}/{list_page_name(i)}", html)
            if i == 0:
                site.add_html(f"/{base}/{col}/", html)
    for a in ordered:
        site.add_html(article_path(base, a), _article_page(outlet, base, a, wap=False))
        site.add_html(article_path(base, a, wap=True), _article_page(outlet, base, a, wap=True))
    cols = "\n".join(f'<li><a href="/{base}/{c}/">{n}</a></li>' for c, n in COLUMN_NAMES.items())
    home = f"""<ul class="nav">
<li><a href="/zwgk_{base.split("_")[1]}/">政务公开</a></li>
{cols}
</ul>
<div class="tools"><a href="{DISALLOWED}{base}/qxdt/202511/t20251114_1.html">预览</a></div>"""
    site.add_html("/", _shell(name, {"SiteName": name}, home))
