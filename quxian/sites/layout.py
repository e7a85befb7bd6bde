"""Helpers the platform renderers share: grouping by day, list pagination, 版面 splitting."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from itertools import groupby
from typing import TypeVar

from quxian.sites.build import Article

T = TypeVar("T")


def by_day(articles: Iterable[Article]) -> dict[date, list[Article]]:
    return {
        d: list(g) for d, g in groupby(sorted(articles, key=lambda a: (a.day, a.slot)), key=lambda a: a.day)
    }


def newest_first(articles: Iterable[Article]) -> list[Article]:
    return sorted(articles, key=lambda a: (a.day, a.time, a.number), reverse=True)


def chunks(items: list[T], size: int) -> list[list[T]]:
    """Split into pages of `size`; an empty list still makes one (empty) page."""
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]


def split_pages(items: list[T], min_pages: int, per_page: int) -> list[list[T]]:
    """Spread one day's articles over 版面: at least `min_pages`, about `per_page` each, in order."""
    n_pages = max(min_pages, -(-len(items) // per_page))
    base, extra = divmod(len(items), n_pages)
    out, start = [], 0
    for i in range(n_pages):
        size = base + (1 if i < extra else 0)
        out.append(items[start : start + size])
        start += size
    return out


def list_page_name(index: int) -> str:
    """TRS-style pagination: index.html, index_1.html, index_2.html, …"""
    return "index.html" if index == 0 else f"index_{index}.html"
