"""Story dedup: one story per news event, however many outlets and days carry it.

Public API (docs/design.md "Dedup", docs/dedup.md for the algorithm):
- `canonical_url(url)`, `version_id(url)`: the normalised URL of a page and the version id from it.
- `StoryIndex` (see `transforms.storyindex`): the persistent index; `assign(rows)` gives story ids.
- `dedupe_rows(rows, index=None)`: every row with `story_id` added, in input order, none dropped.
- `choose_canonical(versions)`: the version that represents a story (documented rule below).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from quxian.config import TZ
from transforms.storyindex import StoryIndex, day_number, story_id_for

__all__ = [
    "StoryIndex",
    "canonical_url",
    "choose_canonical",
    "dedupe_rows",
    "is_originating",
    "story_id_for",
    "version_id",
]

# Query parameters that only say who shared a link, never which page it is.
_TRACKING = frozenset(
    {
        "spm",
        "from",
        "isappinstalled",
        "share_token",
        "sharer",
        "share",
        "fbclid",
        "gclid",
        "wfr",
        "scene",
        "clicktime",
        "enterid",
        "timestamp",
        "ref",
        "source",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_WAP_TWIN = re.compile(r"_wap(\.s?html?)$", re.IGNORECASE)
_INDEX_PAGE = re.compile(r"/index\.(?:s?html?|php|jsp|aspx?)$", re.IGNORECASE)


def canonical_url(url: str) -> str:
    """The page's URL with the differences that do not change the page removed.

    Lowercases scheme and host, drops the default port, the fragment, tracking parameters (`utm_*`
    and `_TRACKING`) and `index.html`-style directory pages; maps the gov CMS's `_wap.html` twin to
    the main page; sorts the remaining query parameters. Path case is kept (servers differ).
    A URL without a scheme is taken as http. Raises ValueError on an unparsable URL (bad port).
    """
    url = url.strip()
    if "://" not in url:
        url = "http://" + url.lstrip("/")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port is None or _DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    path = _WAP_TWIN.sub(r"\1", parts.path or "/")
    path = _INDEX_PAGE.sub("/", path)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in _TRACKING
    ]
    return urlunsplit((scheme, netloc, path or "/", urlencode(sorted(query)), ""))


def version_id(url: str) -> str:
    """`v` + 16 hex digits of BLAKE2b over `canonical_url(url)`: the same page, the same id."""
    return "v" + hashlib.blake2b(canonical_url(url).encode("utf-8"), digest_size=8).hexdigest()


def dedupe_rows(rows: Sequence[Mapping[str, Any]], index: StoryIndex | None = None) -> list[dict]:
    """Copies of `rows` with `story_id` added, in input order; no row is dropped.

    Rows need `id`, `body` and `published_at` (others are passed through). Without an index the
    rows are clustered among themselves (an in-memory index, default 30-day window); with one,
    they are folded into it (the caller saves it).
    """
    index = index if index is not None else StoryIndex.memory()
    ids = index.assign(rows)
    return [dict(row, story_id=sid) for row, sid in zip(rows, ids, strict=True)]


def _lead_names_outlet(row: Mapping[str, Any]) -> bool:
    name = row.get("outlet_name")
    if not name:
        return False
    lead = row.get("lead") or (row.get("body") or "")[:40]
    return lead.lstrip().startswith((f"{name}讯", f"{name}訊", f"{name}电"))


def is_originating(row: Mapping[str, Any]) -> bool:
    """True if the version comes from the outlet that wrote the story.

    That is: its `source_outlet` equals its own `outlet_name`, or it is a paper (`kind` or
    `outlet_kind` == "paper"), or its lead names its own outlet (`新渝报讯…` on 新渝报).
    """
    name = row.get("outlet_name")
    if name and row.get("source_outlet") == name:
        return True
    if (row.get("kind") or row.get("outlet_kind")) == "paper":
        return True
    return _lead_names_outlet(row)


def _published_key(row: Mapping[str, Any]) -> tuple[int, float]:
    """Sort key: known instants first, in time order (a naive value is Asia/Shanghai time)."""
    value = row.get("published_at")
    if value is None or value == "":
        return (1, 0.0)
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return (0, (value if value.tzinfo else value.replace(tzinfo=TZ)).timestamp())
    return (0, float(day_number(value) or 0) * 86400)


def choose_canonical(versions: Sequence[Mapping[str, Any]]) -> dict:
    """The version that stands for the story. Deterministic, whatever the input order.

    Rule, first difference wins: (1) the originating outlet's version (`is_originating`);
    (2) the most complete text (longest body); (3) the earliest `published_at` (unknown last);
    (4) the smallest `id`. Raises ValueError on an empty list.
    """
    if not versions:
        raise ValueError("choose_canonical needs at least one version")
    best = min(
        versions,
        key=lambda v: (
            not is_originating(v),
            -len(v.get("body") or ""),
            _published_key(v),
            str(v.get("id")),
        ),
    )
    return dict(best)
