"""Read a company's portfolio (shipment data) from CSV, XLSX or YAML into typed columns.

One row per product line: methodology id, fiscal year, market (domestic/overseas), units shipped,
and the methodology's parameter values. A number's unit comes from its cell (``"4.5 万台"``,
``"50%"``), else from the column header (``annual_energy[kWh/yr]``) or a units row (a row right
under the header whose ``methodology`` cell says ``unit``, ``units`` or ``単位``); a number with
no unit anywhere is an error. Headers may be the methodology's declared aliases
(``出荷台数`` = ``units_shipped``). In a workbook, a cell formatted as a percentage (Excel shows
0.5 as "50%") is read as the percentage it shows.

Nothing is dropped or defaulted here: every problem is collected with its file, row and column.
Problems with the file's structure (unknown or missing columns, no data) raise at once; problems
in cells are either raised together (default) or handed to the caller (``collect=True``, used by
:func:`koken.calculation.calculate` so that cell, unit and range problems appear in one report).
Only rows whose cells are all empty are skipped (they hold no data).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from koken.base.errors import KokenError, KokenErrors, Location, PortfolioError
from koken.base.vocabulary import MARKET_NAMES, STANDARD_COLUMNS
from koken.methodology import Methodology
from koken.portfolio.cells import (
    CELL_QUANTITY_RE2,
    MULTIPLIERS,
    SUPERSCRIPTS,
    THOUSANDS_RE2,
    Formatted,
    as_entered,
    clean_numbers,
    clean_text,
    number_then_unit,
    parse_numbers,
    same_unit,
)
from koken.portfolio.layout import Cells, Layout
from koken.portfolio.readers import MAX_PORTFOLIO_BYTES, open_portfolio

_TOTAL_LABEL = re.compile(r"(?:合計|総計|小計|^計$|(?i:\b(?:sub)?total\b)|(?i:^sum$))")
"""Labels of a total or subtotal row, which koken refuses (it computes totals itself; summing one twice
is wrong): 合計, 総計 and 小計 anywhere in the label (冷蔵庫 小計, 【小計】), a lone 計, total/subtotal as a word."""
FISCAL_YEAR_RANGE = (1990, 2100)

Column = tuple[np.ndarray, np.ndarray, str]
"""A number column: (numbers with NaN for empty cells, unit text per row, the header as written)."""


@dataclass(frozen=True)
class Portfolio:
    """Product lines read from one file; every array has one entry per data row.

    Attributes:
        path: the file.
        sha256: hash of the file's bytes (for the result's provenance).
        encoding: how the bytes were read (``utf-8``, ``utf-8 (BOM)``, ``cp932``, ``xlsx`` …).
        rows: the file row of each product line (1-based, as a spreadsheet shows it).
        product_line, methodology, market, region: strings per row ('' where absent); the product
            line is kept as written (only surrounding spaces removed).
        fiscal_year: int array (0 where the cell was invalid and reported).
        units_shipped: (numbers, unit text per row, header as written); ``units_shipped_entered``: the
            cells as written, for the result's ``units_shipped_as_entered``.
        parameters: column (canonical parameter name) → (numbers with NaN for empty cells, unit
            text per row, the column header as written).
        problems: cell-level problems (only with ``collect=True``; otherwise they were raised).
        invalid: True for rows that have a cell-level problem.
    """

    path: str
    sha256: str
    encoding: str
    rows: np.ndarray
    product_line: np.ndarray
    methodology: np.ndarray
    fiscal_year: np.ndarray
    market: np.ndarray
    region: np.ndarray
    units_shipped: tuple[np.ndarray, np.ndarray, str]
    parameters: dict[str, tuple[np.ndarray, np.ndarray, str]] = field(default_factory=dict)
    problems: list[KokenError] = field(default_factory=list)
    invalid: np.ndarray | None = None
    units_shipped_entered: np.ndarray | None = None
    """Per row, units shipped as the company wrote it (the cell, with the header's unit when the cell has
    none; a typed number as its shortest exact text); None: format the parsed number instead."""

    def __len__(self) -> int:
        return len(self.rows)

    def location(self, i: int, column: str | None = None) -> Location:
        """Location of data row ``i`` (0-based index into the arrays)."""
        return Location(file=self.path, row=int(self.rows[i]), column=column)


def read_portfolio(path: str | Path, library: Mapping[str, Methodology],
                   encoding: str | None = None, sheet: str | None = None,
                   collect: bool = False) -> Portfolio:
    """Read a whole portfolio file (``.csv``, ``.parquet``, ``.xlsx``, ``.yaml``/``.yml``) as one partition.

    Args:
        path: the file.
        library: methodologies by id (for ids, parameter names, aliases and expected units).
        encoding: CSV text encoding; default: UTF-8 (with or without BOM), UTF-16 with BOM, else
            cp932 (Shift_JIS).
        sheet: XLSX sheet name; default the first sheet.
        collect: return cell-level problems in ``Portfolio.problems`` instead of raising them.
    Returns:
        Portfolio.
    Raises:
        KokenErrors: structural problems (unreadable file, larger than :data:`MAX_PORTFOLIO_BYTES`
            (use :func:`koken.scale.run` for partitions), unknown, duplicate or missing columns, no
            product lines), and without ``collect`` every cell-level problem too (unknown methodology,
            bad year or market, a cell that is not a number, a number without a unit), each with file,
            row and column.
    """
    p = Path(path)
    try:
        if p.is_file() and p.stat().st_size > MAX_PORTFOLIO_BYTES:
            raise KokenErrors([PortfolioError(
                f"file is larger than {MAX_PORTFOLIO_BYTES:,} bytes: read it in partitions (koken calculate)",
                Location(file=str(p)))])
    except OSError as err:
        raise KokenErrors([PortfolioError(f"cannot read file: {err.strerror}", Location(file=str(p)))]) from None
    source = open_portfolio(p, library, encoding=encoding, sheet=sheet, partition_rows=None)
    part = next(source.partitions())
    if part.problems:
        raise KokenErrors(list(part.problems))
    portfolio = build_portfolio(part.layout, source.sha256, part.block, library, first=True,
                                had_units_row=part.had_units_row)
    if portfolio.problems and not collect:
        raise KokenErrors(portfolio.problems)
    return portfolio


def build_portfolio(layout: Layout, digest: str, block: Cells, library: Mapping[str, Methodology],
                    first: bool = True, had_units_row: bool = False) -> Portfolio:
    """Interpret one block of rows (a whole file, or one partition of it) into a :class:`Portfolio`.

    Args:
        layout: from :func:`koken.portfolio.layout.layout_from_header`.
        digest: the file's sha256 (for provenance).
        block: the rows.
        library: methodologies by id.
        first: the block is the whole file: an empty block is then an error (no product lines).
        had_units_row: the file had a units row (taken out by :func:`koken.portfolio.layout.split_units_row`),
            for messages.
    Returns:
        Portfolio, with its cell problems collected in ``problems``.
    Raises:
        KokenErrors: structural problems (values without a header, cells running over several lines,
            no product lines).
    """
    rows = _CleanBlock(layout, block)
    if first and not rows.n:
        raise KokenErrors([PortfolioError("the file has no product lines (only a header"
                                          + (" and a units row)" if had_units_row else ")"),
                                          Location(file=layout.path))])
    cells = _CellProblems(layout.path, rows.rows)
    methodology = _methodology_column(rows, library, cells)
    market = _market_column(rows, cells)
    years = _fiscal_year_column(rows, cells)
    shipped = _number_column(rows, "units_shipped", cells)
    index, header_unit, header = layout.columns["units_shipped"]
    for i in np.flatnonzero(np.isnan(shipped[0]) & ~rows.present(index)):
        cells.flag(i, "units_shipped is empty", header)
    params = {name: _number_column(rows, name, cells) for name in layout.columns if name not in STANDARD_COLUMNS}
    return Portfolio(units_shipped_entered=as_entered(shipped, rows.table.get(index), header_unit),
                     path=layout.path, sha256=digest, encoding=layout.encoding, rows=rows.rows,
                     product_line=rows.text("product_line", as_written=True), methodology=methodology,
                     fiscal_year=years, market=market, region=rows.text("region"), units_shipped=shipped,
                     parameters=params, problems=sorted(cells.problems, key=lambda e: (e.location.row or 0,)),
                     invalid=cells.invalid)


class _CleanBlock:
    """A block's non-empty rows, each text column trimmed and width-folded, each typed column as numbers.

    Raises (on construction):
        KokenErrors: a column without a header holds values; a cell runs over several lines.
    """

    def __init__(self, layout: Layout, block: Cells):
        self.layout = layout
        structural: list[KokenError] = []
        raw: dict[int, np.ndarray] = {}
        table: dict[int, np.ndarray] = {}
        numeric: dict[int, np.ndarray] = {}
        multiline: dict[int, np.ndarray] = {}
        keep = np.zeros(len(block.rows), dtype=bool)
        used = {index for index, _, _ in layout.columns.values()}
        for index, column in enumerate(block.columns):
            if isinstance(column, np.ndarray) and column.dtype.kind == "f":
                numeric[index] = column
                present = ~np.isnan(column)
            else:
                raw[index], table[index], multiline[index] = clean_text(column)
                present = table[index] != ""
            keep |= present
            if index not in used and present.any():
                structural.append(PortfolioError("a column without a header holds values",
                                                 Location(file=layout.path, column=f"#{index + 1}")))
        header_of = {index: header for index, _, header in layout.columns.values()}
        for index, positions in multiline.items():  # a quote left open swallows the following lines into one cell
            if index in header_of:
                for i in positions:
                    structural.append(PortfolioError(
                        "a cell holds a line break (in a file of columns)" if layout.encoding == "parquet" else
                        "a cell runs over several lines: a quote (\") is probably not closed; check this row and the "
                        "ones after it", Location(file=layout.path, row=int(block.rows[i]),
                                                  column=str(header_of[index]))))
        if structural:
            raise KokenErrors(structural)
        if not keep.all():  # rows whose cells are all empty hold no data
            raw = {k: v[keep] for k, v in raw.items()}
            table = {k: v[keep] for k, v in table.items()}
            numeric = {k: v[keep] for k, v in numeric.items()}
        self.rows = block.rows[keep]
        self.n = len(self.rows)
        self.raw, self.table, self.numeric = raw, table, numeric

    def text(self, name: str, as_written: bool = False) -> np.ndarray:
        """A standard column's cells as text ('' where empty or absent); trimmed and width-folded unless
        ``as_written`` (trimmed only)."""
        if name not in self.layout.columns:
            return np.full(self.n, "", dtype=object)
        index = self.layout.columns[name][0]
        if index in self.numeric:  # a typed numeric column where text is expected (a region code 1, say)
            return np.array(["" if np.isnan(v) else f"{v:.15g}" for v in self.numeric[index]], dtype=object)
        return (self.raw if as_written else self.table)[index]

    def present(self, index: int) -> np.ndarray:
        """Per row, whether column ``index`` has a cell."""
        if index in self.numeric:
            return ~np.isnan(self.numeric[index])
        return self.table[index] != ""


class _CellProblems:
    """Cell problems of a block, and which rows have one."""

    def __init__(self, path: str, rows: np.ndarray):
        self.path, self.rows = path, rows
        self.problems: list[KokenError] = []
        self.invalid = np.zeros(len(rows), dtype=bool)

    def flag(self, i: int, message: str, column: str) -> None:
        self.problems.append(PortfolioError(message, Location(file=self.path, row=int(self.rows[i]), column=column)))
        self.invalid[i] = True


def _methodology_column(rows: _CleanBlock, library: Mapping[str, Methodology], cells: _CellProblems) -> np.ndarray:
    """Methodology ids; empty, unknown (with a suggestion) and total or subtotal rows are flagged."""
    columns = rows.layout.columns
    methodology = rows.text("methodology")
    mheader = columns["methodology"][2]
    labels = rows.text("product_line")
    n = rows.n
    id_codes, unique_ids = pd.factorize(pd.Series(methodology, dtype=object), sort=False)
    unique_ids = [str(v) for v in unique_ids]
    id_total = np.array([bool(_TOTAL_LABEL.search(v)) for v in unique_ids], dtype=bool)
    id_known = np.array([v in library for v in unique_ids], dtype=bool)
    label_total = np.zeros(n, dtype=bool)
    present_labels = np.flatnonzero(labels != "")
    if len(present_labels):  # Arrow picks the few candidates; Python's regex (Unicode \b) decides
        import pyarrow as pa
        import pyarrow.compute as pc

        candidates = present_labels[pc.match_substring_regex(
            pa.array(labels[present_labels], type=pa.string()), "(?i)(合計|総計|小計|計|total|sum)").to_numpy(
            zero_copy_only=False)]
        label_total[candidates] = [bool(_TOTAL_LABEL.search(v)) for v in labels[candidates]]
    suspicious = np.flatnonzero((id_total[id_codes] if n else label_total) | label_total
                                | ~(id_known[id_codes] if n else label_total))
    for i in suspicious:
        mid = methodology[i]
        total_in = next((c for c, v in (("methodology", mid), ("product_line", str(labels[i])))
                         if _TOTAL_LABEL.search(v)), None)
        if total_in is not None:
            shown = mid if total_in == "methodology" else labels[i]
            cells.flag(i, f"this looks like a total or subtotal row ({total_in} {shown!r}): koken computes totals "
                          "itself, and summing a total again would count it twice; remove the row",
                       columns[total_in][2])
        elif not mid:
            cells.flag(i, "methodology is empty", mheader)
        elif mid not in library:
            hint = difflib.get_close_matches(mid, list(library), n=1)
            cells.flag(i, f"unknown methodology {mid!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")
                       + f" (known: {', '.join(sorted(library))})", mheader)
    return methodology


def _market_column(rows: _CleanBlock, cells: _CellProblems) -> np.ndarray:
    """Market ids (``domestic``/``overseas``) from any accepted spelling; others flagged."""
    market_raw = rows.text("market")
    codes, uniques = pd.factorize(pd.Series(market_raw, dtype=object))
    mapped = np.array([MARKET_NAMES.get(str(v).lower(), MARKET_NAMES.get(str(v), "")) for v in uniques] + [""],
                      dtype=object)
    market = mapped[codes] if rows.n else np.zeros(0, dtype=object)
    for i in np.flatnonzero(market == ""):
        cells.flag(i, f"market must be domestic or overseas (国内/海外), got {market_raw[i]!r}",
                   rows.layout.columns["market"][2])
    return market


def _fiscal_year_column(rows: _CleanBlock, cells: _CellProblems) -> np.ndarray:
    """Fiscal years as integers (0 where flagged: not a whole year in :data:`FISCAL_YEAR_RANGE`)."""
    year_index, _, header = rows.layout.columns["fiscal_year"]
    if year_index in rows.numeric:
        years = rows.numeric[year_index].astype(float)
        years_raw = Formatted(years)  # text only for the rows that are reported
    else:
        years_raw = rows.text("fiscal_year")
        years = parse_numbers(years_raw)
    lo, hi = FISCAL_YEAR_RANGE
    with np.errstate(invalid="ignore"):
        bad_years = ~np.isfinite(years) | (np.mod(years, 1) != 0) | (years < lo) | (years > hi)
    for i in np.flatnonzero(bad_years):
        cells.flag(i, f"fiscal_year must be a whole year in {lo}-{hi}, got {years_raw[i]!r}", header)
    return np.where(bad_years, 0, years).astype(int)


def _no_unit(name: str, shown: str, expected: Mapping[str, str], where: str) -> str:
    return (f"value {shown} has no unit (expected {expected.get(name, 'a unit')}): put it in the header "
            f"({name}[unit]){where}")


def _number_column(rows: _CleanBlock, name: str, cells: _CellProblems) -> Column:
    """A number column: plain numbers in one vectorised pass, cells with their own unit in a second, the
    rest (thousands commas, ▲, bad text) in a third that names what is wrong."""
    index, unit, header = rows.layout.columns[name]
    expected = rows.layout.expected_units
    n = rows.n
    if index in rows.numeric:
        return _typed_numbers(rows.numeric[index], unit, header, name, expected, cells)
    column = rows.table[index]
    values = np.full(n, np.nan)
    units = same_unit(unit, n)
    present = np.flatnonzero(column != "")
    if not len(present):
        return values, units, header
    parsed = parse_numbers(column[present])
    values[present] = parsed  # plain numbers ("420", "1e4", "-3.5") under the header's unit
    slow = np.flatnonzero(np.isnan(parsed))  # everything else: commas, ▲, units in the cell, bad text
    if len(slow):
        units = np.array(units)  # writable: cells with their own units
        simple, simple_values, simple_units = number_then_unit(column[present[slow]], unit)
        at = present[slow[simple]]
        values[at], units[at] = simple_values, simple_units
        rest = slow[~simple]
        if len(rest):
            sub, sub_units = _numbers_with_text(column[present[rest]], present[rest], unit, header, name, expected,
                                                cells)
            values[present[rest]] = sub
            units[present[rest]] = sub_units
    for i in np.flatnonzero(np.isinf(values)):
        cells.flag(i, f"{column[i]!r} is not a finite number", header)
        values[i] = np.nan
    if not unit:
        for i in present[np.flatnonzero(~np.isnan(parsed) & np.isfinite(parsed))]:
            cells.flag(i, _no_unit(name, repr(column[i]), expected, ", a units row, or the cell"), header)
    return values, units, header


def _numbers_with_text(texts: np.ndarray, present: np.ndarray, unit: str | None, header: str, name: str,
                       expected: Mapping[str, str], cells: _CellProblems) -> tuple[np.ndarray, np.ndarray]:
    """Cells that are not plain numbers: thousands commas, minus marks, units in the cell, or errors
    (string work in Arrow's compute kernels; numbers parsed as in the plain path)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arrow = pa.array(texts, type=pa.string())
    comma = pc.match_substring(arrow, ",").to_numpy(zero_copy_only=False)
    thousands = pc.match_substring_regex(arrow, THOUSANDS_RE2).to_numpy(zero_copy_only=False)
    misplaced = comma & ~thousands
    for j in np.flatnonzero(misplaced):
        cells.flag(present[j], f"{texts[j]!r}: a comma is read only as a thousands separator (1,234,567); for a "
                               "decimal comma write a point (420.5)", header)
    superscript = pc.match_substring_regex(arrow, f"[{SUPERSCRIPTS}]").to_numpy(zero_copy_only=False) & ~misplaced
    for j in np.flatnonzero(superscript):
        cells.flag(present[j], f"{texts[j]!r}: superscripts and fractions are not read as numbers (write 1e4 or "
                               "1万, 0.5)", header)
    cleaned = clean_numbers(pc.if_else(pa.array(misplaced | superscript), "", arrow))
    cleaned_text = cleaned.to_numpy(zero_copy_only=False)
    sub = parse_numbers(cleaned_text)
    nonempty = cleaned_text != ""
    with_text = np.flatnonzero(nonempty & np.isnan(sub))
    sub_units = np.full(len(present), unit or "", dtype=object)
    if len(with_text):  # cells that carry their own unit ("4.5 万台", "50%")
        parts = pc.extract_regex(cleaned.take(pa.array(with_text)), CELL_QUANTITY_RE2)
        numbers_text = pc.fill_null(parts.field("number"), "").to_numpy(zero_copy_only=False)
        sub[with_text] = parse_numbers(numbers_text)
        cell_units = pc.fill_null(parts.field("unit"), "").to_numpy(zero_copy_only=False).astype(object)
        if unit:  # "1.2万" under a kWh/yr header means 12,000 kWh/yr
            multiplier = np.isin(cell_units, list(MULTIPLIERS))
            cell_units = np.where(multiplier, cell_units + f"*({unit})", cell_units)
        has_unit = cell_units != ""
        sub_units[with_text[has_unit]] = cell_units[has_unit]
    for j in np.flatnonzero(nonempty & ~np.isfinite(sub)):
        kind = "a finite number" if np.isinf(sub[j]) else "a number (expected digits, then an optional unit)"
        cells.flag(present[j], f"{texts[j]!r} is not {kind}", header)
    sub[nonempty & ~np.isfinite(sub)] = np.nan
    for j in np.flatnonzero(nonempty & np.isfinite(sub) & (sub_units == "")):
        cells.flag(present[j], _no_unit(name, repr(texts[j]), expected, ", a units row, or the cell"), header)
    return sub, sub_units


def _typed_numbers(column: np.ndarray, unit: str | None, header: str, name: str, expected: Mapping[str, str],
                   cells: _CellProblems) -> Column:
    """A typed number column (Parquet, a DataFrame): non-finite numbers and numbers without a unit flagged."""
    values = column.astype(float).copy()
    for i in np.flatnonzero(np.isinf(values)):
        cells.flag(i, f"{values[i]:g} is not a finite number", header)
    values[np.isinf(values)] = np.nan
    if not unit:
        for i in np.flatnonzero(~np.isnan(values)):
            cells.flag(i, _no_unit(name, f"{values[i]:.15g}", expected, ""), header)
    return values, same_unit(unit, len(values)), header
