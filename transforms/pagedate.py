"""The publication time of a page, as an aware datetime in Asia/Shanghai.

Sources, most trusted first: the spider's hints (e-paper edition date, explicit published time),
publisher meta tags (PubDate, publishdate, article:published_time, …), the Founder `enpproperty`
date, the platform's own date line, labelled visible lines (`发布时间:`, `刊发日期:` …), a date in
the URL (`/2024-08/29/`, `t20240829_`, `/Html/2024-08-29/`, `/20240829/`), the first date written
near the top of the text (`2024年8月29日`, `2024-08-29 10:05`), and htmldate as a last resort.
A candidate later than `fetched_at` (when given) or before 1995 is rejected. Never raises.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from lxml import html as lxml_html

from quxian.config import TZ
from transforms.htmltext import meta_get

META_DATE_NAMES = (
    "PubDate",
    "publishdate",
    "publish_date",
    "pubdate",
    "article:published_time",
    "og:article:published_time",
    "og:release_date",
    "datePublished",
    "weibo:article:create_at",
    "OriginalPublicationDate",
    "sailthru.date",
    "parsely-pub-date",
    "dc.date",
    "dc.date.issued",
    "dcterms.created",
    "dcterms.issued",
    "publication_date",
    "release_date",
    "article:published",
    "bytedance:published_time",
    "firstpublishedtime",
)

_NUM_DATE = re.compile(
    r"(?<!\d)((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:\s*(?:T|\s)?\s*(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2}))?)?"
)
_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
_LABELLED = re.compile(
    r"(?:发布时间|发布日期|发表时间|发表日期|刊发日期|刊发时间|出版日期|更新时间|时间|日期|发布于|Published)\s*[:：]?\s*$"
)
_URL_DATES = (
    re.compile(r"/((?:19|20)\d{2})-(\d{1,2})/(\d{1,2})/"),
    re.compile(r"[/_]t((?:19|20)\d{2})(\d{2})(\d{2})_"),
    re.compile(r"/((?:19|20)\d{2})-(\d{2})-(\d{2})/"),
    re.compile(r"/((?:19|20)\d{2})(\d{2})/(\d{2})/"),
    re.compile(r"(?<![\d])((?:19|20)\d{2})(\d{2})(\d{2})(?![\d])"),
    re.compile(r"/((?:19|20)\d{2})[-_/](\d{1,2})[-_/](\d{1,2})(?:[/_.]|$)"),
)


def _build(y: str, mo: str, d: str, h: str | None = None, mi: str | None = None, s: str | None = None) -> datetime | None:
    try:
        day = date(int(y), int(mo), int(d))
        clock = time(int(h or 0), int(mi or 0), int(s or 0)) if h is not None else time(0, 0)
    except ValueError:
        return None
    return datetime.combine(day, clock, tzinfo=TZ)


def parse_date_text(text: str | None) -> datetime | None:
    """The first date (optionally with time) in `text`, in Asia/Shanghai; ISO offsets honoured."""
    if not text:
        return None
    text = text.strip()
    if "T" in text and _OFFSET.search(text):
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(TZ)
        except ValueError:
            pass
    m = _NUM_DATE.search(text)
    return _build(*m.groups()) if m else None


def url_date(url: str | None) -> datetime | None:
    """A date carried by the URL path, or None."""
    if not url:
        return None
    path = re.sub(r"^[a-z]+://[^/]+", "", url, flags=re.I)
    for rx in _URL_DATES:
        m = rx.search(path)
        if m:
            dt = _build(*m.groups())
            if dt:
                return dt
    return None


def _jsonld_date(root: lxml_html.HtmlElement) -> datetime | None:
    for s in root.xpath("//script[@type='application/ld+json']")[:5]:
        m = re.search(r'"datePublished"\s*:\s*"([^"]{8,40})"', s.text or "")
        if m:
            return parse_date_text(m.group(1))
    return None


def labelled_date(lines: list[str]) -> datetime | None:
    """A date on a line where a label (`发布时间:`, `刊发日期:` …) precedes it."""
    for line in lines[:400]:
        if len(line) > 200:
            continue
        for m in _NUM_DATE.finditer(line):
            if _LABELLED.search(line[: m.start()][-12:]):
                return _build(*m.groups())
    return None


def first_text_date(lines: list[str], title: str | None) -> datetime | None:
    """The first date written in a short line, looking from the title onward when it is found."""
    start = 0
    if title:
        key = title[:12]
        start = next((i for i, ln in enumerate(lines) if key and key in ln), 0)
    for line in lines[start : start + 60] + lines[:start]:
        if len(line) > 120:
            continue
        m = _NUM_DATE.search(line)
        if m:
            dt = _build(*m.groups())
            if dt:
                return dt
    return None


def _htmldate(markup: str, url: str | None) -> datetime | None:
    from htmldate import find_date  # imported lazily: only the last resort pays its import cost

    # The fast search first: the extensive one (dateparser over free text) can take seconds.
    found = None
    for extensive in (False, True):
        try:
            found = find_date(markup[:500_000], url=url, original_date=True, extensive_search=extensive)
        except (ValueError, TypeError, AttributeError):
            return None
        if found:
            break
    return parse_date_text(found) if found else None


def _acceptable(dt: datetime | None, fetched_at: datetime | None) -> bool:
    if dt is None or dt.year < 1995:
        return False
    # Edition dates and midnight dates may be "later" than a fetch of the same day: compare days.
    return fetched_at is None or dt.date() <= fetched_at.astimezone(TZ).date() or dt <= fetched_at + timedelta(hours=1)


def published_at(
    root: lxml_html.HtmlElement | None,
    markup: str,
    *,
    url: str | None = None,
    meta: dict[str, str] | None = None,
    lines: list[str] | None = None,
    title: str | None = None,
    candidates: tuple[str | None, ...] = (),
    fetched_at: datetime | None = None,
    use_htmldate: bool = True,
) -> datetime | None:
    """The best publication time, or None. `candidates` are trusted date texts tried first
    (hints, edition date, enpproperty date, platform date line)."""
    meta = meta or {}
    lines = lines or []
    steps = [
        *(lambda c=c: parse_date_text(c) for c in candidates),
        lambda: parse_date_text(meta_get(meta, *META_DATE_NAMES)),
        lambda: _jsonld_date(root) if root is not None else None,
        lambda: labelled_date(lines),
        lambda: url_date(url),
        lambda: first_text_date(lines, title),
    ]
    if use_htmldate:
        steps.append(lambda: _htmldate(markup, url))
    for step in steps:
        dt = step()
        if _acceptable(dt, fetched_at):
            return dt
    return None


def as_fetched_at(value: object) -> datetime | None:
    """A `fetched_at` hint (datetime or ISO string) as an aware datetime, else None."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=TZ)
    if isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return dt if dt.tzinfo else dt.replace(tzinfo=TZ)
    return None

