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
# The rule `_widen_marks` applies, as one substitution (its specification): a mark with its
# surrounding spaces, touching Chinese text on either side, → the full-width mark. The regex starts
# with an assertion, so the engine tries it at every position; `_widen_marks` finds the marks
# directly instead and uses the regex only for text holding U+3000 (a space that is also CJK).
_MARK_RULE = re.compile(rf"(?<=[{_CJK}])\s*([,:;!?])\s*|\s*([,:;!?])\s*(?=[{_CJK}])")
_MARK = re.compile(r"[,:;!?]")
# Text without any space: a mark touching Chinese text on either side, found by one C-level pass
# (the class first, so the engine skips to marks; the rule's `\s*` have nothing to take).
_SPACE = re.compile(r"\s")
_MARK_TOUCHING = re.compile(rf"([,:;!?])(?:(?<=[{_CJK}][,:;!?])|(?=[{_CJK}]))")
_CJK_OTHER = frozenset("“”‘’《》、。…—")
_PAIR = re.compile(r"\(([^()\n]*)\)")
_HAS_HAN = re.compile(r"[\u4e00-\u9fff]")
_ASCII_MARK = re.compile(r"[,:;!?()]")
# A space beside a full-width mark is layout, not text.
_AROUND_WIDE = re.compile(r" ?([，。；：！？（）、]) ?")


def normalize_space(text: str) -> str:
    """One ASCII space for any run of spaces (NBSP, ideographic, zero-width included); trimmed."""
    return _SPACES.sub(" ", text).strip()


def _is_cjk(char: str) -> bool:
    return (
        "\u4e00" <= char <= "\u9fff" or "\u3000" <= char <= "\u303f" or "\uff00" <= char <= "\uffef"
    ) or char in _CJK_OTHER


def _widen_marks(segment: str) -> str:
    """Each ASCII mark `,:;!?` with a Chinese character before its leading spaces or after its
    trailing spaces becomes full width, those spaces dropped; left to right, a replaced mark's
    trailing spaces are not another's leading spaces (the regex above, substitution semantics)."""
    # Every space but U+0020 is unprintable: printable text without " " has no space at all.
    if (" " not in segment and segment.isprintable()) or not _SPACE.search(segment):
        parts = _MARK_TOUCHING.split(segment)  # text, mark, text, mark, …, text
        if len(parts) == 1:
            return segment
        parts[1::2] = [_WIDE[mark] for mark in parts[1::2]]
        return "".join(parts)
    if "\u3000" in segment:  # normalize_space removed it; other callers get the rule itself
        return _MARK_RULE.sub(lambda m: _WIDE[m.group(1) or m.group(2)], segment)
    pieces: list[str] = []
    last = 0  # end of the last replacement: text before it is settled
    size = len(segment)
    for m in _MARK.finditer(segment):
        mark = m.start()
        start = mark
        while start > last and segment[start - 1].isspace():
            start -= 1
        end = mark + 1
        while end < size and segment[end].isspace():
            end += 1
        if (start and _is_cjk(segment[start - 1])) or (end < size and _is_cjk(segment[end])):
            pieces.append(segment[last:start])
            pieces.append(_WIDE[m.group()])
            last = end
    if not pieces:
        return segment
    pieces.append(segment[last:])
    return "".join(pieces)


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
    text = _SPACES.sub(" ", text).strip()  # normalize_space
    if not text:
        return text
    if text.isascii() or not _ASCII_MARK.search(text):
        return text  # nothing to widen (the common case for clean Simplified text)
    if "//" in text or "www." in text:
        pieces: list[str] = []
        last = 0
        for m in _URL.finditer(text):
            pieces.append(_widen_pairs(_widen_marks(text[last : m.start()])))
            pieces.append(m.group(0))
            last = m.end()
        pieces.append(_widen_pairs(_widen_marks(text[last:])))
        text = "".join(pieces)
    else:
        text = _widen_pairs(_widen_marks(text))
    return _AROUND_WIDE.sub(_keep_mark, text) if " " in text else text


def _keep_mark(m: re.Match[str]) -> str:
    return m.group(1)
