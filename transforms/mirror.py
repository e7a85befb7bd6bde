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

import random
import re
import unicodedata

import opencc

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
