"""The main job: a portfolio → per-product-line avoided emissions (one vectorised batch per methodology).

Result columns name their units (``single_year[t-CO2e]``). Single-year and lifetime figures stand
side by side and are never added together, and totals are kept per fiscal year: the GHG Protocol
(Scope 3 Standard, ch. 9: avoided emissions reported separately) and WBCSD's Guidance on Avoided
Emissions (2023, step 1: identify the timeframe) both keep timeframes apart.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pint

from koken.base.errors import (
    EvaluationError,
    KokenError,
    KokenErrors,
    Location,
    PortfolioError,
)
from koken.base.grouping import group_codes
from koken.base.i18n import _
from koken.base.units import is_count_unit, is_ghg_amount, names_co2_only
from koken.base.version import __version__
from koken.base.vocabulary import AVOIDED_COLUMN, FIGURES, RESULT_COLUMNS
from koken.factors import FACTOR_LABEL, FactorOrigin, describe, fill_from_tables, gwp_rule, load_factor_tables
from koken.methodology import Methodology
from koken.methodology.evaluate import BatchResult, evaluate, missing_value
from koken.portfolio.build import DOMESTIC_REGION, Portfolio
from koken.portfolio.quantities import column_quantity


@dataclass(frozen=True)
class Batch:
    """One methodology's rows: their positions in the portfolio, inputs and results (for details)."""

    methodology: Methodology
    index: np.ndarray
    inputs: dict[str, pint.Quantity]
    result: BatchResult
    factor_origins: dict[str, FactorOrigin] = field(default_factory=dict)


@dataclass(frozen=True)
class Calculation:
    """Results of a portfolio: one row per product line, plus what produced them.

    Attributes:
        table: pandas DataFrame with :data:`RESULT_COLUMNS` (and, from a workbook, ``sheet`` after ``row``; then
            the company's own columns carried through, as written), in the portfolio's row order.
        portfolio: the input.
        methodologies: the methodologies used, by id.
        batches: per methodology, inputs and all step values (for detailed output and traces).
    """

    table: pd.DataFrame
    portfolio: Portfolio
    methodologies: dict[str, Methodology]
    batches: list[Batch] = field(default_factory=list)
    options: dict = field(default_factory=dict)
    """How the run was asked for (encoding, sheet, methodology folder), recorded in results."""

    def provenance(self) -> dict:
        """What produced the results (see :func:`provenance`)."""
        return provenance(self.portfolio.path, self.portfolio.sha256, self.portfolio.encoding,
                          self.methodologies.values(), self.options, self.portfolio.tables,
                          fiscal_years=self.table["fiscal_year"].unique().tolist())


def provenance(path: str, sha256: str, encoding: str, methodologies, options: Mapping[str, object],
               read_tables: Sequence[dict] = (), fiscal_years: Sequence[int] = ()) -> dict:
    """What produced results: koken version, the input file's hash and encoding, each methodology's id,
    version and content hash, the factor tables (with content hashes), the GWP sets used and the run's options.

    Args:
        path, sha256, encoding: the input file, its ``sha256:<hex>`` and how it was read.
        methodologies: the compiled methodologies the results used.
        options: how the run was asked for (None values are left out); ``gwp_rule`` names the GWP rule.
        read_tables: per table read (a workbook's sheets), its header row, the rows above it and the columns
            carried through (``input.tables``; left out for a one-table file whose header is its first row).
        fiscal_years: the fiscal years of the results: ``gwp_set`` is the GWP set (or sets, ``, ``-joined) the run's
            rule gives them, ``gwp`` the rule and the set of each fiscal year.
    """
    rule = gwp_rule(options.get("gwp_rule"))
    tables, _problems = load_factor_tables()
    return {
        "koken_version": __version__,
        "input": {"file": path, "sha256": sha256, "encoding": encoding,
                  **({"tables": list(read_tables)} if any(t != {"header_row": 1} for t in read_tables) else {})},
        "methodologies": {m.id: {"version": m.version, "content_hash": m.content_hash, "path": m.path,
                                 "result_type": m.spec.result_type,
                                 "contribution_role": m.spec.contribution_role,
                                 "baseline_type": m.spec.baseline.type}
                          for m in sorted(methodologies, key=lambda m: m.id)},
        "factor_tables": {t.id: {"content_hash": t.content_hash, "unit": t.spec.unit}
                          for t in sorted(tables.values(), key=lambda t: t.id)},
        "gwp_set": rule.used(fiscal_years),
        "gwp": rule.record(fiscal_years),
        "options": {k: v for k, v in sorted(options.items()) if v is not None},
    }


def calculate(portfolio: Portfolio, library: Mapping[str, Methodology],
              options: Mapping[str, object] | None = None) -> Calculation:
    """Compute avoided emissions for every product line of ``portfolio``.

    Cell problems found while reading (``read_portfolio(..., collect=True)``), unit problems and
    evaluation problems (missing or out-of-range values, non-finite results) are reported together;
    a row with a problem in a cell is not evaluated further, so each problem is reported once.

    Args:
        portfolio: from :func:`koken.portfolio.build.read_portfolio`.
        library: methodologies by id.
        options: how the run was asked for, recorded in the result's provenance.
    Returns:
        Calculation with one result row per product line.
    Raises:
        KokenErrors: every problem found, sorted by row.
    """
    try:
        rule = gwp_rule((options or {}).get("gwp_rule"))
    except KokenError as err:
        raise KokenErrors([err]) from None
    errors: list[KokenError] = list(portfolio.problems)
    invalid = portfolio.invalid.copy() if portfolio.invalid is not None else np.zeros(len(portfolio), bool)
    batches: list[Batch] = []
    used: dict[str, Methodology] = {}
    codes, ids = pd.factorize(pd.Series(portfolio.methodology, dtype=object), sort=True)
    known = np.array([mid in library for mid in ids], dtype=bool)
    skip = invalid | ~known[codes] if len(ids) else invalid.copy()  # unknown ids were reported while reading
    for name, (values, _units, header) in portfolio.parameters.items():  # a value for another methodology
        declares = np.array([bool(k) and name in library[mid].parameters for mid, k in zip(ids, known)], dtype=bool)
        for i in np.flatnonzero(~np.isnan(values) & ~skip & ~declares[codes]):
            m = library[ids[codes[i]]]
            errors.append(PortfolioError(_("{column} has a value but methodology {methodology!r} has no such "
                                           "parameter (its parameters: {parameters})").format(
                column=header, methodology=m.id, parameters=", ".join(m.parameters)),
                portfolio.location(int(i), column=header)))
            invalid[i] = True
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(len(ids) + 1))
    out = _ResultColumns(portfolio)
    for k, mid in enumerate(ids):
        idx = order[starts[k]:starts[k + 1]]
        if known[k]:  # rows left out for another problem: their empty required cells are reported now too
            errors.extend(_missing_required(library[mid], portfolio, idx[invalid[idx]], errors))
        idx = idx[~invalid[idx]]
        if not len(idx) or not known[k]:
            continue
        m = library[mid]
        used[mid] = m
        locs = _RowLocations(portfolio, idx)
        skip = np.zeros(len(idx), dtype=bool)
        columns = {}
        for name, p in m.parameters.items():
            if name not in portfolio.parameters:
                continue
            values, units, header = portfolio.parameters[name]
            column, problems = column_quantity(values[idx], _take(units, idx), p.unit, m.spec.hours_per_year, header,
                                               lambda j, h=header, locs=locs: locs[j].at(column=h))
            errors.extend(problems)
            skip |= column.failed
            columns[name] = column.quantity
        values, units, header = portfolio.units_shipped
        shipped, problems = column_quantity(values[idx], _take(units, idx), m.shipment_unit, m.spec.hours_per_year,
                                            header, lambda j, h=header, locs=locs: locs[j].at(column=h),
                                            count=is_count_unit(m.shipment_unit))
        errors.extend(problems)
        skip |= shipped.failed
        errors.extend(_missing_required(m, portfolio, idx[skip], errors))
        keep = np.flatnonzero(~skip)
        if not len(keep):
            continue
        inputs = {name: q[keep] for name, q in columns.items()}
        rows = idx[keep]
        inputs, origins, problems, unserved = fill_from_tables(
            m.parameters, inputs, _regions(portfolio, rows), portfolio.fiscal_year[rows], len(rows),
            _RowLocations(portfolio, rows), allow_stale=bool((options or {}).get("allow_stale_factors")), gwp=rule)
        errors.extend(problems)
        if unserved.any():
            served = np.flatnonzero(~unserved)
            inputs = {name: q[served] for name, q in inputs.items()}
            origins = {name: o.take(served) for name, o in origins.items()}
            rows = rows[served]
            keep = keep[served]
        if not len(rows):
            continue
        try:
            result = evaluate(m, inputs, shipped.quantity[keep], _RowLocations(portfolio, rows))
        except KokenErrors as errs:
            errors.extend(_as_written(errs.errors, portfolio))
            continue
        batches.append(Batch(methodology=m, index=rows, inputs=inputs, result=result, factor_origins=origins))
        out.fill(m, rows, result, origins, _co2_only_column(m, portfolio, rows, origins, result.defaults_used))
    if errors:
        placed = [type(e)(e.message, portfolio.place(e.location)) if e.location.sheet else e for e in errors]
        raise KokenErrors(sorted(placed, key=lambda e: (e.location.sheet or "", e.location.row or 0,
                                                        e.location.column or "")))
    table = out.table()
    with np.errstate(over="ignore"):  # an overflowing sum is reported just below
        totals = table[["single_year[t-CO2e]", "lifetime[t-CO2e]"]].abs().sum().to_numpy()
    if not np.isfinite(totals).all():
        raise KokenErrors([EvaluationError(totals_overflow_message(), Location(file=portfolio.path))])
    return Calculation(table=table, portfolio=portfolio, methodologies=used, batches=batches,
                       options={k: v for k, v in (options or {}).items() if v is not None})


def _missing_required(m: Methodology, portfolio: Portfolio, rows: np.ndarray,
                      found: list[KokenError]) -> list[KokenError]:
    """For rows not evaluated because of another problem: their empty cells of parameters that have neither a
    default nor a factor table (the evaluator would report these, but only for rows it evaluates), so that every
    problem of a file is reported in one run. A cell with a problem of its own (``found``: text that is not a
    number, say) is not empty and is not reported again."""
    if not len(rows):
        return []
    flagged = {(e.location.sheet, e.location.row, e.location.column) for e in found}
    problems = []
    for name, p in m.parameters.items():
        if p.default is not None or p.factor_table is not None or not len(rows):
            continue
        column = portfolio.parameters.get(name)
        empty = np.ones(len(rows), dtype=bool) if column is None else np.isnan(column[0][rows])
        header = column[2] if column is not None else name
        for i in rows[empty]:
            where = portfolio.location(int(i), column=header)
            if (where.sheet, where.row, where.column) not in flagged:
                problems.append(PortfolioError(missing_value(m, p), where))
    return problems


def _as_written(errors: list[KokenError], portfolio: Portfolio) -> list[KokenError]:
    """Evaluation problems name a parameter; name the column as the file writes it (``出荷台数[万台]`` for
    ``units_shipped``) where the file has that column."""
    headers = {name: header for name, (_values, _units, header) in portfolio.parameters.items()}
    headers["units_shipped"] = portfolio.units_shipped[2]
    return [type(e)(e.message, dataclasses.replace(e.location, column=headers[e.location.column]))
            if e.location.column in headers else e for e in errors]


def _take(units: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``units[idx]``, keeping a one-unit column (a zero-stride broadcast) a broadcast."""
    return units[:len(idx)] if units.strides == (0,) and len(units) >= len(idx) else units[idx]


class _ResultColumns:
    """The result table's columns, allocated once for the whole portfolio and filled methodology by
    methodology at each row's own position (no per-methodology frames to concatenate and sort)."""

    def __init__(self, portfolio: Portfolio):
        self._p = portfolio
        n = len(portfolio)
        self._filled = np.zeros(n, dtype=bool)
        self._text = {c: np.empty(n, dtype=object) for c in (
            "units_shipped_as_entered", "defaults_used", "factors_from_tables", "co2_only_inputs")}
        self._methodology = np.full(n, -1, dtype=np.int64)  # per row, position in _used
        self._used: list[Methodology] = []
        self._numbers = {c: np.full(n, np.nan) for c in (
            "units_shipped", AVOIDED_COLUMN, "operating_years[yr]", *FIGURES)}

    def fill(self, m: Methodology, rows: np.ndarray, result: BatchResult,
             origins: dict[str, FactorOrigin], co2_only: np.ndarray) -> None:
        if self._p.units_shipped_entered is not None:
            entered = self._p.units_shipped_entered[rows]
        else:
            values, units, _header = self._p.units_shipped
            entered = [f"{v:.15g} {u}".strip() for v, u in zip(values[rows].tolist(), units[rows])]
        text, numbers = self._text, self._numbers
        self._methodology[rows] = len(self._used)
        self._used.append(m)
        text["units_shipped_as_entered"][rows] = entered
        text["defaults_used"][rows] = _defaults_column(result.defaults_used, len(rows))
        text["factors_from_tables"][rows] = _factors_column(origins, len(rows))
        text["co2_only_inputs"][rows] = co2_only
        numbers["units_shipped"][rows] = result.units_shipped.to(m.shipment_unit).magnitude
        numbers[AVOIDED_COLUMN][rows] = result.avoided_per_unit_year.magnitude
        numbers["operating_years[yr]"][rows] = result.operating_years.magnitude
        numbers["single_year[t-CO2e]"][rows] = result.single_year.magnitude
        numbers["lifetime[t-CO2e]"][rows] = result.lifetime.magnitude
        self._filled[rows] = True

    def table(self) -> pd.DataFrame:
        """The rows computed, in portfolio order, with :data:`RESULT_COLUMNS` (``sheet`` after ``row`` for a
        workbook), then the company's own columns (:attr:`Portfolio.passthrough`)."""
        p, at = self._p, np.flatnonzero(self._filled)
        # Columns with few distinct values are categorical (codes and their labels, no text per row).
        columns = {"row": p.rows[at], "product_line": pd.Series(p.product_line[at], dtype=object),
                   "fiscal_year": p.fiscal_year[at], "market": pd.Categorical(p.market[at]),
                   "region": pd.Categorical(p.region[at]),
                   "units_shipped_as_entered": pd.Series(self._text["units_shipped_as_entered"][at], dtype=object),
                   "defaults_used": pd.Categorical(self._text["defaults_used"][at]),
                   "factors_from_tables": pd.Categorical(self._text["factors_from_tables"][at]),
                   "co2_only_inputs": pd.Categorical(self._text["co2_only_inputs"][at])}
        which = self._methodology[at]  # per-methodology constants, built from codes
        for column, attribute in (("methodology", lambda m: m.id), ("methodology_version", lambda m: m.version),
                                  ("category", lambda m: m.category),
                                  ("functional_unit", lambda m: m.spec.functional_unit.unit)):
            codes, labels = pd.factorize(np.array([attribute(m) for m in self._used] or [""], dtype=object))
            columns[column] = pd.Categorical.from_codes(codes[which] if len(which) else which, categories=labels)
        columns.update({c: v[at] for c, v in self._numbers.items()})
        names = list(RESULT_COLUMNS)
        if p.sheet is not None:
            columns["sheet"] = pd.Categorical(p.sheet[at])
            names.insert(1, "sheet")
        table = pd.DataFrame({c: columns[c] for c in names})
        for header, cells in p.passthrough.items():
            table[header] = pd.Series(cells[at], dtype=object)
        return table


def totals_overflow_message() -> str:
    """The message for a portfolio whose rows are finite but whose totals overflow."""
    return _("the portfolio's totals overflow (beyond 1e308 t-CO2e): every row is finite but their sum is not; "
             "check units_shipped and units")




def _regions(portfolio: Portfolio, rows: np.ndarray) -> np.ndarray:
    """Per row the region for factor lookups: as given, or JP for a domestic row without one."""
    region = portfolio.region[rows].astype(object)
    domestic = portfolio.market[rows] == "domestic"
    return np.where((region == "") & domestic, DOMESTIC_REGION, region)


def _co2_only_column(m: Methodology, portfolio: Portfolio, rows: np.ndarray, origins: dict[str, FactorOrigin],
                     defaults_used: Mapping[str, np.ndarray]) -> np.ndarray:
    """Per row the ``;``-joined names of the inputs given in CO2 alone (``kg-CO2/kWh``) while the figures are CO2e:
    the unit as the portfolio wrote it (header, units row or cell), the unit of the factor table that supplied the
    value, or the methodology's declared unit for a default. koken counts CO2 as CO2e (GWP 1), so such a value
    leaves the other gases out; the mark says so where the figure is recorded (each distinct unit text is read once).
    """
    n = len(rows)
    column = np.full(n, "", dtype=object)
    for name, p in m.parameters.items():
        if not is_ghg_amount(p.unit):
            continue
        mark = np.zeros(n, dtype=bool)
        if name in portfolio.parameters:
            values, units, _header = portfolio.parameters[name]
            present = ~np.isnan(values[rows])
            texts = _take(units, rows)
            for text in pd.unique(np.asarray(texts[present], dtype=object)) if present.any() else ():
                if names_co2_only(str(text)):
                    mark |= present & (texts == text)
        origin = origins.get(name)
        if origin is not None and names_co2_only(origin.unit_text):
            mark |= origin.from_table
        if name in defaults_used and names_co2_only(p.unit_text):
            mark |= defaults_used[name]
        column = np.where(mark, np.where(column == "", name, column + ";" + name), column)
    return column


class _RowLocations:
    """Locations of a methodology group's rows in the portfolio file, built on demand for errors."""

    def __init__(self, portfolio: Portfolio, idx: np.ndarray):
        self._portfolio, self._idx = portfolio, idx

    def __getitem__(self, j: int):
        return self._portfolio.location(int(self._idx[j]))

    __call__ = __getitem__

    def __len__(self) -> int:
        return len(self._idx)


def _defaults_column(defaults_used: dict[str, np.ndarray], n: int) -> np.ndarray:
    """``;``-joined names of defaulted parameters per row, built with array operations."""
    column = np.full(n, "", dtype=object)
    for name, mask in defaults_used.items():
        column = np.where(mask, np.where(column == "", name, column + ";" + name), column)
    return column


def _factors_column(origins: dict[str, FactorOrigin], n: int) -> np.ndarray:
    """Per row ``name=table[keys] (basis, status)`` for each parameter a factor table supplied, ``;``-joined
    (each distinct label is built once)."""
    column = np.full(n, "", dtype=object)
    for name, o in origins.items():
        tables = o.tables if o.tables is not None else np.full(len(o.keys), o.table, dtype=object)
        codes, keys = group_codes([np.asarray(o.keys, dtype=object), np.asarray(o.stale, dtype=bool),
                                   np.asarray(o.bases, dtype=object), np.asarray(o.statuses, dtype=object),
                                   np.asarray(tables, dtype=object)])
        labels = np.array([FACTOR_LABEL.format(name=name, table=table, key=key,
                                               described=describe(basis or None, status or None))
                           + (" (stale: earlier year)" if stale else "")
                           for key, stale, basis, status, table in keys], dtype=object)
        label = labels[codes] if n else column
        column = np.where(o.from_table, np.where(column == "", label, column + ";" + label), column)
    return column

