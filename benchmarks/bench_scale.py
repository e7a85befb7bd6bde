"""How each stage's cost grows with its work, and what a second Celery worker buys.

Prints, in one run, against offline sites generated at the size needed (`scale_sites.py`):

1. crawl, politeness off: pages per second of the crawl step run one process after another (what
   one worker does), for the old way (one Scrapy process per outlet) on a few outlets, and in
   crawl batches (`quxian.steps.crawl_batch`, QUXIAN_BENCH_BATCH outlets per process) for growing
   outlet counts, with the growth (time ratio against work ratio). Then politeness on (the
   spiders' real delays and AutoThrottle) for a few outlets in one batch.
2. clean, dedupe, publish: articles per second over the pages each crawl fetched, and growth.
3. a night end to end on the production profile (scripts/cluster-up.sh: PostgreSQL, Redis,
   Airflow with the CeleryExecutor) for each outlet count, with 1 and with 2 workers of one task
   slot each, crawl batches sized by the DAG's default (`quxian.steps.auto_crawl_batch`): the
   run's wall time (queued → end) and its crawl stage's (first crawl start → last crawl end),
   growth with the outlet count, and the 2-worker speed-up (target ≥ 1.7× on the crawl stage,
   politeness off).

Sizes (environment): QUXIAN_BENCH_SIZES (nights, default "38,100,400"), QUXIAN_BENCH_WORKERS
("1,2"), QUXIAN_BENCH_CRAWL ("16,32,64" outlets for parts 1–2), QUXIAN_BENCH_BATCH (16),
QUXIAN_BENCH_SINGLE (8 outlets crawled one process each; 0 skips), QUXIAN_BENCH_POLITE (2
outlets), QUXIAN_BENCH_CLUSTER=0 skips part 3. Work files under QUXIAN_BENCH_DIR (default
<checkout>/data/bench-scale, wiped first). The figures also go to <dir>/figures.json.
"""

from __future__ import annotations

import json
import os
import resource
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
    """`×2.0 work → ×2.05 time` from the smallest row to each larger one."""
    base = rows[0]
    return ", ".join(
        f"×{r[work] / base[work]:.2f} work → ×{r[cost] / base[cost]:.2f} time"
        for r in rows[1:]
        if base[cost] and base[work]
    )


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _crawl(steps, plan) -> dict:  # noqa: ANN001 - the module and its RunPlan
    """Every batch of the plan, one process after another, as one worker runs them."""
    pages = outlets = 0
    cpu, t = _children_cpu(), time.monotonic()
    for batch in steps.crawl_batches(plan):
        for summary in steps.crawl_batch(plan, batch).values():
            pages += summary["pages"]
            outlets += 1
    wall = time.monotonic() - t
    return {
        "outlets": outlets,
        "per_process": plan.crawl_batch,
        "pages": pages,
        "wall_s": round(wall, 2),
        "cpu_s": round(_children_cpu() - cpu, 2),
    }


def _say_crawl(label: str, row: dict) -> None:
    say(
        f"crawl, {label}: {row['outlets']:3d} outlets, {row['per_process']:2d} per process: {row['pages']:5d} pages "
        f"in {row['wall_s']:6.1f} s → {row['pages'] / row['wall_s']:6.1f} pages/s, "
        f"{row['wall_s'] / row['outlets']:5.2f} s/outlet (crawl CPU {row['cpu_s'] / row['pages'] * 1000:.0f} ms/page)"
    )


def stage_figures(work: Path, outlets: list[str]) -> dict:
    """Parts 1 and 2, without Airflow: the step functions over an in-process sites server."""
    from quxian import steps
    from quxian.sites.server import make_server

    server = make_server("127.0.0.1", 0, content_dir=work / "content")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    batch = int(os.environ.get("QUXIAN_BENCH_BATCH", "16"))
    figures: dict = {"crawl_single": None, "crawl": [], "crawl_polite": None, "transform": []}
    try:
        single_n = int(os.environ.get("QUXIAN_BENCH_SINGLE", "8"))
        if single_n:
            os.environ["QUXIAN_DATA"] = str(work / "stage-single")
            plan = steps.plan_run(
                NIGHT, outlets=outlets[:single_n], offline_url=server.base_url, polite=False, crawl_batch=1
            )
            figures["crawl_single"] = row = _crawl(steps, plan)
            _say_crawl("politeness off", row)
        for k in _ints("QUXIAN_BENCH_CRAWL", "16,32,64"):
            os.environ["QUXIAN_DATA"] = str(work / f"stage-{k}")
            plan = steps.plan_run(
                NIGHT, outlets=outlets[:k], offline_url=server.base_url, polite=False, crawl_batch=batch
            )
            row = _crawl(steps, plan)
            figures["crawl"].append(row)
            _say_crawl("politeness off", row)
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
            plan = steps.plan_run(
                NIGHT, outlets=outlets[:polite_n], offline_url=server.base_url, polite=True, crawl_batch=batch
            )
            figures["crawl_polite"] = row = _crawl(steps, plan)
            _say_crawl("politeness on ", row)
    finally:
        server.shutdown()
        server.server_close()
    single, rows = figures["crawl_single"], figures["crawl"]
    if single and rows:
        per_single = single["wall_s"] / single["outlets"]
        per_batch = rows[-1]["wall_s"] / rows[-1]["outlets"]
        say(
            f"crawl batches: {per_single:.2f} s/outlet one process each → {per_batch:.2f} s/outlet "
            f"{rows[-1]['per_process']} per process (×{per_single / per_batch:.1f} cheaper)"
        )
    if len(rows) > 1:
        say(f"crawl growth (politeness off): {_growth(rows, 'pages', 'wall_s')}")
        trows = [dict(r, total_s=r["clean_s"] + r["dedupe_s"] + r["publish_s"]) for r in figures["transform"]]
        say(f"clean+dedupe+publish growth: {_growth(trows, 'articles', 'total_s')}")
    return figures


def _group_cpu(cluster_dir: Path) -> dict[str, float]:
    """CPU seconds so far of each component cluster-up started (its process group: the process,
    its live children, and the children it has reaped, e.g. a worker's finished tasks)."""
    tick = os.sysconf("SC_CLK_TCK")
    groups = {}
    for pidfile in (cluster_dir / "pids").glob("*.pid"):
        groups[int(pidfile.read_text())] = pidfile.stem
    cpu = dict.fromkeys(groups.values(), 0.0)
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pgid = int(fields[2])
        if pgid in groups:
            cpu[groups[pgid]] += sum(int(x) for x in fields[11:15]) / tick
    return cpu


def _night_work(cluster_dir: Path) -> dict:
    """Pages and versions of the night just run (its summary.json in the cluster's data)."""
    f = cluster_dir / "data" / "runs" / NIGHT.isoformat() / "summary.json"
    if not f.exists():
        return {}
    s = json.loads(f.read_text(encoding="utf-8"))
    return {"pages": s["pages_fetched"], "versions": s["versions"], "failed_outlets": s["failed_outlets"]}


def cluster_figures(work: Path, outlets: list[str], registry: Path) -> list[dict]:
    """Part 3: nights on the production profile, per worker count and outlet count."""
    from quxian.steps import auto_crawl_batch

    rows = []
    sizes = _ints("QUXIAN_BENCH_SIZES", "38,100,400")
    for workers in _ints("QUXIAN_BENCH_WORKERS", "1,2"):
        cluster_dir = work / f"cluster-{workers}w"
        env = dict(
            os.environ,
            QUXIAN_CLUSTER_DIR=str(cluster_dir),
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
                cpu_before = _group_cpu(cluster_dir)
                run = subprocess.run(
                    [
                        str(CHECKOUT / "scripts" / "cluster-run.sh"),
                        f"bench-{n}-{workers}w",
                        NIGHT.isoformat(),
                        NIGHT.isoformat(),
                        json.dumps(outlets[:n]),
                        str(max(1800, 10 * n)),
                    ],
                    env=env,
                    capture_output=True,
                    text=True,
                )
                res = json.loads(run.stdout.strip().splitlines()[-1]) if run.stdout.strip() else {}
                row = {"outlets": n, "workers": workers, "per_task": auto_crawl_batch(n), **res}
                row.update(_night_work(cluster_dir))
                cpu_after = _group_cpu(cluster_dir)
                row["cpu_s"] = {k: round(cpu_after[k] - cpu_before.get(k, 0.0), 1) for k in cpu_after}
                rows.append(row)
                say(
                    f"night, {n:3d} outlets, {workers} worker(s): {res.get('state')} in {res.get('wall_s')} s "
                    f"(crawl stage {res.get('crawl_s')} s, {res.get('crawls')} crawl tasks of "
                    f"{row['per_task']} outlets, per worker {res.get('crawls_by_worker')}; "
                    f"{row.get('pages')} pages, {row.get('versions')} articles)"
                )
                say(
                    "  CPU seconds by component: "
                    + ", ".join(
                        f"{k} {v:.0f}" for k, v in sorted(row["cpu_s"].items(), key=lambda kv: -kv[1])
                    )
                )
        finally:
            subprocess.run([str(CHECKOUT / "scripts" / "cluster-down.sh")], env=env, capture_output=True)
    by = {(r["outlets"], r["workers"]): r for r in rows}
    for workers in _ints("QUXIAN_BENCH_WORKERS", "1,2"):
        done = [
            dict(r, wall_s=float(r["wall_s"]), crawl_s=float(r["crawl_s"]))
            for r in rows
            if r["workers"] == workers and r.get("state") == "success" and r.get("pages")
        ]
        if len(done) > 1:
            say(f"night growth, {workers} worker(s): {_growth(done, 'pages', 'wall_s')}")
            say(f"crawl stage growth, {workers} worker(s): {_growth(done, 'pages', 'crawl_s')}")
    for n in sizes:
        one, two = by.get((n, 1)), by.get((n, 2))
        if one and two and one.get("crawl_s") and two.get("crawl_s"):
            say(
                f"{n:3d} outlets: 2 workers vs 1: crawl stage ×{float(one['crawl_s']) / float(two['crawl_s']):.2f} "
                f"faster, night ×{float(one['wall_s']) / float(two['wall_s']):.2f} (target ≥ 1.7× on the crawl stage)"
            )
    return rows


def main() -> int:
    work = Path(os.environ.get("QUXIAN_BENCH_DIR") or CHECKOUT / "data" / "bench-scale")
    shutil.rmtree(work, ignore_errors=True)
    cluster = os.environ.get("QUXIAN_BENCH_CLUSTER", "1") != "0"
    sizes = _ints("QUXIAN_BENCH_SIZES", "38,100,400") if cluster else []
    n_max = max(
        [*sizes, *_ints("QUXIAN_BENCH_CRAWL", "16,32,64"), int(os.environ.get("QUXIAN_BENCH_SINGLE", "8"))]
    )
    registry, _ = scale_sites.generate(n_max, work)
    # Before anything loads the registry: every step below reads the generated one.
    os.environ["QUXIAN_REGISTRY"] = str(registry)
    os.environ.setdefault("AIRFLOW_HOME", str(work / "airflow-unused"))
    os.environ.pop("QUXIAN_CRAWL_BATCH", None)  # the plans below say their batch size
    # The bytecode cache the cluster uses (scripts/cluster-up.sh) for the crawl processes here too.
    cache = os.environ.get("QUXIAN_PYCACHE") or str(Path.home() / ".cache" / "quxian" / "pycache")
    os.environ["PYTHONPYCACHEPREFIX"] = cache
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    import sysconfig

    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j", "0", sysconfig.get_paths()["purelib"],
         "quxian", "spiders", "transforms", "dags"],
        cwd=CHECKOUT, capture_output=True, check=False,
    )  # fmt: skip
    outlets = scale_sites.outlet_ids(n_max)
    say(f"bench_scale: {n_max} generated outlets in {work}")
    figures = {"stages": stage_figures(work, outlets)}
    if cluster:
        figures["nights"] = cluster_figures(work, outlets, registry)
    (work / "figures.json").write_text(json.dumps(figures, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
