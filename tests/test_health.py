"""Broken-outlet detection: the policy's rules, the history it reads, the URL it names."""

from __future__ import annotations

import json
import logging
from datetime import date, timedelta
from pathlib import Path

import pytest
from test_report import DAY, make_summary, write_test_lake

from quxian import health


def _history(nights: int, per_outlet: dict[str, int], last: date = DAY) -> list[dict]:
    return [make_summary((last - timedelta(days=k)).isoformat(), per_outlet) for k in range(1, nights + 1)]


def _by_outlet(verdicts: list[health.OutletHealth]) -> dict[str, health.OutletHealth]:
    return {h.outlet: h for h in verdicts}


def test_zero_yield_is_broken_even_without_history():
    summary = make_summary("2025-11-14", {"ccrb": 0, "sxdsb": 4})
    summary["per_outlet"]["ccrb"]["error_urls"] = ["https://epaper.ccs.cn/pc/layout/202511/14/node_01.html"]
    got = _by_outlet(health.assess(summary, []))
    assert got["ccrb"].status == "broken" and got["ccrb"].reason == "zero articles"
    assert got["ccrb"].sample_url == "https://epaper.ccs.cn/pc/layout/202511/14/node_01.html"
    assert got["sxdsb"].status == "ok" and got["sxdsb"].expected is None


def test_pages_that_all_ended_in_quarantine_are_broken():
    summary = make_summary("2025-11-14", {"ccrb": 0})
    summary["per_outlet"]["ccrb"].update(items=12)
    (h,) = health.assess(summary, [])
    assert h.status == "broken"
    assert h.reason == "zero article versions from 12 article pages"


def test_a_failed_crawl_is_broken_and_names_a_quarantined_crawl_url(data_dir: Path):
    lake = data_dir / "lake"
    write_test_lake(lake, [DAY], {"xinyubao": 3}, quarantine={"dazu_gov": ["not an article", "HTTP 503"]})
    summary = make_summary("2025-11-14", {"xinyubao": 3}, failed=["dazu_gov", "ccrb"])
    got = _by_outlet(health.assess(summary, [], lake=lake))
    assert got["dazu_gov"].status == "broken" and got["dazu_gov"].crawl_failed
    assert got["dazu_gov"].reason == "crawl failed"
    # The crawl-stage row (HTTP 503, /bad/1.htm) is preferred over the extract one.
    assert got["dazu_gov"].sample_url == "https://www.dazu.gov.cn/bad/1.htm"
    # Nothing in the lake: the registry's start URL for the run's date.
    assert got["ccrb"].sample_url == "https://epaper.ccs.cn/pc/layout/202511/14/node_01.html"
    assert got["ccrb"].outlet_name == "长寿日报" and got["ccrb"].district == "changshou"
    assert [h.status for h in health.assess(summary, [], lake=lake)] == ["broken", "broken", "ok"]


def test_low_yield_against_the_trailing_median_warns():
    history = _history(5, {"bswxw": 10, "ccrb": 10})
    summary = make_summary("2025-11-14", {"bswxw": 2, "ccrb": 3})
    got = _by_outlet(health.assess(summary, history))
    assert got["bswxw"].status == "warn"
    assert got["bswxw"].expected == 10 and got["bswxw"].history_runs == 5
    assert "below 30% of the trailing median 10.0" in got["bswxw"].reason
    assert got["ccrb"].status == "ok"  # 3 is 30 %, not below it


def test_with_too_little_history_only_the_zero_rule_applies():
    summary = make_summary("2025-11-14", {"bswxw": 1})
    (h,) = health.assess(summary, _history(2, {"bswxw": 50}))
    assert h.status == "ok" and h.expected is None and h.history_runs == 2
    (h,) = health.assess(summary, _history(3, {"bswxw": 50}))
    assert h.status == "warn"


def test_the_median_ignores_one_bad_night_and_the_window_is_bounded():
    history = _history(4, {"ccrb": 10}) + _history(20, {"ccrb": 1}, last=DAY - timedelta(days=4))
    history[1]["per_outlet"]["ccrb"]["versions"] = 0
    (h,) = health.assess(make_summary("2025-11-14", {"ccrb": 4}), history)
    # Window of 14: 4 nights at 10 (one of them 0) and 10 at 1 → median 1.
    assert h.expected == 1 and h.history_runs == 14 and h.status == "ok"
    policy = health.HealthPolicy(window=4)
    (h,) = health.assess(make_summary("2025-11-14", {"ccrb": 2}), history, policy=policy)
    assert h.expected == 10 and h.status == "warn"


def test_yields_are_compared_per_day():
    history = _history(5, {"ccrb": 10})
    three_days = (DAY - timedelta(days=2), DAY)
    (h,) = health.assess(make_summary("2025-11-12_2025-11-14", {"ccrb": 25}, dates=three_days), history)
    assert h.expected == 30 and h.status == "ok"
    (h,) = health.assess(make_summary("2025-11-12_2025-11-14", {"ccrb": 8}, dates=three_days), history)
    assert h.status == "warn"


def test_generic_extraction_share_warns_above_half(data_dir: Path):
    lake = data_dir / "lake"
    write_test_lake(
        lake, [DAY], {"sxdsb": 6, "ccrb": 6, "bswxw": 3}, generic={"sxdsb": 4, "ccrb": 3, "bswxw": 3}
    )
    summary = make_summary("2025-11-14", {"sxdsb": 6, "ccrb": 6, "bswxw": 3})
    got = _by_outlet(health.assess(summary, [], lake=lake))
    assert got["sxdsb"].status == "warn" and got["sxdsb"].generic_share == pytest.approx(4 / 6, abs=1e-4)
    assert got["sxdsb"].reason.startswith("67% of 6 pages fell back to the generic extractor")
    assert got["sxdsb"].sample_url == "https://dpaper.sxcm.net/20251114/content_0.htm"
    assert got["ccrb"].status == "ok" and got["ccrb"].generic_share == 0.5  # half is not "more than half"
    assert got["bswxw"].status == "ok" and got["bswxw"].generic_share == 1.0  # 3 rows: too few to judge
    # The mirrors have no body rule: the generic path is their normal one.
    write_test_lake(lake, [DAY], {"mirror_cqxw": 6}, generic={"mirror_cqxw": 6})
    mirror = make_summary("2025-11-14", {"mirror_cqxw": 6})
    (h,) = health.assess(mirror, [], lake=lake)
    assert h.generic_share == 1.0 and h.status == "ok"
    (h,) = health.assess(mirror, [], lake=lake, policy=health.HealthPolicy(generic_exempt_platforms=()))
    assert h.status == "warn"
    # Rows outside the run's dates do not count.
    other = make_summary("2025-11-15", {"sxdsb": 6})
    assert health.assess(other, [], lake=lake)[0].generic_share is None


def test_summaries_without_versions_use_article_pages():
    summary = make_summary("2025-11-14", {"ccrb": 7})
    del summary["per_outlet"]["ccrb"]["versions"]
    assert health.outlet_yields(summary) == {"ccrb": 7}


def _write(path: Path, doc: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc), encoding="utf-8")


def test_history_reads_reports_and_run_summaries(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    reports, runs = tmp_path / "reports", tmp_path / "runs"
    for k in range(1, 4):
        day = (DAY - timedelta(days=k)).isoformat()
        _write(runs / day / "summary.json", make_summary(day, {"ccrb": k}))
    # The report of 11-13 carries the enriched summary: it replaces the run's own.
    _write(reports / "2025-11-13.json", {"format": 1, "run": make_summary("2025-11-13", {"ccrb": 99})})
    _write(reports / "latest.json", {"format": 1, "run": make_summary("2025-11-13", {"ccrb": 55})})
    _write(runs / "2025-11-14" / "summary.json", make_summary("2025-11-14", {"ccrb": 1}))  # this run
    _write(runs / "2025-11-20" / "summary.json", make_summary("2025-11-20", {"ccrb": 1}))  # later
    (runs / "2025-11-09").mkdir()
    (runs / "2025-11-09" / "summary.json").write_text("{not json", encoding="utf-8")
    current = make_summary("2025-11-14", {"ccrb": 1})
    with caplog.at_level(logging.WARNING, logger="quxian.health"):
        got = health.load_history(current, reports_dir=reports, runs_dir=runs)
    assert [(s["run_key"], s["per_outlet"]["ccrb"]["versions"]) for s in got] == [
        ("2025-11-13", 99),
        ("2025-11-12", 2),
        ("2025-11-11", 3),
    ]
    assert "2025-11-09" in caplog.text
    assert len(health.load_history(current, reports_dir=reports, runs_dir=runs, limit=2)) == 2
    # A backfill of 11-12 sees only what lies before it.
    backfill = make_summary("2025-11-12", {"ccrb": 1})
    assert [s["run_key"] for s in health.load_history(backfill, runs_dir=runs)] == ["2025-11-11"]


def test_raise_for_broken_names_outlets_and_urls(caplog: pytest.LogCaptureFixture):
    history = _history(3, {"bswxw": 10})
    summary = make_summary("2025-11-14", {"bswxw": 1, "ccrb": 0, "sxdsb": 5})
    verdicts = health.assess(summary, history)
    assert [h.status for h in verdicts] == ["broken", "warn", "ok"]
    with caplog.at_level(logging.WARNING, logger="quxian.health"):
        with pytest.raises(health.OutletsBroken) as err:
            health.raise_for_broken(verdicts)
    assert str(err.value) == (
        "1 outlet(s) broken: BROKEN: ccrb (长寿日报): zero articles; "
        "sample https://epaper.ccs.cn/pc/layout/202511/14/node_01.html"
    )
    assert "WARN: bswxw (璧山网): yield 1 is below 30%" in caplog.text
    health.raise_for_broken([h for h in verdicts if h.status != "broken"])  # warnings never raise
