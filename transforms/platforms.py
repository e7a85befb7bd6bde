"""Per-platform rules: detection, template fields, article body, e-paper navigation.

The platforms are those of `docs/outlets.md` (A–E plus the mirror family):
`founder_classic`, `founder_pc`, `xinyubao`, `rongmei`, `dazuwang`, `gov_trs`, `mirror`.

Public API (pure functions, no fetching, never raising on bad markup):
- `detect_platform(url, root)` — the platform a URL or page markup belongs to, or None.
- `template_fields(platform, html, url)` — the structural fields the spiders store on raw items.
- `platform_article(platform, root, url)` — fields plus body paragraphs, for `transforms.extract`.
- `edition_article_links(platform, html, page_url)` / `edition_page_links(...)` — e-paper
  navigation that survives a missing 版面 list or title list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urljoin, urlsplit, urlunsplit

from lxml import etree
from lxml import html as lxml_html

from transforms.htmltext import block_lines, element_text, meta_get, meta_tags, norm_space, parse, text_sample

PLATFORMS = ("founder_classic", "founder_pc", "xinyubao", "rongmei", "dazuwang", "gov_trs", "mirror")

# --- URL shapes (outlets.md) -------------------------------------------------------------------
_URL_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("founder_pc", re.compile(r"/pc/(?:layout|content|\d{6})/", re.I)),
    ("founder_classic", re.compile(r"/html/\d{4}-\d{2}/\d{2}/(?:node|content)_[\d_]+\.html?", re.I)),
    ("xinyubao", re.compile(r"(?:xyb\.txdzw\.com|/Html/\d{4}-\d{2}-\d{2}/(?:\d+|index)\.html)")),
    ("rongmei", re.compile(r"/web/ar(?:ti|it)cle/\d{10,}/web/content_\d+\.html", re.I)),
    ("dazuwang", re.compile(r"(?:^|//)(?:www\.)?txdzw\.com/", re.I)),
    ("gov_trs", re.compile(r"\.gov\.cn/.*/t\d{8}_\d+(?:_wap)?\.html", re.I)),
)

# Edition dates inside e-paper URLs: /2024-08/29/, /202408/29/, /2024-08-29/.
_URL_EDITION = (
    re.compile(r"/(\d{4})-(\d{1,2})/(\d{1,2})/"),
    re.compile(r"/(\d{4})(\d{2})/(\d{2})/"),
    re.compile(r"/(\d{4})-(\d{2})-(\d{2})/"),
)

# `第02版：要闻`, also spaced `第02版：综 合` (one character, a space, one character).
_PAGE_LABEL = re.compile(r"第\s*[0-9０-９A-Za-z]{1,4}\s*版\s*[：:]\s*(?:[^\s|>](?:\s[^\s|>])(?![^\s|>])|[^\s|>]{1,12})")
_XYB_HEADER = re.compile(r"([A-Z]?\d{1,2})\s*[:：]\s*(\S{1,10})\s*总第\s*\d+\s*期\s*>?\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*编印")
_XYB_INFO = re.compile(r"刊发日期\s*[:：]")
_RONGMEI_INFO = re.compile(r"\d{4}-\d{1,2}-\d{1,2}\s+\d{1,2}:\d{2}(?::\d{2})?\s*来源\s*[:：]")
_DAZUWANG_INFO = re.compile(r"来源\s*[:：].{0,30}发布时间\s*[:：]")
_SOURCE = re.compile(r"来源\s*[:：]\s*([^\s|]{1,30}?)(?=\s|$|发布时间|作者|浏览|点击|阅读|编辑|字号)")
_AUTHOR = re.compile(r"作者\s*[:：]\s*([^|]{0,40}?)\s*(?=$|来源|发布|刊发|浏览|阅读|点击|字号)")
# Lines after which a portal article is over (chrome starts): kept out of the body.
_END_CHROME = re.compile(
    r"^(?:发言请遵守|相关(?:新闻|阅读|文章|链接|推荐)|上一篇|下一篇|分享到|【?打印|【?关闭|"
    r"版权所有|Copyright|©|网站地图|扫一扫|热点推荐|推荐阅读)",
    re.I,
)
_COPYRIGHT = re.compile(r"版权所有|ICP备|Copyright|©|\(c\)\s*\d{4}", re.I)
# A footer line that ends a portal article and is kept (cleaning parses it).
_END_KEEP = re.compile(r"^(?:终审|责任编辑|编辑)\s*[:：]")

_CONTENT_HREF = re.compile(r"content_[\d_]+\.html?", re.I)
_XYB_ARTICLE_HREF = re.compile(r"^/Html/\d{4}-\d{2}-\d{2}/\d+\.html$")
_NODE_HREF = re.compile(r"(?:node_[\d_]+\.html?|col\d+\.html)", re.I)
_ENP_FIELD = re.compile(r"<(\w+)>(.*?)</\1>", re.S)


@dataclass
class PlatformArticle:
    """What a platform rule read from a page; empty `paragraphs` means the rule found no body."""

    pre_title: str | None = None
    title: str | None = None
    sub_title: str | None = None
    author_line: str | None = None
    page_label: str | None = None
    edition_date: date | None = None
    source: str | None = None
    date_text: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
    paragraphs: list[str] = field(default_factory=list)


def detect_platform(url: str | None, root: lxml_html.HtmlElement | None) -> str | None:
    """The platform of a page from its URL, else from its markup; None when nothing matches."""
    if url:
        for name, rx in _URL_RULES:
            if rx.search(url):
                return name
    if root is None:
        return None
    if root.xpath("//founder-content|//*[@id='ozoom']|//table[contains(@class,'wz')]"):
        return "founder_pc" if _first(root, _PC_TITLE_XP) is not None else "founder_classic"
    if any("enpproperty" in (c.text or "") for c in root.iter(etree.Comment)):
        return "founder_pc" if _first(root, _PC_TITLE_XP) is not None else "founder_classic"
    meta = meta_tags(root)
    if meta_get(meta, "ArticleTitle", "PubDate", "ContentSource") or root.xpath("//*[@id='UCAP-CONTENT']"):
        return "gov_trs"
    body = root.find("body")
    text = text_sample(body if body is not None else root)
    if "编印" in text and _XYB_INFO.search(text):
        return "xinyubao"
    if "浏览次数" in text and "终审" in text and _DAZUWANG_INFO.search(text):
        return "dazuwang"
    if "新闻跟帖服务协议" in text and _RONGMEI_INFO.search(text):
        return "rongmei"
    if len(re.findall(r"\([a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ][a-zü]*\)", text)) >= 5:
        return "mirror"
    return None


def template_fields(platform: str, html: str, url: str | None = None) -> dict:
    """The structural fields of a platform page, for the spiders' raw items.

    Returns a dict with keys `pre_title`, `title`, `sub_title`, `author_line`, `page_label`,
    `edition_date` (`YYYY-MM-DD` or None), `meta` (the page's `<meta name=… content=…>`), and
    `source` (来源 / ContentSource, or None). Unknown platforms and unparseable pages give Nones.
    """
    root = parse(html) if isinstance(html, str) else None
    art = platform_article(platform, root, url) if root is not None else PlatformArticle()
    return {
        "pre_title": art.pre_title,
        "title": art.title,
        "sub_title": art.sub_title,
        "author_line": art.author_line,
        "page_label": art.page_label,
        "edition_date": art.edition_date.isoformat() if art.edition_date else None,
        "meta": art.meta,
        "source": art.source,
    }


def platform_article(platform: str | None, root: lxml_html.HtmlElement, url: str | None) -> PlatformArticle:
    """Apply the rule of `platform` to a parsed page (the tree is not modified)."""
    rule = _RULES.get(platform or "")
    meta = meta_tags(root)
    art = rule(root, url) if rule else PlatformArticle()
    art.meta = meta
    if art.edition_date is None and platform in ("founder_classic", "founder_pc", "xinyubao"):
        art.edition_date = url_edition_date(url)
    for attr in ("pre_title", "title", "sub_title", "author_line", "page_label", "source"):
        value = getattr(art, attr)
        setattr(art, attr, norm_space(value) or None)
    return art


# --- helpers ----------------------------------------------------------------------------------

_PC_TITLE_XP = ("//*[@id='Title']", "//*[@id='main-title']")


def _first(root: lxml_html.HtmlElement, xpaths: tuple[str, ...]) -> lxml_html.HtmlElement | None:
    for xp in xpaths:
        found = root.xpath(xp)
        if found:
            return found[0]
    return None


def _text_of(root: lxml_html.HtmlElement, *xpaths: str) -> str | None:
    el = _first(root, xpaths)
    return element_text(el) or None if el is not None else None


def url_edition_date(url: str | None) -> date | None:
    """The edition date an e-paper URL carries (`/2024-08/29/`, `/202408/29/`, `/2024-08-29/`)."""
    if not url:
        return None
    for rx in _URL_EDITION:
        m = rx.search(url)
        if m:
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                continue
    return None


def enpproperty(root: lxml_html.HtmlElement) -> dict[str, str]:
    """Fields of a Founder `<!--enpproperty <date>…</date><title>…</title>…-->` comment."""
    for c in root.iter(etree.Comment):
        text = c.text or ""
        if "enpproperty" in text:
            return {k.lower(): norm_space(v) for k, v in _ENP_FIELD.findall(text) if norm_space(v)}
    return {}


def _founder_body(root: lxml_html.HtmlElement, *containers: str) -> list[str]:
    """Body paragraphs of a Founder page: `<founder-content>` if present, else the container."""
    fc = root.xpath("//founder-content")
    el = fc[0] if fc else _first(root, containers)
    return block_lines(el)


def _page_label(root: lxml_html.HtmlElement) -> str | None:
    for el in root.xpath("//*[@id='pageLink' or contains(@class,'banmian') or contains(@class,'bmname')]"):
        m = _PAGE_LABEL.search(element_text(el))
        if m:
            return m.group(0)
    body = root.find("body")
    m = _PAGE_LABEL.search(element_text(body if body is not None else root)[:5000])
    return m.group(0) if m else None


def _split_author(text: str | None) -> str | None:
    if not text:
        return None
    m = _AUTHOR.search(text)
    return m.group(1).strip() if m else None


def _source_in(text: str | None) -> str | None:
    if not text:
        return None
    m = _SOURCE.search(text)
    return m.group(1).strip() if m else None


# --- rules ------------------------------------------------------------------------------------


def _founder_classic(root: lxml_html.HtmlElement, url: str | None) -> PlatformArticle:
    art = PlatformArticle()
    rows = [element_text(tr) for tr in root.xpath("//table[contains(@class,'wz')]//tr[@valign='top']")]
    if len(rows) >= 3:
        art.pre_title, art.title, art.sub_title = rows[0], rows[1], rows[2]
        art.author_line = rows[3] if len(rows) > 3 else None
    elif rows:
        rest = [r for r in rows if r]
        art.title = rest[0] if rest else None
        art.author_line = rest[1] if len(rest) > 1 else None
    enp = enpproperty(root)
    art.title = art.title or enp.get("title")
    art.pre_title = art.pre_title or enp.get("introtitle")
    art.sub_title = art.sub_title or enp.get("subtitle")
    art.author_line = art.author_line or enp.get("author")
    art.date_text = enp.get("date")
    art.page_label = _page_label(root)
    art.paragraphs = _founder_body(root, "//*[@id='ozoom']")
    return art


def _founder_pc(root: lxml_html.HtmlElement, url: str | None) -> PlatformArticle:
    art = PlatformArticle()
    enp = enpproperty(root)
    art.pre_title = _text_of(root, "//*[@id='PreTitle']", "//*[@id='intro-title']") or enp.get("introtitle")
    art.title = _text_of(root, *_PC_TITLE_XP) or enp.get("title")
    art.sub_title = _text_of(root, "//*[@id='SubTitle']", "//*[@id='sub-title']") or enp.get("subtitle")
    author = _text_of(root, "//*[@id='Author']", "//*[@id='author']")
    # Templates put the date in #author, alone or after the names: it is not part of the byline.
    if author:
        m = re.search(r"\s*((?:19|20)\d{2}\s*[-/年]\s*\d{1,2}\s*[-/月]\s*\d{1,2}\s*日?)\s*$", author)
        if m:
            art.date_text = m.group(1)
            author = author[: m.start()].strip() or None
    art.author_line = author or enp.get("author")
    art.date_text = enp.get("date") or art.date_text
    art.page_label = _page_label(root)
    art.paragraphs = _founder_body(
        root, "//div[contains(@class,'newsdetatext')]", "//*[@id='ozoom']", "//*[@id='content']"
    )
    return art


def _page_lines(root: lxml_html.HtmlElement) -> list[str]:
    body = root.find("body")
    return block_lines(body if body is not None else root)


def _slice_body(lines: list[str], start: int) -> list[str]:
    """Lines after the info line up to the first chrome line; a kept footer line ends it."""
    out: list[str] = []
    for line in lines[start:]:
        if _END_CHROME.match(line) or (len(line) < 60 and _COPYRIGHT.search(line)):
            break
        out.append(line)
        if _END_KEEP.match(line) and len(out) > 1:
            break
    return out


def _title_before(root: lxml_html.HtmlElement, lines: list[str], info: int, floor: int) -> tuple:
    """(pre_title, title, sub_title) from the lines between `floor` and the info line."""
    cand = [ln for ln in lines[floor:info] if not _END_CHROME.match(ln)][-3:]
    h = root.xpath("//h1|//h2")
    heading = element_text(h[0]) if h else ""
    if heading and heading in cand:
        i = cand.index(heading)
        return (" ".join(cand[:i]) or None, heading, " ".join(cand[i + 1 :]) or None)
    if not cand:
        return (None, heading or None, None)
    return (None, cand[-1], None)


def _xinyubao(root: lxml_html.HtmlElement, url: str | None) -> PlatformArticle:
    art = PlatformArticle()
    lines = _page_lines(root)
    header = next((i for i, ln in enumerate(lines) if _XYB_HEADER.search(ln)), None)
    info = next((i for i, ln in enumerate(lines) if _XYB_INFO.search(ln)), None)
    if header is not None:
        m = _XYB_HEADER.search(lines[header])
        assert m is not None
        art.page_label = f"{m.group(1)}:{m.group(2)}"
        try:
            art.edition_date = date(int(m.group(3)), int(m.group(4)), int(m.group(5)))
        except ValueError:
            art.edition_date = None
    if info is None:
        return art
    art.pre_title, art.title, art.sub_title = _title_before(root, lines, info, (header or -1) + 1)
    art.author_line = _split_author(lines[info])
    m = re.search(r"刊发日期\s*[:：]\s*(\d{4}-\d{1,2}-\d{1,2})", lines[info])
    art.date_text = m.group(1) if m else None
    art.paragraphs = _slice_body(lines, info + 1)
    return art


def _portal(info_rx: re.Pattern[str]):
    def rule(root: lxml_html.HtmlElement, url: str | None) -> PlatformArticle:
        art = PlatformArticle()
        lines = _page_lines(root)
        info = next((i for i, ln in enumerate(lines) if info_rx.search(ln)), None)
        if info is None:
            return art
        _, art.title, _ = _title_before(root, lines, info, 0)
        art.source = _source_in(lines[info])
        art.author_line = _split_author(lines[info])
        art.date_text = lines[info]
        art.paragraphs = _slice_body(lines, info + 1)
        return art

    return rule


def _gov_trs(root: lxml_html.HtmlElement, url: str | None) -> PlatformArticle:
    art = PlatformArticle()
    meta = meta_tags(root)
    art.title = meta_get(meta, "ArticleTitle") or _text_of(root, "//h1")
    art.source = meta_get(meta, "ContentSource")
    art.author_line = meta_get(meta, "Author")
    art.date_text = meta_get(meta, "PubDate")
    art.page_label = meta_get(meta, "ColumnName")
    el = _first(
        root,
        (
            "//*[@id='UCAP-CONTENT']",
            "//*[contains(@class,'trs_paper_default')]",
            "//*[contains(@class,'TRS_UEDITOR')]",
            "//*[contains(@class,'TRS_Editor')]",
            "//*[contains(@class,'zwxl-main')]",
        ),
    )
    art.paragraphs = block_lines(el)
    return art


def _mirror(root: lxml_html.HtmlElement, url: str | None) -> PlatformArticle:
    # Mirror templates vary per spam network: no structural rule, the generic path does the body.
    h = root.xpath("//h1")
    return PlatformArticle(title=element_text(h[0]) if h else None)


_RULES = {
    "founder_classic": _founder_classic,
    "founder_pc": _founder_pc,
    "xinyubao": _xinyubao,
    "rongmei": _portal(_RONGMEI_INFO),
    "dazuwang": _portal(_DAZUWANG_INFO),
    "gov_trs": _gov_trs,
    "mirror": _mirror,
}


# --- e-paper navigation -----------------------------------------------------------------------


def _canonical(href: str, base: str) -> str | None:
    href = (href or "").strip()
    if not href or href.startswith(("javascript:", "mailto:", "#")):
        return None
    absolute = urljoin(base, href)
    parts = urlsplit(absolute)
    # `?div=-1` and fragments only select a highlight on the same article.
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _same_edition(link: str, edition: date | None) -> bool:
    if edition is None:
        return True
    d = url_edition_date(link)
    return d is None or d == edition


def _dedup(links: list[str]) -> list[str]:
    return list(dict.fromkeys(links))


def _article_href(platform: str) -> re.Pattern[str]:
    return _XYB_ARTICLE_HREF if platform == "xinyubao" else _CONTENT_HREF


def edition_article_links(platform: str, html: str, page_url: str) -> list[str]:
    """Absolute article URLs of one 版面 page, in page order, without `?div=` or fragments.

    Tries, in order: the title list (`<a href>` to content pages), the page image map
    (`map[name=PagePicMap] area[href]`), then content-URL patterns anywhere in the markup
    (scripts included). Only links of the page's own edition date are kept.
    """
    edition = url_edition_date(page_url)
    pattern = _article_href(platform)
    root = parse(html) if isinstance(html, str) else None
    if root is not None:
        for xp in ("//a[@href]", "//map//area[@href]"):
            links = [
                c
                for el in root.xpath(xp)
                if (c := _canonical(el.get("href", ""), page_url))
                and pattern.search(urlsplit(c).path)
                and _same_edition(c, edition)
            ]
            if links:
                return _dedup(links)
    raw = html if isinstance(html, str) else ""
    href_rx = re.compile(r"""[\w./:\-]*?""" + pattern.pattern.lstrip("^").rstrip("$"))
    links = [
        c
        for m in href_rx.finditer(raw[:2_000_000])
        if (c := _canonical(m.group(0), page_url))
        and pattern.search(urlsplit(c).path)
        and _same_edition(c, edition)
    ]
    return _dedup(links)


def edition_page_links(platform: str, html: str, page_url: str) -> list[str]:
    """Absolute URLs of an edition's 版面 pages (`a#pageLink`, `ul#widthNone li a`, node links).

    Falls back to any link to a node page of the same edition, then to links whose text reads
    like a page label (`第01版：要闻`, `A2:要闻`).
    """
    root = parse(html) if isinstance(html, str) else None
    if root is None:
        return []
    edition = url_edition_date(page_url)

    def collect(elements: list) -> list[str]:
        return _dedup(
            [
                c
                for el in elements
                if (c := _canonical(el.get("href", ""), page_url)) and _same_edition(c, edition)
            ]
        )

    for xp in ("//a[@id='pageLink'][@href]", "//ul[@id='widthNone']//a[@href]"):
        links = collect(root.xpath(xp))
        if links:
            return links
    links = collect([a for a in root.xpath("//a[@href]") if _NODE_HREF.search(a.get("href", ""))])
    if links:
        return links
    label = re.compile(r"^(?:第\s*\S{1,4}\s*版|[A-Z]\d{1,2}\s*[:：])")
    return collect([a for a in root.xpath("//a[@href]") if label.match(element_text(a))])
