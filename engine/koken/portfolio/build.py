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

import dataclasses
import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from koken.base.errors import KokenError, KokenErrors, Location, PortfolioError
from koken.base.i18n import _, pick
from koken.base.regions import region_code, region_name, regions_file, suggest_region
from koken.base.units import is_dimensionless, parse_unit
from koken.base.vocabulary import (
    DATA_QUALITY_LEVELS,
    DATA_QUALITY_NAMES,
    DATA_QUALITY_PREFIX,
    DISTRIBUTION_KINDS,
    MARKET_NAMES,
    MARKETS,
    STANDARD_COLUMNS,
)
from koken.methodology import Methodology
from koken.portfolio.cells import (
    CELL_QUANTITY_RE2,
    DASHES,
    MULTIPLIER_RE2,
    MULTIPLIERS,
    SUPERSCRIPTS,
    THOUSANDS_RE2,
    Formatted,
    as_entered,
    clean_numbers,
    clean_text,
    filled,
    number_then_unit,
    parse_numbers,
    same_unit,
)
from koken.portfolio.layout import Cells, Layout, bound_of, column_letter, fold_name, methodology_names
from koken.portfolio.readers import MAX_PORTFOLIO_BYTES, open_portfolio
from koken.uncertainty import DistributionError, looks_uncertain, parse_distribution

_TOTAL_LABEL = re.compile(r"(?:合計|総計|小計|^計$|(?i:\b(?:sub)?total\b)|(?i:^sum$))")
"""Labels of a total or subtotal row, which koken refuses (it computes totals itself; summing one twice
is wrong): 合計, 総計 and 小計 anywhere in the label (冷蔵庫 小計, 【小計】), a lone 計, total/subtotal as a word."""
FISCAL_YEAR_RANGE = (1990, 2100)
DOMESTIC_REGION = "JP"
"""The region of the domestic market (国内): the industry's action plan reports Japan's."""
_REGION_CODE = re.compile(r"^[A-Z][A-Z0-9_-]{1,15}$")
"""A region written as a code (upper-case ASCII): kept as written when the region table does not list it."""

Column = tuple[np.ndarray, np.ndarray, str]
"""A number column: (numbers with NaN for empty cells, unit text per row, the header as written)."""


@dataclass(frozen=True)
class UncertainColumn:
    """The uncertain values of one parameter's column (docs/uncertainty.md; :mod:`koken.uncertainty`).

    Attributes:
        kind: int8 per row: the position of the kind in :data:`koken.base.vocabulary.DISTRIBUTION_KINDS`, −1 for a
            point value. The central value is the parameter's own column (:attr:`Portfolio.parameters`).
        low, high: (numbers, unit text per row, header as written): the bounds (uniform, triangular) or the 5th and
            95th percentiles (normal, lognormal), NaN on point rows; from the cell (``320 ± 20``, in the cell's unit)
            or from the ``<parameter>:low`` and ``:high`` columns (in theirs).
    """

    kind: np.ndarray
    low: Column
    high: Column
    from_columns: np.ndarray | None = None
    """Per row, True where the range comes from the low and high columns (their header names it), False where from
    the value's own cell; None: from cells only."""

    def take(self, idx: np.ndarray) -> UncertainColumn:
        """The rows ``idx``."""
        return UncertainColumn(self.kind[idx], *((c[0][idx], np.asarray(c[1])[idx], c[2]) for c in (self.low, self.high)),
                               from_columns=self.from_columns[idx] if self.from_columns is not None else None)

    def header(self, i: int, cell_header: str) -> str:
        """The column to name for row ``i``'s range: the low column's, or the value's (``cell_header``)."""
        return self.low[2] if self.from_columns is not None and self.from_columns[i] else cell_header


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
    sheet: np.ndarray | None = None
    """Per row, the workbook sheet it is on (None for files that are one table)."""
    passthrough: dict[str, np.ndarray] = field(default_factory=dict)
    """The company's own columns (備考, 社内コード …), header → cell text per row ('' where absent), carried
    into the results as they are."""
    cells: dict[str, dict[str, tuple[int, str]]] = field(default_factory=dict)
    """Per sheet, canonical column → (0-based column index, header as written): to name a problem's cell."""
    tables: tuple[dict, ...] = ()
    """Per table read, where its header was and what was carried through (recorded in results)."""
    uncertain: dict[str, UncertainColumn] = field(default_factory=dict)
    """Parameter → its uncertain values, for parameters with at least one (empty: a point portfolio)."""

    def __len__(self) -> int:
        return len(self.rows)

    def location(self, i: int, column: str | None = None) -> Location:
        """Location of data row ``i`` (0-based index into the arrays); in a workbook with its sheet and, when
        ``column`` is a header (as written in any sheet) or a canonical name, the cell (``D7``)."""
        row = int(self.rows[i])
        if self.sheet is None:
            return Location(file=self.path, row=row, column=column)
        sheet = str(self.sheet[i])
        return self.place(Location(file=self.path, sheet=sheet, row=row, column=column))

    def place(self, location: Location) -> Location:
        """``location`` with its cell address and the header as this row's sheet writes it, where known."""
        columns = self.cells.get(location.sheet or "")
        if not columns or location.row is None or not location.column:
            return location
        canonical = location.column if location.column in columns else next(
            (name for sheet in self.cells.values() for name, (_i, h) in sheet.items() if h == location.column), None)
        if canonical not in columns:
            return location
        index, header = columns[canonical]
        return dataclasses.replace(location, column=header, cell=f"{column_letter(index)}{location.row}")


def take_rows(portfolio: Portfolio, idx: np.ndarray) -> Portfolio:
    """The product lines ``idx`` (positions) of a portfolio, as a portfolio of their own: every per-row array taken
    at ``idx``, the file's record (path, hash, encoding, tables, cells) kept, and no problems (the caller has raised
    the file's, if it had any)."""
    idx = np.asarray(idx, dtype=np.int64)

    def column(c: tuple) -> tuple:
        return (c[0][idx], np.asarray(c[1], dtype=object)[idx], c[2])

    def rows(a):
        return None if a is None else np.asarray(a)[idx]

    return dataclasses.replace(
        portfolio, rows=portfolio.rows[idx], product_line=portfolio.product_line[idx],
        methodology=portfolio.methodology[idx], fiscal_year=portfolio.fiscal_year[idx], market=portfolio.market[idx],
        region=portfolio.region[idx], units_shipped=column(portfolio.units_shipped),
        parameters={name: column(c) for name, c in portfolio.parameters.items()}, problems=[],
        invalid=rows(portfolio.invalid), units_shipped_entered=rows(portfolio.units_shipped_entered),
        sheet=rows(portfolio.sheet), passthrough={k: np.asarray(v)[idx] for k, v in portfolio.passthrough.items()},
        uncertain={name: c.take(idx) for name, c in portfolio.uncertain.items()})


def read_portfolio(path: str | Path, library: Mapping[str, Methodology],
                   encoding: str | None = None, sheet: str | Sequence[str] | None = None,
                   collect: bool = False, header_row: int | None = None) -> Portfolio:
    """Read a whole portfolio file (``.csv``, ``.parquet``, ``.xlsx``, ``.yaml``/``.yml``): every table of it
    (a workbook's sheets) in one :class:`Portfolio`.

    Args:
        path: the file.
        library: methodologies by id (for ids, titles, parameter names, aliases and expected units).
        encoding: CSV text encoding; default: UTF-8 (with or without BOM), UTF-16 with BOM, else
            cp932 (Shift_JIS).
        sheet: a workbook's sheet or sheets (default: every visible sheet that holds a portfolio).
        collect: return cell-level problems in ``Portfolio.problems`` instead of raising them.
        header_row: the header's file row (default: detected; see :func:`koken.portfolio.open_portfolio`).
    Returns:
        Portfolio.
    Raises:
        KokenErrors: structural problems (unreadable file, larger than :data:`MAX_PORTFOLIO_BYTES`
            (use :func:`koken.scale.run` for partitions), missing columns, no product lines), and without
            ``collect`` every cell-level and header problem too (unknown column or methodology, bad year or
            market, a cell that is not a number, a number without a unit), each with file, sheet, row and column.
    """
    p = Path(path)
    try:
        if p.is_file() and p.stat().st_size > MAX_PORTFOLIO_BYTES:
            raise KokenErrors([PortfolioError(_(
                "file is larger than {limit:,} bytes: read it in partitions (koken calculate)").format(
                limit=MAX_PORTFOLIO_BYTES), Location(file=str(p)))])
    except OSError as err:
        raise KokenErrors([PortfolioError(_("cannot read file: {reason}").format(reason=err.strerror),
                                          Location(file=str(p)))]) from None
    source = open_portfolio(p, library, encoding=encoding, sheet=sheet, partition_rows=None, header_row=header_row)
    return read_source(source, library, collect=collect)


def read_source(source, library: Mapping[str, Methodology], collect: bool = False) -> Portfolio:
    """Every partition of an opened source (:class:`koken.portfolio.readers.PortfolioSource`), built and
    joined into one :class:`Portfolio` (a workbook's sheets one after the other).

    Raises:
        KokenErrors: as :func:`read_portfolio`.
    """
    parts: list[Portfolio] = []
    structural: list[KokenError] = []
    header_problems: list[KokenError] = []
    had_units_row = False
    for part in source.partitions():
        header_problems.extend(part.header_problems)
        if part.problems:
            structural.extend(part.problems)
            continue
        had_units_row |= part.had_units_row
        try:
            parts.append(build_portfolio(part.layout, source.sha256, part.block, library, first=False,
                                         had_units_row=part.had_units_row))
        except KokenErrors as errs:
            structural.extend(errs.errors)
    if structural:
        raise KokenErrors(header_problems + structural)
    portfolio = concat_portfolios(parts, source.path, source.sha256, source.encoding, tuple(source.tables))
    if not len(portfolio) and not header_problems:
        raise KokenErrors([PortfolioError(_("the file has no product lines (only a header and a units row)")
                                          if had_units_row else _("the file has no product lines (only a header)"),
                                          Location(file=source.path))])
    problems = header_problems + portfolio.problems
    if problems and not collect:
        raise KokenErrors(problems)
    return dataclasses.replace(portfolio, problems=problems)


def concat_portfolios(parts: Sequence[Portfolio], path: str, sha256: str, encoding: str,
                      tables: tuple[dict, ...] = ()) -> Portfolio:
    """Tables of one file (a workbook's sheets) as one Portfolio, rows in order; a parameter one table lacks
    is empty (NaN) on its rows; the company's own columns are joined by header."""
    if len(parts) == 1:
        return dataclasses.replace(parts[0], tables=tables)
    if not parts:
        nothing = np.zeros(0, dtype=object)
        return Portfolio(path=path, sha256=sha256, encoding=encoding, rows=np.zeros(0, dtype=int), product_line=nothing,
                         methodology=nothing, fiscal_year=np.zeros(0, dtype=int), market=nothing, region=nothing,
                         units_shipped=(np.zeros(0), nothing, "units_shipped"), invalid=np.zeros(0, bool),
                         tables=tables)
    n = sum(len(p) for p in parts)

    def joined(attribute: str, dtype=object) -> np.ndarray:
        return np.concatenate([np.asarray(getattr(p, attribute), dtype=dtype) for p in parts]) if parts else \
            np.zeros(0, dtype=dtype)

    def numbers(name: str) -> tuple[np.ndarray, np.ndarray, str]:
        values, units, header = [], [], None
        for p in parts:
            column = p.units_shipped if name == "units_shipped" else p.parameters.get(name)
            if column is None:
                values.append(np.full(len(p), np.nan))
                units.append(np.full(len(p), "", dtype=object))
            else:
                values.append(np.asarray(column[0], dtype=float))
                units.append(np.asarray(column[1], dtype=object))
                header = header or column[2]
        return np.concatenate(values), np.concatenate(units), header or name

    names = list(dict.fromkeys(name for p in parts for name in p.parameters))
    headers = list(dict.fromkeys(h for p in parts for h in p.passthrough))
    passthrough = {h: np.concatenate([p.passthrough.get(h, np.full(len(p), "", dtype=object)) for p in parts])
                   for h in headers}
    entered = None if any(p.units_shipped_entered is None for p in parts) else joined("units_shipped_entered")
    sheets = np.concatenate([p.sheet if p.sheet is not None else np.full(len(p), "", dtype=object) for p in parts]) \
        if parts else None
    invalid = np.concatenate([p.invalid if p.invalid is not None else np.zeros(len(p), bool) for p in parts]) \
        if parts else np.zeros(0, bool)
    cells: dict[str, dict[str, tuple[int, str]]] = {}
    for p in parts:
        cells.update(p.cells)
    uncertain = {}
    for name in dict.fromkeys(name for p in parts for name in p.uncertain):
        pieces = [p.uncertain.get(name) or _point_column(len(p), name) for p in parts]
        uncertain[name] = UncertainColumn(np.concatenate([u.kind for u in pieces]), *(
            (np.concatenate([getattr(u, b)[0] for u in pieces]),
             np.concatenate([np.asarray(getattr(u, b)[1], dtype=object) for u in pieces]),
             next((getattr(u, b)[2] for u in pieces if u.from_columns is not None and u.from_columns.any()),
                  next(getattr(u, b)[2] for u in pieces if (u.kind >= 0).any()))) for b in ("low", "high")),
            from_columns=np.concatenate([u.from_columns if u.from_columns is not None else np.zeros(len(u.kind), bool)
                                         for u in pieces]))
    return Portfolio(path=path, sha256=sha256, encoding=encoding, rows=joined("rows", dtype=int),
                     product_line=joined("product_line"), methodology=joined("methodology"),
                     fiscal_year=joined("fiscal_year", dtype=int), market=joined("market"), region=joined("region"),
                     units_shipped=numbers("units_shipped"), parameters={name: numbers(name) for name in names},
                     problems=[e for p in parts for e in p.problems], invalid=invalid, units_shipped_entered=entered,
                     sheet=sheets if n else None, passthrough=passthrough, cells=cells, tables=tables,
                     uncertain=uncertain)


def _point_column(n: int, header: str) -> UncertainColumn:
    """An uncertain column of ``n`` point rows (for a table without uncertain values of a parameter)."""
    return UncertainColumn(np.full(n, -1, dtype=np.int8), (np.full(n, np.nan), np.full(n, "", dtype=object), header),
                           (np.full(n, np.nan), np.full(n, "", dtype=object), header))


def build_portfolio(layout: Layout, digest: str, block: Cells, library: Mapping[str, Methodology],
                    first: bool = True, had_units_row: bool = False) -> Portfolio:
    """Interpret one block of rows (a whole table, or one partition of it) into a :class:`Portfolio`.

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
        raise KokenErrors([PortfolioError(_("the file has no product lines (only a header and a units row)")
                                          if had_units_row else _("the file has no product lines (only a header)"),
                                          Location(file=layout.path))])
    cells = _CellProblems(layout, rows.rows)
    methodology = _methodology_column(rows, library, cells)
    cells.methodology, cells.library = methodology, library
    market = _market_column(rows, cells)
    years = _fiscal_year_column(rows, cells)
    region = _region_column(rows, cells)
    _market_and_region_agree(rows, market, region, cells)
    shipped = _number_column(rows, "units_shipped", cells)
    index, header_unit, header = layout.columns["units_shipped"]
    for i in np.flatnonzero(np.isnan(shipped[0]) & ~rows.present(index)):
        cells.flag(i, _("units_shipped is empty"), header)
    uncertain: dict[str, UncertainColumn] = {}
    params = {name: _number_column(rows, name, cells, uncertain) for name in layout.columns
              if name not in STANDARD_COLUMNS and bound_of(name) is None}
    _bound_columns(rows, params, uncertain, cells)
    passthrough = {own: rows.column_text(at) for at, own in layout.passthrough.items()}
    for own, texts in passthrough.items():
        if own.startswith(DATA_QUALITY_PREFIX):
            passthrough[own] = _data_quality_levels(texts, own, params.get(own[len(DATA_QUALITY_PREFIX):]), cells)
        else:
            _own_column_holds_no_quantities(texts, own, cells)
    sheet = layout.sheet
    return Portfolio(units_shipped_entered=as_entered(shipped, rows.table.get(index), header_unit),
                     path=layout.path, sha256=digest, encoding=layout.encoding, rows=rows.rows,
                     product_line=rows.text("product_line", as_written=True), methodology=methodology,
                     fiscal_year=years, market=market, region=region, units_shipped=shipped,
                     parameters=params, problems=sorted(cells.problems, key=lambda e: (e.location.row or 0,)),
                     invalid=cells.invalid, passthrough=passthrough,
                     sheet=np.full(rows.n, sheet, dtype=object) if sheet is not None else None,
                     cells={sheet: {name: (i, h) for name, (i, _u, h) in layout.columns.items()}}
                     if sheet is not None else {}, uncertain=uncertain)


def _bound_columns(rows: _CleanBlock, params: dict[str, Column], uncertain: dict[str, UncertainColumn],
                   cells: _CellProblems) -> None:
    """The ``<parameter>:low`` and ``:high`` columns into ``uncertain`` (a triangular from low through the value to
    high; the order is checked where the unit is known, by :func:`koken.calculation.calculate`). A row with one
    bound and not the other, bounds without a value, or bounds beside a cell that is uncertain itself is flagged."""
    bounds = {bound_of(name): _number_column(rows, name, cells) for name in rows.layout.columns
              if bound_of(name) is not None}
    n = rows.n
    for parameter in dict.fromkeys(p for p, _b in bounds):
        low, high = bounds.get((parameter, "low")), bounds.get((parameter, "high"))
        given = [c for c in (low, high) if c is not None]
        has = np.zeros(n, dtype=bool)
        for c in given:
            has |= ~np.isnan(c[0])
        both = has.copy()
        for c in given:
            both &= ~np.isnan(c[0])
        if low is None or high is None:
            both[:] = False
        shown = given[0][2]
        for i in np.flatnonzero(has & ~both):
            cells.flag(i, _("{parameter}: give both its low and high columns ({parameter}:low, {parameter}:high), or "
                            "neither").format(parameter=parameter), shown)
        central = params.get(parameter)
        if central is None:
            for i in np.flatnonzero(both):
                cells.flag(i, _("{column} gives a bound, but there is no {parameter} column with the value").format(
                    column=shown, parameter=parameter), shown)
            continue
        for i in np.flatnonzero(both & np.isnan(central[0])):
            cells.flag(i, _("{column} gives a bound, but the row has no {parameter} value").format(
                column=shown, parameter=parameter), shown)
        column = uncertain.get(parameter) or _point_column(n, central[2])
        for i in np.flatnonzero(both & (column.kind >= 0)):
            cells.flag(i, _("{parameter} is given a range twice: in its cell and in its low and high columns; give "
                            "it once").format(parameter=parameter), central[2])
        use = both & ~np.isnan(central[0]) & (column.kind < 0)
        if not use.any():
            continue
        kind = column.kind.copy()
        kind[use] = DISTRIBUTION_KINDS.index("triangular")
        merged = []
        for bound, cell in ((low, column.low), (high, column.high)):
            values = np.where(use, bound[0], cell[0])
            units = np.where(use, np.asarray(bound[1], dtype=object), np.asarray(cell[1], dtype=object))
            merged.append((values, units, bound[2]))
        uncertain[parameter] = UncertainColumn(kind, merged[0], merged[1], from_columns=use)


def _data_quality_levels(texts: np.ndarray, column: str, values: Column | None, cells: _CellProblems) -> np.ndarray:
    """A ``data_quality:<parameter>`` column's cells as level ids (:data:`DATA_QUALITY_LEVELS`: the id, or the
    Japanese or English name); a cell that is none of them is flagged, and so is a level declared on a row
    whose parameter cell is empty (the value then comes from a default or a factor table, whose level koken
    sets itself: docs/claim.md)."""
    out = np.full(len(texts), "", dtype=object)
    for i, text in enumerate(texts.tolist()):
        text = str(text).strip()
        if not text:
            continue
        level = DATA_QUALITY_NAMES.get(text) or DATA_QUALITY_NAMES.get(text.lower())
        if level is None:
            cells.flag(i, _("{value!r} is not a data-quality level: write one of {levels}").format(
                value=text, levels=", ".join(f"{t.id} ({t.ja})" for t in DATA_QUALITY_LEVELS)), column)
        elif values is None or np.isnan(values[0][i]):
            cells.flag(i, _("a data-quality level is declared but {name} is empty in this row: the value then comes "
                            "from the methodology's default or a factor table, whose level koken sets itself").format(
                name=column[len(DATA_QUALITY_PREFIX):]), column)
        else:
            out[i] = level
    return out


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
        arrow: dict[int, object] = {}
        numeric: dict[int, np.ndarray] = {}
        multiline: dict[int, np.ndarray] = {}
        keep = np.zeros(len(block.rows), dtype=bool)
        used = layout.headed
        for index, column in enumerate(block.columns):
            if isinstance(column, np.ndarray) and column.dtype.kind == "f":
                numeric[index] = column
                present = ~np.isnan(column)
            else:
                raw[index], table[index], multiline[index], arrow[index] = clean_text(column)
                present = filled(arrow[index], table[index])
            keep |= present
            if index not in used and present.any():
                structural.append(PortfolioError(_("a column without a header holds values"), Location(
                    file=layout.path, sheet=layout.sheet, column=f"#{index + 1}")))
        header_of = {index: header for index, _unit, header in layout.columns.values()}
        for index, positions in multiline.items():  # a quote left open swallows the following lines into one cell
            if index in header_of:
                for i in positions:
                    structural.append(PortfolioError(
                        _("a cell holds a line break (in a file of columns)") if layout.encoding == "parquet" else
                        _("a cell runs over several lines: a quote (\") is probably not closed; check this row and the "
                          "ones after it"), layout.where(int(block.rows[i]), str(header_of[index]))))
        if structural:
            raise KokenErrors(structural)
        if not keep.all():  # rows whose cells are all empty hold no data
            raw = {k: v[keep] for k, v in raw.items()}
            table = {k: v[keep] for k, v in table.items()}
            arrow = {k: v.filter(keep) if v is not None else None for k, v in arrow.items()}
            numeric = {k: v[keep] for k, v in numeric.items()}
        self.rows = block.rows[keep]
        self.n = len(self.rows)
        self.raw, self.table, self.numeric = raw, table, numeric
        self.arrow = arrow
        """Per text column of a columnar file, its cells trimmed and width-folded (as :attr:`table`) as an Arrow string
        array (None for a CSV, XLSX or YAML column)."""

    def text(self, name: str, as_written: bool = False) -> np.ndarray:
        """A standard column's cells as text ('' where empty or absent); trimmed and width-folded unless
        ``as_written`` (trimmed only)."""
        if name not in self.layout.columns:
            return np.full(self.n, "", dtype=object)
        index = self.layout.columns[name][0]
        if index in self.numeric:  # a typed numeric column where text is expected (a region code 1, say)
            return np.array(["" if np.isnan(v) else f"{v:.15g}" for v in self.numeric[index]], dtype=object)
        return (self.raw if as_written else self.table)[index]

    def text_arrow(self, name: str):
        """A standard text column's cells, trimmed and width-folded, as an Arrow string array (as :meth:`text`); None
        where the column is absent, typed numeric or not read as Arrow."""
        index = self.layout.columns[name][0] if name in self.layout.columns else None
        return self.arrow.get(index)

    def factorized(self, name: str) -> tuple[np.ndarray, list[str]]:
        """A standard column's cells as :meth:`text` gives them, numbered as ``pd.factorize`` numbers them: (code per
        row, the distinct texts in order of first appearance); in Arrow for a text column."""
        cells = self.text_arrow(name)
        if cells is None:
            codes, uniques = pd.factorize(pd.Series(self.text(name), dtype=object))
            return codes, [str(v) for v in uniques]
        import pyarrow.compute as pc

        encoded = pc.dictionary_encode(cells)
        return encoded.indices.to_numpy(zero_copy_only=False).astype(np.intp), encoded.dictionary.to_pylist()

    def column_text(self, index: int) -> np.ndarray:
        """Column ``index``'s cells as written (trimmed; '' where empty), for the company's own columns."""
        if index in self.numeric:
            return np.array(["" if np.isnan(v) else f"{v:.15g}" for v in self.numeric[index]], dtype=object)
        return self.raw[index]

    def present(self, index: int) -> np.ndarray:
        """Per row, whether column ``index`` has a cell."""
        if index in self.numeric:
            return ~np.isnan(self.numeric[index])
        return self.table[index] != ""


class _CellProblems:
    """Cell problems of a block, and which rows have one."""

    def __init__(self, layout: Layout, rows: np.ndarray):
        self.layout, self.rows = layout, rows
        self.problems: list[KokenError] = []
        self.invalid = np.zeros(len(rows), dtype=bool)
        self.methodology: np.ndarray | None = None
        self.library: Mapping[str, Methodology] = {}

    def expected(self, i: int, name: str) -> str:
        """The unit row ``i``'s methodology declares for ``name`` (for messages); else every unit declared for it."""
        m = self.library.get(str(self.methodology[i])) if self.methodology is not None else None
        if m is not None and name == "units_shipped":
            return m.spec.functional_unit.unit
        if m is not None and name in m.parameters:
            return m.parameters[name].unit_text
        units = self.layout.expected_units.get(name)
        return _(" or ").join(units.split(" or ")) if units else _("a unit")

    def flag(self, i: int, message: str, column: str | None) -> None:
        self.problems.append(PortfolioError(message, self.layout.where(int(self.rows[i]), column)))
        self.invalid[i] = True


def _methodology_column(rows: _CleanBlock, library: Mapping[str, Methodology], cells: _CellProblems) -> np.ndarray:
    """Methodology ids, from an id, a title (``電気冷蔵庫``) or an alias (:func:`methodology_names`), or the
    sheet's methodology where there is no column; empty, unknown (with a suggestion) and total or subtotal
    rows are flagged."""
    columns = rows.layout.columns
    n = rows.n
    if "methodology" not in columns:
        return np.full(n, rows.layout.methodology, dtype=object)
    written = rows.text("methodology")
    mheader = columns["methodology"][2]
    labels = rows.text("product_line")
    names = methodology_names(library)
    id_codes, unique_written = rows.factorized("methodology")
    unique_ids = np.array([v if v in library else names.get(fold_name(v), v) for v in unique_written] + [""],
                          dtype=object)
    methodology = unique_ids[id_codes] if n else np.zeros(0, dtype=object)
    id_total = np.array([bool(_TOTAL_LABEL.search(v)) for v in unique_written], dtype=bool)
    id_known = np.array([v in library for v in unique_ids[:-1]], dtype=bool)
    label_total = np.zeros(n, dtype=bool)
    arrow_labels = rows.text_arrow("product_line")
    present_labels = np.flatnonzero(labels != "") if arrow_labels is None else None
    if arrow_labels is not None or len(present_labels):  # Arrow picks the few candidates; Python's regex decides
        import pyarrow as pa
        import pyarrow.compute as pc

        candidate = "(?i)(合計|総計|小計|計|total|sum)"  # every text _TOTAL_LABEL finds holds one of these
        if arrow_labels is not None:
            candidates = np.flatnonzero(pc.match_substring_regex(arrow_labels, candidate).to_numpy(
                zero_copy_only=False))
        else:
            candidates = present_labels[pc.match_substring_regex(pa.array(labels[present_labels], type=pa.string()),
                                                                 candidate).to_numpy(zero_copy_only=False)]
        label_total[candidates] = [bool(_TOTAL_LABEL.search(v)) for v in labels[candidates]]
    suspicious = np.flatnonzero((id_total[id_codes] if n else label_total) | label_total
                                | ~(id_known[id_codes] if n else label_total))
    for i in suspicious:
        mid = written[i]
        total_in = next((c for c, v in (("methodology", mid), ("product_line", str(labels[i])))
                         if _TOTAL_LABEL.search(v)), None)
        if total_in is not None:
            shown = mid if total_in == "methodology" else labels[i]
            cells.flag(i, _("this looks like a total or subtotal row ({column} {value!r}): koken computes totals "
                            "itself, and summing a total again would count it twice; remove the row").format(
                column=total_in, value=shown), columns[total_in][2])
        elif not mid:
            cells.flag(i, _("methodology is empty"), mheader)
        elif methodology[i] not in library:
            hint = difflib.get_close_matches(fold_name(mid), list(names), n=1, cutoff=0.5)
            if hint:
                cells.flag(i, _("unknown methodology {name!r}; did you mean {suggestion!r} ({id})? (koken "
                                "methodologies lists them)").format(name=mid, suggestion=hint[0], id=names[hint[0]]),
                           mheader)
            else:
                cells.flag(i, _("unknown methodology {name!r} (known: {known})").format(
                    name=mid, known=", ".join(sorted(library))), mheader)
    return methodology


def _market_column(rows: _CleanBlock, cells: _CellProblems) -> np.ndarray:
    """Market ids (``domestic``/``overseas``) from any accepted spelling; others flagged."""
    market_raw = rows.text("market")
    codes, uniques = rows.factorized("market")
    mapped = np.array([MARKET_NAMES.get(str(v).lower(), MARKET_NAMES.get(str(v), "")) for v in uniques] + [""],
                      dtype=object)
    market = mapped[codes] if rows.n else np.zeros(0, dtype=object)
    for i in np.flatnonzero(market == ""):
        cells.flag(i, _("market is empty: write 国内 (domestic) or 海外 (overseas)") if not market_raw[i] else
                   _("market must be domestic or overseas (国内/海外), got {value!r}").format(value=market_raw[i]),
                   rows.layout.columns["market"][2])
    return market


def _own_column_holds_no_quantities(texts: np.ndarray, header: str, cells: _CellProblems) -> None:
    """A column of the company's own is carried through, not read: if its cells are quantities with units
    (``0.9 kg-CO2/kWh``), it is an input under a name koken does not know, and its values would be ignored while a
    default or a table's value is used instead; refused at its first such cell."""
    import pyarrow as pa
    import pyarrow.compute as pc

    present = np.flatnonzero(texts != "")
    if not len(present):
        return
    parts = pc.extract_regex(pa.array(texts[present], type=pa.string()), CELL_QUANTITY_RE2)
    units = pc.fill_null(parts.field("unit"), "").to_numpy(zero_copy_only=False)
    for unit in dict.fromkeys(u for u in units if u and not u[0].isdigit()):
        try:
            quantity = parse_unit(str(unit))
        except KokenError:
            continue
        if not is_dimensionless(quantity):
            i = present[np.flatnonzero(units == unit)[0]]
            cells.flag(i, _("column {name!r} holds quantities with units ({value!r}) but is none of koken's columns, "
                            "so its values would not be used: if it is an input, name it after the parameter, with "
                            "the unit in square brackets").format(name=header, value=texts[i]), header)
            return


def _market_and_region_agree(rows: _CleanBlock, market: np.ndarray, region: np.ndarray, cells: _CellProblems) -> None:
    """国内 (domestic) means used in Japan: a domestic row with another region, or an overseas row in Japan, is a
    contradiction that would pick the wrong grid factor; flagged at the region cell."""
    if "region" not in rows.layout.columns or not rows.n:
        return
    header = rows.layout.columns["region"][2]
    domestic_abroad = (market == "domestic") & (region != "") & (region != DOMESTIC_REGION)
    overseas_home = (market == "overseas") & (region == DOMESTIC_REGION)
    written = rows.text("region", as_written=True)
    for i in np.flatnonzero(domestic_abroad | overseas_home):
        cells.flag(i, _("market {market} but region {region}: a domestic (国内) product line is used in Japan (JP) "
                        "and an overseas (海外) one elsewhere; correct the market or the region").format(
            market=_market_shown(market[i]), region=_region_shown(written[i], region[i])), header)


def _market_shown(market: str) -> str:
    """A market id in the reader's language: 国内/海外 in Japanese, domestic/overseas in English."""
    term = next((m for m in MARKETS if m.id == market), None)
    return market if term is None else pick(term.ja, term.id)


def _region_shown(written: str, code: str) -> str:
    """A region as the file gives it (``米国``, ``United States``), with its code; a code alone is named in the
    reader's language (``US`` → ``アメリカ合衆国（US）`` in Japanese)."""
    if written.upper() == code:
        name = region_name(code)
        return code if name == code else _("{name} ({code})").format(name=name, code=code)
    return _("{name} ({code})").format(name=written, code=code)


def _region_column(rows: _CleanBlock, cells: _CellProblems) -> np.ndarray:
    """Region codes (``JP``, ``US``) from a code or a name in English or Japanese (``米国``), through the
    region table (``vocabulary/regions.yaml``); a code the table does not list (``EU27``, a company's own
    ``APAC``) is kept as written (a factor table then has no value for it unless it lists it); any other
    text is flagged with the closest name."""
    written = rows.text("region")
    codes, uniques = rows.factorized("region")
    mapped = np.array([region_code(str(v)) or (str(v) if _REGION_CODE.match(str(v)) else "") for v in uniques] + [""],
                      dtype=object)
    region = mapped[codes] if rows.n else np.zeros(0, dtype=object)
    if "region" in rows.layout.columns:
        header = rows.layout.columns["region"][2]
        for i in np.flatnonzero((region == "") & (written != "")):
            hint = suggest_region(written[i])
            cells.flag(i, (_("unknown region {value!r}; did you mean {region}?").format(
                value=written[i], region=hint[1] if hint[0] == hint[1] else _("{name} ({code})").format(
                    name=hint[0], code=hint[1]))
                           if hint else _("unknown region {value!r}: write a country's code (JP, US, CN …) or its name "
                                          "(日本, 米国, 中国 …); the names koken knows are listed in {file}").format(
                value=written[i], file=regions_file())), header)
    return region


def _fiscal_year_column(rows: _CleanBlock, cells: _CellProblems) -> np.ndarray:
    """Fiscal years as integers (0 where flagged: not a whole year in :data:`FISCAL_YEAR_RANGE`)."""
    year_index, _unit, header = rows.layout.columns["fiscal_year"]
    if year_index in rows.numeric:
        years = rows.numeric[year_index].astype(float)
        years_raw = Formatted(years)  # text only for the rows that are reported
    else:
        years_raw = rows.text("fiscal_year")
        years = parse_numbers(years_raw)
        named = np.flatnonzero(np.isnan(years) & (years_raw != ""))
        if len(named):  # 2023年度, FY2023, 令和5年度: read once per distinct text
            codes, texts = pd.factorize(pd.Series(years_raw[named], dtype=object))
            years[named] = np.array([_named_year(str(t)) for t in texts], dtype=float)[codes]
    lo, hi = FISCAL_YEAR_RANGE
    with np.errstate(invalid="ignore"):
        bad_years = ~np.isfinite(years) | (np.mod(years, 1) != 0) | (years < lo) | (years > hi)
    for i in np.flatnonzero(bad_years):
        shown = years_raw[i]
        cells.flag(i, _("fiscal_year is empty: write the year, e.g. 2023") if shown == "" else
                   _("fiscal_year must be a whole year in {low}-{high} written as digits (2023), got {value!r}").format(
                       low=lo, high=hi, value=shown), header)
    return np.where(bad_years, 0, years).astype(int)


_ERAS = {"令和": 2018, "平成": 1988}
"""Japanese eras a fiscal year may be named by, and the year before each one's first (令和元年度 is FY2019)."""
_YEAR_NAMED = re.compile(r"^(?:FY\s*(?P<fy>\d{4})|(?P<plain>\d{4})\s*年度|(?P<era>令和|平成)\s*(?P<n>\d{1,2}|元)\s*年度)$",
                         re.IGNORECASE)


def _named_year(text: str) -> float:
    """A fiscal year written as a name: ``2023年度``, ``FY2023``, ``令和5年度`` (2023), ``平成25年度`` (2013);
    NaN for anything else (then reported with the value)."""
    match = _YEAR_NAMED.match(text.strip())
    if not match:
        return float("nan")
    if match.group("era"):
        n = 1 if match.group("n") == "元" else int(match.group("n"))
        return float(_ERAS[match.group("era")] + n)
    return float(match.group("fy") or match.group("plain"))


def _no_unit(name: str, shown: str, expected: str, cells_may_say: bool) -> str:
    places = _("the header ({name}[unit]), a units row, or the cell") if cells_may_say else _("the header ({name}[unit])")
    return _("value {value} has no unit (expected {unit}): put it in {places}").format(
        value=shown, unit=expected, places=places.format(name=name))


def _number_column(rows: _CleanBlock, name: str, cells: _CellProblems,
                   uncertain: dict[str, UncertainColumn] | None = None) -> Column:
    """A number column: plain numbers in one vectorised pass, cells with their own unit in a second, the
    rest (thousands commas, ▲, bad text) in a third that names what is wrong. With ``uncertain``, cells that are
    uncertain values (``320 ± 20``, ``triangular(300, 320, 350)``) give their central value here and their
    distribution in ``uncertain[name]``; without it (units shipped, a bound column) such a cell is flagged."""
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
    import pyarrow as pa

    texts = rows.arrow.get(index)  # the cells as Arrow: a columnar file's as read, else converted here
    if texts is None:
        texts = pa.array(column[present], type=pa.string())
    elif len(present) < n:
        texts = texts.take(pa.array(present))
    parsed = parse_numbers(texts)
    values[present] = parsed  # plain numbers ("420", "1e4", "-3.5") under the header's unit
    slow = np.flatnonzero(np.isnan(parsed))  # everything else: commas, ▲, units in the cell, bad text
    if len(slow):
        units = np.array(units)  # writable: cells with their own units
        texts = texts.take(pa.array(slow)) if len(slow) < len(present) else texts
        left = _uncertain_cells(column, present, slow, name, header, unit, cells, uncertain, values, units, texts)
        if len(left) < len(slow):
            texts = texts.take(pa.array(np.flatnonzero(np.isin(slow, left))))
        slow = left
    if len(slow):
        simple, simple_values, simple_units = number_then_unit(texts, unit)
        at = present[slow[simple]]
        values[at], units[at] = simple_values, simple_units
        rest = slow[~simple]
        if len(rest):
            sub, sub_units = _numbers_with_text(column[present[rest]], present[rest], unit, header, name, expected,
                                                cells)
            values[present[rest]] = sub
            units[present[rest]] = sub_units
    for i in np.flatnonzero(np.isinf(values)):
        cells.flag(i, _("{value!r} is not a finite number").format(value=column[i]), header)
        values[i] = np.nan
    if not unit:
        for i in present[np.flatnonzero(~np.isnan(parsed) & np.isfinite(parsed))]:
            cells.flag(i, _no_unit(name, repr(column[i]), cells.expected(i, name), True), header)
    return values, units, header


def _may_look_uncertain(texts) -> np.ndarray:
    """Positions of the ``texts`` that :func:`koken.uncertainty.looks_uncertain` may take for an uncertain value: those
    holding ±, ``+/-``, ``+-`` or a parenthesis (one vectorised pass; the rest are plain quantities)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not len(texts):
        return np.zeros(0, dtype=np.int64)
    try:
        cells = texts if isinstance(texts, pa.Array) else pa.array(np.asarray(texts, dtype=object), type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all text: each is looked at
        return np.arange(len(texts))
    hit = pc.match_substring_regex(cells, r"±|\+/-|\+-|\(")
    return np.flatnonzero(pc.fill_null(hit, True).to_numpy(zero_copy_only=False))


def _uncertain_cells(column: np.ndarray, present: np.ndarray, slow: np.ndarray, name: str, header: str,
                     unit: str | None, cells: _CellProblems, uncertain: dict[str, UncertainColumn] | None,
                     values: np.ndarray, units: np.ndarray, arrow=None) -> np.ndarray:
    """Of the cells that are not plain numbers (positions ``present[slow]``), those that are uncertain values: read
    (each distinct text once) into ``values`` and ``units`` (the central value) and ``uncertain[name]``, or
    flagged; returns the positions in ``slow`` left for the other readers. ``arrow``: the same cells as an Arrow string
    array, if at hand (then a column without any ±, ``+/-``, ``+-`` or parenthesis is passed over in one pass)."""
    if arrow is not None and not len(_may_look_uncertain(arrow)):
        return slow  # no text can look uncertain (:func:`_may_look_uncertain`)
    texts = column[present[slow]]
    codes, distinct = pd.factorize(pd.Series(texts, dtype=object))
    marked = np.zeros(len(distinct), dtype=bool)
    for k in _may_look_uncertain(distinct):  # only texts with ±, +/-, +- or a parenthesis can
        marked[k] = looks_uncertain(str(distinct[k]))
    if not marked.any():
        return slow
    mine = marked[codes]
    parsed: dict[int, object] = {}
    for k in np.flatnonzero(marked):
        try:
            parsed[int(k)] = parse_distribution(str(distinct[k]))
        except DistributionError as err:
            parsed[int(k)] = str(err)
    n = len(values)
    target = uncertain.get(name) if uncertain is not None else None
    if target is None:
        target = _point_column(n, header)
        target = UncertainColumn(target.kind, (target.low[0], np.array(units, dtype=object), header),
                                 (target.high[0], np.array(units, dtype=object), header))
    for j in np.flatnonzero(mine):
        i = int(present[slow[j]])
        d = parsed[int(codes[j])]
        if uncertain is None:
            cells.flag(i, _("{value!r}: {column} takes a number, not a range").format(value=texts[j], column=header),
                       header)
            continue
        if isinstance(d, str):
            cells.flag(i, _("{value!r}: {reason}").format(value=texts[j], reason=d), header)
            continue
        own = d.unit
        if d.relative and (own or unit or "").strip() in ("%", "％", "percent"):
            # 13 % ± 2 %: 12.74 to 13.26 % (2 % of the value) or 11 to 15 % (2 points)? a 7.7× wider range either way
            cells.flag(i, _("{value!r}: a spread in % (± … %), on a value in percent, is ambiguous (a share of the value, or "
                            "percentage points): "
                            "write the spread in points ('13 ± 2' in a [%] column is 11 to 15 %) or the bounds "
                            "('triangular(11, 13, 15)')").format(value=texts[j]), header)
            continue
        if own in MULTIPLIERS and unit:
            own = f"{own}*({unit})"
        if not own and not unit:
            cells.flag(i, _no_unit(name, repr(texts[j]), cells.expected(i, name), True), header)
            continue
        values[i], units[i] = d.mode, own or unit
        target.kind[i] = DISTRIBUTION_KINDS.index(d.kind)
        target.low[0][i], target.high[0][i] = d.low, d.high
        target.low[1][i] = target.high[1][i] = own or unit
    if uncertain is not None and (target.kind >= 0).any():
        uncertain[name] = target
    return slow[~mine]


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
        cells.flag(present[j], _("{value!r}: a comma is read only as a thousands separator (1,234,567); for a "
                                 "decimal comma write a point (420.5)").format(value=texts[j]), header)
    superscript = pc.match_substring_regex(arrow, f"[{SUPERSCRIPTS}]").to_numpy(zero_copy_only=False) & ~misplaced
    for j in np.flatnonzero(superscript):
        cells.flag(present[j], _("{value!r}: superscripts and fractions are not read as numbers (write 1e4 or "
                                 "1万, 0.5)").format(value=texts[j]), header)
    cleaned = clean_numbers(pc.if_else(pa.array(misplaced | superscript), "", arrow))
    cleaned_text = cleaned.to_numpy(zero_copy_only=False)
    sub = parse_numbers(cleaned_text)
    nonempty = cleaned_text != ""
    with_text = np.flatnonzero(nonempty & np.isnan(sub))
    sub_units = np.full(len(present), unit or "", dtype=object)
    flagged = np.zeros(len(present), dtype=bool)
    if len(with_text):  # cells that carry their own unit ("4.5 万台", "50%")
        parts = pc.extract_regex(cleaned.take(pa.array(with_text)), CELL_QUANTITY_RE2)
        numbers_text = pc.fill_null(parts.field("number"), "").to_numpy(zero_copy_only=False)
        sub[with_text] = parse_numbers(numbers_text)
        cell_units = pc.fill_null(parts.field("unit"), "").to_numpy(zero_copy_only=False).astype(object)
        trailing = np.isin(cell_units, list(DASHES))  # "0.5-": an accounting export's negative, not the unit "-"
        for k in np.flatnonzero(trailing):
            j = with_text[k]
            cells.flag(present[j], _("{value!r}: a minus sign after the number (as accounting exports write negatives) "
                                     "is not read: write -{number} (or ▲{number}); a fraction's unit is written "
                                     "'fraction', or [-] in the header").format(value=texts[j], number=numbers_text[k]),
                       header)
            flagged[j] = True
        cell_units = np.where(trailing, "", cell_units)
        if unit:  # "1.2万" under a kWh/yr header means 12,000 kWh/yr
            multiplier = pc.fill_null(pc.match_substring_regex(pa.array(cell_units, type=pa.string()), MULTIPLIER_RE2),
                                      False).to_numpy(zero_copy_only=False)
            if multiplier.any() and any(m in unit for m in MULTIPLIERS):  # "4.5万" under 万台: 万 twice
                for k in np.flatnonzero(multiplier):
                    j = with_text[k]
                    cells.flag(present[j], _("{value!r}: the column is already in {unit}, so a {multiplier} in the "
                                             "cell would multiply twice: write {number} (in {unit}) or {number} "
                                             "{unit}").format(value=texts[j], unit=unit, multiplier=cell_units[k],
                                                              number=numbers_text[k]), header)
                    flagged[j] = True
                cell_units = np.where(multiplier, "", cell_units)
                multiplier[:] = False
            cell_units = np.where(multiplier, cell_units + f"*({unit})", cell_units)
        has_unit = cell_units != ""
        sub_units[with_text[has_unit]] = cell_units[has_unit]
    for j in np.flatnonzero(nonempty & ~np.isfinite(sub) & ~flagged):
        cells.flag(present[j], (_("{value!r} is not a finite number") if np.isinf(sub[j]) else
                                _("{value!r} is not a number (expected digits, then an optional unit)")).format(
            value=texts[j]), header)
    sub[(nonempty & ~np.isfinite(sub)) | flagged] = np.nan
    for j in np.flatnonzero(nonempty & np.isfinite(sub) & (sub_units == "")):
        cells.flag(present[j], _no_unit(name, repr(texts[j]), cells.expected(present[j], name), True), header)
    return sub, sub_units


def _typed_numbers(column: np.ndarray, unit: str | None, header: str, name: str, expected: Mapping[str, str],
                   cells: _CellProblems) -> Column:
    """A typed number column (Parquet, a DataFrame): non-finite numbers and numbers without a unit flagged."""
    values = np.asarray(column, dtype=float)  # the reader's array, not copied (a column is read once)
    infinite = np.flatnonzero(np.isinf(values))
    if len(infinite):
        for i in infinite:
            cells.flag(i, _("{value} is not a finite number").format(value=f"{values[i]:g}"), header)
        values = values.copy()
        values[infinite] = np.nan
    if not unit:
        for i in np.flatnonzero(~np.isnan(values)):
            cells.flag(i, _no_unit(name, f"{values[i]:.15g}", cells.expected(i, name), False), header)
    return values, same_unit(unit, len(values)), header
