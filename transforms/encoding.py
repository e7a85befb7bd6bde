"""Turning fetched bytes into text: BOM, declared charset, then detection; never raises.

Chinese sites often declare `gb2312` while serving GBK/GB18030 characters, declare `utf-8` while
serving GBK, or declare nothing. The rule: a strict UTF-8 decode that succeeds wins (random GBK
bytes are almost never valid UTF-8); otherwise the declared charset if it decodes cleanly; otherwise
whichever of GB18030 / UTF-8 / Big5 yields the fewest replacement characters.
"""

from __future__ import annotations

import codecs
import re

_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_\-]{2,20})""", re.I)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]{0,100}encoding\s*=\s*["']([A-Za-z0-9_\-]{2,20})""", re.I)

# GB2312 and GBK are subsets of GB18030: decoding with the superset never loses characters that a
# mislabelled page actually uses.
_SINGLE_BYTE = frozenset({"latin_1", "iso8859-1", "cp1252", "ascii", "iso8859-15", "windows-1252"})
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030", "big5": "big5hkscs"}


def _normalise(name: str | None) -> str | None:
    if not name:
        return None
    try:
        canonical = codecs.lookup(name.strip().lower()).name
    except LookupError:
        return None
    return _SUPERSETS.get(canonical, _SUPERSETS.get(name.strip().lower(), canonical))


def declared_charset(data: bytes) -> str | None:
    """The charset a page declares in its first 4 KB (`<meta charset>`, http-equiv, XML prolog)."""
    head = data[:4096]
    m = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    return _normalise(m.group(1).decode("ascii", "ignore")) if m else None


def decode_html(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode page bytes; returns (text, encoding used). Invalid bytes become U+FFFD, never an error.

    `declared` is the HTTP header charset if the caller knows it; the page's own declaration is
    read from the bytes.
    """
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", "replace"), "utf-8"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", "replace"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    candidates: list[str] = []
    for name in (_normalise(declared), declared_charset(data), "gb18030", "big5hkscs", "utf-8"):
        if name and name not in candidates and name not in ("utf-16", "utf-32"):
            candidates.append(name)
    # A single-byte declaration decodes anything: on these sites it is a wrong label for GBK,
    # so it is only tried after the Chinese encodings.
    candidates.sort(key=lambda n: n in _SINGLE_BYTE)
    for name in candidates[:2]:
        try:
            return data.decode(name), name
        except (UnicodeDecodeError, LookupError):
            continue
    best_text, best_name, best_bad = "", "utf-8", None
    for name in candidates:
        try:
            text = data.decode(name, "replace")
        except LookupError:
            continue
        bad = text.count("\ufffd")
        if best_bad is None or bad < best_bad:
            best_text, best_name, best_bad = text, name, bad
    return best_text, best_name
