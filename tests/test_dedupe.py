"""Story dedup: variants join, hard negatives stay apart, ids are stable, the index persists.

Real bodies come from `../shared/corpus` at run time (via `benchmarks.dedupe_set`); the short texts
written here are invented for the tests.
"""

from __future__ import annotations

import importlib.util
import random
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from quxian.config import CHECKOUT, TZ
from transforms import shingle
from transforms.dedupe import (
    StoryIndex,
    canonical_url,
    choose_canonical,
    dedupe_rows,
    story_id_for,
    version_id,
)


def _load_set_builder():  # benchmarks/ is scripts, not a package: load the builder by path
    spec = importlib.util.spec_from_file_location("dedupe_set", CHECKOUT / "benchmarks" / "dedupe_set.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["dedupe_set"] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


dedupe_set = _load_set_builder()

# An invented meeting report: a template that recurs weekly with other figures and dates.
MEETING = [
    "{m}月{d}日，区政府召开第{n}次常务会议，传达学习市政府有关会议精神，听取近期重点工作推进情况汇报，"
    "研究部署下一阶段工作。区长主持会议。",
    "会议听取了全区冬季安全生产检查工作情况汇报。会议强调，各镇街、各部门要紧盯道路交通、建筑施工和"
    "消防等重点领域，对照问题清单逐项整改，共排查隐患{k}处，已整改{j}处，确保全区安全形势稳定。",
    "会议研究了第四季度重点项目资金调度方案，纳入调度的重点项目共{p}个，要力争在年底前完成年度投资计划。",
    "区政府副区长出席会议，区政府办公室、区发展改革委、区财政局等部门主要负责人列席会议。",
]


def meeting(m: int, d: int, n: int, k: int, j: int, p: int) -> str:
    return "\n".join(x.format(m=m, d=d, n=n, k=k, j=j, p=p) for x in MEETING)


def row(rid: str, body: str | None, day: int = 14, outlet: str = "xinyubao", **extra: object) -> dict:
    when = datetime(2025, 11, day, 9, 0, tzinfo=TZ) if day else None
    return {
        "id": rid,
        "outlet": outlet,
        "district": "dazu",
        "url": f"https://example.cn/{rid}.html",
        "title": "标题",
        "body": body,
        "published_at": when,
        **extra,
    }


@pytest.fixture(scope="module")
def labelled() -> list[dict]:
    return dedupe_set.build(seed=0)


@pytest.fixture(scope="module")
def labelled_out(labelled: list[dict]) -> list[dict]:
    return dedupe_rows(labelled)


# ------------------------------------------------------------------------------ normalisation
def test_normalise_removes_lead_footer_script_and_width() -> None:
    paper = "新渝报讯(记者余佳 通讯员徐鹏)十一月十二日上午，区政府召开第八十六次常务会议。\n（杨琢 李海）\n责任编辑：王五"
    mirror = "11月12日上午,區(qū)政府召開第86次常務(wù)會議。"
    assert shingle.normalise(paper) == shingle.normalise(mirror) == "11月12日上午 区政府召开第86次常务会议 "


def test_facts_read_datelines_through_edits() -> None:
    assert shingle.parse_facts(shingle.facts(shingle.normalise("11月12日，会议召开"))).dateline == "11-12"
    # an edit replaced 月, another deleted it: the date is still read
    assert shingle.parse_facts(shingle.facts(shingle.normalise("11名12日，会议召开"))).dateline == "11-12"
    assert shingle.parse_facts(shingle.facts(shingle.normalise("1112日，会议召开"))).dateline == "11-12"
    assert shingle.parse_facts(shingle.facts(shingle.normalise("近日，会议召开"))).dateline is None


def test_signatures_do_not_depend_on_batching(labelled: list[dict]) -> None:
    norms = shingle.normalise_many([r["body"] for r in labelled[:40]] + ["", "短"])
    sigs, sizes = shingle.signatures(norms)
    for i, norm in enumerate(norms):
        one, size = shingle.signatures([norm])
        assert (one[0] == sigs[i]).all() and size[0] == sizes[i]
        assert norm == shingle.normalise(([r["body"] for r in labelled[:40]] + ["", "短"])[i])
    assert [len(shingle.shingle_hashes(n)) for n in norms[:5]] == sizes[:5].tolist()
    assert (sigs[-2] == 0xFFFFFFFF).all() and sizes[-2] == 0  # no shingle: the empty signature
    # the estimate follows the exact Jaccard of two copies
    a, b = shingle.shingle_hashes(norms[0]), shingle.shingle_hashes(norms[1])
    exact_j = len(np.intersect1d(a, b)) / len(np.union1d(a, b))
    assert abs(shingle.jaccard(sigs[0], sigs[1]) - exact_j) < 0.15


# ----------------------------------------------------------------------- quality on the set
def test_labelled_set_precision_and_recall(labelled: list[dict], labelled_out: list[dict]) -> None:
    out = labelled_out
    scores = dedupe_set.pairwise([r["label"] for r in labelled], [r["story_id"] for r in out])
    assert scores["true_pairs"] > 3000  # the set really has republished variants
    assert scores["false_pairs"] == 0, scores
    assert scores["recall"] >= 0.99, scores


def test_every_variant_kind_joins_its_story(labelled: list[dict], labelled_out: list[dict]) -> None:
    stories = [r for r in labelled if r["group"] == "story"]
    by_label: dict[str, set[str]] = {}
    for r in labelled_out:
        if r["group"] != "story":
            continue
        by_label.setdefault(r["label"], set()).add(r["story_id"])
    split = [label for label, ids in by_label.items() if len(ids) > 1]
    assert len(split) <= 0.02 * len(by_label), split
    cases = {r["case"] for r in stories}
    assert {"original", "portal", "gov-truncated", "edited", "mirror-repaired", "abridged"} <= cases


@pytest.mark.parametrize("group", ["template", "meeting", "dateline"])
def test_hard_negatives_stay_apart(labelled: list[dict], labelled_out: list[dict], group: str) -> None:
    # each hard negative has a label of its own, so a merge shows up as one story holding two labels
    out = labelled_out
    negatives = {r["label"] for r in labelled if r["group"] == group}
    assert negatives
    labels_of: dict[str, set[str]] = {}
    for r in out:
        labels_of.setdefault(r["story_id"], set()).add(r["label"])
    merged = [labels for labels in labels_of.values() if len(labels) > 1 and labels & negatives]
    assert merged == []


def test_weekly_meetings_apart_and_their_copies_together() -> None:
    week1 = meeting(11, 12, 86, 132, 120, 127)
    week2 = meeting(11, 19, 87, 140, 133, 127)
    rows = [
        row("a1", week1, 13),
        row("a2", "大足网讯(记者 谭显全)" + week1.replace("，", ",") + "\n责任编辑:王五", 13, "dazuwang"),
        row("a3", "\n".join(week1.split("\n")[:-1]), 14, "dazu_gov"),
        row("b1", week2, 20),
        row("b2", week2 + "\n编辑:赵六", 21, "dazu_gov"),
    ]
    ids = [r["story_id"] for r in dedupe_rows(rows)]
    assert ids[0] == ids[1] == ids[2]
    assert ids[3] == ids[4]
    assert ids[0] != ids[3]


def test_same_figures_other_dateline_stays_apart() -> None:
    rows = [
        row("a", meeting(11, 12, 86, 132, 120, 127), 13),
        row("b", meeting(11, 13, 86, 132, 120, 127), 14),
    ]
    ids = [r["story_id"] for r in dedupe_rows(rows)]
    assert ids[0] != ids[1]


# ------------------------------------------------------------------------------ ids and index
def test_story_id_format_and_origin() -> None:
    rows = [row("late", meeting(11, 12, 86, 1, 2, 3), 15), row("early", meeting(11, 12, 86, 1, 2, 3), 13)]
    ids = [r["story_id"] for r in dedupe_rows(rows)]
    assert ids[0] == ids[1] == story_id_for("early")  # named after the first version
    assert re.fullmatch(r"s[0-9a-f]{16}", ids[0])


def test_rerun_and_input_order_never_rename(labelled: list[dict]) -> None:
    subset = labelled[:300]
    index = StoryIndex.memory()
    first = index.assign(subset)
    assert index.assign(subset) == first
    shuffled = subset[:]
    random.Random(1).shuffle(shuffled)
    fresh = dedupe_rows(shuffled)
    by_id = dict(zip([r["id"] for r in subset], first, strict=True))
    assert all(by_id[r["id"]] == r["story_id"] for r in fresh)


def test_late_version_joins_existing_story_without_renaming(tmp_path: Path) -> None:
    path = tmp_path / "stories"
    body = meeting(11, 12, 86, 132, 120, 127)
    index = StoryIndex.open(path)
    (sid,) = index.assign([row("paper", body, 13)])
    index.save()
    # a version that arrives later and was published earlier still joins, under the old name
    index = StoryIndex.open(path)
    late = row("gov", "\n".join(body.split("\n")[:3]) + "\n来源:新渝报", 12, "dazu_gov")
    assert index.assign([late, row("paper", body, 13)]) == [sid, sid]
    assert sid == story_id_for("paper")


def test_save_open_rebuild_round_trip(tmp_path: Path, labelled: list[dict]) -> None:
    rows = labelled[:400]
    path = tmp_path / "index" / "stories"
    index = StoryIndex.open(path)
    ids = index.assign(rows)
    index.save()
    reopened = StoryIndex.open(path)
    assert len(reopened) == len(rows)
    assert reopened.assign(rows) == ids
    lake_rows = [dict(r, story_id=s) for r, s in zip(rows, ids, strict=True)]
    rebuilt = StoryIndex.rebuild(tmp_path / "rebuilt", lake_rows)
    assert [rebuilt.story_of(r["id"]) for r in rows] == ids
    # a new copy of a story folds into the rebuilt index exactly as into the original one
    copy = dict(rows[0], id="new-copy", body=rows[0]["body"] + "\n责任编辑:某某")
    assert rebuilt.assign([copy]) == StoryIndex.open(path).assign([copy]) == [ids[0]]


def test_save_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "stories"
    index = StoryIndex.open(path)
    index.assign([row("a", meeting(11, 12, 86, 1, 2, 3))])
    index.save()
    before = path.read_bytes()
    index.assign([row("b", meeting(11, 19, 87, 4, 5, 6), 20)])

    def crash(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError):
        index.save()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["stories"]


def test_lookback_window_and_pruning(tmp_path: Path) -> None:
    body = meeting(11, 12, 86, 132, 120, 127)
    old = row("old", body, 1)
    old["published_at"] = datetime(2025, 10, 1, 9, tzinfo=TZ)
    new = row("new", body + "\n责任编辑:王五", 14)
    # 44 days apart: outside a 30-day window, inside a 60-day one
    assert len({r["story_id"] for r in dedupe_rows([old, new], StoryIndex.memory(30))}) == 2
    assert len({r["story_id"] for r in dedupe_rows([old, new], StoryIndex.memory(60))}) == 1

    path = tmp_path / "stories"
    index = StoryIndex.open(path, lookback_days=30)
    index.assign([old, row("other", meeting(11, 19, 87, 4, 5, 6), 20)])
    index.save()
    reopened = StoryIndex.open(path, lookback_days=30)
    assert "old" not in reopened and "other" in reopened
    assert len(reopened) == 1
    # the pruned band tables still find what is left
    copy = row("other-copy", meeting(11, 19, 87, 4, 5, 6) + "\n责任编辑:王五", 21)
    assert reopened.assign([copy]) == [story_id_for("other")]


def test_no_row_dropped_and_empty_bodies_stand_alone() -> None:
    body = meeting(11, 12, 86, 1, 2, 3)
    rows = [
        row("a", body),
        row("empty", ""),
        row("none", None),
        row("short", "图片新闻"),
        row("a", body),  # the same version twice in one batch
        row("undated", body + "\n编辑:王五", 0),
    ]
    out = dedupe_rows(rows)
    assert len(out) == len(rows)
    assert [r["id"] for r in out] == [r["id"] for r in rows]
    ids = [r["story_id"] for r in out]
    assert (
        ids[1] == story_id_for("empty") and ids[2] == story_id_for("none") and ids[3] == story_id_for("short")
    )
    assert ids[0] == ids[4] == ids[5]
    assert len({ids[0], ids[1], ids[2], ids[3]}) == 4


# ------------------------------------------------------------------------------- canonical
def test_choose_canonical_rule() -> None:
    t0 = datetime(2025, 11, 14, 8, tzinfo=TZ)
    paper = {
        "id": "p",
        "outlet": "xinyubao",
        "outlet_name": "新渝报",
        "kind": "paper",
        "body": "短",
        "published_at": t0,
    }
    portal = {
        "id": "w",
        "outlet": "dazuwang",
        "outlet_name": "大足网",
        "kind": "portal",
        "body": "长" * 50,
        "published_at": t0 - timedelta(hours=5),
    }
    gov = {
        "id": "g",
        "outlet": "dazu_gov",
        "outlet_name": "大足区政府",
        "kind": "gov",
        "body": "长" * 80,
        "source_outlet": "新渝报",
        "published_at": t0,
    }
    assert choose_canonical([portal, gov, paper])["id"] == "p"  # the originating outlet first
    assert choose_canonical([portal, gov])["id"] == "g"  # then the most complete text
    led = dict(portal, id="x", lead="大足网讯(记者 谭显全)", body="长" * 10)
    assert choose_canonical([gov, led])["id"] == "x"  # a lead naming its own outlet originates
    same = dict(portal, id="v", published_at=t0)
    assert choose_canonical([same, portal])["id"] == "w"  # then the earliest
    as_text = dict(portal, id="z", published_at=(t0 - timedelta(hours=6)).isoformat())
    assert choose_canonical([portal, as_text])["id"] == "z"  # ISO strings and datetimes compare
    undated = dict(portal, id="0", published_at=None)
    assert choose_canonical([undated, portal])["id"] == "w"  # unknown dates go last
    twin = dict(portal, id="a")
    assert choose_canonical([portal, twin])["id"] == choose_canonical([twin, portal])["id"] == "a"
    with pytest.raises(ValueError):
        choose_canonical([])


def test_canonical_url() -> None:
    base = "https://www.dazu.gov.cn/zwxx_175/qxdt/202511/t20251114_123.html"
    assert (
        canonical_url("HTTPS://WWW.Dazu.gov.cn:443/zwxx_175/qxdt/202511/t20251114_123_wap.html#top") == base
    )
    assert canonical_url(base + "?utm_source=wx&spm=1.2&page=2") == base + "?page=2"
    assert (
        canonical_url("http://xyb.txdzw.com:80/Html/2025-11-14/index.html")
        == "http://xyb.txdzw.com/Html/2025-11-14/"
    )
    assert canonical_url("http://example.cn:8080/a") == "http://example.cn:8080/a"
    assert version_id(base + "?utm_medium=x") == version_id(base)
    assert version_id(base) != version_id(base.replace("123", "124"))
    assert re.fullmatch(r"v[0-9a-f]{16}", version_id(base))
