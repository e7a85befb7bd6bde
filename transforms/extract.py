"""Article extraction: platform rules when they fit, the generic path otherwise.

`extract(html, url=None, *, platform=None, hints=None) -> Extracted` (see docs/design.md and
docs/extraction.md). Contract:
- accepts text or bytes (decoded by `transforms.encoding`), of any size or content; input beyond
  `MAX_INPUT_BYTES` is cut, so a 50 MB page or binary junk returns quickly; never raises;
- the platform is `platform` if given, else detected from the URL or markup; its rule's result is
  used only when plausible (a body of prose at least half the size of the page's main text
  block), otherwise the generic path runs and `extractor` says so (`generic:trafilatura`);
- text is not cleaned (leads, bylines, footers stay), but page chrome is dropped and 来源 goes to
  `source`, 作者 to `author_line`;
- `published_at` is aware (Asia/Shanghai) and never later than the `fetched_at` hint;
- a page that is not an article gets `is_article=False` and a `reason`.
"""

from __future__ import annotations

import re

from lxml import html as lxml_html

from transforms import generic, pageauthor, pagedate, platforms
from transforms.encoding import decode_html
from transforms.htmltext import (
    MAX_HTML_CHARS,
    block_lines,
    element_text,
    garbage_share,
    han_count,
    norm_space,
    parse,
)
from transforms.record import Extracted

MAX_INPUT_BYTES = 8_000_000

# A platform body shorter than this share of the page's main text block is implausible.
PLAUSIBLE_SHARE = 0.5
# Fewer Han characters than this in the body: not an article.
MIN_ARTICLE_HAN = 40

_PLACEHOLDER = re.compile(
    r"(页面(?:不存在|已删除|已移动|找不到|未找到)|404\s*Not\s*Found|Page\s+Not\s+Found|请(?:先)?登录|用户登录|"
    r"该(?:文章|信息|内容)(?:已被?删除|不存在)|页面已过期|网页已(?:移动|删除)|正在跳转|moved\s+permanently)",
    re.I,
)
_PROSE_PUNCT = re.compile(r"[。！？；，,]")


def _is_prose(paragraphs: list[str]) -> bool:
    """At least one paragraph reads like a sentence rather than a link or a label."""
    return any(han_count(p) >= 20 and len(_PROSE_PUNCT.findall(p)) >= 1 for p in paragraphs)


def _is_nav_list(paragraphs: list[str]) -> bool:
    """Many short lines without sentence punctuation: a list of links, not an article."""
    if len(paragraphs) < 5:
        return False
    short = sum(1 for p in paragraphs if len(p) <= 40 and not re.search(r"[。！？]", p))
    return short / len(paragraphs) >= 0.8


def plausible(paragraphs: list[str], main_han: int) -> bool:
    """Whether a platform rule's body can be trusted against the page's main text block."""
    body = han_count("".join(paragraphs))
    if body < MIN_ARTICLE_HAN or not _is_prose(paragraphs) or _is_nav_list(paragraphs):
        return False
    return body >= PLAUSIBLE_SHARE * main_han


def _link_ratio(root: lxml_html.HtmlElement) -> float:
    body = root.find("body")
    scope = body if body is not None else root
    total = han_count(element_text(scope))
    linked = sum(han_count(element_text(a)) for a in scope.iter("a"))
    return linked / total if total else 1.0


def _not_article_reason(root: lxml_html.HtmlElement, paragraphs: list[str], title: str | None) -> str | None:
    text = "".join(paragraphs)
    han = han_count(text)
    if han < MIN_ARTICLE_HAN:
        page_text = element_text(root)[:3000]
        if _PLACEHOLDER.search(page_text) or (title and _PLACEHOLDER.search(title)):
            return "placeholder page (login, not found or moved)"
        if _link_ratio(root) > 0.6:
            return "list page: links, no prose"
        return "no article text"
    if not _is_prose(paragraphs):
        return "no prose"
    if _is_nav_list(paragraphs) and _link_ratio(root) > 0.5:
        return "list page: links, no prose"
    return None


def _hint(hints: dict, key: str) -> str | None:
    value = hints.get(key)
    return norm_space(str(value)) or None if value else None


def extract(
    html: str | bytes,
    url: str | None = None,
    *,
    platform: str | None = None,
    hints: dict | None = None,
) -> Extracted:
    """Extract the article of one page; see the module docstring for the contract."""
    hints = hints or {}
    if isinstance(html, bytes | bytearray):
        text, _ = decode_html(bytes(html[:MAX_INPUT_BYTES]), hints.get("encoding"))
    elif isinstance(html, str):
        text = html[:MAX_HTML_CHARS]
    else:
        return Extracted(is_article=False, reason="not html", extractor="none")
    if garbage_share(text) > 0.05:
        return Extracted(is_article=False, reason="binary or undecodable content", extractor="none")
    root = parse(text)
    if root is None:
        return Extracted(is_article=False, reason="empty page", extractor="none")
    try:
        return _extract_tree(root, text, url, platform, hints)
    except RecursionError:
        # Pathologically nested markup: lxml handles it, recursive helpers may not.
        return Extracted(is_article=False, reason="markup too deeply nested", extractor="none")


def _extract_tree(
    root: lxml_html.HtmlElement, text: str, url: str | None, platform: str | None, hints: dict
) -> Extracted:
    if platform not in platforms.PLATFORMS:
        platform = platforms.detect_platform(url, root)
    art = platforms.platform_article(platform, root, url) if platform else None
    ex = Extracted()
    main_el, main_han = generic.main_block(root)
    body = root.find("body")
    page_lines = block_lines(body if body is not None else root)[:400]
    if art is not None and plausible(art.paragraphs, main_han):
        ex.paragraphs, ex.extractor = art.paragraphs, f"platform:{platform}"
        ex.source = art.source
    else:
        gen = generic.generic_article(root, text, url, page_lines, main_han, main_el)
        ex.paragraphs, ex.extractor, ex.source = gen.paragraphs, f"generic:{gen.library}", gen.source
        if art is not None:
            art.title = art.title or gen.title
            art.source = art.source or gen.source
        else:
            art = platforms.PlatformArticle(title=gen.title, source=gen.source, meta=gen.meta)
    ex.pre_title = _hint(hints, "pre_title") or art.pre_title
    ex.title = _hint(hints, "title") or art.title
    ex.sub_title = _hint(hints, "sub_title") or art.sub_title
    # The template's author row; else who the page's chrome and author meta tags name.
    ex.author_line = (
        _hint(hints, "author_line")
        or art.author_line
        or pageauthor.page_author_line(root, page_lines, ex.paragraphs)
    )
    ex.page_label = _hint(hints, "page_label") or art.page_label
    ex.source = ex.source or art.source
    edition = pagedate.parse_date_text(str(hints["edition_date"])) if hints.get("edition_date") else None
    ex.edition_date = edition.date() if edition else art.edition_date
    ex.paragraphs = _drop_title_echo(ex.paragraphs, (ex.pre_title, ex.title, ex.sub_title))
    fetched_at = pagedate.as_fetched_at(hints.get("fetched_at"))
    meta = dict(art.meta)
    meta.update(
        {k: v for k, v in (hints.get("meta") or {}).items() if isinstance(k, str) and isinstance(v, str)}
    )
    ex.published_at = pagedate.published_at(
        root,
        text,
        url=url,
        meta=meta,
        lines=page_lines,
        title=ex.title,
        candidates=(
            hints.get("published_at") if isinstance(hints.get("published_at"), str) else None,
            ex.edition_date.isoformat() if ex.edition_date else None,
            art.date_text,
            # The date a column list printed beside the link: trusted after the page's own line.
            hints.get("list_date") if isinstance(hints.get("list_date"), str) else None,
        ),
        fetched_at=fetched_at,
    )
    ex.reason = _not_article_reason(root, ex.paragraphs, ex.title)
    ex.is_article = ex.reason is None
    return ex


def _drop_title_echo(paragraphs: list[str], titles: tuple[str | None, ...]) -> list[str]:
    """Headline lines repeated at the top of the body belong to the title fields, not the body."""
    heads = {norm_space(t) for t in titles if t}
    out = list(paragraphs)
    while out and norm_space(out[0]) in heads:
        out.pop(0)
    return out
