"""The lake's datasets: one Arrow schema each, defined here and nowhere else.

The writer, the validator, the staging files and `docs/analysts.md` all follow these schemas.
Partition columns (`district`, `date`) live in the directory names
(`district=<slug>/date=<YYYY-MM-DD>/data.parquet`), not in the files, so DuckDB, pandas, Polars
and Spark all add them from the path with hive partitioning.

Timestamps are `timestamp[us, tz=+08:00]`: the papers publish on Beijing time and analysts
compare against it; a fixed offset (rather than a zone name) reads the same in every engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import pyarrow as pa

TS = pa.timestamp("us", tz="+08:00")
NAMES = pa.list_(pa.string())

PARTITION_COLUMNS = ("district", "date")

# Every cleaned page, one row per canonical URL.
ARTICLE_VERSIONS = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("story_id", pa.string(), nullable=False),
        pa.field("url", pa.string(), nullable=False),
        pa.field("canonical_url", pa.string(), nullable=False),
        pa.field("outlet", pa.string(), nullable=False),
        pa.field("outlet_name", pa.string()),
        pa.field("outlet_kind", pa.string()),
        pa.field("platform", pa.string()),
        pa.field("district_name", pa.string()),
        pa.field("pre_title", pa.string()),
        pa.field("title", pa.string()),
        pa.field("sub_title", pa.string()),
        pa.field("body", pa.string()),
        pa.field("lead", pa.string()),
        pa.field("source_outlet", pa.string()),
        pa.field("source", pa.string()),
        pa.field("reporters", NAMES),
        pa.field("trainee_reporters", NAMES),
        pa.field("correspondents", NAMES),
        pa.field("photographers", NAMES),
        pa.field("editors", NAMES),
        pa.field("published_at", TS),
        pa.field("event_date", pa.date32()),
        pa.field("edition_date", pa.date32()),
        pa.field("page_label", pa.string()),
        pa.field("fetched_at", TS),
        pa.field("extractor", pa.string()),
        pa.field("repairs", NAMES),
        pa.field("is_mirror_copy", pa.bool_()),
        pa.field("char_count", pa.int32()),
        pa.field("content_hash", pa.string()),
        pa.field("warc_file", pa.string()),
        pa.field("warc_offset", pa.int64()),
    ]
)

# One row per story: its canonical version plus where else it ran.
ARTICLES = pa.schema(
    [
        pa.field("story_id", pa.string(), nullable=False),
        pa.field("canonical_version_id", pa.string(), nullable=False),
        pa.field("url", pa.string(), nullable=False),
        pa.field("outlet", pa.string(), nullable=False),
        pa.field("outlet_name", pa.string()),
        pa.field("district_name", pa.string()),
        pa.field("pre_title", pa.string()),
        pa.field("title", pa.string()),
        pa.field("sub_title", pa.string()),
        pa.field("body", pa.string()),
        pa.field("lead", pa.string()),
        pa.field("source_outlet", pa.string()),
        pa.field("reporters", NAMES),
        pa.field("trainee_reporters", NAMES),
        pa.field("correspondents", NAMES),
        pa.field("photographers", NAMES),
        pa.field("editors", NAMES),
        pa.field("published_at", TS),
        pa.field("event_date", pa.date32()),
        pa.field("first_published_at", TS),
        pa.field("last_published_at", TS),
        pa.field("version_count", pa.int32(), nullable=False),
        pa.field("outlets", NAMES),
        pa.field("urls", NAMES),
        pa.field("char_count", pa.int32()),
    ]
)

# What could not become a row, and why; `warc_file`/`warc_offset` point into the raw archive.
QUARANTINE = pa.schema(
    [
        pa.field("url", pa.string(), nullable=False),
        pa.field("outlet", pa.string(), nullable=False),
        pa.field("stage", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("detail", pa.string()),
        pa.field("fetched_at", TS),
        pa.field("http_status", pa.int32()),
        pa.field("warc_file", pa.string()),
        pa.field("warc_offset", pa.int64()),
    ]
)

DATASETS: dict[str, pa.Schema] = {
    "article_versions": ARTICLE_VERSIONS,
    "articles": ARTICLES,
    "quarantine": QUARANTINE,
}

# Staging rows carry the partition columns too (they are dropped when a partition is written).
STAGING_EXTRA = [
    pa.field("district", pa.string(), nullable=False),
    pa.field("date", pa.date32(), nullable=False),
]


def staging_schema(dataset: str) -> pa.Schema:
    """The dataset's schema plus the partition columns, for files under `data/runs/`."""
    schema = DATASETS[dataset]
    for f in STAGING_EXTRA:
        schema = schema.append(f)
    return schema


def _coerce(value: Any, typ: pa.DataType) -> Any:
    if value is None:
        return None
    if pa.types.is_timestamp(typ) and isinstance(value, str):
        return datetime.fromisoformat(value)
    if pa.types.is_date(typ):
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, str):
            return date.fromisoformat(value[:10])
    if pa.types.is_list(typ):
        return list(value)
    return value


def to_table(rows: Iterable[Mapping[str, Any]], schema: pa.Schema) -> pa.Table:
    """Build a table with exactly `schema`'s columns from dict rows (extra keys ignored).

    Raises `pyarrow.ArrowInvalid`/`TypeError` naming the column when a value has the wrong type,
    and `ValueError` when a non-nullable column is missing.
    """
    rows = list(rows)
    columns = {}
    for f in schema:
        values = [_coerce(r.get(f.name), f.type) for r in rows]
        if not f.nullable and any(v is None for v in values):
            raise ValueError(f"column {f.name!r} must not be null")
        try:
            columns[f.name] = pa.array(values, type=f.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as e:
            raise TypeError(f"column {f.name!r}: {e}") from e
    return pa.Table.from_pydict(columns, schema=schema)
