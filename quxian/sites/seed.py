"""The seed story: the spam-mirror copy in `<shared>/seeds/`, read at run time (never copied).

The mirror site serves the file verbatim; the paper, the portal and the government portal serve a
clean Simplified version of it. The clean version comes from `transforms.clean` when that module
offers `parse_plain_text` and `clean`; otherwise from a small fallback (OpenCC t2s and removal of
the `(pinyin)` annotations), which is good enough for a site but is not the repair.
"""

from __future__ import annotations

import importlib
import logging
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from quxian.config import shared_dir
from quxian.sites.content import Story

log = logging.getLogger(__name__)

SEED_NAME = "xinyubao-2025-11-14-changweihui.txt"
SEED_STORY_ID = "dz-20251114-changweihui"
SEED_PUBLISHED = date(2025, 11, 15)
SEED_EVENT = date(2025, 11, 14)
# Who wrote it, as the seed's own lead says (新渝报讯(记者余佳通讯员徐鹏)).
SEED_REPORTERS = ("余佳",)
SEED_CORRESPONDENTS = ("徐鹏",)
# The government portal republishes it under its own headline.
SEED_GOV_TITLE = "区委常委会召开扩大会议 研究部署冲刺全年目标等工作"

_PINYIN = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùüǖǘǚǜńňǹḿ]+\)")
_LEAD = re.compile(r"^新渝报讯[(（][^)）]*[)）]")
_RESIDUE = ("网站专栏", "網站專欄")


@dataclass(frozen=True)
class Seed:
    """The seed file's text (verbatim) and the clean story built from it."""

    path: Path
    raw_text: str
    story: Story


def seed_path() -> Path:
    return shared_dir() / "seeds" / SEED_NAME


def _clean_with_transforms(raw: str) -> tuple[str | None, str, str | None, list[str]] | None:
    """(pre_title, title, sub_title, paragraphs) via transforms.clean, or None if not available."""
    try:
        clean_mod = importlib.import_module("transforms.clean")
    except ImportError:
        return None
    parse = getattr(clean_mod, "parse_plain_text", None)
    clean = getattr(clean_mod, "clean", None)
    if parse is None or clean is None:
        return None
    row = clean(parse(raw), published_hint=SEED_PUBLISHED)
    body = [p for p in str(row.get("body") or "").split("\n") if p.strip()]
    if not row.get("title") or not body:
        return None
    return row.get("pre_title"), row["title"], row.get("sub_title"), body


def _clean_fallback(raw: str) -> tuple[str | None, str, str | None, list[str]]:
    import opencc

    t2s = opencc.OpenCC("t2s")
    lines = [t2s.convert(_PINYIN.sub("", ln)).strip() for ln in raw.splitlines()]
    lines = [ln for ln in lines if ln and ln not in _RESIDUE]
    heads = lines[0].split()
    pre, title, sub = (heads[0], heads[1], heads[2]) if len(heads) == 3 else (None, lines[0], None)
    # NFKC made the mirror's punctuation half-width; the paper prints full-width commas and colons.
    body = [ln.replace(",", "，").replace(":", "：") for ln in lines[1:]]
    return pre, title, sub, body


def load_seed(path: Path | None = None) -> Seed | None:
    """Read the seed and build its clean story; None (with a warning) when the file is missing."""
    path = path or seed_path()
    if not path.is_file():
        log.warning("seed file %s is missing: the offline sites run without the seed story", path)
        return None
    raw = path.read_text(encoding="utf-8")
    parts = _clean_with_transforms(raw) or _clean_fallback(raw)
    pre, title, sub, body = parts
    # The story keeps the body without the outlet lead: each outlet's renderer adds its own.
    body = [_LEAD.sub("", body[0]).lstrip(), *body[1:]]
    story = Story(
        id=SEED_STORY_ID,
        district="dazu",
        event_date=SEED_EVENT,
        dateline="11月14日上午",
        title=title,
        pre_title=pre,
        sub_title=sub,
        alt_title=SEED_GOV_TITLE,
        paragraphs=tuple(body),
        runs={"xinyubao": SEED_PUBLISHED, "dazuwang": SEED_PUBLISHED, "dazu_gov": SEED_PUBLISHED},
        reporters=SEED_REPORTERS,
        correspondents=SEED_CORRESPONDENTS,
        editor="谭雨欣",
    )
    return Seed(path=path, raw_text=raw, story=story)
