"""The run report: figures from a small test lake, the HTML page, the JSON, the terminal table.

`write_test_lake` and `make_summary` are also used by test_health, test_report_browser and
test_analyst_docs (imported as `from test_report import ...`): one way to build a test lake.
"""

from __future__ import annotations

import json
import re
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from quxian import health, report
from quxian.config import TZ
from quxian.registry import load as load_registry
from transforms.publish import write_partition
from transforms.schema import ARTICLE_VERSIONS, ARTICLES, QUARANTINE, to_table

DAY = date(2025, 11, 14)


def _version(outlet_id: str, day: date, n: int, *, story: str, extractor: str) -> dict:
    o = load_registry().outlet(outlet_id)
    url = f"https://{o.hosts[0]}/{day:%Y%m%d}/content_{n}.htm"
    body = f"{o.name}讯 {day:%m月%d日}，第{n}条测试稿件正文。区县融媒体中心报道了乡村振兴的进展。"
    return {
        "id": f"v-{outlet_id}-{day:%Y%m%d}-{n}",
        "story_id": story,
        "url": url,
        "canonical_url": url,
        "outlet": outlet_id,
        "outlet_name": o.name,
        "outlet_kind": o.kind,
        "platform": o.platform,
        "district_name": load_registry().district(o.district).name,
        "title": f"{o.name}测试稿件{n}",
        "body": body,
        "reporters": ["余佳"],
        "published_at": datetime(day.year, day.month, day.day, 8, n % 60, tzinfo=TZ),
        "edition_date": day if o.kind == "paper" else None,
        "fetched_at": datetime(day.year, day.month, day.day, 2, 0, tzinfo=TZ) + timedelta(days=1),
        "extractor": extractor,
        "repairs": [],
        "is_mirror_copy": False,
        "char_count": len(body),
        "content_hash": f"h{outlet_id}{day:%Y%m%d}{n}",
    }


def write_test_lake(
    lake: Path,
    days: list[date],
    per_day: dict[str, int],
    *,
    generic: dict[str, int] | None = None,
    shared_stories: int = 0,
    quarantine: dict[str, list[str]] | None = None,
) -> dict[str, int]:
    """Publish `per_day[outlet]` versions per outlet and day into `lake`, as the pipeline would.

    `generic[outlet]`: that many of the outlet's versions per day come from the generic
    extractor. `shared_stories`: that many stories per day get a second version from another
    outlet of the same district (duplicates). `quarantine[outlet]`: reasons, one row each, on
    the last day. Returns row counts per dataset.
    """
    reg = load_registry()
    generic = generic or {}
    totals = {"article_versions": 0, "articles": 0, "quarantine": 0}
    for day in days:
        by_district: dict[str, list[dict]] = {}
        for oid, n in per_day.items():
            platform = reg.outlet(oid).platform
            for i in range(n):
                extractor = "generic:trafilatura" if i < generic.get(oid, 0) else f"platform:{platform}"
                by_district.setdefault(reg.outlet(oid).district, []).append(
                    _version(oid, day, i, story=f"s-{oid}-{day:%Y%m%d}-{i}", extractor=extractor)
                )
        for district, versions in by_district.items():
            outlets = sorted({v["outlet"] for v in versions})
            if shared_stories and len(outlets) > 1:
                # The second outlet's first versions join the first outlet's stories.
                firsts = [v for v in versions if v["outlet"] == outlets[0]][:shared_stories]
                for v, lead in zip([v for v in versions if v["outlet"] == outlets[1]], firsts, strict=False):
                    v["story_id"] = lead["story_id"]
            write_partition(lake, "article_versions", district, day, to_table(versions, ARTICLE_VERSIONS))
            stories: dict[str, list[dict]] = {}
            for v in versions:
                stories.setdefault(v["story_id"], []).append(v)
            rows = [
                dict(
                    vs[0],
                    canonical_version_id=vs[0]["id"],
                    version_count=len(vs),
                    outlets=sorted({v["outlet"] for v in vs}),
                    urls=[v["url"] for v in vs],
                    first_published_at=min(v["published_at"] for v in vs),
                    last_published_at=max(v["published_at"] for v in vs),
                )
                for vs in stories.values()
            ]
            write_partition(lake, "articles", district, day, to_table(rows, ARTICLES))
            totals["article_versions"] += len(versions)
            totals["articles"] += len(rows)
    for oid, reasons in (quarantine or {}).items():
        o = reg.outlet(oid)
        rows = [
            {
                "url": f"https://{o.hosts[0]}/bad/{i}.htm",
                "outlet": oid,
                "stage": "crawl" if reason.startswith("HTTP") else "extract",
                "reason": reason,
                "fetched_at": datetime(days[-1].year, days[-1].month, days[-1].day, 2, tzinfo=TZ),
                "http_status": 404 if reason.startswith("HTTP") else 200,
            }
            for i, reason in enumerate(reasons)
        ]
        write_partition(lake, "quarantine", o.district, days[-1], to_table(rows, QUARANTINE))
        totals["quarantine"] += len(rows)
    return totals


def make_summary(
    run_key: str,
    per_outlet: dict[str, int],
    *,
    dates: tuple[date, date] | None = None,
    failed: list[str] | None = None,
    duplicates: int = 0,
    quarantine_reasons: dict[str, int] | None = None,
    elapsed: dict[str, float] | None = None,
) -> dict:
    """A run summary shaped like `quxian.steps.summarize()`'s, with `versions` per outlet."""
    first, last = dates or (date.fromisoformat(run_key[:10]),) * 2
    versions = sum(per_outlet.values())
    reasons = quarantine_reasons or {}
    return {
        "run_key": run_key,
        "dates": [first.isoformat(), last.isoformat()],
        "outlets": len(per_outlet) + len(failed or []),
        "failed_outlets": list(failed or []),
        "pages_fetched": 3 * versions,
        "article_pages": versions,
        "versions": versions,
        "stories": versions - duplicates,
        "duplicates_folded": duplicates,
        "quarantined": sum(reasons.values()),
        "quarantine_reasons": reasons,
        "crawl_errors": 0,
        "per_partition": {},
        "per_outlet": {
            **{
                o: {"pages": 3 * n, "items": n, "versions": n}
                | ({"elapsed_s": elapsed[o]} if elapsed and o in elapsed else {})
                for o, n in per_outlet.items()
            },
            **{o: {"pages": 0, "items": 0, "failed": True} for o in failed or []},
        },
        "lake": "",
    }


def write_history(runs_dir: Path, last: date, nights: int, per_outlet: dict[str, int]) -> None:
    """Earlier nights' run summaries, `<runs_dir>/<day>/summary.json`, as `summarize()` leaves them."""
    for k in range(1, nights + 1):
        day = last - timedelta(days=k)
        (runs_dir / day.isoformat()).mkdir(parents=True, exist_ok=True)
        summary = make_summary(day.isoformat(), per_outlet, duplicates=k % 3)
        (runs_dir / day.isoformat() / "summary.json").write_text(json.dumps(summary), encoding="utf-8")


@pytest.fixture
def night(data_dir: Path) -> dict:
    """A lake of 5 nights for 4 outlets, history of 7 nights, and tonight's summary in which
    bswxw's yield collapsed, sxdsb fell back to the generic extractor and dazu_gov failed."""
    lake, reports = data_dir / "lake", data_dir / "reports"
    days = [DAY - timedelta(days=k) for k in range(4, -1, -1)]
    usual = {"xinyubao": 8, "sxdsb": 6, "ccrb": 5, "bswxw": 10, "dazuwang": 4}
    write_test_lake(lake, days[:-1], usual, shared_stories=2)
    tonight = dict(usual, bswxw=1)
    write_test_lake(
        lake,
        days[-1:],
        tonight,
        generic={"sxdsb": 5},
        shared_stories=2,
        quarantine={"dazu_gov": ["HTTP 503", "HTTP 503"], "ccrb": ["not an article"]},
    )
    write_history(data_dir / "runs", DAY, 7, {**usual, "dazu_gov": 3})
    summary = make_summary(
        DAY.isoformat(),
        tonight,
        failed=["dazu_gov"],
        duplicates=2,
        quarantine_reasons={"HTTP 503": 2, "not an article": 1},
        elapsed={"xinyubao": 12.5, "sxdsb": 7.25},
    )
    return {"lake": lake, "reports": reports, "summary": summary, "days": days}


def test_report_files_hold_every_chart_and_the_flags(night: dict):
    html_path, json_path = report.write_report(
        night["summary"], lake=night["lake"], task_durations={"clean": 3.5, "publish": 1.25}
    )
    assert html_path == night["reports"] / "2025-11-14.html"
    assert json_path == night["reports"] / "2025-11-14.json"
    page = html_path.read_text(encoding="utf-8")
    assert '<meta charset="utf-8">' in page
    charts = set(re.findall(r'<svg [^>]*data-chart="([a-z_]+)"', page))
    assert charts == {
        "articles_per_district_day",
        "outlet_yield",
        "duplicate_rate",
        "errors_quarantine",
        "task_durations",
    }
    # Self-contained: nothing for a browser to fetch.
    assert not re.search(r"<(script|link|img|iframe)\b", page)
    assert not re.search(r"\bsrc=|url\(", page)
    # Flags come before the first chart and name outlet and a sample URL.
    flags = page[: page.index("<svg")]
    assert "dazu_gov" in flags and "crawl failed" in flags
    assert "https://www.dazu.gov.cn/bad/0.htm" in flags  # its quarantined crawl error
    assert "bswxw" in flags and "trailing median" in flags
    assert "sxdsb" in flags and "generic extractor" in flags
    assert "三峡都市报" in flags
    assert "xinyubao</b>" not in flags

    fig = json.loads(json_path.read_text(encoding="utf-8"))
    assert (night["reports"] / "latest.json").read_text(encoding="utf-8") == json_path.read_text(
        encoding="utf-8"
    )
    assert (night["reports"] / "latest.html").read_text(encoding="utf-8") == page
    status = {h["outlet"]: h["status"] for h in fig["health"]}
    assert status == {
        "dazu_gov": "broken",
        "bswxw": "warn",
        "sxdsb": "warn",
        "xinyubao": "ok",
        "ccrb": "ok",
        "dazuwang": "ok",
    }
    grid = fig["articles_per_district_day"]
    assert len(grid["days"]) == report.HEATMAP_DAYS and grid["days"][-1] == "2025-11-14"
    dazu = next(d for d in grid["districts"] if d["district"] == "dazu")
    assert dazu["name"] == "大足区"
    # xinyubao 8 + dazuwang 4 versions a day, 2 of dazuwang's folded into xinyubao's stories.
    assert dazu["versions"][-5:] == [12] * 5 and dazu["articles"][-5:] == [10] * 5
    assert dazu["versions"][:-5] == [0] * (report.HEATMAP_DAYS - 5)
    assert fig["duplicate_rate"][-1] == {
        "run_key": "2025-11-14",
        "versions": 24,
        "duplicates_folded": 2,
        "rate": 2 / 24,
    }
    assert [r["run_key"] for r in fig["duplicate_rate"]][:2] == ["2025-11-07", "2025-11-08"]
    assert fig["quarantine_by_reason"] == {"HTTP 503": 2, "not an article": 1}
    assert fig["errors_by_reason"] == {"crawl failed": 1}
    assert fig["task_durations"] == {
        "crawl[xinyubao]": 12.5,
        "crawl[sxdsb]": 7.25,
        "clean": 3.5,
        "publish": 1.25,
    }


def test_durations_come_from_the_step_summaries(night: dict, data_dir: Path):
    run_dir = data_dir / "runs" / "2025-11-14"
    (run_dir / "crawl" / "ccrb").mkdir(parents=True)
    (run_dir / "crawl" / "ccrb" / "summary.json").write_text(
        json.dumps({"outlet": "ccrb", "elapsed_s": 4.0, "errors": [{"url": "https://epaper.ccs.cn/x.html"}]}),
        encoding="utf-8",
    )
    (run_dir / "dedupe").mkdir()
    (run_dir / "dedupe" / "summary.json").write_text(json.dumps({"versions": 3, "elapsed_s": 0.5}))
    _, json_path = report.write_report(night["summary"], lake=night["lake"])
    fig = json.loads(json_path.read_text(encoding="utf-8"))
    assert fig["task_durations"]["crawl[ccrb]"] == 4.0
    assert fig["task_durations"]["dedupe"] == 0.5
    assert "clean" not in fig["task_durations"]
    assert fig["run"]["per_outlet"]["ccrb"]["error_urls"] == ["https://epaper.ccs.cn/x.html"]


def test_versions_per_outlet_are_counted_from_the_run_when_the_summary_lacks_them(data_dir: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    run_dir = data_dir / "runs" / "2025-11-14"
    (run_dir / "dedupe").mkdir(parents=True)
    pq.write_table(pa.table({"outlet": ["ccrb", "ccrb", "sxdsb"]}), run_dir / "dedupe" / "versions.parquet")
    summary = make_summary("2025-11-14", {"ccrb": 5, "sxdsb": 1, "bswxw": 2})
    for c in summary["per_outlet"].values():
        del c["versions"]
    enriched = report.enrich_summary(summary, run_dir)
    assert {o: c["versions"] for o, c in enriched["per_outlet"].items()} == {
        "ccrb": 2,
        "sxdsb": 1,
        "bswxw": 0,
    }
    assert "versions" not in summary["per_outlet"]["ccrb"]  # the caller's dict is left alone


def test_a_backfill_does_not_replace_latest(night: dict):
    report.write_report(night["summary"], lake=night["lake"])
    older = make_summary("2025-11-01", {"ccrb": 2})
    html_path, _ = report.write_report(older, lake=night["lake"])
    assert html_path.exists()
    latest = json.loads((night["reports"] / "latest.json").read_text(encoding="utf-8"))
    assert latest["run_key"] == "2025-11-14"


def test_an_empty_lake_and_no_history_still_make_a_page(data_dir: Path):
    summary = make_summary("2025-11-14", {}, failed=["ccrb"])
    html_path, json_path = report.write_report(summary)
    page = html_path.read_text(encoding="utf-8")
    assert page.count("<svg") == 4  # no durations recorded: that section says so instead
    assert "not recorded for this run" in page
    assert "nothing quarantined" not in page  # one crawl failed
    fig = json.loads(json_path.read_text(encoding="utf-8"))
    assert fig["articles_per_district_day"]["districts"] == []
    assert [h["status"] for h in fig["health"]] == ["broken"]
    assert fig["health"][0]["sample_url"].startswith("https://epaper.ccs.cn/pc/layout/202511/14/")


def test_text_from_the_lake_is_escaped(data_dir: Path):
    summary = make_summary("2025-11-14", {"ccrb": 0}, quarantine_reasons={"<script>alert(1)</script>": 1})
    html_path, _ = report.write_report(summary)
    page = html_path.read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_terminal_table(night: dict):
    report.write_report(night["summary"], lake=night["lake"], task_durations={"clean": 3.5})
    text = report.terminal_report(DAY, reports_dir=night["reports"])
    lines = text.splitlines()
    assert lines[0].startswith("run 2025-11-14 (data 2025-11-14..2025-11-14): 6 outlets (1 failed)")
    assert "24 versions → 22 stories (8.3% duplicates)" in lines[0]
    assert lines[1] == "flags: 3"
    assert "  BROKEN dazu_gov: crawl failed" in lines
    assert "         sample https://www.dazu.gov.cn/bad/0.htm" in lines
    row = next(line for line in lines if line.strip().startswith("xinyubao"))
    assert row.split()[1:4] == ["新渝报", "ok", "8"]
    # Columns line up in a terminal: CJK characters count two cells.
    header = next(line for line in lines if line.strip().startswith("outlet "))
    assert report._width(row[: row.index(" ok ") + 1]) == header.index("status")
    assert text.endswith(f"report: {night['reports'] / '2025-11-14.html'}")
    assert report.terminal_report(date(2025, 11, 1), reports_dir=night["reports"], lake=night["lake"]) == (
        "no run report covers 2025-11-01, and the lake is empty for 2025-11-01 (run `make demo` or `quxian run`)"
    )


def test_terminal_without_reports_shows_the_lake(night: dict):
    text = report.terminal_report(DAY - timedelta(days=1), lake=night["lake"])
    lines = text.splitlines()
    assert lines[0] == "no run report covers 2025-11-13; what the lake holds:"
    dazu = next(line.split() for line in lines if line.strip().startswith("dazu"))
    assert dazu == ["dazu", "2025-11-13", "12", "10", "2", "0"]
    assert lines[-1].split() == ["total", "33", "31", "0"]


def test_report_build_time(data_dir: Path):
    """A 10-night lake of 6 outlets (4,650 versions) reports in well under the 10 s allowed."""
    lake = data_dir / "lake"
    days = [DAY - timedelta(days=k) for k in range(9, -1, -1)]
    per_day = {"xinyubao": 120, "sxdsb": 90, "ccrb": 75, "bswxw": 90, "dazuwang": 60, "dazu_gov": 30}
    rows = write_test_lake(lake, days, per_day, shared_stories=5)
    write_history(data_dir / "runs", DAY, 14, per_day)
    started = time.perf_counter()
    html_path, _ = report.write_report(make_summary(DAY.isoformat(), per_day), lake=lake)
    took = time.perf_counter() - started
    assert "no failed crawl, nothing quarantined" in html_path.read_text(encoding="utf-8")
    print(
        f"report for a lake of {rows['article_versions']} versions / {rows['articles']} articles: {took:.2f} s"
    )
    assert rows["article_versions"] == 10 * 465
    assert took < 10


def test_run_report_writes_then_fails_on_a_broken_outlet(night: dict, data_dir: Path):
    run_dir = data_dir / "runs" / "2025-11-14"
    run_dir.mkdir(parents=True)
    (run_dir / "summary.json").write_text(json.dumps(night["summary"]), encoding="utf-8")
    with pytest.raises(
        health.OutletsBroken, match=r"^1 outlet\(s\) broken: BROKEN: dazu_gov \(大足区人民政府\)"
    ):
        report.run_report("2025-11-14")
    assert (night["reports"] / "2025-11-14.html").exists()  # written before failing
    got = report.run_report("2025-11-14", fail_on_broken=False)
    assert got["html"] == str(night["reports"] / "2025-11-14.html")
    assert [f.split(":")[0] for f in got["flags"]] == ["BROKEN", "WARN", "WARN"]
    assert report.read_report("2025-11-14")["run_key"] == "2025-11-14"
    with pytest.raises(FileNotFoundError, match="run 2025-11-01: no summary"):
        report.run_report("2025-11-01")


def test_the_report_reads_the_configured_lake(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # QUXIAN_LAKE (a path here, an s3:// URI in production) is the lake the report reads, not
    # the data directory's default one.
    lake = tmp_path / "elsewhere" / "lake"
    write_test_lake(lake, [DAY], {"xinyubao": 3})
    monkeypatch.setenv("QUXIAN_LAKE", str(lake))
    _, json_path = report.write_report(make_summary(DAY.isoformat(), {"xinyubao": 3}))
    grid = json.loads(json_path.read_text(encoding="utf-8"))["articles_per_district_day"]
    dazu = next(d for d in grid["districts"] if d["district"] == "dazu")
    assert dazu["versions"][-1] == 3 and dazu["articles"][-1] == 3
