"""The whole pipeline over the offline sites: three nightly runs, then a rerun.

Real Scrapy crawls over HTTP on 127.0.0.1, real Parquet read back with DuckDB and pandas.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pyarrow.parquet as pq
import pytest

from quxian import config, steps
from quxian.cli import OfflineSites
from quxian.lakeviews import connect
from quxian.registry import load

NIGHTS = [date(2025, 11, 13), date(2025, 11, 14), date(2025, 11, 15)]


def _lake_rows(lake) -> dict[str, list]:
    out = {}
    for name in ("article_versions", "articles", "quarantine"):
        files = sorted((lake / name).glob("district=*/date=*/data.parquet"))
        out[name] = sorted(
            (str(f.relative_to(lake)), sorted(map(str, pq.read_table(f).to_pylist()))) for f in files
        )
    return out


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    data = tmp_path_factory.mktemp("pipeline") / "data"
    mp = pytest.MonkeyPatch()
    mp.setenv("QUXIAN_DATA", str(data))
    summaries = []
    with OfflineSites() as url:
        for night in NIGHTS:
            summaries.append(steps.run(steps.plan_run(night, offline_url=url)))
        before = _lake_rows(config.paths().lake)
        rerun = steps.run(steps.plan_run(NIGHTS[1], offline_url=url))
        after = _lake_rows(config.paths().lake)
    yield {
        "lake": config.paths().lake,
        "summaries": summaries,
        "before": before,
        "after": after,
        "rerun": rerun,
    }
    mp.undo()


@pytest.fixture(scope="module")
def con(lake):
    return connect(lake["lake"])


def test_every_night_ran_every_offline_outlet(lake):
    offline = {o.id for o in load().offline_outlets()}
    for s in lake["summaries"]:
        assert s["failed_outlets"] == []
        assert set(s["per_outlet"]) == offline
        assert s["versions"] > 0 and s["pages_fetched"] >= s["article_pages"]


def test_every_offline_outlet_contributes_articles_each_day(con):
    offline = {o.id for o in load().offline_outlets()}
    rows = con.execute(
        "SELECT outlet, date, count(*) FROM article_versions WHERE date BETWEEN '2025-11-13' AND '2025-11-15' GROUP BY ALL"
    ).fetchall()
    per = {(o, d): n for o, d, n in rows}
    for outlet in offline:
        for day in NIGHTS:
            assert per.get((outlet, day), 0) >= 5, f"{outlet} on {day}: {per.get((outlet, day), 0)} versions"


def test_hive_partitions_are_typed_and_match_the_rows(con):
    types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE article_versions)").fetchall())
    assert types["date"] == "DATE" and types["district"] == "VARCHAR"
    assert types["published_at"] == "TIMESTAMP WITH TIME ZONE"
    # The partition date is the publication date in Asia/Shanghai.
    bad = con.execute(
        "SELECT count(*) FROM article_versions WHERE published_at IS NOT NULL "
        "AND CAST(timezone('Asia/Shanghai', published_at) AS DATE) <> date"
    ).fetchone()[0]
    assert bad == 0
    assert (
        con.execute("SELECT count(*) FROM article_versions WHERE published_at > fetched_at").fetchone()[0]
        == 0
    )


def test_pandas_reads_the_lake(lake):
    df = pd.read_parquet(lake["lake"] / "articles")
    assert {"district", "date", "story_id", "title", "body", "outlets", "urls"} <= set(df.columns)
    assert df["story_id"].is_unique
    assert set(df["district"].astype(str)) == {o.district for o in load().offline_outlets()}


def test_one_row_per_story_and_every_version_kept(con):
    n_stories = con.execute("SELECT count(DISTINCT story_id) FROM article_versions").fetchone()[0]
    assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == n_stories
    # Every version's story has exactly one articles row, and the counts agree.
    mismatch = con.execute(
        "SELECT count(*) FROM articles a JOIN (SELECT story_id, count(*) n FROM article_versions GROUP BY 1) v "
        "USING (story_id) WHERE a.version_count <> v.n"
    ).fetchone()[0]
    assert mismatch == 0
    assert (
        con.execute(
            "SELECT count(*) FROM article_versions WHERE id IN (SELECT id FROM article_versions GROUP BY id HAVING count(*) > 1)"
        ).fetchone()[0]
        == 0
    )


def test_the_seed_story_is_one_story_with_all_its_versions(con):
    rows = con.execute(
        "SELECT outlet, story_id, title FROM article_versions WHERE body LIKE '%区委常委会召开扩大会议%'"
    ).fetchall()
    outlets = {r[0] for r in rows}
    assert {"xinyubao", "dazuwang", "dazu_gov", "mirror_cqxw"} <= outlets
    assert len({r[1] for r in rows}) == 1, rows
    story = con.execute(
        "SELECT title, outlet, version_count, outlets, body FROM articles WHERE story_id = ?", [rows[0][1]]
    ).fetchone()
    assert story[0] == "大足区委常委会举行扩大会议"
    assert story[1] == "xinyubao"  # the originating paper's version is canonical
    assert story[2] == len(rows) and set(story[3]) == outlets
    assert story[4].startswith("新渝报讯") and "網" not in story[4] and "(qū)" not in story[4]


def test_recurring_bulletins_stay_separate_stories(con):
    rows = con.execute(
        "SELECT date, count(DISTINCT story_id) FROM article_versions WHERE outlet = 'dazu_gov' AND title LIKE '%空气质量%' GROUP BY 1"
    ).fetchall()
    stories = con.execute(
        "SELECT count(DISTINCT story_id) FROM article_versions WHERE outlet = 'dazu_gov' AND title LIKE '%空气质量%'"
    ).fetchone()[0]
    assert len(rows) >= 3 and stories == len(rows)


def test_rerunning_a_night_leaves_the_same_rows(lake):
    assert lake["rerun"]["failed_outlets"] == []
    assert lake["after"] == lake["before"]
