"""District 融媒体 portal on the shared city platform (outlets.md, platform D), e.g. 璧山网.

Home `/` links the column lists `/web/column/<id>/index.html`, `index_1.html`, … (10 items a page,
newest first, dated). Articles `/web/article/<19-digit id>/web/content_<id>.html`: header
`YYYY-MM-DD HH:MM:SS 来源: <district>融媒体中心`, footer `责任编辑:…` and `发言请遵守新闻跟帖服务协议`,
share/print widgets and a 相关新闻 block.
"""

from __future__ import annotations

from quxian.registry import Outlet
from quxian.sites import bylines
from quxian.sites.build import Article
from quxian.sites.layout import chunks, list_page_name, newest_first
from quxian.sites.pages import DISALLOWED, Site, esc, paras_html
from quxian.sites.seed import Seed

PER_PAGE = 10
# column id → name; the second column carries the photo stories (also listed in the first).
COLUMNS = {"1729384756": "要闻", "1729384757": "图片新闻"}
SOURCE = {"bswxw": "璧山区融媒体中心"}


def article_id(a: Article) -> str:
    """19 digits: `19` + YYYYMMDD + a 9-digit serial (the platform's ids are 19-digit numbers)."""
    return f"19{a.day:%Y%m%d}{a.number:09d}"


def article_path(a: Article) -> str:
    aid = article_id(a)
    return f"/web/article/{aid}/web/content_{aid}.html"


def _shell(outlet: Outlet, title: str, body: str) -> str:
    return f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta name="keywords" content="{esc(outlet.name)}">
<meta name="description" content="{esc(title)}">
<title>{esc(title)}</title>
</head>
<body>
<div class="header"><a href="/">{esc(outlet.name)}</a>
{" ".join(f'<a href="/web/column/{cid}/index.html">{name}</a>' for cid, name in COLUMNS.items())}</div>
{body}
<div class="footer">{esc(outlet.name)} 版权所有</div>
</body>
</html>
"""


def _article_page(outlet: Outlet, a: Article, related: list[Article]) -> str:
    s = a.story
    rel = "\n".join(f'<li><a href="{article_path(r)}">{esc(r.story.title)}</a></li>' for r in related)
    body = f"""<div class="article">
<h1 class="title">{esc(s.title)}</h1>
<div class="info"><span class="time">{a.stamp}</span> <span class="source">来源: {esc(SOURCE.get(outlet.id, outlet.name))}</span></div>
<div class="content" id="content">
{paras_html(bylines.body(s, outlet.id))}
</div>
<div class="editor">责任编辑:{esc(s.editor)}</div>
<div class="share">分享到: <a class="wx">微信</a> <a class="wb">微博</a> <a class="qz">QQ空间</a> <a href="javascript:window.print()">打印</a></div>
<div class="comment-tip">发言请遵守新闻跟帖服务协议</div>
<div class="related"><h3>相关新闻</h3><ul>
{rel}
</ul></div>
</div>"""
    return _shell(outlet, f"{s.title}_{outlet.name}", body)


def _list_page(outlet: Outlet, cid: str, items: list[Article], index: int, total: int) -> str:
    lis = "\n".join(
        f'<li><a href="{article_path(a)}" target="_blank">{esc(a.story.title)}</a><span class="date">{a.day.isoformat()}</span></li>'
        for a in items
    )
    nxt = f'<a class="next" href="{list_page_name(index + 1)}">下一页</a>' if index + 1 < total else ""
    prv = f'<a class="prev" href="{list_page_name(index - 1)}">上一页</a>' if index > 0 else ""
    # An article-shaped link under the robots.txt-disallowed prefix (a well-behaved crawler skips it).
    tools = (
        f'<div class="tools"><a href="{DISALLOWED}web/article/1900000000000000001/web/content_1900000000000000001.html">审核预览</a></div>'
        if index == 0
        else ""
    )
    body = f"""<div class="column"><h2>{COLUMNS[cid]}</h2><ul class="list">
{lis}
</ul><div class="page">{prv} {nxt}</div>{tools}</div>"""
    return _shell(outlet, f"{COLUMNS[cid]}_{outlet.name}", body)


def render(site: Site, outlet: Outlet, articles: list[Article], seed: Seed | None) -> None:
    ordered = newest_first(articles)
    columns = {
        "1729384756": ordered,
        "1729384757": [a for a in ordered if a.story.photographers or a.slot == 0],
    }
    for cid, items in columns.items():
        pages = chunks(items, PER_PAGE)
        for i, page_items in enumerate(pages):
            site.add_html(
                f"/web/column/{cid}/{list_page_name(i)}", _list_page(outlet, cid, page_items, i, len(pages))
            )
    for k, a in enumerate(ordered):
        related = [r for r in ordered[max(0, k - 2) : k + 3] if r is not a][:3]
        site.add_html(article_path(a), _article_page(outlet, a, related))
    top = "\n".join(f'<li><a href="{article_path(a)}">{esc(a.story.title)}</a></li>' for a in ordered[:6])
    home = f"""<div class="focus"><ul>
{top}
</ul></div>"""
    site.add_html("/", _shell(outlet, outlet.name, home))
