"""One writer per data date (`quxian.datelease`): `quxian run` and the nightly DAG take the same
leases, a second run of an overlapping date refuses naming the holder, a dead holder's lease
expires, runs of other dates go side by side. Local files and Redis alike."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import date
from types import SimpleNamespace

import pytest
from test_cluster import redis_url  # noqa: F401 - the fixture: a redis-server of the test's own

from quxian import datelease, steps
from quxian.config import CHECKOUT
from quxian.dagsupport import hold_run_dates, release_run_dates

NOV = {d: date(2025, 11, d) for d in range(10, 20)}


@pytest.fixture(params=["file", "redis"])
def backend(request, data_dir, monkeypatch):
    """The lease store: files under the test's data folder, or a Redis server of its own."""
    if request.param == "redis":
        monkeypatch.setenv("QUXIAN_LOCK_URL", request.getfixturevalue("redis_url"))
    else:
        monkeypatch.delenv("QUXIAN_LOCK_URL", raising=False)
    return request.param


def _child(code: str, **env: str) -> subprocess.Popen:
    """A Python child that runs `code` (which prints 'held' once it holds what it holds)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        text=True,
        cwd=CHECKOUT,
        env={**os.environ, "PYTHONPATH": str(CHECKOUT), **env},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line == "held", line
    return proc


def _stop(proc: subprocess.Popen) -> None:
    proc.kill()
    proc.wait()


def _dag_context(run_id: str, date_from: str, date_to: str | None = None, task: str = "plan") -> dict:
    """What Airflow hands the DAG's pre_execute hook, as far as the lease reads it."""
    return {
        "run_id": run_id,
        "params": {"date_from": date_from, "date_to": date_to},
        "ti": SimpleNamespace(task_id=task),
        "dag": SimpleNamespace(dag_id="quxian_nightly"),
    }


def test_a_command_run_refuses_dates_another_command_run_holds(backend):
    # A real `quxian run` of 11-14 (its crawl of a dead server fails fast), held in its first
    # progress line; then a backfill 11-13..11-15 overlapping it.
    holder = _child(
        "import time\nfrom datetime import date\nfrom quxian import steps\n"
        "plan = steps.plan_run(date(2025, 11, 14), offline_url='http://127.0.0.1:9', outlets=['ccrb'])\n"
        "def progress(msg):\n    print('held', flush=True); time.sleep(60)\n"
        "steps.run(plan, progress=progress, jobs=1)\n"
    )
    try:
        backfill = steps.plan_run(NOV[13], NOV[15], offline_url="http://127.0.0.1:9", outlets=["ccrb"])
        pattern = (
            rf"run 2025-11-13_2025-11-15 refused: data date 2025-11-14 is held by `quxian run` 2025-11-14, "
            rf"pid {holder.pid} on \S+ since 20\d\d-\d\d-\d\dT[\d:]+Z \(lease expires in \d+ s\)"
        )
        with pytest.raises(steps.StepError, match=pattern):
            steps.run(backfill)
        # Refused before anything was written for the backfill; its other dates are not kept.
        assert not backfill.run_dir.exists()
        assert datelease.holder_of(NOV[13]) is None and datelease.holder_of(NOV[15]) is None
        assert "`quxian run` 2025-11-14" in datelease.holder_of(NOV[14])["holder"]
    finally:
        _stop(holder)


def test_a_dag_run_and_a_command_run_exclude_each_other(backend):
    # The DAG's plan task takes the lease in its own process, which then ends: the lease stays
    # with the DAG run (token = its run id) for the next tasks.
    code = (
        "from types import SimpleNamespace\nfrom quxian.dagsupport import hold_run_dates\n"
        "hold_run_dates({'run_id': 'scheduled__2025-11-15T02:00', 'params': {'date_from': '2025-11-14'},"
        " 'ti': SimpleNamespace(task_id='plan'), 'dag': SimpleNamespace(dag_id='quxian_nightly')})\n"
        "print('held', flush=True)\n"
    )
    _child(code).wait(timeout=30)
    lease = datelease.holder_of(NOV[14])
    assert lease and lease["token"] == "dag:quxian_nightly:scheduled__2025-11-15T02:00"
    plan = steps.plan_run(NOV[14], offline_url="http://127.0.0.1:9", outlets=["ccrb"])
    with pytest.raises(
        steps.StepError,
        match=r"run 2025-11-14 refused: data date 2025-11-14 is held by DAG run scheduled__2025-11-15T02:00, task plan",
    ):
        steps.run(plan)
    assert not plan.run_dir.exists()
    # A later task of the same DAG run renews it (same token); a backfill DAG run is refused.
    assert hold_run_dates(_dag_context("scheduled__2025-11-15T02:00", "2025-11-14", task="crawl")) == [
        "2025-11-14"
    ]
    with pytest.raises(
        steps.StepError, match=r"DAG run backfill__x refused: data date 2025-11-14 is held by DAG run"
    ):
        hold_run_dates(_dag_context("backfill__x", "2025-11-12", "2025-11-16"))
    # The backfill took none of its dates (all or none).
    assert all(datelease.holder_of(NOV[d]) is None for d in (12, 13, 15, 16))
    # The run's last task gives the dates back: now the command may run them. A command's lease
    # in turn stops the DAG's tasks.
    release_run_dates(_dag_context("scheduled__2025-11-15T02:00", "2025-11-14", task="release_dates"))
    assert datelease.holder_of(NOV[14]) is None
    with datelease.holding([NOV[14]], holder="`quxian run` 2025-11-14, pid 1 on test"):
        with pytest.raises(steps.StepError, match=r"held by `quxian run` 2025-11-14, pid 1 on test"):
            hold_run_dates(_dag_context("scheduled__2025-11-16T02:00", "2025-11-14", task="clean"))
    assert datelease.holder_of(NOV[14]) is None


def test_a_dead_holders_lease_expires(backend):
    # A holder killed with SIGKILL never releases: its lease frees itself `ttl` after its last renewal.
    holder = _child(
        "import time\nfrom quxian import datelease\n"
        "datelease.hold(['2025-11-14'], token='t-dead', holder='dying run', ttl=2.0)\n"
        "print('held', flush=True); time.sleep(60)\n"
    )
    try:
        time.sleep(2.5)  # the heartbeat (every ttl/3) still renews it while the process lives
        with pytest.raises(datelease.DatesBusy, match="dying run"):
            datelease.hold([NOV[14]], token="t-next", holder="next run", ttl=2.0)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    deadline = time.monotonic() + 5
    while datelease.holder_of(NOV[14]) is not None:
        assert time.monotonic() < deadline, datelease.holder_of(NOV[14])
        time.sleep(0.2)
    datelease.hold([NOV[14]], token="t-next", holder="next run", ttl=2.0)
    assert datelease.holder_of(NOV[14])["holder"] == "next run"
    datelease.release([NOV[14]], token="t-next")


def test_runs_of_other_dates_go_side_by_side(backend):
    holder = _child(
        "import time\nfrom quxian import datelease\n"
        "with datelease.holding(['2025-11-14'], holder='nightly 11-14'):\n"
        "    print('held', flush=True); time.sleep(60)\n"
    )
    try:
        with datelease.holding([NOV[15], NOV[16]], holder="backfill 11-15..16"):
            assert datelease.holder_of(NOV[14])["holder"] == "nightly 11-14"
            assert datelease.holder_of(NOV[16])["holder"] == "backfill 11-15..16"
        # Released at the end of the block; the other run's date is untouched.
        assert datelease.holder_of(NOV[15]) is None
        assert datelease.holder_of(NOV[14])["holder"] == "nightly 11-14"
        # Releasing with another token leaves a lease alone.
        datelease.release([NOV[14]], token="not-the-holder")
        assert datelease.holder_of(NOV[14]) is not None
    finally:
        _stop(holder)


def test_the_holder_is_named_with_pid_host_and_since(backend):
    with datelease.holding([NOV[14]], holder=datelease.process_holder("`quxian run` 2025-11-14")):
        with pytest.raises(datelease.DatesBusy) as err:
            datelease.hold([NOV[13], NOV[14]], token="other", holder="x")
    msg = str(err.value)
    assert re.fullmatch(
        rf"data date 2025-11-14 is held by `quxian run` 2025-11-14, pid {os.getpid()} on \S+ "
        r"since 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ \(lease expires in \d+ s\)",
        msg,
    ), msg
