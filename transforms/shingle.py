"""Text fingerprints for story dedup: normalised text, MinHash signatures and "facts".

Contract (all pure, no I/O):
- `normalise(text) -> str`: the story's content as a string of Simplified Han characters, ASCII digits
  and lowercase ASCII letters only. Punctuation, spaces, full/half-width and Traditional/Simplified
  differences disappear; outlet leads (`新渝报讯(记者…)`), credit and editor footers (`责任编辑:…`) and
  mirror pinyin annotations (`區(qū)`) are removed first; Chinese numerals in dates and ordinals
  (`十一月十二日`, `第八十六次`) become digits so that they compare with the Arabic forms. Every run
  of punctuation or space becomes one space (a boundary between numbers; shingles skip it).
- `fingerprint(norm)` / `fingerprints(norms)`: a one-permutation MinHash signature (`BINS` uint32 values,
  densified) over the set of `K`-character shingles, the number of distinct shingles, and the
  serialised `facts` (numbers in context, dateline, place names) used by verification.
- `conflicts(facts_a, facts_b)` / `containment(...)`: the verification measures (see docs/dedup.md).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import opencc

K = 5  # shingle length in characters of normalised text
BINS = 128  # signature length (one-permutation MinHash bins)
MIN_SHINGLES = 8  # below this a text is too short to match anything: it keeps its own story

_LUT_SIZE = 0x30000


_SEP = 0x20  # what punctuation and spaces fold to: a boundary for numbers, ignored by shingles


def _build_fold_table() -> np.ndarray:
    """Code point → normalised code point (`_SEP` = boundary). Built once at import; read-only."""
    table = np.full(_LUT_SIZE, _SEP, dtype=np.uint32)
    table[0] = 0  # the batch boundary (`_BOUNDARY`) survives the fold
    for c in range(ord("0"), ord("9") + 1):
        table[c] = c
    for c in range(ord("a"), ord("z") + 1):
        table[c] = c
        table[c - 32] = c
    for c in range(0xFF10, 0xFF1A):  # full-width digits
        table[c] = c - 0xFF10 + ord("0")
    for c in range(0xFF21, 0xFF3B):  # full-width letters
        table[c] = c - 0xFF21 + ord("a")
        table[c + 32] = c - 0xFF21 + ord("a")
    han = [*range(0x3400, 0x4DC0), *range(0x4E00, 0xA000), *range(0x20000, 0x2FFFF)]
    chars = "\n".join(chr(c) for c in han)
    # t2s one character per line, so phrase rules never fire: we want a fixed per-character map
    simplified = opencc.OpenCC("t2s").convert(chars).split("\n")
    for c, s in zip(han, simplified, strict=True):
        table[c] = ord(s) if len(s) == 1 else c
    for c in range(0xF900, 0xFB00):  # CJK compatibility ideographs → unified
        n = unicodedata.normalize("NFKC", chr(c))
        if len(n) == 1 and ord(n) < _LUT_SIZE:
            table[c] = table[ord(n)] or ord(n)
    table.flags.writeable = False
    return table


_FOLD = _build_fold_table()

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "兩": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}

# An outlet lead at the very start: `新渝报讯(记者…)`, `本报讯(…)`, `华龙网7月30日8时35分讯(…)`,
# wire `新华社重庆11月14日电(…)`. Only the prefix up to the closing bracket is removed.
_LEAD = re.compile(
    r"^\s*[^\s，。,.；;：:（(]{0,24}?(?:讯|訊|电|電)\s*(?:[(（][^()（）\n]{0,60}[)）])?\s*[：:]?"
    r"|^\s*[(（][^()（）\n]{0,40}(?:记者|記者|通讯员|通訊員)[^()（）\n]{0,40}[)）]"
)
# Lines at the end that are credits or footers, not story text.
_FOOTER_LINE = re.compile(
    r"^\s*[(（【\[]?\s*(?:责任编辑|責任編輯|编辑|編輯|审核|審核|终审|終審|初审|初審|复审|複審|校对|校對|"
    r"监制|監製|来源|來源|记者|記者|通讯员|通訊員|摄影|攝影|图片|圖片|供图|供圖|实习生|實習生|"
    r"发言请遵守|發言請遵守|编审|編審|作者)"
    r"|^\s*[(（][^()（）]{1,30}[)）]\s*$"
    r"|^.{0,30}(?:摄|攝|/文|/图|/圖)\s*[)）]?\s*$"
)
_INLINE_FOOTER = re.compile(r"[(（]?(?:责任编辑|責任編輯|编辑|編輯|终审|終審|审核|審核)\s*[:：][^\n]{0,40}$")
_PINYIN = re.compile(r"[(（][a-zA-Zü\u00e0-\u00fc\u0100-\u01dc]{1,8}[)）]")
# One pass over runs of Chinese numerals followed by a unit: ordinals (第八十六次), months, days and
# years. Both sides of a comparison go through the same rewrite, so an odd conversion (`一日游`)
# costs nothing; what matters is that `十一月十二日` and `11月12日` compare equal.
# The pattern starts with its character class (no optional `第` in front) so that the regex engine
# can skip ahead to the next numeral; `第` is checked in the callback.
_CN_RUN = re.compile(r"([〇零一二两兩三四五六七八九十百千]+)([次届屆期批个個号號轮輪月日年])")
_ORDINAL_UNITS = frozenset("次届屆期批个個号號轮輪")


def _cn_int(s: str) -> int:
    """Value of a Chinese numeral (`八十六` → 86, `十二` → 12, `二〇二五` → 2025)."""
    if not any(ch in _CN_UNITS for ch in s):
        return int("".join(str(_CN_DIGITS[ch]) for ch in s))
    total, digit = 0, 0
    for ch in s:
        if ch in _CN_UNITS:
            total += (digit or 1) * _CN_UNITS[ch]
            digit = 0
        else:
            digit = _CN_DIGITS[ch]
    return total + digit


def _cn_run(m: re.Match[str]) -> str:
    numeral, unit = m.groups()
    prefix = "第" if m.start() and m.string[m.start() - 1] == "第" else ""
    if unit in _ORDINAL_UNITS:
        if not prefix:
            return m.group()
        return f"{_cn_int(numeral)}{unit}"  # the 第 before the match stays where it is
    if unit == "年":
        if len(numeral) != 4 or any(ch in _CN_UNITS for ch in numeral):
            return m.group()
    elif _cn_int(numeral) > (12 if unit == "月" else 31):
        return m.group()
    return f"{_cn_int(numeral)}{unit}"


def _arabic(text: str) -> str:
    return _CN_RUN.sub(_cn_run, text)


def strip_boilerplate(text: str) -> str:
    """Remove the outlet lead, trailing credit/footer lines and mirror pinyin annotations."""
    if "(" in text or "（" in text:
        text = _PINYIN.sub("", text)
    lines = [ln for ln in text.split("\n") if ln.strip()]
    while lines and _FOOTER_LINE.match(lines[-1]):
        lines.pop()
    if lines:
        last = lines[-1]
        cut = max(0, len(last) - 60)  # a footer glued to the last paragraph sits in its tail
        lines[-1] = last[:cut] + _INLINE_FOOTER.sub("", last[cut:])
        lines[0] = _LEAD.sub("", lines[0], count=1)
    return "\n".join(lines)


_BOUNDARY = "\x00"  # joins the texts of a batch; the fold table keeps it, so texts never blur


def normalise_many(texts: Sequence[str | None]) -> list[str]:
    """`normalise` for many texts: the per-character fold runs once over the whole batch."""
    pre = [_arabic(strip_boilerplate(t.replace(_BOUNDARY, ""))) if t else "" for t in texts]
    cps = np.frombuffer(_BOUNDARY.join(pre).encode("utf-32-le"), dtype=np.uint32)
    out = _FOLD[np.minimum(cps, _LUT_SIZE - 1)]
    if out.size == 0:
        return [""] * len(texts)
    # collapse runs of separators to one and drop a separator that opens a text
    sep = out == _SEP
    keep = ~sep
    keep[1:] |= sep[1:] & ~sep[:-1] & (out[:-1] != 0)
    keep[0] &= not sep[0]
    return out[keep].tobytes().decode("utf-32-le").split(_BOUNDARY)


def normalise(text: str | None) -> str:
    """The comparable content of an article body (module docstring). '' for None/empty.

    Punctuation and spaces become single spaces: shingles skip them, but they keep `36。2025年`
    from reading as one number.
    """
    # No NFKC pass over the whole text (it costs more than everything else together): the fold
    # table already maps full-width letters and digits and compatibility ideographs.
    return normalise_many([text])[0]


# ---------------------------------------------------------------------------------------- signature
def _mix64(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads the polynomial hash over all 64 bits (wrapping uint64 maths)."""
    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def shingle_hashes(norm: str, k: int = K) -> np.ndarray:
    """Sorted distinct 64-bit hashes of the `k`-character shingles of a normalised text."""
    cps = np.frombuffer(norm.encode("utf-32-le"), dtype=np.uint32)
    cps = cps[cps != _SEP].astype(np.uint64)
    n = cps.size - k + 1
    if n <= 0:
        return np.empty(0, dtype=np.uint64)
    h = np.zeros(n, dtype=np.uint64)
    prime = np.uint64(0x100000001B3)
    with np.errstate(over="ignore"):
        for j in range(k):
            h = h * prime + cps[j : j + n]
        h = np.sort(_mix64(h))
    # not np.unique: on numpy 2.4 it is 20x slower than sort + mask for a thousand values
    keep = np.empty(h.size, dtype=bool)
    keep[0] = True
    np.not_equal(h[1:], h[:-1], out=keep[1:])
    return h[keep]


_SUB_BATCH = 512  # texts per sort: big enough to amortise numpy calls, small enough for the cache
_EMPTY = np.uint32(0xFFFFFFFF)


def signatures(norms: Sequence[str], k: int = K) -> tuple[np.ndarray, np.ndarray]:
    """One-permutation MinHash signatures of normalised texts, densified by rotation.

    Returns `(sigs, sizes)`: sigs (n, BINS) uint32 and sizes (n,) int32, the number of distinct
    shingles. A shingle's 64-bit hash `h` (see `shingle_hashes`) goes to bin `h >> 57` with value
    `(h >> 25) & 0xFFFFFFFF`; a bin keeps its smallest value. An empty bin borrows the value of the
    next non-empty bin to its right (circularly) plus the distance times a constant (Shrivastava
    2017), so two texts agree on it only when they agree on the donor. A text with no shingle gets
    all 0xFFFFFFFF. Texts are processed in batches so that numpy sees long arrays, never one tiny
    array per text; the result does not depend on the batching.
    """
    n = len(norms)
    sigs = np.full((n, BINS), _EMPTY, dtype=np.uint32)
    sizes = np.zeros(n, dtype=np.int32)
    for lo in range(0, n, _SUB_BATCH):
        hi = min(n, lo + _SUB_BATCH)
        sigs[lo:hi], sizes[lo:hi] = _signature_batch(norms[lo:hi], k)
    return sigs, sizes


def _signature_batch(norms: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
    m = len(norms)
    cps = np.frombuffer("".join(norms).encode("utf-32-le"), dtype=np.uint32)
    doc = np.repeat(np.arange(m, dtype=np.int64), [len(t) for t in norms])
    keep = cps != _SEP
    cps, doc = cps[keep].astype(np.uint64), doc[keep]
    total = cps.size - k + 1
    sigs = np.full((m, BINS), _EMPTY, dtype=np.uint32)
    sizes = np.zeros(m, dtype=np.int32)
    if total <= 0:
        return sigs, sizes
    h = np.zeros(total, dtype=np.uint64)
    prime = np.uint64(0x100000001B3)
    with np.errstate(over="ignore"):
        for j in range(k):
            h = h * prime + cps[j : j + total]
        h = _mix64(h)
    inside = doc[:total] == doc[k - 1 :]  # shingles that do not straddle two texts
    # one sort orders by text, bin, value: the text in the top 24 bits, the hash's top 40 below
    key = (doc[:total][inside].astype(np.uint64) << np.uint64(40)) | (h[inside] >> np.uint64(24))
    key.sort()
    distinct = np.empty(key.size, dtype=bool)
    if key.size:
        distinct[0] = True
        np.not_equal(key[1:], key[:-1], out=distinct[1:])
    sizes[:] = np.bincount((key[distinct] >> np.uint64(40)).astype(np.int64), minlength=m)
    cell = key >> np.uint64(33)  # text and bin
    first = np.empty(key.size, dtype=bool)
    if key.size:
        first[0] = True
        np.not_equal(cell[1:], cell[:-1], out=first[1:])
    rows = (key[first] >> np.uint64(40)).astype(np.int64)
    bins = ((key[first] >> np.uint64(33)) & np.uint64(BINS - 1)).astype(np.int64)
    vals = ((key[first] >> np.uint64(1)) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    raw = np.zeros((m, BINS), dtype=np.uint32)
    raw[rows, bins] = vals
    filled = np.zeros((m, BINS), dtype=bool)
    filled[rows, bins] = True
    # donor of each bin: the next filled bin to the right, circularly (index in a doubled row)
    doubled = np.concatenate([filled, filled], axis=1)
    pos = np.where(doubled, np.arange(2 * BINS), 4 * BINS)
    nxt = np.minimum.accumulate(pos[:, ::-1], axis=1)[:, ::-1][:, :BINS]
    has = filled.any(axis=1)
    donor = nxt[has] % BINS
    dist = (nxt[has] - np.arange(BINS)).astype(np.uint32)
    with np.errstate(over="ignore"):
        sigs[has] = np.take_along_axis(raw[has], donor, axis=1) + dist * np.uint32(0x9E3779B1)
    return sigs, sizes


# -------------------------------------------------------------------------------------------- facts
_DATELINE = re.compile(r"^(?:\d{4}\D{1,2})?(\d{1,2})\D{1,2}(?:(\d{1,2})\D)?")
_PLACE_SUFFIX = re.compile(r"镇|乡|街道|社区|村")
_MIN_CONTEXT = 2  # words (Han or letters) a number's context needs to count as a fact
_MASK_DIGITS = str.maketrans("0123456789", "##########")


def _digit_runs(norm: str) -> list[tuple[int, int]]:
    """(start, end) of every run of ASCII digits; numpy, because `re` crawls over Han text."""
    cps = np.frombuffer(norm.encode("utf-32-le"), dtype=np.uint32)
    digit = np.zeros(cps.size + 2, dtype=np.int8)
    digit[1:-1] = (cps >= 48) & (cps <= 57)
    edges = np.flatnonzero(np.diff(digit))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


_GLUED_DATE = re.compile(r"^(\d{3,4})\D")


def _dateline(head: str) -> str:
    """The date a text opens with as `month-day` readings joined by `,` ('' if none).

    `11月12日`, `2025年11月12日` → `11-12`; `12日` → `-12`. Any one character stands for a unit, so an
    edit of `月` does not hide the date; an edit that deleted it (`1113日`) gives every valid
    reading of the digits (`11-13`; `113日` → `1-13,11-3`).
    """
    m = _DATELINE.match(head)
    if m:
        nums = [int(g) for g in m.groups() if g]
        month = nums[0] if len(nums) == 2 else None
        if 1 <= nums[-1] <= 31 and (month is None or 1 <= month <= 12):
            return f"{'' if month is None else month}-{nums[-1]}"
        return ""
    m = _GLUED_DATE.match(head)
    if not m:
        return ""
    digits = m.group(1)
    readings = [
        f"{int(digits[:i])}-{int(digits[i:])}"
        for i in (1, 2)
        if 1 <= int(digits[:i]) <= 12 and 1 <= int(digits[i:]) <= 31 and len(digits) - i <= 2
    ]
    return ",".join(readings)


@dataclass(frozen=True)
class Fingerprint:
    """What the index keeps of one version: signature, distinct shingle count, serialised facts."""

    sig: np.ndarray
    size: int
    facts: str


def facts(norm: str) -> str:
    """Serialise the content that tells template stories apart, one `kind\\tkey\\tvalue` per line.

    - `N`: every number with its context (the 3 characters before, digits masked as `#`, and the
      2 after): a weekly report saying `优良天数6天` one week and `优良天数5天` the next gives the same
      key with different values. A key with fewer than `_MIN_CONTEXT` letters is dropped.
    - `D`: the dateline: the date the text opens with, as `month-day` (`11月12日` → `11-12`,
      `2025年11月12日` → `11-12`, `12日` → `-12`).
    - `P`: place names (2 characters + 镇/乡/街道/社区/村).
    """
    out: list[str] = []
    # the numbers the text opens with (`11月12日`, `2025年11月12日`, `12日`): any one character
    # stands for a unit, so that an edit of `月` in the dateline does not hide it
    dateline = _dateline(norm[:14])
    if dateline:
        out.append(f"D\t\t{dateline}")
    for s, e in _digit_runs(norm):
        left = norm[max(0, s - 3) : s].translate(_MASK_DIGITS)
        right = norm[e : e + 2].translate(_MASK_DIGITS)
        if len(left + right) - (left + right).count("#") - (left + right).count(" ") < _MIN_CONTEXT:
            # `## |` (a number among numbers at the end): such a key says nothing about the story
            continue
        out.append(f"N\t{left}|{right}\t{norm[s:e].lstrip('0') or '0'}")
    for m in _PLACE_SUFFIX.finditer(norm):
        s = m.start()
        if s >= 2:
            out.append(f"P\t\t{norm[s - 2 : m.end()]}")
    return "\n".join(out)


def fingerprint(norm: str) -> Fingerprint:
    """Signature, shingle count and facts of one normalised text (`fingerprints` for many)."""
    return fingerprints([norm])[0]


def fingerprints(norms: Sequence[str]) -> list[Fingerprint]:
    """Signatures, shingle counts and facts of normalised texts."""
    sigs, sizes = signatures(norms)
    return [Fingerprint(sigs[i], int(sizes[i]), facts(t)) for i, t in enumerate(norms)]


@dataclass(frozen=True)
class ParsedFacts:
    dateline: str | None
    numbers: dict[str, frozenset[str]]
    places: frozenset[str]
    keys_of: dict[str, frozenset[str]]  # number value → the keys it occurs under

    def miskeyed(self, key: str, values: frozenset[str]) -> bool:
        """True if one of `values` occurs here under a key sharing `key`'s left or right side:
        an edit changed the number's context in one copy, so the key comparison is moot."""
        left, right = key.split("|")
        for v in values:
            for other in self.keys_of.get(v, ()):
                o_left, o_right = other.split("|")
                if o_left == left or o_right == right:
                    return True
        return False


def parse_facts(serialised: str) -> ParsedFacts:
    """Inverse of `facts` (grouped: number key → set of values)."""
    dateline: str | None = None
    numbers: dict[str, set[str]] = {}
    keys_of: dict[str, set[str]] = {}
    places: set[str] = set()
    for line in serialised.split("\n") if serialised else ():
        kind, key, value = line.split("\t")
        if kind == "D":
            dateline = value
        elif kind == "N":
            numbers.setdefault(key, set()).add(value)
            keys_of.setdefault(value, set()).add(key)
        else:
            places.add(value)
    return ParsedFacts(
        dateline,
        {k: frozenset(v) for k, v in numbers.items()},
        frozenset(places),
        {k: frozenset(v) for k, v in keys_of.items()},
    )


def _dates_conflict(a: str, b: str) -> bool:
    """True if no reading of dateline `a` agrees with a reading of `b` (a missing month agrees)."""
    for ra in a.split(","):
        ma, da = ra.split("-")
        for rb in b.split(","):
            mb, db = rb.split("-")
            if da == db and (not ma or not mb or ma == mb):
                return False
    return True


def conflicts(a: ParsedFacts, b: ParsedFacts) -> list[str]:
    """Reasons two texts cannot be one story, empty if none (see docs/dedup.md, "Verification").

    A number key present in both texts with disjoint value sets is a conflict (a truncated copy
    lacks some values, so subsets pass), unless one text has the other's value under a key that
    shares a side with this one (an edit changed the context: `11区15日` for `11月15日`). Different datelines conflict. Place names conflict only when each text names at least
    two places and none is shared, so one garbled character cannot split a story.
    """
    reasons: list[str] = []
    if a.dateline and b.dateline and _dates_conflict(a.dateline, b.dateline):
        reasons.append(f"dateline {a.dateline} != {b.dateline}")
    for key, values in a.numbers.items():
        other = b.numbers.get(key)
        if (
            other is not None
            and values.isdisjoint(other)
            and not (a.miskeyed(key, other) or b.miskeyed(key, values))
        ):
            reasons.append(f"number {key}: {sorted(values)} vs {sorted(other)}")
    if len(a.places) >= 2 and len(b.places) >= 2 and a.places.isdisjoint(b.places):
        reasons.append("places disjoint")
    return reasons


def jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two shingle sets from their signatures."""
    return float(np.count_nonzero(sig_a == sig_b)) / sig_a.size


def containment(j: float, size_a: int, size_b: int) -> float:
    """Estimated share of the smaller shingle set found in the larger one, from Jaccard and sizes."""
    small = min(size_a, size_b)
    if small == 0:
        return 0.0
    inter = j * (size_a + size_b) / (1.0 + j)
    return min(1.0, inter / small)
