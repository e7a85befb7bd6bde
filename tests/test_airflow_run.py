"""A real Airflow run of the nightly DAG (`airflow dags test`, SQLite) over the offline sites."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from quxian.airflowenv import airflow_env
from quxian.cli import OfflineSites
from quxian.config import CHECKOUT

AIRFLOW = str(Path(sys.executable).with_name("airflow"))


@pytest.fixture(scope="module")
def airflow_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("airflow")
    with OfflineSites() as url:
        env = airflow_env(
            {
                "AIRFLOW_HOME": str(tmp / "home"),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp / 'home' / 'airflow.db'}",
                "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(tmp / "home" / "logs"),
                "QUXIAN_DATA": str(tmp / "data"),
                "QUXIAN_OFFLINE_URL": url,
                "QUXIAN_CRAWL_RETRIES": "0",
            }
        )
        subprocess.run(
            [AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, cwd=CHECKOUT, timeout=300
        )
        # wzsb (万州时报) is a real registry outlet the offline sites do not serve: its crawl
        # must fail its own task while the others are published.
        conf = json.dumps({"outlets": ["ccrb", "xinyubao", "wzsb"]})
        proc = subprocess.run(
            [AIRFLOW, "dags", "test", "-c", conf, "quxian_nightly", "2025-11-15T02:00:00+08:00"],
            env=env,
            capture_output=True,
            text=True,
            cwd=CHECKOUT,
            timeout=600,
        )
    return {"proc": proc, "data": tmp / "data"}


def test_the_nightly_run_publishes_the_day_before(airflow_run):
    data = airflow_run["data"]
    summary = json.loads((data / "runs" / "2025-11-14" / "summary.json").read_text(encoding="utf-8"))
    assert summary["dates"] == ["2025-11-14", "2025-11-14"]
    con = duckdb.connect()
    rows = con.execute(
        f"SELECT outlet, count(*) FROM read_parquet('{data}/lake/article_versions/*/*/*.parquet', hive_partitioning = true) "
        "WHERE date = '2025-11-14' GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert [r[0] for r in rows] == ["ccrb", "xinyubao"]
    assert all(n >= 5 for _, n in rows)


def test_the_run_leased_its_data_date_and_gave_it_back(airflow_run):
    log = airflow_run["proc"].stdout + airflow_run["proc"].stderr
    assert "data dates 2025-11-14 leased to dag:quxian_nightly:" in log
    assert "data dates 2025-11-14 released by dag:quxian_nightly:" in log
    # The lease is gone: a `quxian run` of the date may start at once.
    assert not (airflow_run["data"] / "locks" / "dates" / "2025-11-14.json").exists()
    assert (airflow_run["data"] / "locks" / "dates").is_dir()


def test_a_failed_outlet_fails_its_task_and_is_reported(airflow_run):
    data = airflow_run["data"]
    summary = json.loads((data / "runs" / "2025-11-14" / "summary.json").read_text(encoding="utf-8"))
    assert summary["failed_outlets"] == ["wzsb"]
    log = airflow_run["proc"].stdout + airflow_run["proc"].stderr
    assert "outlet wzsb" in log and "no article fetched" in log
