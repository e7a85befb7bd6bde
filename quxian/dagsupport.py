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


def dates_from_context(context: dict[str, Any]) -> tuple[date, date]:
    """The run's first and last data date: the params', else the day before the run."""
    params = context.get("params") or {}
    dag_run = context.get("dag_run")
    if params.get("date_from"):
        first = date.fromisoformat(params["date_from"])
        last = date.fromisoformat(params["date_to"]) if params.get("date_to") else first
    else:
        logical, run_after = context.get("logical_date"), getattr(dag_run, "run_after", None)
        first = last = data_date(logical, run_after)
        log.info("data date %s from logical_date=%r run_after=%r", first, logical, run_after)
    return first, last


def plan_from_context(context: dict[str, Any]) -> RunPlan:
    """Build the run plan from params, else from the run's dates."""
    params = context.get("params") or {}
    first, last = dates_from_context(context)
    return plan_run(
        first,
        last,
        outlets=params.get("outlets") or None,
        offline_url=config.offline_url(),
        lookback_days=int(params.get("lookback_days") or 30),
    )


def _run_id(context: dict[str, Any]) -> str:
    run_id = context.get("run_id") or getattr(context.get("dag_run"), "run_id", None)
    if not run_id:
        raise StepError("the task context has no run_id: cannot lease the run's data dates")
    return str(run_id)


def _lease(context: dict[str, Any]) -> tuple[list[date], str]:
    """The run's data dates and the lease token every task of the run shares (its run id)."""
    first, last = dates_from_context(context)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    dag_id = getattr(context.get("dag"), "dag_id", None) or "quxian_nightly"
    return days, f"dag:{dag_id}:{_run_id(context)}"


def hold_run_dates(context: dict[str, Any]) -> list[str]:
    """The DAG's `pre_execute` hook: take, or renew, the lease of every data date of the run for
    this DAG run (`quxian.datelease.hold`, the leases `quxian run` takes too), and keep it renewed
    while this task's process runs. Raises StepError naming the holder when another run (a
    `quxian run`, a backfill, another DAG run) holds one of the dates: the task does not start."""
    from quxian import datelease

    days, token = _lease(context)
    ti = context.get("ti")
    task = getattr(ti, "task_id", None) or "?"
    holder = datelease.process_holder(f"DAG run {_run_id(context)}, task {task}")
    try:
        held = datelease.hold(days, token=token, holder=holder)
    except datelease.DatesBusy as e:
        raise StepError(f"DAG run {_run_id(context)} refused: {e}") from None
    log.info("data dates %s leased to %s", ", ".join(held), token)
    return held


def release_run_dates(context: dict[str, Any]) -> list[str]:
    """The last task of a DAG run: give back the run's data dates (only if this run holds them)."""
    from quxian import datelease

    days, token = _lease(context)
    datelease.release(days, token=token)
    released = [d.isoformat() for d in days]
    log.info("data dates %s released by %s", ", ".join(released), token)
    return released
