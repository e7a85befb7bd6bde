"""`make demo`: the nightly DAG through Airflow itself, over the bundled offline sites.

Starts the offline sites on 127.0.0.1, migrates Airflow's SQLite database, runs
`airflow dags test quxian_nightly <night>` for every day the offline sites cover (the 02:00 run
of day D+1 crawls day D), stops the sites by PID and prints what landed in the lake.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

from quxian import config
from quxian.airflowenv import airflow_env, airflow_home


def covered_dates() -> list[date]:
    """Every day from the offline sites' first publication date to their last."""
    from quxian.sites.build import default_content_dir
    from quxian.sites.content import load_stories

    days = {d for story in load_stories(default_content_dir()) for d in story.runs.values()}
    if not days:
        raise SystemExit("demo: no offline site content found under quxian/sites/content/")
    return [min(days) + timedelta(days=n) for n in range((max(days) - min(days)).days + 1)]


def say(msg: str) -> None:
    print(msg, flush=True)


def start_sites(log: Path) -> tuple[subprocess.Popen, str]:
    """The offline sites in their own process, on a free port; returns (process, base URL)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "quxian.cli", "sites", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=open(log, "w"),
        text=True,
        cwd=config.CHECKOUT,
    )
    line = proc.stdout.readline() if proc.stdout else ""
    if "http://" not in line:
        proc.kill()
        raise SystemExit(f"demo: the offline sites did not start (see {log})")
    url = line.split("http://", 1)[1].split("/", 1)[0]
    return proc, f"http://{url}"


def airflow(args: list[str], env: dict[str, str], log: Path) -> int:
    with open(log, "a") as fh:
        fh.write(f"\n$ airflow {' '.join(args)}\n")
        fh.flush()
        return subprocess.run(
            [str(Path(sys.executable).with_name("airflow")), *args],
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            cwd=config.CHECKOUT,
        ).returncode


def main() -> int:
    started = time.monotonic()
    logs = config.paths().data / "demo"
    logs.mkdir(parents=True, exist_ok=True)
    days = covered_dates()
    say(f"demo: offline sites cover {days[0]} .. {days[-1]}; Airflow home {airflow_home()}; logs in {logs}")
    sites, url = start_sites(logs / "sites.log")
    failed = []
    try:
        say(f"demo: offline sites on {url} (pid {sites.pid})")
        env = airflow_env({"QUXIAN_OFFLINE_URL": url})
        t = time.monotonic()
        if airflow(["db", "migrate"], env, logs / "airflow.log") != 0:
            raise SystemExit(f"demo: airflow db migrate failed (see {logs / 'airflow.log'})")
        say(f"demo: airflow db migrate ({time.monotonic() - t:.1f} s)")
        for day in days:
            night = datetime.combine(day + timedelta(days=1), dtime(2, 0), tzinfo=config.TZ)
            t = time.monotonic()
            rc = airflow(["dags", "test", "quxian_nightly", night.isoformat()], env, logs / "airflow.log")
            summary = _run_summary(day)
            if rc != 0 or summary is None or summary["failed_outlets"]:
                failed.append(day)
            state = "ok" if day not in failed else f"FAILED (exit {rc}; see {logs / 'airflow.log'})"
            say(
                f"demo: nightly run for {day} (logical date {night.isoformat()}): {state} in {time.monotonic() - t:.1f} s"
            )
            if summary:
                from quxian.steps import format_summary

                say("  " + format_summary(summary).replace("\n", "\n  "))
    finally:
        sites.terminate()
        try:
            sites.wait(timeout=10)
        except subprocess.TimeoutExpired:
            sites.kill()
    from quxian.cli import main as cli

    say("\ndemo: what the lake holds (quxian report):")
    cli(["report"])
    _dataset_counts()
    say(f"\ndemo: done in {time.monotonic() - started:.0f} s; lake at {config.paths().lake}")
    return 1 if failed else 0


def _run_summary(day: date) -> dict | None:
    f = config.paths().runs / day.isoformat() / "summary.json"
    return json.loads(f.read_text(encoding="utf-8")) if f.exists() else None


def _dataset_counts() -> None:
    from quxian.lakeviews import connect

    con = connect()
    for name in ("article_versions", "articles", "quarantine"):
        n = con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
        say(f"  {name:18s} {n:6d} rows  ({config.paths().lake / name})")


if __name__ == "__main__":
    sys.exit(main())
