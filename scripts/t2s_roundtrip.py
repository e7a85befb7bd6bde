"""Regenerate transforms/t2s_roundtrip.tsv: Simplified words that OpenCC's s2t → t2s round trip
does not give back, with the form t2s gives instead.

OpenCC's s2t maps some Simplified words to a Traditional form that is also the Traditional of
another Simplified word, and t2s picks that other one: s2t(想象) = 想像, t2s(想像) = 想像. A spam
mirror that ran s2t on 想象 therefore comes back as 想像 whatever the repair does. For such a pair
we keep the Simplified form that is far more common in Chinese text, by the word frequencies of
jieba's dictionary (a large Simplified corpus): t2s's output b is replaced by w when
- w is Simplified (t2s(w) = w), and t2s(s2t(w)) = b ≠ w;
- w is a frequent word (frequency ≥ MIN_FREQ) at least RATIO times as frequent as b.

jieba is needed only here, not at run time:
    .venv/bin/uv pip install --python .venv/bin/python jieba && .venv/bin/python scripts/t2s_roundtrip.py
`tests/test_clean.py` checks every row against the installed OpenCC, so an OpenCC upgrade that
changes its dictionaries shows up as a failing test and a reason to rerun this script.
"""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

import opencc

OUT = Path(__file__).resolve().parent.parent / "transforms" / "t2s_roundtrip.tsv"
MIN_FREQ = 20
RATIO = 2


def main() -> int:
    try:
        import jieba
    except ImportError:
        print("t2s_roundtrip: jieba is not installed (see this script's docstring)", file=sys.stderr)
        return 2
    freq: dict[str, int] = {}
    with open(Path(jieba.__file__).with_name("dict.txt"), encoding="utf-8") as fh:
        for line in fh:
            word, count, *_ = line.split(" ")
            if len(word) >= 2:
                freq[word] = int(count)
    s2t, t2s = opencc.OpenCC("s2t"), opencc.OpenCC("t2s")
    words = [w for w, c in freq.items() if c >= MIN_FREQ]
    simplified = t2s.convert("\n".join(words)).split("\n")
    words = [w for w, s in zip(words, simplified, strict=True) if s == w]
    back = t2s.convert(s2t.convert("\n".join(words))).split("\n")
    table: dict[str, str] = {}
    for w, b in zip(words, back, strict=True):
        if b != w and freq[w] >= RATIO * freq.get(b, 0) and freq[w] > freq.get(table.get(b, ""), -1):
            table[b] = w
    lines = [
        "# t2s output\tSimplified word it came from (scripts/t2s_roundtrip.py; "
        f"jieba {jieba.__version__} frequencies, OpenCC {importlib.metadata.version('opencc')})",
        *(f"{b}\t{w}" for b, w in sorted(table.items())),
    ]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"t2s_roundtrip: {len(table)} rows → {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
