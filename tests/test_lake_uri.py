"""The lake on object storage: `transforms.publish` over a real S3 API server on 127.0.0.1.

`moto_server` (moto's standalone S3 server) is started as a process for the module and stopped by
its PID; pyarrow talks to it over HTTP exactly as it would to S3 or MinIO. Nothing is mocked in
this process.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.fs as pafs
import pytest
from lakerows import quarantine_rows as _rows

from quxian import lakefs, lakeviews
from transforms import publish
from transforms.schema import QUARANTINE, to_table

BUCKET = "quxian-lake"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "quxian-test",
    "AWS_SECRET_ACCESS_KEY": "quxian-test-secret",
    "AWS_REGION": "us-east-1",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    moto = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=open(log, "w"), stderr=subprocess.STDOUT
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # moto imports every AWS service: slow on a busy machine
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert proc.poll() is None, f"moto_server exited: {log.read_text()}"
                assert time.monotonic() < deadline, "moto_server did not listen within 90 s"
                time.sleep(0.2)
        fs = pafs.S3FileSystem(
            access_key=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            secret_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region="us-east-1",
            endpoint_override=f"127.0.0.1:{port}",
            scheme="http",
            allow_bucket_creation=True,
        )
        fs.create_dir(BUCKET)
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def s3_env(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    for k, v in CREDENTIALS.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_endpoint)
    monkeypatch.delenv("QUXIAN_LAKE_CONN_ID", raising=False)
    return s3_endpoint


def _uri(request: pytest.FixtureRequest) -> str:
    # One prefix per test: tests share the bucket, never a lake.
    return f"s3://{BUCKET}/{request.node.name.replace('[', '_').replace(']', '')}/lake"


def test_local_uris_are_paths(tmp_path: Path):
    loc = lakefs.resolve(f"file://{tmp_path}/lake")
    assert loc.is_local and loc.root == f"{tmp_path}/lake"
    day = date(2025, 11, 14)
    written = publish.write_partition(
        f"file://{tmp_path}/lake", "quarantine", "dazu", day, to_table(_rows(2), QUARANTINE)
    )
    assert written == tmp_path / "lake" / "quarantine" / "district=dazu" / "date=2025-11-14" / "data.parquet"
    assert publish.list_partitions(tmp_path / "lake", "quarantine") == [("dazu", day)]


def test_partitions_round_trip_on_s3(s3_env: str, request: pytest.FixtureRequest):
    uri = _uri(request)
    d1, d2 = date(2025, 11, 14), date(2025, 11, 15)
    url = publish.write_partition(uri, "quarantine", "dazu", d1, to_table(_rows(3), QUARANTINE))
    publish.write_partition(uri, "quarantine", "wanzhou", d2, to_table(_rows(1), QUARANTINE))
    assert url == f"{uri}/quarantine/district=dazu/date=2025-11-14/data.parquet"
    assert publish.list_partitions(uri, "quarantine") == [("dazu", d1), ("wanzhou", d2)]
    assert publish.read_partition(uri, "quarantine", "dazu", d1).num_rows == 3
    assert publish.read_partition(uri, "quarantine", "dazu", d2).num_rows == 0  # absent → empty
    # The object is really in the bucket, one object per partition, nothing beside it.
    loc = lakefs.resolve(uri)
    keys = sorted(
        i.path for i in loc.fs.get_file_info(pafs.FileSelector(loc.root, recursive=True)) if i.is_file
    )
    assert keys == [
        f"{loc.root}/quarantine/district=dazu/date=2025-11-14/data.parquet",
        f"{loc.root}/quarantine/district=wanzhou/date=2025-11-15/data.parquet",
    ]


@pytest.mark.parametrize("where", ["local", "s3"])
def test_read_partition_of_some_columns(
    where: str, s3_env: str, request: pytest.FixtureRequest, tmp_path: Path
):
    uri = _uri(request) if where == "s3" else str(tmp_path / "lake")
    day = date(2025, 11, 14)
    publish.write_partition(uri, "quarantine", "dazu", day, to_table(_rows(2), QUARANTINE))
    got = publish.read_partition(uri, "quarantine", "dazu", day, columns=["url", "outlet"])
    assert got.column_names == ["url", "outlet"] and got.num_rows == 2
    assert publish.read_partition(uri, "quarantine", "wanzhou", day, columns=["url"]).column_names == ["url"]
    with pytest.raises(ValueError, match="no column"):
        publish.read_partition(uri, "quarantine", "dazu", day, columns=["nope"])


def test_rewrite_replaces_and_empty_removes_on_s3(s3_env: str, request: pytest.FixtureRequest):
    uri = _uri(request)
    day = date(2025, 11, 14)
    publish.write_partition(uri, "quarantine", "dazu", day, to_table(_rows(3), QUARANTINE))
    publish.write_partition(uri, "quarantine", "dazu", day, to_table(_rows(1, "moved"), QUARANTINE))
    assert publish.read_partition(uri, "quarantine", "dazu", day).column("reason").to_pylist() == ["moved"]
    assert publish.write_partition(uri, "quarantine", "dazu", day, QUARANTINE.empty_table()) is None
    assert publish.list_partitions(uri, "quarantine") == []


def test_crafted_partition_values_are_refused_on_s3(s3_env: str, request: pytest.FixtureRequest):
    with pytest.raises(publish.BadPartition):
        publish.write_partition(
            _uri(request), "quarantine", "../x", date(2025, 11, 14), to_table(_rows(1), QUARANTINE)
        )


def test_leftover_temporary_is_swept_and_ignored_by_readers(s3_env: str, request: pytest.FixtureRequest):
    uri = _uri(request)
    day = date(2025, 11, 14)
    publish.write_partition(uri, "quarantine", "dazu", day, to_table(_rows(2), QUARANTINE))
    loc = lakefs.resolve(uri)
    junk = loc.join("quarantine", "district=dazu", "date=2025-11-14", ".data.parquet.999.tmp")
    with loc.fs.open_output_stream(junk) as out:
        out.write(b"PAR1 half a file")
    # Readers skip hidden names: the half file is not part of the dataset.
    con = duckdb.connect()
    con.register("quarantine", lakefs.dataset(uri, "quarantine"))
    assert con.execute("SELECT district, date, count(*) FROM quarantine GROUP BY ALL").fetchall() == [
        ("dazu", day, 2)
    ]
    assert publish.sweep_temporaries(uri) == 1
    assert loc.fs.get_file_info(junk).type == pafs.FileType.NotFound
    assert publish.read_partition(uri, "quarantine", "dazu", day).num_rows == 2


def test_remote_lake_lock_refuses_a_second_writer(
    s3_env: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("QUXIAN_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.delenv("QUXIAN_LOCK_URL", raising=False)
    uri = _uri(request)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from transforms.publish import lake_lock\n"
            f"with lake_lock({uri!r}):\n    print('held', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(publish.LakeBusy, match=f"pid {holder.pid}"):
            with publish.lake_lock(uri):
                pass
    finally:
        holder.kill()
        holder.wait()
    with publish.lake_lock(uri):
        pass


def test_credentials_and_endpoint_from_an_airflow_connection(
    s3_endpoint: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
):
    # Nothing in the AWS variables: without the connection, pyarrow would go to AWS itself and fail.
    for k in (*CREDENTIALS, "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("QUXIAN_LAKE_CONN_ID", "quxian_lake")
    monkeypatch.setenv(
        "AIRFLOW_CONN_QUXIAN_LAKE",
        '{"conn_type": "aws", "login": "quxian-test", "password": "quxian-test-secret", '
        f'"extra": {{"endpoint_url": "{s3_endpoint}", "region_name": "us-east-1"}}}}',
    )
    opts = lakefs.s3_options()
    assert opts["access_key"] == "quxian-test" and opts["endpoint_override"] == s3_endpoint.removeprefix(
        "http://"
    )
    uri = _uri(request)
    day = date(2025, 11, 14)
    publish.write_partition(uri, "quarantine", "dazu", day, to_table(_rows(2), QUARANTINE))
    assert publish.list_partitions(uri, "quarantine") == [("dazu", day)]


def test_unknown_scheme_is_a_clear_error():
    with pytest.raises(lakefs.LakeURIError, match="nosuchfs"):
        lakefs.resolve("nosuchfs://bucket/lake")


def test_raw_archive_upload(s3_env: str, request: pytest.FixtureRequest, tmp_path: Path):
    src = tmp_path / "raw" / "xinyubao"
    src.mkdir(parents=True)
    (src / "a.warc.gz").write_bytes(b"WARC/1.1 one")
    (src / "sub").mkdir()
    (src / "sub" / "b.warc.gz").write_bytes(b"WARC/1.1 two")
    dest = f"s3://{BUCKET}/{request.node.name}/raw"
    written = lakefs.upload_tree(src, dest, prefix="xinyubao")
    loc = lakefs.resolve(dest)
    assert written == [loc.join("xinyubao", "a.warc.gz"), loc.join("xinyubao", "sub", "b.warc.gz")]
    with loc.fs.open_input_stream(loc.join("xinyubao", "sub", "b.warc.gz"), compression=None) as fh:
        assert fh.read() == b"WARC/1.1 two"


def _view_sources(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("SELECT view_name, sql FROM duckdb_views() WHERE NOT internal").fetchall())


def test_duckdb_reads_the_s3_lake_through_httpfs(s3_env: str, request: pytest.FixtureRequest):
    uri = _uri(request)
    d1, d2 = date(2025, 11, 14), date(2025, 11, 15)
    publish.write_partition(uri, "quarantine", "dazu", d1, to_table(_rows(3), QUARANTINE))
    publish.write_partition(uri, "quarantine", "wanzhou", d2, to_table(_rows(2, "moved"), QUARANTINE))
    loc = lakefs.resolve(uri)
    junk = loc.join("quarantine", "district=dazu", "date=2025-11-14", ".data.parquet.7.tmp")
    with loc.fs.open_output_stream(junk) as out:
        out.write(b"PAR1 half a file")
    con = lakeviews.connect(uri)
    # DuckDB's own reader over S3 (the packaged httpfs extension), not a pyarrow dataset.
    assert (
        f"read_parquet('{uri}/quarantine/district=*/date=*/data.parquet'" in _view_sources(con)["quarantine"]
    )
    assert con.execute(
        "SELECT district, date, reason, count(*) FROM quarantine GROUP BY ALL ORDER BY ALL"
    ).fetchall() == [
        ("dazu", d1, "not an article", 3),
        ("wanzhou", d2, "moved", 2),
    ]
    # Partition pruning works on the hive columns: one district's rows only.
    assert con.execute("SELECT count(*) FROM quarantine WHERE district = 'wanzhou'").fetchone() == (2,)
    # An empty dataset is still a typed, empty view.
    assert con.execute("SELECT count(*) FROM articles").fetchone() == (0,)


def test_duckdb_s3_without_keys_reads_through_pyarrow(
    s3_env: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
):
    uri = _uri(request)
    publish.write_partition(uri, "quarantine", "dazu", date(2025, 11, 14), to_table(_rows(2), QUARANTINE))
    # No keys in the environment: the AWS SDK's chain, which pyarrow follows (here: moto accepts
    # anonymous requests), so the views come from pyarrow datasets instead of httpfs.
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(k)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    con = lakeviews.connect(uri)
    assert "read_parquet" not in _view_sources(con)["quarantine"]
    assert con.execute("SELECT district, count(*) FROM quarantine GROUP BY ALL").fetchall() == [("dazu", 2)]
