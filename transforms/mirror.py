"""Spam-mirror damage: how the mirrors mangle an article, and how to undo it.

The mirrors (see `../shared/docs/outlets.md`, "The seed's damage") take a clean Simplified article
and, in this order:

1. convert it to Traditional (OpenCC `s2t`);
2. encode it as GBK;
3. run a byte-level search-and-replace that glues `(pinyin)` after the GBK bytes of each character
   of a table, one table entry after the other over the whole byte string. The replace is not
   multibyte-aware, so a match can straddle two characters (the trail byte of one and the lead
   byte of the next): the `(` then lands between a lead byte and its trail byte;
4. decode with a decoder in which a lead byte always takes the next byte, an invalid pair becoming
   `?` (so a straddled `(` is eaten with the lead byte before it: `謹?shù)淖黠L(fēng)`), and every
   later character is read one byte off until an ASCII byte realigns the text;
5. apply NFKC (full-width punctuation and letters become ASCII).

`damage(text, seed)` reproduces this for tests, benchmarks and the offline mirror site.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import random
import re
import unicodedata
from dataclasses import dataclass
from types import MappingProxyType

import opencc
from pypinyin.pinyin_dict import pinyin_dict as _PINYIN

from transforms.simplify import to_simplified

_S2T = opencc.OpenCC("s2t")

# The annotation table of the mirror network, in the order the replace runs. The first entries are
# the characters the seed copy annotates (with the readings it uses); the rest are common
# Traditional characters the seed's text does not contain, so that `damage(..., seed=0)` of the
# seed's clean text annotates exactly what the seed annotates. `數` runs before `謹` so that the
# straddle of outlets.md (`謹的` = D6 94 | B5 C4, `94 B5` = 數) fires before `謹` is annotated.
_TABLE_SPEC = (
    "數:shù 優:yōu 務:wù 區:qū 協:xié 嚴:yán 執:zhí 學:xué 導:dǎo 態:tài 戰:zhàn 據:jù 業:yè "
    "構:gòu 標:biāo 準:zhǔn 現:xiàn 環:huán 產:chǎn 當:dāng 發:fā 監:jiān 礎:chǔ 穩:wěn 節:jié "
    "結:jié 統:tǒng 經:jīng 網:wǎng 續:xù 習:xí 規:guī 設:shè 調:diào 負:fù 責:zé 貿:mào 質:zhì "
    "轉:zhuǎn 農:nóng 鄉:xiāng 鎮:zhèn 關:guān 領:lǐng 風:fēng 謹:jǐn 電:diàn 視:shì 醫:yī "
    "療:liáo 歷:lì 鐵:tiě 車:chē 華:huá 龍:lóng 愛:ài 蘭:lán 藝:yì 術:shù 聯:lián 館:guǎn "
    "簡:jiǎn 燈:dēng 陽:yáng 隊:duì 廳:tīng 際:jì 價:jià 劇:jù 億:yì 雜:zá 災:zāi"
)

#: (character, pinyin) pairs of the full table, in replace order.
TABLE: tuple[tuple[str, str], ...] = tuple(
    (entry.split(":")[0], entry.split(":")[1]) for entry in _TABLE_SPEC.split()
)

# A GBK lead byte takes the next byte whatever it is; 0x80 and 0xFF are never valid.
_GBK_TOKEN = re.compile(rb"[\x81-\xfe][\x00-\xff]?|[\x00-\xff]", re.DOTALL)


def table_for(seed: int = 0) -> tuple[tuple[str, str], ...]:
    """The annotation table one mirror uses: seed 0 is the full table in its canonical order;
    any other seed keeps a pseudo-random four fifths of it in a shuffled order (mirrors differ)."""
    if seed == 0:
        return TABLE
    rng = random.Random(seed)
    entries = list(TABLE)
    rng.shuffle(entries)
    return tuple(entries[: max(1, len(entries) * 4 // 5)])


def mirror_decode(data: bytes) -> str:
    """Decode GBK bytes the way the mirrors do: a lead byte (0x81–0xFE) always takes the next byte;
    a pair that is not a GBK character, a lone 0x80/0xFF and a lead byte at the end become `?`."""
    out: list[str] = []
    for token in _GBK_TOKEN.findall(data):
        if len(token) == 1:
            out.append(chr(token[0]) if token[0] < 0x80 else "?")
            continue
        try:
            out.append(token.decode("gbk"))
        except UnicodeDecodeError:
            out.append("?")
    return "".join(out)


def annotate_bytes(data: bytes, table: tuple[tuple[str, str], ...]) -> bytes:
    """The mirrors' replace: for each table entry in order, glue `(pinyin)` after every occurrence of
    the character's GBK bytes, wherever they occur in the byte string (straddles included)."""
    for char, reading in table:
        needle = char.encode("gbk")
        data = data.replace(needle, needle + b"(" + reading.encode("gbk") + b")")
    return data


def damage(text: str, seed: int = 0) -> str:
    """Damage clean Simplified `text` as a spam mirror does (module docstring, steps 1–5).

    Deterministic for a given `seed` (which picks the mirror's table, see `table_for`). Characters
    that GBK cannot encode become `?`, as on the mirrors. Never raises on str input.
    """
    data = _S2T.convert(text).encode("gbk", errors="replace")
    data = annotate_bytes(data, table_for(seed))
    return unicodedata.normalize("NFKC", mirror_decode(data))


_INSERTED = re.compile(rb"\((?:[a-z]|\xa8[\xa1-\xc0])+\)")


def damage_losses(text: str, seed: int = 0) -> int:
    """How many byte pairs `damage(text, seed)` destroys for good: characters GBK cannot encode,
    and pairs the mirror's decoder finds invalid, except the (lead, inserted `(`) pairs of garbles,
    whose lost lead byte a repair can find again. A document with 0 can be restored exactly."""
    converted = _S2T.convert(text)
    lost = sum(1 for char in converted if char != "?" and char.encode("gbk", errors="replace") == b"?")
    data = annotate_bytes(converted.encode("gbk", errors="replace"), table_for(seed))
    offset = 0
    for token in _GBK_TOKEN.findall(data):
        if len(token) == 1 and token[0] >= 0x80 or len(token) == 2 and not _valid_pair(token):
            if not (len(token) == 2 and _INSERTED.match(data, offset + 1)):
                lost += 1
        offset += len(token)
    return lost


def _valid_pair(token: bytes) -> bool:
    try:
        token.decode("gbk")
    except UnicodeDecodeError:
        return False
    return True


# --------------------------------------------------------------------------------------------------
# Repair
# --------------------------------------------------------------------------------------------------


# Letters a mirror's pinyin can use (pypinyin's tone-mark style, as GBK can encode it).
_PY = "a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüêńňǹ"
_ANNOTATION = re.compile(rf"\(([{_PY}]{{1,7}})\)")
_GARBLE = re.compile(rf"\?([{_PY}]{{1,7}})\)")
_A_STATE_EVENT = re.compile(r"[?(]")

#: Marks a character whose bytes the damage destroyed (an invalid GBK pair on the mirror).
LOST = "\ufffd"


def _readings(char: str) -> tuple[str, ...]:
    """All pinyin readings (tone marks) pypinyin knows for one character."""
    value = _PINYIN.get(ord(char)) if len(char) == 1 else None
    return tuple(value.split(",")) if value else ()


def _readings_fast(char: str) -> tuple[str, ...]:
    """`_readings`, from the table built at import for GBK characters."""
    found = _GBK_READINGS.get(char)
    return found if found is not None else _readings(char)


def _build_tables() -> tuple[
    dict[str, tuple[bytes, ...]],
    frozenset[str],
    frozenset[str],
    frozenset[str],
    dict[tuple[int, str], tuple[int, ...]],
    dict[str, tuple[str, ...]],
]:
    """Read-only lookup tables built once at import (immutable after construction):

    - the inverse of NFKC over GBK: text NFKC produced → the GBK pairs that could have produced it;
    - the common characters (GB2312 level 1 and their Traditional forms, common punctuation);
    - the less common but ordinary ones (GB2312 level 2 and their Traditional forms);
    - every pinyin syllable pypinyin knows (to tell a garble `?shù)` from a real question mark);
    - (first byte, reading) → the second bytes that make a GBK character with that reading (to
      find the byte a garble lost);
    - the readings of every GBK character.
    """
    inverse: dict[str, list[bytes]] = {}
    by_reading: dict[tuple[int, str], list[int]] = {}
    readings: dict[str, tuple[str, ...]] = {}
    level1: list[str] = []
    level2: list[str] = []
    for lead in range(0x81, 0xFF):
        for trail in (*range(0x40, 0x7F), *range(0x80, 0xFF)):
            pair = bytes((lead, trail))
            try:
                char = pair.decode("gbk")
            except UnicodeDecodeError:
                continue
            char_readings = _readings(char)
            if char_readings:
                readings[char] = char_readings
            for reading in char_readings:
                by_reading.setdefault((lead, reading), []).append(trail)
            folded = unicodedata.normalize("NFKC", char)
            if folded != char:
                inverse.setdefault(folded, []).append(pair)
            if 0xA1 <= trail and 0xB0 <= lead <= 0xD7:
                level1.append(char)
            elif 0xA1 <= trail and 0xD8 <= lead <= 0xF7:
                level2.append(char)
    punctuation = "，。、；：？！“”‘’（）《》〈〉【】—…·「」『』～－"
    common = frozenset(level1) | frozenset(_S2T.convert("\n".join(level1))) | frozenset(punctuation)
    ordinary = frozenset(level2) | frozenset(_S2T.convert("\n".join(level2)))
    syllables = frozenset(s for value in _PINYIN.values() for s in value.split(","))
    frozen = {key: tuple(value) for key, value in inverse.items()}
    index = {key: tuple(value) for key, value in by_reading.items()}
    return frozen, common - {"\n"}, ordinary - common - {"\n"}, syllables, index, readings


# Lookup tables, read-only (MappingProxyType): built once, never a cache that grows.
_TABLES = _build_tables()
_NFKC_INVERSE = MappingProxyType(_TABLES[0])
_COMMON, _ORDINARY, _SYLLABLES = _TABLES[1], _TABLES[2], _TABLES[3]
_SECOND_BYTES = MappingProxyType(_TABLES[4])
_GBK_READINGS = MappingProxyType(_TABLES[5])
# Every `字(pinyin)` a GBK character with that reading makes (what `_annotations` looks for).
_GBK_ANNOTATIONS = frozenset(
    f"{char}({reading})" for char, readings in _TABLES[5].items() for reading in readings
)
# Multi-character NFKC results ('...' from '…', '(1)' from '⑴'), by first character.
_MULTI_NFKC: dict[str, tuple[str, ...]] = {
    first: tuple(sorted((k for k in _NFKC_INVERSE if len(k) > 1 and k[0] == first), key=len, reverse=True))
    for first in {k[0] for k in _NFKC_INVERSE if len(k) > 1}
}


@dataclass(frozen=True)
class RepairReport:
    """What `repair_text` found and did. `text` is the repaired text, still Traditional."""

    text: str
    is_mirror_copy: bool
    annotations: int  # `字(pinyin)` annotations removed
    garbles: int  # `?pinyin)` garbles (GBK-shifted runs) re-aligned
    lost: int  # characters whose bytes the damage destroyed (shown as LOST)
    skipped: bool = False  # too dense in marks to be prose: annotations stripped, no search


def _annotations(text: str) -> dict[int, int]:
    """Start → end of every `(pinyin)` whose pinyin is a reading of the (non-ASCII) character
    before it, in text order. The pattern starts with a literal `(`, which the regex engine finds
    at C speed; the character before is checked here."""
    found: dict[int, int] = {}
    if "(" not in text:
        return found
    for m in _ANNOTATION.finditer(text):
        start = m.start()
        if start:
            end = m.end()
            if text[start - 1 : end] in _GBK_ANNOTATIONS:
                found[start] = end
                continue
            char = text[start - 1]  # not GBK: pypinyin's readings
            if char >= "\x80" and char not in _GBK_READINGS and m.group(1) in _readings(char):
                found[start] = end
    return found


def detect(text: str) -> tuple[int, int]:
    """Count mirror evidence: (annotations whose pinyin is a reading of the character before them,
    garbles `?py)` whose py is a pinyin syllable). Cheap: a regex pass and dictionary lookups."""
    return len(_annotations(text)), _garbles(text)


def _garbles(text: str) -> int:
    return sum(1 for m in _GARBLE.finditer(text) if m.group(1) in _SYLLABLES) if "?" in text else 0


def is_mirror_text(text: str) -> bool:
    """True when the text carries several mirror marks. One annotated rare character (`綦(qí)江`),
    as genuine articles print, is not enough: it takes three marks, a garble counting two."""
    annotations, garbles = detect(text)
    return annotations + 2 * garbles >= 3


def _char_penalty(char: str) -> int:
    """How unlikely a character is in a news article: 0 common … 4 odd symbol."""
    if char in _COMMON or char < "\x80":
        return 0
    if char in _ORDINARY:
        return 1
    if "\u4e00" <= char <= "\u9fff":
        return 3
    return 4


def _gbk_tables() -> tuple[dict[int, str], dict[int, tuple[str, int]], dict[str, bytes]]:
    """One pass over the GBK pairs, three read-only tables:

    - a str.translate table: every GBK character (and ASCII, and `_COMMON`) → a digit, its
      `_char_penalty`;
    - (lead << 8) | trail → (character, `_char_penalty`) for every valid GBK pair;
    - the GBK bytes of every character GBK encodes in two bytes that a shifted run reads in one
      simple way (no NFKC form of another character: `_shifted_steps` gives the one pair step).
    """
    digits: dict[int, str] = {}
    pairs: dict[int, tuple[str, int]] = {}
    plain: dict[str, bytes] = {}
    for lead in range(0x81, 0xFF):
        for trail in (*range(0x40, 0x7F), *range(0x80, 0xFF)):
            try:
                char = bytes((lead, trail)).decode("gbk")
            except UnicodeDecodeError:
                continue
            penalty = _char_penalty(char)
            digits[ord(char)] = str(penalty)
            pairs[(lead << 8) | trail] = (char, penalty)
            if char not in _NFKC_INVERSE and char not in _MULTI_NFKC:
                encoded = char.encode("gbk")
                if len(encoded) == 2:
                    plain[char] = encoded
    for char in _COMMON:
        digits[ord(char)] = "0"
    for code in range(0x80):
        digits[code] = "0"
    return digits, pairs, plain


_PAIR_TABLES = _gbk_tables()
_PENALTY_DIGITS = MappingProxyType(_PAIR_TABLES[0])
_PAIRS = MappingProxyType(_PAIR_TABLES[1])
_PLAIN_GBK = MappingProxyType(_PAIR_TABLES[2])
_INVALID_PAIR = (LOST, 20)  # (LOST, penalty) of a pair the decoder finds invalid


# One or two Latin letters or symbols between non-ASCII characters of the damaged text: in a
# shifted run they are trail bytes 0x40–0x7E (or full-width forms); left in the output as ASCII
# they are rare in real Chinese text, so a reading that keeps them pays for each. The pattern is
# `(?<=[^\x00-\x7f])[…]{1,2}(?=[^\x00-\x7f])` written to start with the class (the lookbehind
# after the first character), so that the regex engine skips to candidates at C speed.
_LATIN = r"[A-Za-z@\[\\\]^_`{|}~#$&*+=<>]"
_LONE_LATIN = re.compile(rf"{_LATIN}(?<=[^\x00-\x7f]{_LATIN}){_LATIN}?(?=[^\x00-\x7f])")
COST_LONE_LATIN = 3


def _costly_class() -> re.Pattern[str]:
    """One character that costs something when read aligned: not ASCII, not `_COMMON`."""
    codes = sorted({*range(0x80), *(ord(c) for c in _COMMON)})
    ranges: list[str] = []
    first = last = codes[0]
    for code in [*codes[1:], -1]:
        if code == last + 1:
            last = code
            continue
        ranges.append(re.escape(chr(first)) + ("-" + re.escape(chr(last)) if last > first else ""))
        first = last = code
    return re.compile("[^" + "".join(ranges) + "]")


_COSTLY = _costly_class()


def _event_positions(text: str) -> list[int]:
    """Positions of `(` and `?` in text."""
    return [m.start() for m in _A_STATE_EVENT.finditer(text)] if "(" in text or "?" in text else []


class _Layout:
    """What the search needs to know about one damaged text, computed once per text.

    - `events`: positions of `(` and `?` that are not the start of an annotation (where an aligned
      run must stop and branch);
    - the annotations (`starts`, `ends`, `removed[k]` = characters in the first k annotations) and
      `stripped`, the text without them: an aligned run from `pos` to an event reads
      `stripped[map(pos):map(end)]`;
    - the cost of reading text aligned: `_char_penalty` of each character, annotations free, plus
      COST_LONE_LATIN per character of a lone Latin run; kept sparse (`cost_at`, positions in
      order, and `cost_sum`, the running sum), since most characters of news text cost 0.
    """

    __slots__ = (
        "text",
        "annotated",
        "events",
        "starts",
        "ends",
        "removed",
        "stripped",
        "cost_at",
        "cost_sum",
    )

    def __init__(self, text: str, annotated: dict[int, int]) -> None:
        self.text = text
        self.annotated = annotated
        self.starts = starts = list(annotated)
        self.ends = ends = list(annotated.values())
        self.removed = removed = list(itertools.accumulate((b - a for a, b in annotated.items()), initial=0))
        self.stripped = stripped = "".join(
            [text[a:b] for a, b in zip([0, *ends], [*starts, len(text)], strict=False)]
        )
        # Positions in `stripped` → positions in `text`: add what was removed before them. Events
        # and costly characters are found in `stripped` (annotations never hold either).
        where = [a - removed[k] for k, a in enumerate(starts)]
        self.events = [q + removed[bisect.bisect_right(where, q)] for q in _event_positions(stripped)]
        costs: dict[int, int] = {}
        if not stripped.isascii():
            digits = _PENALTY_DIGITS
            for m in _COSTLY.finditer(stripped):
                q = m.start()
                digit = digits.get(ord(m.group()))
                costs[q + removed[bisect.bisect_right(where, q)]] = int(digit) if digit is not None else 4
        for m in _LONE_LATIN.finditer(text):
            for i in range(*m.span()):
                costs[i] = costs.get(i, 0) + COST_LONE_LATIN
        self.cost_at = sorted(costs)
        self.cost_sum = list(itertools.accumulate((costs[i] for i in self.cost_at), initial=0))

    def cost(self, pos: int, end: int) -> int:
        """What reading text[pos:end] aligned costs."""
        at = self.cost_at
        if not at:
            return 0
        total = self.cost_sum
        return total[bisect.bisect_left(at, end)] - total[bisect.bisect_left(at, pos)]

    def run(self, pos: int, end: int) -> str:
        """text[pos:end] without the annotations that start inside it (`end` is not inside one)."""
        starts, removed = self.starts, self.removed
        k = bisect.bisect_left(starts, pos)
        head, start = "", pos
        if k and self.ends[k - 1] > pos:  # pos is inside annotation k - 1: its rest is text here
            start = self.ends[k - 1]
            head = self.text[pos:start]
        return head + self.stripped[start - removed[k] : end - removed[bisect.bisect_left(starts, end)]]


def _pair_char(lead: int, trail: int) -> tuple[str, int]:
    """Decode one original GBK pair and score it; an invalid pair is heavily penalised."""
    if 0 <= trail < 256:
        if 0x81 <= lead <= 0xFE:  # a lead byte: the pair is in the table or invalid
            return _PAIRS.get((lead << 8) | trail, _INVALID_PAIR)
        if 0 <= lead < 0x81 and trail >= 0x81:  # (byte, lone lead byte): never decodes
            return _INVALID_PAIR
    try:
        char = bytes((lead, trail)).decode("gbk")
    except UnicodeDecodeError:
        return LOST, 20
    return char, _char_penalty(char)


def _needle_char(tail: bytes | str) -> str | None:
    """The character the mirror matched when it glued an annotation after the last two bytes."""
    if isinstance(tail, str):
        return tail
    if len(tail) != 2 or tail[0] < 0x81:
        return None
    try:
        return tail.decode("gbk")
    except UnicodeDecodeError:
        return None


def _last_bytes(tail: bytes | str) -> tuple[int, ...]:
    """Possible values of the last original byte (an ASCII char may have been full-width)."""
    if isinstance(tail, bytes):
        return (tail[-1],) if tail else ()
    options = [pair[-1] for pair in _NFKC_INVERSE.get(tail, ())]
    try:
        options.append(tail.encode("gbk")[-1])
    except UnicodeEncodeError:
        pass
    return tuple(options)


# Bounds on the search: more `(`/`?` marks than this (or than this share of the characters) and
# the text is not prose; `repair_text` only strips annotations then.
MAX_EVENTS = 10_000
MAX_EVENT_SHARE = 0.2
# Readings the search may try: a fixed allowance plus one per character (real copies need far
# less: shifted runs realign within tens of characters); past it the search gives up.
SEARCH_BUDGET = 5_000
SEARCH_BUDGET_PER_CHAR = 0.5

# Costs of readings in a shifted run (the search minimises their sum with `_char_penalty`): an
# invalid pair losing two bytes, a character one of whose bytes is lost, and a reading that needs
# an unlikely byte coincidence (a full-width form or a lone 0x80 where the run continues).
COST_LOST_PAIR = 4
COST_LOST_CHAR = 1
COST_COINCIDENCE = 4

# A hypothesis: (score, pending lead byte or None or _UNKNOWN, tail, output node, lost count).
# `pending` set = the mirror's decoder is one byte off (a shifted run); tail = the last two
# original bytes (a str when they are one aligned character, whose width NFKC may have hidden).
_UNKNOWN = -1
_Hyp = tuple[int, "int | None", "bytes | str", "tuple | None", int]


def _shifted_steps(
    text: str, pos: int, pending: int, tail: bytes | str
) -> list[tuple[int, int, int | None, bytes | str, str, int]]:
    """Ways to read the token at `pos` while the decoder is one byte off.

    Returns (next_pos, penalty, next_pending, next_tail, emitted_text, lost). A decoder pair
    (first, second) read here is the trail byte of the pending character and the lead byte of the
    next one: it decodes `(pending, first)` and leaves `second` pending (`tail` = the pair).
    """
    char = text[pos]
    if char == "(":
        m = _ANNOTATION.match(text, pos)
        needle = _needle_char(tail)
        if m and needle and m.group(1) in _readings_fast(needle):
            return [(m.end(), 0, pending, tail, "", 0)]
    steps: list[tuple[int, int, int | None, bytes | str, str, int]] = []
    unknown = pending == _UNKNOWN
    if char == "?":
        m = _GARBLE.match(text, pos)
        if m and m.group(1) in _SYLLABLES:
            # An aligned annotation inside a shifted run: the '?' is (lost trail, '('); the lost
            # trail completes the pending character, which must have the annotation's reading.
            if unknown:
                steps.append((m.end(), COST_LOST_CHAR, None, b"", LOST, 1))
            else:
                for trail in _SECOND_BYTES.get((pending, m.group(1)), ()):
                    original, penalty = _pair_char(pending, trail)
                    steps.append((m.end(), penalty, None, bytes((pending, trail)), original, 0))
        # An invalid pair: both bytes lost, still shifted; or the pair ate an ASCII byte (a line
        # break, a digit) and the text realigned after it; or a lone 0x80 realigned it.
        steps.append((pos + 1, COST_LOST_PAIR, _UNKNOWN, b"", LOST, 1))
        steps.append((pos + 1, COST_LOST_PAIR, None, b"", LOST, 1))
        if not unknown:
            original, penalty = _pair_char(pending, 0x80)
            if penalty < 20:
                steps.append((pos + 1, penalty + COST_COINCIDENCE, None, bytes((pending, 0x80)), original, 0))
    if char < "\x80":
        code = ord(char)
        if 0x40 <= code <= 0x7E:
            # A trail byte below 0x80 read on its own: the run realigns here.
            if unknown:
                steps.append((pos + 1, COST_LOST_CHAR, None, b"", LOST, 1))
            else:
                original, penalty = _pair_char(pending, code)
                steps.append((pos + 1, penalty, None, bytes((pending, code)), original, 0))
    else:
        try:
            encoded = char.encode("gbk")
        except UnicodeEncodeError:
            encoded = b""
        if len(encoded) == 2:
            if unknown:
                steps.append((pos + 1, COST_LOST_CHAR, encoded[1], encoded, LOST, 1))
            else:
                original, penalty = _pair_char(pending, encoded[0])
                steps.append((pos + 1, penalty, encoded[1], encoded, original, 0))
    # A full-width form (NFKC made it ASCII) needs the pending char's trail to be its lead byte:
    # a coincidence, so it costs more than an ordinary reading.
    pairs = _NFKC_INVERSE.get(char)
    if pairs:
        for pair in pairs:
            steps.append(_coincidence(pending, pair, pos + 1))
    more = _MULTI_NFKC.get(char)
    if more:
        for key in more:
            if text.startswith(key, pos):
                for pair in _NFKC_INVERSE[key]:
                    steps.append(_coincidence(pending, pair, pos + len(key)))
    return steps


def _coincidence(
    pending: int, pair: bytes, next_pos: int
) -> tuple[int, int, int | None, bytes | str, str, int]:
    """Reading a full-width pair (NFKC made it ASCII) as the decoder's (first, second) pair."""
    if pending == _UNKNOWN:
        return (next_pos, COST_LOST_CHAR + COST_COINCIDENCE, pair[1], pair, LOST, 1)
    original, penalty = _pair_char(pending, pair[0])
    return (next_pos, penalty + COST_COINCIDENCE, pair[1], pair, original, 0)


def _aligned_steps(
    layout: _Layout,
    pos: int,
    tail: bytes | str,
    mirror: bool,
) -> list[tuple[int, int, int | None, bytes | str, str, int]]:
    """Ways to read text from `pos` while the decoder is aligned (see `_shifted_steps`).

    An aligned run goes up to the next `(` or `?` that does not start an annotation whose pinyin
    reads the character before it: those annotations are skipped in the same step (the common
    case, kept fast). What the run costs comes from `layout` (`_Layout.cost`)."""
    text = layout.text
    char = text[pos]
    if char != "(" and char != "?":
        events = layout.events
        i = bisect.bisect_right(events, pos)
        end = events[i] if i < len(events) else len(text)
        chunk = layout.run(pos, end)
        if not chunk:
            return [(end, 0, None, tail, "", 0)]
        return [(end, layout.cost(pos, end), None, chunk[-1], chunk, 0)]
    steps: list[tuple[int, int, int | None, bytes | str, str, int]] = []
    if mirror and char == "(":
        a = _ANNOTATION.match(text, pos)
        needle = _needle_char(tail)
        if a and needle and a.group(1) in _readings_fast(needle):
            return [(a.end(), 0, None, tail, "", 0)]
    if mirror and char == "?":
        g = _GARBLE.match(text, pos)
        if g and g.group(1) in _SYLLABLES:
            # A match straddling two characters: '?' is (lost lead of the next character, '(').
            for first in _last_bytes(tail):
                for lead in _SECOND_BYTES.get((first, g.group(1)), ()):
                    if lead >= 0x81:  # the lost byte was a lead byte: it ate the '('
                        steps.append((g.end(), 0, lead, bytes((first, lead)), "", 0))
            penalty = 8 if steps else 0
            steps.append((pos + 1, penalty, None, char, char, 0))
            return steps
    return [(pos + 1, 0, None, char, char, 0)]


def _strip_annotations(layout: _Layout, annotations: int, garbles: int) -> RepairReport:
    """The fallback when the search is not worth it: remove the annotations, touch nothing else."""
    return RepairReport(layout.stripped, True, annotations, garbles, 0, skipped=True)


def repair_text(text: str, *, force: bool = False, min_marks: int = 3, beam: int = 24) -> RepairReport:
    """Undo mirror damage on one text (all paragraphs joined by newlines, so that shifted runs that
    cross a line end stay intact). Returns Traditional text; `repair` adds t2s.

    Unless `force`, text with fewer than `min_marks` mirror marks (annotations + 2 × garbles, see
    `is_mirror_text`) comes back unchanged and unflagged. The search keeps,
    for every position, the best-scoring reading per decoder state (aligned, or one byte off with a
    given pending lead byte); readings are scored by how ordinary the decoded characters are.
    """
    annotated = _annotations(text)
    annotations, garbles = len(annotated), _garbles(text)
    mirror = force or annotations + 2 * garbles >= min_marks
    if not mirror:
        return RepairReport(text, False, 0, 0, 0)
    events = text.count("(") + text.count("?")
    if events > MAX_EVENTS or events > MAX_EVENT_SHARE * len(text):
        # Damaged prose has a mark every ten characters at most (~9% on the benchmark set); far
        # denser text is junk, and the search would only cost time on it.
        return _strip_annotations(_Layout(text, annotated), annotations, garbles)
    layout = _Layout(text, annotated)

    # pos -> {(pending, tail): (score, node, lost)}; node = (piece, parent) linked list.
    frontier: dict[int, dict[tuple, tuple[int, tuple | None, int]]] = {0: {(None, b""): (0, None, 0)}}
    queue = [0]
    length = len(text)
    budget = SEARCH_BUDGET + SEARCH_BUDGET_PER_CHAR * length  # float: fine for a countdown
    heappop, heappush = heapq.heappop, heapq.heappush
    plain_gbk, pairs = _PAIR_TABLES[2].get, _PAIR_TABLES[1].get  # the dicts behind the proxies
    while queue:
        if budget < 0:
            # Pathological input (a shifted run that never realigns): give up the search.
            return _strip_annotations(layout, annotations, garbles)
        pos = heappop(queue)
        if pos >= length:
            continue  # the final states stay in the frontier
        states = frontier.pop(pos)
        while True:
            # A lone reading with one way on, to a position nothing else can reach before the
            # queue gets there, is followed at once (what popping it next would do, without the
            # queue): the common case inside a shifted run.
            chained = None
            if len(states) == 1:
                [((pending, tail), (score, node, lost))] = states.items()
                if pending is not None and pending != _UNKNOWN:
                    # A lone shifted reading over plain characters, chained step by step as
                    # below, in a tight loop: one decoded character per step.
                    walked = False
                    while True:
                        encoded = plain_gbk(text[pos])
                        following = pos + 1
                        if (
                            encoded is None
                            or following >= length
                            or following in frontier
                            or (queue and queue[0] <= following)
                        ):
                            break
                        if 0x81 <= pending <= 0xFE:
                            original, penalty = pairs(pending << 8 | encoded[0], _INVALID_PAIR)
                        else:
                            original, penalty = _pair_char(pending, encoded[0])
                        score += penalty
                        node = (original, node)
                        pending, tail, pos, walked = encoded[1], encoded, following, True
                        budget -= 1
                        if budget < 0:
                            return _strip_annotations(layout, annotations, garbles)
                    if walked:
                        states = {(pending, tail): (score, node, lost)}
            limit = min([value[0] for value in states.values()]) + 30 if len(states) > 1 else None
            for (pending, tail), (score, node, lost) in states.items():
                if limit is not None and score > limit:
                    continue
                if pending is None:
                    steps = _aligned_steps(layout, pos, tail, mirror)
                else:
                    encoded = plain_gbk(text[pos]) if pending != _UNKNOWN else None
                    if encoded is None:
                        steps = _shifted_steps(text, pos, pending, tail)
                    else:  # `_shifted_steps` of a plain character, inline (the common case)
                        lead = encoded[0]
                        if 0x81 <= pending <= 0xFE:
                            original, penalty = pairs(pending << 8 | lead, _INVALID_PAIR)
                        else:
                            original, penalty = _pair_char(pending, lead)
                        steps = [(pos + 1, penalty, encoded[1], encoded, original, 0)]
                budget -= len(steps)
                for next_pos, penalty, next_pending, next_tail, piece, lost_here in steps:
                    if next_pending is None and next_tail == b"":
                        next_tail = tail if isinstance(tail, str) else b""
                    key = (next_pending, next_tail)
                    new_score = score + penalty
                    bucket = frontier.get(next_pos)
                    if bucket is None:
                        if (
                            limit is None
                            and len(steps) == 1
                            and next_pos < length
                            and (not queue or queue[0] > next_pos)
                        ):
                            chained = (
                                next_pos,
                                {key: (new_score, (piece, node) if piece else node, lost + lost_here)},
                            )
                            break
                        bucket = frontier[next_pos] = {}
                        heappush(queue, next_pos)
                        old = None
                    else:
                        old = bucket.get(key)
                    if old is None or new_score < old[0]:
                        bucket[key] = (new_score, (piece, node) if piece else node, lost + lost_here)
                        if len(bucket) > beam:
                            # Drop the worst reading (the first of equal ones, in insertion order).
                            scores = [value[0] for value in bucket.values()]
                            del bucket[list(bucket)[scores.index(max(scores))]]
            if chained is None:
                break
            if budget < 0:
                return _strip_annotations(layout, annotations, garbles)
            pos, states = chained
    final = frontier.get(length, {})
    if not final:
        return RepairReport(text, True, annotations, garbles, 0)
    ending = []
    for (pending, _tail), (score, node, lost) in final.items():
        # A lead byte still waiting at the end lost its trail.
        extra = 0 if pending is None else 1
        ending.append((score + 2 * extra, node, lost + extra, extra))
    score, node, lost, extra = min(ending, key=lambda item: item[0])
    pieces: list[str] = [LOST] if extra else []
    while node is not None:
        pieces.append(node[0])
        node = node[1]
    repaired = "".join(reversed(pieces))
    return RepairReport(repaired, True, annotations, garbles, lost)


def repair(text: str) -> str:
    """Repaired, Simplified text: mirror damage undone (when detected), then OpenCC t2s.
    Punctuation stays as NFKC left it; `transforms.clean` restores full-width forms."""
    return to_simplified(repair_text(text).text)
