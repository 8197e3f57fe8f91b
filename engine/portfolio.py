"""Read a company's portfolio (shipment data) from CSV, XLSX or YAML into typed columns.

One row per product line: methodology id, fiscal year, market (domestic/overseas), units shipped,
and the methodology's parameter values. Units come from the header (``annual_energy[kWh/yr]``),
from a units row (a row right under the header whose ``methodology`` cell says ``unit``, ``units``
or ``単位``), or from the cell itself (``"420 kWh/yr"``); a number with no unit is an error.
Headers may be the methodology's declared aliases (``出荷台数`` = ``units_shipped``).

Nothing is dropped or defaulted here: every problem is collected with its file, row and column
and raised together as :class:`engine.errors.KokenErrors`. Only rows whose cells are all empty
are skipped (they hold no data).
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pint

from engine.errors import KokenError, KokenErrors, Location, PortfolioError, UnitError
from engine.methodology import CompiledMethodology
from engine.units import conversion_factor, parse_unit, registry
from engine.yaml_loader import load_yaml_file

STANDARD_COLUMNS = {
    "product_line": ("product_line", "product", "製品", "製品名", "品目"),
    "methodology": ("methodology", "methodology_id", "方法論", "算定方法"),
    "fiscal_year": ("fiscal_year", "年度", "報告年度"),
    "market": ("market", "市場", "国内海外"),
    "region": ("region", "地域", "国"),
    "units_shipped": ("units_shipped", "出荷台数", "出荷量", "出荷数量"),
}
"""Standard columns and their accepted headers (English and Japanese)."""

MARKETS = {"domestic": "domestic", "overseas": "overseas", "国内": "domestic", "海外": "overseas"}
UNITS_ROW_MARKERS = {"unit", "units", "単位"}
FISCAL_YEAR_RANGE = (1990, 2100)
MAX_PORTFOLIO_BYTES = 200_000_000

_HEADER = re.compile(r"^\s*(?P<name>[^\[\]]+?)\s*(?:\[(?P<unit>[^\[\]]*)\])?\s*$")
_CELL_QUANTITY = r"^\s*(?P<number>[+\-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+\-]?\d+)?)\s*(?P<unit>.*?)\s*$"


@dataclass(frozen=True)
class Portfolio:
    """Product lines read from one file; every array has one entry per data row.

    Attributes:
        path: the file.
        sha256: hash of the file's bytes (for the result's provenance).
        rows: the file row of each product line (1-based, as a spreadsheet shows it).
        product_line, methodology, market, region: strings per row ('' where absent).
        fiscal_year: int array.
        units_shipped: numbers per row with a unit per row (text, as written).
        parameters: column (canonical parameter name) → (numbers with NaN for empty cells, unit
            text per row, the column header as written).
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
    units_shipped: tuple[np.ndarray, np.ndarray]
    parameters: dict[str, tuple[np.ndarray, np.ndarray, str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rows)

    def location(self, i: int, column: str | None = None) -> Location:
        """Location of data row ``i`` (0-based index into the arrays)."""
        return Location(file=self.path, row=int(self.rows[i]), column=column)


def read_portfolio(path: str | Path, library: Mapping[str, CompiledMethodology],
                   encoding: str | None = None, sheet: str | None = None) -> Portfolio:
    """Read a portfolio file (``.csv``, ``.xlsx``, ``.yaml``/``.yml``).

    Args:
        path: the file.
        library: methodologies by id (for ids, parameter names and aliases).
        encoding: CSV text encoding; default: UTF-8 (with or without BOM), else cp932 (Shift_JIS).
        sheet: XLSX sheet name; default the first sheet.
    Returns:
        Portfolio.
    Raises:
        KokenErrors: every problem in the file (unknown columns or methodologies, cells that are not
            numbers, missing units, bad years or markets), each with file, row and column.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as err:
        raise KokenErrors([PortfolioError(f"cannot read file: {err.strerror}", Location(file=str(p)))]) from None
    if len(data) > MAX_PORTFOLIO_BYTES:
        raise KokenErrors([PortfolioError(f"file is larger than {MAX_PORTFOLIO_BYTES} bytes", Location(file=str(p)))])
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    suffix = p.suffix.lower()
    if suffix == ".csv":
        headers, cells, rownums, used = _read_csv(p, data, encoding)
    elif suffix in (".xlsx", ".xlsm"):
        headers, cells, rownums, used = _read_xlsx(p, sheet)
    elif suffix in (".yaml", ".yml"):
        headers, cells, rownums, used = _read_yaml(p)
    else:
        raise KokenErrors([PortfolioError(f"unsupported file type {suffix!r}: use .csv, .xlsx or .yaml",
                                          Location(file=str(p)))])
    return _build(str(p), digest, used, headers, cells, rownums, library)


def _read_csv(p: Path, data: bytes, encoding: str | None):
    encodings = [encoding] if encoding else ["utf-8-sig", "cp932"]
    text = None
    for enc in encodings:
        try:
            text = data.decode(enc)
            used = enc
            break
        except (UnicodeDecodeError, LookupError):
            continue
    if text is None:
        raise KokenErrors([PortfolioError(f"file is not text in {' or '.join(encodings)}; give --encoding",
                                          Location(file=str(p)))])
    rows = list(csv.reader(io.StringIO(text)))
    return _split_header(p, rows, list(range(1, len(rows) + 1)), used)


def _read_xlsx(p: Path, sheet: str | None):
    try:
        frame = pd.read_excel(p, sheet_name=sheet if sheet is not None else 0, header=None, dtype=object,
                              engine="openpyxl")
    except ValueError as err:
        raise KokenErrors([PortfolioError(f"cannot read sheet: {err}", Location(file=str(p)))]) from None
    except Exception as err:  # openpyxl raises many types on a corrupt workbook
        raise KokenErrors([PortfolioError(f"not a readable .xlsx workbook ({type(err).__name__})",
                                          Location(file=str(p)))]) from None
    rows = [["" if (v is None or (isinstance(v, float) and np.isnan(v))) else _excel_text(v) for v in r]
            for r in frame.itertuples(index=False, name=None)]
    return _split_header(p, rows, list(range(1, len(rows) + 1)), "xlsx")


def _excel_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _split_header(p: Path, rows: list[list[str]], rownums: list[int], used: str):
    while rows and not any(str(c).strip() for c in rows[0]):
        rows, rownums = rows[1:], rownums[1:]
    if not rows:
        raise KokenErrors([PortfolioError("file has no header row", Location(file=str(p)))])
    return rows[0], rows[1:], rownums[1:], used


def _read_yaml(p: Path):
    doc = load_yaml_file(p)
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


def _build(path: str, digest: str, encoding: str, headers: list[str], cells: list[list[str]],
           rownums: list[int], library: Mapping[str, CompiledMethodology]) -> Portfolio:
    errors: list[KokenError] = []
    width = len(headers)
    cells = [list(r) + [""] * (width - len(r)) for r in cells]
    for r, n in zip(cells, rownums):
        extra = [c for c in r[width:] if str(c).strip()]
        if extra:
            errors.append(PortfolioError(f"row has {len(r)} cells but the header has {width}",
                                         Location(file=path, row=n)))
    cells = [r[:width] for r in cells]
    table = pd.DataFrame(cells, columns=range(width), dtype=object).fillna("").astype(str)
    table = table.apply(lambda s: s.str.normalize("NFKC").str.strip())
    keep = table.ne("").any(axis=1).to_numpy()
    table = table[keep].reset_index(drop=True)
    rows = np.asarray(rownums, dtype=int)[keep]

    standard = {alias: name for name, aliases in STANDARD_COLUMNS.items() for alias in aliases}
    param_names: dict[str, str] = {}
    ambiguous: dict[str, set[str]] = {}
    for m in library.values():
        for header, pname in m.column_names.items():
            if param_names.setdefault(header, pname) != pname:
                ambiguous.setdefault(header, {param_names[header]}).add(pname)
    columns: dict[str, tuple[int, str | None, str]] = {}
    for index, raw in enumerate(headers):
        header = unicodedata.normalize("NFKC", str(raw)).strip()
        if not header:
            if table[index].ne("").any():
                errors.append(PortfolioError("a column without a header holds values",
                                             Location(file=path, column=f"#{index + 1}")))
            continue
        match = _HEADER.match(header)
        if not match:
            errors.append(PortfolioError("header must be 'name' or 'name[unit]'", Location(file=path, column=header)))
            continue
        name, unit = match.group("name").strip(), match.group("unit")
        if name in ambiguous:
            errors.append(PortfolioError(
                f"header {name!r} is an alias of several parameters ({', '.join(sorted(ambiguous[name]))}): "
                "write the parameter name instead", Location(file=path, column=header)))
            continue
        canonical = standard.get(name) or param_names.get(name)
        if canonical is None:
            hint = difflib.get_close_matches(name, list(standard) + list(param_names), n=1)
            errors.append(PortfolioError(
                f"unknown column {name!r}: not a standard column nor a parameter of any methodology"
                + (f"; did you mean {hint[0]!r}?" if hint else ""), Location(file=path, column=header)))
            continue
        if canonical in columns:
            errors.append(PortfolioError(f"column {canonical!r} appears twice", Location(file=path, column=header)))
            continue
        columns[canonical] = (index, unit.strip() if unit is not None else None, header)

    for required in ("methodology", "fiscal_year", "market", "units_shipped"):
        if required not in columns:
            errors.append(PortfolioError(f"required column {required!r} is missing", Location(file=path)))
    if errors:
        raise KokenErrors(errors)

    # units row: right under the header, marked in the methodology column
    mcol = columns["methodology"][0]
    if len(table) and table.at[0, mcol].lower() in UNITS_ROW_MARKERS:
        units_row = table.iloc[0]
        for canonical, (index, unit, header) in list(columns.items()):
            cell = units_row[index]
            if cell and canonical not in ("methodology",):
                if unit:
                    errors.append(PortfolioError(f"unit given both in the header ({unit}) and the units row ({cell})",
                                                 Location(file=path, row=int(rows[0]), column=header)))
                columns[canonical] = (index, cell, header)
        table = table.iloc[1:].reset_index(drop=True)
        rows = rows[1:]

    def text(name: str) -> np.ndarray:
        if name not in columns:
            return np.full(len(table), "", dtype=object)
        return table[columns[name][0]].to_numpy(dtype=object)

    methodology = text("methodology")
    for i, mid in enumerate(methodology):
        if not mid:
            errors.append(PortfolioError("methodology is empty", Location(file=path, row=int(rows[i]),
                                                                            column=columns["methodology"][2])))
        elif mid not in library:
            hint = difflib.get_close_matches(mid, list(library), n=1)
            errors.append(PortfolioError(
                f"unknown methodology {mid!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")
                + f" (known: {', '.join(sorted(library))})",
                Location(file=path, row=int(rows[i]), column=columns["methodology"][2])))

    market = np.array([MARKETS.get(v.lower(), MARKETS.get(v, "")) for v in text("market")], dtype=object)
    for i in np.flatnonzero(market == ""):
        errors.append(PortfolioError(f"market must be domestic or overseas (国内/海外), got {text('market')[i]!r}",
                                     Location(file=path, row=int(rows[i]), column=columns["market"][2])))

    years_raw = text("fiscal_year")
    years = pd.to_numeric(pd.Series(years_raw), errors="coerce").to_numpy(dtype=float)
    lo, hi = FISCAL_YEAR_RANGE
    for i in np.flatnonzero(~np.isfinite(years) | (years % 1 != 0) | (years < lo) | (years > hi)):
        errors.append(PortfolioError(f"fiscal_year must be a whole year in {lo}-{hi}, got {years_raw[i]!r}",
                                     Location(file=path, row=int(rows[i]), column=columns["fiscal_year"][2])))

    def numbers(name: str) -> tuple[np.ndarray, np.ndarray, str]:
        index, unit, header = columns[name]
        raw = table[index]
        if unit:
            cleaned = _clean_numbers(raw)
            values = pd.to_numeric(cleaned, errors="coerce").to_numpy(dtype=float)
            units = np.full(len(raw), unit, dtype=object)
        else:
            parts = _clean_numbers(raw).str.extract(_CELL_QUANTITY)
            values = pd.to_numeric(parts["number"], errors="coerce").to_numpy(dtype=float)
            units = parts["unit"].fillna("").to_numpy(dtype=object)
            for i in np.flatnonzero(raw.ne("").to_numpy() & np.isfinite(values) & (units == "")):
                errors.append(PortfolioError(
                    f"value {raw[i]!r} has no unit: put it in the header ({name}[unit]), a units row, or the cell",
                    Location(file=path, row=int(rows[i]), column=header)))
        bad = raw.ne("").to_numpy() & ~np.isfinite(values)
        for i in np.flatnonzero(bad):
            errors.append(PortfolioError(f"{raw[i]!r} is not a number", Location(file=path, row=int(rows[i]),
                                                                                    column=header)))
        return values, units, header

    shipped = numbers("units_shipped")
    for i in np.flatnonzero(table[columns["units_shipped"][0]].eq("").to_numpy()):
        errors.append(PortfolioError("units_shipped is empty", Location(file=path, row=int(rows[i]),
                                                                        column=columns["units_shipped"][2])))
    params = {name: numbers(name) for name in columns if name not in STANDARD_COLUMNS}
    if errors:
        raise KokenErrors(errors)
    return Portfolio(path=path, sha256=digest, encoding=encoding, rows=rows, product_line=text("product_line"),
                     methodology=methodology, fiscal_year=years.astype(int), market=market, region=text("region"),
                     units_shipped=(shipped[0], shipped[1]), parameters=params)


def _clean_numbers(raw: pd.Series) -> pd.Series:
    """Thousands separators out, minus signs unified (cells are already NFKC-normalised and stripped)."""
    return raw.str.replace(",", "", regex=False).str.replace("\u2212", "-", regex=False)


def column_quantity(values: np.ndarray, units: np.ndarray, target: pint.Unit, hours_per_year: int,
                    what: str, locate) -> tuple[pint.Quantity, list[KokenError]]:
    """Numbers with per-row unit text → one quantity array in ``target`` (units resolved once each).

    Args:
        values: float array (NaN = empty cell).
        units: unit text per row.
        target: the unit to express the column in.
        hours_per_year: the methodology's year length (for ``yr`` in the unit text).
        what: column name for messages.
        locate: ``locate(i) -> Location`` of row ``i``.
    Returns:
        (Quantity array in ``target``, problems).
    """
    out = np.full(len(values), np.nan)
    problems: list[KokenError] = []
    present = ~np.isnan(values)
    for text in pd.unique(units[present]) if present.any() else []:
        mask = present & (units == text)
        first = int(np.flatnonzero(mask)[0])
        try:
            unit = parse_unit(str(text), hours_per_year, locate(first))
            factor = conversion_factor(unit, target, what, locate(first))
        except UnitError as err:
            problems.append(err)
            continue
        out[mask] = values[mask] * factor
    return registry().Quantity(out, target), problems
