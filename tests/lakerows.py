"""Small quarantine rows for tests that write partitions (local and object-storage lakes)."""

from __future__ import annotations

from datetime import datetime

from quxian.config import TZ


def quarantine_rows(n: int, reason: str = "not an article") -> list[dict]:
    return [
        {
            "url": f"https://www.dazu.gov.cn/a/{i}.html",
            "outlet": "dazu_gov",
            "stage": "extract",
            "reason": reason,
            "fetched_at": datetime(2025, 11, 14, 2, 0, tzinfo=TZ),
        }
        for i in range(n)
    ]
