"""docs/analysts.md is true: every column of every dataset is documented with its type, and the
DuckDB, pandas, Polars and `quxian query` examples run against a test lake and give the answers
that reading the partitions directly gives."""

from __future__ import annotations

import io
import re
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from test_report import DAY, write_test_lake

from quxian import cli
from quxian.lakeviews import connect
from transforms import publish
from transforms.schema import DATASETS, PARTITION_COLUMNS

DOC = Path(__file__).resolve().parent.parent / "docs" / "analysts.md"
KEYWORD = "乡村振兴"


def _doc_type(f: pa.Field) -> str:
    t = f.type
    if pa.types.is_list(t):
        name = f"list<{_doc_type(pa.field('item', t.value_type))}>"
    elif pa.types.is_timestamp(t):
        assert t.tz == "+08:00", f"{f.name}: the docs promise +08:00 timestamps"
        name = "timestamp"
    else:
        name = {pa.string(): "string", pa.int32(): "int32", pa.int64(): "int64", pa.bool_(): "bool"}.get(
            t, "date" if pa.types.is_date32(t) else str(t)
        )
    return name if f.nullable else f"{name}, required"


def _documented_columns() -> dict[str, list[tuple[str, str, str]]]:
    """dataset → [(column, type, meaning)] from the tables under `### \\`<dataset>\\``."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    current = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^### `(\w+)`\s*$", line)
        if m:
            current = m.group(1)
            out[current] = []
            continue
        if line.startswith("#"):
            current = None
        m = re.match(r"^\| `(\w+)` \| ([^|]+) \| (.+) \|$", line)
        if current and m:
            out[current].append((m.group(1), m.group(2).strip(), m.group(3).strip()))
    return out


def test_every_column_of_every_dataset_is_documented_with_its_type():
    documented = _documented_columns()
    assert set(documented) == set(DATASETS)
    for name, schema in DATASETS.items():
        partitions = [
            pa.field(c, pa.string() if c == "district" else pa.date32(), nullable=False)
            for c in PARTITION_COLUMNS
        ]
        expected = [(f.name, _doc_type(f)) for f in [*partitions, *schema]]
        got = [(c, t) for c, t, _ in documented[name]]
        assert got == expected, (
            f"docs/analysts.md, dataset {name}: columns or types differ from transforms/schema.py"
        )
        for column, _, meaning in documented[name]:
            assert len(meaning) > 8, f"{name}.{column}: say what it means"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", DOC.read_text(encoding="utf-8"), flags=re.S | re.M)


@pytest.fixture(scope="module")
def shared_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two days, three outlets in two districts, stories shared between two dazu outlets, one
    outlet's bodies without the keyword, quarantine rows. Built once: no test writes to it."""
    lake = tmp_path_factory.mktemp("docs") / "data" / "lake"
    write_test_lake(
        lake,
        [DAY - timedelta(days=1), DAY],
        {"xinyubao": 4, "dazuwang": 3, "ccrb": 2},
        shared_stories=2,
        quarantine={"ccrb": ["HTTP 404", "HTTP 404"], "dazu_gov": ["not an article"]},
    )
    # ccrb's pages do not mention the keyword: a search must not return everything.
    for district, day in publish.list_partitions(lake, "article_versions"):
        if district == "changshou":
            t = publish.read_partition(lake, "article_versions", district, day)
            body = pa.array([b.replace(KEYWORD, "城市更新") for b in t.column("body").to_pylist()])
            t = t.set_column(t.schema.get_field_index("body"), "body", body)
            publish.write_partition(lake, "article_versions", district, day, t)
    return lake


@pytest.fixture
def lake(shared_lake: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shared lake as QUXIAN_DATA, and the examples' relative `data/lake` pointing at it."""
    monkeypatch.setenv("QUXIAN_DATA", str(shared_lake.parent))
    monkeypatch.chdir(shared_lake.parent.parent)
    return shared_lake


def _truth(lake: Path) -> dict:
    """What the partitions hold, read file by file with pyarrow (no query engine involved)."""
    stories: Counter = Counter()
    pages: Counter = Counter()
    versions, articles = [], []
    for district, day in publish.list_partitions(lake, "articles"):
        rows = publish.read_partition(lake, "articles", district, day).to_pylist()
        stories[(district, day)] += len(rows)
        articles += rows
    for district, day in publish.list_partitions(lake, "article_versions"):
        rows = publish.read_partition(lake, "article_versions", district, day).to_pylist()
        pages[district] += len(rows)
        versions += rows
    top = sorted(articles, key=lambda a: (-a["version_count"], a["story_id"]))[0]
    return {
        "stories": stories,
        "per_district": {d: sum(n for (dd, _), n in stories.items() if dd == d) for d, _ in stories},
        "story_id": top["story_id"],
        "story_urls": sorted(top["urls"]),
        "canonical": top["canonical_version_id"],
        "hits": sorted(v["url"] for v in versions if KEYWORD in v["body"]),
        "multi": sum(1 for a in articles if a["version_count"] > 1),
        "quarantine": Counter(
            (r["outlet"], r["stage"], r["reason"])
            for d, day in publish.list_partitions(lake, "quarantine")
            for r in publish.read_partition(lake, "quarantine", d, day).to_pylist()
        ),
    }


def _run(code: str) -> dict:
    ns: dict = {"__name__": "docs_example"}
    exec(compile(code, str(DOC), "exec"), ns)  # noqa: S102 - the doc's own examples
    return ns


def test_the_duckdb_examples(lake: Path):
    truth = _truth(lake)
    assert truth["story_urls"] and len(truth["story_urls"]) == 2 and 0 < len(truth["hits"]) < 18
    seen = set()
    for code in (c for c in _blocks("python") if "import duckdb" in c):
        ns = _run(code)
        if "per_district" in ns:
            seen.add("counts")
            assert {(d, day): n for d, day, n in ns["per_district"]} == dict(truth["stories"])
        if "story_versions" in ns:
            seen.add("story")
            assert ns["story_id"] == truth["story_id"]
            assert sorted(r[1] for r in ns["story_versions"]) == truth["story_urls"]
            assert sum(1 for r in ns["story_versions"] if r[3]) == 1
        if "hits" in ns:
            seen.add("search")
            assert sorted(r[4] for r in ns["hits"]) == truth["hits"]
    assert seen == {"counts", "story", "search"}


def test_the_pandas_examples(lake: Path):
    truth = _truth(lake)
    seen = set()
    for code in (c for c in _blocks("python") if "import pandas" in c):
        ns = _run(code)
        if "per_district" in ns:
            seen.add("counts")
            assert {str(k): int(v) for k, v in ns["per_district"].items()} == truth["per_district"]
        if "story_versions" in ns:
            seen.add("story")
            assert sorted(ns["story_versions"]["url"]) == truth["story_urls"]
        if "hits" in ns:
            seen.add("search")
            assert len(ns["hits"]) == len(truth["hits"])
        if "dazu" in ns:
            assert set(ns["dazu"]["district"]) == {"dazu"}
    assert seen == {"counts", "story", "search"}


def test_the_polars_examples(lake: Path):
    truth = _truth(lake)
    seen = set()
    for code in (c for c in _blocks("python") if "import polars" in c):
        ns = _run(code)
        if "per_district" in ns:
            seen.add("counts")
            assert dict(ns["per_district"].iter_rows()) == truth["per_district"]
        if "story_versions" in ns:
            seen.add("story")
            assert ns["story_id"] == truth["story_id"]
            assert sorted(ns["story_versions"]["url"].to_list()) == truth["story_urls"]
        if "hits" in ns:
            seen.add("search")
            assert sorted(ns["hits"]["url"].to_list()) == truth["hits"]
    assert seen == {"counts", "story", "search"}


def _query(sql: str, capsys: pytest.CaptureFixture) -> tuple[int, list[list[str]], str]:
    status = cli.main(["query", sql])
    out, err = capsys.readouterr()
    return status, [line.split("\t") for line in out.splitlines()], err


def test_the_quxian_query_examples(lake: Path, capsys: pytest.CaptureFixture):
    truth = _truth(lake)
    by_district, multi, quarantine = _blocks("sql")
    status, rows, _ = _query(by_district, capsys)
    assert status == 0 and rows[0] == ["district", "stories", "pages"]
    assert {r[0]: int(r[1]) for r in rows[1:]} == truth["per_district"]
    status, rows, _ = _query(multi, capsys)
    assert status == 0 and rows[0] == ["title", "version_count", "outlets", "urls"]
    assert len(rows) - 1 == truth["multi"] > 0
    status, rows, _ = _query(quarantine, capsys)
    assert status == 0
    assert Counter({(o, s, r): int(n) for o, s, r, n in rows[1:]}) == truth["quarantine"]


def test_quxian_query_reports_bad_sql_in_one_line(lake: Path, capsys: pytest.CaptureFixture):
    status, _, err = _query("SELECT nope FROM articles", capsys)
    assert status == cli.EXIT_USAGE
    assert err.startswith("quxian query: query failed: Binder Error") and err.count("\n") == 1


def test_quxian_query_views_have_the_datasets_columns_and_types(lake: Path):
    con = connect(lake)
    for name, schema in DATASETS.items():
        cols = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {name})").fetchall())
        assert set(cols) == {*schema.names, *PARTITION_COLUMNS}
        assert (cols["district"], cols["date"]) == ("VARCHAR", "DATE")
        assert cols["published_at" if "published_at" in cols else "fetched_at"] == "TIMESTAMP WITH TIME ZONE"


def test_an_empty_lake_has_the_same_views(data_dir: Path, capsys: pytest.CaptureFixture):
    status, rows, _ = _query("SELECT count(*) AS n FROM articles", capsys)
    assert (status, rows) == (0, [["n"], ["0"]])
    con = connect(data_dir / "lake")
    for name, schema in DATASETS.items():
        cols = {c for (c,) in con.execute(f"SELECT column_name FROM (DESCRIBE {name})").fetchall()}
        assert cols == {*schema.names, *PARTITION_COLUMNS}


def test_quxian_query_without_sql_opens_a_shell_on_the_views(
    lake: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(
        "sys.stdin", io.StringIO("SELECT count(*) AS n FROM quarantine\nSELECT nope\n.quit\n")
    )
    assert cli.main(["query"]) == 0
    out, err = capsys.readouterr()
    assert "views: article_versions, articles, quarantine" in out
    assert "n\n3\n" in out
    assert err.startswith("error: ")
