"""Traditional → Simplified: OpenCC `t2s`, then the words its round trip does not give back.

OpenCC's s2t sends some Simplified text to Traditional that t2s reads differently, so text that
went through s2t — every spam-mirror copy — would not come back as it was. Two kinds:
- a word whose Traditional form t2s reads as another word: s2t(想象) = 想像, t2s keeps 想像.
  `t2s_roundtrip.tsv` (made by scripts/t2s_roundtrip.py from OpenCC and word frequencies) lists
  those t2s outputs with the far more common word they came from, and it is put back;
- a character t2s converts on its own but keeps inside one of its phrases, where the phrase
  swallowed a neighbour it does not belong to: 满足于单一 → 滿足於單一 → 满足於单一 (`於單` is a
  name in OpenCC's phrases). Such a leftover is replaced by its own t2s form when that gives back
  the same Traditional text around it (s2t of the result equals the input there).
Genuine Simplified text is not passed through here.
"""

from __future__ import annotations

import re
from pathlib import Path

import opencc

_T2S = opencc.OpenCC("t2s")
_S2T = opencc.OpenCC("s2t")
TABLE_FILE = Path(__file__).with_name("t2s_roundtrip.tsv")
# Characters either side of a leftover that its check converts with it.
WINDOW = 4


def _load(path: Path) -> dict[str, str]:
    table = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            t2s_form, word = line.split("\t")
            table[t2s_form] = word
    return table


def _char_t2s() -> dict[str, str]:
    """Each CJK character that t2s changes on its own, with what it becomes (one per line, so no
    phrase of neighbouring code points is involved)."""
    chars = [chr(c) for c in range(0x4E00, 0xA000)]
    converted = _T2S.convert("\n".join(chars)).split("\n")
    return {a: b for a, b in zip(chars, converted, strict=True) if a != b and len(b) == 1}


ROUND_TRIP = _load(TABLE_FILE)
CHAR_T2S = _char_t2s()
# Longest first, so 想像力 wins over 想像; the look-ahead on first characters keeps the scan cheap.
_WORDS = re.compile(
    f"(?=[{''.join(sorted({k[0] for k in ROUND_TRIP}))}])"
    f"(?:{'|'.join(re.escape(k) for k in sorted(ROUND_TRIP, key=len, reverse=True))})"
)
_LEFTOVER = re.compile(f"[{re.escape(''.join(CHAR_T2S))}]")


def _leftovers(traditional: str, simplified: str) -> str:
    if len(traditional) != len(simplified) or not _LEFTOVER.search(simplified):
        return simplified  # no leftover, or a conversion that changed lengths: nothing aligned
    chars = list(simplified)
    for m in _LEFTOVER.finditer(simplified):
        i = m.start()
        lo, hi = max(0, i - WINDOW), min(len(simplified), i + WINDOW + 1)
        candidate = simplified[lo:i] + CHAR_T2S[m[0]] + simplified[i + 1 : hi]
        if _S2T.convert(candidate) == traditional[lo:hi]:
            chars[i] = CHAR_T2S[m[0]]
    return "".join(chars)


def to_simplified(text: str) -> str:
    """OpenCC t2s of `text`, with round-trip words and leftover characters put right."""
    simplified = _leftovers(text, _T2S.convert(text))
    return _WORDS.sub(lambda m: ROUND_TRIP[m[0]], simplified)


def traditional_chars() -> str:
    """The characters t2s changes on their own (Traditional-only forms)."""
    return "".join(CHAR_T2S)
