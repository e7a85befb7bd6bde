"""The environment Airflow runs in for this checkout: embedded defaults, nothing in ~/airflow.

SQLite metadata database and logs under `<checkout>/.airflow` (ignored by git), the DAG folder
`dags/`, no example DAGs. Importing airflow with AIRFLOW_HOME unset would create ~/airflow, so
every command that starts Airflow goes through `airflow_env()`.
"""

from __future__ import annotations

import os
from pathlib import Path

from quxian import config


def airflow_home() -> Path:
    return Path(os.environ.get("AIRFLOW_HOME", config.CHECKOUT / ".airflow")).resolve()


def airflow_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """os.environ plus the Airflow settings of this checkout (explicit AIRFLOW_* values win)."""
    home = airflow_home()
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    defaults = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(config.CHECKOUT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
    }
    for k, v in defaults.items():
        env.setdefault(k, v)
    env.update(extra or {})
    return env
