"""DuckDB over the lake: one view per dataset, named after it, with hive partition columns."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import duckdb

from quxian import config, lakefs
from transforms.publish import PARTITION_FILE, list_partitions
from transforms.schema import DATASETS

_DUCK_TYPES = {
    "string": "VARCHAR",
    "bool": "BOOLEAN",
    "int32": "INTEGER",
    "int64": "BIGINT",
    "date32[day]": "DATE",
    "timestamp[us, tz=+08:00]": "TIMESTAMPTZ",
    "list<item: string>": "VARCHAR[]",
}


def _empty_view_sql(name: str) -> str:
    cols = ", ".join(f"NULL::{_DUCK_TYPES[str(f.type)]} AS {f.name}" for f in DATASETS[name])
    return f"CREATE OR REPLACE VIEW {name} AS SELECT NULL::VARCHAR AS district, NULL::DATE AS date, {cols} WHERE false"


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _httpfs_binary() -> Path | None:
    """The httpfs extension file of the `duckdb-extension-httpfs` package for this DuckDB, if any."""
    try:
        import duckdb_extension_httpfs
    except ImportError:
        return None
    for root in duckdb_extension_httpfs.__path__:
        found = Path(root, "extensions", f"v{duckdb.__version__}", "httpfs.duckdb_extension")
        if found.is_file():
            return found
    return None


def load_httpfs(con: duckdb.DuckDBPyConnection) -> bool:
    """Load DuckDB's httpfs extension from the installed package and create the S3 secret from
    the lake's credentials (`lakefs.s3_options`: the Airflow connection named by
    `QUXIAN_LAKE_CONN_ID`, else the AWS variables). False when this DuckDB has no packaged
    extension or no keys are given: the caller reads through pyarrow instead."""
    binary = _httpfs_binary()
    opts = lakefs.s3_options()
    if binary is None or not opts.get("access_key"):
        # No keys: the AWS SDK's own chain (profiles, instance roles), which pyarrow follows and
        # DuckDB only follows with its `aws` extension.
        return False
    con.execute(f"LOAD {_sql_str(str(binary))}")
    secret = ["TYPE s3"]
    for key, name in (("access_key", "KEY_ID"), ("secret_key", "SECRET"), ("session_token", "SESSION_TOKEN")):
        if opts.get(key):
            secret.append(f"{name} {_sql_str(str(opts[key]))}")
    secret.append(f"REGION {_sql_str(str(opts.get('region') or 'us-east-1'))}")
    if opts.get("endpoint_override"):
        # An S3 API other than AWS (MinIO, Ceph, moto): path-style URLs at that endpoint.
        secret += [
            f"ENDPOINT {_sql_str(str(opts['endpoint_override']))}",
            "URL_STYLE 'path'",
            f"USE_SSL {'false' if opts.get('scheme') == 'http' else 'true'}",
        ]
    con.execute(f"CREATE OR REPLACE SECRET quxian_lake ({', '.join(secret)})")
    return True


def connect(lake: Path | str | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with views `articles`, `article_versions`, `quarantine`.

    `lake` is a path or URI (default `config.lake_uri()`). A local lake, and an `s3://` one, are
    read with DuckDB's own hive-partitioned Parquet reader (for S3 through the `httpfs` extension
    that the `duckdb-extension-httpfs` package ships, so nothing is downloaded at run time); any
    other filesystem through a pyarrow dataset. A dataset that has no partition yet is an empty
    view with the right columns, so queries written against the schema work on an empty lake.
    """
    uri = str(lake) if lake is not None else config.lake_uri()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Asia/Shanghai'")
    if lakefs.is_local_uri(uri):
        base: str | None = str(lakefs.local_path(uri))
    elif urlsplit(uri).scheme in ("s3", "s3a") and load_httpfs(con):
        base = lakefs.resolve(uri).uri  # s3://bucket/prefix, credentials in the session's secret
    else:
        base = None
    for name in DATASETS:
        if not list_partitions(uri, name):
            con.execute(_empty_view_sql(name))
        elif base is not None:
            pattern = _sql_str(f"{base}/{name}/district=*/date=*/{PARTITION_FILE}")
            con.execute(
                f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet({pattern}, hive_partitioning = true)"
            )
        else:
            con.register(f"{name}_dataset", lakefs.dataset(uri, name))
            con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM {name}_dataset")
    return con


def lake_summary(day: date | None = None, lake: Path | str | None = None) -> list[dict]:
    """Per district and date: versions, stories, outlets and quarantined pages."""
    con = connect(lake)
    where = "WHERE date = ?" if day else ""
    params = [day, day] if day else []
    sql = f"""
        WITH v AS (SELECT district, date, count(*) AS versions, count(DISTINCT story_id) AS stories,
                          count(DISTINCT outlet) AS outlets
                   FROM article_versions {where} GROUP BY ALL),
             q AS (SELECT district, date, count(*) AS quarantined FROM quarantine {where} GROUP BY ALL)
        SELECT coalesce(v.district, q.district) AS district, coalesce(v.date, q.date) AS date,
               coalesce(versions, 0) AS versions, coalesce(stories, 0) AS stories,
               coalesce(outlets, 0) AS outlets, coalesce(quarantined, 0) AS quarantined
        FROM v FULL OUTER JOIN q USING (district, date)
        ORDER BY district, date
    """
    cur = con.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def print_result(result: duckdb.DuckDBPyConnection) -> None:
    """A query's rows as tab-separated lines under a header (nothing for a statement)."""
    if not result.description:
        return
    print("\t".join(d[0] for d in result.description))
    for row in result.fetchall():
        print("\t".join("" if v is None else str(v) for v in row))


def interactive(con: duckdb.DuckDBPyConnection) -> int:
    """A small SQL shell over the lake's views: one statement per line, `.quit` ends."""
    print("quxian query: DuckDB over the lake; views: " + ", ".join(DATASETS) + ". End with .quit or Ctrl-D.")
    while True:
        try:
            line = input("quxian> ").strip()
        except EOFError:
            print()
            return 0
        if line in (".quit", ".exit", "quit", "exit"):
            return 0
        if not line:
            continue
        try:
            print_result(con.execute(line))
        except duckdb.Error as e:
            print(f"error: {str(e).splitlines()[0]}", file=sys.stderr)
