"""koken.portfolio.cells: the fast paths read every cell exactly as the code before them did (copied here verbatim
from 9d2320d), on messy text: full-width letters and digits, ideographic spaces, half-width katakana, NBSP, line breaks.

- clean_text (all-ASCII columns only trimmed, width folding once per distinct text, text kept in Arrow), also checked
  against ``fold_width(t.strip()).strip()`` cell by cell;
- number_then_unit (``"4200 台"`` matched by a quicker pattern first)."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from koken.base.vocabulary import fold_width
from koken.portfolio.cells import (
    CELL_QUANTITY_RE2,
    DASHES,
    MULTIPLIER_RE2,
    SUPERSCRIPTS,
    clean_text,
    filled,
    number_then_unit,
)

WHITESPACE = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
"""What Python's ``str.strip()`` removes (the old code's ``_PY_WHITESPACE``)."""


def old_clean_text(column):
    """``clean_text`` as it was before the fast paths (engine/koken/portfolio/cells.py at 9d2320d), verbatim."""
    if not isinstance(column, np.ndarray) and len(column) > 4096 and \
            len(pc.unique(column.slice(0, 2048))) < 256:
        encoded = pc.dictionary_encode(column)
        if len(encoded.dictionary) * 4 < len(column):
            stripped, folded, multiline = old_clean_text(encoded.dictionary)
            codes = encoded.indices.to_numpy(zero_copy_only=False)
            rows = np.flatnonzero(np.isin(codes, multiline)) if len(multiline) else multiline
            return stripped[codes], folded[codes], rows
    if isinstance(column, np.ndarray):
        n = len(column)
        present = np.flatnonzero(column.astype(bool))
        cells = pa.array(column[present], type=pa.string())
    else:
        n = len(column)
        present = np.flatnonzero(pc.not_equal(column, "").to_numpy(zero_copy_only=False))
        cells = column.take(pa.array(present))
    if not len(present):
        stripped = np.empty(n, dtype=object)
        stripped[:] = ""
        return stripped, stripped.copy(), present
    trimmed = pc.utf8_trim(cells, WHITESPACE)
    texts = trimmed.to_numpy(zero_copy_only=False)
    if len(present) == n:
        stripped = texts
    else:
        stripped = np.empty(n, dtype=object)
        stripped[:] = ""
        stripped[present] = texts
    folded = stripped.copy()
    wide = np.flatnonzero(~pc.string_is_ascii(trimmed).to_numpy(zero_copy_only=False))
    if len(wide):
        wide = wide[pc.match_substring_regex(trimmed.take(pa.array(wide)), "[\uff01-\uff5e\u3000]").to_numpy(
            zero_copy_only=False)]
        folded[present[wide]] = [fold_width(t).strip() for t in texts[wide]]
    breaks = pc.or_(pc.match_substring(trimmed, "\n"), pc.match_substring(trimmed, "\r"))
    multiline = present[breaks.to_numpy(zero_copy_only=False)]
    return stripped, folded, multiline


MESSY = [
    "", " ", "\u3000", "\xa0", "plain", "  plain  ", "ＡＢＣ１２３", "\u3000ＦＹ２０２３\u3000", "４．５ 万台",
    "ｶﾞｽ ﾀｰﾋﾞﾝ", "ﾃﾚﾋﾞ\u3000４Ｋ", "\xa0420\xa0", "420\xa0kWh", "冷蔵庫 401〜450L", "１２，３４５ ｋＷｈ", "▲１２",
    "10⁴", "½", "①", "ｋＷｈ／ｙｒ", "mixed ＡＢＣ abc ｱｲｳ", "\u2003em space\u2002", "a\nb", "\r\nab", "ab\r",
    "\u3000\xa0 ＡＢＣ\t", "全角スペース\u3000の中", "\u3000\u3000", "\x1c sep \x1f", "\x85next\x85", "ﾞ",
    "Ｆｒｉｄｇｅ　４０１－４５０　Ｌ", "－１２．５",
]
"""Cells of every kind the cleaning treats differently (hand-picked; hypothesis adds random ones)."""


def reference(cells):
    """Per cell, in Python: (stripped, folded, has a line break)."""
    stripped = [c.strip() if c else "" for c in cells]
    return stripped, [fold_width(s).strip() for s in stripped], [i for i, s in enumerate(stripped)
                                                                  if "\n" in s or "\r" in s]


def assert_cleaned_alike(cells):
    stripped, folded, lines = reference(cells)
    for column in (np.array(cells, dtype=object), pa.array(cells, type=pa.string())):
        new, old = clean_text(column), old_clean_text(column)
        for got in (new, old):
            assert got[0].tolist() == stripped
            assert got[1].tolist() == folded
            assert got[2].tolist() == lines
        if isinstance(column, pa.Array):  # the Arrow copy holds the same texts
            assert new[3].to_pylist() == folded
        else:
            assert new[3] is None
        assert new[0].dtype == old[0].dtype == object and new[1].dtype == object


def test_messy_cells_cleaned_as_before():
    assert_cleaned_alike(MESSY)
    assert_cleaned_alike(MESSY[::-1] * 3)


@pytest.mark.parametrize("cells", [
    ["plain", "ascii only", "  needs trim\t", ""],  # all ASCII, not trimmed
    ["plain", "ascii", "trimmed"],  # all ASCII and trimmed: the texts as they are
    ["", "", ""],
    [],
    ["ＡＢＣ"] * 3 + ["abc"],  # one distinct full-width text, folded once for three cells
])
def test_fast_paths_cleaned_as_before(cells):
    assert_cleaned_alike(cells)


def test_columns_of_few_distinct_texts_cleaned_as_before():
    """Over 4,096 cells of few distinct texts (the dictionary path), messy ones among them."""
    rng = np.random.default_rng(0)
    cells = [MESSY[k] for k in rng.integers(0, len(MESSY), 6000)]
    assert_cleaned_alike(cells)


def test_many_distinct_messy_texts_cleaned_as_before():
    rng = np.random.default_rng(1)
    cells = [f"{MESSY[a]}{k}{MESSY[b]}" for k, (a, b) in enumerate(rng.integers(0, len(MESSY), (5000, 2)))]
    assert_cleaned_alike(cells)


TEXT = st.text(alphabet=st.sampled_from(list("aZ 09.,-\t\n\r\xa0\u3000\u2003\x1c\x85ＡＺａｚ０９．，－ｱｶﾞﾟ万台▲⁴")),
               max_size=8)


@settings(max_examples=200, deadline=None)
@given(st.lists(TEXT, max_size=12))
def test_random_messy_cells_cleaned_as_before(cells):
    assert_cleaned_alike(cells)


def old_number_then_unit(texts, header_unit):
    """``number_then_unit`` as it was before the quick pattern (engine/koken/portfolio/cells.py at 9d2320d), verbatim."""
    cells = pa.array(texts, type=pa.string())
    parts = pc.extract_regex(cells, CELL_QUANTITY_RE2)
    number, unit = parts.field("number"), parts.field("unit")
    matched = pc.fill_null(pc.is_valid(parts), False)
    plain_unit = pc.invert(pc.fill_null(pc.match_substring_regex(
        unit, f"[,▲△\u2212{SUPERSCRIPTS}]|^$|^[{DASHES}]$"), True))
    simple = pc.and_(matched, plain_unit).to_numpy(zero_copy_only=False)
    if header_unit:
        multiplier_only = pc.fill_null(pc.match_substring_regex(unit, MULTIPLIER_RE2), False).to_numpy(
            zero_copy_only=False)
        simple &= ~np.asarray(multiplier_only, dtype=bool)
    chosen = pa.array(simple)
    values = pc.cast(number.filter(chosen), pa.float64()).to_numpy(zero_copy_only=False) if simple.any() \
        else np.zeros(0)
    units = unit.filter(chosen).to_numpy(zero_copy_only=False).astype(object) if simple.any() \
        else np.zeros(0, dtype=object)
    return simple, values, units


QUANTITIES = [
    "4200 台", "4200台", "4200  台", "4200\u3000台", "4200\xa0台", "4200 \u3000台", "4.5 万台", "4.5万", "4.5 万",
    "1,234 台", "1,234,567 kWh", "▲12 台", "△3", "\u22125 台", "-5 台", "+5 台", "1e5 kWh", "1E-3 MW", "1e kWh",
    "1e+ kWh", "0.5 -", "0.5-", "0.5 \u2212", ".5 MW", "5. MW", "5.e3 W", "10⁴ 台", "½ 台", "50%", "50 %",
    "12 kg-CO2/kWh", "12 kg CO2 / kWh", "35.2 MW", "3 ｶﾞｽ", "7 \x0b台", "8 \x1c台", "9 \x85台", "台", "", " 台",
    "1 2 3", "1.2.3 台", "42", "inf 台", "nan 台", "0x10 台", "1_000 台", "１２ 台", "12 百万", "12 千台",
]


@pytest.mark.parametrize("header_unit", [None, "台", "万台", "kWh/yr"])
def test_number_then_unit_reads_as_before(header_unit):
    rng = np.random.default_rng(2)
    for cells in (QUANTITIES, [QUANTITIES[k] for k in rng.integers(0, len(QUANTITIES), 3000)]):
        texts = np.array(cells, dtype=object)
        old = old_number_then_unit(texts, header_unit)
        for column in (texts, pa.array(cells, type=pa.string())):
            new = number_then_unit(column, header_unit)
            assert new[0].tolist() == old[0].tolist()
            np.testing.assert_array_equal(new[1], old[1])
            assert new[2].tolist() == old[2].tolist() and new[2].dtype == object


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("0129.eE+-, \u3000\xa0\x0b台万kW%▲⁴")), max_size=8),
                max_size=10), st.sampled_from([None, "台", "万台"]))
def test_random_quantities_read_as_before(cells, header_unit):
    texts = np.array(cells, dtype=object)
    old, new = old_number_then_unit(texts, header_unit), number_then_unit(texts, header_unit)
    assert new[0].tolist() == old[0].tolist()
    np.testing.assert_array_equal(new[1], old[1])
    assert new[2].tolist() == old[2].tolist()


def assert_arrow_cleaned_alike(cells):
    """clean_text of ``cells`` as a string and a large string array, whole and as a slice of a longer array (Arrow
    buffers holding bytes outside the slice), cell by cell as :func:`reference` cleans them; ``filled`` as ``!= ""``."""
    stripped, folded, lines = reference(cells)
    padded = ["\u3000x\n", *cells, " \r y\xa0"]  # whitespace, line breaks and non-ASCII just outside the slice
    for kind in (pa.string(), pa.large_string()):
        for column in (pa.array(cells, type=kind), pa.array(padded, type=kind).slice(1, len(cells))):
            got = clean_text(column)
            assert got[0].tolist() == stripped
            assert got[1].tolist() == folded
            assert got[2].tolist() == lines
            assert got[3].to_pylist() == folded and got[3].type == kind
            assert filled(got[3], got[1]).tolist() == [f != "" for f in folded]


@pytest.mark.parametrize("space", sorted(WHITESPACE))
def test_every_whitespace_character_is_trimmed_at_either_end(space):
    """The check that a column needs no trimming (first and last bytes of each cell) misses none of the characters
    ``str.strip()`` removes, alone, at the start, at the end, or among ASCII, Japanese and full-width text."""
    assert_arrow_cleaned_alike([f"{space}ab", "ab", "冷蔵庫", f"ab{space}", "ＡＢ", f"{space}", f"a{space}b",
                                f"{space}冷蔵庫{space}", "x"])
    assert_arrow_cleaned_alike(["ab", f"冷蔵庫{space}"])
    assert_arrow_cleaned_alike([f"{space}冷蔵庫"])


@pytest.mark.parametrize("cells", [
    ["plain", "ascii"],  # nothing to trim, fold or break: the byte checks skip every Arrow pass
    ["plain", "a\nb"], ["plain", "a\rb"], ["ab\n", "x"],  # a line break inside, or trimmed off the end
    ["冷蔵庫", "ﾃﾚﾋﾞ"],  # not ASCII, nothing to fold
    ["4200 台", "12 万台", "3 件"],  # kanji units: no byte leads a full-width character, nothing to fold
    ["4200 台", "ひらがな", "ｶﾀｶﾅ"], ["4200 台", "４２ 台"], ["4200 台", "a\u3000b"],  # E3 / EF lead bytes
    ["", "", "x"], ["", ""],
])
def test_arrow_columns_cleaned_as_before(cells):
    assert_arrow_cleaned_alike(cells)
    assert_cleaned_alike(cells)


ARROW_TEXT = st.text(alphabet=st.sampled_from(list(" a0.\t\n\r\xa0\u3000\u2003\u2028\u205f\x1c\x85\u1680ＡａｱﾞÅ冷\u00e9台あ～｟")),
                     max_size=6)
"""Whitespace of every UTF-8 length, full-width and half-width forms, kanji and kana (lead bytes E3, E5, EF)."""


@settings(max_examples=300, deadline=None)
@given(st.lists(ARROW_TEXT, max_size=10))
def test_random_arrow_columns_cleaned_as_before(cells):
    assert_arrow_cleaned_alike(cells)
