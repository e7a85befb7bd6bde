"""Crawl batches: several outlets in one Scrapy process (`quxian.steps.crawl_batch`,
`spiders.batch`) must leave per outlet exactly what a crawl of that outlet alone leaves, flag a
broken outlet alone, and never crawl two outlets of one host at once.

One fault server on 127.0.0.1 serves the offline sites for every crawl here, with one dead host
(www.bswxw.org.cn resets every connection). Crawls run politeness off with the fault runs'
short retry backoff, so a dead outlet costs about a second.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from quxian import steps
from quxian.config import CHECKOUT
from quxian.sites.build import build_sites
from quxian.sites.faults import FAULT_CRAWL_SETTINGS, FaultPlan, crawl_settings_env, start_fault_server

DAY = date(2025, 11, 14)
ALONE = ["ccrb", "xinyubao", "dazu_gov"]  # crawled one by one, then together
DEAD_OUTLET, DEAD_HOST = "bswxw", "www.bswxw.org.cn"
SHARED_HOST = "dpaper.sxcm.net"  # sxdsb (served offline) and wzsb (not served: no edition found)
BATCH = [*ALONE, "sxdsb", "wzsb", DEAD_OUTLET]
# Fields that differ between any two crawls of the same pages (clock, archive file name, where
# in it the record landed).
VOLATILE_ITEM = ("fetched_at", "warc_file", "warc_offset")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch")
    # The fault runs' settings, but the default download timeout: a page slowed past 1 s by a busy
    # machine would be retried, and the retry counted, in one crawl and not in the other.
    env = crawl_settings_env(root / "settings", **dict(FAULT_CRAWL_SETTINGS, DOWNLOAD_TIMEOUT=30))
    server = start_fault_server(FaultPlan(dead_hosts=frozenset([DEAD_HOST])), sites=build_sites())
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        mp.delenv("QUXIAN_CRAWL_BATCH", raising=False)
        try:
            mp.setenv("QUXIAN_DATA", str(root / "alone"))
            alone = steps.plan_run(DAY, outlets=ALONE, offline_url=server.base_url, polite=False)
            singles = {o: steps.crawl(alone, o) for o in ALONE}

            mp.setenv("QUXIAN_DATA", str(root / "batch"))
            plan = steps.plan_run(
                DAY, outlets=BATCH, offline_url=server.base_url, polite=False, crawl_batch=len(BATCH)
            )
            assert steps.crawl_batches(plan) == [BATCH]
            with pytest.raises(steps.CrawlFailed) as failed:
                steps.crawl_batch(plan, BATCH)
            first_log = list(server.server.attempts_log)

            # A retry of the task: only the outlets that failed are crawled again.
            ok_files = {o: _stamps(plan.run_dir / "crawl" / o) for o in ALONE + ["sxdsb"]}
            with pytest.raises(steps.CrawlFailed) as failed_again:
                steps.crawl_batch(plan, BATCH, resume=True)
            retry_log = server.server.attempts_log[len(first_log) :]
        finally:
            server.stop()
    return {
        "root": root,
        # run_dir follows QUXIAN_DATA, which is restored by now: the folders as they were.
        "alone_dir": root / "alone" / "runs" / alone.run_key,
        "batch_dir": root / "batch" / "runs" / plan.run_key,
        "singles": singles,
        "plan": plan,
        "failed": failed.value,
        "failed_again": failed_again.value,
        "first_log": first_log,
        "ok_files": ok_files,
        "retry_log": retry_log,
    }


def _stamps(folder: Path) -> dict[str, int]:
    return {f.name: f.stat().st_mtime_ns for f in folder.iterdir()}


def _items(run_dir: Path, outlet: str) -> list[dict]:
    lines = (run_dir / "crawl" / outlet / "items.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return sorted(
        ({k: v for k, v in r.items() if k not in VOLATILE_ITEM} for r in rows), key=lambda r: r["url"]
    )


def _stats(run_dir: Path, outlet: str) -> dict:
    s = json.loads((run_dir / "crawl" / outlet / "stats.json").read_text(encoding="utf-8"))
    errors = sorted(
        ({k: v for k, v in e.items() if k not in ("at", "warc_file", "warc_offset")} for e in s["errors"]),
        key=lambda e: (e["url"], e["kind"]),
    )
    keep = (
        "outlet", "platform", "date_from", "date_to", "items", "items_by_date", "requests", "responses",
        "responses_by_status", "error_counts", "robots_forbidden", "missing_editions", "offsite_skipped",
        "finish_reason",
    )  # fmt: skip
    return {k: s[k] for k in keep} | {"errors": errors}


def _warc_records(raw_dir: Path) -> Counter:
    """(record type, target URL, payload digest) of every record of the outlet's archive."""
    from warcio.archiveiterator import ArchiveIterator

    files = sorted(raw_dir.glob("*.warc.gz"))
    assert len(files) == 1, files
    found: Counter = Counter()
    with open(files[0], "rb") as fh:
        for rec in ArchiveIterator(fh):
            if rec.rec_type == "warcinfo":
                continue
            body = rec.content_stream().read()
            found[
                (rec.rec_type, rec.rec_headers.get_header("WARC-Target-URI"), hashlib.sha1(body).hexdigest())
            ] += 1
    return found


@pytest.mark.parametrize("outlet", ALONE)
def test_a_batch_leaves_per_outlet_what_a_crawl_alone_leaves(runs, outlet):
    alone, batch = runs["alone_dir"], runs["batch_dir"]
    assert _items(batch, outlet) == _items(alone, outlet)
    assert len(_items(batch, outlet)) >= 5
    assert _stats(batch, outlet) == _stats(alone, outlet)
    single = runs["singles"][outlet]
    in_batch = json.loads((batch / "crawl" / outlet / "summary.json").read_text(encoding="utf-8"))
    timing = ("elapsed_s", "batch")
    assert {k: v for k, v in in_batch.items() if k not in timing} == {
        k: v for k, v in single.items() if k not in timing
    }
    assert in_batch["batch"]["outlets"] == len(BATCH) and single["batch"]["outlets"] == 1
    # One archive per outlet, holding the same responses as the crawl alone did.
    raw = runs["root"] / "batch" / "raw" / outlet
    assert _warc_records(raw) == _warc_records(runs["root"] / "alone" / "raw" / outlet)


@pytest.mark.parametrize("outlet", ALONE)
def test_items_point_into_their_own_outlets_archive(runs, outlet):
    from quxian.sites.faults import warc_record_at

    batch = runs["batch_dir"]
    rows = [json.loads(x) for x in (batch / "crawl" / outlet / "items.jsonl").read_text().splitlines()]
    for row in rows:
        assert Path(row["warc_file"]).parent.name == outlet
        rec_type, target, _ = warc_record_at(row["warc_file"], row["warc_offset"])
        assert (rec_type, target) == ("response", row["url"])


def test_each_outlet_has_its_own_log_and_the_batch_one_log(runs):
    batch = runs["batch_dir"]
    for outlet in ALONE:
        log = (batch / "crawl" / outlet / "crawl.log").read_text(encoding="utf-8")
        assert "Spider closed (finished)" in log and f"/crawl/{outlet}/items.jsonl" in log
        others = [o for o in BATCH if o != outlet and f"/crawl/{o}/" in log]
        assert others == [], f"{outlet}'s log holds records of {others}"
    shared = (batch / "crawl-batches" / "ccrb..bswxw.log").read_text(encoding="utf-8")
    assert all(f"/crawl/{o}/items.jsonl" in shared for o in ALONE)


def test_a_broken_outlet_is_flagged_alone(runs, monkeypatch):
    failed: steps.CrawlFailed = runs["failed"]
    # The dead host and the outlet whose edition is missing fail; the others of the batch do not.
    assert set(failed.failures) == {DEAD_OUTLET, "wzsb"}
    assert f"outlet {DEAD_OUTLET}" in str(failed) and f"https://{DEAD_HOST}/" in str(failed)
    assert "outlet wzsb" in str(failed) and "no article fetched" in str(failed)
    batch = runs["batch_dir"]
    for outlet in BATCH:
        summary = json.loads((batch / "crawl" / outlet / "summary.json").read_text(encoding="utf-8"))
        # As the retry left them (it rewrote the failed ones, kept the others).
        assert summary == runs["failed_again"].summaries[outlet]
        assert summary["failed"] is (outlet in failed.failures), outlet
        if outlet not in failed.failures:
            assert summary["items"] >= 5
    dead = failed.summaries[DEAD_OUTLET]
    assert (
        dead["items"] == 0 and dead["errors"] and dead["errors"][0]["url"].startswith(f"https://{DEAD_HOST}/")
    )
    # summarize() reads those files: the run flags exactly the broken outlets.
    monkeypatch.setenv("QUXIAN_DATA", str(runs["root"] / "batch"))
    summary = steps.summarize(runs["plan"])
    assert sorted(summary["failed_outlets"]) == sorted([DEAD_OUTLET, "wzsb"])


def test_outlets_sharing_a_host_are_crawled_one_after_the_other(runs):
    on_host = [a for a in runs["first_log"] if a.host == SHARED_HOST and a.path != "/robots.txt"]
    sxdsb = [a.at for a in on_host if a.path.startswith("/sxdsb/")]
    wzsb = [a.at for a in on_host if a.path.startswith("/wzsb/")]
    assert sxdsb and wzsb
    assert max(sxdsb) < min(wzsb), "sxdsb and wzsb (one host) were crawled at the same time"


def test_a_retry_crawls_only_the_outlets_that_failed(runs):
    assert set(runs["failed_again"].failures) == {DEAD_OUTLET, "wzsb"}
    hosts = {a.host for a in runs["retry_log"]}
    assert hosts == {DEAD_HOST, SHARED_HOST}, hosts
    assert {a.path.split("/")[1] for a in runs["retry_log"] if a.host == SHARED_HOST} <= {
        "wzsb",
        "robots.txt",
    }
    batch = runs["batch_dir"]
    for outlet, stamps in runs["ok_files"].items():
        assert _stamps(batch / "crawl" / outlet) == stamps, f"{outlet} was crawled again"


def test_one_spider_that_cannot_start_leaves_the_others_running(tmp_path):
    # A spec naming the wrong platform for ccrb: its spider refuses to start; xinyubao's crawl
    # in the same process is not affected. No sites server: xinyubao's requests fail, which is
    # a finished crawl with errors, not a crash.
    def entry(outlet: str, platform: str) -> dict:
        out = tmp_path / outlet
        return {
            "outlet": outlet,
            "platform": platform,
            "date_from": "2025-11-14",
            "date_to": "2025-11-14",
            "items": str(out / "items.jsonl"),
            "stats": str(out / "stats.json"),
            "warc_dir": str(out / "raw"),
            "log": str(out / "crawl.log"),
        }

    spec = {
        "polite": False,
        "log_file": str(tmp_path / "batch.log"),
        "result_file": str(tmp_path / "result.json"),
        "lanes": [[entry("ccrb", "xinyubao")], [entry("xinyubao", "xinyubao")]],
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
    env = dict(os.environ, **crawl_settings_env(tmp_path / "settings", **FAULT_CRAWL_SETTINGS))
    env["QUXIAN_OFFLINE_URL"] = "http://127.0.0.1:9"  # discard port: every fetch fails at once
    proc = subprocess.run(
        [sys.executable, "-m", "spiders.batch", str(tmp_path / "spec.json")],
        cwd=CHECKOUT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads((tmp_path / "result.json").read_text(encoding="utf-8"))
    assert result["xinyubao"] == {"finished": True}
    assert result["ccrb"]["finished"] is False and "founder_pc" in result["ccrb"]["error"]
    assert (tmp_path / "xinyubao" / "stats.json").exists()
    assert not (tmp_path / "ccrb" / "stats.json").exists()


def test_batches_keep_shared_hosts_together_and_follow_the_size():
    outlets = ["xinyubao", "sxdsb", "ccrb", "dazu_gov", "wzsb", "bswxw", "wanzhou_gov"]
    plan = steps.RunPlan("k", DAY, DAY, DAY, outlets, crawl_batch=2)
    batches = steps.crawl_batches(plan)
    assert sorted(o for b in batches for o in b) == sorted(outlets)
    together = [b for b in batches if "sxdsb" in b]
    assert len(together) == 1 and "wzsb" in together[0]
    # Only a shared-host group may push a batch past the size.
    assert all(len(b) <= 2 or {"sxdsb", "wzsb"} <= set(b) for b in batches)
    assert steps.crawl_batches(steps.RunPlan("k", DAY, DAY, DAY, outlets, crawl_batch=1)) == [
        ["xinyubao"], ["sxdsb", "wzsb"], ["ccrb"], ["dazu_gov"], ["bswxw"], ["wanzhou_gov"]
    ]  # fmt: skip


def test_batch_size_default_and_override(monkeypatch):
    assert [steps.auto_crawl_batch(n) for n in (1, 8, 32, 38, 100, 400, 5000)] == [1, 1, 1, 2, 4, 13, 16]
    monkeypatch.delenv("QUXIAN_CRAWL_BATCH", raising=False)
    assert steps.plan_run(DAY, outlets=["ccrb", "xinyubao"], offline_url="http://x").crawl_batch == 1
    monkeypatch.setenv("QUXIAN_CRAWL_BATCH", "5")
    assert steps.plan_run(DAY, outlets=["ccrb"], offline_url="http://x").crawl_batch == 5
    assert steps.plan_run(DAY, outlets=["ccrb"], offline_url="http://x", crawl_batch=3).crawl_batch == 3
    monkeypatch.setenv("QUXIAN_CRAWL_BATCH", "many")
    with pytest.raises(steps.StepError, match="QUXIAN_CRAWL_BATCH"):
        steps.plan_run(DAY, outlets=["ccrb"], offline_url="http://x")
    monkeypatch.delenv("QUXIAN_CRAWL_BATCH")
    # Plans written before batches existed crawl one outlet per task.
    old = steps.plan_run(DAY, outlets=["ccrb"], offline_url="http://x").to_json()
    del old["crawl_batch"]
    assert steps.RunPlan.from_json(old).crawl_batch == 1
    assert steps.batch_label(["ccrb"]) == "ccrb"
    assert steps.batch_label(["a", "b", "c"]) == "a..c (3)"


def test_a_killed_batch_fails_every_outlet_it_did_not_finish(tmp_path, monkeypatch):
    monkeypatch.setenv("QUXIAN_DATA", str(tmp_path))
    monkeypatch.setattr(steps, "CRAWL_TIMEOUT_S", 0.05)  # killed while Scrapy is still starting
    plan = steps.plan_run(DAY, outlets=["ccrb", "xinyubao"], offline_url="http://127.0.0.1:9", polite=False)
    with pytest.raises(steps.CrawlFailed) as failed:
        steps.crawl_batch(plan, ["ccrb", "xinyubao"])
    assert set(failed.value.failures) == {"ccrb", "xinyubao"}
    msg = failed.value.failures["ccrb"]
    assert "crawl killed after 0.05 s" in msg and "https://epaper.ccs.cn/" in msg
    for outlet in ("ccrb", "xinyubao"):
        summary = json.loads((plan.run_dir / "crawl" / outlet / "summary.json").read_text(encoding="utf-8"))
        assert summary["failed"] is True and summary["error"].startswith("crawl killed")
