"""Step functions without a crawl: run planning and the one-run-per-dates rule."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest

from quxian import steps
from quxian.config import CHECKOUT


def test_a_second_run_of_the_same_dates_refuses_with_the_holder(data_dir):
    plan = steps.plan_run(date(2025, 11, 14), offline_url="http://127.0.0.1:9", outlets=["ccrb"])
    plan.run_dir.mkdir(parents=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from pathlib import Path; from transforms.publish import lake_lock\n"
            f"with lake_lock(Path({str(plan.run_dir)!r})):\n    print('held', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=CHECKOUT,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(steps.StepError, match=rf"run 2025-11-14 is already running: .*pid {holder.pid}"):
            steps.run(plan)
        # Refused before any step touched the run folder.
        assert not (plan.run_dir / "crawl").exists()
    finally:
        holder.kill()
        holder.wait()


def test_plans_name_their_window_and_outlets():
    plan = steps.plan_run(date(2025, 11, 13), date(2025, 11, 15), offline_url="http://127.0.0.1:9")
    assert plan.run_key == "2025-11-13_2025-11-15"
    assert plan.crawl_from == date(2025, 11, 12)
    assert plan.polite is False  # our own offline server
    assert steps.plan_run(date(2025, 11, 13), outlets=["ccrb"]).polite is True
    assert steps.RunPlan.from_json(plan.to_json()) == plan
    with pytest.raises(steps.StepError, match="not crawlable yet"):
        steps.plan_run(date(2025, 11, 13), outlets=["bayu_dushibao"])
