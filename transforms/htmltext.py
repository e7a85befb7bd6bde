"""Parsing pages into lxml trees and turning elements into paragraphs.

Contract: every function here takes untrusted markup and never raises on it; a page that cannot
be parsed yields an empty tree (`parse` returns None) and callers treat it as "no article".
"""

from __future__ import annotations

import re

from lxml import etree, html

# Pages larger than this are cut before parsing: no real article needs more, and lxml time and
# memory grow with input size (a 50 MB page must still return quickly).
MAX_HTML_CHARS = 2_000_000
# Elements kept at most: the largest real page of the evaluation corpus has about 8,000. Work in
# trafilatura grows faster than linearly with the tree, so a page of 100,000 paragraphs is cut.
MAX_ELEMENTS = 12_000

# Elements that never hold article text.
NOISE_TAGS = ("script", "style", "noscript", "iframe", "object", "embed", "svg", "canvas", "template", "select")

# Block-level tags: text on either side of them belongs to different paragraphs.
BLOCK_TAGS = frozenset(
    "p div br li ul ol tr table tbody thead tfoot td th h1 h2 h3 h4 h5 h6 section article "
    "blockquote pre header footer aside nav dl dt dd figure figcaption center form hr".split()
)

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_WS = re.compile(r"[ \t\r\f\v\u00a0\u3000\u200b\ufeff]+")
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)


def norm_space(text: str | None) -> str:
    """Collapse runs of horizontal whitespace (incl. NBSP and ideographic space) to one space."""
    if not text:
        return ""
    return _WS.sub(" ", text).strip()


def parse(markup: str) -> html.HtmlElement | None:
    """Parse a page into an lxml tree, or None when there is nothing parseable.

    Input is truncated to `MAX_HTML_CHARS` and the tree to about `MAX_ELEMENTS` elements; an XML declaration is dropped because lxml refuses
    unicode strings that carry one; NUL bytes are removed (they make lxml stop early).
    """
    if not markup:
        return None
    text = markup[:MAX_HTML_CHARS].replace("\x00", "")
    text = _XML_DECL.sub("", text, count=1)
    if not text.strip():
        return None
    root = _parse_text(text)
    if root is None:
        return None
    count = 0
    for count, _ in enumerate(root.iter(), start=1):
        if count > MAX_ELEMENTS:
            break
    if count > MAX_ELEMENTS:
        total = sum(1 for _ in root.iter())
        root = _parse_text(text[: int(len(text) * MAX_ELEMENTS / total)])
    return root


def _parse_text(text: str) -> html.HtmlElement | None:
    try:
        parser = html.HTMLParser(remove_comments=False, huge_tree=False)
        return html.document_fromstring(text, parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None


def meta_tags(root: html.HtmlElement) -> dict[str, str]:
    """`<meta name|property|itemprop|http-equiv=… content=…>` as a dict (first occurrence wins)."""
    out: dict[str, str] = {}
    for m in root.iter("meta"):
        key = m.get("name") or m.get("property") or m.get("itemprop") or m.get("http-equiv")
        content = m.get("content")
        if key and content is not None and key not in out:
            out[key.strip()] = content.strip()
    return out


def meta_get(meta: dict[str, str], *names: str) -> str | None:
    """The first non-empty meta value among `names`, compared case-insensitively."""
    lower = {k.lower(): v for k, v in meta.items()}
    for n in names:
        v = lower.get(n.lower())
        if v:
            return v
    return None


def drop_noise(root: html.HtmlElement) -> None:
    """Remove scripts, styles and other never-text elements in place."""
    for el in list(root.iter(*NOISE_TAGS)):
        el.drop_tree()


def element_text(el: html.HtmlElement | None) -> str:
    """All text of an element on one line, whitespace collapsed, scripts ignored."""
    if el is None:
        return ""
    parts = []
    for node in el.iter():
        if node.tag in NOISE_TAGS or not isinstance(node.tag, str):
            if node is not el and node.tail:
                parts.append(node.tail)
            continue
        if node.text:
            parts.append(node.text)
        if node is not el and node.tail:
            parts.append(node.tail)
    return norm_space(" ".join(parts))


def block_lines(el: html.HtmlElement | None) -> list[str]:
    """The element's text split into paragraphs at block-level tags and `<br>`.

    Comments, scripts and styles contribute nothing; empty lines are dropped.
    """
    if el is None:
        return []
    lines: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        line = norm_space("".join(buf))
        if line:
            lines.append(line)
        buf.clear()

    def walk(node: html.HtmlElement) -> None:
        tag = node.tag if isinstance(node.tag, str) else None
        if tag is None or tag in NOISE_TAGS:
            return
        block = tag in BLOCK_TAGS
        if block:
            flush()
        if node.text:
            buf.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                buf.append(child.tail)
        if block:
            flush()

    # Deeply nested junk must not blow the recursion limit: fall back to flat text.
    try:
        walk(el)
        flush()
    except RecursionError:
        return [t for t in (norm_space(s) for s in el.itertext()) if t]
    return lines


def han_count(text: str) -> int:
    """Number of Han characters in `text` (CJK unified ideographs and extension A)."""
    return len(_HAN.findall(text)) if text else 0


def text_sample(el: html.HtmlElement, size: int = 20000) -> str:
    """About the first `size` characters of an element's text, read lazily."""
    parts: list[str] = []
    length = 0
    for piece in el.itertext():
        parts.append(piece)
        length += len(piece)
        if length >= size:
            break
    return norm_space(" ".join(parts))[:size]


def garbage_share(text: str) -> float:
    """Share of replacement and control characters in the first 20,000 characters: binary junk
    decoded as text scores high, any real page near zero."""
    sample = text[:20000]
    if not sample:
        return 0.0
    bad = sum(1 for ch in sample if ch == "\ufffd" or (ch < " " and ch not in "\t\n\r"))
    return bad / len(sample)
