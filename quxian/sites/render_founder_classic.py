"""Classic Founder (方正) e-paper (outlets.md, platform A), e.g. 三峡都市报, served GBK-encoded.

Edition: `/<paper>/html/YYYY-MM/DD/node_N.htm` (版面 N, node_1 first), articles `content_N.htm`
in the same folder with global ids. 版面 page: `td.default a#pageLink` list, page image with
`map[name=PagePicMap]`, title list, `a#ed_next`. Article: `table.wz` rows (引题, 标题, 副题, 作者),
body `div#ozoom` > `founder-content` with enpcontent / enpproperty comments.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from quxian.registry import Outlet
from quxian.sites import bylines
from quxian.sites.build import Article
from quxian.sites.layout import by_day, split_pages
from quxian.sites.pages import DISALLOWED, Site, esc, paras_html
from quxian.sites.seed import Seed

CHARSET = "gbk"
PAGE_NAMES = ("要闻", "综合", "区县", "民生", "文旅", "专题")


def page_label(index: int) -> str:
    return f"第{index + 1:02d}版：{PAGE_NAMES[index % len(PAGE_NAMES)]}"


def _head(title: str) -> str:
    return f"""<html>
<head>
<meta charset=gb2312>
<meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<meta content="all" name="robots">
<title>{esc(title)}</title>
<link href="../../../style/paper.css" rel="stylesheet" type="text/css">
</head>
<body>"""


def _node_page(paper: str, name: str, day_folder: str, pages: list[list[Article]], index: int) -> str:
    arts = pages[index]
    nav = "\n".join(
        f'<tr><td class="default"><img src="../../../image/dot.gif"><a id=pageLink href=node_{i + 1}.htm>'
        f"{esc(page_label(i))}</a></td></tr>"
        for i in range(len(pages))
    )
    areas = "\n".join(
        f'<area shape="polygon" coords="20,{40 + k * 160},480,{40 + k * 160},480,{190 + k * 160},20,{190 + k * 160}" '
        f'href="content_{a.number}.htm?div=-1">'
        for k, a in enumerate(arts)
    )
    titles = "\n".join(
        f'<li><img src="../../../image/dot2.gif"><a href=content_{a.number}.htm><div style="display:inline" '
        f"id=mp{a.number}>{esc(a.story.title)}</div></a></li>"
        for a in arts
    )
    prev_link = f"<a id=ed_prev href=node_{index}.htm>上一版</a>" if index > 0 else ""
    next_link = f"<a id=ed_next href=node_{index + 2}.htm>下一版</a>" if index + 1 < len(pages) else ""
    n = f"{index + 1:02d}"
    code = paper.upper() + day_folder.replace("-", "").replace("/", "") + n
    preview = (
        f'<a href="{DISALLOWED}{paper}/html/{day_folder}/content_1.htm">采编预览</a>' if index == 0 else ""
    )
    return f"""{_head(f"{name} {page_label(index)}")}
<table width="1000" align="center"><tr>
<td width="520" valign="top">
<img src=../../../images/{day_folder}/{n}/{code}_b.jpg border=0 USEMAP=#PagePicMap>
<map name=PagePicMap>
{areas}
</map>
</td>
<td valign="top">
<table class="bmlist">
{nav}
</table>
<div class="pdf"><a href=../../../images/{day_folder}/{n}/{code}.pdf>PDF下载</a></div>
<div class="turn">{prev_link} {next_link}</div>
<div class="titlelist"><ul>
{titles}
</ul></div>
<div class="tools">{preview}</div>
</td></tr></table>
</body>
</html>
"""


def _enpproperty(a: Article, label: str, author: str) -> str:
    s = a.story
    return (
        f"<!--enpproperty <date>{a.day.isoformat()}</date><title>{esc(s.title)}</title>"
        f"<author>{esc(author)}</author><subtitle>{esc(s.sub_title)}</subtitle>"
        f"<introtitle>{esc(s.pre_title)}</introtitle><keyword></keyword><articleid>{a.number}</articleid>"
        f"<nodename>{esc(label)}</nodename><siteid>1</siteid>/enpproperty-->"
    )


def _content_page(paper: str, a: Article, label: str, node: int, prev: Article | None) -> str:
    s = a.story
    author = bylines.author_line(s)
    prev_link = f"<a class=preart href=content_{prev.number}.htm>上一篇</a>" if prev else ""
    body = paras_html(bylines.body(s, a.outlet_id))
    return f"""{_head(f"{s.title}--{paper}")}
<table width="1000" align="center"><tr><td>
<div class="bm">{esc(label)} <a href=node_{node}.htm>返回版面</a> {prev_link}</div>
<table class="wz" width="100%">
<tr valign=top><td class="pretitle">{esc(s.pre_title)}</td></tr>
<tr valign=top><td class="title"><strong>{esc(s.title)}</strong></td></tr>
<tr valign=top><td class="subtitle">{esc(s.sub_title)}</td></tr>
<tr valign=top><td class="author">{esc(author)}</td></tr>
</table>
<div id=ozoom style="font-size:14px">
<founder-content><!--enpcontent-->{body}<!--/enpcontent-->{_enpproperty(a, label, author)}</founder-content>
</div>
</td></tr></table>
</body>
</html>
"""


def render(site: Site, outlet: Outlet, articles: list[Article], seed: Seed | None) -> None:
    # The paper's folder is the first path segment of its edition URL (`/sxdsb/html/...`).
    paper = urlsplit(outlet.start_urls[0]).path.strip("/").split("/")[0]
    for day, arts in by_day(articles).items():
        day_folder = f"{day:%Y-%m}/{day:%d}"
        folder = f"/{paper}/html/{day_folder}/"
        pages = split_pages(arts, min_pages=2, per_page=4)
        prev: Article | None = None
        for i, page_arts in enumerate(pages):
            site.add_html(
                f"{folder}node_{i + 1}.htm", _node_page(paper, outlet.name, day_folder, pages, i), CHARSET
            )
            for a in page_arts:
                site.add_html(
                    f"{folder}content_{a.number}.htm",
                    _content_page(outlet.name, a, page_label(i), i + 1, prev),
                    CHARSET,
                )
                prev = a
