"""Writing the lake: atomic, idempotent partition rewrites.

A partition is exactly one file, `<dataset>/district=<slug>/date=<YYYY-MM-DD>/data.parquet`.
It is rewritten by writing a hidden temporary file beside it (readers and hive discovery skip
names starting with `.`), flushing it to disk and `os.replace`-ing it over the old file: a reader,
or a process killed at any instant, sees the old partition or the new one, never a mix.

Partition values are validated here, at the only place that turns them into paths: a district
must be a registry slug and a date a real calendar date, so no input can write outside the lake.
"""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from transforms.schema import DATASETS

PARTITION_FILE = "data.parquet"
_SLUG = re.compile(r"^[a-z][a-z0-9_]{1,31}$")


class LakeBusy(RuntimeError):
    """Another process holds the lake lock."""


class BadPartition(ValueError):
    """A district or date that cannot name a partition."""


def partition_dir(lake: Path, dataset: str, district: str, day: date) -> Path:
    """The directory of one partition; raises BadPartition for anything but a slug and a date."""
    if dataset not in DATASETS:
        raise BadPartition(f"unknown dataset {dataset!r}")
    if not isinstance(district, str) or not _SLUG.match(district):
        raise BadPartition(f"district {district!r} is not a registry slug")
    if not isinstance(day, date):
        raise BadPartition(f"partition date {day!r} is not a date")
    return lake / dataset / f"district={district}" / f"date={day.isoformat()}"


def read_partition(lake: Path, dataset: str, district: str, day: date) -> pa.Table:
    """The partition's rows (an empty table with the schema when it does not exist)."""
    path = partition_dir(lake, dataset, district, day) / PARTITION_FILE
    schema = DATASETS[dataset]
    if not path.exists():
        return schema.empty_table()
    return pq.read_table(path, schema=schema)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_partition(lake: Path, dataset: str, district: str, day: date, table: pa.Table) -> Path | None:
    """Replace one partition with `table` atomically; an empty table removes the partition.

    `table` must have the dataset's schema (partition columns excluded). Returns the file written,
    or None when the partition was removed.
    """
    schema = DATASETS[dataset]
    if not table.schema.equals(schema, check_metadata=False):
        table = table.select(schema.names).cast(schema)
    directory = partition_dir(lake, dataset, district, day)
    target = directory / PARTITION_FILE
    if table.num_rows == 0:
        if target.exists():
            target.unlink()
            _fsync_dir(directory)
        return None
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{PARTITION_FILE}.{os.getpid()}.tmp"
    with open(tmp, "wb") as fh:
        pq.write_table(table, fh, compression="zstd")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    _fsync_dir(directory)
    return target


def list_partitions(lake: Path, dataset: str) -> list[tuple[str, date]]:
    """(district, date) of every partition of a dataset, sorted."""
    root = lake / dataset
    out = []
    for f in root.glob(f"district=*/date=*/{PARTITION_FILE}"):
        district = f.parent.parent.name.removeprefix("district=")
        out.append((district, date.fromisoformat(f.parent.name.removeprefix("date="))))
    return sorted(out)


def sweep_temporaries(lake: Path) -> int:
    """Remove temporary files left by a killed writer; returns how many."""
    n = 0
    for f in lake.glob(f"*/district=*/date=*/.{PARTITION_FILE}.*.tmp"):
        f.unlink(missing_ok=True)
        n += 1
    return n


@contextmanager
def lake_lock(lake: Path, *, wait: bool = False) -> Iterator[None]:
    """Hold the lake's writer lock. Raises LakeBusy at once when another writer has it and
    `wait` is False. The lock is a kernel lock on a file: it dies with its process."""
    lake.mkdir(parents=True, exist_ok=True)
    fh = open(lake / ".lock", "a+")
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "unknown"
            raise LakeBusy(f"the lake at {lake} is being written by another run ({holder})") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}\n")
        fh.flush()
        yield
    finally:
        fh.close()
