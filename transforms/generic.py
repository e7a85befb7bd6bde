"""The generic path: any page, any template, built on trafilatura (body) with gne as the fallback.

What the libraries lack for Chinese news pages is added around them, not instead of them:
- before: page chrome that trafilatura keeps on Chinese sites is pruned from a copy of the tree —
  share / print / 相关新闻 / comment / breadcrumb / copyright blocks, found by class and id tokens
  and by their heading text (`相关新闻`, `推荐阅读`, `分享到` …);
- lists of other stories (linked headings with summaries) are pruned whatever their size;
- on thread pages (the main text is one of several repeated, dated post containers) every post's
  content block is read in order instead (`library="posts"`), see `thread_lines`;
- after: info lines (`来源: … 发布时间: … 浏览次数:`) move into `source`, widget lines (`分享到`,
  `【打印】`, `【关闭窗口】`, `字号：大 中 小`) are dropped, and a related-list tail is cut.

Contract: `generic_article(root, url)` never modifies `root`, never raises on markup, and returns
a `GenericArticle` whose `paragraphs` is empty when no library found a body.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import trafilatura
from lxml import html as lxml_html

from transforms.htmltext import (
    NOISE_TAGS,
    block_lines,
    drop_noise,
    element_text,
    han_count,
    meta_get,
    meta_tags,
    norm_space,
    text_sample,
)

# Class / id tokens of page chrome on Chinese news sites.
_CHROME_TOKENS = frozenset(
    "share bdshare jiathis bshare print related relate relevant xgxw xgwz xgyd tjyd recommend recom "
    "breadcrumb crumb crumbs position location dqwz weizhi footer foot "
    "copyright banquan sidebar aside toolbar tools pagination pager paging qrcode ewm erweima "
    "advert ads gg fenxiang dayin".split()
)
_CHROME_PREFIXES = ("bdshare", "jiathis")

# Headings that open a block which is not the article.
_CHROME_HEADING = re.compile(
    r"^\s*[【\[]?\s*(?:相关(?:新闻|阅读|文章|链接|报道|推荐)|延伸阅读|推荐阅读|热点(?:新闻|推荐)|热门(?:推荐|文章|新闻|评论)|"
    r"猜你喜欢|精彩推荐|为您推荐|网友评论|最新评论|图片新闻|专题推荐|分享到)"
)
# Whole lines that are widgets, not text.
_WIDGET_LINE = re.compile(
    r"^[【\[（(]?\s*(?:分享到|分享至|分享：|打印(?:本页|此文|文章)?|关闭(?:窗口|本页)?|收藏(?:本页)?|"
    r"返回(?:顶部|首页|列表)|字号|字体|[大中小]\s*[中小]|扫一扫|微信扫一扫|加入收藏|设为首页|"
    r"保存|复制链接|点击(?:次数|数|量)?\s*[:：]?\s*\d*$)"
    r"[^。！？]{0,30}$"
)
# Platform disclaimers, lone timestamps, empty credit labels and action words: never article text.
_DROP_LINE = re.compile(
    r"^(?:(?:特别|平台|免责|版权|郑重)声明\s*[:：]|Notice:\s*The content above|发布于\s*[:：]|"
    r"(?:19|20)\d{2}[-/年.]\d{1,2}[-/月.]\d{1,2}日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$|"
    r"(?:责任编辑|编辑|来源)\s*[:：]\s*$|(?:评论|举报|点赞|收藏|分享|阅读原文|展开全文|查看原文)$)",
    re.I,
)
_MORE_SUFFIX = re.compile(r"返回\S{1,8}[，,]\s*查看更多\s*$")
_INFO_LINE = re.compile(
    r"(?:来源|稿源|出处)\s*[:：]\s*[^\s|]{1,30}.{0,60}$|^.{0,40}(?:发布时间|发布日期|浏览次数|点击数|阅读次数|字号)\s*[:：]"
)
_SOURCE = re.compile(
    r"(?:来源|稿源|出处)\s*[:：]\s*([^\s|]{1,30}?)(?=\s|$|发布|作者|浏览|点击|阅读|编辑|字号|时间|【)"
)
_TITLE_SPLIT = re.compile(r"\s*(?:[_|｜]|--|—|-\s|\s-)\s*")

TRAFILATURA_OPTIONS = {
    "output_format": "txt",
    "include_comments": False,
    "include_tables": True,
    "include_links": False,
    "include_images": False,
    "with_metadata": False,
    "deduplicate": False,
    "favor_precision": True,
}


# On a thread page, at least this share of trafilatura's Han text must be in the posts found.
THREAD_OVERLAP = 0.5

# Precision-mode output below this share of the main text block triggers a default-mode retry.
RESCUE_SHARE = 0.5


@dataclass
class GenericArticle:
    """The generic path's reading of a page."""

    title: str | None = None
    paragraphs: list[str] = field(default_factory=list)
    source: str | None = None
    library: str = "trafilatura"
    meta: dict[str, str] = field(default_factory=dict)


def _is_chrome(el: lxml_html.HtmlElement) -> bool:
    attrs = f"{el.get('class', '')} {el.get('id', '')}".lower()
    if not attrs.strip():
        return False
    for token in re.split(r"[\s_\-]+", attrs):
        if token in _CHROME_TOKENS or token.startswith(_CHROME_PREFIXES):
            return True
    return False


def _leading_text(el: lxml_html.HtmlElement, size: int = 20) -> str:
    """The first `size` characters of an element's text, read lazily (a wrapper of the whole
    article must not cost a full text walk)."""
    parts: list[str] = []
    length = 0
    for piece in el.itertext():
        piece = piece.strip()
        if piece:
            parts.append(piece)
            length += len(piece)
            if length >= size:
                break
    return "".join(parts)[:size]


def prune_chrome(root: lxml_html.HtmlElement) -> lxml_html.HtmlElement:
    """A copy of the tree without scripts and page chrome.

    A block is only removed while it holds less than a third of the page's Han text, so a
    template that names its article container `share-body` or `footer-content` keeps it.
    """
    tree = copy.deepcopy(root)
    drop_noise(tree)
    body = tree.find("body")
    total = max(han_count(element_text(body if body is not None else tree)), 1)
    limit = total / 3
    for el in list(
        tree.iter(
            "div", "ul", "ol", "section", "aside", "nav", "footer", "table", "dl", "span", "p", "header"
        )
    ):
        if el.getparent() is None or el.tag in ("html", "body"):
            continue
        chrome = el.tag in ("nav", "footer", "aside") or _is_chrome(el)
        # Related-news lists open with their heading; paragraphs and spans are not such blocks.
        if not chrome and el.tag in ("div", "ul", "section", "dl"):
            chrome = bool(_CHROME_HEADING.match(_leading_text(el)))
        if chrome and han_count(element_text(el)) < limit:
            el.drop_tree()
    for el in _teaser_lists(tree):
        if el.getparent() is not None and han_count(element_text(el)) < 0.9 * total:
            _drop_with_label(el)
    return tree


_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def _drop_with_label(el: lxml_html.HtmlElement) -> None:
    """Drop a block with its wrappers and the short label just before it (`最新闻 Hot`)."""
    while (parent := el.getparent()) is not None and parent.tag not in ("body", "html"):
        if sum(1 for c in parent if isinstance(c.tag, str)) != 1 or norm_space(parent.text):
            break
        el = parent
    prev = el.getprevious()
    if prev is not None and isinstance(prev.tag, str) and not norm_space(prev.tail):
        label = element_text(prev)
        if label and len(label) <= 15 and prev.find(".//p") is None:
            prev.drop_tree()
    if el.getparent() is not None:
        el.drop_tree()


def _teaser_lists(tree: lxml_html.HtmlElement) -> list[lxml_html.HtmlElement]:
    """Lists of other stories: `<ul>`/`<ol>` of at least three items, most of them headed by a
    linked heading (`<h3><a>…</a></h3>` or `<a><h4>…</h4></a>`, as on "more stories" streams).
    Such a list is never the article, however much summary text it carries."""
    headed: dict[lxml_html.HtmlElement, set[lxml_html.HtmlElement]] = {}
    for h in tree.iter(*_HEADINGS):
        li = None
        linked = h.find(".//a") is not None
        for anc in h.iterancestors():
            linked = linked or anc.tag == "a"
            if anc.tag == "li":
                li = anc
                break
        parent = li.getparent() if li is not None else None
        if linked and parent is not None and parent.tag in ("ul", "ol"):
            headed.setdefault(parent, set()).add(li)
    out = []
    for lst, items in headed.items():
        n = sum(1 for c in lst if c.tag == "li")
        if n >= 3 and len(items) >= 0.6 * n:
            out.append(lst)
    return out


def _clean_lines(lines: list[str]) -> tuple[list[str], str | None]:
    """Drop widget lines and info lines (keeping the 来源 they carry); cut a related-list tail."""
    out: list[str] = []
    source: str | None = None
    for line in lines:
        text = norm_space(line)
        if not text:
            continue
        if _CHROME_HEADING.match(text) and len(text) < 20:
            break
        text = _MORE_SUFFIX.sub("", text).strip()
        if not text or _WIDGET_LINE.match(text) or _DROP_LINE.match(text):
            continue

        if len(text) < 100 and _INFO_LINE.search(text) and han_count(text) < 60:
            m = _SOURCE.search(text)
            if m and source is None:
                source = m.group(1)
            continue
        out.append(text)
    return out, source


def page_title(root: lxml_html.HtmlElement, meta: dict[str, str]) -> str | None:
    """The headline: publisher meta, else the heading that the `<title>` starts with, else the
    `<title>` without its site-name suffix."""
    t = meta_get(meta, "ArticleTitle", "og:title", "twitter:title", "title")
    title_el = root.find(".//title")
    page = norm_space(title_el.text_content()) if title_el is not None else ""
    headings = [
        element_text(h) for h in root.xpath("//h1|//h2|//*[contains(@class,'title')][not(self::title)]")[:30]
    ]
    best = None
    for h in headings:
        if 2 <= len(h) <= 80 and page and (page.startswith(h) or h in page):
            if best is None or len(h) > len(best):
                best = h
    if best:
        return best
    if t:
        return norm_space(t)
    if page:
        parts = [p for p in _TITLE_SPLIT.split(page) if p]
        return parts[0] if parts else page
    h1 = [h for h in headings if h]
    return h1[0] if h1 else None


_THREAD_URL = re.compile(
    r"(?:forum|bbs|thread|topic|question|answer|discuss|tieba|zhidao|/t/\d|/d/\d|/p/\d)", re.I
)


def is_thread(url: str | None) -> bool:
    """A forum thread or Q&A page, where the replies are the content (news pages are not)."""
    # Markup cues (回复, 点赞 …) also fill news pages with comment widgets: the URL decides.
    if not url:
        return False
    parts = urlsplit(url)
    return bool(_THREAD_URL.search(f"{parts.netloc}{parts.path}?{parts.query}"))


def _trafilatura_lines(
    tree: lxml_html.HtmlElement, url: str | None, thread: bool = False, precision: bool = True
) -> list[str]:
    # On threads the replies are the content: trafilatura calls them comments.
    options = dict(TRAFILATURA_OPTIONS, include_comments=thread, favor_precision=precision)
    try:
        text = trafilatura.extract(tree, url=url, **options)
    except (ValueError, TypeError, AttributeError, RecursionError):
        return []
    return text.splitlines() if text else []


def _gne_lines(markup: str) -> list[str]:
    from gne import GeneralNewsExtractor  # imported lazily: only pages trafilatura gives up on pay
    from gne.exceptions import NoContentException

    try:
        result = GeneralNewsExtractor().extract(markup[:1_000_000])
    except (NoContentException, ValueError, TypeError, AttributeError, IndexError, KeyError, RecursionError):
        return []
    return (result.get("content") or "").splitlines()


def _overlap(lines: list[str], posts: list[str]) -> float:
    """Share of the Han characters of `lines` that the posts' text also holds (as a bag)."""
    from collections import Counter

    have = Counter(ch for ch in "".join(lines) if han_count(ch))
    if not have:
        return 1.0
    got = Counter(ch for ch in "".join(posts) if han_count(ch))
    return sum((have & got).values()) / sum(have.values())


def source_line(page_lines: list[str], first_paragraph: str | None) -> str | None:
    """The 来源 of the info line above the body (`来源：示例日报 发布时间：…`), if any."""
    key = (first_paragraph or "")[:15]
    for line in page_lines[:300]:
        if key and key in line:
            break
        if len(line) < 100 and _INFO_LINE.search(line):
            m = _SOURCE.search(line)
            if m:
                return m.group(1)
    return None


def generic_article(
    root: lxml_html.HtmlElement,
    markup: str,
    url: str | None = None,
    page_lines: list[str] | None = None,
    main_han: int | None = None,
    main: lxml_html.HtmlElement | None = None,
) -> GenericArticle:
    """Read any page with the libraries plus the Chinese-news additions described above.
    `page_lines` (the page's text lines, if the caller has them) is searched for the 来源 line;
    `main` and `main_han` are `main_block(root)` if the caller has it."""
    meta = meta_tags(root)
    art = GenericArticle(meta=meta, title=page_title(root, meta))
    tree = prune_chrome(root)
    thread = is_thread(url)
    lines = _trafilatura_lines(tree, url, thread)
    found = han_count("".join(lines))
    if main_han is None or main is None:
        main, main_han = main_block(root)
    posts = thread_lines(root, main, text_anchor(root, lines))
    if posts and _overlap(lines, posts) >= THREAD_OVERLAP:
        # A thread: every post is content, trafilatura only sees the first one or a few.
        lines, found, art.library = posts, han_count("".join(posts)), "posts"
    if (
        art.library != "posts"
        and found < RESCUE_SHARE * main_han
        and found < RESCUE_SHARE * main_block(tree)[1]
    ):
        # Precision mode sometimes stops at the first block of a long text: when it returned
        # much less than the page's main text block (also once chrome is pruned: the largest
        # block may have been a list of other stories), ask again in the default mode.
        again = _trafilatura_lines(copy.deepcopy(tree), url, thread, precision=False)
        if han_count("".join(again)) > found:
            lines = again
    if han_count("".join(lines)) < 20:
        lines, art.library = _gne_lines(markup), "gne"
    art.paragraphs, art.source = _clean_lines(lines)
    if art.title and art.paragraphs and norm_space(art.paragraphs[0]) == art.title:
        art.paragraphs = art.paragraphs[1:]
    art.source = meta_get(meta, "ContentSource", "source") or art.source
    if art.source is None and page_lines:
        art.source = source_line(page_lines, art.paragraphs[0] if art.paragraphs else None)
    return art


def main_block_han(root: lxml_html.HtmlElement) -> int:
    """Han characters of the page's main text block (see `main_block`). Cheap, used to judge
    whether a platform rule is plausible."""
    return main_block(root)[1]


# --- forum threads ------------------------------------------------------------------------------

# A date, a clock time after a day, or a relative time: what every post of a thread carries.
_POST_TIME = re.compile(
    r"(?:19|20)\d{2}\s*[-/年.]\s*\d{1,2}\s*[-/月.]\s*\d{1,2}|\d{1,2}\s*[-/月]\s*\d{1,2}日?\s+\d{1,2}:\d{2}|"
    r"\d+\s*(?:秒|分钟|小时|天|周|个?月|年)前|昨天\s*\d{1,2}:\d{2}|前天|刚刚|"
    r"\d+\s*(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?)\s+ago",
    re.I,
)
_ITEM_TAGS = frozenset(("div", "li", "article", "section", "table", "tbody", "tr", "dl"))
_DIGITS = re.compile(r"\d+")
# Six Han characters in a row (punctuation allowed between): a searchable piece of prose.
_ANCHOR = re.compile(r"[\u4e00-\u9fff]{6}")
_WORD = re.compile(r"[^\W\d_]")
_HIDDEN = re.compile(r"display\s*:\s*none", re.I)
# How much of the posts' own text the shared content block must hold.
CONTENT_SHARE = 0.6


def _signature(el: lxml_html.HtmlElement) -> tuple[str, str]:
    """Tag and class with digits masked: `post_53876` and `post_53885` are the same kind."""
    return el.tag, " ".join(sorted(_DIGITS.sub("#", el.get("class") or "").split()))


def _has_time(el: lxml_html.HtmlElement) -> bool:
    if el.find(".//time") is not None:
        return True
    return bool(_POST_TIME.search(text_sample(el, 4000)))


def main_block(root: lxml_html.HtmlElement) -> tuple[lxml_html.HtmlElement | None, int]:
    """The page's main text block (the element whose direct `<p>`/text children hold the most
    Han text) and that Han count."""
    best, best_el = 0, None
    for el in root.iter("div", "td", "article", "section", "founder-content", "body"):
        total = han_count(el.text or "")
        for child in el:
            if child.tag == "p":
                total += han_count(child.text_content())
            total += han_count(child.tail or "")
        if total > best:
            best, best_el = total, el
    return best_el, best


def _own_pieces(el: lxml_html.HtmlElement) -> list[str]:
    """The text nodes an element owns: its text and its children's tails."""
    pieces = [el.text] if el.text else []
    pieces.extend(child.tail for child in el if child.tail)
    return [p for p in (norm_space(x) for x in pieces) if p]


def _post_groups(anchor: lxml_html.HtmlElement) -> list[list[lxml_html.HtmlElement]]:
    """The lists of posts holding `anchor`, innermost first: each ancestor of `anchor` that
    repeats among its siblings (same tag and class, digits masked), with a date or time in at
    least two and in half of the repeats. Empty when `anchor` is not inside such a list."""
    groups = []
    el = anchor
    while el is not None and el.getparent() is not None and el.tag not in ("body", "html"):
        parent = el.getparent()
        if el.tag in _ITEM_TAGS:
            sig = _signature(el)
            items = [c for c in parent if isinstance(c.tag, str) and _signature(c) == sig]
            if len(items) >= 2:
                timed = sum(1 for i in items if _has_time(i))
                if timed >= 2 and timed * 2 >= len(items):
                    groups.append(items)
        el = parent
    return groups


def _content_blocks(
    items: list[lxml_html.HtmlElement], by_class: bool = True
) -> tuple[list[list[lxml_html.HtmlElement]], set[str]] | None:
    """Per post, its content block: the deepest element path (relative to the post, by tag and
    class, or by tag alone when `by_class` is false) found once in each of at least half the posts
    that holds most of the posts' own text. Text nodes repeated across posts (author labels,
    `发表于 2024-4-11`, `回复`; digits masked) are template, link text (user names) is not
    content and hidden pop-ups are not seen: none of them counts. Returns the blocks and the
    text nodes found in three or more posts."""
    seen: dict[str, int] = {}
    owned: list[list[tuple[lxml_html.HtmlElement, list[str]]]] = []
    for item in items:
        nodes = []
        mine: set[str] = set()
        linked: set[lxml_html.HtmlElement] = set()
        hidden: set[lxml_html.HtmlElement] = set()
        for el in item.iter():
            if not isinstance(el.tag, str) or el.tag in NOISE_TAGS:
                continue
            parent = el.getparent()
            if el is not item and (parent in hidden or _HIDDEN.search(el.get("style") or "")):
                # Pop-up cards (user profiles) are hidden until hovered: not what a reader sees.
                hidden.add(el)
                continue
            if el.tag == "a" or (el is not item and parent in linked):
                linked.add(el)
            pieces = _own_pieces(el)
            if el in linked:
                # Text inside links (user names, counters) is not content; tails after the
                # link's own children are still inside it, a link's tail belongs to its parent.
                pieces = (
                    [] if el.tag == "a" else [norm_space(c.tail) for c in el if c.tail and norm_space(c.tail)]
                )
            pieces = [_DIGITS.sub("#", p) for p in pieces]
            nodes.append((el, pieces))
            mine.update(pieces)
        for p in mine:
            seen[p] = seen.get(p, 0) + 1
        owned.append(nodes)
    template = {p for p, n in seen.items() if n >= 2}

    def sig(el: lxml_html.HtmlElement) -> tuple[str, str] | str:
        return _signature(el) if by_class else el.tag

    # path -> [posts holding it, Han text, most elements in one post]
    stats: dict[tuple, list[int]] = {}
    per_item_paths: list[dict[tuple, list[lxml_html.HtmlElement]]] = []
    grand = 0
    for item, nodes in zip(items, owned, strict=True):
        han: dict[lxml_html.HtmlElement, int] = {}
        path: dict[lxml_html.HtmlElement, tuple] = {item: ()}
        for el, pieces in nodes:
            han[el] = sum(han_count(p) for p in pieces if p not in template)
            if el is not item:
                path[el] = path.get(el.getparent(), ()) + (sig(el),)
        for el, _ in reversed(nodes):
            parent = el.getparent()
            if el is not item and parent in han:
                han[parent] += han[el]
        grand += han[item]
        paths: dict[tuple, list[lxml_html.HtmlElement]] = {}
        for el, _ in nodes:
            if el is not item:
                paths.setdefault(path[el], []).append(el)
        for pth, els in paths.items():
            entry = stats.setdefault(pth, [0, 0, 0])
            entry[0] += 1
            # Elements with the same relative path are never nested: their Han adds up.
            entry[1] += sum(han[e] for e in els)
            entry[2] = max(entry[2], len(els))
        per_item_paths.append(paths)
    if grand == 0:
        return None
    need = max(2, (len(items) + 1) // 2)
    best: tuple[tuple, int] | None = None
    for pth, (n, total, most) in stats.items():
        if n >= need and most == 1 and total >= CONTENT_SHARE * grand:
            if best is None or len(pth) > len(best[0]) or (len(pth) == len(best[0]) and total > best[1]):
                best = (pth, total)
    if best is None:
        return _content_blocks(items, by_class=False) if by_class else None
    blocks = []
    for paths in per_item_paths:
        els = paths.get(best[0])
        if els is None and by_class:
            # A post whose containers carry other classes (`Post--edited`): the same path by
            # tags alone, when it is unique in that post.
            tags = tuple(tag for tag, _ in best[0])
            loose = [e for pth, found in paths.items() if tuple(t for t, _ in pth) == tags for e in found]
            els = loose if len(loose) == 1 else []
        blocks.append(els or [])
    return blocks, {p for p, n in seen.items() if n >= 3}


def text_anchor(root: lxml_html.HtmlElement, lines: list[str]) -> lxml_html.HtmlElement | None:
    """The element holding the start of the first prose line of `lines` (what trafilatura took
    for the article), or None."""
    for line in lines[:5]:
        m = _ANCHOR.search(line)
        if not m:
            continue
        key = m.group(0)
        for el in root.iter():
            if not isinstance(el.tag, str) or el.tag in NOISE_TAGS:
                continue
            if el.text and key in el.text:
                return el
            if el.tail and key in el.tail:
                return el.getparent()
        return None
    return None


def thread_lines(root: lxml_html.HtmlElement, *anchors: lxml_html.HtmlElement | None) -> list[str]:
    """On a thread page (an anchor, e.g. the main text block, is inside one post of a repeated
    list of dated posts), the text of every post's content block, in page order; else [].
    The outermost such list wins (comments with their nested replies); lines found in three or
    more posts (names, places, counters) are left out."""
    tried: set[lxml_html.HtmlElement] = set()
    for anchor in anchors:
        if anchor is None or anchor in tried:
            continue
        tried.add(anchor)
        for items in reversed(_post_groups(anchor)):
            found = _content_blocks(items)
            if not found:
                continue
            blocks, template = found
            lines: list[str] = []
            for els in blocks:
                for el in els:
                    lines.extend(
                        line
                        for line in block_lines(el)
                        if _WORD.search(line) and _DIGITS.sub("#", line) not in template
                    )
            return lines
    return []


__all__ = [
    "GenericArticle",
    "generic_article",
    "main_block",
    "main_block_han",
    "page_title",
    "prune_chrome",
    "thread_lines",
]
