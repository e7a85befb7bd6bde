"""Newer Founder layout (outlets.md, platform B), e.g. 长寿日报.

`/pc/layout/YYYYMM/DD/node_01.html` 版面 pages (list `ul#widthNone li a`), articles
`/pc/content/YYYYMM/DD/content_N.html` with `#PreTitle`, `#Title`, `#SubTitle`, body
`div.newsdetatext` > `founder-content`; `/pc/layout/YYYYMM/period.xml` lists the month's issues.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from quxian.registry import Outlet
from quxian.sites import bylines
from quxian.sites.build import Article
from quxian.sites.layout import by_day, split_pages
from quxian.sites.pages import DISALLOWED, Site, esc, paras_html
from quxian.sites.seed import Seed

PAGE_NAMES = ("要闻", "综合", "经济", "社会", "文化", "周刊")


def page_label(index: int) -> str:
    return f"第{index + 1:02d}版：{PAGE_NAMES[index % len(PAGE_NAMES)]}"


def _shell(title: str, body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{esc(title)}</title>
<link rel="stylesheet" href="/pc/css/layout.css">
</head>
<body>
{body}
</body>
</html>
"""


def _layout_page(outlet: Outlet, day: date, pages: list[list[Article]], index: int) -> str:
    ym, dd = f"{day:%Y%m}", f"{day:%d}"
    nav = "\n".join(
        f'<li><a href="node_{i + 1:02d}.html">{esc(page_label(i))}</a></li>' for i in range(len(pages))
    )
    items = "\n".join(
        f'<li><a href="../../../content/{ym}/{dd}/content_{a.number}.html">{esc(a.story.title)}</a></li>'
        for a in pages[index]
    )
    preview = f'<a href="{DISALLOWED}pc/content/{ym}/{dd}/content_1.html">预览</a>' if index == 0 else ""
    body = f"""<div class="paper-top">{esc(outlet.name)} {day.isoformat()}</div>
<div class="layout-img"><img src="../../../../pc/pic/{ym}/{dd}/{index + 1:02d}.jpg"></div>
<div class="layout-list"><ul id="widthNone">
{nav}
</ul></div>
<div class="news-list"><h3>{esc(page_label(index))}</h3><ul>
{items}
</ul></div>
<div class="tools">{preview}</div>"""
    return _shell(f"{outlet.name} {page_label(index)}", body)


def _content_page(outlet: Outlet, a: Article, label: str, node: int) -> str:
    s = a.story
    ym, dd = f"{a.day:%Y%m}", f"{a.day:%d}"
    paras = paras_html(bylines.body(s, a.outlet_id))
    body = f"""<div class="paper-top">{esc(outlet.name)} <span class="layout">{esc(label)}</span>
<a href="../../../layout/{ym}/{dd}/node_{node:02d}.html">返回版面</a></div>
<div class="newsdetail">
<h3 id="PreTitle">{esc(s.pre_title)}</h3>
<h1 id="Title">{esc(s.title)}</h1>
<h2 id="SubTitle">{esc(s.sub_title)}</h2>
<div id="author">{esc(bylines.author_line(s))} {a.day.isoformat()}</div>
<div class="newsdetatext"><founder-content><!--enpcontent-->{paras}<!--/enpcontent--><!--enpproperty <date>{a.day.isoformat()} 00:00:00:0</date><title>{esc(s.title)}</title><author>{esc(bylines.author_line(s))}</author><paperarticleid>{a.number}</paperarticleid>/enpproperty--></founder-content></div>
</div>"""
    return _shell(f"{s.title}-{outlet.name}", body)


def _period_xml(days: list[date]) -> str:
    periods = "\n".join(
        f"<period><period_name>{d.isoformat()}</period_name><paper_id>1</paper_id>"
        f"<front_page>node_01.html</front_page><period_date>{d:%Y%m%d}</period_date></period>"
        for d in days
    )
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<periodlist>\n{periods}\n</periodlist>\n'


def render(site: Site, outlet: Outlet, articles: list[Article], seed: Seed | None) -> None:
    months: dict[str, list[date]] = defaultdict(list)
    for day, arts in by_day(articles).items():
        months[f"{day:%Y%m}"].append(day)
        pages = split_pages(arts, min_pages=2, per_page=4)
        for i, page_arts in enumerate(pages):
            site.add_html(
                f"/pc/layout/{day:%Y%m}/{day:%d}/node_{i + 1:02d}.html", _layout_page(outlet, day, pages, i)
            )
            for a in page_arts:
                site.add_html(
                    f"/pc/content/{day:%Y%m}/{day:%d}/content_{a.number}.html",
                    _content_page(outlet, a, page_label(i), i + 1),
                )
    for ym, days in months.items():
        site.add_text(f"/pc/layout/{ym}/period.xml", _period_xml(days), "application/xml; charset=utf-8")
