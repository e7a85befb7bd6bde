"""新渝报 (大足) e-paper, its own template (outlets.md, platform C).

Articles: `/Html/YYYY-MM-DD/<id>.html`, ids global and rising. Assumption (no live evidence): a
per-day index `/Html/YYYY-MM-DD/index.html` lists the day's 版面 and their article links; the
spider also follows any article link of the date, so it does not depend on this page alone.
"""

from __future__ import annotations

from datetime import date

from quxian.registry import Outlet
from quxian.sites import bylines
from quxian.sites.build import Article
from quxian.sites.layout import by_day, split_pages
from quxian.sites.pages import DISALLOWED, Site, esc, paras_html
from quxian.sites.seed import Seed

PAGE_NAMES = ("要闻", "要闻", "综合", "社会", "文旅", "专题", "副刊", "视点")
FIRST_ISSUE = (date(2025, 11, 13), 1210)  # 总第N期 of the first covered day


def issue_number(day: date) -> int:
    return FIRST_ISSUE[1] + (day - FIRST_ISSUE[0]).days


def page_label(index: int) -> str:
    """`A2:要闻` style 版面 label (index 0 → A1)."""
    return f"A{index + 1}:{PAGE_NAMES[index % len(PAGE_NAMES)]}"


def _shell(title: str, body: str) -> str:
    return f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>{esc(title)}</title>
<meta name="keywords" content="新渝报,大足">
<link rel="stylesheet" href="/css/xyb.css">
</head>
<body>
<div class="top"><a href="/">新渝报数字报</a></div>
{body}
<div class="foot">新渝报社 版权所有 <a href="/about.html">关于我们</a></div>
</body>
</html>
"""


def _article_page(a: Article, label: str) -> str:
    s = a.story
    info = f"刊发日期:{a.day.isoformat()} 阅读次数: 作者:{' '.join(s.reporters)}"
    body = f"""<div class="bmnav"><span class="bm">{esc(label)} 总第{issue_number(a.day)}期 &gt;{a.day.isoformat()}编印</span>
<a href="index.html">返回版面</a></div>
<div class="article">
<div class="yt">{esc(s.pre_title)}</div>
<h1 class="title">{esc(s.title)}</h1>
<div class="ft">{esc(s.sub_title)}</div>
<div class="info">{esc(info)}</div>
<div class="content" id="ozoom">
{paras_html(bylines.body(s, "xinyubao"))}
</div>
</div>"""
    return _shell(f"{s.title}-新渝报", body)


def _index_page(day: date, pages: list[list[Article]]) -> str:
    blocks = []
    for i, arts in enumerate(pages):
        links = "\n".join(f'<li><a href="{a.number}.html">{esc(a.story.title)}</a></li>' for a in arts)
        blocks.append(f'<div class="bm"><h3>{esc(page_label(i))}</h3>\n<ul>\n{links}\n</ul></div>')
    joined = "\n".join(blocks)
    body = f"""<div class="date">{day.isoformat()} 总第{issue_number(day)}期</div>
{joined}
<div class="tools"><a href="{DISALLOWED}Html/{day.isoformat()}/1.html">稿件预览</a></div>"""
    return _shell(f"新渝报 {day.isoformat()}", body)


def render(site: Site, outlet: Outlet, articles: list[Article], seed: Seed | None) -> None:
    days = by_day(articles)
    for day, arts in days.items():
        pages = split_pages(arts, min_pages=2, per_page=3)
        folder = f"/Html/{day.isoformat()}/"
        site.add_html(folder + "index.html", _index_page(day, pages))
        for i, page_arts in enumerate(pages):
            for a in page_arts:
                site.add_html(f"{folder}{a.number}.html", _article_page(a, page_label(i)))
    links = "\n".join(
        f'<li><a href="/Html/{d.isoformat()}/index.html">{d.isoformat()}</a></li>' for d in days
    )
    site.add_html("/", _shell("新渝报数字报", f'<ul class="days">\n{links}\n</ul>'))
