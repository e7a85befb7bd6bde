"""Page authors (transforms.pageauthor): author meta tags and chrome lines → people and editors.

Pages here are synthetic (an invented story, invented names); the two labelled corpus pages whose
authors sit in page chrome are read from ../shared at run time.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import html as lxml_html

from transforms import pageauthor
from transforms.clean import clean
from transforms.extract import extract
from transforms.record import Extracted

STORY = [
    "本报讯 11月12日，示例区农业农村委在示例镇组织开展冬季农业生产技术培训，来自全区的两百余名种植大户参加培训。",
    "培训现场，农技专家围绕蔬菜越冬管理、病虫害防治等内容进行讲解，并到田间地头开展示范，种植户纷纷提问。",
    "区农业农村委相关负责人表示，下一步将继续加强技术服务，保障冬季蔬菜稳定供应，帮助农户增收致富。",
]


def page(
    *,
    meta: str = "",
    header: str = "",
    footer: str = "",
    title: str = "示例镇开展冬季农业技术培训_示例新闻网",
) -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in STORY)
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title>{meta}</head>
<body><div class="nav"><a href="/">首页</a> <a href="/a">要闻</a> <a href="/b">区县</a></div>
<div class="article"><h1>示例镇开展冬季农业技术培训</h1><div class="info">{header}</div>
<div class="content">{paragraphs}</div><div class="foot">{footer}</div></div>
<div class="copyright">主办：示例新闻网 总编辑：钱七 编辑信箱：desk@example.cn</div></body></html>"""


def test_editor_line_in_the_footer_goes_to_editors() -> None:
    ex = extract(page(footer="<span>责任编辑： \n 赵小六</span>"), "https://news.example.cn/2025/1112/a.html")
    assert ex.author_line == "责任编辑：赵小六"
    rec = clean(ex)
    assert rec["editors"] == ["赵小六"]
    assert rec["reporters"] == []
    assert "赵小六" not in rec["body"]


def test_meta_author_is_a_person_unless_the_page_says_editor() -> None:
    ex = extract(page(meta='<meta name="author" content="孙八">'))
    assert clean(ex)["reporters"] == ["孙八"]
    # The desk editor in the author tag and in the footer: an editor, not a reporter.
    ex = extract(page(meta='<meta name="Author" content="孙八">', footer="责任编辑：孙八"))
    rec = clean(ex)
    assert (rec["reporters"], rec["editors"]) == ([], ["孙八"])


def test_header_line_with_roles_and_date() -> None:
    ex = extract(page(header="2025-11-12 10:30 来源：示例日报 作者：记者 周九 通讯员 吴十"))
    rec = clean(ex)
    assert rec["reporters"] == ["周九"] and rec["correspondents"] == ["吴十"]
    assert "示例日报" not in rec["reporters"]


def test_site_names_masthead_and_placeholders_are_no_people() -> None:
    # The site's own name in the author tag (also in its title), a masthead's 总编辑 and an
    # editor's mailbox in the site footer, placeholder authors: nobody.
    ex = extract(
        page(
            meta='<meta name="author" content="示例新闻"><meta property="article:author" content="网易">',
            header="作者：未知",
            footer="编辑：系统管理员",
            title="示例镇开展冬季农业技术培训_示例新闻_网易",
        )
    )
    assert ex.author_line is None
    rec = clean(ex)
    assert rec["reporters"] == [] and rec["editors"] == []


def test_template_author_row_wins() -> None:
    ex = extract(page(footer="责任编辑：赵小六"), hints={"author_line": "记者 王小二"})
    assert ex.author_line == "记者 王小二"


def test_lines_of_the_article_are_not_read_twice() -> None:
    root = lxml_html.fromstring("<html><body><p>责任编辑：赵小六</p></body></html>")
    lines = ["首页", "责任编辑：赵小六", "编辑：郑十一"]
    assert pageauthor.page_author_line(root, lines, ["责任编辑：赵小六"]) == "责任编辑：郑十一"
    assert pageauthor.chrome_fields(["作者：张 玲 责任编辑：李四 审核：王五"], []) == (["张玲"], ["李四"])


@pytest.mark.parametrize("root", [None, lxml_html.fromstring("<div>x</div>"), object()])
def test_odd_input_never_raises(root: object) -> None:
    assert pageauthor.page_author_line(root, ["作者：", "编辑:", None, "责任编辑：" + "长" * 500], []) is None  # type: ignore[list-item]


def test_clean_routes_a_footer_style_author_row() -> None:
    ex = Extracted(
        title="示例镇开展冬季农业技术培训",
        paragraphs=STORY,
        author_line="作者：记者 周九 责任编辑：赵小六 来源：示例日报",
    )
    rec = clean(ex)
    assert (rec["reporters"], rec["editors"], rec["source"]) == (["周九"], ["赵小六"], "示例日报")
    # A template row without fields keeps its old reading.
    rec = clean(Extracted(title="标题", paragraphs=STORY, author_line="记者 周九 通讯员 吴十"))
    assert (rec["reporters"], rec["correspondents"], rec["editors"]) == (["周九"], ["吴十"], [])


def test_labelled_corpus_pages_name_their_editors(shared_dir: Path) -> None:
    corpus = shared_dir / "corpus"
    rows = [
        json.loads(line)
        for line in (corpus / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
        if line
    ]
    labelled = [
        r
        for r in rows
        if r["source"] in ("htmldate-zh", "trafilatura-zh", "newspaper4k-zh") and r.get("gt_author")
    ]
    assert labelled
    for r in labelled:
        rec = clean(extract((corpus / r["html"]).read_bytes(), r.get("url")), url=r.get("url"))
        assert r["gt_author"] in rec["editors"], r["html"]
