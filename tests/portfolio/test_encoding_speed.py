"""Issue 17 §4: the half-width katakana check of a cp932 file (EUC-JP or Latin-1 read as cp932) searches the text
encoded as UTF-8; it finds exactly what a search of the text for U+FF61–U+FF9F finds."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from koken.portfolio.readers import has_halfwidth_kana

KANA = re.compile("[\uff61-\uff9f]")
near = st.sampled_from(["\uff60", "\uff61", "\uff7f", "\uff80", "\uff9f", "\uffa0", "\uff5e", "\uff01", "\uffe5",
                        "\u30a2", "\u3000", "冷", "a", "\u00bd", "\ud7ff", "\U0001f600"])


@settings(max_examples=500, deadline=None)
@given(st.lists(near | st.characters(blacklist_categories=("Cs",)), max_size=12).map("".join))
def test_the_check_finds_what_a_search_of_the_text_finds(text):
    assert has_halfwidth_kana(text) == bool(KANA.search(text))


def test_every_character_near_the_range():
    for code in range(0xFF00, 0xFFF0):
        assert has_halfwidth_kana(f"x{chr(code)}y") == (0xFF61 <= code <= 0xFF9F), hex(code)


def test_a_cp932_file_with_half_width_katakana_is_refused(tmp_path, library):
    from koken.base.errors import KokenErrors
    from koken.portfolio.readers import open_portfolio

    path = tmp_path / "p.csv"
    path.write_bytes("product_line,methodology\n冷蔵庫 ｱ,refrigerator\n".encode("cp932"))
    try:
        open_portfolio(path, library)
    except KokenErrors as errs:
        assert "half-width katakana" in str(errs.errors[0])
    else:
        raise AssertionError("not refused")
