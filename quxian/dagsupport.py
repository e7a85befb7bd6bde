"""What the DAG needs from a task context, kept out of the DAG file so it can be tested alone."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from quxian import config
from quxian.steps import RunPlan, StepError, plan_run

log = logging.getLogger(__name__)


def data_date(logical_date: datetime | None, run_after: datetime | None) -> date:
    """The day a nightly run covers: the day before the run, in Asia/Shanghai.

    Airflow 3 leaves `logical_date` None for a plain manual trigger; `run_after` is always set.
    """
    stamp = logical_date or run_after
    if stamp is None:
        raise StepError("the run has neither logical_date nor run_after: cannot tell which day to crawl")
    # Arithmetic on the date, not the timestamp: Airflow hands pendulum DateTimes, whose
    # subtraction after astimezone(ZoneInfo) lands on the UTC date.
    return stamp.astimezone(config.TZ).date() - timedelta(days=1)


def plan_from_context(context: dict[str, Any]) -> RunPlan:
    """Build the run plan from params, else from the run's dates."""
    params = context.get("params") or {}
    dag_run = context.get("dag_run")
    if params.get("date_from"):
        first = date.fromisoformat(params["date_from"])
        last = date.fromisoformat(params["date_to"]) if params.get("date_to") else first
    else:
        logical, run_after = context.get("logical_date"), getattr(dag_run, "run_after", None)
        first = last = data_date(logical, run_after)
        log.info("data date %s from logical_date=%r run_after=%r", first, logical, run_after)
    return plan_run(
        first,
        last,
        outlets=params.get("outlets") or None,
        offline_url=config.offline_url(),
        lookback_days=int(params.get("lookback_days") or 30),
    )
