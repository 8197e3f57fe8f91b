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
:func:`koken.calculate.calculate` so that cell, unit and range problems appear in one report).
Only rows whose cells are all empty are skipped (they hold no data).
"""

from __future__ import annotations

import difflib
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pint

from koken.base.columns import STANDARD_COLUMNS, fold_width
from koken.base.errors import KokenError, KokenErrors, Location, PortfolioError, UnitError
from koken.methodology.compile import CompiledMethodology
from koken.base.units import check_multiplicative, conversion_factor, is_count_unit, parse_unit, registry
from koken.base.safe_yaml import load_yaml_file

MARKETS = {"domestic": "domestic", "overseas": "overseas", "国内": "domestic", "海外": "overseas"}
UNITS_ROW_MARKERS = {"unit", "units", "単位"}
_TOTAL_LABEL = re.compile(r"(?:合計|総計|小計|^計$|(?i:\b(?:sub)?total\b)|(?i:^sum$))")
"""Labels of a total or subtotal row, which koken refuses (it computes totals itself; summing one twice
is wrong): 合計, 総計 and 小計 anywhere in the label (冷蔵庫 小計, 【小計】), a lone 計, total/subtotal as a word."""
MULTIPLIERS = ("千", "万", "億")
FISCAL_YEAR_RANGE = (1990, 2100)
MAX_PORTFOLIO_BYTES = 200_000_000

_HALFWIDTH_KANA = re.compile("[\uff61-\uff9f]")
_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻½⅓¼¾"
_HEADER = re.compile(r"^\s*(?P<name>[^\[\]]+?)\s*(?:\[(?P<unit>[^\[\]]*)\])?\s*$")
# Patterns for Arrow's RE2 engine, whose \s and \d are ASCII only: whitespace is spelled out as
# Python's \s (Unicode spaces and separators, and the controls \x1c-\x1f, \x85) and digits stay ASCII
# (cells are width-folded; other digits are refused as numbers either way).
# _THOUSANDS_RE2: 1,234,567 with an optional unit after it; _CELL_QUANTITY_RE2: a number, then its unit.
_SPACE_RE2 = r"[\s\p{Z}\x{1c}-\x{1f}\x{85}]"
_THOUSANDS_RE2 = r"^[+\-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?(?:" + _SPACE_RE2 + r"*[^0-9].*)?$"
_CELL_QUANTITY_RE2 = (r"^(?P<number>[+\-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+\-]?\d+)?)" + _SPACE_RE2
                      + r"*(?P<unit>.*?)$")


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


def read_portfolio(path: str | Path, library: Mapping[str, CompiledMethodology],
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
            (use :mod:`koken.portfolio.readers` for partitions), unknown, duplicate or missing columns, no
            product lines), and without ``collect`` every cell-level problem too (unknown methodology,
            bad year or market, a cell that is not a number, a number without a unit), each with file,
            row and column.
    """
    from koken.portfolio.readers import open_portfolio  # sources builds on this module

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


def _read_xlsx(p: Path, data: bytes, sheet: str | None):
    import openpyxl  # imported here: only workbooks need it

    where = Location(file=str(p))
    _check_zip(data, where)

    def load(data_only: bool):
        try:
            return openpyxl.load_workbook(io.BytesIO(data), data_only=data_only)
        except Exception as err:  # openpyxl raises many types on a corrupt or foreign file
            raise KokenErrors([PortfolioError(f"not a readable .xlsx workbook ({type(err).__name__})",
                                              where)]) from None

    book = load(data_only=False)  # formulas as written; most workbooks have none
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise KokenErrors([PortfolioError(f"no sheet {sheet!r}; the workbook has {', '.join(book.sheetnames)}",
                                              where)])
        ws = book[sheet] if sheet is not None else book.active
        if ws is None or not hasattr(ws, "iter_rows"):
            raise KokenErrors([PortfolioError("the active sheet is not a worksheet: name one with --sheet", where)])
        if ws.sheet_state != "visible":
            raise KokenErrors([PortfolioError(f"sheet {ws.title!r} is hidden: name a visible one with --sheet", where)])
        if ws.max_row * ws.max_column > MAX_XLSX_CELLS or ws.max_column > MAX_COLUMNS:
            raise KokenErrors([PortfolioError(f"the sheet spans {ws.max_row:,} rows × {ws.max_column:,} columns "
                                              f"(limit {MAX_XLSX_CELLS:,} cells, {MAX_COLUMNS} columns): clear "
                                              "stray cells far from the data", where)])
        hidden_rows = [i for i, d in ws.row_dimensions.items() if d.hidden]
        hidden_cols = [k for k, d in ws.column_dimensions.items() if d.hidden]
        if hidden_rows or hidden_cols:
            raise KokenErrors([PortfolioError(
                "the sheet has hidden " + " and ".join(
                    x for x in (f"rows {hidden_rows[:5]}" if hidden_rows else "",
                                f"columns {hidden_cols[:5]}" if hidden_cols else "") if x)
                + ": unhide or delete them, so that what is computed is what people see", where)])
        formulas = {c.coordinate for row in ws.iter_rows() for c in row
                    if isinstance(c.value, str) and c.value.startswith("=")}
        title = ws.title
        if formulas:  # use the results the spreadsheet program saved with the file
            book.close()
            book = load(data_only=True)
            ws = book[title]
        rows = [[_excel_text(c) for c in row] for row in ws.iter_rows()]
        unsaved = sorted(c.coordinate for row in ws.iter_rows() for c in row
                         if c.coordinate in formulas and c.value is None)
        merged = [r for r in ws.merged_cells.ranges if r.max_col > r.min_col]
    finally:
        book.close()
    if unsaved:
        raise KokenErrors([PortfolioError(
            f"cells {', '.join(unsaved[:10])}{' …' if len(unsaved) > 10 else ''} hold formulas whose results "
            "were never saved (the file was not last saved by a spreadsheet program); koken never evaluates "
            "formulas: open and save it in Excel or LibreOffice, or paste values", where)])
    header_row = next((i + 1 for i, r in enumerate(rows) if any(str(c).strip() for c in r)), None)
    # a horizontal merge in the header row or the (units) row under it hides column names or units
    across = [str(r) for r in merged if header_row is not None and r.min_row <= header_row + 1
              and r.max_row >= header_row]
    if across:
        raise KokenErrors([PortfolioError(
            f"header cells {', '.join(across)} are merged across columns: give each column its own header "
            "(cells merged down a column are fine)", where)])
    return _split_header(p, rows, list(range(1, len(rows) + 1)), "xlsx")


MAX_XLSX_UNCOMPRESSED = 200_000_000
MAX_XLSX_CELLS = 20_000_000
MAX_COLUMNS = 1000
MAX_XLSX_RATIO = 200


def _check_zip(data: bytes, where: Location) -> None:
    """Refuse a workbook that would expand beyond :data:`MAX_XLSX_UNCOMPRESSED` (a zip bomb)."""
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            expanded = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise KokenErrors([PortfolioError("not a readable .xlsx workbook (not a zip archive)", where)]) from None
    if expanded > MAX_XLSX_UNCOMPRESSED or expanded > MAX_XLSX_RATIO * max(len(data), 1):
        raise KokenErrors([PortfolioError(
            f"the workbook would expand to {expanded / 1e6:,.0f} MB (limit {MAX_XLSX_UNCOMPRESSED / 1e6:,.0f} MB, "
            f"{MAX_XLSX_RATIO}× its size): refused", where)])


def _excel_text(cell) -> str:
    """A workbook cell as the text a person sees: percentage-formatted numbers keep their percent."""
    value = getattr(cell, "value", None)
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        if "%" in (getattr(cell, "number_format", "") or ""):
            return f"{value * 100:.15g}%"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return repr(value) if isinstance(value, float) else str(value)
    return str(value)


def _split_header(p: Path, rows: list[list[str]], rownums: list[int], used: str):
    while rows and not any(str(c).strip() for c in rows[0]):
        rows, rownums = rows[1:], rownums[1:]
    if not rows:
        raise KokenErrors([PortfolioError("file is empty: no header row", Location(file=str(p)))])
    if len(rows[0]) > MAX_COLUMNS:
        raise KokenErrors([PortfolioError(f"the header has {len(rows[0]):,} columns (limit {MAX_COLUMNS})",
                                          Location(file=str(p)))])
    return rows[0], rows[1:], rownums[1:], used


def _read_yaml(p: Path):
    doc = load_yaml_file(p)
    if isinstance(doc, dict) and set(doc) - {"rows"}:
        raise KokenErrors([PortfolioError(f"a YAML portfolio has only 'rows:' at the top; found also "
                                          f"{', '.join(map(str, sorted(set(doc) - {'rows'}, key=str)))} (put them "
                                          "in every row)", Location(file=str(p)))])
    rows = doc.get("rows") if isinstance(doc, dict) else doc
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise KokenErrors([PortfolioError("a YAML portfolio is a list of rows (mappings), or a mapping with "
                                          "'rows:'", Location(file=str(p)))])
    headers: list[str] = []
    for r in rows:
        for key in r:
            if str(key) not in headers:
                headers.append(str(key))
    cells = [["" if r.get(h) is None else str(r.get(h)) for h in headers] for r in rows]
    return headers, cells, list(range(1, len(rows) + 1)), "utf-8"


def _expected_units(library: Mapping[str, CompiledMethodology]) -> dict[str, str]:
    """Parameter name → the unit(s) methodologies declare for it, for hints in error messages."""
    units: dict[str, set[str]] = {}
    for m in library.values():
        for p in m.parameters.values():
            units.setdefault(p.name, set()).add(p.unit_text)
        units.setdefault("units_shipped", set()).add(m.spec.functional_unit.unit)
    return {name: " or ".join(sorted(u)) for name, u in units.items()}


@dataclass(frozen=True)
class Layout:
    """How a file's columns map to koken's: canonical name → (column index, unit or None, header as written).

    Built once from the header (and the units row, if any) and shared by every partition of a file.
    """

    path: str
    encoding: str
    width: int
    columns: dict[str, tuple[int, str | None, str]]
    expected_units: dict[str, str]


def layout_from_header(path: str, encoding: str, headers: list[str],
                       library: Mapping[str, CompiledMethodology]) -> Layout:
    """Interpret the header row (standard columns, parameters, aliases, ``name[unit]``).

    Raises:
        KokenErrors: unknown, ambiguous, duplicate or missing columns (all of them at once).
    """
    structural: list[KokenError] = []
    standard = {alias: name for name, aliases in STANDARD_COLUMNS.items() for alias in aliases}
    param_names: dict[str, str] = {}
    ambiguous: dict[str, set[str]] = {}
    for m in library.values():
        for header, pname in m.column_names.items():
            if param_names.setdefault(header, pname) != pname:
                ambiguous.setdefault(header, {param_names[header]}).add(pname)
    columns: dict[str, tuple[int, str | None, str]] = {}
    for index, raw_header in enumerate(headers):
        header = fold_width(str(raw_header)).strip()
        if not header:
            continue  # a column without a header must be empty: checked per partition
        match = _HEADER.match(header)
        if not match:
            structural.append(PortfolioError("header must be 'name' or 'name[unit]'",
                                             Location(file=path, column=header)))
            continue
        name, unit = match.group("name").strip(), match.group("unit")
        if name in ambiguous:
            structural.append(PortfolioError(
                f"header {name!r} is an alias of several parameters ({', '.join(sorted(ambiguous[name]))}): "
                "write the parameter name instead", Location(file=path, column=header)))
            continue
        canonical = standard.get(name) or param_names.get(name)
        if canonical is None:
            hint = difflib.get_close_matches(name, list(standard) + list(param_names), n=1)
            guess = (f"; the file was read as {encoding}: if the headers look garbled, give --encoding"
                     if encoding in ("cp932", "utf-8") and not name.isascii() else "")
            structural.append(PortfolioError(
                f"unknown column {name!r}: not a standard column nor a parameter of any methodology"
                + (f"; did you mean {hint[0]!r}?" if hint else "") + guess, Location(file=path, column=header)))
            continue
        if canonical in columns:
            structural.append(PortfolioError(f"column {canonical!r} appears twice (also as "
                                             f"{columns[canonical][2]!r})", Location(file=path, column=header)))
            continue
        columns[canonical] = (index, unit.strip() if unit is not None else None, header)
    for required in ("methodology", "fiscal_year", "market", "units_shipped"):
        if required not in columns:
            structural.append(PortfolioError(f"required column {required!r} is missing", Location(file=path)))
    if structural:
        raise KokenErrors(structural)
    return Layout(path=path, encoding=encoding, width=len(headers), columns=columns,
                  expected_units=_expected_units(library))


@dataclass(frozen=True)
class Cells:
    """A block of data rows as read, column by column, before interpretation.

    Attributes:
        columns: per file column, an object array of cell texts ('' = empty); for a columnar file an
            Arrow string array ('' = empty) or, for a typed numeric column, a float array (NaN = empty).
        rows: file row number of each data row (1-based).
    """

    columns: list[np.ndarray]
    rows: np.ndarray


def cells_from_rows(path: str, width: int, cells: list[list[str]], rownums: list[int]) -> Cells:
    """Rows of cell texts (CSV, XLSX, YAML) → :class:`Cells`; a row longer than the header is refused.

    Raises:
        KokenErrors: rows with more (non-empty) cells than the header has columns.
    """
    structural = []
    fixed = []
    for r, n in zip(cells, rownums):
        if len(r) != width:
            if any(str(c).strip() for c in r[width:]):
                structural.append(PortfolioError(f"row has {len(r)} cells but the header has {width}",
                                                 Location(file=path, row=n)))
            r = (list(r) + [""] * (width - len(r)))[:width]
        fixed.append(r)
    if structural:
        raise KokenErrors(structural)
    block = np.empty((len(fixed), width), dtype=object)
    if fixed:
        block[:] = fixed
    return Cells(columns=[block[:, j] for j in range(width)], rows=np.asarray(rownums, dtype=int))


_PY_WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
                  "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
"""Every character Python's ``str.strip()`` removes (``str.isspace``), for Arrow's ``utf8_trim``."""


def _clean_text(column) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cell texts (object array, or an Arrow string array from a columnar file) →
    (stripped as written, stripped and width-folded, positions of cells that run over several lines).

    Only non-empty cells are touched, and an Arrow column of few distinct texts is cleaned once per
    distinct text; trimming and the checks run in Arrow's compute kernels, and only non-ASCII cells are
    width-folded in Python.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if not isinstance(column, np.ndarray) and len(column) > 4096 and \
            len(pc.unique(column.slice(0, 2048))) < 256:  # few distinct texts (ids, markets, regions): clean those
        encoded = pc.dictionary_encode(column)
        if len(encoded.dictionary) * 4 < len(column):
            stripped, folded, multiline = _clean_text(encoded.dictionary)
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
    trimmed = pc.utf8_trim(cells, _PY_WHITESPACE)
    texts = trimmed.to_numpy(zero_copy_only=False)
    if len(present) == n:
        stripped = texts
    else:
        stripped = np.empty(n, dtype=object)
        stripped[:] = ""
        stripped[present] = texts
    folded = stripped.copy()
    wide = np.flatnonzero(~pc.string_is_ascii(trimmed).to_numpy(zero_copy_only=False))
    if len(wide):  # of the non-ASCII cells, those with full-width ASCII or an ideographic space
        wide = wide[pc.match_substring_regex(trimmed.take(pa.array(wide)), "[\uff01-\uff5e\u3000]").to_numpy(
            zero_copy_only=False)]
        folded[present[wide]] = [fold_width(t).strip() for t in texts[wide]]
    breaks = pc.or_(pc.match_substring(trimmed, "\n"), pc.match_substring(trimmed, "\r"))
    multiline = present[breaks.to_numpy(zero_copy_only=False)]
    return stripped, folded, multiline


def split_units_row(layout: Layout, block: Cells) -> tuple[Layout, Cells, bool]:
    """Take the units row (a row right under the header whose ``methodology`` cell says ``unit``,
    ``units`` or ``単位``) out of the first block of a file and put its units into the layout.

    Returns:
        (layout with the row's units, the block without the row, whether there was a units row).
    Raises:
        KokenErrors: a column has a unit both in its header and in the units row.
    """
    mcol = layout.columns["methodology"][0]
    first = None
    for i in range(len(block.rows)):
        if any(_cell_text(column[i]) for column in block.columns):
            first = i
            break
    if first is None or _cell_text(block.columns[mcol][first]).lower() not in UNITS_ROW_MARKERS:
        return layout, block, False
    columns = dict(layout.columns)
    structural = []
    for canonical, (index, unit, header) in list(columns.items()):
        cell = _cell_text(block.columns[index][first])
        if cell and canonical != "methodology":
            if unit:
                structural.append(PortfolioError(
                    f"unit given both in the header ({unit}) and the units row ({cell})",
                    Location(file=layout.path, row=int(block.rows[first]), column=header)))
            columns[canonical] = (index, cell, header)
    if structural:
        raise KokenErrors(structural)
    rest = np.ones(len(block.rows), dtype=bool)
    rest[first] = False
    block = Cells(columns=[column[rest] if isinstance(column, np.ndarray) else column.filter(rest)
                           for column in block.columns], rows=block.rows[rest])
    return (Layout(path=layout.path, encoding=layout.encoding, width=layout.width, columns=columns,
                   expected_units=layout.expected_units), block, True)


def _cell_text(value) -> str:
    """One cell as stripped, width-folded text ('' for an empty cell or NaN)."""
    if hasattr(value, "as_py"):  # a cell of an Arrow column
        value = value.as_py()
    if isinstance(value, float):
        return "" if np.isnan(value) else f"{value:.15g}"
    return fold_width(str(value)).strip()


def build_portfolio(layout: Layout, digest: str, block: Cells, library: Mapping[str, CompiledMethodology],
                    first: bool = True, had_units_row: bool = False) -> Portfolio:
    """Interpret one block of rows (a whole file, or one partition of it) into a :class:`Portfolio`.

    Args:
        layout: from :func:`layout_from_header`.
        digest: the file's sha256 (for provenance).
        block: the rows.
        library: methodologies by id.
        first: the block is the whole file: an empty block is then an error (no product lines).
        had_units_row: the file had a units row (taken out by :func:`split_units_row`), for messages.
    Returns:
        Portfolio, with its cell problems collected in ``problems``.
    Raises:
        KokenErrors: structural problems (values without a header, cells running over several lines,
            no product lines).
    """
    path = layout.path
    structural: list[KokenError] = []
    n_all = len(block.rows)
    raw: dict[int, np.ndarray] = {}
    table: dict[int, np.ndarray] = {}
    numeric: dict[int, np.ndarray] = {}
    keep = np.zeros(n_all, dtype=bool)
    used = {index for index, _, _ in layout.columns.values()}
    multiline: dict[int, np.ndarray] = {}
    for index, column in enumerate(block.columns):
        if isinstance(column, np.ndarray) and column.dtype.kind == "f":
            numeric[index] = column
            present = ~np.isnan(column)
        else:
            raw[index], table[index], multiline[index] = _clean_text(column)
            present = table[index] != ""
        keep |= present
        if index not in used and present.any():
            structural.append(PortfolioError("a column without a header holds values",
                                             Location(file=path, column=f"#{index + 1}")))
    header_of = {index: header for index, _, header in layout.columns.values()}
    for index, positions in multiline.items():  # a quote left open swallows the following lines into one cell
        if index in header_of:
            for i in positions:
                structural.append(PortfolioError(
                    "a cell holds a line break (in a file of columns)" if layout.encoding == "parquet" else
                    "a cell runs over several lines: a quote (\") is probably not closed; check this row and the "
                    "ones after it", Location(file=path, row=int(block.rows[i]), column=str(header_of[index]))))
    rows = block.rows[keep]
    if not keep.all():
        raw = {k: v[keep] for k, v in raw.items()}
        table = {k: v[keep] for k, v in table.items()}
        numeric = {k: v[keep] for k, v in numeric.items()}
    if structural:
        raise KokenErrors(structural)

    columns = dict(layout.columns)
    n = len(rows)
    if first and not n:
        structural.append(PortfolioError("the file has no product lines (only a header"
                                         + (" and a units row)" if had_units_row else ")"), Location(file=path)))
    if structural:
        raise KokenErrors(structural)

    problems: list[KokenError] = []
    invalid = np.zeros(n, dtype=bool)

    def flag(i: int, message: str, column: str) -> None:
        problems.append(PortfolioError(message, Location(file=path, row=int(rows[i]), column=column)))
        invalid[i] = True

    def text(name: str, source: dict[int, np.ndarray] = table) -> np.ndarray:
        if name not in columns:
            return np.full(n, "", dtype=object)
        index = columns[name][0]
        if index in numeric:  # a typed numeric column where text is expected (a region code 1, say)
            values = numeric[index]
            return np.array(["" if np.isnan(v) else f"{v:.15g}" for v in values], dtype=object)
        return source[index]

    methodology = text("methodology")
    mheader = columns["methodology"][2]
    labels = text("product_line")
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
            flag(i, f"this looks like a total or subtotal row ({total_in} {(mid if total_in == 'methodology' else labels[i])!r}): "
                    "koken computes totals itself, and summing a total again would count it twice; remove the row",
                 columns[total_in][2])
        elif not mid:
            flag(i, "methodology is empty", mheader)
        elif mid not in library:
            hint = difflib.get_close_matches(mid, list(library), n=1)
            flag(i, f"unknown methodology {mid!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")
                 + f" (known: {', '.join(sorted(library))})", mheader)

    market_raw = text("market")
    codes, uniques = pd.factorize(pd.Series(market_raw, dtype=object))
    mapped = np.array([MARKETS.get(str(v).lower(), MARKETS.get(str(v), "")) for v in uniques] + [""], dtype=object)
    market = mapped[codes] if n else np.zeros(0, dtype=object)
    for i in np.flatnonzero(market == ""):
        flag(i, f"market must be domestic or overseas (国内/海外), got {market_raw[i]!r}", columns["market"][2])

    year_index = columns["fiscal_year"][0]
    if year_index in numeric:
        years = numeric[year_index].astype(float)
        years_raw = _Formatted(years)  # text only for the rows that are reported
    else:
        years_raw = text("fiscal_year")
        years = _parse_numbers(years_raw)
    lo, hi = FISCAL_YEAR_RANGE
    with np.errstate(invalid="ignore"):
        bad_years = ~np.isfinite(years) | (np.mod(years, 1) != 0) | (years < lo) | (years > hi)
    for i in np.flatnonzero(bad_years):
        flag(i, f"fiscal_year must be a whole year in {lo}-{hi}, got {years_raw[i]!r}", columns["fiscal_year"][2])
    years = np.where(bad_years, 0, years).astype(int)

    expected = layout.expected_units

    def numbers(name: str) -> tuple[np.ndarray, np.ndarray, str]:
        index, unit, header = columns[name]
        if index in numeric:
            return _typed_numbers(numeric[index], unit, header, name)
        column = table[index]
        values = np.full(n, np.nan)
        units = _same_unit(unit, n)
        present = np.flatnonzero(column != "")
        if not len(present):
            return values, units, header
        parsed = _parse_numbers(column[present])
        values[present] = parsed  # plain numbers ("420", "1e4", "-3.5") under the header's unit
        slow = np.flatnonzero(np.isnan(parsed))  # everything else: commas, ▲, units in the cell, bad text
        if len(slow):
            units = np.array(units)  # writable: cells with their own units
            simple, simple_values, simple_units = _number_then_unit(column[present[slow]], unit)
            at = present[slow[simple]]
            values[at], units[at] = simple_values, simple_units
            rest = slow[~simple]
            if len(rest):
                sub, sub_units = _numbers_with_text(column[present[rest]], present[rest], unit, header, name)
                values[present[rest]] = sub
                units[present[rest]] = sub_units
        for i in np.flatnonzero(np.isinf(values)):
            flag(i, f"{column[i]!r} is not a finite number", header)
            values[i] = np.nan
        if not unit:
            for i in present[np.flatnonzero(~np.isnan(parsed) & np.isfinite(parsed))]:
                flag(i, f"value {column[i]!r} has no unit (expected {expected.get(name, 'a unit')}): put "
                        f"it in the header ({name}[unit]), a units row, or the cell", header)
        return values, units, header

    def _numbers_with_text(texts: np.ndarray, present: np.ndarray, unit: str | None, header: str, name: str):
        """Cells that are not plain numbers: thousands commas, minus marks, units in the cell, or errors
        (string work in Arrow's compute kernels; numbers parsed by pandas as in the plain path)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        cells = pa.array(texts, type=pa.string())
        comma = pc.match_substring(cells, ",").to_numpy(zero_copy_only=False)
        thousands = pc.match_substring_regex(cells, _THOUSANDS_RE2).to_numpy(zero_copy_only=False)
        misplaced = comma & ~thousands
        for j in np.flatnonzero(misplaced):
            flag(present[j], f"{texts[j]!r}: a comma is read only as a thousands separator (1,234,567); for a "
                             "decimal comma write a point (420.5)", header)
        superscript = pc.match_substring_regex(cells, f"[{_SUPERSCRIPTS}]").to_numpy(zero_copy_only=False) & ~misplaced
        for j in np.flatnonzero(superscript):
            flag(present[j], f"{texts[j]!r}: superscripts and fractions are not read as numbers (write 1e4 or "
                             "1万, 0.5)", header)
        cleaned = _clean_numbers(pc.if_else(pa.array(misplaced | superscript), "", cells))
        cleaned_text = cleaned.to_numpy(zero_copy_only=False)
        sub = _parse_numbers(cleaned_text)
        nonempty = cleaned_text != ""
        with_text = np.flatnonzero(nonempty & np.isnan(sub))
        sub_units = np.full(len(present), unit or "", dtype=object)
        if len(with_text):  # cells that carry their own unit ("4.5 万台", "50%")
            parts = pc.extract_regex(cleaned.take(pa.array(with_text)), _CELL_QUANTITY_RE2)
            numbers_text = pc.fill_null(parts.field("number"), "").to_numpy(zero_copy_only=False)
            sub[with_text] = _parse_numbers(numbers_text)
            cell_units = pc.fill_null(parts.field("unit"), "").to_numpy(zero_copy_only=False).astype(object)
            if unit:  # "1.2万" under a kWh/yr header means 12,000 kWh/yr
                multiplier = np.isin(cell_units, list(MULTIPLIERS))
                cell_units = np.where(multiplier, cell_units + f"*({unit})", cell_units)
            has_unit = cell_units != ""
            sub_units[with_text[has_unit]] = cell_units[has_unit]
        for j in np.flatnonzero(nonempty & ~np.isfinite(sub)):
            kind = "a finite number" if np.isinf(sub[j]) else "a number (expected digits, then an optional unit)"
            flag(present[j], f"{texts[j]!r} is not {kind}", header)
        sub[nonempty & ~np.isfinite(sub)] = np.nan
        for j in np.flatnonzero(nonempty & np.isfinite(sub) & (sub_units == "")):
            flag(present[j], f"value {texts[j]!r} has no unit (expected {expected.get(name, 'a unit')}): put "
                             f"it in the header ({name}[unit]), a units row, or the cell", header)
        return sub, sub_units

    def _typed_numbers(column: np.ndarray, unit: str | None, header: str, name: str):
        values = column.astype(float).copy()
        for i in np.flatnonzero(np.isinf(values)):
            flag(i, f"{values[i]:g} is not a finite number", header)
        values[np.isinf(values)] = np.nan
        if not unit:
            for i in np.flatnonzero(~np.isnan(values)):
                flag(i, f"value {values[i]:.15g} has no unit (expected {expected.get(name, 'a unit')}): put it in "
                        f"the header ({name}[unit])", header)
        return values, _same_unit(unit, n), header

    shipped = numbers("units_shipped")
    shipped_index = columns["units_shipped"][0]
    shipped_empty = (np.isnan(numeric[shipped_index]) if shipped_index in numeric
                     else table[shipped_index] == "")
    for i in np.flatnonzero(np.isnan(shipped[0]) & shipped_empty):
        flag(i, "units_shipped is empty", columns["units_shipped"][2])
    params = {name: numbers(name) for name in columns if name not in STANDARD_COLUMNS}
    portfolio = Portfolio(units_shipped_entered=_as_entered(shipped, None if shipped_index in numeric else
                                                            table[shipped_index], columns["units_shipped"][1]),
                          path=path, sha256=digest, encoding=layout.encoding, rows=rows,
                          product_line=text("product_line", raw), methodology=methodology, fiscal_year=years,
                          market=market, region=text("region"), units_shipped=shipped, parameters=params,
                          problems=sorted(problems, key=lambda e: (e.location.row or 0,)), invalid=invalid)
    return portfolio


def _clean_numbers(cells):
    """Thousands separators out, minus signs unified, including the Japanese ▲/△ negative marks
    (cells are already width-folded and stripped); ``cells`` is an Arrow string array."""
    import pyarrow.compute as pc

    cells = pc.replace_substring(cells, ",", "")
    cells = pc.replace_substring(cells, "\u2212", "-")
    return pc.replace_substring_regex(cells, f"^[▲△]{_SPACE_RE2}*", "-")


_PLAIN_NUMBER_RE2 = r"^[+\-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+\-]?\d+)?$"
"""A number as written in a cell: digits, an optional point and exponent (no commas, no unit)."""


def _parse_numbers(texts) -> np.ndarray:
    """Cell texts → floats: plain numbers (:data:`_PLAIN_NUMBER_RE2`) parsed with correct rounding (as
    Python's ``float``) by Arrow; ``inf``, ``nan`` and ``infinity`` (any case) as themselves, so that
    they are reported as not finite; anything else NaN (reported by the caller)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cells = pa.array(texts, type=pa.string()) if isinstance(texts, np.ndarray) else texts
    out = np.full(len(cells), np.nan)
    plain = pc.match_substring_regex(cells, _PLAIN_NUMBER_RE2).to_numpy(zero_copy_only=False)
    if plain.any():
        out[plain] = pc.cast(cells.filter(pa.array(plain)), pa.float64()).to_numpy(zero_copy_only=False)
    special = pc.match_substring_regex(cells, r"^[+\-]?(?:inf|infinity)$", ignore_case=True).to_numpy(
        zero_copy_only=False)
    if special.any():
        out[special] = [float(t) for t in cells.filter(pa.array(special)).to_pylist()]
    return out


class _Formatted:
    """Numbers shown as text on demand (``years_raw[i]``), never one string per row up front."""

    def __init__(self, values: np.ndarray):
        self._values = values

    def __getitem__(self, i) -> str:
        v = self._values[i]
        return "" if np.isnan(v) else f"{v:.15g}"


def _as_entered(column: tuple[np.ndarray, np.ndarray, str], cells, header_unit: str | None) -> np.ndarray:
    """A number column as the company wrote it: the cell's text, followed by the header's (or units
    row's) unit when the cell has no unit of its own (a plain number, or 万/千/億 alone).

    Args:
        column: (numbers, unit text per row, header) as :func:`build_portfolio` reads it.
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
    out = texts.copy()
    out[needs] = texts[needs] + suffix
    return out


def _number_then_unit(texts: np.ndarray, header_unit: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The common case of a cell with its own unit, ``"4200 台"`` or ``"35.2 MW"``, read in one pass.

    Returns:
        (mask of the cells read here, their numbers, their unit texts). Cells with anything unusual —
        a comma, a minus or ▲ mark, a superscript, a unit that is only 万/千/億, no number — are left to
        the full path, which explains what is wrong with them.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    cells = pa.array(texts, type=pa.string())
    parts = pc.extract_regex(cells, _CELL_QUANTITY_RE2)
    number, unit = parts.field("number"), parts.field("unit")
    matched = pc.fill_null(pc.is_valid(parts), False)
    plain_unit = pc.invert(pc.fill_null(pc.match_substring_regex(unit, f"[,▲△\u2212{_SUPERSCRIPTS}]|^$"), True))
    simple = pc.and_(matched, plain_unit).to_numpy(zero_copy_only=False)
    if header_unit:
        multiplier_only = pc.is_in(unit, pa.array(list(MULTIPLIERS))).to_numpy(zero_copy_only=False)
        simple &= ~np.asarray(multiplier_only, dtype=bool)
    chosen = pa.array(simple)
    values = pc.cast(number.filter(chosen), pa.float64()).to_numpy(zero_copy_only=False) if simple.any() \
        else np.zeros(0)
    units = unit.filter(chosen).to_numpy(zero_copy_only=False).astype(object) if simple.any() \
        else np.zeros(0, dtype=object)
    return simple, values, units


def _same_unit(unit: str | None, n: int) -> np.ndarray:
    """The unit text of every row of a column whose cells carry no unit of their own: one read-only
    broadcast array (no per-row objects)."""
    cell = np.empty(1, dtype=object)
    cell[0] = unit or ""
    return np.broadcast_to(cell, (n,))


@dataclass(frozen=True)
class ColumnValues:
    """A portfolio column for one methodology's rows, with units resolved.

    Attributes:
        quantity: Pint quantity array; in the column's own unit when every present cell shares it
            (so messages can quote the user's unit), else in the target unit. NaN = empty cell.
        failed: True for rows whose unit could not be read or converted (already reported).
    """

    quantity: pint.Quantity
    failed: np.ndarray


def column_quantity(values: np.ndarray, units: np.ndarray, target: pint.Unit, hours_per_year: int,
                    what: str, locate: Callable[[int], Location],
                    count: bool = False) -> tuple[ColumnValues, list[KokenError]]:
    """Numbers with per-row unit text → one quantity array (each distinct unit text resolved once).

    Args:
        values: float array (NaN = empty cell).
        units: unit text per row (a zero-stride broadcast array when the whole column has one unit).
        target: the unit the column must be convertible to (the parameter's declared unit).
        hours_per_year: the methodology's year length (for ``yr`` in the unit text).
        what: column name for messages.
        locate: ``locate(i) -> Location`` of row ``i``.
        count: the column counts things (台, 件): only count units (and 千/万/億) are accepted, not
            other dimensionless units such as % or ppm.
    Returns:
        (ColumnValues, problems): one problem per distinct unit text that is unknown or incompatible,
        located at its first row.
    """
    problems: list[KokenError] = []
    failed = np.zeros(len(values), dtype=bool)
    present = ~np.isnan(values)
    uniform = isinstance(units, np.ndarray) and units.strides == (0,)  # one unit for the column (a broadcast)
    if uniform:
        texts = [units[0]] if present.any() else []
    else:
        texts = list(pd.unique(units[present])) if present.any() else []
    factors: dict[str, float] = {}
    parsed = {}
    for text in texts:
        mask = present if uniform else present & (units == text)
        first = int(np.flatnonzero(mask)[0])
        try:
            unit = parse_unit(str(text), hours_per_year, locate(first))
            check_multiplicative(unit, str(text), locate(first))
            if count and not is_count_unit(unit):
                raise UnitError(f"{what}: {text!r} is not a count of things: write 台, 件, 基 or 万台", locate(first))
            factors[text] = conversion_factor(unit, target, what, locate(first))
            parsed[text] = unit
        except UnitError as err:
            problems.append(err)
            failed |= mask
    if len(texts) == 1 and texts[0] in parsed:
        return ColumnValues(registry().Quantity(values.astype(float), parsed[texts[0]]), failed), problems
    out = np.full(len(values), np.nan)
    for text, factor in factors.items():
        mask = present & (units == text)
        out[mask] = values[mask] * factor
    return ColumnValues(registry().Quantity(out, target), failed), problems
