"""Spark reads the lake as analysts would: `spark.read.parquet(<lake>/<dataset>)`, partition
columns discovered from the `district=`/`date=` directories, timestamps as the same instants,
and the same rows DuckDB (`quxian.lakeviews`) sees. A real local Spark (JVM) on 127.0.0.1."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from test_report import DAY, write_test_lake

from quxian.config import TZ
from quxian.lakeviews import connect

pytestmark = [
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
    pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs a Java runtime (java on PATH)"),
]


@pytest.fixture(scope="module")
def spark() -> Iterator[object]:
    from pyspark.sql import SparkSession

    # py4j logs "Closing down clientserver connection" from __del__ at interpreter exit, after
    # pytest closed the log streams: keep its chatter below INFO.
    logging.getLogger("py4j").setLevel(logging.WARNING)

    session = (
        SparkSession.builder.master("local[1]")
        .appName("quxian-test")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.session.timeZone", "Asia/Shanghai")
        .getOrCreate()
    )
    try:
        yield session
    finally:
        session.stop()


def test_spark_reads_every_dataset_with_its_partitions(spark, tmp_path: Path):
    lake = tmp_path / "lake"
    days = [DAY - timedelta(days=1), DAY]
    totals = write_test_lake(
        lake,
        days,
        {"xinyubao": 3, "dazuwang": 2, "wanzhou_gov": 2},
        shared_stories=1,
        quarantine={"dazu_gov": ["not an article", "empty body"]},
    )
    con = connect(lake)
    for name, rows in totals.items():
        df = spark.read.parquet(str(lake / name))
        types = dict(df.dtypes)
        assert types["district"] == "string" and types["date"] == "date", name
        assert df.count() == rows, name
        spark_counts = sorted(
            (r["district"], r["date"], r["count"]) for r in df.groupBy("district", "date").count().collect()
        )
        duck_counts = con.execute(
            f"SELECT district, date, count(*) FROM {name} GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        assert spark_counts == duck_counts, name


def test_spark_sees_the_same_instants_and_lists(spark, tmp_path: Path):
    lake = tmp_path / "lake"
    write_test_lake(lake, [DAY], {"xinyubao": 2, "dazuwang": 2}, shared_stories=1)
    df = spark.read.parquet(str(lake / "article_versions"))
    assert dict(df.dtypes)["published_at"] == "timestamp" and dict(df.dtypes)["reporters"] == "array<string>"
    got = {
        r["id"]: (r["published_at"], list(r["reporters"] or []))
        for r in df.select("id", "published_at", "reporters").collect()
    }
    con = connect(lake)
    want = {
        vid: (ts, list(reporters or []))
        for vid, ts, reporters in con.execute(
            "SELECT id, published_at, reporters FROM article_versions"
        ).fetchall()
    }
    assert got.keys() == want.keys() and len(got) == 4
    for vid, (ts, reporters) in want.items():
        # PySpark's collect() gives naive datetimes in the Python process's local time zone (not the
        # session's); astimezone() reads them as such. DuckDB gives aware ones.
        assert ts is not None and got[vid][0].astimezone(TZ) == ts, vid
        assert got[vid][1] == reporters, vid
