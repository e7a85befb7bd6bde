"""Cleaning (transforms.clean): the seed, mirror copies, templates' residue, dates, bad input."""

from __future__ import annotations

import random
import re
import time
import unicodedata
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from transforms import mirror
from transforms.clean import clean, is_keyword_line, parse_plain_text, split_headline
from transforms.record import Extracted

TZ = ZoneInfo("Asia/Shanghai")
KEYS = {
    "pre_title",
    "title",
    "sub_title",
    "body",
    "lead",
    "source_outlet",
    "reporters",
    "trainee_reporters",
    "correspondents",
    "photographers",
    "editors",
    "source",
    "published_at",
    "event_date",
    "repairs",
    "is_mirror_copy",
    "is_article",
    "reason",
}
PINYIN = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")

# An invented story (not a real article) for synthetic pages.
STORY = [
    "本报讯（记者 张 玲 见习记者 王小川 通讯员 李四）11月12日，区农业农村委在龙水镇组织开展冬季农业生产技术培训，"
    "来自全区的两百余名种植大户参加培训。",
    "培训现场，农技专家围绕蔬菜越冬管理、病虫害防治等内容进行讲解，并到田间地头开展示范。",
    "区农业农村委相关负责人表示，下一步将继续加强技术服务，保障冬季蔬菜稳定供应。",
]


@pytest.fixture(scope="module")
def seed_row(shared_dir: Path) -> dict:
    raw = (shared_dir / "seeds" / "xinyubao-2025-11-14-changweihui.txt").read_text(encoding="utf-8")
    return clean(parse_plain_text(raw), published_hint=date(2025, 11, 15))


def test_seed_fields(seed_row: dict) -> None:
    assert set(seed_row) == KEYS
    assert seed_row["is_article"] and seed_row["is_mirror_copy"]
    assert seed_row["title"] == "大足区委常委会举行扩大会议"
    assert seed_row["pre_title"] == "实干争先冲刺全年目标系统谋划绘就发展新篇"
    assert seed_row["sub_title"] == "徐晓勇主持会议并讲话"
    assert seed_row["source_outlet"] == "新渝报"
    assert seed_row["reporters"] == ["余佳"] and seed_row["correspondents"] == ["徐鹏"]
    assert seed_row["event_date"] == date(2025, 11, 14)
    assert seed_row["published_at"] == datetime(2025, 11, 15, tzinfo=TZ)
    assert seed_row["lead"].startswith("新渝报讯") and "余佳" in seed_row["lead"]


def test_seed_body(seed_row: dict) -> None:
    paragraphs = seed_row["body"].split("\n")
    assert len(paragraphs) == 6
    assert paragraphs[0].startswith("新渝报讯（记者余佳通讯员徐鹏）11月14日上午，区委常委会召开扩大会议")
    assert paragraphs[-1].startswith("会议还研究了其他事项")
    body = seed_row["body"]
    assert not PINYIN.search(body) and "?" not in body and mirror.LOST not in body
    assert "网站专栏" not in body and "網" not in body
    # Traditional gone, punctuation full-width in Chinese text.
    assert "區" not in body and "會" not in body and "," not in body and "，" in body
    assert any(r.startswith("mirror_annotations:") for r in seed_row["repairs"])
    assert "t2s" in seed_row["repairs"]


def _plain(lines: list[str]) -> str:
    return "\n".join(lines)


def test_damaged_copy_with_spam_lines() -> None:
    head = "冬季农业生产技术培训在龙水镇举行 两百余名种植大户参加"
    text = mirror.damage(_plain([head, *STORY]), seed=5)
    spam = ["網站建設 專業優化 快速排名", "關鍵詞:大足 新聞 熱點"]
    ex = parse_plain_text("\n".join([*spam, text]))
    assert ex.extractor == "plain_text:spam=2"
    row = clean(ex, published_hint=date(2025, 11, 13))
    assert row["is_mirror_copy"] and "spam_lines_dropped:2" in row["repairs"]
    assert row["title"] == "冬季农业生产技术培训在龙水镇举行"
    assert row["sub_title"] == "两百余名种植大户参加"
    assert row["reporters"] == ["张玲"] and row["trainee_reporters"] == ["王小川"]
    assert row["correspondents"] == ["李四"]
    assert row["event_date"] == date(2025, 11, 12)
    assert row["body"].split("\n")[1] == STORY[1]


def test_genuine_annotation_is_not_a_mirror() -> None:
    ex = Extracted(
        title="綦江区举办古剑山文化节",
        paragraphs=["綦(qí)江区GDP(国内生产总值)增长5.2%，(记者张三)报道。", "活动持续三天。"],
    )
    row = clean(ex, published_hint=date(2025, 11, 14))
    assert not row["is_mirror_copy"]
    assert "綦（qí）江区GDP（国内生产总值）增长5.2%" in row["body"]
    assert not any(r.startswith("mirror") for r in row["repairs"])


def test_footers_credits_and_residue_go_to_fields() -> None:
    ex = Extracted(
        title="区政府召开第88次常务会议",
        paragraphs=[
            "2025-11-14 20:03:17 来源: 大足区融媒体中心",
            *STORY,
            "记者 杨 帆 摄",
            "责任编辑:谭雨欣 审核:陈 刚",
            "终审：王五",
            "发言请遵守新闻跟帖服务协议",
            "扫一扫在手机打开当前页",
            "【打印】 【关闭】",
            "网站专栏",
        ],
    )
    row = clean(ex)
    assert row["photographers"] == ["杨帆"]
    assert row["editors"] == ["谭雨欣", "陈刚", "王五"]
    assert row["source"] == "大足区融媒体中心"
    assert row["published_at"] == datetime(2025, 11, 14, 20, 3, 17, tzinfo=TZ)
    assert row["body"].split("\n") == [s for s in STORY]
    assert row["event_date"] == date(2025, 11, 12)


def test_template_source_and_author_line() -> None:
    ex = Extracted(
        title="标题",
        paragraphs=["11月13日，璧山区开展志愿服务活动，服务居民六百余人次。", "（杨琢 李海）"],
        source="来源：璧山区融媒体中心",
        author_line="作者:记者 赵六",
        published_at=datetime(2025, 11, 13, 9, 30),
    )
    row = clean(ex)
    assert row["source"] == "璧山区融媒体中心"
    assert row["reporters"] == ["赵六", "杨琢", "李海"]
    assert row["published_at"] == datetime(2025, 11, 13, 9, 30, tzinfo=TZ)
    assert row["body"] == "11月13日，璧山区开展志愿服务活动，服务居民六百余人次。"


def test_published_at_sources_and_fetch_limit() -> None:
    ex = Extracted(title="标题", paragraphs=STORY)
    fetched = datetime(2025, 11, 14, 6, 0, tzinfo=TZ)
    url = "https://www.dazu.gov.cn/zwxx_176/qxdt/202511/t20251113_40412081.html"
    assert clean(ex, url=url)["published_at"] == datetime(2025, 11, 13, tzinfo=TZ)
    assert clean(ex, published_hint=date(2025, 11, 14), fetched_at=fetched)["published_at"] == datetime(
        2025, 11, 14, tzinfo=TZ
    )
    # A date after the fetch is discarded; the URL's earlier date is used instead.
    late = clean(ex, url=url, published_hint=date(2025, 11, 20), fetched_at=fetched)
    assert late["published_at"] == datetime(2025, 11, 13, tzinfo=TZ)
    # Nothing known: null, never today; the dateline cannot be resolved without it.
    none = clean(ex)
    assert none["published_at"] is None and none["event_date"] is None


def test_traditional_page_is_simplified_but_simplified_is_left_alone() -> None:
    trad = Extracted(title="區委召開會議", paragraphs=["區委書記主持會議並講話，會議強調要著力推進發展。"])
    row = clean(trad)
    assert row["title"] == "区委召开会议" and "t2s" in row["repairs"]
    simp = Extracted(title="显著成效", paragraphs=["他著有多部作品，乾隆年间的文物得到保护，成效显著。"])
    row = clean(simp)
    assert row["body"] == simp.paragraphs[0] and "t2s" not in row["repairs"]


def test_headline_is_split_only_for_copies() -> None:
    ex = Extracted(title="调解员上门 化解邻里“心结”", paragraphs=STORY)
    assert clean(ex)["title"] == "调解员上门 化解邻里“心结”"
    assert split_headline("冬菜飘香季 加工正当时 大足冬菜进入集中腌制期") == (
        "冬菜飘香季 加工正当时",
        "大足冬菜进入集中腌制期",
        None,
    )
    assert split_headline("家庭医生走进宝顶镇 送健康服务上门") == (
        None,
        "家庭医生走进宝顶镇 送健康服务上门",
        None,
    )
    assert split_headline("区政府召开第86次常务会议 研究部署冬季安全生产等工作") == (
        None,
        "区政府召开第86次常务会议",
        "研究部署冬季安全生产等工作",
    )


def test_keyword_lines() -> None:
    assert is_keyword_line("重庆网站建设 专业优化 快速排名")
    assert is_keyword_line("关键词：大足")
    assert not is_keyword_line("大足区委常委会举行扩大会议 实干争先冲刺全年目标系统谋划绘就发展新篇")


@pytest.mark.parametrize(
    "ex",
    [
        Extracted(),
        Extracted(title="", paragraphs=["", "   "]),
        Extracted(title="x", paragraphs=["\x00\x01\x02\ufffd" * 50]),
        Extracted(title=None, paragraphs=["<html><body></body></html>"]),
        Extracted(is_article=False, reason="binary file"),
    ],
)
def test_bad_input_is_not_an_article(ex: Extracted) -> None:
    row = clean(ex)
    assert set(row) == KEYS
    assert row["is_article"] is False and row["reason"]


def test_never_raises_on_random_text() -> None:
    rng = random.Random(7)
    alphabet = "区委會(qū)?shù)（）:：,，\n 　记者讯电摄责任编辑来源2025年11月14日abcXYZ\ufffd\x00網站專欄"
    for _ in range(200):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))
        row = clean(parse_plain_text(text), published_hint=date(2025, 11, 15))
        assert set(row) == KEYS
        assert isinstance(row["body"], str)


def test_huge_input_is_refused_quickly() -> None:
    text = ("区委常委会召开扩大会议。" * 10 + "\n") * 10_000
    start = time.perf_counter()
    ex = parse_plain_text(text)
    row = clean(ex)
    assert row["is_article"] is False and "too long" in row["reason"]
    big = Extracted(title="t", paragraphs=["区(qū)委" * 300_000])
    assert clean(big)["is_article"] is False
    # Under the size limit but far denser in mirror marks than prose: no search, still cleaned.
    dense = clean(Extracted(title="t", paragraphs=["區?a)" * 60_000]))
    assert "mirror_repair_skipped" in dense["repairs"]
    assert time.perf_counter() - start < 5  # a guard against quadratic paths, not a benchmark


def test_malformed_record_fields_do_not_raise() -> None:
    ex = Extracted(title="标题", paragraphs=STORY, extractor=None, edition_date="2025-11-14")  # type: ignore[arg-type]
    row = clean(ex, published_hint=datetime(2025, 11, 14, 20, 0, tzinfo=TZ), fetched_at="yesterday")  # type: ignore[arg-type]
    assert row["is_article"] and row["published_at"] == datetime(2025, 11, 14, tzinfo=TZ)
    odd = Extracted(title="标题", paragraphs=STORY, extractor="plain_text:spam=x")
    assert clean(odd)["is_article"]


def test_offline_mirror_copies_come_back_whole() -> None:
    """Every story the offline spam mirror serves, damaged as the mirror does (headline parts joined
    by spaces, the paper's lead and credits), cleans back to the story's fields."""

    from quxian.sites import bylines
    from quxian.sites.content import load_stories

    stories = [s for s in load_stories() if "mirror_cqxw" in s.runs]
    assert stories
    for number, story in enumerate(stories):
        head = " ".join(x for x in (story.pre_title, story.title, story.sub_title) if x)
        text = "\n".join([head, *bylines.body(story, "mirror_cqxw")])
        damaged = mirror.damage(text, seed=number + 1)
        row = clean(parse_plain_text(damaged + "\n網站專欄"), published_hint=story.runs["mirror_cqxw"])
        assert row["is_mirror_copy"], story.id
        assert (row["pre_title"], row["title"], row["sub_title"]) == (
            story.pre_title,
            story.title,
            story.sub_title,
        )
        assert row["source_outlet"] == "新渝报"
        assert row["reporters"] == list(story.reporters), story.id
        assert row["trainee_reporters"] == list(story.trainee_reporters), story.id
        assert row["correspondents"] == list(story.correspondents), story.id
        assert row["photographers"] == list(story.photographers), story.id
        if not story.dateline.startswith(("近日", "日前")):
            assert row["event_date"] == story.event_date, story.id
        # The story as we wrote it: the s2t → t2s round trip's misreadings (揹着) are put right too.
        expected = "".join(story.paragraphs)
        body = row["body"].split("\n", 1)
        assert len(body) == 2 and "网站专栏" not in row["body"]
        lost = sum(r.startswith("mirror_lost") for r in row["repairs"])
        if not lost:
            # NFKC ran on the mirror: `Ⅲ` is `III` for good in aligned text.
            restored = unicodedata.normalize("NFKC", row["body"].split("）", 1)[1])
            assert re.sub(r"\W", "", restored) == re.sub(
                r"\W", "", unicodedata.normalize("NFKC", expected)
            ), story.id


def test_mark_widening_follows_its_rule() -> None:
    # `punct._widen_marks` finds the marks directly; it must do what its one-regex rule does, with
    # spaces around marks, runs of marks, and U+3000 (a space that is also CJK).
    from transforms import punct

    def rule(text: str) -> str:
        return punct._MARK_RULE.sub(lambda m: punct._WIDE[m.group(1) or m.group(2)], text)

    rnd = random.Random(11)
    alphabet = [
        "中",
        "文",
        "a",
        "1",
        " ",
        "  ",
        "\t",
        "\n",
        ",",
        ":",
        ";",
        "!",
        "?",
        "。",
        "《",
        "—",
        "（",
        "\u00a0",
        "\u3000",
    ]
    for _ in range(20_000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 12)))
        assert punct._widen_marks(text) == rule(text), repr(text)
    assert punct.normalize("会议指出 , 要坚持问题导向:一是 1,280 人;二是 10:30 开始!") == (
        "会议指出，要坚持问题导向：一是 1,280 人；二是 10:30 开始！"
    )
