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
from koken.base.grouping import group_codes, group_codes_within
from koken.base.i18n import _
from koken.base.units import is_count_unit, is_ghg_amount, names_co2_only, registry
from koken.base.version import __version__
from koken.base.vocabulary import (
    AVOIDED_COLUMN,
    AVOIDED_SHARE_COLUMN,
    BASELINE_COLUMN,
    BASELINE_LIFETIME_COLUMN,
    CATEGORY11_COLUMN,
    DISTRIBUTION_KINDS,
    FIGURES,
    INSTALLED_BASE_COLUMN,
    LEGITIMACY_FLAGS,
    PRODUCT_COLUMN,
    RESULT_COLUMNS,
)
from koken.factors import FACTOR_LABEL, FactorOrigin, describe, fill_from_tables, gwp_rule, load_factor_tables
from koken.methodology import Methodology
from koken.methodology.evaluate import BatchResult, evaluate, missing_value, value_problems
from koken.portfolio.build import DOMESTIC_REGION, Portfolio
from koken.portfolio.quantities import column_quantity
from koken.survival import Survival
from koken.uncertainty import DistributionError, check_shape
from koken.variants import VARIANT_FIGURES, VARIANTS, factor_path, match_rows, read_customer_data, variant_figures


@dataclass(frozen=True)
class Batch:
    """One methodology's rows: their positions in the portfolio, inputs and results (for details)."""

    methodology: Methodology
    index: np.ndarray
    inputs: dict[str, pint.Quantity]
    result: BatchResult
    factor_origins: dict[str, FactorOrigin] = field(default_factory=dict)
    uncertain: dict[str, UncertainInputs] = field(default_factory=dict)
    """Parameter → the rows' uncertain values given in the portfolio (only parameters that have some)."""


@dataclass(frozen=True)
class UncertainInputs:
    """One parameter's uncertain values on a batch's rows, in the parameter's declared unit (docs/uncertainty.md).

    Attributes:
        kind: int8 per row, the position in :data:`koken.base.vocabulary.DISTRIBUTION_KINDS` (−1: a point value).
        low, high: float per row: the bounds (uniform, triangular) or P5 and P95 (normal, lognormal); NaN on points.
        The central value is the row's evaluated input.
    """

    kind: np.ndarray
    low: np.ndarray
    high: np.ndarray


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
    customer_matched: frozenset[int] = frozenset()
    """The customer-data rows that applied to a product line of this portfolio (koken.variants)."""

    def provenance(self) -> dict:
        """What produced the results (see :func:`provenance`)."""
        return provenance(self.portfolio.path, self.portfolio.sha256, self.portfolio.encoding,
                          self.methodologies.values(), self.options, self.portfolio.tables,
                          fiscal_years=self.table["fiscal_year"].unique().tolist())


def provenance(path: str, sha256: str, encoding: str, methodologies, options: Mapping[str, object],
               read_tables: Sequence[dict] = (), fiscal_years: Sequence[int] = ()) -> dict:
    """What produced results: koken version, the input file's hash and encoding, each methodology's id,
    version and content hash (with its title and the descriptions of its parameters and steps, in Japanese and
    English, so that a report made from the result can name them), the factor tables (with content hashes), the
    GWP sets used, the methodologies' legitimacy flags (:func:`legitimacy_flags`) and the run's options.

    Args:
        path, sha256, encoding: the input file, its ``sha256:<hex>`` and how it was read.
        methodologies: the compiled methodologies the results used.
        options: how the run was asked for (None values are left out); ``gwp_rule`` names the GWP rule.
        read_tables: per table read (a workbook's sheets), its header row, the rows above it and the columns
            carried through (``input.tables``; left out for a one-table file whose header is its first row).
        fiscal_years: the fiscal years of the results: ``gwp_set`` is the GWP set (or sets, ``, ``-joined) the run's
            rule gives them, ``gwp`` the rule and the set of each fiscal year; with ``installed_base_year`` in
            ``options`` that year too (the installed base recomputes every vintage at its factors, GWPs included).
    """
    rule = gwp_rule(options.get("gwp_rule"))
    years = {int(y) for y in fiscal_years}
    if years and options.get("installed_base_year") is not None:
        years.add(int(options["installed_base_year"]))
    fiscal_years = sorted(years)
    tables, _problems = load_factor_tables()
    return {
        "koken_version": __version__,
        "input": {"file": path, "sha256": sha256, "encoding": encoding,
                  **({"tables": list(read_tables)} if any(t != {"header_row": 1} for t in read_tables) else {})},
        "methodologies": {m.id: {"version": m.version, "content_hash": m.content_hash, "path": m.path,
                                 "result_type": m.spec.result_type,
                                 "contribution_role": m.spec.contribution_role,
                                 "baseline_type": m.spec.baseline.type,
                                 **({"extends": m.extends} if m.extends else {}),
                                 "status": m.spec.status.state if m.spec.status is not None else None,
                                 "fossil_lock_in": m.spec.fossil_lock_in, "factor_basis": m.spec.factor_basis,
                                 "category11_step": m.spec.category11_step,
                                 "title": {"ja": m.spec.title.ja, "en": m.spec.title.en},
                                 "descriptions": _descriptions(m)}
                          for m in sorted(methodologies, key=lambda m: m.id)},
        "factor_tables": {t.id: {"content_hash": t.content_hash, "unit": t.spec.unit}
                          for t in sorted(tables.values(), key=lambda t: t.id)},
        "gwp_set": rule.used(fiscal_years),
        "gwp": rule.record(fiscal_years),
        "legitimacy": legitimacy_flags(methodologies),
        "options": {k: v for k, v in sorted(options.items()) if v is not None},
    }


def _descriptions(m: Methodology) -> dict[str, dict[str, str]]:
    """The descriptions of a methodology's parameters and steps that have one, by name: ``{"ja": …, "en": …}``."""
    out = {name: p.description for name, p in m.spec.parameters.items() if p.description is not None}
    out.update({f.name: f.description for f in m.spec.formulas if f.description is not None})
    return {name: {"ja": d.ja, "en": d.en} for name, d in out.items()}


def legitimacy_flags(methodologies) -> list[dict]:
    """The legitimacy flags (:data:`~koken.base.vocabulary.LEGITIMACY_FLAGS`) of the methodologies a result used,
    each with its text in Japanese and English, for every output to show: ``[{"methodology", "flag", "ja",
    "en"}]`` sorted by methodology id (empty when none is flagged)."""
    return [{"methodology": m.id, "flag": flag.id, "ja": flag.ja, "en": flag.en}
            for m in sorted(methodologies, key=lambda m: m.id) for flag in LEGITIMACY_FLAGS
            if getattr(m.spec, flag.id)]


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
        given = np.flatnonzero(~np.isnan(values))  # a parameter's column is mostly empty: only its values are looked at
        for i in given[~skip[given] & ~declares[codes[given]]]:
            m = library[ids[codes[i]]]
            errors.append(PortfolioError(_("{column} has a value but methodology {methodology!r} has no such "
                                           "parameter (its parameters: {parameters})").format(
                column=header, methodology=m.id, parameters=", ".join(m.parameters)),
                portfolio.location(int(i), column=header)))
            invalid[i] = True
    customer, customer_rows, path = None, None, None
    regions = _regions(portfolio, np.arange(len(portfolio)))  # per row, once: each methodology takes its rows'
    if (options or {}).get("customer_data"):
        customer = read_customer_data(options["customer_data"]["file"])
        customer_rows, problems = match_rows(customer, portfolio.product_line, portfolio.fiscal_year, portfolio.market,
                                             regions, portfolio.location)
        errors.extend(problems)
    if (options or {}).get("factor_path"):
        path = factor_path(str(options["factor_path"]))
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(len(ids) + 1))
    out = _ResultColumns(portfolio)
    for k, mid in enumerate(ids):
        if not known[k]:
            continue
        idx = order[starts[k]:starts[k + 1]]
        m = library[mid]
        # Rows with a problem already (a cell, a value for another methodology) are not evaluated, but their other
        # cells are still read and checked (units, ranges, empty required cells): every problem in one run.
        flagged = _flagged_cells(portfolio, idx, invalid[idx], errors)
        if (~invalid[idx]).any():
            used[mid] = m
        locs = _RowLocations(portfolio, idx)
        skip = invalid[idx].copy()
        columns, failed = {}, {}
        for name, p in [*m.parameters.items(), ("units_shipped", None)]:
            if name == "units_shipped":
                values, units, header = portfolio.units_shipped
            elif name in portfolio.parameters:
                values, units, header = portfolio.parameters[name]
            else:
                continue
            column, problems = column_quantity(
                _without(values[idx], flagged.get(header)), _take(units, idx),
                m.shipment_unit if p is None else p.unit, m.spec.hours_per_year, header,
                lambda j, h=header, locs=locs: locs[j].at(column=h),
                count=p is None and is_count_unit(m.shipment_unit))
            errors.extend(problems)
            skip |= column.failed
            columns[name], failed[name] = column.quantity, column.failed
        shipped = columns.pop("units_shipped")
        uncertain = _uncertain_inputs(m, portfolio, idx, columns, locs, skip, errors)
        left_out = np.flatnonzero(invalid[idx])
        if len(left_out):
            errors.extend(_as_written(value_problems(
                m, {name: _unless(q[left_out], failed[name][left_out]) for name, q in columns.items()},
                _unless(shipped[left_out], failed["units_shipped"][left_out]), _RowLocations(portfolio, idx[left_out])),
                portfolio))
        errors.extend(_missing_required(m, portfolio, idx[skip], errors))
        keep = np.flatnonzero(~skip)
        if not len(keep):
            continue
        inputs = {name: q[keep] for name, q in columns.items()}
        rows = idx[keep]
        inputs, origins, problems, unserved = fill_from_tables(
            m.parameters, inputs, regions[rows], portfolio.fiscal_year[rows], len(rows),
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
            result = evaluate(m, inputs, shipped[keep], _RowLocations(portfolio, rows))
        except KokenErrors as errs:
            errors.extend(_as_written(errs.errors, portfolio))
            continue
        stock, variants = None, {}
        try:
            if (options or {}).get("installed_base_year") is not None:
                stock = installed_base(m, portfolio, rows, inputs, origins, shipped[keep], result, options)
            if customer is not None or path is not None:
                variants = variant_figures(m, portfolio.fiscal_year[rows], regions[rows], inputs, origins,
                                           shipped[keep], result, customer,
                                           customer_rows[rows] if customer_rows is not None else None, path,
                                           _RowLocations(portfolio, rows))
        except KokenErrors as errs:
            errors.extend(_as_written(errs.errors, portfolio))
            continue
        at = np.searchsorted(idx, rows)
        batches.append(Batch(methodology=m, index=rows, inputs=inputs, result=result, factor_origins=origins,
                             uncertain={name: UncertainInputs(u.kind[at], u.low[at], u.high[at])
                                        for name, u in uncertain.items()}))
        out.fill(m, rows, result, origins, _co2_only_column(m, portfolio, rows, origins, result.defaults_used),
                 stock, variants)
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
                       options={k: v for k, v in (options or {}).items() if v is not None},
                       customer_matched=frozenset(customer.matched) if customer is not None else frozenset())


def installed_base(m: Methodology, portfolio: Portfolio, rows: np.ndarray, inputs: Mapping[str, pint.Quantity],
                   origins: Mapping[str, FactorOrigin], shipped: pint.Quantity, result: BatchResult,
                   options: Mapping[str, object]) -> np.ndarray:
    """Each row's part of the installed-base annual figure of the reporting year (stock view; koken.survival).

    A row is a vintage: its units were shipped in its fiscal year v. In the reporting year Y ≥ v it adds
    units × in_service(Y − v) × avoided per unit and year × 1 year, the avoided emissions per unit recomputed with
    year Y's factors wherever the row's factors came from a table (a factor the row gives itself is kept as given).
    The shipment year's own rows (v = Y) add their single-year figure.

    Args:
        m: the methodology; rows: the rows' positions in the portfolio; inputs, origins: as evaluated (factor-table
            values filled in, and which); shipped: units shipped of the rows; result: their evaluation.
        options: ``installed_base_year`` (int) and ``survival`` (:meth:`koken.survival.Survival.record`).
    Returns:
        float array ``(len(rows),)`` in t-CO2e; NaN for a vintage shipped after the reporting year.
    Raises:
        KokenErrors: a factor table without year Y for a row that needs it (``allow_stale_factors`` applies).
    """
    year = int(options["installed_base_year"])
    survival = Survival(**dict(options.get("survival") or {"rule": "operating_years"}))
    age = (year - portfolio.fiscal_year[rows]).astype(float)
    out = np.full(len(rows), np.nan)
    past = age >= 0
    share = np.zeros(len(rows))
    share[past] = survival.in_service(age[past], result.operating_years.magnitude[past])
    single = result.single_year.magnitude.copy()  # units × avoided per unit × 1 year, at the shipment year's factors
    redo = np.flatnonzero((age > 0) & (share > 0))
    if len(redo):
        again = {}
        for name, q in inputs.items():
            magnitude = np.asarray(q.magnitude, dtype=float)[redo].copy()
            if name in origins:
                magnitude[origins[name].from_table[redo]] = np.nan  # looked up again, at year Y
            again[name] = registry().Quantity(magnitude, q.units)
        locs = _RowLocations(portfolio, rows[redo])
        filled, _origins, problems, _unserved = fill_from_tables(
            m.parameters, again, _regions(portfolio, rows[redo]), np.full(len(redo), year), len(redo), locs,
            allow_stale=bool(options.get("allow_stale_factors")), gwp=gwp_rule(options.get("gwp_rule")))
        if problems:
            raise KokenErrors(problems)
        single[redo] = evaluate(m, filled, shipped[redo], locs).single_year.magnitude
    out[past] = share[past] * single[past]
    return out


def _uncertain_inputs(m: Methodology, portfolio: Portfolio, idx: np.ndarray, columns: Mapping[str, pint.Quantity],
                      locs, skip: np.ndarray, errors: list[KokenError]) -> dict[str, UncertainInputs]:
    """The uncertain values of methodology ``m``'s rows ``idx`` in each parameter's declared unit; rows whose bounds
    cannot be converted, are out of order around the value (low ≤ value ≤ high) or, for a bounded kind (uniform,
    triangular), go beyond the parameter's declared range (± 5 % on a fraction of 0.98) are flagged in ``errors`` and
    ``skip`` (their own problem; normal and lognormal draws are truncated at the range instead)."""
    out = {}
    bounded = np.array([k in ("uniform", "triangular") for k in DISTRIBUTION_KINDS], dtype=bool)
    for name, p in m.parameters.items():
        column = portfolio.uncertain.get(name)
        if column is None or name not in columns:
            continue
        sub = column.take(idx)
        cell_header = portfolio.parameters[name][2]
        uncertain = (sub.kind >= 0) & ~skip
        if not uncertain.any():
            continue
        central = columns[name].to(p.unit).magnitude
        bounds = []
        for values, units, header in (sub.low, sub.high):
            q, problems = column_quantity(np.where(uncertain, values, np.nan), units, p.unit, m.spec.hours_per_year,
                                          header, lambda j, h=header, locs=locs: locs[j].at(column=h))
            errors.extend(problems)
            skip |= q.failed
            bounds.append(q.quantity.to(p.unit).magnitude)
        low, high = bounds
        with np.errstate(invalid="ignore"):
            disordered = uncertain & ~skip & ~((low <= central) & (central <= high))
            kinds = np.where(uncertain, sub.kind, 0)
            beyond = uncertain & ~skip & ~disordered & bounded[kinds] & (
                ((low < p.low) if p.low is not None else False) | ((high > p.high) if p.high is not None else False))
        for j in np.flatnonzero(disordered):
            try:
                check_shape(DISTRIBUTION_KINDS[kinds[j]], float(low[j]), float(central[j]), float(high[j]))
                reason = ""
            except DistributionError as err:
                reason = str(err)
            errors.append(PortfolioError(_("{name}: {reason} (in {unit})").format(name=name, reason=reason,
                                                                                  unit=p.unit_text),
                                         portfolio.location(int(idx[j]), column=sub.header(j, cell_header))))
        for j in np.flatnonzero(beyond):
            errors.append(PortfolioError(_("{name}: the range [{low:g}, {high:g}] {unit} goes beyond the allowed range "
                                           "[{floor}, {ceiling}] {unit}").format(
                name=name, low=low[j], high=high[j], unit=p.unit_text, floor="-inf" if p.low is None else f"{p.low:g}",
                ceiling="inf" if p.high is None else f"{p.high:g}"),
                portfolio.location(int(idx[j]), column=sub.header(j, cell_header))))
        skip |= disordered | beyond
        out[name] = UncertainInputs(np.where(uncertain, sub.kind, -1).astype(np.int8), low, high)
    return out


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


def _flagged_cells(portfolio: Portfolio, idx: np.ndarray, invalid: np.ndarray,
                   found: list[KokenError]) -> dict[str, np.ndarray]:
    """Header → mask over ``idx`` of the cells, on rows marked ``invalid``, that already have a problem in ``found``:
    their values are not read again (a number flagged for its missing unit would otherwise be reported twice)."""
    rows = np.flatnonzero(invalid)
    if not len(rows):
        return {}
    at = {(e.location.sheet, e.location.row, e.location.column) for e in found}
    headers = [portfolio.units_shipped[2], *(header for _values, _units, header in portfolio.parameters.values())]
    flagged = {}
    for header in headers:
        places = (portfolio.location(int(idx[j]), column=header) for j in rows)
        hit = np.array([(w.sheet, w.row, w.column) in at for w in places], dtype=bool)
        if hit.any():
            mask = np.zeros(len(idx), dtype=bool)
            mask[rows[hit]] = True
            flagged[header] = mask
    return flagged


def _without(values: np.ndarray, flagged: np.ndarray | None) -> np.ndarray:
    """``values`` with the ``flagged`` cells emptied (NaN)."""
    return values if flagged is None else np.where(flagged, np.nan, values)


def _unless(q: pint.Quantity, failed: np.ndarray) -> pint.Quantity:
    """Quantity array ``q`` emptied (NaN) where its unit ``failed`` (already reported)."""
    return q if not failed.any() else type(q)(np.where(failed, np.nan, q.magnitude), q.units)


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
        self._text = {"units_shipped_as_entered": np.empty(n, dtype=object)}
        self._labels = {c: _Labels(n) for c in ("defaults_used", "factors_from_tables", "co2_only_inputs")}
        self._methodology = np.full(n, -1, dtype=np.int64)  # per row, position in _used
        self._used: list[Methodology] = []
        self._variants: dict[str, np.ndarray] = {}
        self._numbers = {c: np.full(n, np.nan) for c in (
            "units_shipped", AVOIDED_COLUMN, "operating_years[yr]", *FIGURES, BASELINE_COLUMN, PRODUCT_COLUMN,
            AVOIDED_SHARE_COLUMN, BASELINE_LIFETIME_COLUMN, CATEGORY11_COLUMN)}

    def fill(self, m: Methodology, rows: np.ndarray, result: BatchResult,
             origins: dict[str, FactorOrigin], co2_only: tuple[np.ndarray, list[str]],
             installed: np.ndarray | None = None,
             variants: Mapping[str, np.ndarray] | None = None) -> None:
        if self._p.units_shipped_entered is None:  # else the portfolio's own texts are taken by table()
            values, units, _header = self._p.units_shipped
            self._text["units_shipped_as_entered"][rows] = [f"{v:.15g} {u}".strip()
                                                           for v, u in zip(values[rows].tolist(), units[rows])]
        numbers = self._numbers
        self._methodology[rows] = len(self._used)
        self._used.append(m)
        self._labels["defaults_used"].put(rows, *_defaults_column(result.defaults_used, len(rows)))
        self._labels["factors_from_tables"].put(rows, *_factors_column(origins, len(rows)))
        self._labels["co2_only_inputs"].put(rows, *co2_only)
        numbers["units_shipped"][rows] = result.units_shipped.to(m.shipment_unit).magnitude
        numbers[AVOIDED_COLUMN][rows] = result.avoided_per_unit_year.magnitude
        numbers["operating_years[yr]"][rows] = result.operating_years.magnitude
        numbers["single_year[t-CO2e]"][rows] = result.single_year.magnitude
        numbers["lifetime[t-CO2e]"][rows] = result.lifetime.magnitude
        baseline = result.baseline_per_unit_year.magnitude
        numbers[BASELINE_COLUMN][rows] = baseline
        numbers[PRODUCT_COLUMN][rows] = result.product_per_unit_year.magnitude
        with np.errstate(divide="ignore", invalid="ignore"):  # no baseline emissions: no share (left empty)
            numbers[AVOIDED_SHARE_COLUMN][rows] = np.where(baseline != 0, result.avoided_per_unit_year.magnitude
                                                           / np.where(baseline != 0, baseline, 1.0), np.nan)
        numbers[BASELINE_LIFETIME_COLUMN][rows] = result.baseline_lifetime.magnitude
        if result.category11_lifetime is not None:
            numbers[CATEGORY11_COLUMN][rows] = result.category11_lifetime.magnitude
        if installed is not None:
            numbers.setdefault(INSTALLED_BASE_COLUMN, np.full(len(self._filled), np.nan))[rows] = installed
        for column, values in (variants or {}).items():  # a variant no row of this methodology has: standard figures
            if column not in self._variants:
                self._variants[column] = np.full(len(self._filled), np.nan)
            self._variants[column][rows] = values
        self._filled[rows] = True

    def table(self) -> pd.DataFrame:
        """The rows computed, in portfolio order, with :data:`RESULT_COLUMNS` (``sheet`` after ``row`` for a
        workbook), then the company's own columns (:attr:`Portfolio.passthrough`)."""
        p, at = self._p, np.flatnonzero(self._filled)
        # Columns with few distinct values are categorical (codes and their labels, no text per row).
        entered = p.units_shipped_entered if p.units_shipped_entered is not None else \
            self._text["units_shipped_as_entered"]
        columns = {"row": p.rows[at], "product_line": pd.Series(p.product_line[at], dtype=object),
                   "fiscal_year": p.fiscal_year[at], "market": _categorical(p.market[at]),
                   "region": _categorical(p.region[at]),
                   "units_shipped_as_entered": pd.Series(np.asarray(entered, dtype=object)[at], dtype=object),
                   **{c: labels.categorical(at) for c, labels in self._labels.items()}}
        which = self._methodology[at]  # per-methodology constants, built from codes
        for column, attribute in (("methodology", lambda m: m.id), ("methodology_version", lambda m: m.version),
                                  ("category", lambda m: m.category),
                                  ("functional_unit", lambda m: m.spec.functional_unit.unit)):
            codes, labels = pd.factorize(np.array([attribute(m) for m in self._used] or [""], dtype=object))
            columns[column] = pd.Categorical.from_codes(codes[which] if len(which) else which, categories=labels)
        columns.update({c: v[at] for c, v in self._numbers.items()})
        names = list(RESULT_COLUMNS)
        if INSTALLED_BASE_COLUMN in columns:  # asked for: after the flow figures, a third timeframe beside them
            names.insert(names.index(FIGURES[-1]) + 1, INSTALLED_BASE_COLUMN)
        if p.sheet is not None:
            columns["sheet"] = pd.Categorical(p.sheet[at])
            names.insert(1, "sheet")
        table = pd.DataFrame({c: columns[c] for c in names})
        for column in sorted(self._variants, key=_variant_order):
            values = self._variants[column].copy()
            unset = np.isnan(values)  # rows of methodologies without this variant's data: the standard figure
            if unset.any():
                figure = column.split(":", 2)[2]
                fallback = self._numbers.get(figure) if figure in self._numbers else np.zeros(len(values))
                values[unset] = fallback[unset] if not figure.startswith("covered") else 0.0
            table[column] = values[at]
        for header, cells in p.passthrough.items():
            table[header] = pd.Series(cells[at], dtype=object)
        return table


def _categorical(texts: np.ndarray) -> pd.Categorical:
    """``pd.Categorical(texts)`` (categories: the distinct texts, sorted and typed as pandas does), built from
    ``pd.factorize`` codes: the distinct texts are sorted, not every row's."""
    codes, distinct = pd.factorize(np.asarray(texts, dtype=object))
    if not len(distinct) or (codes < 0).any():  # missing values: as pandas treats them
        return pd.Categorical(texts)
    categories = pd.Categorical(np.asarray(distinct, dtype=object)).categories
    position = categories.get_indexer(distinct)
    return pd.Categorical.from_codes(position[codes], dtype=pd.CategoricalDtype(categories))


def _variant_order(column: str) -> tuple[int, int]:
    """Variant columns in the order of :data:`koken.variants.VARIANTS`, each figure in its order."""
    _prefix, variant, figure = column.split(":", 2)
    ids = [v.id for v in VARIANTS]
    figures = [*VARIANT_FIGURES, "covered_units"]
    return ids.index(variant), figures.index(figure)


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
                     defaults_used: Mapping[str, np.ndarray]) -> tuple[np.ndarray, list[str]]:
    """Per row (as codes into labels, :func:`_joined`) the ``;``-joined names of the inputs given in CO2 alone
    (``kg-CO2/kWh``) while the figures are CO2e:
    the unit as the portfolio wrote it (header, units row or cell), the unit of the factor table that supplied the
    value, or the methodology's declared unit for a default. koken counts CO2 as CO2e (GWP 1), so such a value
    leaves the other gases out; the mark says so where the figure is recorded (each distinct unit text is read once).
    A zero leaves nothing out (0 kg-CO2 is 0 kg-CO2e) and is not marked: the scenario terms that do not apply
    (``baseline_fuel_emissions``, default 0 kg-CO2/yr, of a product that burns no fuel) are not CO2-only inputs.
    """
    n = len(rows)
    marks = []
    for name, p in m.parameters.items():
        if not is_ghg_amount(p.unit):
            continue
        mark = np.zeros(n, dtype=bool)
        if name in portfolio.parameters:
            values, units, _header = portfolio.parameters[name]
            given = values[rows]
            present = ~np.isnan(given) & (given != 0)
            texts = _take(units, rows)
            if texts.strides == (0,):  # one unit for the whole column (its header's): read once
                if present.any() and names_co2_only(str(texts[0])):
                    mark |= present
            else:
                for text in pd.unique(np.asarray(texts[present], dtype=object)) if present.any() else ():
                    if names_co2_only(str(text)):
                        mark |= present & (texts == text)
        origin = origins.get(name)
        if origin is not None and names_co2_only(origin.unit_text):
            mark |= origin.from_table
        if name in defaults_used and p.default and names_co2_only(p.unit_text):
            mark |= defaults_used[name]
        marks.append((np.where(mark, 0, -1), [name]))
    return _joined(marks, n)


class _RowLocations:
    """Locations of a methodology group's rows in the portfolio file, built on demand for errors."""

    def __init__(self, portfolio: Portfolio, idx: np.ndarray):
        self._portfolio, self._idx = portfolio, idx

    def __getitem__(self, j: int):
        return self._portfolio.location(int(self._idx[j]))

    __call__ = __getitem__

    def __len__(self) -> int:
        return len(self._idx)


def _defaults_column(defaults_used: dict[str, np.ndarray], n: int) -> tuple[np.ndarray, list[str]]:
    """``;``-joined names of defaulted parameters per row, as codes into labels (:func:`_joined`)."""
    return _joined([(np.where(mask, 0, -1), [name]) for name, mask in defaults_used.items()], n)


def _factors_column(origins: dict[str, FactorOrigin], n: int) -> tuple[np.ndarray, list[str]]:
    """Per row ``name=table[keys] (basis, status)`` for each parameter a factor table supplied, ``;``-joined, as codes
    into labels (:func:`_joined`; each distinct label is built once)."""
    parts = []
    for name, o in origins.items():
        supplied = np.flatnonzero(o.from_table)  # only these rows have a label
        codes = np.full(n, -1, dtype=np.int64)
        if not len(supplied):
            parts.append((codes, []))
            continue
        o = o.take(supplied)
        tables = o.tables if o.tables is not None else np.full(len(o.keys), o.table, dtype=object)
        parts_of_key = [np.asarray(o.keys, dtype=object), np.asarray(o.stale, dtype=bool),
                        np.asarray(o.bases, dtype=object), np.asarray(o.statuses, dtype=object),
                        np.asarray(tables, dtype=object)]
        found, keys = group_codes(parts_of_key) if o.groups is None else group_codes_within(o.groups, parts_of_key)
        codes[supplied] = found
        parts.append((codes, [FACTOR_LABEL.format(name=name, table=table, key=key,
                                                  described=describe(basis or None, status or None))
                              + (" (stale: earlier year)" if stale else "")
                              for key, stale, basis, status, table in keys]))
    return _joined(parts, n)


def _joined(parts: Sequence[tuple[np.ndarray, Sequence[str]]], n: int) -> tuple[np.ndarray, list[str]]:
    """Per row, the ``;``-joined labels of the parts that apply to it, as (codes ``(n,)``, labels): part ``j`` gives
    each row the label ``labels_j[codes_j[i]]``, or nothing where ``codes_j[i]`` is −1. Each distinct combination of a
    row's parts is joined once (never a string operation per row); no part gives ``""``."""
    if not parts or not n:
        return np.zeros(n, dtype=np.int64), [""]
    digits = np.column_stack([np.asarray(codes, dtype=np.int64) + 1 for codes, _labels in parts])
    sizes = [len(labels) + 1 for _codes, labels in parts]
    if float(np.prod(sizes, dtype=float)) < 2.0 ** 62:  # one integer per combination
        weights = np.cumprod([1, *sizes[:0:-1]], dtype=np.int64)[::-1]
        combined, inverse = np.unique(digits @ weights, return_inverse=True)
        rows = [[int(c) // int(w) % size for w, size in zip(weights, sizes)] for c in combined]
    else:
        unique_rows, inverse = np.unique(digits, axis=0, return_inverse=True)
        rows = unique_rows.tolist()
    labels = [";".join(parts[j][1][d - 1] for j, d in enumerate(row) if d) for row in rows]
    return np.asarray(inverse, dtype=np.int64).reshape(n), labels


class _Labels:
    """A text column of few distinct values (``defaults_used`` …), kept as a code per row into its distinct labels,
    filled methodology by methodology and given as a categorical exactly as ``pd.Categorical`` of the texts would be."""

    def __init__(self, n: int):
        self._codes = np.full(n, -1, dtype=np.int64)
        self._labels: dict[str, int] = {}

    def put(self, rows: np.ndarray, codes: np.ndarray, labels: Sequence[str]) -> None:
        """Rows ``rows`` get ``labels[codes]``."""
        ids = np.array([self._labels.setdefault(label, len(self._labels)) for label in labels], dtype=np.int64)
        self._codes[rows] = ids[codes] if len(rows) else ids[:0]

    def categorical(self, at: np.ndarray) -> pd.Categorical:
        """The rows ``at``, as ``pd.Categorical`` of their texts (categories: the distinct texts present, sorted)."""
        codes = self._codes[at]
        texts = np.array(list(self._labels), dtype=object)
        if not len(codes):
            return pd.Categorical(texts[:0])
        present = np.flatnonzero(np.bincount(codes, minlength=len(texts))) if codes.min() >= 0 else np.unique(codes)
        categories = pd.Categorical(texts[present]).categories  # as pandas orders and types them
        position = np.full(len(texts), -1, dtype=np.int64)
        position[present] = categories.get_indexer(texts[present])
        return pd.Categorical.from_codes(position[codes], dtype=pd.CategoricalDtype(categories))
