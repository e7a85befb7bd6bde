"""Spam-mirror damage and its repair (transforms.mirror)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import opencc
import pytest

from transforms import mirror

T2S = opencc.OpenCC("t2s")
S2T = opencc.OpenCC("s2t")
HAN = re.compile(r"[\u4e00-\u9fff]")


def han(text: str) -> str:
    return "".join(HAN.findall(text))


@pytest.fixture(scope="module")
def corpus_bodies(shared_dir: Path) -> list[str]:
    """Real article bodies from the shared corpus (read at run time, never copied)."""
    bodies = []
    with (shared_dir / "corpus" / "manifest.jsonl").open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if row.get("page_type") == "article" and len(row.get("gt_body") or "") > 200:
                bodies.append(row["gt_body"])
    return bodies[:40]


def test_damage_reproduces_the_straddle_of_outlets_md() -> None:
    # outlets.md: 嚴謹的作風 comes out as 嚴(yán)謹(jǐn)?shù)淖黠L(fēng) (94 B5 = 數 straddles 謹|的).
    assert mirror.damage("严谨的作风") == "嚴(yán)謹(jǐn)?shù)淖黠L(fēng)"


def test_damage_is_deterministic_and_depends_on_the_seed() -> None:
    text = "区委常委会召开扩大会议，研究部署经济发展、乡镇建设和网络安全等工作。"
    assert mirror.damage(text, 3) == mirror.damage(text, 3)
    tables = {mirror.table_for(seed) for seed in range(1, 6)}
    assert len(tables) == 5
    assert mirror.table_for(0) == mirror.TABLE


def test_damage_applies_nfkc_and_annotates() -> None:
    out = mirror.damage("区委（记者）：发展，ＡＢ")
    assert "區(qū)" in out and "發(fā)" in out
    assert "（" not in out and "，" not in out and "：" not in out and "AB" in out


def test_mirror_decode_takes_next_byte_after_a_lead() -> None:
    # 0xB5 followed by '(' is an invalid pair: one '?', the '(' is gone; a final lead is '?'.
    assert mirror.mirror_decode(b"a\xb5(b\xb5") == "a?b?"
    assert mirror.mirror_decode("中文".encode("gbk")) == "中文"


def test_repair_restores_the_straddle() -> None:
    report = mirror.repair_text("嚴(yán)謹(jǐn)?shù)淖黠L(fēng)", force=True)
    assert report.text == "嚴謹的作風"
    assert report.garbles == 1 and report.lost == 0
    assert mirror.repair("嚴(yán)謹(jǐn)?shù)淖黠L(fēng)") == "严谨的作风"


def test_genuine_annotation_and_parentheses_stay() -> None:
    text = "綦(qí)江区GDP(国内生产总值)增长，(记者张三)报道。这是真的吗?是的。"
    assert not mirror.is_mirror_text(text)
    assert mirror.repair_text(text).text == text


def test_lossless_damage_comes_back_exactly(corpus_bodies: list[str]) -> None:
    checked = 0
    for body in corpus_bodies:
        if mirror.damage_losses(body) != 0:
            continue
        damaged = mirror.damage(body)
        assert mirror.is_mirror_text(damaged)
        # The original itself (in t2s form, as the issue scores it), although t2s∘s2t alone is
        # not always the identity: transforms.simplify puts those words back.
        assert han(mirror.repair(damaged)) == han(T2S.convert(body))
        checked += 1
    assert checked >= 10


def test_other_mirror_tables_repair_too(corpus_bodies: list[str]) -> None:
    checked = 0
    for seed, body in enumerate(corpus_bodies[:20], start=11):
        if mirror.damage_losses(body, seed) != 0:
            continue
        assert han(mirror.repair(mirror.damage(body, seed))) == han(T2S.convert(body))
        checked += 1
    assert checked >= 5


def test_lossy_damage_is_marked_not_hidden(corpus_bodies: list[str]) -> None:
    lossy = [b for b in corpus_bodies if mirror.damage_losses(b) > 0]
    assert lossy
    for body in lossy[:5]:
        report = mirror.repair_text(mirror.damage(body))
        reference = han(T2S.convert(S2T.convert(body)))
        restored = han(T2S.convert(report.text))
        if restored != reference:
            assert report.lost > 0 and mirror.LOST in report.text


def test_seed_repairs_to_clean_simplified(shared_dir: Path) -> None:
    raw = (shared_dir / "seeds" / "xinyubao-2025-11-14-changweihui.txt").read_text(encoding="utf-8")
    report = mirror.repair_text(raw)
    assert report.is_mirror_copy and report.annotations > 100 and report.lost == 0
    out = T2S.convert(report.text)
    assert not re.search(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)", out)
    assert "大足区委常委会举行扩大会议" in out and "新渝报讯(记者余佳通讯员徐鹏)" in out
    # Damaging the repaired body again gives the seed back (up to the converters' variants).
    body = [line for line in raw.split("\n") if line.strip()][:-1]
    for line in body:
        assert T2S.convert(mirror.damage(mirror.repair(line))) == T2S.convert(line)


def test_repair_handles_odd_input_quickly() -> None:
    assert mirror.repair("") == ""
    junk = "?a)?(b)" * 2000 + "\ufffd\x00" * 100
    assert isinstance(mirror.repair_text(junk, force=True).text, str)


def test_search_gives_up_on_a_run_that_never_realigns() -> None:
    # A shifted run of 20,000 characters never happens in a real copy: the search stops at its
    # budget and falls back to stripping the annotations.
    text = "嚴(yán)謹(jǐn)?shù)" + "淖黠" * 10_000
    report = mirror.repair_text(text)
    assert report.skipped and report.is_mirror_copy
    assert report.text.startswith("嚴謹?shù)淖黠")


# --- the search's lookup tables and per-text layout agree with their definitions ---------------


def test_pair_table_matches_the_gbk_decoder() -> None:
    def reference(lead: int, trail: int) -> tuple[str, int]:
        try:
            char = bytes((lead, trail)).decode("gbk")
        except UnicodeDecodeError:
            return mirror.LOST, 20
        return char, mirror._char_penalty(char)

    for lead in range(256):
        for trail in range(256):
            assert mirror._pair_char(lead, trail) == reference(lead, trail), (hex(lead), hex(trail))


def test_plain_characters_have_one_shifted_reading() -> None:
    # The search reads these inline; `_shifted_steps` must agree for any pending lead byte.
    assert len(mirror._PLAIN_GBK) > 20_000
    for i, (char, encoded) in enumerate(mirror._PLAIN_GBK.items()):
        pending = (0x81, 0xB0, 0x45, 0xFE, 0x80)[i % 5]
        original, penalty = mirror._pair_char(pending, encoded[0])
        steps = mirror._shifted_steps(char, 0, pending, b"\xb0\xa1")
        assert steps == [(1, penalty, encoded[1], encoded, original, 0)], char


def _dense_costs(text: str, annotated: dict[int, int]) -> list[int]:
    """What reading each character aligned costs, by definition: its penalty digit (4 outside
    GBK), nothing inside an annotation, plus COST_LONE_LATIN in a lone Latin run."""
    costs = [0 if c < "\x80" else int(mirror._PENALTY_DIGITS.get(ord(c), "4")) for c in text]
    for start, end in annotated.items():
        costs[start:end] = [0] * (end - start)
    lone = re.compile(r"(?<=[^\x00-\x7f])[A-Za-z@\[\\\]^_`{|}~#$&*+=<>]{1,2}(?=[^\x00-\x7f])")
    for m in lone.finditer(text):
        for i in range(m.start(), m.end()):
            costs[i] += mirror.COST_LONE_LATIN
    return costs


def test_layout_agrees_with_a_character_by_character_reading(corpus_bodies: list[str]) -> None:
    texts = [mirror.damage(body, seed) for seed, body in enumerate(corpus_bodies[:12])]
    texts.append("綦(qí)江a(b)中?x)字(zì)(zì)Ab中 (1) 嚴(yán)謹(jǐn)?shù)淖黠L(fēng)")
    for text in texts:
        annotated = mirror._annotations(text)
        # Annotations: `(pinyin)` right after a character it reads.
        for start, end in annotated.items():
            assert text[start] == "(" and text[end - 1] == ")"
            assert text[start + 1 : end - 1] in mirror._readings(text[start - 1])
        layout = mirror._Layout(text, annotated)
        costs = _dense_costs(text, annotated)
        owner = {i: start for start, end in annotated.items() for i in range(start, end)}
        assert layout.stripped == "".join(c for i, c in enumerate(text) if i not in owner)
        assert layout.events == [i for i, c in enumerate(text) if c in "(?" and i not in annotated]
        ends = sorted({len(text), *layout.events, *annotated.values(), *range(0, len(text), 37)} - set(owner))
        for a in sorted({0, *ends[:-1], *range(5, len(text), 41)} - set(annotated)):
            for b in [e for e in ends if e > a][:3]:
                assert layout.cost(a, b) == sum(costs[a:b])
                # An aligned run drops the annotations that start in it; it may start inside one.
                expected = "".join(c for i, c in enumerate(text[a:b], start=a) if owner.get(i, -1) < a)
                assert layout.run(a, b) == expected, (a, b)
