"""How each stage's cost grows with its work, and what a second Celery worker buys.

Prints, in one run:
1. crawl: pages per second against generated offline sites (`scale_sites.py`), politeness off
   for 1×, 2× and 4× the outlets (growth should be linear: the time ratio close to the work
   ratio), and politeness on (the spider's real delays) for a few outlets. Two rates: the whole
   crawl step (Scrapy subprocess start included, what a night pays) and the spider alone
   (Scrapy's own elapsed time).
2. clean, dedupe, publish: articles per second over the pages those crawls fetched.
3. a night end to end on the production profile (scripts/cluster-up.sh: PostgreSQL, Redis,
   Airflow with the CeleryExecutor) for each outlet count, with 1 and with 2 workers of one task
   slot each: the run's wall time and its crawl stage's (first crawl start → last crawl end),
   and the 2-worker speed-up on the crawl stage (target ≥ 1.7×, politeness off).

Sizes (environment): QUXIAN_BENCH_SIZES (default "38,100,400"), QUXIAN_BENCH_WORKERS ("1,2"),
QUXIAN_BENCH_CRAWL ("4,8,16" outlets for the stage figures), QUXIAN_BENCH_POLITE (2 outlets),
QUXIAN_BENCH_CLUSTER=0 skips part 3. Work files under QUXIAN_BENCH_DIR (default
<checkout>/data/bench-scale, wiped first). The figures also go to <dir>/figures.json.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(CHECKOUT), str(CHECKOUT / "benchmarks")]

import scale_sites  # noqa: E402

NIGHT = date(2025, 11, 14)


def _ints(var: str, default: str) -> list[int]:
    return [int(x) for x in os.environ.get(var, default).split(",") if x.strip()]


def say(msg: str) -> None:
    print(msg, flush=True)


def _growth(rows: list[dict], work: str, cost: str) -> str:
    """`×2.0 work → ×2.1 time` from the smallest to each larger row."""
    base = rows[0]
    return ", ".join(
        f"×{r[work] / base[work]:.1f} work → ×{r[cost] / base[cost]:.2f} time" for r in rows[1:] if base[cost]
    )


def stage_figures(work: Path, outlets: list[str]) -> dict:
    """Parts 1 and 2, without Airflow: the step functions over an in-process sites server."""
    from quxian import steps
    from quxian.sites.server import make_server

    server = make_server("127.0.0.1", 0, content_dir=work / "content")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    figures: dict = {"crawl": [], "crawl_polite": None, "transform": []}
    try:
        for k in _ints("QUXIAN_BENCH_CRAWL", "4,8,16"):
            os.environ["QUXIAN_DATA"] = str(work / f"stage-{k}")
            plan = steps.plan_run(NIGHT, outlets=outlets[:k], offline_url=server.base_url, polite=False)
            pages = spider_s = 0.0
            t = time.monotonic()
            for o in plan.outlets:
                r = steps.crawl(plan, o)
                pages += r["pages"]
                stats = json.loads((plan.run_dir / "crawl" / o / "stats.json").read_text(encoding="utf-8"))
                spider_s += float(stats.get("elapsed_seconds") or 0)
            wall = time.monotonic() - t
            row = {
                "outlets": k,
                "pages": int(pages),
                "wall_s": round(wall, 1),
                "spider_s": round(spider_s, 1),
            }
            figures["crawl"].append(row)
            say(
                f"crawl, politeness off: {k:3d} outlets {int(pages):5d} pages in {wall:6.1f} s → "
                f"{pages / wall:6.1f} pages/s (spider alone {pages / max(spider_s, 1e-9):6.1f} pages/s)"
            )
            if not figures["transform"]:
                # Untimed first pass: the extractors' one-time start-up (imports, dictionaries)
                # is not a cost that grows with the articles (clean_pages rewrites its output).
                steps.clean_pages(plan)
            t = time.monotonic()
            cleaned = steps.clean_pages(plan)
            t_clean = time.monotonic() - t
            t = time.monotonic()
            steps.dedupe(plan)
            t_dedupe = time.monotonic() - t
            t = time.monotonic()
            steps.publish(plan)
            t_publish = time.monotonic() - t
            n = cleaned.get("versions", 0)
            figures["transform"].append(
                {
                    "outlets": k,
                    "articles": n,
                    "clean_s": t_clean,
                    "dedupe_s": t_dedupe,
                    "publish_s": t_publish,
                }
            )
            say(
                f"clean/dedupe/publish: {n:5d} articles: clean {n / t_clean:7.1f}/s, dedupe "
                f"{n / t_dedupe:7.1f}/s, publish {n / t_publish:7.1f}/s"
            )
        polite_n = int(os.environ.get("QUXIAN_BENCH_POLITE", "2"))
        if polite_n:
            os.environ["QUXIAN_DATA"] = str(work / "stage-polite")
            plan = steps.plan_run(NIGHT, outlets=outlets[:polite_n], offline_url=server.base_url, polite=True)
            t = time.monotonic()
            pages = sum(steps.crawl(plan, o)["pages"] for o in plan.outlets)
            wall = time.monotonic() - t
            figures["crawl_polite"] = {"outlets": polite_n, "pages": pages, "wall_s": round(wall, 1)}
            say(
                f"crawl, politeness on:  {polite_n:3d} outlets {pages:5d} pages in {wall:6.1f} s → {pages / wall:6.2f} pages/s"
            )
    finally:
        server.shutdown()
        server.server_close()
    if len(figures["crawl"]) > 1:
        say(f"crawl growth (politeness off): {_growth(figures['crawl'], 'pages', 'wall_s')}")
        rows = [dict(r, total_s=r["clean_s"] + r["dedupe_s"] + r["publish_s"]) for r in figures["transform"]]
        say(f"clean+dedupe+publish growth: {_growth(rows, 'articles', 'total_s')}")
    return figures


def cluster_figures(work: Path, outlets: list[str], registry: Path) -> list[dict]:
    """Part 3: nights on the production profile, per worker count and outlet count."""
    rows = []
    sizes = _ints("QUXIAN_BENCH_SIZES", "38,100,400")
    for workers in _ints("QUXIAN_BENCH_WORKERS", "1,2"):
        env = dict(
            os.environ,
            QUXIAN_CLUSTER_DIR=str(work / f"cluster-{workers}w"),
            QUXIAN_CLUSTER_WORKERS=str(workers),
            QUXIAN_CLUSTER_CONCURRENCY="1",
            QUXIAN_REGISTRY=str(registry),
            QUXIAN_SITES_CONTENT=str(work / "content"),
        )
        env.pop("QUXIAN_DATA", None)
        t = time.monotonic()
        up = subprocess.run(
            [str(CHECKOUT / "scripts" / "cluster-up.sh")], env=env, capture_output=True, text=True
        )
        try:
            if up.returncode != 0:
                raise SystemExit(f"bench_scale: cluster-up failed: {up.stdout[-500:]} {up.stderr[-500:]}")
            say(f"cluster with {workers} worker(s) up in {time.monotonic() - t:.0f} s")
            for n in sizes:
                run = subprocess.run(
                    [
                        str(CHECKOUT / "scripts" / "cluster-run.sh"),
                        f"bench-{n}-{workers}w",
                        NIGHT.isoformat(),
                        NIGHT.isoformat(),
                        json.dumps(outlets[:n]),
                        str(max(1800, 30 * n)),
                    ],
                    env=env,
                    capture_output=True,
                    text=True,
                )
                res = json.loads(run.stdout.strip().splitlines()[-1]) if run.stdout.strip() else {}
                row = {"outlets": n, "workers": workers, **res}
                rows.append(row)
                say(
                    f"night, {n:3d} outlets, {workers} worker(s): {res.get('state')} in {res.get('wall_s')} s "
                    f"(crawl stage {res.get('crawl_s')} s; crawls per worker {res.get('crawls_by_worker')})"
                )
        finally:
            subprocess.run([str(CHECKOUT / "scripts" / "cluster-down.sh")], env=env, capture_output=True)
    by = {(r["outlets"], r["workers"]): r for r in rows}
    for n in sizes:
        one, two = by.get((n, 1)), by.get((n, 2))
        if one and two and one.get("crawl_s") and two.get("crawl_s"):
            say(
                f"{n:3d} outlets: 2 workers vs 1: crawl stage ×{one['crawl_s'] / two['crawl_s']:.2f} faster, "
                f"night ×{one['wall_s'] / two['wall_s']:.2f} (target ≥ 1.7× on the crawl stage)"
            )
    return rows


def main() -> int:
    work = Path(os.environ.get("QUXIAN_BENCH_DIR") or CHECKOUT / "data" / "bench-scale")
    shutil.rmtree(work, ignore_errors=True)
    sizes = _ints("QUXIAN_BENCH_SIZES", "38,100,400")
    n_max = max([*sizes, *_ints("QUXIAN_BENCH_CRAWL", "4,8,16")])
    registry, _ = scale_sites.generate(n_max, work)
    # Before anything loads the registry: every step below reads the generated one.
    os.environ["QUXIAN_REGISTRY"] = str(registry)
    os.environ.setdefault("AIRFLOW_HOME", str(work / "airflow-unused"))
    outlets = scale_sites.outlet_ids(n_max)
    say(f"bench_scale: {n_max} generated outlets in {work}")
    figures = {"stages": stage_figures(work, outlets)}
    if os.environ.get("QUXIAN_BENCH_CLUSTER", "1") != "0":
        figures["nights"] = cluster_figures(work, outlets, registry)
    (work / "figures.json").write_text(json.dumps(figures, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
