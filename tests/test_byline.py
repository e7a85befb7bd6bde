"""Byline grammar (transforms.byline): leads, author rows, credits and footers."""

from __future__ import annotations

import pytest

from transforms import byline as bl


@pytest.mark.parametrize(
    ("paragraph", "outlet", "roles", "rest"),
    [
        ("新渝报讯(记者余佳通讯员徐鹏)11月14日上午，区委", "新渝报", {"reporters": ["余佳"], "correspondents": ["徐鹏"]}, "11月14日上午，区委"),
        ("本报讯（渝西都市报记者 肖必胜）近日，", "渝西都市报", {"reporters": ["肖必胜"]}, "近日，"),
        ("华龙网7月30日8时35分讯(见习记者 陈星)29日，", "华龙网", {"trainee_reporters": ["陈星"]}, "29日，"),
        ("新华社重庆11月14日电（记者 张 玲）14日，", "新华社", {"reporters": ["张玲"]}, "14日，"),
        ("大足网讯（记者 谭显全 曹栋 通讯员 潘晓燕）", "大足网", {"reporters": ["谭显全", "曹栋"], "correspondents": ["潘晓燕"]}, ""),
        ("本报讯（记者 何欣 见习记者 汪一鸣 实习生 周周）", None, {"reporters": ["何欣"], "trainee_reporters": ["汪一鸣", "周周"]}, ""),
    ],
)
def test_leads(paragraph: str, outlet: str | None, roles: dict[str, list[str]], rest: str) -> None:
    b = bl.Byline()
    assert bl.parse_lead(paragraph, b) == rest
    assert b.source_outlet == outlet
    assert b.lead and paragraph.startswith(b.lead)
    for role in ("reporters", "trainee_reporters", "correspondents", "photographers"):
        assert getattr(b, role) == roles.get(role, [])


def test_no_lead_leaves_paragraph() -> None:
    b = bl.Byline()
    text = "11月14日上午，区委常委会召开扩大会议。"
    assert bl.parse_lead(text, b) == text
    assert b.lead is None and not b.has_authors()


@pytest.mark.parametrize(
    ("line", "field", "names"),
    [
        ("(杨琢 李海)", "reporters", ["杨琢", "李海"]),
        ("（记者 杨文广 摄）", "photographers", ["杨文广"]),
        ("记者 杨 帆 摄", "photographers", ["杨帆"]),
        ("责任编辑:谭雨欣", "editors", ["谭雨欣"]),
        ("【责任编辑：张三 审核：李四】", "editors", ["张三", "李四"]),
        ("终审:王五", "editors", ["王五"]),
    ],
)
def test_closing_lines(line: str, field: str, names: list[str]) -> None:
    b = bl.Byline()
    assert bl.parse_footer(line, b) or bl.parse_credit(line, b)
    assert getattr(b, field) == names


def test_text_and_photo_credit() -> None:
    b = bl.Byline()
    assert bl.parse_credit("张 玲/文 刘 灿/图", b)
    assert b.reporters == ["张玲"] and b.photographers == ["刘灿"]


def test_source_footer_and_non_footers() -> None:
    b = bl.Byline()
    assert bl.parse_footer("来源：新渝报", b) and b.source == "新渝报"
    assert not bl.parse_footer("会议指出，要全力推进发展。", b)
    assert not bl.parse_credit("会议还研究了其他事项，区级相关部门负责人参加会议。", b)


def test_names_are_unpadded_and_deduplicated() -> None:
    assert bl.split_names("张 玲 刘 灿") == ["张玲", "刘灿"]
    assert bl.split_names("谭显全、曹栋") == ["谭显全", "曹栋"]
    b = bl.Byline()
    bl.parse_people("记者 余佳 记者余佳", b)
    assert b.reporters == ["余佳"]


def test_caption_credit_is_moved() -> None:
    b = bl.Byline()
    assert bl.strip_trailing_photo_credit("图为演出现场。（记者 杨文广 摄）", b) == "图为演出现场。"
    assert b.photographers == ["杨文广"]


@pytest.mark.parametrize(
    ("line", "outlet", "reporters", "correspondents"),
    [
        ("半月谈记者 史卫燕", "半月谈", ["史卫燕"], []),
        ("本报记者 王五", None, ["王五"], []),
        ("记者 张 玲 通讯员 李四", None, ["张玲"], ["李四"]),
    ],
)
def test_byline_paragraphs(line: str, outlet: str | None, reporters: list[str], correspondents: list[str]) -> None:
    b = bl.Byline()
    assert bl.parse_byline_line(line, b)
    assert (b.source_outlet, b.reporters, b.correspondents) == (outlet, reporters, correspondents)


@pytest.mark.parametrize("line", ["记者从区里获悉", "会议还研究了其他事项", "区委书记徐晓勇主持会议并讲话。"])
def test_sentences_are_not_byline_paragraphs(line: str) -> None:
    b = bl.Byline()
    assert not bl.parse_byline_line(line, b)
    assert not b.has_authors()


def test_glued_and_bare_credits() -> None:
    b = bl.Byline()
    assert bl.strip_glued_credit("这座城英雄的城！（评论员 罗博 萧海川）", b) == "这座城英雄的城！"
    assert b.reporters == ["罗博", "萧海川"]
    for keep in ("经济增长（国内生产总值）", "全文完（完）", "他这样说（张三）"):
        assert bl.strip_glued_credit(keep, b) == keep
    assert bl.strip_bare_photo_credit("花生地里正录制视频 李尕 摄", b) == "花生地里正录制视频"
    assert b.photographers == ["李尕"]


@pytest.mark.parametrize("line", ["（完）", "（待续）", "（本报综合）"])
def test_remarks_are_not_credits(line: str) -> None:
    b = bl.Byline()
    assert not bl.parse_credit(line, b)
    assert not b.has_authors()


def test_parenthesised_roles_are_credits() -> None:
    b = bl.Byline()
    assert bl.parse_credit("（记者 张三 通讯员 李四）", b)
    assert (b.reporters, b.correspondents) == (["张三"], ["李四"])
