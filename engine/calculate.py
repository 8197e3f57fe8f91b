"""The main job: a portfolio → per-product-line avoided emissions (one vectorised batch per methodology).

Result columns name their units (``single_year[t-CO2e]``); single-year and lifetime figures stand
side by side and are never added together (standards.md §0.3: the two timeframes are never mixed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine import __version__
from engine.errors import KokenError, KokenErrors, PortfolioError
from engine.evaluate import evaluate
from engine.methodology import CompiledMethodology
from engine.portfolio import Portfolio, column_quantity
from engine.units import registry

AVOIDED_UNIT = "kg-CO2e/unit/yr"
RESULT_COLUMNS = (
    "row", "product_line", "methodology", "methodology_version", "category", "fiscal_year", "market",
    "region", "units_shipped", "functional_unit", "avoided_per_unit_year[kg-CO2e/unit/yr]",
    "operating_years[yr]", "single_year[t-CO2e]", "lifetime[t-CO2e]", "defaults_used",
)
"""Result table columns; ``units_shipped`` is in the methodology's functional unit (named beside it)."""


@dataclass(frozen=True)
class Calculation:
    """Results of a portfolio: one row per product line, plus what produced them.

    Attributes:
        table: pandas DataFrame with :data:`RESULT_COLUMNS`, in the portfolio's row order.
        portfolio: the input.
        methodologies: the methodologies used, by id.
    """

    table: pd.DataFrame
    portfolio: Portfolio
    methodologies: dict[str, CompiledMethodology]

    def provenance(self) -> dict:
        """What produced the results: koken version, input hash, methodology ids, versions and hashes."""
        return {
            "koken_version": __version__,
            "input": {"file": self.portfolio.path, "sha256": self.portfolio.sha256,
                      "encoding": self.portfolio.encoding},
            "methodologies": {m.id: {"version": m.version, "content_hash": m.content_hash, "path": m.path}
                              for m in sorted(self.methodologies.values(), key=lambda m: m.id)},
        }


def calculate(portfolio: Portfolio, library: Mapping[str, CompiledMethodology]) -> Calculation:
    """Compute avoided emissions for every product line of ``portfolio``.

    Args:
        portfolio: from :func:`engine.portfolio.read_portfolio`.
        library: methodologies by id.
    Returns:
        Calculation.
    Raises:
        KokenErrors: every problem in every row (values for parameters the row's methodology lacks,
            missing required values, out-of-range values, incompatible units, non-finite results).
    """
    errors: list[KokenError] = []
    n = len(portfolio)
    frames = []
    used: dict[str, CompiledMethodology] = {}
    for mid in sorted(set(portfolio.methodology)):
        m = library[mid]
        used[mid] = m
        idx = np.flatnonzero(portfolio.methodology == mid)
        locs = _RowLocations(portfolio, idx)
        inputs = {}
        for name, (values, units, header) in portfolio.parameters.items():
            sub_values, sub_units = values[idx], units[idx]
            if name not in m.parameters:
                for j in np.flatnonzero(~np.isnan(sub_values)):
                    errors.append(PortfolioError(
                        f"{header} has a value but methodology {mid!r} has no such parameter "
                        f"(its parameters: {', '.join(m.parameters)})", locs[j].at(column=header)))
                continue
            p = m.parameters[name]
            q, problems = column_quantity(sub_values, sub_units, p.unit, m.spec.hours_per_year, header,
                                          lambda j, h=header: locs[j].at(column=h))
            errors.extend(problems)
            inputs[name] = q
        shipped, problems = column_quantity(portfolio.units_shipped[0][idx], portfolio.units_shipped[1][idx],
                                            m.shipment_unit, m.spec.hours_per_year, "units_shipped",
                                            lambda j: locs[j].at(column="units_shipped"))
        errors.extend(problems)
        if problems:
            continue
        try:
            result = evaluate(m, inputs, shipped, locs)
        except KokenErrors as errs:
            errors.extend(errs.errors)
            continue
        frames.append(pd.DataFrame({
            "_index": idx,
            "row": portfolio.rows[idx],
            "product_line": portfolio.product_line[idx],
            "methodology": mid,
            "methodology_version": m.version,
            "category": m.category,
            "fiscal_year": portfolio.fiscal_year[idx],
            "market": portfolio.market[idx],
            "region": portfolio.region[idx],
            "units_shipped": shipped.magnitude,
            "functional_unit": m.spec.functional_unit.unit,
            "avoided_per_unit_year[kg-CO2e/unit/yr]": result.avoided_per_unit_year.magnitude,
            "operating_years[yr]": result.operating_years.magnitude,
            "single_year[t-CO2e]": result.single_year.magnitude,
            "lifetime[t-CO2e]": result.lifetime.magnitude,
            "defaults_used": _defaults_column(result.defaults_used, len(idx)),
        }))
    if errors:
        raise KokenErrors(sorted(errors, key=lambda e: (e.location.row or 0, e.location.column or "")))
    table = pd.concat(frames).sort_values("_index").drop(columns="_index").reset_index(drop=True)
    assert len(table) == n
    return Calculation(table=table, portfolio=portfolio, methodologies=used)


class _RowLocations:
    """Locations of a methodology group's rows in the portfolio file, built on demand for errors."""

    def __init__(self, portfolio: Portfolio, idx: np.ndarray):
        self._portfolio, self._idx = portfolio, idx

    def __getitem__(self, j: int):
        return self._portfolio.location(int(self._idx[j]))

    def __len__(self) -> int:
        return len(self._idx)


def _defaults_column(defaults_used: dict[str, np.ndarray], n: int) -> np.ndarray:
    """``;``-joined names of defaulted parameters per row, built with array operations."""
    column = np.full(n, "", dtype=object)
    for name, mask in defaults_used.items():
        column = np.where(mask, np.where(column == "", name, column + ";" + name), column)
    return column


MAN = registry().Quantity(1.0, "万").to("dimensionless").magnitude
"""10,000: 万t-CO2e ÷ t-CO2e (koken's units/koken.txt defines 万)."""


def summarise(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Sum single-year and lifetime contributions by ``by`` columns, in t-CO2e and 万t-CO2e.

    Single-year and lifetime are summed separately and never added to each other.
    """
    grouped = table.groupby(by, sort=True)[["single_year[t-CO2e]", "lifetime[t-CO2e]"]].sum().reset_index()
    grouped["product_lines"] = table.groupby(by, sort=True).size().to_numpy()
    grouped["single_year[万t-CO2e]"] = grouped["single_year[t-CO2e]"] / MAN
    grouped["lifetime[万t-CO2e]"] = grouped["lifetime[t-CO2e]"] / MAN
    return grouped
