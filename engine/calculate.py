"""The main job: a portfolio → per-product-line avoided emissions (one vectorised batch per methodology).

Result columns name their units (``single_year[t-CO2e]``). Single-year and lifetime figures stand
side by side and are never added together, and totals are kept per fiscal year: the GHG Protocol
(Scope 3 Standard, ch. 9: avoided emissions reported separately) and WBCSD's Guidance on Avoided
Emissions (2023, step 1: identify the timeframe) both keep timeframes apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pint

from engine import __version__
from engine.errors import EvaluationError, KokenError, KokenErrors, Location, PortfolioError
from engine.evaluate import BatchResult, evaluate
from engine.factors import FactorOrigin, fill_from_tables, load_factor_tables
from engine.methodology import CompiledMethodology
from engine.portfolio import Portfolio, column_quantity
from engine.units import is_count_unit

GWP_SET = "gwp100_ar5"
"""The GWP set in use (factors/gwp100_ar5.yaml): CO2 counts 1; other gases enter through it."""

AVOIDED_COLUMN = "avoided_per_unit_year[kg-CO2e/functional_unit/yr]"
RESULT_COLUMNS = (
    "row", "product_line", "methodology", "methodology_version", "category", "fiscal_year", "market",
    "region", "units_shipped_as_entered", "units_shipped", "functional_unit", AVOIDED_COLUMN,
    "operating_years[yr]", "single_year[t-CO2e]", "lifetime[t-CO2e]", "defaults_used", "factors_from_tables",
)
"""Result table columns; ``units_shipped`` is in the methodology's functional unit (named beside it)."""


@dataclass(frozen=True)
class Batch:
    """One methodology's rows: their positions in the portfolio, inputs and results (for details)."""

    methodology: CompiledMethodology
    index: np.ndarray
    inputs: dict[str, pint.Quantity]
    result: BatchResult
    factor_origins: dict[str, FactorOrigin] = field(default_factory=dict)


@dataclass(frozen=True)
class Calculation:
    """Results of a portfolio: one row per product line, plus what produced them.

    Attributes:
        table: pandas DataFrame with :data:`RESULT_COLUMNS`, in the portfolio's row order.
        portfolio: the input.
        methodologies: the methodologies used, by id.
        batches: per methodology, inputs and all step values (for detailed output and traces).
    """

    table: pd.DataFrame
    portfolio: Portfolio
    methodologies: dict[str, CompiledMethodology]
    batches: list[Batch] = field(default_factory=list)
    options: dict = field(default_factory=dict)
    """How the run was asked for (encoding, sheet, methodology folder), recorded in results."""

    def provenance(self) -> dict:
        """What produced the results (see :func:`provenance`)."""
        return provenance(self.portfolio.path, self.portfolio.sha256, self.portfolio.encoding,
                          self.methodologies.values(), self.options)


def provenance(path: str, sha256: str, encoding: str, methodologies, options: Mapping[str, object]) -> dict:
    """What produced results: koken version, the input file's hash and encoding, each methodology's id,
    version and content hash, the factor tables (with content hashes), the GWP set and the run's options.

    Args:
        path, sha256, encoding: the input file, its ``sha256:<hex>`` and how it was read.
        methodologies: the compiled methodologies the results used.
        options: how the run was asked for (None values are left out).
    """
    tables, _ = load_factor_tables()
    return {
        "koken_version": __version__,
        "input": {"file": path, "sha256": sha256, "encoding": encoding},
        "methodologies": {m.id: {"version": m.version, "content_hash": m.content_hash, "path": m.path,
                                 "result_type": m.spec.result_type,
                                 "contribution_role": m.spec.contribution_role,
                                 "baseline_type": m.spec.baseline.type}
                          for m in sorted(methodologies, key=lambda m: m.id)},
        "factor_tables": {t.id: {"content_hash": t.content_hash, "unit": t.spec.unit}
                          for t in sorted(tables.values(), key=lambda t: t.id)},
        "gwp_set": GWP_SET,
        "options": {k: v for k, v in sorted(options.items()) if v is not None},
    }


def calculate(portfolio: Portfolio, library: Mapping[str, CompiledMethodology],
              options: Mapping[str, object] | None = None) -> Calculation:
    """Compute avoided emissions for every product line of ``portfolio``.

    Cell problems found while reading (``read_portfolio(..., collect=True)``), unit problems and
    evaluation problems (missing or out-of-range values, non-finite results) are reported together;
    a row with a problem in a cell is not evaluated further, so each problem is reported once.

    Args:
        portfolio: from :func:`engine.portfolio.read_portfolio`.
        library: methodologies by id.
        options: how the run was asked for, recorded in the result's provenance.
    Returns:
        Calculation with one result row per product line.
    Raises:
        KokenErrors: every problem found, sorted by row.
    """
    errors: list[KokenError] = list(portfolio.problems)
    invalid = portfolio.invalid.copy() if portfolio.invalid is not None else np.zeros(len(portfolio), bool)
    frames = []
    batches: list[Batch] = []
    used: dict[str, CompiledMethodology] = {}
    for mid in sorted(set(portfolio.methodology[~invalid])):
        m = library[mid]
        used[mid] = m
        idx = np.flatnonzero((portfolio.methodology == mid) & ~invalid)
        locs = _RowLocations(portfolio, idx)
        skip = np.zeros(len(idx), dtype=bool)
        columns = {}
        for name, (values, units, header) in portfolio.parameters.items():
            sub_values = values[idx]
            if name not in m.parameters:
                for j in np.flatnonzero(~np.isnan(sub_values)):
                    errors.append(PortfolioError(
                        f"{header} has a value but methodology {mid!r} has no such parameter "
                        f"(its parameters: {', '.join(m.parameters)})", locs[j].at(column=header)))
                    skip[j] = True
                continue
            column, problems = column_quantity(sub_values, units[idx], m.parameters[name].unit,
                                               m.spec.hours_per_year, header,
                                               lambda j, h=header: locs[j].at(column=h))
            errors.extend(problems)
            skip |= column.failed
            columns[name] = column.quantity
        values, units, header = portfolio.units_shipped
        shipped, problems = column_quantity(values[idx], units[idx], m.shipment_unit, m.spec.hours_per_year,
                                            header, lambda j, h=header: locs[j].at(column=h),
                                            count=is_count_unit(m.shipment_unit))
        errors.extend(problems)
        skip |= shipped.failed
        keep = np.flatnonzero(~skip)
        if not len(keep):
            continue
        inputs = {name: q[keep] for name, q in columns.items()}
        rows = idx[keep]
        inputs, origins, problems, unserved = fill_from_tables(
            m.parameters, inputs, _regions(portfolio, rows), portfolio.fiscal_year[rows], len(rows),
            _RowLocations(portfolio, rows), allow_stale=bool((options or {}).get("allow_stale_factors")))
        errors.extend(problems)
        if unserved.any():
            served = np.flatnonzero(~unserved)
            inputs = {name: q[served] for name, q in inputs.items()}
            origins = {name: _take_origin(o, served) for name, o in origins.items()}
            rows = rows[served]
            keep = keep[served]
        if not len(rows):
            continue
        try:
            result = evaluate(m, inputs, shipped.quantity[keep], _RowLocations(portfolio, rows))
        except KokenErrors as errs:
            errors.extend(errs.errors)
            continue
        batches.append(Batch(methodology=m, index=rows, inputs=inputs, result=result, factor_origins=origins))
        frames.append(_frame(portfolio, m, rows, result, origins))
    if errors:
        raise KokenErrors(sorted(errors, key=lambda e: (e.location.row or 0, e.location.column or "")))
    table = pd.concat(frames).sort_values("_index").drop(columns="_index").reset_index(drop=True)
    totals = table[["single_year[t-CO2e]", "lifetime[t-CO2e]"]].abs().sum().to_numpy()
    if not np.isfinite(totals).all():
        raise KokenErrors([EvaluationError("the portfolio's totals overflow (beyond 1e308 t-CO2e): every row is "
                                           "finite but their sum is not; check units_shipped and units",
                                           Location(file=portfolio.path))])
    return Calculation(table=table, portfolio=portfolio, methodologies=used, batches=batches,
                       options={k: v for k, v in (options or {}).items() if v is not None})


def _frame(portfolio: Portfolio, m: CompiledMethodology, rows: np.ndarray, result: BatchResult,
           origins: dict[str, FactorOrigin]) -> pd.DataFrame:
    values, units, _ = portfolio.units_shipped
    entered = pd.Series(values[rows]).map("{:.15g}".format) + " " + pd.Series(units[rows], dtype=object)
    shipped = result.units_shipped.to(m.shipment_unit).magnitude
    return pd.DataFrame({
        "_index": rows,
        "row": portfolio.rows[rows],
        "product_line": portfolio.product_line[rows],
        "methodology": m.id,
        "methodology_version": m.version,
        "category": m.category,
        "fiscal_year": portfolio.fiscal_year[rows],
        "market": portfolio.market[rows],
        "region": portfolio.region[rows],
        "units_shipped_as_entered": entered.str.strip().to_numpy(),
        "units_shipped": shipped,
        "functional_unit": m.spec.functional_unit.unit,
        AVOIDED_COLUMN: result.avoided_per_unit_year.magnitude,
        "operating_years[yr]": result.operating_years.magnitude,
        "single_year[t-CO2e]": result.single_year.magnitude,
        "lifetime[t-CO2e]": result.lifetime.magnitude,
        "defaults_used": _defaults_column(result.defaults_used, len(rows)),
        "factors_from_tables": _factors_column(origins, len(rows)),
    })


DOMESTIC_REGION = "JP"
"""Region of domestic (国内) rows that leave ``region`` empty: the industry reports Japan's market."""


def _regions(portfolio: Portfolio, rows: np.ndarray) -> np.ndarray:
    """Per row the region for factor lookups: as given, or JP for a domestic row without one."""
    region = portfolio.region[rows].astype(object)
    domestic = portfolio.market[rows] == "domestic"
    return np.where((region == "") & domestic, DOMESTIC_REGION, region)


def _take_origin(origin: FactorOrigin, positions: np.ndarray) -> FactorOrigin:
    return FactorOrigin(table=origin.table, from_table=origin.from_table[positions], keys=origin.keys[positions],
                        sources=origin.sources[positions], stale=origin.stale[positions])


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
    """Per row ``name=table[keys]`` for each parameter a factor table supplied, ``;``-joined."""
    column = np.full(n, "", dtype=object)
    for name, o in origins.items():
        label = np.char.add(f"{name}={o.table}[", o.keys.astype(str))
        label = np.char.add(label, "]").astype(object)
        label = np.where(o.stale, label + " (stale: earlier year)", label)
        column = np.where(o.from_table, np.where(column == "", label, column + ";" + label), column)
    return column

