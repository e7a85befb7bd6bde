"""The generic path: any page, any template, built on trafilatura (body) with gne as the fallback.

What the libraries lack for Chinese news pages is added around them, not instead of them:
- before: page chrome that trafilatura keeps on Chinese sites is pruned from a copy of the tree —
  share / print / 相关新闻 / comment / breadcrumb / copyright blocks, found by class and id tokens
  and by their heading text (`相关新闻`, `推荐阅读`, `分享到` …);
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

from transforms.htmltext import drop_noise, element_text, han_count, meta_get, meta_tags, norm_space

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
_SOURCE = re.compile(r"(?:来源|稿源|出处)\s*[:：]\s*([^\s|]{1,30}?)(?=\s|$|发布|作者|浏览|点击|阅读|编辑|字号|时间|【)")
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
    for el in list(tree.iter("div", "ul", "ol", "section", "aside", "nav", "footer", "table", "dl", "span", "p", "header")):
        if el.getparent() is None or el.tag in ("html", "body"):
            continue
        chrome = el.tag in ("nav", "footer", "aside") or _is_chrome(el)
        # Related-news lists open with their heading; paragraphs and spans are not such blocks.
        if not chrome and el.tag in ("div", "ul", "section", "dl"):
            chrome = bool(_CHROME_HEADING.match(_leading_text(el)))
        if chrome and han_count(element_text(el)) < limit:
            el.drop_tree()
    return tree


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
    headings = [element_text(h) for h in root.xpath("//h1|//h2|//*[contains(@class,'title')][not(self::title)]")[:30]]
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
) -> GenericArticle:
    """Read any page with the libraries plus the Chinese-news additions described above.
    `page_lines` (the page's text lines, if the caller has them) is searched for the 来源 line;
    `main_han` is `main_block_han(root)` if the caller has it."""
    meta = meta_tags(root)
    art = GenericArticle(meta=meta, title=page_title(root, meta))
    tree = prune_chrome(root)
    thread = is_thread(url)
    lines = _trafilatura_lines(tree, url, thread)
    found = han_count("".join(lines))
    if main_han is None:
        main_han = main_block_han(root)
    if found < RESCUE_SHARE * main_han:
        # Precision mode sometimes stops at the first block of a long text: when it returned
        # much less than the page's main text block, ask again in the default mode.
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
    """Han characters of the page's main text block: the element whose direct `<p>`/text
    children hold the most Han text. Cheap, used to judge whether a platform rule is plausible."""
    best = 0
    for el in root.iter("div", "td", "article", "section", "founder-content", "body"):
        total = han_count(el.text or "")
        for child in el:
            if child.tag == "p":
                total += han_count(child.text_content())
            total += han_count(child.tail or "")
        best = max(best, total)
    return best


__all__ = ["GenericArticle", "generic_article", "main_block_han", "page_title", "prune_chrome"]
