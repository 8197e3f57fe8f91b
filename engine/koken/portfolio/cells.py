"""Cell text → numbers and units, column by column, in Arrow's compute kernels (never one Python call per
plain cell).

A cell is trimmed, width-folded (full-width ASCII only, :func:`koken.base.vocabulary.fold_width`) and then
read as a plain number (``420``, ``-3.5``, ``1e4``), a number with its own unit (``4.5 万台``, ``50%``), a
thousands-separated number (``1,234,567``) or a Japanese negative (``▲12``). Everything else is left for
the caller to report, with its row and column. Nothing is rounded: plain numbers are parsed with correct
rounding, as Python's ``float`` does.
"""

from __future__ import annotations

import numpy as np

from koken.base.vocabulary import fold_width

MULTIPLIERS = ("十", "百", "千", "万", "億")
"""Japanese multipliers a cell may carry alone (``1.2万``, or several: ``1.2百万``): they multiply the column's unit."""
MULTIPLIER_RE2 = "^[" + "".join(MULTIPLIERS) + "]+$"
"""A cell unit that is only multipliers (``万``, ``百万``)."""
DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
"""Hyphen-minus and the Unicode dashes and minus: a cell unit that is one of them is a trailing minus (``0.5-``)."""
SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻½⅓¼¾"
"""Characters that NFKC would turn into other digits (``10⁴`` → ``104``): refused in numbers."""
# Patterns for Arrow's RE2 engine, whose \s and \d are ASCII only: whitespace is spelled out as
# Python's \s (Unicode spaces and separators, and the controls \x1c-\x1f, \x85) and digits stay ASCII
# (cells are width-folded; other digits are refused as numbers either way).
SPACE_RE2 = r"[\s\p{Z}\x{1c}-\x{1f}\x{85}]"
THOUSANDS_RE2 = r"^[+\-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?(?:" + SPACE_RE2 + r"*[^0-9].*)?$"
"""1,234,567 with an optional unit after it."""
_NUMBER_RE2 = r"[+\-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+\-]?\d+)?"
CELL_QUANTITY_RE2 = r"^(?P<number>" + _NUMBER_RE2 + ")" + SPACE_RE2 + r"*(?P<unit>.*?)$"
"""A number, then its unit."""
QUICK_QUANTITY_RE2 = r"^(?P<number>" + _NUMBER_RE2 + r") (?P<unit>[^" + SPACE_RE2[1:-1] + r"].*)$"
"""The usual cell with its own unit, a number, one space and a unit that does not start with a space (``4200 台``):
what it matches, :data:`CELL_QUANTITY_RE2` splits into the same number and unit; Arrow matches it about twice as
fast (no lazy unit, no run of spaces)."""


_PY_WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
                  "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
"""Every character Python's ``str.strip()`` removes (``str.isspace``), for Arrow's ``utf8_trim``."""


def clean_text(column) -> tuple[np.ndarray, np.ndarray, np.ndarray, object]:
    """Cell texts (object array, or an Arrow string array from a columnar file) →
    (stripped as written, stripped and width-folded, positions of cells that run over several lines, for an Arrow
    column the stripped and width-folded texts again as an Arrow string array, else None).

    Each cell is cleaned as ``fold_width(text.strip()).strip()`` would clean it (Python's ``str.strip``
    whitespace: :data:`_PY_WHITESPACE`), without one Python call per cell: trimming and the checks run in
    Arrow's compute kernels; a column whose cells are all ASCII (nothing to fold) is only trimmed; of the
    others, only the distinct texts holding full-width ASCII or an ideographic space are width-folded, in
    Python; an Arrow column of few distinct texts is cleaned once per distinct text; of an object array (a CSV
    file's column, mostly empty), only the non-empty cells are touched. Empty cells stay ``""``.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(column, np.ndarray):
        n = len(column)
        present = np.flatnonzero(column.astype(bool))
        stripped = np.empty(n, dtype=object)
        stripped[:] = ""
        if not len(present):
            return stripped, stripped.copy(), present, None
        given = column[present]
        texts, folded_texts, lines, _arrow = _clean_arrow(pa.array(given, type=pa.string()), given)
        if len(present) == n:
            return texts, folded_texts, lines, None
        folded = stripped.copy()
        stripped[present], folded[present] = texts, folded_texts
        return stripped, folded, present[lines], None
    if len(column) > 4096 and len(pc.unique(column.slice(0, 2048))) < 256:  # few distinct texts: clean those
        encoded = pc.dictionary_encode(column)
        if len(encoded.dictionary) * 4 < len(column):
            stripped, folded, multiline, arrow = _clean_arrow(encoded.dictionary)
            codes = encoded.indices.to_numpy(zero_copy_only=False)
            rows = np.flatnonzero(np.isin(codes, multiline)) if len(multiline) else multiline
            return stripped[codes], folded[codes], rows, arrow.take(encoded.indices)
    return _clean_arrow(column)


def _clean_arrow(cells, given: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, object]:
    """:func:`clean_text` of an Arrow string array without nulls; ``given``: the same texts as an object array, if at
    hand (kept as they are when every cell is already trimmed)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    data = _utf8_bytes(cells)  # (offsets, bytes) of the texts: what no cell holds is seen in one pass over the bytes
    if data is not None and not _needs_trim(*data):
        trimmed = cells  # no cell starts or ends with whitespace: utf8_trim would give the same texts
        untouched = True
    else:
        trimmed = pc.utf8_trim(cells, _PY_WHITESPACE)
        untouched = given is not None and pc.all(pc.equal(trimmed, cells)).as_py() is not False
    if given is not None and untouched:
        stripped = np.asarray(given, dtype=object)  # already trimmed: the texts as they are (no new string per cell)
    else:
        stripped = trimmed.to_numpy(zero_copy_only=False)
    folded = stripped.copy()
    arrow = trimmed
    # Nothing to fold where every byte is ASCII, or where no byte leads U+3000 or U+FF01-U+FF5E (E3, EF in UTF-8):
    # 台, 件, 万 and most kanji lead with E4-E9.
    nothing_wide = bool((data[1] < 0x80).all() or not (_FOLD_LEAD[data[1]]).any()) if data is not None else \
        pc.all(pc.string_is_ascii(trimmed)).as_py() is not False
    if not nothing_wide:  # of the non-ASCII cells, those to fold
        foldable = pc.and_(pc.invert(pc.string_is_ascii(trimmed)),
                           pc.match_substring_regex(trimmed, "[\uff01-\uff5e\u3000]"))
        wide = np.flatnonzero(foldable.to_numpy(zero_copy_only=False))
        if len(wide):  # each distinct text folded once
            encoded = pc.dictionary_encode(trimmed.take(pa.array(wide)))
            distinct = np.array([fold_width(t).strip() for t in encoded.dictionary.to_pylist()], dtype=object)
            folded[wide] = distinct[encoded.indices.to_numpy(zero_copy_only=False)]
            arrow = pc.replace_with_mask(trimmed, foldable, pa.array(folded[wide], type=trimmed.type))
    if data is not None and not ((data[1] == 0x0A) | (data[1] == 0x0D)).any():  # no line break in any cell
        return stripped, folded, np.zeros(0, dtype=np.int64), arrow
    breaks = pc.or_(pc.match_substring(trimmed, "\n"), pc.match_substring(trimmed, "\r"))
    return stripped, folded, np.flatnonzero(breaks.to_numpy(zero_copy_only=False)), arrow


def filled(cells, texts: np.ndarray) -> np.ndarray:
    """Per cell, whether it holds text: ``texts != ""`` for the cleaned texts ``texts`` (object array), read from the
    lengths of ``cells``, the same texts as an Arrow string array (:func:`clean_text`'s fourth item), when given."""
    data = _utf8_bytes(cells) if cells is not None and len(cells) == len(texts) else None
    return np.diff(data[0]) > 0 if data is not None else texts != ""


def _lead_and_last_bytes(characters: str) -> tuple[np.ndarray, np.ndarray]:
    """Per byte value (256 entries), whether it is the first UTF-8 byte of one of ``characters``, and whether the last."""
    lead, last = np.zeros(256, dtype=bool), np.zeros(256, dtype=bool)
    for c in characters:
        encoded = c.encode("utf-8")
        lead[encoded[0]] = last[encoded[-1]] = True
    return lead, last


_WHITESPACE_LEAD, _WHITESPACE_LAST = _lead_and_last_bytes(_PY_WHITESPACE)
_FOLD_LEAD = _lead_and_last_bytes("\u3000" + "".join(chr(c) for c in range(0xFF01, 0xFF5F)))[0]
"""The first UTF-8 bytes of the characters :func:`clean_text` width-folds (the ideographic space, full-width ASCII)."""


def _utf8_bytes(cells) -> tuple[np.ndarray, np.ndarray] | None:
    """An Arrow string (or large string) array without nulls as (offsets ``(n + 1,)`` into the bytes, the bytes of
    its texts, uint8), both views of Arrow's buffers (no copy); None for any other array or an empty one."""
    import pyarrow as pa

    if not isinstance(cells, pa.Array) or not len(cells) or cells.null_count or not (
            pa.types.is_string(cells.type) or pa.types.is_large_string(cells.type)):
        return None
    _validity, offsets, data = cells.buffers()
    at = np.frombuffer(offsets, dtype=np.int64 if pa.types.is_large_string(cells.type) else np.int32)[
        cells.offset:cells.offset + len(cells) + 1]
    start, end = int(at[0]), int(at[-1])
    texts = np.frombuffer(data, dtype=np.uint8)[start:end] if data is not None and end > start else \
        np.zeros(0, dtype=np.uint8)
    return at - start, texts


def _needs_trim(offsets: np.ndarray, texts: np.ndarray) -> bool:
    """Whether a cell (:func:`_utf8_bytes`) starts or ends with whitespace (:data:`_PY_WHITESPACE`): False only when no
    cell's first byte begins, and no cell's last byte ends, one of its characters (a cell that utf8_trim would change
    always has such a byte; the converse need not hold, so True may be a false alarm)."""
    starts, ends = offsets[:-1], offsets[1:]
    filled = ends > starts
    return bool(_WHITESPACE_LEAD[texts[starts[filled]]].any() or _WHITESPACE_LAST[texts[ends[filled] - 1]].any())


def clean_numbers(cells):
    """Thousands separators out, minus signs unified, including the Japanese ▲/△ negative marks
    (cells are already width-folded and stripped); ``cells`` is an Arrow string array."""
    import pyarrow.compute as pc

    cells = pc.replace_substring(cells, ",", "")
    cells = pc.replace_substring(cells, "\u2212", "-")
    return pc.replace_substring_regex(cells, f"^[▲△]{SPACE_RE2}*", "-")


PLAIN_NUMBER_RE2 = r"^[+\-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+\-]?\d+)?$"
"""A number as written in a cell: digits, an optional point and exponent (no commas, no unit)."""


def parse_numbers(texts) -> np.ndarray:
    """Cell texts → floats: plain numbers (:data:`PLAIN_NUMBER_RE2`) parsed with correct rounding (as
    Python's ``float``) by Arrow; ``inf``, ``nan`` and ``infinity`` (any case) as themselves, so that
    they are reported as not finite; anything else NaN (reported by the caller)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cells = pa.array(texts, type=pa.string()) if isinstance(texts, np.ndarray) else texts
    out = np.full(len(cells), np.nan)
    plain = pc.match_substring_regex(cells, PLAIN_NUMBER_RE2).to_numpy(zero_copy_only=False)
    if plain.any():
        out[plain] = pc.cast(cells.filter(pa.array(plain)), pa.float64()).to_numpy(zero_copy_only=False)
    special = pc.match_substring_regex(cells, r"^[+\-]?(?:inf|infinity)$", ignore_case=True).to_numpy(
        zero_copy_only=False)
    if special.any():
        out[special] = [float(t) for t in cells.filter(pa.array(special)).to_pylist()]
    return out


class Formatted:
    """Numbers shown as text on demand (``years_raw[i]``), never one string per row up front."""

    def __init__(self, values: np.ndarray):
        self._values = values

    def __getitem__(self, i) -> str:
        v = self._values[i]
        return "" if np.isnan(v) else f"{v:.15g}"


def as_entered(column: tuple[np.ndarray, np.ndarray, str], cells, header_unit: str | None) -> np.ndarray:
    """A number column as the company wrote it: the cell's text, followed by the header's (or units
    row's) unit when the cell has no unit of its own (a plain number, or 万/千/億 alone).

    Args:
        column: (numbers, unit text per row, header) as :func:`koken.portfolio.build.build_portfolio` reads it.
        cells: the cells' text (object array), or None for a typed numeric column (the number is then
            written as its shortest exact text).
        header_unit: the column's unit from the header or units row, or None.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    values, units, _ = column
    suffix = f" {header_unit}" if header_unit else ""
    if cells is None:
        texts = pc.fill_null(pc.cast(pa.array(values, from_pandas=True), pa.string()), "").to_numpy(
            zero_copy_only=False).astype(object)
        return np.where(texts != "", texts + suffix, texts)
    texts = np.asarray(cells, dtype=object)
    if not suffix:
        return texts.copy()
    own = np.flatnonzero(units != header_unit)
    multiplier = [u.endswith(f"*({header_unit})") for u in units[own]]
    needs = units == header_unit
    needs[own[np.asarray(multiplier, dtype=bool)]] = True
    needs &= texts != ""
    written = np.flatnonzero(needs)  # a cell that writes the column's unit itself ("4.5 万台" under 万台) has one
    needs[written[[fold_width(str(t)).rstrip().endswith(header_unit) for t in texts[written]]]] = False
    out = texts.copy()
    out[needs] = texts[needs] + suffix
    return out


def number_then_unit(texts, header_unit: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The common case of a cell with its own unit, ``"4200 台"`` or ``"35.2 MW"``, read in one pass; ``texts``:
    the cells (object array or Arrow string array, trimmed and width-folded).

    Returns:
        (mask of the cells read here, their numbers, their unit texts). Cells with anything unusual —
        a comma, a minus or ▲ mark, a superscript, a unit that is only multipliers (万, 百万) or only a dash (a
        trailing minus, ``0.5-``), no number — are left to
        the full path, which explains what is wrong with them.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    cells = texts if isinstance(texts, pa.Array) else pa.array(texts, type=pa.string())
    parts = pc.extract_regex(cells, QUICK_QUANTITY_RE2)  # "4200 台": most cells; the others by the full pattern
    quick = pc.fill_null(pc.is_valid(parts), False).to_numpy(zero_copy_only=False)
    if quick.all():
        return _number_and_unit(parts, header_unit)
    at, rest = np.flatnonzero(quick), np.flatnonzero(~quick)
    first = _number_and_unit(parts.filter(pa.array(quick)), header_unit)
    second = _number_and_unit(pc.extract_regex(cells.take(pa.array(rest)), CELL_QUANTITY_RE2), header_unit)
    simple = np.zeros(len(cells), dtype=bool)
    simple[at[first[0]]] = simple[rest[second[0]]] = True
    order = np.argsort(np.concatenate([at[first[0]], rest[second[0]]]), kind="stable")
    return simple, np.concatenate([first[1], second[1]])[order], np.concatenate([first[2], second[2]])[order]


def _number_and_unit(parts, header_unit: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`number_then_unit` of cells split by a pattern into ``parts`` (Arrow struct array: number, unit; null
    where the pattern did not match)."""
    import pyarrow as pa
    import pyarrow.compute as pc

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
    if simple.any():  # one text per distinct unit, shared by its cells
        encoded = pc.dictionary_encode(unit.filter(chosen))
        units = encoded.dictionary.to_numpy(zero_copy_only=False).astype(object)[
            encoded.indices.to_numpy(zero_copy_only=False)]
    else:
        units = np.zeros(0, dtype=object)
    return simple, values, units


def same_unit(unit: str | None, n: int) -> np.ndarray:
    """The unit text of every row of a column whose cells carry no unit of their own: one read-only
    broadcast array (no per-row objects)."""
    cell = np.empty(1, dtype=object)
    cell[0] = unit or ""
    return np.broadcast_to(cell, (n,))


