"""How a file's columns map to koken's: the header (standard columns, parameters, aliases,
``name[unit]``), the units row under it, and blocks of cells as read.

A layout is built once from a file's header and shared by every partition of it; a block of cells
(:class:`Cells`) is one partition's rows before interpretation (:mod:`koken.portfolio.build`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from koken.base.errors import KokenError, KokenErrors, Location, PortfolioError
from koken.base.vocabulary import REQUIRED_COLUMNS, STANDARD_COLUMNS, UNITS_ROW_MARKERS, fold_width
from koken.methodology import Methodology

MAX_COLUMNS = 1000
"""Columns a portfolio may have (a header of 100,000 commas would otherwise exhaust memory)."""
_HEADER = re.compile(r"^\s*(?P<name>[^\[\]]+?)\s*(?:\[(?P<unit>[^\[\]]*)\])?\s*$")


def expected_units(library: Mapping[str, Methodology]) -> dict[str, str]:
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
                       library: Mapping[str, Methodology]) -> Layout:
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
    for required in REQUIRED_COLUMNS:
        if required not in columns:
            structural.append(PortfolioError(f"required column {required!r} is missing", Location(file=path)))
    if structural:
        raise KokenErrors(structural)
    return Layout(path=path, encoding=encoding, width=len(headers), columns=columns,
                  expected_units=expected_units(library))


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
        if any(cell_text(column[i]) for column in block.columns):
            first = i
            break
    if first is None or cell_text(block.columns[mcol][first]).lower() not in UNITS_ROW_MARKERS:
        return layout, block, False
    columns = dict(layout.columns)
    structural = []
    for canonical, (index, unit, header) in list(columns.items()):
        cell = cell_text(block.columns[index][first])
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


def cell_text(value) -> str:
    """One cell as stripped, width-folded text ('' for an empty cell or NaN)."""
    if hasattr(value, "as_py"):  # a cell of an Arrow column
        value = value.as_py()
    if isinstance(value, float):
        return "" if np.isnan(value) else f"{value:.15g}"
    return fold_width(str(value)).strip()


