"""Page authors: the people a page names outside the article text.

Extraction keeps the article's paragraphs and drops the page's chrome; but the chrome often says
who wrote or edited the piece: a `<meta name="author">` (or `article:author`) tag, a `作者：` line
in the header, a `责任编辑：` line under the text. `page_author_line(root, page_lines, paragraphs)`
collects them into one footer-style line that cleaning parses like a footer
(`transforms.byline.parse_footer`):

    作者：张三 李四 责任编辑：王五

- 作者 (from visible `作者：` lines and from author meta tags) → people: reporters, or the role the
  value names (`作者：记者 张三 通讯员 李四`);
- 责任编辑 / 责编 / 编辑 (visible lines) → editors. A meta author who is also a visible editor is an
  editor (many CMSs fill the tag with the desk editor), not a reporter.

Only short lines outside the extracted paragraphs count (text the cleaner already reads is not
read twice), near the article when it can be located in the page (the header above it, the footer
below it); a key must not be the end of a longer word (`总编辑：` on a masthead, `编辑信箱：`).
`ContentSource`/来源 is the source, not an author; values that are outlets (`新华网`), the site's own
name (also in its `<title>` or copyright tag: `网易`), addresses or Latin text give no names.
Never raises.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from transforms.byline import ROLES, split_names
from transforms.htmltext import norm_space

# Meta tags naming the article's author (name= or property=, any case).
AUTHOR_META = frozenset({"author", "article:author", "og:article:author", "dc.creator", "byl"})
# Meta tags naming the site (its name in an author tag is no person).
SITE_META = frozenset({"copyright", "og:site_name", "application-name", "publisher", "article:publisher"})
# How far from the located article text a chrome line may be, in page lines.
LINES_BEFORE = 25
LINES_AFTER = 40
# Longer lines are text or site boilerplate, not a byline or an editor line.
MAX_LINE_CHARS = 60

_KEY = r"责任编辑|责编|编辑|作者"
# What ends a field's value: another field of a header line, a date, a separator.
_STOP = r"来源|发布|时间|日期|浏览|阅读|点击|字号|审核|审校|终审|校对|责任编辑|责编|编辑|作者|\d{4}\s*[-/.年]"
_FIELD = re.compile(
    rf"(?<![\u4e00-\u9fff])(?P<key>{_KEY})\s*[:：]\s*"
    rf"(?P<value>[^:：|｜【】\[\]()（）<>]*?)\s*(?=$|[|｜【】\[\]()（）<>]|(?:{_STOP}))"
)
_ROLE_WORDS = tuple(role for role, _ in ROLES)
# Tokens that name an organisation, not a person.
_ORGANISATION = re.compile(r"(?:网|报|社|台|中心|频道|部|杂志|新闻|客户端|公司|委|局|办|院|室)$")


# Placeholders CMSs print where a name should be.
_NO_PERSON = re.compile(r"未知|佚名|匿名|不详|管理员|网络|整理|转载|综合|本站|本网|编辑部")


def _names(value: str) -> list[str]:
    """Person names in a value: 2–5 Han characters each (padded `张 玲` joined), no organisations,
    no placeholders (`未知`, `系统管理员`, `网络整理`)."""
    return [
        n
        for n in split_names(value)
        if len(n) >= 2 and not _ORGANISATION.search(n) and not _NO_PERSON.search(n)
    ]


def _people(value: str) -> str | None:
    """A 作者 value as a people run: kept as written when it names roles (`记者 张三 通讯员 李四`),
    else just its person names; None when it names nobody."""
    value = norm_space(value)
    if any(role in value for role in _ROLE_WORDS):
        return value if _names(re.sub("|".join(_ROLE_WORDS), " ", value)) else None
    names = _names(value)
    return " ".join(names) or None


def meta_authors(root) -> list[str]:
    """Author values of the page's meta tags (people runs, see `_people`), in page order. Many
    sites put their own name there (`网易`): a name that the page's `<title>`, site-name or
    copyright tags also carry is the site's, not a person's."""
    found: list[str] = []
    site: list[str] = []
    try:
        for meta in root.iter("meta"):
            key = (meta.get("name") or meta.get("property") or "").strip().lower()
            content = meta.get("content") or ""
            if key in AUTHOR_META:
                people = _people(content)
                if people and people not in found:
                    found.append(people)
            elif key in SITE_META:
                site.append(content)
        title = root.find(".//title")
        if title is not None:
            site.append(title.text_content())
    except (AttributeError, TypeError, ValueError):
        return []
    site_text = " ".join(site)
    kept = []
    for people in found:
        names = [n for n in _names(people) if n not in site_text]
        if names:
            kept.append(people if any(role in people for role in _ROLE_WORDS) else " ".join(names))
    return kept


def _window(page_lines: list[str], paragraphs: list[str]) -> Iterable[str]:
    """Page lines that are chrome near the article: not one of its paragraphs, within
    LINES_BEFORE above the first paragraph and LINES_AFTER below the last (all lines when the
    paragraphs cannot be found in the page)."""
    body = {norm_space(p) for p in paragraphs if p}
    lines = [norm_space(line) for line in page_lines if isinstance(line, str)]
    at = [i for i, line in enumerate(lines) if line in body]
    if at:
        lines = lines[max(0, at[0] - LINES_BEFORE) : at[-1] + LINES_AFTER + 1]
    return (line for line in lines if line and line not in body and len(line) <= MAX_LINE_CHARS)


def chrome_fields(page_lines: list[str], paragraphs: list[str]) -> tuple[list[str], list[str]]:
    """(作者 people runs, editor names) from the chrome lines near the article."""
    authors: list[str] = []
    editors: list[str] = []
    for line in _window(page_lines, paragraphs):
        if "作者" not in line and "编" not in line:
            continue
        for m in _FIELD.finditer(line):
            if m.group("key") == "作者":
                people = _people(m.group("value"))
                if people and people not in authors:
                    authors.append(people)
            else:
                editors.extend(n for n in _names(m.group("value")) if n not in editors)
    return authors, editors


def page_author_line(root, page_lines: list[str], paragraphs: list[str]) -> str | None:
    """The page's authors and editors as one footer-style line (module docstring), or None."""
    try:
        authors, editors = chrome_fields(page_lines or [], paragraphs or [])
        for people in meta_authors(root) if root is not None else []:
            if people not in authors and not set(_names(people)) <= set(editors):
                authors.append(people)
    except (AttributeError, TypeError, ValueError, RecursionError):
        return None
    fields = []
    if authors:
        fields.append("作者：" + " ".join(authors))
    if editors:
        fields.append("责任编辑：" + " ".join(editors))
    return " ".join(fields) or None
