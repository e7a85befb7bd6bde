from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from quxian.config import CHECKOUT
from quxian.dagsupport import data_date, plan_from_context
from quxian.steps import StepError

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(CHECKOUT / "dags"))


def test_dags_import_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "quxian_nightly" in dagbag.dags


def test_nightly_dag_shape(dagbag):
    dag = dagbag.dags["quxian_nightly"]
    assert set(dag.task_ids) == {
        "plan",
        "outlet_ids",
        "crawl",
        "clean",
        "dedupe",
        "publish",
        "summary",
        "report",
        "release_dates",
    }
    assert dag.timetable.expression == "0 2 * * *"
    assert "Asia/Shanghai" in str(dag.timetable.timezone)
    assert dag.get_task("clean").trigger_rule == "all_done"
    assert {a.name for a in dag.get_task("publish").outlets} == {
        "quxian_articles",
        "quxian_article_versions",
        "quxian_quarantine",
    }
    # The crawl is dynamically mapped, one task instance per outlet.
    assert dag.get_task("crawl").__class__.__name__.endswith("MappedOperator")
    # Each task's dict goes on as one XCom, not one per key (a call to the api-server each).
    assert {t.task_id for t in dag.tasks if t.multiple_outputs} == set()


def test_every_task_leases_the_run_dates_and_the_last_one_gives_them_back(dagbag):
    dag = dagbag.dags["quxian_nightly"]

    def hook(t):
        return t.partial_kwargs.get("pre_execute") if hasattr(t, "partial_kwargs") else t._pre_execute_hook

    leased = {t.task_id for t in dag.tasks if hook(t) is not None and hook(t).__name__ == "_lease_dates"}
    assert leased == set(dag.task_ids) - {"release_dates"}
    release = dag.get_task("release_dates")
    assert hook(release) is None and release.trigger_rule == "all_done"
    # Downstream of every other task: it runs last, whatever happened before it.
    assert release.get_flat_relative_ids(upstream=True) == set(dag.task_ids) - {"release_dates"}


def test_dag_file_parse_imports_nothing_heavy():
    import subprocess
    import sys

    code = (
        "import sys, runpy; runpy.run_path('dags/quxian_nightly.py');"
        "heavy = [m for m in ('scrapy', 'pandas', 'pyarrow', 'duckdb', 'transforms.extract', 'quxian.steps') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=CHECKOUT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


def test_the_nightly_run_covers_the_day_before_in_shanghai():
    # 02:00 on 11-15 in Shanghai is 18:00 UTC on 11-14.
    assert data_date(datetime(2025, 11, 14, 18, 0, tzinfo=ZoneInfo("UTC")), None) == date(2025, 11, 14)
    assert data_date(datetime(2025, 11, 15, 2, 0, tzinfo=SH), None) == date(2025, 11, 14)


def test_airflow_pendulum_datetimes_resolve_the_same_way():
    import pendulum

    assert data_date(pendulum.datetime(2025, 11, 14, 18, 0, tz="UTC"), None) == date(2025, 11, 14)
    assert data_date(None, pendulum.datetime(2025, 11, 15, 1, 30, tz="UTC")) == date(2025, 11, 14)


def test_manual_runs_without_logical_date_use_run_after():
    run_after = datetime(2025, 11, 16, 9, 30, tzinfo=SH)
    assert data_date(None, run_after) == date(2025, 11, 15)
    plan = plan_from_context(
        {"logical_date": None, "dag_run": SimpleNamespace(run_after=run_after), "params": {}}
    )
    assert (plan.date_from, plan.date_to) == (date(2025, 11, 15), date(2025, 11, 15))
    with pytest.raises(StepError):
        data_date(None, None)


def test_params_give_a_backfill_range():
    plan = plan_from_context(
        {
            "logical_date": None,
            "params": {"date_from": "2025-11-13", "date_to": "2025-11-15", "outlets": ["ccrb"]},
        }
    )
    assert plan.run_key == "2025-11-13_2025-11-15"
    assert plan.outlets == ["ccrb"]
    assert plan.crawl_from == date(2025, 11, 12)


def test_published_assets_name_the_configured_lake(monkeypatch: pytest.MonkeyPatch, tmp_path):
    import importlib.util

    def assets(lake: str) -> set[str]:
        monkeypatch.setenv("QUXIAN_LAKE", lake)
        spec = importlib.util.spec_from_file_location(
            "quxian_nightly_probe", CHECKOUT / "dags" / "quxian_nightly.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return {a.uri for a in (module.ARTICLES, module.ARTICLE_VERSIONS, module.QUARANTINE)}

    assert assets("s3://quxian-lake/lake") == {
        "s3://quxian-lake/lake/articles",
        "s3://quxian-lake/lake/article_versions",
        "s3://quxian-lake/lake/quarantine",
    }
    assert f"file://{tmp_path}/lake/articles" in assets(str(tmp_path / "lake"))
