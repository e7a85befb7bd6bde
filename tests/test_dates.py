"""Dates (transforms.dates): publication timestamp sources and dateline resolution."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from transforms import dates

TZ = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("text", "published", "expected"),
    [
        ("11月14日上午，区委常委会召开扩大会议", date(2025, 11, 15), date(2025, 11, 14)),
        ("12月30日，记者从区里获悉", date(2026, 1, 2), date(2025, 12, 30)),  # month later: last year
        ("29日，记者从区文化旅游委获悉", date(2025, 11, 2), date(2025, 10, 29)),  # day later: last month
        ("14日，记者获悉，2025年11月15日起", date(2025, 11, 15), date(2025, 11, 14)),  # earliest wins
        ("当日，活动吸引了众多市民", date(2025, 11, 15), date(2025, 11, 15)),
        ("昨天下午，", date(2025, 11, 15), date(2025, 11, 14)),
        ("2024年3月1日，", date(2025, 11, 15), date(2024, 3, 1)),
        ("近日，拾万镇长虹村", date(2025, 11, 15), None),
        ("11月14日上午，", None, None),  # no publication date: never guessed from today
        ("会议强调，要在12月31日前完成。", date(2025, 11, 15), None),  # not at the start
    ],
)
def test_event_date(text: str, published: date | None, expected: date | None) -> None:
    assert dates.event_date(text, published) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://xyb.txdzw.com/Html/2025-11-14/24086.html", date(2025, 11, 14)),
        ("https://www.dazu.gov.cn/zwxx_176/qxdt/202511/t20251113_1.html", date(2025, 11, 13)),
        ("http://dpaper.sxcm.net/sxdsb/html/2025-11/14/content_1.htm", date(2025, 11, 14)),
        ("https://epaper.ccs.cn/pc/content/202511/15/content_2.html", date(2025, 11, 15)),
        ("https://www.txdzw.com/xw/dzxw/content_98130", None),
        (None, None),
    ],
)
def test_url_date(url: str | None, expected: date | None) -> None:
    assert dates.url_date(url) == expected


def test_date_lines() -> None:
    assert dates.date_line("刊发日期:2024-08-29 阅读次数: 作者:") == datetime(2024, 8, 29, tzinfo=TZ)
    assert dates.date_line("2026-02-01 20:03:17 来源: 大足融媒体中心") == datetime(2026, 2, 1, 20, 3, 17, tzinfo=TZ)
    assert dates.date_line("来源:大足网 发布时间:2024-06-28 10:37:35 浏览次数:") == datetime(
        2024, 6, 28, 10, 37, 35, tzinfo=TZ
    )
    assert dates.date_line("会议指出，2025年要全力冲刺。") is None


def test_resolve_order_and_fetch_limit() -> None:
    fetched = datetime(2025, 11, 15, 6, 0, tzinfo=TZ)
    page = datetime(2025, 11, 14, 9, 0)  # naive: Shanghai wall time
    got, origin = dates.resolve_published(page=page, hint=date(2025, 11, 13), fetched_at=fetched)
    assert got == datetime(2025, 11, 14, 9, 0, tzinfo=TZ) and origin == "page"
    utc = datetime(2025, 11, 14, 1, 0, tzinfo=ZoneInfo("UTC"))
    assert dates.resolve_published(page=utc)[0] == datetime(2025, 11, 14, 9, 0, tzinfo=TZ)
    future = datetime(2025, 11, 16, tzinfo=TZ)
    got, origin = dates.resolve_published(page=future, url="/Html/2025-11-14/1.html", fetched_at=fetched)
    assert got == datetime(2025, 11, 14, tzinfo=TZ) and origin == "url"
    assert dates.resolve_published() == (None, None)
