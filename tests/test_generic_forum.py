"""The generic path on thread pages and on pages with lists of other stories (synthetic pages).

A thread page is recognised by its structure, not its URL or class names: the main text sits in
one of several sibling containers of the same kind, each dated, and every post's content block
is then taken in order. News pages whose comments look the same must keep only the article; a
"more stories" list of linked headings with summaries goes however long it is.
"""

from __future__ import annotations

from transforms.extract import extract
from transforms.generic import thread_lines

POSTS = [
    "我们小区门口的公交站今年搬到了路对面，早高峰过马路的人特别多，希望能加装一个红绿灯。",
    "同意楼主，上周我家老人就差点被电瓶车碰到。",
    "已经打过区长信箱，回复说会在下个月调研。",
    "顶一下，希望早点解决。",
]
AUTHORS = ["晨跑的老周", "山城小雨", "渝北居民", "路过的猫"]


def _discuz_like(posts: list[str] = POSTS, cls_noise: bool = False) -> str:
    """Posts as repeated `div#post_N` blocks: an author cell (linked name, hidden profile card,
    counters, rank label) and a content cell with a `发表于` line."""
    blocks = []
    for i, (text, author) in enumerate(zip(posts, AUTHORS, strict=False)):
        pid = 1000 + i * 7
        extra = " lastpost" if cls_noise and i == len(posts) - 1 else ""
        blocks.append(
            f"""<div id="post_{pid}"><table class="plhin{extra}" id="pid{pid}"><tbody><tr>
<td class="pls"><div class="authi"><a href="/space/{pid}">{author}</a></div>
<div class="card" style="display: none"><strong><a href="/space/{pid}">{author}</a></strong>
<em>当前离线</em><dl><dt>积分</dt><dd><a href="/space/{pid}">{i * 13 + 5}</a></dd></dl></div>
<p><em><a href="/group/10">新手上路</a></em></p><dl><dt>积分</dt><dd>{i * 13 + 5}</dd></dl></td>
<td class="plc"><div class="pi"><em>发表于 2024-4-{11 + i} 1{i}:52:24</em> | <a href="#">只看该作者</a></div>
<div class="pct"><table><tbody><tr><td class="t_f" id="postmessage_{pid}">{text}</td></tr></tbody></table></div>
<div class="po"><a href="#">回复</a> <a href="#">举报</a></div></td>
</tr></tbody></table></div>"""
        )
    return f"""<html><head><title>小区门口公交站能否加装红绿灯 - 社区论坛</title></head><body>
<div class="hd"><a href="/">首页</a> <a href="/forum">社区论坛</a></div>
<h1>小区门口公交站能否加装红绿灯</h1>
<div id="postlist" class="pl bm">{"".join(blocks)}</div>
<div class="ft">Copyright 2024 社区论坛</div></body></html>"""


def _article_with(extra: str) -> str:
    paras = "".join(
        f"<p>{t}</p>"
        for t in (
            "本报讯 11月14日，区交通局在双桥街道召开公交线路优化座谈会，听取沿线居民和企业的意见建议。",
            "会上，与会代表围绕早晚高峰站点拥挤、换乘距离过远等问题提出了十余条建议，相关部门现场作了回应。",
            "区交通局负责人表示，将在年底前完成三条线路的站点调整，并同步增设候车亭和人行过街设施。",
        )
    )
    return f"""<html><head><title>区交通局召开公交线路优化座谈会_示例新闻网</title></head><body>
<div class="nav"><a href="/">首页</a> <a href="/xw">新闻</a></div>
<h1>区交通局召开公交线路优化座谈会</h1><div class="info">2024-11-14 09:30 来源：示例日报</div>
<div class="article-content">{paras}</div>{extra}
<div class="footer">示例新闻网 版权所有</div></body></html>"""


def test_thread_takes_every_post_in_order_without_author_blocks():
    ex = extract(_discuz_like(), "https://example.org/viewthread.php?tid=1")
    assert ex.extractor == "generic:posts"
    body = "\n".join(ex.paragraphs)
    positions = [body.find(p) for p in POSTS]
    assert all(p >= 0 for p in positions), body
    assert positions == sorted(positions)
    for chrome in ("当前离线", "积分", "新手上路", "发表于", "只看该作者", "举报", *AUTHORS):
        assert chrome not in body, chrome


def test_thread_is_found_by_structure_not_by_url():
    # A URL that says nothing about forums: the repeated dated posts decide.
    ex = extract(_discuz_like(), "https://example.org/a/20241114/1.html")
    assert ex.extractor == "generic:posts"
    assert all(p in "\n".join(ex.paragraphs) for p in POSTS)


def test_thread_lines_needs_dates_on_the_repeated_blocks():
    from transforms.htmltext import parse

    undated = _discuz_like().replace("发表于 2024-4-", "楼层 ")
    root = parse(undated)
    anchor = root.get_element_by_id("postmessage_1000")
    assert thread_lines(root, anchor) == []
    root = parse(_discuz_like())
    assert thread_lines(root, root.get_element_by_id("postmessage_1000"))[: len(POSTS)] == POSTS


def test_thread_posts_with_differing_classes_still_match():
    # One post's container carries an extra class: paths fall back to tags alone.
    ex = extract(_discuz_like(cls_noise=True), "https://example.org/t/1")
    assert ex.extractor == "generic:posts"
    assert POSTS[-1] in "\n".join(ex.paragraphs)


def test_news_page_keeps_dated_comments_out():
    comments = "".join(
        f"""<div class="cmt-item"><a href="/u/{i}">{name}</a><span>2024-11-1{i} 10:0{i}</span>
<p>{text}</p></div>"""
        for i, (name, text) in enumerate(
            [
                ("网友甲", "支持，早该调整了。"),
                ("网友乙", "希望能顺便延长末班车时间。"),
                ("网友丙", "双桥那边确实太挤。"),
            ]
        )
    )
    ex = extract(
        _article_with(f'<div class="cmt-list">{comments}</div>'), "https://news.example.org/a/1.html"
    )
    assert ex.is_article and not ex.extractor.endswith("posts")
    body = "\n".join(ex.paragraphs)
    assert "区交通局负责人表示" in body
    assert "末班车" not in body and "网友甲" not in body


def test_news_page_with_a_comment_longer_than_the_article_keeps_the_article():
    # The longest text block is a comment: the comments are dated repeats, but trafilatura's
    # article is not among them, so the page is not read as a thread.
    long_comment = "我每天都坐这条线路上班，" + "早高峰车厢里挤得转不过身，站台也没有遮雨的地方，" * 8
    comments = "".join(
        f"""<div class="cmt-item"><a href="/u/{i}">网友{i}</a><span>2024-11-1{i} 10:0{i}</span>
<p>{text}</p></div>"""
        for i, text in enumerate([long_comment, "支持调整。", "希望延长末班车。"])
    )
    ex = extract(
        _article_with(f'<div class="cmt-list">{comments}</div>'), "https://news.example.org/a/3.html"
    )
    assert ex.is_article and ex.extractor != "generic:posts"
    body = "\n".join(ex.paragraphs)
    assert "区交通局负责人表示" in body and "末班车" not in body


def test_more_stories_list_is_dropped_however_long():
    summary = "这是一段很长的其他新闻摘要，" * 12
    items = "".join(
        f"""<li class="stream-item"><div class="src">示例社 · {i} 天前</div>
<h4><a href="/other/{i}.html">其他新闻标题第{i}条</a></h4><p>{summary}{i}</p></li>"""
        for i in range(1, 7)
    )
    page = _article_with(f'<div class="more"><div>更多新闻</div><ul class="stream">{items}</ul></div>')
    ex = extract(page, "https://news.example.org/a/2.html")
    assert ex.is_article
    body = "\n".join(ex.paragraphs)
    assert "区交通局负责人表示" in body
    assert "其他新闻摘要" not in body and "其他新闻标题" not in body and "更多新闻" not in body


def test_list_of_linked_headings_alone_is_still_not_an_article():
    items = "".join(
        f'<li><h3><a href="/a/{i}.html">区里召开第{i}次专题会议研究交通工作</a></h3><span>2024-11-{i:02d}</span></li>'
        for i in range(1, 13)
    )
    page = f"<html><head><title>要闻</title></head><body><ul class='list'>{items}</ul></body></html>"
    ex = extract(page, "https://news.example.org/xw/index.html")
    assert not ex.is_article
