"""How a file's columns map to koken's: the header (standard columns, parameters, aliases,
``name[unit]``), the units row under it, and blocks of cells as read.

A layout is built once from a file's header and shared by every partition of it; a block of cells
(:class:`Cells`) is one partition's rows before interpretation (:mod:`koken.portfolio.build`).
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from koken.base.errors import KokenError, KokenErrors, Location, PortfolioError
from koken.base.i18n import _
from koken.base.vocabulary import (
    BOUND_SUFFIXES,
    DATA_QUALITY_PREFIX,
    DATA_QUALITY_PREFIXES,
    REQUIRED_COLUMNS,
    RESULT_COLUMNS,
    STANDARD_COLUMNS,
    UNITS_ROW_MARKERS,
    fold_width,
)
from koken.methodology import Methodology
from koken.methodology.schema import MethodologySpec, parameter_headers
from koken.portfolio.cells import parse_numbers

MAX_COLUMNS = 1000
"""Columns a portfolio may have (a header of 100,000 commas would otherwise exhaust memory)."""
HEADER_SCAN_ROWS = 30
"""Rows above the header (a title, notes, a date) searched for it; the header is the first row that names
at least :data:`HEADER_MIN_NAMES` known columns."""
HEADER_MIN_NAMES = 2
RESERVED_RESULT_NAMES = frozenset({*RESULT_COLUMNS, "sheet", "inputs", "device_ratio_basis"})
"""Names a column of the company's own may not take: result files have columns of those names (and of every
name beginning ``device_``)."""
RESERVED_RESULT_PREFIXES = ("device_", "inputs.", "steps.")
"""Beginnings of result columns' names (device shares; a Parquet result's inputs and steps,
koken.results.DetailLayout: a company's own column of such a name gave the result that name twice)."""
CLOSE_MATCH = 0.8
"""How alike (difflib's ratio) an unknown header must be to a column's name or alias to be taken for a
misspelling of it (an error) rather than a column of the company's own (carried through)."""
_OPENERS = "（(【〔［"
_CLOSERS = "）)】〕］"
_SEPARATORS = re.compile(r"[\s_\-・/／]+")
CONTAINED_NAME = 4
"""A header that holds one of koken's column names of at least this many characters (``CO2排出係数``,
``Grid Emission Factor``) is taken for that column written wrongly, never for a column of the company's own."""


def specifications(library: Mapping[str, Methodology]) -> dict[str, MethodologySpec]:
    """Every methodology's specification by id: a :class:`koken.library.Library`'s :attr:`specs` (a library loaded
    lazily is not compiled for it), else each methodology's ``spec``. What a portfolio's headers and methodology
    names are read with: the names, aliases and units the files declare."""
    specs = getattr(library, "specs", None)
    return dict(specs) if isinstance(specs, Mapping) else {mid: m.spec for mid, m in library.items()}


def expected_units(library: Mapping[str, Methodology]) -> dict[str, str]:
    """Parameter name → the unit(s) methodologies declare for it, for hints in error messages."""
    units: dict[str, set[str]] = {}
    for spec in specifications(library).values():
        for name, p in spec.parameters.items():
            units.setdefault(name, set()).add(p.unit)
        units.setdefault("units_shipped", set()).add(spec.functional_unit.unit)
    return {name: " or ".join(sorted(u)) for name, u in units.items()}


def methodology_names(library: Mapping[str, Methodology]) -> dict[str, str]:
    """Every name a methodology may be written as in a portfolio → its id: the id, its Japanese and English
    titles, its declared ``aliases``, and the parts of its Japanese title (``ストレージ（磁気ディスク装置）``
    also answers to ``ストレージ`` and ``磁気ディスク装置``); names are folded (case, full width), and a name
    two methodologies would share is left out.
    """
    names: dict[str, str] = {}
    shared: set[str] = set()
    for mid, spec in specifications(library).items():
        title = spec.title
        candidates = {mid, title.ja, title.en, *getattr(spec, "aliases", ())}
        main, _paren, rest = title.ja.partition("（")
        candidates.add(main)
        candidates.update(re.split(r"[・／/、]", rest.rstrip("）")) if rest else ())
        for name in candidates:
            key = fold_name(name)
            if len(key) < 2:
                continue
            if names.setdefault(key, mid) != mid:
                shared.add(key)
    return {k: v for k, v in names.items() if k not in shared}


def fold_name(text: str) -> str:
    """A name as compared: width-folded, trimmed, case-folded."""
    return fold_width(str(text)).strip().casefold()


@dataclass(frozen=True)
class Layout:
    """How a file's columns map to koken's: canonical name → (column index, unit or None, header as written).

    Built once from a table's header (and the units row, if any) and shared by every partition of it.

    Attributes:
        sheet: the workbook sheet the table is on (None for other files).
        header_row: the file row of the header (rows above it, a title or notes, are not read).
        skipped_rows: those rows above the header that held text.
        passthrough: column index → header of the columns that are none of koken's: kept and carried into
            the results beside the figures (備考, 社内コード …).
        problems: header problems that leave the rest readable (an unknown, misspelt or repeated column):
            reported together with every row's problems.
        methodology: the sheet's methodology, for a sheet without a methodology column (from its name).
    """

    path: str
    encoding: str
    width: int
    columns: dict[str, tuple[int, str | None, str]]
    expected_units: dict[str, str]
    sheet: str | None = None
    header_row: int = 1
    skipped_rows: tuple[int, ...] = ()
    passthrough: dict[int, str] = field(default_factory=dict)
    problems: tuple[KokenError, ...] = ()
    methodology: str | None = None
    headed: frozenset[int] = frozenset()
    """Indices of the columns that have a header (including those with a header problem)."""

    def where(self, row: int | None = None, column: str | None = None) -> Location:
        """The location of a cell: file, sheet, row and, in a workbook, the cell address (``D7``)."""
        cell = None
        if self.sheet is not None and row is not None and column is not None:
            index = next((i for i, _u, h in self.columns.values() if h == column), None)
            if index is None:
                index = next((i for i, h in self.passthrough.items() if h == column), None)
            if index is not None:
                cell = f"{column_letter(index)}{row}"
        return Location(file=self.path, sheet=self.sheet, row=row, column=column, cell=cell)


def column_letter(index: int) -> str:
    """A 0-based column index as a spreadsheet's column letters (0 → ``A``, 27 → ``AB``)."""
    from openpyxl.utils.cell import get_column_letter

    return get_column_letter(index + 1)


def header_names(library: Mapping[str, Methodology]) -> tuple[dict[str, str], dict[str, set[str]]]:
    """Every name a column may be written as → its canonical name (standard columns and their aliases,
    parameters and their aliases), and the names that alias several parameters."""
    names = {alias: name for name, aliases in STANDARD_COLUMNS.items() for alias in aliases}
    ambiguous: dict[str, set[str]] = {}
    params: dict[str, str] = {}
    for spec in specifications(library).values():
        for header, pname in parameter_headers(spec.parameters).items():
            if params.setdefault(header, pname) != pname:
                ambiguous.setdefault(header, {params[header]}).add(pname)
    names.update({k: v for k, v in params.items() if k not in names})
    return names, ambiguous


def split_header_cell(text: str) -> list[tuple[str, str | None]] | None:
    """A header cell's lines as (name, unit or None); None when a line is not ``name`` or ``name[unit]``.

    A cell may name its column on several lines, in Japanese and English (``出荷台数\\nunits_shipped``, as
    koken's templates do); each line is one name. Parsed by position, not by a regular expression: a line is
    read in time linear in its length whatever it holds (a backtracking pattern took 40 s on ``a`` + 3,000
    spaces + ``b[``, issue 17).

    >>> split_header_cell("出荷台数\\nunits_shipped[万台]")
    [('出荷台数', None), ('units_shipped', '万台')]
    """
    out = []
    for line in fold_width(str(text)).splitlines():
        if not line.strip():
            continue
        parsed = _header_line(line.strip())
        if parsed is None:
            return None
        out.append(parsed)
    return out


def _header_line(line: str) -> tuple[str, str | None] | None:
    """``name`` or ``name[unit]`` (``line`` stripped; the name without brackets and not empty, the unit without
    brackets) as (name, unit or None), stripped; None for anything else."""
    opening = line.find("[")
    if opening < 0:
        return None if "]" in line else (line, None)
    name, unit = line[:opening].strip(), line[opening + 1:-1]
    if not name or not line.endswith("]") or "]" in name or "[" in unit or "]" in unit:
        return None
    return name, unit.strip()


def _parenthesised_unit(text: str) -> tuple[str, str] | None:
    """A name followed by a unit in parentheses or brackets of another kind (``出荷台数（万台）``,
    ``排出係数【kg-CO2/kWh】``) as (name, unit), both stripped; None otherwise. Linear in the text's length."""
    line = text.strip()
    opening = next((i for i, ch in enumerate(line) if ch in _OPENERS), -1)
    if opening <= 0 or not line or line[-1] not in _CLOSERS:
        return None
    name, unit = line[:opening].strip(), line[opening + 1:-1]
    if not name or "[" in name or "]" in name or not unit or any(ch in _CLOSERS for ch in unit):
        return None
    return name, unit.strip()


TEMPLATE_SHEETS = ("説明", "コード")
"""The sheets of koken's own templates that hold no portfolio (instructions and the lists' codes): read past
without a notice."""
NOTE_MARKERS = ("※", "注", "＊", "*", "備考", "note", "注記")
"""How a footnote under (or between) the rows of a table begins: a row whose only text is such a note is no product
line and is not read (with a notice)."""


def is_note_row(row: list[str]) -> bool:
    """Whether a row's only non-empty cell is a note (``※ 排出係数は 2023年度の値``, ``注：…``, ``Note: …``)."""
    text = None
    for cell in row:  # a product line has two texts within its first cells: stop there (once per row of a file)
        stripped = str(cell).strip()
        if stripped:
            if text is not None:
                return False
            text = stripped
    return text is not None and fold_width(text).casefold().startswith(NOTE_MARKERS)


def find_header(rows: list[list[str]], library: Mapping[str, Methodology], limit: int = HEADER_SCAN_ROWS) -> int | None:
    """The position in ``rows`` of the header: of the first ``limit`` rows with text, the one that names the most
    known columns (at least :data:`HEADER_MIN_NAMES`; the first of equals), so that a block of key/value rows
    above a table (``年度 | 2023 | 国 | 日本``) is not taken for its header; None when no row does (the first row
    with text is then the header, and its problems are reported)."""
    names, _ambiguous = header_names(library)
    best, best_known = None, HEADER_MIN_NAMES - 1
    seen = 0
    for position, row in enumerate(rows):
        if not any(str(c).strip() for c in row):
            continue
        seen += 1
        if seen > limit:
            break
        known = 0
        for cell in row:
            lines = split_header_cell(cell) if str(cell).strip() else None
            if lines and all(name in names for name, _unit in lines):
                known += 1
        if known > best_known:
            best, best_known = position, known
    return best


def layout_from_header(path: str, encoding: str, headers: list[str], library: Mapping[str, Methodology], *,
                       sheet: str | None = None, header_row: int = 1, skipped_rows: tuple[int, ...] = (),
                       sheet_methodology: str | None = None) -> Layout:
    """Interpret the header row (standard columns, parameters, aliases, ``name[unit]``, a name per line).

    A column that is none of koken's and not close to one of their names is carried through (``passthrough``);
    one close to a name (``出荷台数（万台）``, ``basline_annual_energy``) or carrying a unit in brackets is an
    error with the spelling to use, unit kept (``出荷台数[万台]``).

    Args:
        sheet, header_row, skipped_rows: where the table is (recorded in the layout, used in locations).
        sheet_methodology: the methodology of a sheet without a methodology column (from the sheet's name).
    Raises:
        KokenErrors: a required column is missing (with every other header problem); problems that leave the
            rest readable (unknown, misspelt, ambiguous or repeated columns) are in ``Layout.problems`` instead.
    """
    where = Location(file=path, sheet=sheet, row=header_row)
    problems: list[KokenError] = []
    names, ambiguous = header_names(library)
    columns: dict[str, tuple[int, str | None, str]] = {}
    passthrough: dict[int, str] = {}

    def problem(message: str, header: str, index: int) -> None:
        cell = f"{column_letter(index)}{header_row}" if sheet is not None else None
        problems.append(PortfolioError(message, dataclasses.replace(where, column=header, cell=cell)))

    for index, raw_header in enumerate(headers):
        header = fold_width(str(raw_header)).strip()
        if not header:
            continue  # a column without a header must be empty: checked per partition
        shown = " / ".join(line.strip() for line in str(raw_header).strip().splitlines() if line.strip())  # as typed
        quality = _data_quality_column(header, names)
        if quality is not None:
            if quality.startswith(DATA_QUALITY_PREFIX) and quality not in passthrough.values():
                passthrough[index] = quality
            else:
                problem(quality if not quality.startswith(DATA_QUALITY_PREFIX) else
                        _("column {name!r} appears twice").format(name=quality), shown, index)
            continue
        lines = split_header_cell(header)
        if lines is None:
            problem(_("header must be 'name' or 'name[unit]'"), shown, index)
            continue
        if any(name in ambiguous for name, _u in lines):
            name = next(name for name, _u in lines if name in ambiguous)
            problem(_("header {name!r} is an alias of several parameters ({parameters}): write the parameter name "
                      "instead").format(name=name, parameters=", ".join(sorted(ambiguous[name]))), shown, index)
            continue
        canonicals = {canonical_name(name, names) for name, _u in lines}
        units = {u.strip() for _n, u in lines if u is not None}
        if None in canonicals and len(canonicals) > 1:  # one line names a column, another is no name at all
            meant = next(c for c in canonicals if c is not None)
            odd = next(name for name, _u in lines if canonical_name(name, names) is None)
            problem(_("the line {line!r} of this header is not a column name (the header names {column} on another "
                      "line): put a unit in square brackets, other text in a column of its own").format(
                line=odd, column=meant), shown, index)
            if meant not in columns:
                columns[meant] = (index, units.pop() if len(units) == 1 else None, shown)
            continue
        if None in canonicals:
            unknown = next(name for name, _u in lines if canonical_name(name, names) is None)
            hint, meant, meant_unit = _misspelling(unknown, lines, names)
            if hint is None and not units:
                if shown in RESERVED_RESULT_NAMES or shown.startswith(RESERVED_RESULT_PREFIXES):
                    problem(_("column {name!r} is none of koken's, but a result column has that name: rename it "
                              "(e.g. {suggestion!r})").format(name=shown, suggestion=f"{shown} (own)"), shown, index)
                elif shown in passthrough.values():
                    problem(_("column {name!r} appears twice").format(name=shown), shown, index)
                else:
                    passthrough[index] = shown
                continue
            problem(hint or _("unknown column {name!r}: not a standard column nor a parameter of any "
                              "methodology").format(name=unknown) + _guess_encoding(encoding, unknown), shown, index)
            if meant is not None and meant not in columns:  # read as the column it was meant to be, so that
                columns[meant] = (index, meant_unit, shown)  # the rows' problems come now too (nothing is written)
            continue
        if len(canonicals) > 1:
            problem(_("the lines of this header name different columns ({columns})").format(
                columns=", ".join(sorted(canonicals))), shown, index)
            continue
        if len(units) > 1:
            problem(_("the lines of this header give different units ({units})").format(units=", ".join(sorted(units))),
                    shown, index)
            continue
        canonical = canonicals.pop()
        if canonical in columns:
            problem(_("column {name!r} appears twice (also as {other!r})").format(name=canonical,
                                                                                  other=columns[canonical][2]), shown, index)
            continue
        columns[canonical] = (index, units.pop() if units else None, shown)
    missing = [r for r in REQUIRED_COLUMNS if r not in columns and not (r == "methodology" and sheet_methodology)]
    if missing:
        for required in missing:
            problems.append(PortfolioError(_("required column {name!r} is missing").format(name=required), where))
        raise KokenErrors(problems)
    return Layout(path=path, encoding=encoding, width=len(headers), columns=columns,
                  expected_units=expected_units(library), sheet=sheet, header_row=header_row,
                  skipped_rows=tuple(skipped_rows), passthrough=passthrough, problems=tuple(problems),
                  methodology=sheet_methodology,
                  headed=frozenset(i for i, h in enumerate(headers) if fold_width(str(h)).strip()))


def _data_quality_column(header: str, names: Mapping[str, str]) -> str | None:
    """For a header ``data_quality:<parameter>`` (:data:`DATA_QUALITY_PREFIXES`, the parameter by its name or an
    alias): the result column ``data_quality:<parameter name>``, or a message when it names no parameter; None for
    any other header."""
    prefix = next((p for p in DATA_QUALITY_PREFIXES if header.lower().startswith(p)), None)
    if prefix is None:
        return None
    name = header[len(prefix):].strip()
    canonical = names.get(name)
    if canonical is None or canonical in STANDARD_COLUMNS:
        return _("column {header!r} declares the data quality of {name!r}, which is not a parameter of any "
                 "methodology").format(header=header, name=name)
    return DATA_QUALITY_PREFIX + canonical


def canonical_name(name: str, names: Mapping[str, str]) -> str | None:
    """A header line's canonical column: a standard column or parameter (by name or alias, from ``names``), or the
    bound of a parameter's value, ``<parameter>:low`` / ``<parameter>:high`` (:data:`BOUND_SUFFIXES`, also
    ``:下限`` / ``:上限``, the parameter by name or alias); None for any other name."""
    if name in names:
        return names[name]
    base, colon, suffix = name.rpartition(":")
    if not colon:
        return None
    parameter = names.get(base.strip())
    bound = next((b for b, words in BOUND_SUFFIXES.items() if suffix.strip().casefold() in words), None)
    if parameter is None or bound is None or parameter in STANDARD_COLUMNS:
        return None
    return f"{parameter}:{bound}"


def bound_of(column: str) -> tuple[str, str] | None:
    """``(parameter, "low" | "high")`` for a canonical bound column (``annual_energy:low``), else None."""
    parameter, colon, bound = column.rpartition(":")
    return (parameter, bound) if colon and bound in BOUND_SUFFIXES else None


def _normalised(name: str) -> str:
    """A name compared for containment: case folded, spaces, underscores, hyphens and slashes taken out."""
    return _SEPARATORS.sub("", fold_width(name).casefold())


def _misspelling(unknown: str, lines: list[tuple[str, str | None]],
                 names: Mapping[str, str]) -> tuple[str | None, str | None, str | None]:
    """For a header that looks like one of koken's columns written wrongly: (the message, the column it was
    meant to be and its unit, when that is clear); (None, None, None) for a column of the company's own.

    Looks like one of koken's: a column's name followed by a unit in brackets or parentheses (``出荷台数（万台）``,
    ``排出係数【kg-CO2/kWh】``), a header that holds a column's name (``CO2排出係数``, ``Grid Emission Factor``,
    ``排出係数 kg-CO2/kWh``), or one close to a name (``basline_annual_energy``)."""
    unit = next((u for _n, u in lines if u), None)
    parenthesised = _parenthesised_unit(unknown)
    if parenthesised and parenthesised[0] in names:
        name, inner = parenthesised
        return _("unknown column {header!r}: a unit goes in square brackets: write {suggestion!r}").format(
            header=unknown, suggestion=f"{name}[{inner}]"), names[name], inner
    written = _normalised(unknown)
    contained = sorted((n for n in names if len(_normalised(n)) >= CONTAINED_NAME and _normalised(n) in written),
                       key=lambda n: -len(_normalised(n)))
    if contained:
        suggestion = f"{contained[0]}[{unit}]" if unit else contained[0]
        return _("unknown column {name!r}: it holds the column name {known!r}; write {suggestion!r} for that input, "
                 "or give a column of your own a name without it").format(
            name=unknown, known=contained[0], suggestion=suggestion), names[contained[0]], unit
    close = difflib.get_close_matches(unknown, list(names), n=3, cutoff=CLOSE_MATCH)
    if close:
        suggestions = [repr(f"{c}[{unit}]" if unit else c) for c in close]
        return _("unknown column {name!r}; did you mean {suggestion}?").format(
            name=unknown, suggestion=_(" or ").join(suggestions)), names[close[0]] if len(close) == 1 else None, unit
    if unit is not None:
        close = difflib.get_close_matches(unknown, list(names), n=1, cutoff=0.6)
        if close:
            return _("unknown column {name!r} (a column with a unit is read as an input); did you mean "
                     "{suggestion!r}?").format(name=unknown, suggestion=f"{close[0]}[{unit}]"), None, None
        return _("unknown column {name!r}: a column with a unit is read as an input, but no methodology has this "
                 "parameter").format(name=unknown), None, None
    return None, None, None


def _guess_encoding(encoding: str, name: str) -> str:
    if encoding in ("cp932", "utf-8") and not name.isascii():
        return _("; the file was read as {encoding}: if the headers look garbled, give --encoding").format(
            encoding=encoding)
    return ""


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


def cells_from_rows(path: str, width: int, cells: list[list[str]], rownums: list[int], sheet: str | None = None) -> Cells:
    """Rows of cell texts (CSV, XLSX, YAML) → :class:`Cells`; a row longer than the header is refused.

    Raises:
        KokenErrors: rows with more (non-empty) cells than the header has columns.
    """
    structural = []
    fixed = []
    for r, n in zip(cells, rownums):
        if len(r) != width:
            if any(str(c).strip() for c in r[width:]):
                structural.append(PortfolioError(_("row has {cells} cells but the header has {width}").format(
                    cells=len(r), width=width), Location(file=path, sheet=sheet, row=n)))
            r = (list(r) + [""] * (width - len(r)))[:width]
        fixed.append(r)
    if structural:
        raise KokenErrors(structural)
    block = np.empty((len(fixed), width), dtype=object)
    if fixed:
        block[:] = fixed
    return Cells(columns=[block[:, j] for j in range(width)], rows=np.asarray(rownums, dtype=int))


def split_units_row(layout: Layout, block: Cells) -> tuple[Layout, Cells, bool]:
    """Take the units row (a row right under the header whose ``methodology`` cell or leftmost cell says ``unit``,
    ``units`` or ``単位``) out of the first block of a table and put its units into the layout.

    Returns:
        (layout with the row's units, the block without the row, whether there was a units row).
    Raises:
        KokenErrors: a column has a unit both in its header and in the units row.
    """
    first = None
    for i in range(len(block.rows)):
        if any(cell_text(column[i]) for column in block.columns):
            first = i
            break
    if first is None:
        return layout, block, False
    row = {j: cell_text(column[first]) for j, column in enumerate(block.columns)}
    numeric = {i for name, (i, _u, _h) in layout.columns.items() if name not in _TEXT_COLUMNS}
    says = [j for j, text in row.items() if j not in numeric and text.lower() in UNITS_ROW_MARKERS]
    given = [row[j] for j in numeric if row[j]]
    if any(not np.isnan(parse_numbers(np.array([t], dtype=object))[0]) for t in given):
        return layout, block, False  # a number where a unit would be: a product line (its label may say "Units")
    if not says:  # no 単位 label (cleared, or hidden by a header merged down): a row of units only is one too
        mcol = layout.columns.get("methodology", (None,))[0]
        if not given or (mcol is not None and row.get(mcol)) or not all(_is_unit(t) for t in given):
            return layout, block, False
    columns = dict(layout.columns)
    structural = []
    own = [(None, (index, None, header)) for index, header in layout.passthrough.items()]
    for canonical, (index, unit, header) in list(columns.items()) + own:
        cell = cell_text(block.columns[index][first])
        if cell and index not in says:
            if canonical is None:
                structural.append(PortfolioError(_(
                    "unknown column {name!r}: the units row gives it a unit ({unit}), so it is read as an input, but "
                    "no methodology has this parameter").format(name=header, unit=cell),
                    layout.where(int(block.rows[first]), header)))
                continue
            if unit:
                structural.append(PortfolioError(
                    _("unit given both in the header ({header_unit}) and the units row ({row_unit})").format(
                        header_unit=unit, row_unit=cell), layout.where(int(block.rows[first]), header)))
            columns[canonical] = (index, cell, header)
    if structural:
        raise KokenErrors(structural)
    rest = np.ones(len(block.rows), dtype=bool)
    rest[first] = False
    block = Cells(columns=[column[rest] if isinstance(column, np.ndarray) else column.filter(rest)
                           for column in block.columns], rows=block.rows[rest])
    return dataclasses.replace(layout, columns=columns), block, True


_TEXT_COLUMNS = frozenset({"product_line", "methodology", "fiscal_year", "market", "region"})
"""Standard columns that hold text (or years), not quantities: a units row has no unit for them."""


def _is_unit(text: str) -> bool:
    """Whether a cell of a units row is a unit koken reads (``万台``, ``kWh/yr``)."""
    from koken.base.units import parse_unit

    try:
        parse_unit(text)
    except KokenError:
        return False
    return True


def cell_text(value) -> str:
    """One cell as stripped, width-folded text ('' for an empty cell or NaN)."""
    if hasattr(value, "as_py"):  # a cell of an Arrow column
        value = value.as_py()
    if isinstance(value, float):
        return "" if np.isnan(value) else f"{value:.15g}"
    return fold_width(str(value)).strip()


