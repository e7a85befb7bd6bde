from __future__ import annotations

import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from lakerows import quarantine_rows as _rows

from transforms import publish
from transforms.schema import QUARANTINE, to_table


def test_partition_round_trip_through_duckdb(tmp_path: Path):
    day = date(2025, 11, 14)
    path = publish.write_partition(tmp_path, "quarantine", "dazu", day, to_table(_rows(3), QUARANTINE))
    assert path == tmp_path / "quarantine" / "district=dazu" / "date=2025-11-14" / "data.parquet"
    con = duckdb.connect()
    got = con.execute(
        f"SELECT district, date, count(*), min(fetched_at) FROM read_parquet('{tmp_path}/quarantine/**/*.parquet', "
        "hive_partitioning = true) GROUP BY ALL"
    ).fetchall()
    assert got[0][0] == "dazu" and got[0][1] == day and got[0][2] == 3
    assert got[0][3].utcoffset().total_seconds() in (0, 8 * 3600)  # an instant, whatever session zone
    assert publish.list_partitions(tmp_path, "quarantine") == [("dazu", day)]


def test_rewrite_replaces_and_empty_removes(tmp_path: Path):
    day = date(2025, 11, 14)
    publish.write_partition(tmp_path, "quarantine", "dazu", day, to_table(_rows(3), QUARANTINE))
    publish.write_partition(tmp_path, "quarantine", "dazu", day, to_table(_rows(1, "moved"), QUARANTINE))
    t = publish.read_partition(tmp_path, "quarantine", "dazu", day)
    assert t.column("reason").to_pylist() == ["moved"]
    assert publish.write_partition(tmp_path, "quarantine", "dazu", day, QUARANTINE.empty_table()) is None
    assert publish.list_partitions(tmp_path, "quarantine") == []


@pytest.mark.parametrize("district", ["../etc", "Dazu", "", "dazu/../../x", "a" * 40, None])
def test_crafted_districts_cannot_name_a_path(tmp_path: Path, district):
    with pytest.raises(publish.BadPartition):
        publish.partition_dir(tmp_path, "quarantine", district, date(2025, 11, 14))


def test_crafted_dates_and_datasets_are_refused(tmp_path: Path):
    with pytest.raises(publish.BadPartition):
        publish.partition_dir(tmp_path, "quarantine", "dazu", "2025-11-14/../../x")
    with pytest.raises(publish.BadPartition):
        publish.partition_dir(tmp_path, "../x", "dazu", date(2025, 11, 14))


def test_leftover_temporary_is_invisible_and_swept(tmp_path: Path):
    day = date(2025, 11, 14)
    target = publish.write_partition(tmp_path, "quarantine", "dazu", day, to_table(_rows(2), QUARANTINE))
    junk = target.parent / ".data.parquet.999.tmp"
    junk.write_bytes(b"PAR1 half a file")
    got = duckdb.connect().execute(
        f"SELECT count(*) FROM read_parquet('{tmp_path}/quarantine/*/*/*.parquet', hive_partitioning = true)"
    ).fetchone()
    assert got == (2,)
    assert publish.sweep_temporaries(tmp_path) == 1
    assert not junk.exists()
    assert pq.read_table(target).num_rows == 2


def test_second_writer_is_refused_with_a_message(tmp_path: Path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from transforms.publish import lake_lock\n"
            f"with lake_lock(Path({str(tmp_path)!r})):\n    print('held', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(publish.LakeBusy, match=f"pid {holder.pid}"):
            with publish.lake_lock(tmp_path):
                pass
    finally:
        holder.kill()
        holder.wait()
    # The kernel drops the lock with the process: the next writer gets it.
    deadline = time.monotonic() + 5
    while True:
        try:
            with publish.lake_lock(tmp_path):
                break
        except publish.LakeBusy:
            assert time.monotonic() < deadline
            time.sleep(0.05)
