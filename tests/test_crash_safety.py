"""Crash safety and reruns: SIGKILL during a publish, two runs at once, hostile partition values,
a crawl killed while it writes its WARC archive, and a backfill equal to the nightly runs.

The publish tests use prepared runs (staging files written here, no crawl), so a kill costs one
child process start. `scripts/chaos.py` imports the harness below to kill many more times.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from quxian import config, steps
from quxian.registry import load as load_registry
from transforms import publish as lake
from transforms.schema import staging_schema, to_table

PY = sys.executable
CHECKOUT = config.CHECKOUT
DATASETS = ("article_versions", "articles", "quarantine")
OUTLETS = ("xinyubao", "sxdsb")  # two districts
KILLS_IN_DEFAULT_TESTS = 4

# ---------------------------------------------------------------- prepared runs


def _text(rng: random.Random, n: int) -> str:
    return "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(n))


def synth_run(data: Path, key: str, days: list[date], seed: int, *, ids_from: int = 0) -> steps.RunPlan:
    """Write the staging files of a run (`dedupe/versions.parquet`, `clean/quarantine.parquet`)
    under `data/runs/<key>` as clean+dedupe would, for `days` and two outlets: 6 versions per
    outlet and day (two stories of them shared by two versions), 2 quarantine rows. Rows are a
    pure function of (seed, ids): two runs with the same ids and different seeds rewrite the same
    pages with new content."""
    reg = load_registry()
    rng = random.Random(seed)
    versions, quarantine = [], []
    for day in days:
        for outlet_id in OUTLETS:
            outlet = reg.outlet(outlet_id)
            for n in range(6):
                url = f"https://{outlet.hosts[0]}/synthetic/{day.isoformat()}/{ids_from + n}.html"
                title, body = _text(rng, 12), _text(rng, 400)
                vid = hashlib.sha1(url.encode()).hexdigest()[:16]
                versions.append(
                    {
                        "id": vid,
                        "story_id": f"s{day:%m%d}{outlet_id}{n // 2 if n < 4 else n}",
                        "url": url,
                        "canonical_url": url,
                        "outlet": outlet.id,
                        "outlet_name": outlet.name,
                        "outlet_kind": outlet.kind,
                        "platform": outlet.platform,
                        "district_name": reg.district(outlet.district).name,
                        "title": title,
                        "body": body,
                        "published_at": datetime.combine(day, dtime(9, n), tzinfo=config.TZ),
                        "fetched_at": datetime.combine(day, dtime(23, 0), tzinfo=config.TZ),
                        "char_count": len(body),
                        "content_hash": steps.content_hash(title, body),
                        "reporters": [],
                        "repairs": [],
                        "district": outlet.district,
                        "date": day,
                    }
                )
            for n in range(2):
                quarantine.append(
                    {
                        "url": f"https://{outlet.hosts[0]}/broken/{day.isoformat()}/{ids_from + n}.html",
                        "outlet": outlet.id,
                        "stage": "extract",
                        "reason": f"no prose (seed {seed})",
                        "fetched_at": datetime.combine(day, dtime(23, 0), tzinfo=config.TZ),
                        "district": outlet.district,
                        "date": day,
                    }
                )
    plan = steps.RunPlan(key, min(days), max(days), min(days), list(OUTLETS), offline_url=None, polite=False)
    run_dir = data / "runs" / key
    (run_dir / "dedupe").mkdir(parents=True, exist_ok=True)
    (run_dir / "clean").mkdir(parents=True, exist_ok=True)
    pq.write_table(
        to_table(versions, staging_schema("article_versions")), run_dir / "dedupe" / "versions.parquet"
    )
    pq.write_table(
        to_table(quarantine, staging_schema("quarantine")), run_dir / "clean" / "quarantine.parquet"
    )
    return plan


def publish_in(data: Path, plan: steps.RunPlan) -> dict:
    """`steps.publish(plan)` with `QUXIAN_DATA=data` (in this process)."""
    saved = os.environ.get("QUXIAN_DATA")
    os.environ["QUXIAN_DATA"] = str(data)
    try:
        return steps.publish(plan)
    finally:
        if saved is None:
            os.environ.pop("QUXIAN_DATA", None)
        else:
            os.environ["QUXIAN_DATA"] = saved


Snapshot = dict[tuple[str, str, str], list[str]]


def snapshot(lake_root: Path) -> Snapshot:
    """Every partition's rows (sorted reprs) by (dataset, district=…, date=…)."""
    out: Snapshot = {}
    for ds in DATASETS:
        for f in sorted((lake_root / ds).glob("district=*/date=*/data.parquet")):
            out[(ds, f.parent.parent.name, f.parent.name)] = sorted(map(repr, pq.read_table(f).to_pylist()))
    return out


def check_lake(lake_root: Path, old: Snapshot, new: Snapshot) -> list[str]:
    """What is wrong with a lake that a killed publish left, given the partitions before (`old`)
    and after a complete publish (`new`): a partition file that does not read, rows equal to
    neither version, a partition that vanished, a visible stray file. Hidden temporaries are
    allowed (the next publish sweeps them)."""
    problems: list[str] = []
    seen = set()
    for f in sorted(lake_root.rglob("*")):
        if f.is_dir():
            continue
        rel = f.relative_to(lake_root)
        if f.name == ".lock" and len(rel.parts) == 1:
            continue
        if f.name.startswith("."):
            continue  # a hidden temporary of the killed writer
        if f.name != lake.PARTITION_FILE or len(rel.parts) != 4:
            problems.append(f"stray visible file {rel}")
            continue
        key = (rel.parts[0], rel.parts[1], rel.parts[2])
        seen.add(key)
        try:
            rows = sorted(map(repr, pq.read_table(f).to_pylist()))
        except Exception as e:  # noqa: BLE001 - any read error is the finding itself
            problems.append(f"{rel}: unreadable ({type(e).__name__}: {e})")
            continue
        if rows != old.get(key) and rows != new.get(key):
            problems.append(f"{rel}: {len(rows)} rows equal to neither the old nor the new partition")
    for key in old:
        if key not in seen and key in new:
            problems.append(f"{'/'.join(key)}: partition vanished")
    return problems


@dataclass
class KillLab:
    """A lake with run A published (`old`), and run B prepared; `new` is the lake after B."""

    root: Path
    base: Path
    plan_b: steps.RunPlan
    old: Snapshot
    new: Snapshot
    publish_s: float


CHILD = """
import json, os, sys, time
from quxian import steps
import transforms.dedupe  # imported by publish on first use: load it before the kill window
plan = steps.RunPlan.from_json(json.loads(sys.argv[1]))
print("ready", flush=True)
t = time.monotonic()
steps.publish(plan)
print(f"done {time.monotonic() - t:.3f}", flush=True)
"""


def prepare_kill_lab(root: Path) -> KillLab:
    days_a = [date(2025, 11, 11) + timedelta(days=i) for i in range(3)]
    days_b = [date(2025, 11, 12) + timedelta(days=i) for i in range(3)]
    base = root / "base"
    publish_in(base, synth_run(base, "A", days_a, seed=1))
    old = snapshot(base / "lake")
    plan_b = synth_run(base, "B", days_b, seed=2, ids_from=3)  # ids 3..5 rewritten, 6..8 new
    done = root / "done"
    shutil.copytree(base, done)
    child = _spawn(done, plan_b)
    out, _ = child.communicate(timeout=120)
    assert child.returncode == 0, out
    publish_s = float(out.split("done ")[1])
    return KillLab(root, base, plan_b, old, snapshot(done / "lake"), publish_s)


def _spawn(data: Path, plan: steps.RunPlan) -> subprocess.Popen:
    env = dict(os.environ, QUXIAN_DATA=str(data))
    return subprocess.Popen(
        [PY, "-c", CHILD, json.dumps(plan.to_json())],
        cwd=CHECKOUT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


@dataclass
class KillResult:
    delay_s: float
    killed: bool  # False: the publish had finished before the signal
    problems: list[str]
    hidden_temps: int
    healed: bool  # a rerun of the publish then gave exactly the new lake


def kill_publish_once(lab: KillLab, n: int, rng: random.Random) -> KillResult:
    """Copy the old lake, start publishing B into it in a child, SIGKILL the child after a random
    delay within the publish's duration, check the lake, then rerun the publish and check it is
    the new lake exactly."""
    data = lab.root / f"kill{n}"
    shutil.copytree(lab.base, data)
    child = _spawn(data, lab.plan_b)
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        if line.strip() != "ready":
            raise AssertionError(f"publish child did not start: {line}{child.stdout.read()}")
        # Within the publish's duration as measured on an idle run: under load it only gets slower.
        delay = rng.uniform(0, lab.publish_s * 0.9)
        time.sleep(delay)
        killed = child.poll() is None
        if killed:
            # Popen.kill() signals only a child it has not reaped: never a reused PID.
            child.kill()
    finally:
        child.wait(timeout=30)
    lake_root = data / "lake"
    problems = check_lake(lake_root, lab.old, lab.new)
    temps = sum(1 for f in lake_root.rglob(".*.tmp"))
    publish_in(data, lab.plan_b)
    healed = snapshot(lake_root) == lab.new and not any(lake_root.rglob(".*.tmp"))
    shutil.rmtree(data)
    return KillResult(delay, killed, problems, temps, healed)


# ---------------------------------------------------------------- SIGKILL during publish


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> KillLab:
    return prepare_kill_lab(tmp_path_factory.mktemp("kill"))


def test_the_prepared_runs_change_and_add_partitions(lab):
    changed = [k for k in lab.old if lab.new.get(k) != lab.old[k]]
    added = [k for k in lab.new if k not in lab.old]
    assert changed and added and len(lab.new) > len(lab.old)
    assert {k[0] for k in changed} == set(DATASETS)


def test_sigkill_during_publish_leaves_each_partition_old_or_new(lab):
    rng = random.Random(6)
    results = [kill_publish_once(lab, n, rng) for n in range(KILLS_IN_DEFAULT_TESTS)]
    assert any(r.killed for r in results), f"every kill came after the publish ended: {results}"
    for r in results:
        assert r.problems == [], r
        assert r.healed, r


def test_check_lake_finds_a_torn_partition(lab, tmp_path):
    # The checker itself must fail on a half-written file and on a stray visible temporary.
    data = tmp_path / "torn"
    shutil.copytree(lab.base, data)
    f = next((data / "lake" / "articles").glob("*/*/data.parquet"))
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    (f.parent / "data.parquet.1234.tmp").write_bytes(b"x")
    problems = check_lake(data / "lake", lab.old, lab.new)
    assert any("unreadable" in p for p in problems) and any("stray" in p for p in problems)


# ---------------------------------------------------------------- two runs at once


def test_two_publishes_at_once_never_interleave(lab, tmp_path):
    data = tmp_path / "two"
    shutil.copytree(lab.base, data)
    plan_c = synth_run(data, "C", [date(2025, 11, 13), date(2025, 11, 14)], seed=3, ids_from=4)
    plan_b = lab.plan_b
    expected = []
    for order in ((plan_b, plan_c), (plan_c, plan_b)):
        seq = tmp_path / f"seq-{order[0].run_key}"
        shutil.copytree(data, seq)
        for p in order:
            publish_in(seq, p)
        expected.append(snapshot(seq / "lake"))
    assert expected[0] != expected[1]
    children = [_spawn(data, p) for p in (plan_b, plan_c)]
    outs = [c.communicate(timeout=120)[0] for c in children]
    assert [c.returncode for c in children] == [0, 0], outs
    assert snapshot(data / "lake") in expected


def test_a_second_writer_waits_or_is_refused_with_a_clear_message(tmp_path):
    root = tmp_path / "lake"
    holder = subprocess.Popen(
        [PY, "-c", "import sys, time; from pathlib import Path; from transforms.publish import lake_lock\n"
         "with lake_lock(Path(sys.argv[1])):\n    print('locked', flush=True); time.sleep(60)", str(root)],
        cwd=CHECKOUT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(lake.LakeBusy, match=rf"being written by another run \(pid {holder.pid}\)"):
            with lake.lake_lock(root):
                pass
        got = threading.Event()

        def wait_for_lock() -> None:
            with lake.lake_lock(root, wait=True):
                got.set()

        waiter = threading.Thread(target=wait_for_lock, daemon=True)
        waiter.start()
        assert not got.wait(0.5), "a second writer got the lock while the first held it"
    finally:
        holder.kill()
        holder.wait(timeout=10)
    # The kernel lock died with its holder: the waiting writer goes on.
    assert got.wait(10)
    waiter.join(timeout=10)


# ---------------------------------------------------------------- hostile partition values


@pytest.mark.parametrize(
    "district",
    ["../evil", "dazu/../../x", "", "DAZU", "dazu\x00", "a" * 40, "dazu/", ".hidden", "大足", None, 7],
)
def test_a_crafted_district_cannot_name_a_path(district, tmp_path):
    with pytest.raises(lake.BadPartition):
        lake.partition_dir(tmp_path, "articles", district, date(2025, 11, 14))


@pytest.mark.parametrize("day", ["2025-11-14", "../../etc", "2025-11-14/../..", None, 20251114])
def test_a_crafted_date_cannot_name_a_path(day, tmp_path):
    with pytest.raises(lake.BadPartition):
        lake.partition_dir(tmp_path, "articles", "dazu", day)


def test_publish_refuses_a_crafted_district_and_writes_nothing_outside_the_lake(tmp_path):
    data = tmp_path / "data"
    plan = synth_run(data, "X", [date(2025, 11, 14)], seed=5)
    f = data / "runs" / "X" / "dedupe" / "versions.parquet"
    rows = pq.read_table(f).to_pylist()
    rows[0]["district"] = "../../escaped"
    pq.write_table(to_table(rows, staging_schema("article_versions")), f)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(lake.BadPartition, match="escaped"):
        publish_in(data, plan)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert not list(data.rglob("*escaped*"))


def test_partition_values_come_from_the_registry_not_the_page():
    reg = load_registry()
    outlet = reg.outlet("xinyubao")
    raw = {
        "url": "https://xyb.txdzw.com/Html/2025-11-14/1.html",
        "district": "../../etc",
        "edition_date": "../../../passwd",
        "list_date": "2025-02-30",
        "fetched_at": "2025-11-14T23:00:00+08:00",
        "html": "",
        "platform": "xinyubao",
    }
    out = steps.clean_page(raw, outlet, reg.district(outlet.district).name)
    row = out.quarantine
    assert row is not None and row["district"] == outlet.district == "dazu"
    assert row["date"] == date(2025, 11, 14)


# ---------------------------------------------------------------- the raw archive survives a crash


def test_a_killed_crawl_leaves_a_readable_warc_archive(tmp_path):
    from quxian.sites.faults import (
        FAULT_CRAWL_SETTINGS,
        Fault,
        FaultPlan,
        crawl_settings_env,
        readable_warc_records,
        start_fault_server,
        warc_record_at,
    )

    sites_plan = FaultPlan(slow_s=0.3)
    running = start_fault_server(sites_plan)
    # Every article of the day is slow: the crawl is still writing when it is killed.
    site = running.server.sites["xyb.txdzw.com"]
    slow = [p for p in site.pages if p.startswith(("/Html/2025-11-13/", "/Html/2025-11-14/"))]
    running.server.plan = FaultPlan([Fault("xyb.txdzw.com", p, "slow") for p in slow], slow_s=0.3)
    settings = dict(FAULT_CRAWL_SETTINGS, CONCURRENT_REQUESTS_PER_DOMAIN=1, CONCURRENT_REQUESTS=1)
    env = dict(
        os.environ, QUXIAN_OFFLINE_URL=running.base_url, **crawl_settings_env(tmp_path / "s", **settings)
    )
    warc_dir = tmp_path / "raw"
    cmd = [
        PY, "-m", "scrapy", "crawl", "xinyubao", "-a", "outlet=xinyubao",
        "-a", "date_from=2025-11-13", "-a", "date_to=2025-11-14",
        "-s", f"QUXIAN_WARC_DIR={warc_dir}", "-s", "QUXIAN_POLITE=0", "-s", f"LOG_FILE={tmp_path / 'log'}",
    ]  # fmt: skip
    crawl = subprocess.Popen(cmd, cwd=CHECKOUT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while sum(a.outcome == "slow" for a in running.server.attempts_log) < 5:
            assert crawl.poll() is None, "the crawl ended before it could be killed"
            assert time.monotonic() < deadline, "the crawl fetched nothing in 90 s"
            time.sleep(0.05)
        crawl.kill()
    finally:
        crawl.wait(timeout=30)
        running.stop()
    (warc,) = list(warc_dir.glob("xinyubao-*.warc.gz"))
    n, error = readable_warc_records(warc)
    # warcinfo, robots.txt and the edition pages (request + response each), then the articles.
    assert n >= 1 + 2 * 3, (n, error)
    from warcio.archiveiterator import ArchiveIterator

    with open(warc, "rb") as fh:
        it = ArchiveIterator(fh)
        offsets = []
        try:
            for rec in it:
                rec.content_stream().read()
                if rec.rec_type == "response":
                    offsets.append((it.get_record_offset(), rec.rec_headers.get_header("WARC-Target-URI")))
        except Exception:  # noqa: BLE001, S110 - a torn last record is allowed, checked above
            pass
    assert offsets
    for offset, uri in offsets:
        assert uri.startswith("https://xyb.txdzw.com/")
        assert warc_record_at(str(warc), offset)[:2] == ("response", uri)


# ---------------------------------------------------------------- reruns and backfills


# What differs between two fetches of the same page: when and where in the archive.
VOLATILE = {"fetched_at", "warc_file", "warc_offset"}


def _rows_without_fetch_details(lake_root: Path, days: set[date]) -> dict[str, list[str]]:
    out = {}
    for ds in DATASETS:
        rows = []
        for f in sorted((lake_root / ds).glob("district=*/date=*/data.parquet")):
            if date.fromisoformat(f.parent.name.removeprefix("date=")) in days:
                rows += [
                    repr(sorted((k, v) for k, v in r.items() if k not in VOLATILE))
                    for r in pq.read_table(f).to_pylist()
                ]
        out[ds] = sorted(rows)
    return out


@pytest.mark.slow
def test_a_backfill_gives_the_rows_the_nightly_runs_gave(tmp_path, monkeypatch):
    sys.path.insert(0, str(Path(__file__).parent))
    from sitesutil import running_sites

    nights = [date(2025, 11, 13), date(2025, 11, 14), date(2025, 11, 15)]
    with running_sites() as (url, _server):
        monkeypatch.setenv("QUXIAN_DATA", str(tmp_path / "nightly"))
        archives: dict[Path, str] = {}
        for night in nights:
            steps.run(steps.plan_run(night, offline_url=url, outlets=["xinyubao", "dazu_gov"]))
            # The raw archive is append-only: a later run adds files and never touches earlier ones.
            for f, digest in archives.items():
                assert hashlib.sha256(f.read_bytes()).hexdigest() == digest, f"{f} changed after {night}"
            now = {
                f: hashlib.sha256(f.read_bytes()).hexdigest() for f in config.paths().raw.rglob("*.warc.gz")
            }
            assert len(now) > len(archives)
            archives = now
        nightly = _rows_without_fetch_details(config.paths().lake, set(nights))
        monkeypatch.setenv("QUXIAN_DATA", str(tmp_path / "backfill"))
        steps.run(steps.plan_run(nights[0], nights[-1], offline_url=url, outlets=["xinyubao", "dazu_gov"]))
        backfill = _rows_without_fetch_details(config.paths().lake, set(nights))
    assert nightly["article_versions"] and nightly == backfill
