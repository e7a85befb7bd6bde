"""Test settings: every test run gets its own data folder and Airflow home, never ~/airflow."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Before anything imports airflow (importing it with AIRFLOW_HOME unset creates ~/airflow).
_SESSION_TMP = Path(tempfile.mkdtemp(prefix="quxian-tests-"))
os.environ.setdefault("AIRFLOW_HOME", str(_SESSION_TMP / "airflow"))
os.environ.setdefault("QUXIAN_DATA", str(_SESSION_TMP / "data"))
os.environ.pop("QUXIAN_OFFLINE_URL", None)

from quxian.airflowenv import airflow_env  # noqa: E402

os.environ.update({k: v for k, v in airflow_env().items() if k.startswith("AIRFLOW")})


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty QUXIAN_DATA for one test."""
    d = tmp_path / "data"
    monkeypatch.setenv("QUXIAN_DATA", str(d))
    return d


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    from quxian.config import shared_dir

    d = shared_dir()
    if not (d / "seeds").is_dir():
        pytest.fail(f"../shared is missing at {d}: tests read the seed and corpus from there")
    return d
