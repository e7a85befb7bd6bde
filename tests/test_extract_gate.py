"""Quality gate: our extraction on the labelled real pages must not drop below the recorded baseline.

Like trafilatura's evaluation gate: `benchmarks/bench_extract.py --record-baseline` records our
figures in `benchmarks/baselines/extract.json`; this test recomputes them on the human-labelled
body pages and the date-labelled pages of `../shared/corpus` (read at run time, never copied)
and fails when one falls more than `TOLERANCE` below the record. The tolerance only absorbs
floating-point and library-version noise: on 38 pages one page getting worse by 0.2 F1 already
costs 0.005. Runs in a few seconds (only our extractor, no baselines libraries).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from quxian.config import shared_dir

CHECKOUT = Path(__file__).resolve().parent.parent
BASELINE = CHECKOUT / "benchmarks" / "baselines" / "extract.json"
TOLERANCE = 0.005


def _bench():
    spec = importlib.util.spec_from_file_location(
        "bench_extract", CHECKOUT / "benchmarks" / "bench_extract.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    # Dataclasses look their module up in sys.modules while the class is created.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def results():
    if not (shared_dir() / "corpus" / "manifest.jsonl").exists():
        pytest.skip("shared corpus not present")
    bench = _bench()
    pages = [p for p in bench.load_pages() if p.human_body or p.date]
    return bench.evaluate(pages, ["ours"])["ours"]


@pytest.fixture(scope="module")
def baseline() -> dict:
    return json.loads(BASELINE.read_text(encoding="utf-8"))


@pytest.mark.parametrize("metric", ["f1", "precision", "recall"])
def test_body_on_human_labelled_pages_not_below_baseline(results, baseline, metric):
    got, want = results["human"][metric], baseline["human"][metric]
    assert got >= want - TOLERANCE, f"human-labelled body {metric} {got:.4f} < baseline {want:.4f}"


def test_body_per_human_labelled_group_not_below_baseline(results, baseline):
    """Articles and forum threads separately: a gain on one must not hide a loss on the other."""
    groups = baseline.get("human_groups") or {}
    assert groups, "baseline has no per-group figures: re-record it"
    for group, want in groups.items():
        got = results[group]["f1"]
        assert got >= want["f1"] - TOLERANCE, f"{group} body F1 {got:.4f} < baseline {want['f1']:.4f}"


@pytest.mark.parametrize("subset", ["dates-human", "dates-all"])
def test_dates_not_below_baseline(results, baseline, subset):
    got, want = results[subset]["date"], baseline[subset]["date"]
    assert got >= want - TOLERANCE, f"{subset} date accuracy {got:.4f} < baseline {want:.4f}"


def test_dates_are_shanghai_and_not_in_the_future():
    bench = _bench()
    from transforms.extract import extract

    for page in [p for p in bench.load_pages() if p.date]:
        fetched = "2026-01-01T00:00:00+08:00"
        ex = extract(page.path.read_bytes(), page.url, hints={"fetched_at": fetched})
        if ex.published_at is not None:
            assert ex.published_at.utcoffset() == timedelta(hours=8), page.path
            assert ex.published_at.isoformat() <= fetched, page.path
