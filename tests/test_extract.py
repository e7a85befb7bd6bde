"""Extraction: platform rules, generic fallback, decoding, dates, non-articles, e-paper navigation.

Platform pages are synthetic (tests/fixtures/pages, written for this project after outlets.md);
the one real page used (the Founder 版面 page of the shared corpus) is read from ../shared.
"""

from __future__ import annotations

import re
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from quxian.config import TZ, shared_dir
from transforms.encoding import decode_html
from transforms.extract import extract
from transforms.pagedate import parse_date_text, url_date
from transforms.platforms import detect_platform, edition_article_links, edition_page_links, template_fields

PAGES = Path(__file__).parent / "fixtures" / "pages"


def page(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def body(ex) -> str:
    return "\n".join(ex.paragraphs)


# --- platform rules ---------------------------------------------------------------------------


def test_founder_classic_rows_enpproperty_and_body():
    url = "https://paper.example.cn/sfrb/html/2025-11/14/content_118303.htm"
    ex = extract(page("founder_classic_content.htm"), url)
    assert ex.extractor == "platform:founder_classic"
    assert (ex.pre_title, ex.title, ex.sub_title) == ("冬季田间管理正当时", "示例镇万亩油菜完成移栽", "机械化作业率超过六成")
    assert ex.author_line == "记者 甲乙丙 通讯员 丁戊"
    assert ex.page_label == "第02版：综合"
    assert ex.edition_date == date(2025, 11, 14)
    assert ex.published_at == datetime(2025, 11, 14, tzinfo=TZ)
    assert ex.paragraphs[0].startswith("本报讯(记者 甲乙丙 通讯员 丁戊)连日来")
    assert ex.paragraphs[-1] == "(甲乙丙)"  # credits stay: cleaning parses them
    assert "分享到" not in body(ex) and "版权所有" not in body(ex)
    assert ex.is_article and ex.reason is None


def test_founder_pc_fields_and_date_split_from_author():
    url = "https://epaper.example.cn/pc/content/202511/14/content_35210.html"
    ex = extract(page("founder_pc_content.html"), url)
    assert ex.extractor == "platform:founder_pc"
    assert (ex.pre_title, ex.title, ex.sub_title) == ("点亮夜间经济", "示例江城夜市人气旺", "百余摊位开门迎客")
    assert ex.author_line == "记者 王小二"
    assert ex.page_label == "第03版：民生"
    assert ex.edition_date == date(2025, 11, 14)
    assert len(ex.paragraphs) == 3 and ex.paragraphs[0].startswith("本报讯(记者 王小二)")


def test_xinyubao_header_info_line_and_copyright_dropped():
    url = "https://xyb.txdzw.com/Html/2025-11-14/24611.html"
    ex = extract(page("xinyubao_article.html"), url)
    assert ex.extractor == "platform:xinyubao"
    assert ex.page_label == "A2:要闻"
    assert ex.edition_date == date(2025, 11, 14)
    assert (ex.pre_title, ex.title) == ("民生实事见实效", "示例街道完成老旧小区改造")
    assert ex.author_line == "张三 李四"
    assert ex.paragraphs[0].startswith("新渝报讯(记者张三 李四 通讯员王五)11月13日")
    assert ex.paragraphs[-1] == "记者 李四 摄"
    assert "版权所有" not in body(ex) and "分享到" not in body(ex)


def test_rongmei_source_and_footer():
    url = "https://www.example.cn/web/article/1920251114000000007/web/content_1920251114000000007.html"
    ex = extract(page("rongmei_article.html"), url)
    assert ex.extractor == "platform:rongmei"
    assert ex.title == "示例区举办冬季招聘会"
    assert ex.source == "示例区融媒体中心"
    assert ex.published_at == datetime(2025, 11, 14, 10, 21, 7, tzinfo=TZ)
    assert ex.paragraphs[-1] == "责任编辑:赵六"
    assert not any(s in body(ex) for s in ("发言请遵守", "相关新闻", "就业帮扶", "当前位置"))


def test_dazuwang_source_date_and_final_review_line():
    ex = extract(page("dazuwang_article.html"), "https://www.txdzw.com/xw/dzxw/content_98150")
    assert ex.extractor == "platform:dazuwang"
    assert ex.title == "示例镇举办农民丰收节"
    assert ex.source == "大足网"
    assert ex.published_at == datetime(2025, 11, 13, 9, 15, 42, tzinfo=TZ)
    assert ex.paragraphs[-1] == "终审:丙某"
    assert "打印" not in body(ex)


def test_gov_trs_meta_tags():
    url = "https://www.example.gov.cn/zwxx_1/qxdt/202511/t20251115_40412100.html"
    ex = extract(page("gov_trs_article.html"), url)
    assert ex.extractor == "platform:gov_trs"
    assert ex.title == "示例区推进冬季森林防火工作"
    assert ex.source == "新渝报"
    assert ex.page_label == "区县要闻"
    assert ex.published_at == datetime(2025, 11, 15, 10, 5, tzinfo=TZ)
    assert len(ex.paragraphs) == 3 and "字号" not in body(ex)


def test_platform_detected_from_markup_without_url():
    from transforms.htmltext import parse

    assert detect_platform(None, parse(page("gov_trs_article.html"))) == "gov_trs"
    assert detect_platform(None, parse(page("founder_pc_content.html"))) == "founder_pc"
    assert detect_platform(None, parse(page("founder_classic_content.htm"))) == "founder_classic"
    assert detect_platform(None, parse(page("xinyubao_article.html"))) == "xinyubao"
    assert detect_platform(None, parse(page("dazuwang_article.html"))) == "dazuwang"
    assert detect_platform(None, parse(page("rongmei_article.html"))) == "rongmei"


def test_template_fields_for_spiders():
    f = template_fields("founder_classic", page("founder_classic_content.htm"), "https://p.example.cn/x/html/2025-11/14/content_1.htm")
    assert f["title"] == "示例镇万亩油菜完成移栽" and f["pre_title"] == "冬季田间管理正当时"
    assert f["edition_date"] == "2025-11-14" and f["page_label"] == "第02版：综合"
    g = template_fields("gov_trs", page("gov_trs_article.html"))
    assert g["meta"]["ContentSource"] == "新渝报" and g["source"] == "新渝报" and g["page_label"] == "区县要闻"
    assert template_fields("founder_pc", "") == {
        "pre_title": None, "title": None, "sub_title": None, "author_line": None,
        "page_label": None, "edition_date": None, "meta": {}, "source": None,
    }


def test_hints_take_precedence_for_template_fields():
    hints = {"title": "另一个标题", "page_label": "第09版：专题", "edition_date": "2025-11-13"}
    ex = extract(page("founder_pc_content.html"), "https://e.example.cn/pc/content/202511/14/content_1.html", hints=hints)
    assert ex.title == "另一个标题" and ex.page_label == "第09版：专题"
    assert ex.edition_date == date(2025, 11, 13) and ex.published_at.date() == date(2025, 11, 13)


# --- template changes: falling back to the generic path ------------------------------------------


def test_changed_template_falls_back_to_generic():
    # The site dropped #ozoom and founder-content: the URL still says Founder, the rule finds nothing.
    html = page("founder_classic_content.htm")
    html = re.sub(r'<div id="ozoom"><founder-content>(.*?)</founder-content></div>',
                  r'<div class="article-main">\1</div>', html, flags=re.S)
    ex = extract(html, "https://paper.example.cn/sfrb/html/2025-11/14/content_118303.htm")
    assert ex.extractor.startswith("generic:")
    assert "一万二千亩油菜" in body(ex) and "轮作模式" in body(ex)
    assert ex.title == "示例镇万亩油菜完成移栽"  # the template rows still give the title


def test_platform_rule_returning_navigation_is_rejected():
    # #ozoom now holds a link list while the article moved elsewhere: implausible, generic wins.
    nav = "".join(f'<p><a href="content_{i}.htm">第{i}条 栏目导航链接</a></p>' for i in range(12))
    prose = "".join(f"<p>第{i}段：示例县今年新建高标准农田两万亩，配套建设灌溉渠系和机耕道路，惠及农户三千余户，粮食单产明显提高。</p>" for i in range(6))
    html = f'<html><body><div id="ozoom">{nav}</div><div class="main-text">{prose}</div></body></html>'
    ex = extract(html, "https://paper.example.cn/x/html/2025-11/14/content_1.htm")
    assert ex.extractor.startswith("generic:")
    assert "高标准农田" in body(ex) and "栏目导航链接" not in body(ex)


def test_generic_path_drops_chrome_and_moves_source():
    prose = "".join(f"<p>示例新闻第{i}段，记者从有关部门获悉，今年以来全市新增就业岗位十二万个，城镇调查失业率保持稳定。</p>" for i in range(5))
    html = f"""<html><head><title>示例新闻标题_示例网</title></head><body>
    <div class="breadcrumb">当前位置：首页 &gt; 新闻</div><h1>示例新闻标题</h1>
    <div class="info">来源：示例日报 发布时间：2024-03-05 10:00</div>
    <div class="article">{prose}</div>
    <div class="bdshare">分享到：微信 微博</div><div>【打印】【关闭窗口】</div>
    <div class="xgxw"><h3>相关新闻</h3><ul><li><a href="/a">示例相关新闻一</a></li><li><a href="/b">示例相关新闻二</a></li></ul></div>
    <div class="copyright">Copyright © 2024 示例网 版权所有</div></body></html>"""
    ex = extract(html, "https://news.example.com/a/123.html")
    assert ex.extractor.startswith("generic:")
    assert ex.title == "示例新闻标题"
    assert ex.source == "示例日报"
    assert ex.published_at == datetime(2024, 3, 5, 10, 0, tzinfo=TZ)
    assert len(ex.paragraphs) == 5
    for chrome in ("分享到", "打印", "相关新闻", "版权所有", "当前位置", "来源"):
        assert chrome not in body(ex), chrome


# --- decoding and hostile input ---------------------------------------------------------------


def _gbk_page(declared: str | None) -> bytes:
    meta = f'<meta charset="{declared}">' if declared else ""
    text = "".join(f"<p>示例区镕城街道第{i}次开展垃圾分类宣传，志愿者走进小区讲解分类知识，居民参与热情很高。</p>" for i in range(5))
    return f"<html><head>{meta}<title>镕城街道宣传垃圾分类</title></head><body><h1>镕城街道宣传垃圾分类</h1>{text}</body></html>".encode("gb18030")


@pytest.mark.parametrize("declared", [None, "utf-8", "gb2312", "iso-8859-1"])
def test_gbk_bytes_with_wrong_or_missing_declaration(declared):
    ex = extract(_gbk_page(declared), "https://news.example.com/a/1.html")
    assert "镕城街道" in body(ex)  # 镕 is GBK but not GB2312: a gb2312 decode would lose it
    assert ex.title == "镕城街道宣传垃圾分类"


def test_decode_invalid_bytes_never_raises():
    text, enc = decode_html(b"<html>\xff\xfe\xfa abc \x81</html>" + "中文".encode("gbk"))
    assert "abc" in text and enc


@pytest.mark.parametrize(
    "junk",
    [b"", b"\x00" * 1000, bytes(range(256)) * 50, "   ", "<html></html>", "<<<>>>", 12345],
)
def test_junk_is_not_an_article_and_never_raises(junk):
    ex = extract(junk)
    assert ex.is_article is False and ex.reason


def test_huge_and_deeply_nested_input_returns_quickly():
    huge = "<html><body>" + "<p>示例文字，重复的段落内容。</p>" * 2_500_000 + "</body></html>"  # ~50 MB
    t0 = time.perf_counter()
    extract(huge.encode("utf-8"))
    nested = "<div>" * 100_000 + "示例" + "</div>" * 100_000
    ex = extract(nested)
    assert time.perf_counter() - t0 < 30
    assert ex.is_article is False


def test_placeholder_and_list_pages_are_not_articles():
    moved = "<html><head><title>页面不存在</title></head><body><h1>404 Not Found</h1><p>您访问的页面不存在或已删除</p></body></html>"
    ex = extract(moved)
    assert not ex.is_article and "placeholder" in ex.reason
    items = "".join(f'<li><a href="/a/{i}.html">示例区召开第{i}次工作推进会议</a><span>2025-11-{i % 28 + 1:02d}</span></li>' for i in range(40))
    ex = extract(f"<html><body><ul class='list'>{items}</ul></body></html>", "https://www.example.gov.cn/zwxx/qxdt/index.html")
    assert not ex.is_article and ex.reason


# --- dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://p.example.cn/a/html/2024-08/29/content_1.htm", date(2024, 8, 29)),
        ("https://www.example.gov.cn/zwxx/qxdt/202408/t20240829_1.html", date(2024, 8, 29)),
        ("https://xyb.txdzw.com/Html/2024-08-29/16989.html", date(2024, 8, 29)),
        ("https://e.example.cn/pc/content/202408/29/content_5.html", date(2024, 8, 29)),
        ("https://news.example.com/a/123.html", None),
    ],
)
def test_url_dates(url, expected):
    got = url_date(url)
    assert (got.date() if got else None) == expected
    assert got is None or got.utcoffset() == timedelta(hours=8)


def test_date_text_forms():
    assert parse_date_text("2024年8月29日 10:05") == datetime(2024, 8, 29, 10, 5, tzinfo=TZ)
    assert parse_date_text("2020-02-19T02:00:00+00:00") == datetime(2020, 2, 19, 10, 0, tzinfo=TZ)
    assert parse_date_text("发布时间：2023/9/28") == datetime(2023, 9, 28, tzinfo=TZ)


def test_visible_date_line_and_never_future():
    prose = "".join(f"<p>示例段落{i}，示例县持续推进乡村振兴，特色产业不断壮大，农民收入稳步增长。</p>" for i in range(4))
    html = f"<html><body><h1>标题</h1><div>刊发日期：2031年1月2日</div><div>{prose}</div></body></html>"
    ex = extract(html, hints={"fetched_at": "2025-11-14T08:00:00+08:00"})
    assert ex.published_at is None or ex.published_at <= datetime(2025, 11, 14, 9, tzinfo=TZ)
    html2 = html.replace("2031年1月2日", "2025年11月3日")
    ex2 = extract(html2, hints={"fetched_at": "2025-11-14T08:00:00+08:00"})
    assert ex2.published_at == datetime(2025, 11, 3, tzinfo=TZ)


# --- e-paper navigation -----------------------------------------------------------------------

NODE_URL = "https://paper.example.cn/sfrb/html/2025-11/14/node_2.htm"


def _node_page(page_list: bool = True, title_list: bool = True, image_map: bool = True, script: bool = False) -> str:
    pages = "".join(f'<a id="pageLink" href="node_{i}.htm">第0{i - 1}版：示例{i}</a>' for i in range(2, 6)) if page_list else ""
    titles = "".join(f'<li><a href="content_1183{i:02d}.htm?div=-1"><div id="mp1183{i:02d}">示例标题{i}</div></a></li>' for i in range(3)) if title_list else ""
    areas = "".join(f'<area shape="polygon" coords="0,0,1,1" href="content_1183{i:02d}.htm?div={i}">' for i in range(3)) if image_map else ""
    js = ('<script>var arts=["content_118300.htm","content_118301.htm","../../2025-11/13/content_118250.htm"];</script>' if script else "")
    return f"""<html><body><map name="PagePicMap">{areas}</map><img usemap="#PagePicMap" src="../../../images/2025-11/14/02/p.jpg">
    <ul>{titles}</ul><div class="bm">{pages}</div>{js}
    <a href="http://www.example.cn/sfrb/content/2009-05/31/content_64683.htm">关于我们</a></body></html>"""


def test_edition_links_from_title_list_map_and_script():
    want = [f"https://paper.example.cn/sfrb/html/2025-11/14/content_1183{i:02d}.htm" for i in range(3)]
    assert edition_article_links("founder_classic", _node_page(), NODE_URL) == want
    assert edition_article_links("founder_classic", _node_page(title_list=False), NODE_URL) == want
    # Neither list nor map: content URLs in scripts, only those of the same edition date.
    got = edition_article_links("founder_classic", _node_page(title_list=False, image_map=False, script=True), NODE_URL)
    assert got == want[:2]
    assert edition_article_links("founder_classic", _node_page(title_list=False, image_map=False), NODE_URL) == []


def test_edition_page_links_without_page_list():
    want = [f"https://paper.example.cn/sfrb/html/2025-11/14/node_{i}.htm" for i in range(2, 6)]
    assert edition_page_links("founder_classic", _node_page(), NODE_URL) == want
    html = _node_page(page_list=False).replace('<div class="bm"></div>', "".join(
        f'<span><a href="node_{i}.htm">第0{i - 1}版</a></span>' for i in range(2, 6)))
    assert edition_page_links("founder_classic", html, NODE_URL) == want


def test_edition_links_on_real_founder_node_page():
    node = shared_dir() / "corpus" / "epaper-founder-shaoyaoqian" / "node_2.htm"
    if not node.exists():
        pytest.skip("shared corpus not present")
    html = node.read_text(encoding="utf-8", errors="replace")
    url = "http://digitalpaper.stdaily.com/http_www.kjrb.com/kjrb/html/2023-02/10/node_2.htm"
    from_titles = edition_article_links("founder_classic", html, url)
    assert len(from_titles) == 5 and all(re.search(r"/2023-02/10/content_\d+\.htm$", u) for u in from_titles)
    # Without the title list the image map gives the same articles.
    no_titles = re.sub(r"<li>.*?</li>", "", html, flags=re.S)
    assert edition_article_links("founder_classic", no_titles, url) == from_titles
    pages = edition_page_links("founder_classic", html, url)
    assert len(pages) == 8 and pages[0].endswith("/2023-02/10/node_2.htm")
    no_page_list = re.sub(r"id=pageLink\s*", "", html)
    assert set(edition_page_links("founder_classic", no_page_list, url)) == set(pages)


def test_xinyubao_edition_links_relative_and_same_day_only():
    url = "https://xyb.txdzw.com/Html/2025-11-14/index.html"
    html = """<html><body><div class="bm"><h3>A1:要闻</h3><ul><li><a href="24611.html">示例一</a></li>
    <li><a href="/Html/2025-11-14/24612.html">示例二</a></li><li><a href="../2025-11-13/24580.html">昨日</a></li></ul></div>
    <a href="/about.html">关于我们</a></body></html>"""
    assert edition_article_links("xinyubao", html, url) == [
        "https://xyb.txdzw.com/Html/2025-11-14/24611.html",
        "https://xyb.txdzw.com/Html/2025-11-14/24612.html",
    ]
    # No links at all: article URLs named in a script still count.
    script = '<html><body><script>var a=["/Html/2025-11-14/24613.html","/Html/2025-11-13/24581.html"];</script></body></html>'
    assert edition_article_links("xinyubao", script, url) == ["https://xyb.txdzw.com/Html/2025-11-14/24613.html"]


# --- the project's offline outlet sites -------------------------------------------------------

_ARTICLE_PATH = re.compile(r"(?:content_[\d_]+\.html?$|/content_\d+$|/t\d{8}_\d+\.html$|/Html/[\d-]+/\d+\.html$)")


def test_offline_site_articles_go_through_their_platform_rule():
    """Every platform renderer of quxian/sites and its rule here must agree: a drift shows up as
    articles falling to the generic path."""
    from quxian.registry import load
    from quxian.sites.build import build_sites

    platform_of = {o.id: o.platform for o in load().offline_outlets()}
    checked = 0
    for host, site in build_sites(seed=False).items():
        platform = platform_of.get(site.outlet_id)
        if platform in (None, "mirror"):
            continue
        paths = [p for p in site.pages if _ARTICLE_PATH.search(p) and not p.startswith("/admin/")][:4]
        for path in paths:
            ex = extract(site.pages[path].body, f"https://{host}{path}")
            assert ex.extractor == f"platform:{platform}", (host, path, ex.extractor)
            assert ex.is_article and ex.title and ex.published_at, (host, path)
            assert not any(s in body(ex) for s in ("版权所有", "分享到", "发言请遵守")), (host, path)
            checked += 1
    assert checked >= 20


def test_list_date_hint_used_when_the_page_has_no_date():
    prose = "".join(f"<p>示例段落{i}，示例镇开展冬季消防安全检查，排查整改隐患四十余处，群众安全感持续提升。</p>" for i in range(4))
    html = f"<html><body><h1>示例镇开展消防检查</h1><div class='c'>{prose}</div></body></html>"
    ex = extract(html, "https://news.example.com/a/77.html", hints={"list_date": "2025-11-13"})
    assert ex.published_at == datetime(2025, 11, 13, tzinfo=TZ)
