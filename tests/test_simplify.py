"""transforms.simplify: t2s that gives back what s2t started from."""

from __future__ import annotations

import opencc

from transforms import simplify
from transforms.simplify import to_simplified

S2T, T2S = opencc.OpenCC("s2t"), opencc.OpenCC("t2s")


def test_every_table_row_is_a_round_trip_opencc_really_misses():
    # Each row still describes the installed OpenCC: s2t of the word, read back by t2s, gives the
    # row's t2s form and not the word. An OpenCC upgrade that fixes or changes one fails here,
    # which is the signal to rerun scripts/t2s_roundtrip.py.
    assert len(simplify.ROUND_TRIP) >= 10
    for t2s_form, word in simplify.ROUND_TRIP.items():
        assert T2S.convert(word) == word, word  # the word is Simplified
        assert T2S.convert(S2T.convert(word)) == t2s_form != word, word
        assert to_simplified(S2T.convert(word)) == word


def test_round_trip_words_and_leftover_characters_come_back():
    text = "我们难以想象这样的坐标，满足于单一的形式，医生背着药箱。"
    assert T2S.convert(S2T.convert(text)) != text  # plain OpenCC does not give it back
    assert to_simplified(S2T.convert(text)) == text


def test_phrases_that_keep_a_traditional_looking_character_stay():
    # 乾 on its own becomes 干, but not in these words: their Simplified spelling keeps it.
    for word in ("乾隆", "乾坤"):
        assert to_simplified(S2T.convert(word)) == word
    # Plain Traditional text converts as t2s does where t2s is right.
    assert to_simplified("頭髮乾淨，後來軟體") == T2S.convert("頭髮乾淨，後來軟體")
