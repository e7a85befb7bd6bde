"""Writing the lake: atomic, idempotent partition rewrites.

A partition is exactly one file, `<dataset>/district=<slug>/date=<YYYY-MM-DD>/data.parquet`.
It is rewritten by writing a hidden temporary file beside it (readers and hive discovery skip
names starting with `.`), flushing it to disk and `os.replace`-ing it over the old file: a reader,
or a process killed at any instant, sees the old partition or the new one, never a mix.

Partition values are validated here, at the only place that turns them into paths: a district
must be a registry slug and a date a real calendar date, so no input can write outside the lake.

The lake may also be a URI on another filesystem (`s3://bucket/lake`, see `quxian.lakefs`): every
function here takes a local `Path` (the behaviour above, unchanged) or a URI string or a
`lakefs.Location`. On an object store a partition is still one object, written by one PUT
(the object appears whole at the end of the upload or not at all, so no temporary is needed);
on other remote filesystems a hidden temporary is written and moved over the target.
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
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from quxian import lakefs
from transforms.schema import DATASETS

PARTITION_FILE = "data.parquet"
_SLUG = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
# Object stores whose single-object PUT is atomic: written in place, no temporary and move.
_ATOMIC_PUT_FS = ("s3", "gcs")

Lake = Path | str | lakefs.Location


class LakeBusy(RuntimeError):
    """Another process holds the lake lock."""


class BadPartition(ValueError):
    """A district or date that cannot name a partition."""


def partition_key(dataset: str, district: str, day: date) -> tuple[str, str, str]:
    """The path components of one partition under the lake root; raises BadPartition for
    anything but a known dataset, a slug and a date."""
    if dataset not in DATASETS:
        raise BadPartition(f"unknown dataset {dataset!r}")
    if not isinstance(district, str) or not _SLUG.match(district):
        raise BadPartition(f"district {district!r} is not a registry slug")
    if not isinstance(day, date):
        raise BadPartition(f"partition date {day!r} is not a date")
    return dataset, f"district={district}", f"date={day.isoformat()}"


def _local(lake: Lake) -> Path | None:
    """The local root when the lake is on the local filesystem, else None."""
    if isinstance(lake, lakefs.Location):
        return Path(lake.root) if lake.is_local else None
    return lakefs.local_path(lake) if lakefs.is_local_uri(lake) else None


def partition_dir(lake: Lake, dataset: str, district: str, day: date) -> Path:
    """The local directory of one partition; raises BadPartition for anything but a slug and a
    date, LakeURIError for a remote lake (use `partition_url`)."""
    key = partition_key(dataset, district, day)
    root = _local(lake)
    if root is None:
        raise lakefs.LakeURIError(f"{lake!r} is not a local lake: use partition_url()")
    return root.joinpath(*key)


def partition_url(lake: Lake, dataset: str, district: str, day: date) -> str:
    """The URI of one partition's file, local or remote (for readers and messages)."""
    return lakefs.resolve(lake).url(*partition_key(dataset, district, day), PARTITION_FILE)


def read_partition(
    lake: Lake, dataset: str, district: str, day: date, columns: list[str] | None = None
) -> pa.Table:
    """The partition's rows (an empty table with the schema when it does not exist); only
    `columns` when given (the schema's own order is kept)."""
    schema = DATASETS[dataset]
    if columns is not None:
        unknown = set(columns) - set(schema.names)
        if unknown:
            raise ValueError(f"{dataset} has no column {sorted(unknown)}")
        schema = pa.schema([f for f in schema if f.name in set(columns)])
    root = _local(lake)
    if root is None:
        loc = lakefs.resolve(lake)
        path = loc.join(*partition_key(dataset, district, day), PARTITION_FILE)
        if loc.fs.get_file_info(path).type != pafs.FileType.File:
            return schema.empty_table()
        return pq.read_table(path, schema=schema, columns=schema.names, filesystem=loc.fs)
    path = partition_dir(root, dataset, district, day) / PARTITION_FILE
    if not path.exists():
        return schema.empty_table()
    return pq.read_table(path, schema=schema, columns=schema.names)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_partition(lake: Lake, dataset: str, district: str, day: date, table: pa.Table) -> Path | str | None:
    """Replace one partition with `table` atomically; an empty table removes the partition.

    `table` must have the dataset's schema (partition columns excluded). Returns the file written
    (a Path on a local lake, the file's URI on a remote one), or None when the partition was removed.
    """
    schema = DATASETS[dataset]
    if not table.schema.equals(schema, check_metadata=False):
        table = table.select(schema.names).cast(schema)
    root = _local(lake)
    if root is None:
        return _write_remote(lakefs.resolve(lake), dataset, district, day, table)
    directory = partition_dir(root, dataset, district, day)
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


def _write_remote(
    loc: lakefs.Location, dataset: str, district: str, day: date, table: pa.Table
) -> str | None:
    key = partition_key(dataset, district, day)
    target = loc.join(*key, PARTITION_FILE)
    if table.num_rows == 0:
        if loc.fs.get_file_info(target).type == pafs.FileType.File:
            loc.fs.delete_file(target)
        return None
    # Serialise first, so that a failure while encoding never opens (and on close, commits) a
    # half-written object: the upload below sends complete bytes or fails.
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    payload = sink.getvalue()
    if loc.fs.type_name in _ATOMIC_PUT_FS:
        with loc.fs.open_output_stream(target) as out:
            out.write(payload)
    else:
        lakefs.ensure_dir(loc, loc.join(*key))
        tmp = loc.join(*key, f".{PARTITION_FILE}.{os.getpid()}.tmp")
        with loc.fs.open_output_stream(tmp) as out:
            out.write(payload)
        loc.fs.move(tmp, target)
    return loc.url(*key, PARTITION_FILE)


def _remote_files(loc: lakefs.Location, base: str) -> Iterator[tuple[str, ...]]:
    """Path components (relative to `base`) of every file under `base` on a remote lake."""
    selector = pafs.FileSelector(base, recursive=True, allow_not_found=True)
    for info in loc.fs.get_file_info(selector):
        if info.type == pafs.FileType.File:
            yield tuple(info.path[len(base) :].strip("/").split("/"))


def list_partitions(lake: Lake, dataset: str) -> list[tuple[str, date]]:
    """(district, date) of every partition of a dataset, sorted."""
    root = _local(lake)
    out = []
    if root is None:
        loc = lakefs.resolve(lake)
        for parts in _remote_files(loc, loc.join(dataset)):
            if len(parts) == 3 and parts[2] == PARTITION_FILE and parts[0].startswith("district="):
                district = parts[0].removeprefix("district=")
                out.append((district, date.fromisoformat(parts[1].removeprefix("date="))))
        return sorted(out)
    for f in (root / dataset).glob(f"district=*/date=*/{PARTITION_FILE}"):
        district = f.parent.parent.name.removeprefix("district=")
        out.append((district, date.fromisoformat(f.parent.name.removeprefix("date="))))
    return sorted(out)


def sweep_temporaries(lake: Lake) -> int:
    """Remove temporary files left by a killed writer; returns how many."""
    n = 0
    root = _local(lake)
    if root is None:
        loc = lakefs.resolve(lake)
        for parts in list(_remote_files(loc, loc.root)):
            name = parts[-1]
            if len(parts) == 4 and name.startswith(f".{PARTITION_FILE}.") and name.endswith(".tmp"):
                loc.fs.delete_file(loc.join(*parts))
                n += 1
        return n
    for f in root.glob(f"*/district=*/date=*/.{PARTITION_FILE}.*.tmp"):
        f.unlink(missing_ok=True)
        n += 1
    return n


@contextmanager
def lake_lock(lake: Lake, *, wait: bool = False) -> Iterator[None]:
    """Hold the lake's writer lock. Raises LakeBusy at once when another writer has it and
    `wait` is False. On a local lake the lock is a kernel lock on a file: it dies with its
    process. A remote lake has no kernel to lock it: the lock is a named lock of
    `quxian.cluster.named_lock` (Redis, the Celery broker, when `QUXIAN_LOCK_URL` is set, so it
    holds across machines; else a kernel lock on this machine), keyed by the lake's URI."""
    local = _local(lake)
    if local is None:
        from quxian.cluster import LockBusy, named_lock

        uri = lakefs.resolve(lake).uri
        try:
            with named_lock(f"lake:{uri}", wait=wait):
                yield
        except LockBusy as e:
            raise LakeBusy(f"the lake at {uri} is being written by another run ({e.holder})") from None
        return
    lake = local
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
