"""The item a crawl writes: one raw article page (design.md, "Raw page items")."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RawPage:
    """One fetched article page, as the site served it, plus what its template says.

    `url` is always the real URL (never the offline server's). `fetched_at` is ISO 8601 in +08:00.
    `edition_date` is set for e-papers only; `list_date` is the date shown beside the link on a list
    page. `warc_file`/`warc_offset` locate the response record in the raw archive.
    """

    url: str
    outlet: str
    district: str
    platform: str
    fetched_at: str
    status: int
    encoding: str
    html: str
    edition_date: str | None = None
    page_label: str | None = None
    pre_title: str | None = None
    title: str | None = None
    sub_title: str | None = None
    author_line: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
    list_date: str | None = None
    warc_file: str | None = None
    warc_offset: int | None = None
