"""Dates: the publication timestamp of a page and the event date of its dateline.

Rules (docs/cleaning.md):
- `published_at` is an aware datetime in Asia/Shanghai. Sources, first usable wins: the page's own
  date (what extraction found: meta tags, templates), a visible date line in the text
  (`刊发日期:2024-08-29`, `2026-02-01 20:03:17 来源:`, `发布时间:…`), the e-paper edition or list
  date (`published_hint`, midnight), the date in the URL. A candidate later than `fetched_at` is
  discarded. Naive datetimes are read as Shanghai time. Nothing is ever taken from today's clock.
- `event_date` comes from the dateline at the start of the body (`11月14日上午`, `29日`, `当日`,
  `昨天`), resolved against the publication date: a month later than the publication month means
  the previous year, a day later than the publication day (day-only dateline) the previous month.
  `近日`/`日前` and an unknown publication date give None.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")

_YMD = r"(?P<y>20\d{2}|19\d{2})\s*[-/年.]\s*(?P<m>\d{1,2})\s*[-/月.]\s*(?P<d>\d{1,2})\s*日?"
_HMS = r"(?:\s*(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{2})(?:\s*[:：分]\s*(?P<S>\d{2}))?)?"
DATETIME_TEXT = re.compile(_YMD + _HMS)

# A date line of a page template, as it survives inside the text.
_DATE_LINES = (
    re.compile(r"(?:刊发日期|发布时间|发布日期|发稿时间|时间|日期|更新时间)\s*[:：]\s*" + _YMD + _HMS),
    re.compile(r"^\s*" + _YMD + _HMS + r"\s*(?:来源|作者|浏览|阅读|编辑|$)"),
)

_URL_DATES = (
    re.compile(r"(?<!\d)(?P<y>20\d{2})-(?P<m>\d{2})-(?P<d>\d{2})(?!\d)"),  # /Html/2025-11-14/
    re.compile(r"/(?P<y>20\d{2})-?(?P<m>\d{2})/(?P<d>\d{2})/"),  # /2025-11/14/, /202511/14/
    re.compile(r"/t(?P<y>20\d{2})(?P<m>\d{2})(?P<d>\d{2})_"),  # gov: t20251114_123.html
    re.compile(r"/(?P<y>20\d{2})/(?P<m>\d{2})(?P<d>\d{2})/"),  # /2025/1114/
    re.compile(r"/art/(?P<y>20\d{2})/(?P<m>\d{1,2})/(?P<d>\d{1,2})/"),  # Hanweb
    re.compile(r"(?<!\d)(?P<y>20\d{2})(?P<m>\d{2})(?P<d>\d{2})(?!\d)"),  # …/20251114/…
)

_DATELINE_FULL = re.compile(r"(?:(?P<y>\d{4})年)?(?P<m>\d{1,2})月(?P<d>\d{1,2})日(?![前内])")
_DATELINE_DAY = re.compile(r"(?<![\d月])(?P<d>\d{1,2})日(?!前)")
_DATELINE_RELATIVE = MappingProxyType({"当日": 0, "当天": 0, "今天": 0, "今日": 0, "昨天": -1, "昨日": -1, "前天": -2})
_VAGUE = ("近日", "日前", "近期", "前不久", "近来", "此前")


def to_shanghai(value: datetime) -> datetime:
    """Aware in Asia/Shanghai; a naive value is taken to be Shanghai wall time."""
    if value.tzinfo is None:
        return value.replace(tzinfo=TZ)
    return value.astimezone(TZ)


def _make(y: str, m: str, d: str, hh: str | None = None, mm: str | None = None, ss: str | None = None) -> datetime | None:
    try:
        return datetime(int(y), int(m), int(d), int(hh or 0), int(mm or 0), int(ss or 0), tzinfo=TZ)
    except ValueError:
        return None


def url_date(url: str | None) -> date | None:
    """The publication date a URL spells (e-paper, gov portal and Hanweb layouts), or None."""
    if not url:
        return None
    for pattern in _URL_DATES:
        for m in pattern.finditer(url):
            made = _make(m["y"], m["m"], m["d"])
            if made is not None:
                return made.date()
    return None


def date_line(text: str) -> datetime | None:
    """The timestamp of a template date line (`刊发日期:2024-08-29`, `2026-02-01 20:03:17 来源:…`)."""
    for pattern in _DATE_LINES:
        m = pattern.search(text)
        if m:
            return _make(m["y"], m["m"], m["d"], m["H"], m["M"], m["S"])
    return None


def resolve_published(
    *,
    page: datetime | None = None,
    visible: datetime | None = None,
    hint: date | None = None,
    url: str | None = None,
    fetched_at: datetime | None = None,
) -> tuple[datetime | None, str | None]:
    """(published_at, which source gave it). See the module docstring for the order."""
    limit = to_shanghai(fetched_at) if fetched_at else None
    from_url = url_date(url)
    candidates: list[tuple[datetime | None, str]] = [
        (to_shanghai(page) if page else None, "page"),
        (visible, "date_line"),
        (datetime.combine(hint, time(0), tzinfo=TZ) if hint else None, "edition"),
        (datetime.combine(from_url, time(0), tzinfo=TZ) if from_url else None, "url"),
    ]
    for value, origin in candidates:
        if value is None:
            continue
        if limit is not None and value > limit:
            continue
        return value, origin
    return None, None


def event_date(text: str, published: date | None) -> date | None:
    """The date a dateline at the start of `text` refers to, resolved against `published`.

    Only the start of the first sentence is read (a date must begin within its first 12
    characters, `记者11月14日从…获悉` included), so a date later in the story is never taken for
    the dateline; `12月31日前` (a deadline) is not a dateline.
    """
    head = text[:40].split("。")[0]
    for vague in _VAGUE:
        if head.startswith(vague):
            return None
    # The earliest date expression in the sentence is the dateline.
    found: list[tuple[int, date | None]] = []
    m = _DATELINE_FULL.search(head)
    if m and m.start() <= 12:
        month, day = int(m["m"]), int(m["d"])
        if m["y"]:
            found.append((m.start(), _safe_date(int(m["y"]), month, day)))
        elif published is not None:
            year = published.year - 1 if month > published.month else published.year
            found.append((m.start(), _safe_date(year, month, day)))
        else:
            found.append((m.start(), None))
    for word, offset in _DATELINE_RELATIVE.items():
        at = head.find(word)
        if 0 <= at <= 12:
            found.append((at, published + timedelta(days=offset) if published else None))
    m = _DATELINE_DAY.search(head)
    if m and m.start() <= 12:
        resolved = None
        if published is not None:
            day = int(m["d"])
            year, month = published.year, published.month
            if day > published.day:
                year, month = (year - 1, 12) if month == 1 else (year, month - 1)
            resolved = _safe_date(year, month, day)
        found.append((m.start(), resolved))
    if not found:
        return None
    return min(found, key=lambda item: item[0])[1]


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None
