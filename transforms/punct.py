"""Punctuation and whitespace of Chinese text.

Chinese prose takes full-width `，（）：；！？`; NFKC on the mirrors (and some CMSs) made them ASCII.
A mark goes back to full width when it touches Chinese text; ASCII stays inside numbers (`1,280`,
`10:30`, `3.5`), URLs and Latin runs (`Hello, world`). Parentheses are converted as a pair when
their content or their left neighbour is Chinese. Whitespace: NBSP, ideographic and other spaces
become one ASCII space, runs collapse, ends are trimmed; line breaks are the caller's business.
"""

from __future__ import annotations

import re
from types import MappingProxyType

_CJK = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef“”‘’《》、。…—"
_WIDE = MappingProxyType({",": "，", ":": "：", ";": "；", "!": "！", "?": "？"})
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u3000\u202f\u205f\ufeff]+")
_URL = re.compile(r"(?:https?|ftp)://[^\s\u4e00-\u9fff，。]+|www\.[A-Za-z0-9.-]+[^\s\u4e00-\u9fff，。]*")
_MARK = re.compile(rf"(?<=[{_CJK}])\s*([,:;!?])\s*|\s*([,:;!?])\s*(?=[{_CJK}])")
_PAIR = re.compile(r"\(([^()\n]*)\)")
_HAS_HAN = re.compile(r"[\u4e00-\u9fff]")
_ASCII_MARK = re.compile(r"[,:;!?()]")
# A space beside a full-width mark is layout, not text.
_AROUND_WIDE = re.compile(r" ?([，。；：！？（）、]) ?")


def normalize_space(text: str) -> str:
    """One ASCII space for any run of spaces (NBSP, ideographic, zero-width included); trimmed."""
    return _SPACES.sub(" ", text).strip()


def _widen_marks(segment: str) -> str:
    def wide(m: re.Match[str]) -> str:
        return _WIDE[m.group(1) or m.group(2)]

    return _MARK.sub(wide, segment)


def _widen_pairs(segment: str) -> str:
    if "(" not in segment:
        return segment
    def pair(m: re.Match[str]) -> str:
        start = m.start()
        left = segment[start - 1] if start > 0 else ""
        if _HAS_HAN.search(m.group(1)) or (left and _HAS_HAN.match(left)):
            return "（" + m.group(1).strip() + "）"
        return m.group(0)

    previous = None
    while previous != segment:  # nested pairs, innermost first
        previous = segment
        segment = _PAIR.sub(pair, segment)
    return segment


def normalize(text: str) -> str:
    """Full-width marks in Chinese text, ASCII elsewhere; spaces normalised (see module doc)."""
    text = normalize_space(text)
    if not text:
        return text
    if text.isascii() or not _ASCII_MARK.search(text):
        return text  # nothing to widen (the common case for clean Simplified text)
    pieces: list[str] = []
    last = 0
    for m in _URL.finditer(text) if ("//" in text or "www." in text) else ():
        pieces.append(_widen_pairs(_widen_marks(text[last : m.start()])))
        pieces.append(m.group(0))
        last = m.end()
    pieces.append(_widen_pairs(_widen_marks(text[last:])))
    text = "".join(pieces)
    return _AROUND_WIDE.sub(r"\1", text) if " " in text else text
