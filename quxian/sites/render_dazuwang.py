"""大足网 (www.txdzw.com), its own CMS (outlets.md, platform D note).

List `/xw/dzxw/` (= `index.html`), `index_1.html`, … (newest first, dated); articles
`/xw/dzxw/content_N` (no extension). Info line `来源:大足网 发布时间:YYYY-MM-DD HH:MM:SS 浏览次数:`;
the text ends with `终审:…`. Republications of 新渝报 keep the paper's lead and say `来源:新渝报`.
"""

from __future__ import annotations

from quxian.registry import Outlet
from quxian.sites import bylines
from quxian.sites.build import Article
from quxian.sites.layout import chunks, list_page_name, newest_first
from quxian.sites.pages import DISALLOWED, Site, esc, paras_html
from quxian.sites.seed import Seed

PER_PAGE = 10
COLUMN = "/xw/dzxw/"


def _shell(title: str, body: str) -> str:
    return f"""<!DOCTYPE html>
<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>{esc(title)}</title>
<meta name="keywords" content="大足网,大足新闻">
</head>
<body>
<div class="nav"><a href="/">首页</a> <a href="{COLUMN}">大足新闻</a></div>
{body}
<div class="copyright">大足网 版权所有 渝ICP备00000000号</div>
</body>
</html>
"""


def _article_page(outlet: Outlet, a: Article) -> str:
    s = a.story
    source = bylines.source_name(s, outlet.id, outlet.name)
    body = f"""<div class="position">当前位置: <a href="/">首页</a> &gt; <a href="{COLUMN}">大足新闻</a></div>
<div class="detail">
<h1>{esc(s.title)}</h1>
<div class="info">来源:{esc(source)} 发布时间:{a.stamp} 浏览次数:<span id="hits"></span></div>
<div class="TRS_Editor" id="content">
{paras_html(bylines.body(s, outlet.id))}
<p>终审:{esc(s.editor)}</p>
</div>
</div>"""
    return _shell(f"{s.title}-大足网", body)


def _list_page(items: list[Article], index: int, total: int) -> str:
    lis = "\n".join(
        f'<li><a href="{COLUMN}content_{a.number}">{esc(a.story.title)}</a><span>{a.day.isoformat()}</span></li>'
        for a in items
    )
    nxt = f'<a href="{COLUMN}{list_page_name(index + 1)}">下一页</a>' if index + 1 < total else ""
    tools = f'<a href="{DISALLOWED}xw/dzxw/content_1">草稿</a>' if index == 0 else ""
    return _shell(
        "大足新闻-大足网",
        f'<ul class="newslist">\n{lis}\n</ul>\n<div class="pages">{nxt}</div>\n<div>{tools}</div>',
    )


def render(site: Site, outlet: Outlet, articles: list[Article], seed: Seed | None) -> None:
    ordered = newest_first(articles)
    pages = chunks(ordered, PER_PAGE)
    for i, items in enumerate(pages):
        html = _list_page(items, i, len(pages))
        site.add_html(COLUMN + list_page_name(i), html)
        if i == 0:
            site.add_html(COLUMN, html)
    for a in ordered:
        site.add_html(f"{COLUMN}content_{a.number}", _article_page(outlet, a))
    site.add_html("/", _shell("大足网", f'<a href="{COLUMN}">大足新闻</a>'))
