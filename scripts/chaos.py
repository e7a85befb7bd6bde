"""`make chaos`: inject faults, kill publishes, fuzz the command, and print the figures.

    python scripts/chaos.py [--seeds 2] [--kills 100] [--fuzz 300] [--keep DIR]

1. Fault runs: the real pipeline over the offline sites, once without faults (the pages offered),
   then once per seed with one fault of every kind spread over those pages (`FaultPlan.spread`)
   and a dead outlet. Counts faults by kind, pages recovered by retry, quarantined, skipped by
   rule, and pages lost (offered but neither published, quarantined nor skipped: must be 0).
2. SIGKILL runs: a child publishing a prepared run is killed at a random instant, the lake is
   checked (every partition old or new, no visible stray file) and the publish rerun (must give
   the new lake). Corrupt partitions must be 0.
3. Fuzz: generated bad inputs for `quxian extract` and `quxian dedupe`, the chaos-only heavy
   cases included. Crashes and hangs must be 0; known, still unfixed issues are listed apart.

Everything runs on 127.0.0.1 in a temporary folder. Exit status 1 when a must-be-zero figure is not.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(CHECKOUT), str(CHECKOUT / "tests")]
os.environ.setdefault("AIRFLOW_HOME", str(Path(tempfile.gettempdir()) / "quxian-chaos-airflow"))

from quxian.sites.build import build_sites  # noqa: E402
from quxian.sites.faults import FAULT_LIMITS, KINDS, TRANSIENT, Fault, FaultPlan, run_with_faults  # noqa: E402

OUTLETS = ["xinyubao", "dazu_gov", "sxdsb"]
DEAD_OUTLET, DEAD_HOST = "bswxw", "www.bswxw.org.cn"
OFFSITE = "www.txdzw.com"
DAY = date(2025, 11, 14)
BAD_LINK_PAGES = [
    ("xyb.txdzw.com", "/Html/2025-11-14/index.html"),
    ("www.dazu.gov.cn", "/"),
    ("dpaper.sxcm.net", "/sxdsb/html/2025-11/14/node_1.htm"),
]
FAULT_MIX = (
    [(k, 2) for k in TRANSIENT]
    + [(k, None) for k in ("http503", "reset", "timeout")]
    + [(k, None) for k in KINDS if k not in TRANSIENT and k != "bad_links"]
)


def fault_runs(work: Path, seeds: int, say) -> dict:
    sites = build_sites()
    base = run_with_faults(FaultPlan(), DAY, OUTLETS, work / "base", work / "settings", sites=sites)
    published = {r["url"] for r in base.lake_rows("article_versions")}
    offered = published | {r["url"] for r in base.lake_rows("quarantine")} | set(base.skipped_by_rule())
    say(f"baseline: {len(published)} pages published of {len(offered)} offered in {base.elapsed_s:.0f} s")
    totals: Counter[str] = Counter()
    by_kind: Counter[str] = Counter()
    lost: list[str] = []
    for seed in range(1, seeds + 1):
        spread = FaultPlan.spread(
            published, FAULT_MIX, seed=seed, offsite_target=OFFSITE, dead_hosts=[DEAD_HOST], **FAULT_LIMITS
        )
        bad_links = [Fault(host, path, "bad_links") for host, path in BAD_LINK_PAGES]
        plan = FaultPlan(spread.faults + bad_links, dead_hosts=spread.dead_hosts, **FAULT_LIMITS)
        run = run_with_faults(
            plan, DAY, [*OUTLETS, DEAD_OUTLET], work / f"faults{seed}", work / "settings", sites=sites
        )
        acc = run.accounting(offered)
        by_kind.update(plan.counts())
        recovered = [f for f in plan.faults if f.recoverable and f.url in acc.published]
        totals["faults"] += len(plan.faults) + len(plan.dead_hosts)
        totals["recoverable"] += sum(f.recoverable for f in plan.faults)
        totals["recovered"] += len(recovered)
        totals["offered"] += len(offered)
        totals["published"] += len(acc.published & offered)
        totals["quarantined"] += len(set(acc.quarantined) & offered)
        totals["quarantined_dead_outlet"] += sum(
            1 for r in run.lake_rows("quarantine") if r["outlet"] == DEAD_OUTLET
        )
        totals["skipped"] += len(set(acc.skipped) & offered)
        totals["double"] += len(acc.doubly_counted)
        totals["leaks"] += sum(1 for host, _ in run.attempts if host == OFFSITE)
        totals["failed_outlets_reported"] += run.summary["failed_outlets"] == [DEAD_OUTLET]
        kind_of = {f.url: f.kind for f in plan.faults}
        lost += [f"seed {seed}: {u} ({kind_of.get(u, 'no fault')})" for u in sorted(acc.unaccounted)]
        say(
            f"seed {seed}: {len(recovered)} recovered, {len(set(acc.quarantined) & offered)} quarantined, "
            f"{len(set(acc.skipped) & offered)} skipped, {len(acc.unaccounted)} lost in {run.elapsed_s:.0f} s"
        )
    return {"totals": totals, "by_kind": by_kind, "lost": lost, "runs": seeds}


def kill_runs(work: Path, kills: int, seed: int, say) -> dict:
    import test_crash_safety as crash

    lab = crash.prepare_kill_lab(work / "kill")
    rng = random.Random(seed)
    killed = corrupt = unhealed = temps = 0
    problems: list[str] = []
    started = time.monotonic()
    for n in range(kills):
        r = crash.kill_publish_once(lab, n, rng)
        killed += r.killed
        corrupt += len(r.problems)
        unhealed += not r.healed
        temps += r.hidden_temps
        problems += [f"kill {n} after {r.delay_s:.3f} s: {p}" for p in r.problems]
        if (n + 1) % 25 == 0:
            say(f"SIGKILL {n + 1}/{kills}: {corrupt} corrupt so far ({time.monotonic() - started:.0f} s)")
    return {
        "kills": kills,
        "killed_mid_publish": killed,
        "corrupt": corrupt,
        "unhealed": unhealed,
        "hidden_temps_swept": temps,
        "partitions": len(lab.new),
        "problems": problems,
    }


def fuzz_runs(work: Path, n: int, seed: int) -> dict:
    import test_fuzz as fuzz

    results = fuzz.run_fuzz(work / "fuzz", n, seed, heavy=True)
    bad = [r for r in results if r.problem]
    known = [r for r in bad if (r.command, r.label) in fuzz.KNOWN_ISSUES]
    unknown = [r for r in bad if (r.command, r.label) not in fuzz.KNOWN_ISSUES]
    return {
        "cases": len(results),
        "refused": sum(r.exit_code == 2 for r in results),
        "crashes": sum(1 for r in bad if not r.problem.startswith("hang")),
        "hangs": sum(1 for r in bad if r.problem.startswith("hang")),
        "known": Counter(f"{r.command} {r.label}" for r in known),
        "unknown": [f"{r.command} {r.label}: {r.problem[:300]}" for r in unknown],
        "slowest": max(results, key=lambda r: r.seconds),
    }


def table(faults: dict | None, kills: dict | None, fuzz: dict | None) -> tuple[str, bool]:
    rows: list[tuple[str, str, str]] = []
    ok = True

    def must_be_zero(name: str, value: int) -> None:
        nonlocal ok
        ok &= value == 0
        rows.append((name, str(value), "must be 0" + ("" if value == 0 else "  <-- FAIL")))

    if faults:
        t = faults["totals"]
        for kind, n in sorted(faults["by_kind"].items()):
            rows.append((f"faults injected: {kind}", str(n), ""))
        rows.append(("faults injected (total)", str(t["faults"]), f"{faults['runs']} fault runs"))
        rows.append(("pages offered", str(t["offered"]), "summed over runs"))
        rows.append(("pages recovered by retry", f"{t['recovered']}/{t['recoverable']}", "transient faults"))
        rows.append(("published", str(t["published"]), ""))
        rows.append(
            ("quarantined", str(t["quarantined"]), f"+ {t['quarantined_dead_outlet']} dead-outlet rows")
        )
        rows.append(("skipped by rule", str(t["skipped"]), "robots.txt, offsite redirect"))
        must_be_zero("lost (offered - published - quarantined - skipped)", len(faults["lost"]))
        must_be_zero("counted twice", t["double"])
        must_be_zero("requests to offsite hosts", t["leaks"])
        rows.append(("dead outlet reported failed", f"{t['failed_outlets_reported']}/{faults['runs']}", ""))
    if kills:
        rows.append(
            ("SIGKILL runs", str(kills["kills"]), f"{kills['killed_mid_publish']} before the publish ended")
        )
        rows.append(("partitions checked per run", str(kills["partitions"]), ""))
        must_be_zero("corrupt partitions found", kills["corrupt"])
        must_be_zero("reruns not healing the lake", kills["unhealed"])
        rows.append(("hidden temporaries left (swept by rerun)", str(kills["hidden_temps_swept"]), ""))
    if fuzz:
        rows.append(("fuzz cases", str(fuzz["cases"]), f"{fuzz['refused']} refused with exit 2"))
        must_be_zero("fuzz crashes", fuzz["crashes"])
        must_be_zero("fuzz hangs", fuzz["hangs"])
        s = fuzz["slowest"]
        rows.append(("slowest fuzz case", f"{s.seconds:.1f} s", f"{s.command} {s.label}"))
    width = max(len(r[0]) for r in rows)
    lines = [f"{'figure':{width}}  {'value':>9}  note", "-" * (width + 30)]
    lines += [f"{a:{width}}  {b:>9}  {c}" for a, b, c in rows]
    return "\n".join(lines), ok


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=2, help="fault runs, one fault plan each (default 2)")
    p.add_argument("--kills", type=int, default=100, help="SIGKILLed publishes (default 100)")
    p.add_argument("--fuzz", type=int, default=300, help="fuzz cases per command (default 300)")
    p.add_argument("--seed", type=int, default=2025)
    p.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one, removed)")
    args = p.parse_args(argv)

    def say(msg: str) -> None:
        print(f"[chaos] {msg}", file=sys.stderr, flush=True)

    work = args.keep or Path(tempfile.mkdtemp(prefix="quxian-chaos-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ["QUXIAN_DATA"] = str(work / "data")
    try:
        faults = fault_runs(work, args.seeds, say) if args.seeds else None
        kills = kill_runs(work, args.kills, args.seed, say) if args.kills else None
        fuzz = fuzz_runs(work, args.fuzz, args.seed) if args.fuzz else None
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    text, ok = table(faults, kills, fuzz)
    print(text)
    for name, items in (
        ("lost", faults["lost"] if faults else []),
        ("corrupt", kills["problems"] if kills else []),
        ("fuzz", fuzz["unknown"] if fuzz else []),
    ):
        for item in items[:20]:
            print(f"  {name}: {item}")
    if fuzz and fuzz["known"]:
        print("known issues (not fixed yet, counted above):")
        for label, n in sorted(fuzz["known"].items()):
            print(f"  {n:4d} x {label}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
