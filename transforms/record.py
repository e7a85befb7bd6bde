"""The record that extraction hands to cleaning."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass
class Extracted:
    """What a page says, as the page says it: not yet cleaned, possibly Traditional or damaged.

    `extractor` names the path that produced it (`platform:<name>` or `generic:<library>`), so a
    template change shows up as a shift from platform rules to the generic path.
    """

    title: str | None = None
    pre_title: str | None = None
    sub_title: str | None = None
    paragraphs: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    author_line: str | None = None
    source: str | None = None
    page_label: str | None = None
    edition_date: date | None = None
    extractor: str = "none"
    is_article: bool = True
    reason: str | None = None
