"""The `quxian` command as a user runs it: a real process, real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from quxian.config import CHECKOUT

SEED = "seeds/xinyubao-2025-11-14-changweihui.txt"


def quxian(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "quxian.cli", *args],
        cwd=CHECKOUT,
        capture_output=True,
        text=True,
        input=input,
        timeout=120,
    )


@pytest.mark.parametrize("sub", ["sites", "run", "extract", "dedupe", "report", "query"])
def test_every_subcommand_has_help(sub):
    out = quxian(sub, "--help")
    assert out.returncode == 0
    assert out.stdout.startswith(f"usage: quxian {sub}")


def test_extract_cleans_the_seed(shared_dir: Path):
    out = quxian("extract", str(shared_dir / SEED), "--published", "2025-11-15")
    assert out.returncode == 0, out.stderr
    (rec,) = [json.loads(line) for line in out.stdout.splitlines()]
    assert rec["file"].endswith("changweihui.txt")
    assert rec["title"] == "大足区委常委会举行扩大会议"
    assert rec["source_outlet"] == "新渝报"
    assert rec["reporters"] == ["余佳"] and rec["correspondents"] == ["徐鹏"]
    assert rec["event_date"] == "2025-11-14"
    paras = rec["body"].split("\n")
    assert len(paras) == 6
    assert paras[0].startswith("新渝报讯") and paras[-1].startswith("会议还研究了其他事项")
    assert "网站专栏" not in rec["body"]


def test_extract_many_files_in_one_process(tmp_path: Path, shared_dir: Path):
    page = tmp_path / "a.html"
    page.write_text(
        "<html><head><title>t</title></head><body><h1>区里召开冬季防火工作会议</h1>"
        + "".join(
            f"<p>第{i}段：会议要求各镇街落实防火责任，加强巡查，确保群众生命财产安全。</p>" for i in range(6)
        )
        + "</body></html>",
        encoding="utf-8",
    )
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    out = quxian("extract", str(shared_dir / SEED), str(page), str(empty))
    recs = [json.loads(line) for line in out.stdout.splitlines()]
    assert [Path(r["file"]).name for r in recs] == [Path(SEED).name, "a.html", "empty.txt"]
    assert recs[2]["is_article"] is False and recs[2]["reason"]
    assert "防火" in recs[1]["body"]


@pytest.mark.parametrize(
    "content",
    [b"\x00\x01\x02\xff" * 100, b"\xff\xfe\xfa invalid \x81", b"<html><body><div>" * 5000, b"   \n\n"],
    ids=["binary", "invalid-encoding", "deep-html", "blank"],
)
def test_extract_bad_input_is_flagged_not_a_traceback(tmp_path: Path, content: bytes):
    f = tmp_path / "bad.html"
    f.write_bytes(content)
    out = quxian("extract", str(f))
    assert "Traceback" not in out.stderr
    if out.returncode == 0:
        (rec,) = [json.loads(line) for line in out.stdout.splitlines()]
        assert rec["is_article"] is False and rec["reason"]
    else:
        assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1


def test_extract_missing_file_is_one_line_and_exit_2(tmp_path: Path):
    out = quxian("extract", str(tmp_path / "nope.html"))
    assert out.returncode == 2
    assert out.stderr.strip().startswith("quxian extract:") and "nope.html" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_dedupe_adds_story_ids_and_drops_nothing(tmp_path: Path):
    body = "11月14日上午，区委常委会召开扩大会议，传达学习有关会议精神，研究部署近期重点工作。" * 4
    rows = [
        {
            "id": "a",
            "outlet": "xinyubao",
            "district": "dazu",
            "url": "https://xyb.txdzw.com/Html/2025-11-15/1.html",
            "title": "甲",
            "body": "新渝报讯 " + body,
            "published_at": "2025-11-15T00:00:00+08:00",
        },
        {
            "id": "b",
            "outlet": "dazu_gov",
            "district": "dazu",
            "url": "https://www.dazu.gov.cn/x/t20251116_1.html",
            "title": "乙",
            "body": body + "责任编辑：某某",
            "published_at": "2025-11-16T09:00:00+08:00",
        },
        {
            "id": "c",
            "outlet": "bswxw",
            "district": "bishan",
            "url": "https://www.bswxw.org.cn/web/article/1/web/content_1.html",
            "title": "丙",
            "body": "璧山区举办秋季运动会，全区三十支队伍参赛，比赛持续三天。" * 4,
            "published_at": None,
        },
    ]
    f = tmp_path / "in.jsonl"
    f.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    out = quxian("dedupe", str(f))
    assert out.returncode == 0, out.stderr
    got = [json.loads(line) for line in out.stdout.splitlines()]
    assert [g["id"] for g in got] == ["a", "b", "c"]
    assert got[0]["story_id"] == got[1]["story_id"] != got[2]["story_id"]
    assert all(g["body"] == r["body"] for g, r in zip(got, rows, strict=True))


@pytest.mark.parametrize(
    "text,expect",
    [
        ('{"id": "a", "body": "x"}\n{not json\n', ":2: not valid JSON"),
        ('["a"]\n', ":1: expected a JSON object"),
        ('{"body": "x"}\n', ":1: missing field(s) id"),
        ('{"id": 3, "body": "x"}\n', "field 'id' must be a string"),
        ('{"id": "a", "body": "x", "published_at": "yesterday"}\n', "is not an ISO date"),
    ],
)
def test_dedupe_refuses_malformed_lines_by_number(tmp_path: Path, text: str, expect: str):
    f = tmp_path / "in.jsonl"
    f.write_text(text, encoding="utf-8")
    out = quxian("dedupe", str(f))
    assert out.returncode == 2
    assert expect in out.stderr and "Traceback" not in out.stderr


def test_run_rejects_unknown_outlet_and_bad_dates():
    out = quxian("run", "--from", "2025-11-14", "--outlet", "nope")
    assert out.returncode == 2 and "unknown outlet 'nope'" in out.stderr
    out = quxian("run", "--from", "2025-13-01")
    assert out.returncode == 2 and "not a date" in out.stderr
    out = quxian("run", "--from", "2025-11-15", "--to", "2025-11-14")
    assert out.returncode == 2 and "date range is empty" in out.stderr


def test_report_and_query_on_an_empty_lake(data_dir):
    import os

    env = dict(os.environ, QUXIAN_DATA=str(data_dir))
    out = subprocess.run(
        [sys.executable, "-m", "quxian.cli", "report"], env=env, capture_output=True, text=True, cwd=CHECKOUT
    )
    assert out.returncode == 0 and "the lake is empty" in out.stdout
    out = subprocess.run(
        [sys.executable, "-m", "quxian.cli", "query", "SELECT count(*) AS n FROM articles"],
        env=env,
        capture_output=True,
        text=True,
        cwd=CHECKOUT,
    )
    assert out.returncode == 0 and out.stdout.split() == ["n", "0"]
    out = subprocess.run(
        [sys.executable, "-m", "quxian.cli", "query", "SELECT nonsense FROM nowhere"],
        env=env,
        capture_output=True,
        text=True,
        cwd=CHECKOUT,
    )
    assert out.returncode == 2 and out.stderr.startswith("quxian query: query failed")
