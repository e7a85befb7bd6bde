"""Step functions without a crawl: run planning, the one-run-per-dates rule, and clean_pages on
items files as a crawl leaves them (torn, unreadable, of a failed crawl)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pyarrow.parquet as pq
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


# ---------------------------------------------------------------- clean: one outlet's bad items file

CLEAN_DAY = date(2025, 11, 14)


def _raw_items(outlet_id: str, n: int = 4) -> list[dict]:
    """Raw page items as a crawl of the offline sites writes them (spiders.items.RawPage), for
    `n` article pages of the outlet dated CLEAN_DAY."""
    import re

    from quxian.registry import load as load_registry
    from quxian.sites.build import build_sites

    outlet = load_registry().outlet(outlet_id)
    host = outlet.hosts[0]
    shape = {"xinyubao": r"^/Html/2025-11-14/\d+\.html$", "dazu_gov": r"/202511/t20251114_\d+\.html$"}
    site = build_sites()[host]
    paths = sorted(p for p in site.pages if re.search(shape[outlet_id], p) and not p.startswith("/admin"))[:n]
    assert len(paths) == n, paths
    items = []
    for p in paths:
        page = site.pages[p]
        m = re.search(r"charset=([\w-]+)", page.content_type)
        items.append(
            {
                "url": f"https://{host}{p}",
                "outlet": outlet_id,
                "district": outlet.district,
                "platform": outlet.platform,
                "fetched_at": "2025-11-15T03:00:00+08:00",
                "status": 200,
                "encoding": m[1] if m else "utf-8",
                "html": page.body.decode(m[1] if m else "utf-8"),
                "edition_date": "2025-11-14" if outlet.platform == "xinyubao" else None,
                "list_date": None if outlet.platform == "xinyubao" else "2025-11-14",
                "meta": {},
            }
        )
    return items


def _write_crawl(plan, outlet_id: str, lines: bytes, *, failed: bool = False, errors=()) -> None:
    out = plan.run_dir / "crawl" / outlet_id
    out.mkdir(parents=True, exist_ok=True)
    (out / "items.jsonl").write_bytes(lines)
    summary = {"outlet": outlet_id, "items": lines.count(b"\n"), "failed": failed, "errors": list(errors)}
    (out / "summary.json").write_text(json.dumps(summary), encoding="utf-8")


def _jsonl_bytes(items: list[dict]) -> bytes:
    return b"".join(json.dumps(it, ensure_ascii=False).encode() + b"\n" for it in items)


def _clean_plan():
    return steps.plan_run(CLEAN_DAY, offline_url="http://127.0.0.1:9", outlets=["xinyubao", "dazu_gov"])


def _staged(plan, name: str) -> list[dict]:
    return pq.read_table(plan.run_dir / "clean" / f"{name}.parquet").to_pylist()


def test_a_torn_last_line_costs_only_that_page(data_dir):
    plan = _clean_plan()
    torn_items, other = _raw_items("xinyubao"), _raw_items("dazu_gov")
    whole = _jsonl_bytes(torn_items)
    # A crawl killed while writing its fifth item: four whole lines and the start of a fifth.
    fifth = dict(torn_items[0], url=torn_items[0]["url"].replace(".html", "9.html"))
    cut = json.dumps(fifth, ensure_ascii=False).encode()[:300]
    _write_crawl(plan, "xinyubao", whole + cut)
    _write_crawl(plan, "dazu_gov", _jsonl_bytes(other))
    result = steps.clean_pages(plan)
    versions = {r["url"] for r in _staged(plan, "versions")}
    assert versions == {it["url"] for it in torn_items + other}
    quarantine = _staged(plan, "quarantine")
    assert [(r["url"], r["outlet"], r["stage"], r["reason"]) for r in quarantine] == [
        (fifth["url"], "xinyubao", "crawl", "torn items line")
    ]
    assert "items.jsonl:5" in quarantine[0]["detail"]
    assert result["torn_lines"] == 1 and result["pages"] == 8 and not result.get("failed_outlets")


def test_an_unreadable_items_file_fails_that_outlet_only(data_dir):
    plan = _clean_plan()
    bad_items, other = _raw_items("xinyubao"), _raw_items("dazu_gov")
    lines = _jsonl_bytes(bad_items[:2]) + b'{"url": "https://xyb.txdzw.com/x", \xff\xfe garbage\n'
    _write_crawl(plan, "xinyubao", lines + _jsonl_bytes(bad_items[2:]))
    _write_crawl(plan, "dazu_gov", _jsonl_bytes(other))
    result = steps.clean_pages(plan)
    # The other outlet is cleaned; nothing of the broken file is (not even its good first lines).
    assert {r["url"] for r in _staged(plan, "versions")} == {it["url"] for it in other}
    failed = result["failed_outlets"]
    assert list(failed) == ["xinyubao"]
    assert "xinyubao" in failed["xinyubao"] and "crawl/xinyubao/items.jsonl:3" in failed["xinyubao"]
    # And the run summary names it among the failed outlets.
    assert "xinyubao" in steps.summarize(plan)["failed_outlets"]


def test_clean_does_not_read_the_items_of_a_failed_crawl(data_dir):
    plan = _clean_plan()
    error = {"url": "https://xyb.txdzw.com/Html/2025-11-14/index.html", "reason": "HTTP 503", "status": 503}
    # A crawl whose summary says failed: what its items file holds is not trusted (torn, partial).
    _write_crawl(
        plan, "xinyubao", _jsonl_bytes(_raw_items("xinyubao")) + b'{"url": "ht', failed=True, errors=[error]
    )
    _write_crawl(plan, "dazu_gov", _jsonl_bytes(_raw_items("dazu_gov")))
    result = steps.clean_pages(plan)
    assert {r["outlet"] for r in _staged(plan, "versions")} == {"dazu_gov"}
    # Its crawl errors are still quarantined.
    assert [(r["url"], r["reason"]) for r in _staged(plan, "quarantine")] == [(error["url"], "HTTP 503")]
    assert result["failed_crawls_skipped"] == 1
