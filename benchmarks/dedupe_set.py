"""The labelled dedup set: real bodies, their republished variants and hard negatives.

Nothing here contains article text: bodies are read at run time from `../shared/corpus`
(`gt_body` of the manifest) and from the offline sites' story files (`quxian/sites/content/*.yaml`).
`build(seed)` returns version rows (`id, outlet, district, url, title, body, published_at`) plus
`label` (the true story), `case` (how the version was made) and `group` (`story`, or the kind of
hard negative: `template`, `meeting`, `dateline`). Same `label` = one story.

Variants of a story (positives): the paper's original with its `XX讯(记者…)` lead; a portal copy
with another headline, its own lead and an editor footer; a government-portal copy with the last
paragraph dropped and a `来源:` footer; a copy with 1–3% of its characters changed (Han characters
substituted, deleted or inserted; digits are left alone, since a changed figure is a different
report, and so is a Chinese numeral) and half-width punctuation; a spam-mirror copy
(`transforms.mirror.damage`, then `transforms.mirror.repair`; every site story, half the corpus
bodies); an abridged copy (the first half of the text, cut at a sentence end).

Hard negatives (each its own story, with a variant of its own):
- `template`: the offline sites' recurring series (daily air quality, water levels, outage
  notices, weekly job lists, 常务会议) and, for every corpus body with figures in both halves,
  "next week's edition": the same wording with its dates moved and most figures changed (both
  halves must change: the first half of one edition that is word for word the first half of the
  other cannot be told apart by any text method);
- `meeting`: meetings of one body on different days: the same opening and closing paragraphs,
  other middle paragraphs, another 第N次 and date;
- `dateline`: the same text with another dateline (an annual event's report of another day).
"""

from __future__ import annotations

import json
import random
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import yaml

from quxian.config import CHECKOUT, TZ, shared_dir
from transforms import shingle
from transforms.mirror import damage, repair

_NAMES = ["张晓", "李明轩", "王小燕", "刘建", "陈思雨", "杨帆", "赵磊", "周婷", "吴昊", "郑凯"]
_OUTLETS = [("paper", "本报"), ("portal", "融媒网"), ("gov", "区政府网"), ("mirror", "镜像站")]
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader when libyaml is there
_SENTENCE_END = re.compile(r"(?<=[。！？!?])")
_NUMBER = re.compile(r"\d+")
_NUMERALS = frozenset("〇零一二两三四五六七八九十百千万亿")  # figures, like digits, are not "light edits"


@dataclass
class Base:
    """One source story: paragraphs without lead, publication day, and its template series."""

    key: str
    title: str
    paragraphs: list[str]
    day: date
    template: str | None = None
    district: str = "dazu"
    alt_title: str | None = None
    extra: dict = field(default_factory=dict)


def corpus_bases(shared: Path) -> list[Base]:
    """Chinese article bodies with human or silver labels, at least 200 characters."""
    out: list[Base] = []
    start = date(2025, 10, 1)
    with open(shared / "corpus" / "manifest.jsonl", encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            rec = json.loads(line)
            body = rec.get("gt_body") or ""
            if rec.get("page_type") != "article" or not str(rec.get("lang", "")).startswith("zh"):
                continue
            paragraphs = [p.strip() for p in body.split("\n") if p.strip()]
            if len(shingle.normalise("\n".join(paragraphs)).replace(" ", "")) < 200:
                continue
            title = rec.get("gt_title") or rec.get("html_title") or paragraphs[0][:20]
            out.append(Base(f"corpus-{rec['id']}", title, paragraphs, start + timedelta(days=i % 40)))
    return out


def site_bases(content_dir: Path) -> list[Base]:
    """The offline sites' stories (fictional, written for the project), with their template series."""
    out: list[Base] = []
    for path in sorted(content_dir.glob("*.yaml")):
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
        for story in doc.get("stories") or []:
            runs = story.get("runs") or {}
            day = min(runs.values()) if runs else story["event_date"]
            out.append(
                Base(
                    key=f"site-{story['id']}",
                    title=story["title"],
                    paragraphs=list(story["paragraphs"]),
                    day=day if isinstance(day, date) else date.fromisoformat(str(day)),
                    template=story.get("template"),
                    district=doc.get("district", "dazu"),
                    alt_title=story.get("alt_title"),
                )
            )
    return out


def _drop_overlapping(bases: list[Base]) -> list[Base]:
    """Keep labels true: drop a base sharing over 30% of its shingles with an earlier one
    (outside declared template series, which are the hard negatives we want)."""
    kept: list[Base] = []
    sizes: list[int] = []
    owner: dict[int, list[int]] = {}  # shingle → kept bases holding it
    for b in bases:
        sh = set(shingle.shingle_hashes(shingle.normalise("\n".join(b.paragraphs))).tolist())
        shared: dict[int, int] = {}
        for h in sh:
            for i in owner.get(h, ()):
                shared[i] = shared.get(i, 0) + 1
        clash = any(
            count > 0.3 * min(len(sh), sizes[i]) and not (b.template and b.template == kept[i].template)
            for i, count in shared.items()
        )
        if not clash:
            for h in sh:
                owner.setdefault(h, []).append(len(kept))
            kept.append(b)
            sizes.append(len(sh))
    return kept


# -------------------------------------------------------------------------------- variants
def _noise(text: str, rng: random.Random, rate: float) -> str:
    """Change `rate` of the Han characters: substitute (60%), delete (20%) or insert (20%)."""
    chars = list(text)
    han = [i for i, c in enumerate(chars) if "\u4e00" <= c <= "\u9fff" and c not in _NUMERALS]
    pool = [chars[i] for i in han] or ["的"]
    for i in sorted(rng.sample(han, max(1, int(len(han) * rate))) if han else [], reverse=True):
        r = rng.random()
        if r < 0.6:
            chars[i] = rng.choice(pool)
        elif r < 0.8:
            chars[i] = ""
        else:
            chars[i] = chars[i] + rng.choice(pool)
    return "".join(chars)


def _half(paragraphs: list[str]) -> list[str]:
    text = "\n".join(paragraphs)
    sentences = [s for s in _SENTENCE_END.split(text) if s]
    out, length = [], 0
    for s in sentences:
        out.append(s)
        length += len(s)
        if length >= len(text) / 2:
            break
    return "".join(out).split("\n")


def _lead(outlet: str, rng: random.Random) -> str:
    a, b = rng.sample(_NAMES, 2)
    return f"{outlet}讯(记者 {a} 通讯员 {b})"


def variants(base: Base, rng: random.Random) -> Iterator[tuple[str, str, str, list[str], int]]:
    """(case, outlet kind, title, paragraphs, days after base.day) of the republished versions."""
    p = base.paragraphs
    yield "original", "paper", base.title, [_lead("本报", rng) + p[0], *p[1:]], 0
    editor = rng.choice(_NAMES)
    yield (
        "portal",
        "portal",
        base.alt_title or f"{base.title[:12]}（图）",
        [_lead("融媒网", rng) + p[0], *p[1:], f"责任编辑:{editor}"],
        rng.randint(0, 1),
    )
    dropped = p[:-1] if len(p) >= 3 else _half(p)
    yield "gov-truncated", "gov", f"我区{base.title[:14]}", [*dropped, "来源:本报"], rng.randint(1, 2)
    noisy = [unicodedata.normalize("NFKC", _noise(x, rng, rng.uniform(0.01, 0.03))) for x in p]
    yield "edited", "portal", base.title, noisy, 1
    # the mirrors copy the district papers: every offline-site story, half of the corpus bodies
    if base.key.startswith("site-") or rng.random() < 0.5:
        mirrored = repair(damage("\n".join(p), rng.randint(0, 5)))
        yield "mirror-repaired", "mirror", base.title, mirrored.split("\n"), 1
    if len("".join(p)) >= 300:
        yield "abridged", "portal", base.title[:10], [_lead("融媒网", rng) + _half(p)[0], *_half(p)[1:]], 2


# --------------------------------------------------------------------------- hard negatives
def _shift_figures(text: str, rng: random.Random, shift_days: int) -> str:
    """Next edition of a template: dates moved by `shift_days`, most other figures changed."""

    def date_sub(m: re.Match[str]) -> str:
        try:
            d = date(2025, int(m.group(1)), int(m.group(2))) + timedelta(days=shift_days)
        except ValueError:
            return m.group()
        return f"{d.month}月{d.day}日"

    text = re.sub(r"(\d{1,2})月(\d{1,2})日", date_sub, text)

    def fig_sub(m: re.Match[str]) -> str:
        s = m.group()
        nxt = text[m.end() : m.end() + 1]
        if nxt in "年月日" or rng.random() < 0.3:
            return s
        lo = 10 ** (len(s) - 1) if len(s) > 1 else 0
        v = rng.randint(lo, 10 ** len(s) - 1)
        return str(v if str(v) != s else (v + 1) % (10 ** len(s)) or 1)

    return _NUMBER.sub(fig_sub, text)


_BODIES = ["区委常委会", "区政府常务会议", "区人大常委会主任会议"]


def meeting_series(bases: list[Base], rng: random.Random) -> Iterator[Base]:
    """Meetings of one body on different days: shared opening and closing, other middles."""
    middles = [b.paragraphs[1] for b in bases if len(b.paragraphs) > 2 and 60 <= len(b.paragraphs[1]) <= 400]
    rng.shuffle(middles)
    for k, body in enumerate(_BODIES):
        n0 = rng.randint(20, 120)
        for j in range(3):
            d = date(2025, 11, 3) + timedelta(days=7 * j + k)
            opening = (
                f"{d.month}月{d.day}日，{body}召开第{n0 + j}次会议，传达学习上级有关会议和文件精神，"
                f"听取近期重点工作推进情况汇报，研究部署下一阶段工作。会议由主要负责同志主持。"
            )
            closing = "会议还研究了其他事项。班子成员出席会议，各有关部门主要负责同志列席会议。"
            mid = middles[(k * 3 + j) * 2 : (k * 3 + j) * 2 + 2]
            yield Base(
                f"meeting-{k}-{j}",
                f"{body}召开第{n0 + j}次会议",
                [opening, *mid, closing],
                d,
                template=f"meeting-{k}",
            )


def build(seed: int = 0, shared: Path | None = None, content_dir: Path | None = None) -> list[dict]:
    """The labelled rows (module docstring). Deterministic for a seed."""
    rng = random.Random(seed)
    shared = shared or shared_dir()
    content_dir = content_dir or CHECKOUT / "quxian" / "sites" / "content"
    bases = _drop_overlapping(site_bases(content_dir) + corpus_bases(shared))
    extra: list[Base] = list(meeting_series(bases, rng))
    for b in bases:
        text = "\n".join(b.paragraphs)
        if b.key.startswith("corpus-") and len(_NUMBER.findall(text)) >= 3:
            shifted = _shift_figures(text, rng, 7)
            half = len(_half(b.paragraphs)[0]) if b.paragraphs else 0
            # a template edition must differ in both halves: a truncated copy of one edition that
            # is word for word the other edition's opening cannot be told apart by any text method
            if shifted[:half] != text[:half] and shifted[half:] != text[half:]:
                extra.append(
                    Base(
                        b.key + "-nextweek",
                        b.title,
                        shifted.split("\n"),
                        b.day + timedelta(days=7),
                        template=b.key,
                    )
                )
        m = re.match(r"(\d{1,2})月(\d{1,2})日", b.paragraphs[0])
        if m:
            day = int(m.group(2)) % 28 + 1
            other = [f"{m.group(1)}月{day}日" + b.paragraphs[0][m.end() :], *b.paragraphs[1:]]
            extra.append(Base(b.key + "-otherday", b.title, other, b.day + timedelta(days=3), template=b.key))
    rows: list[dict] = []
    for b in bases + extra:
        all_variants = list(variants(b, rng))
        chosen = all_variants if not b.template or b.key.startswith("site-") else all_variants[:2]
        for case, kind, title, paragraphs, lag in chosen:
            n = len(rows)
            when = datetime.combine(b.day + timedelta(days=lag), time(8 + n % 12, n % 60), tzinfo=TZ)
            rows.append(
                {
                    "id": f"v{n:05d}",
                    "outlet": f"{b.district}_{kind}",
                    "district": b.district,
                    "url": f"https://{kind}.example.cn/{b.key}/{case}.html",
                    "title": title,
                    "body": "\n".join(paragraphs),
                    "published_at": when.isoformat(),
                    "label": b.key,
                    "case": case,
                    "group": _kind_of(b) if b.template else "story",
                }
            )
    return rows


def _kind_of(b: Base) -> str:
    if b.key.startswith("meeting-"):
        return "meeting"
    if b.key.endswith("-otherday"):
        return "dateline"
    return "template"


def pairwise(labels: list[str], predicted: list[str]) -> dict[str, float]:
    """Pairwise precision and recall of a clustering against true labels (counts of pairs)."""
    from collections import Counter

    def pairs(counter: Counter) -> int:
        return sum(c * (c - 1) // 2 for c in counter.values())

    true_pairs = pairs(Counter(labels))
    pred_pairs = pairs(Counter(predicted))
    both = pairs(Counter(zip(labels, predicted, strict=True)))
    return {
        "precision": both / pred_pairs if pred_pairs else 1.0,
        "recall": both / true_pairs if true_pairs else 1.0,
        "true_pairs": true_pairs,
        "predicted_pairs": pred_pairs,
        "false_pairs": pred_pairs - both,
        "missed_pairs": true_pairs - both,
    }
