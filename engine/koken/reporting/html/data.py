"""The report's figures as the HTML sections show them: per category and market, per product line, per fiscal
year, and each methodology's baseline and product per functional unit. Figures stay unrounded here; the
sections round them for display only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from koken.attribution import device_columns
from koken.base.errors import KokenError
from koken.base.i18n import N_, _, pick
from koken.base.units import parse_unit
from koken.base.vocabulary import AVOIDED_COLUMN, AVOIDED_STEP, BASELINE_STEP, CATEGORIES, MARKETS, PRODUCT_STEP
from koken.reporting.action_plan import TOTAL, Report, methodology_name
from koken.totals import MAN


@dataclass(frozen=True)
class MarketFigures:
    """One category (or the total) in one market, in 万t-CO2e, unrounded.

    Attributes:
        lines: product lines counted.
        single_year, lifetime: set-product figures (two timeframes, never added).
        device_single_year, device_lifetime: the part attributed to devices (内数), NaN when not reported.
    """

    lines: int
    single_year: float
    lifetime: float
    device_single_year: float
    device_lifetime: float


def category_figures(report: Report) -> list[tuple[str, str, dict[str, MarketFigures]]]:
    """The action plan's table: (category id, name in the current language, {market id: figures}) for each
    category in the report's order, then ``("total", "Total", …)``; figures in 万t-CO2e."""
    t = report.table
    out = []
    for category in [*CATEGORIES, None]:
        part = t if category is None else t[t["category"] == category.id]
        by_market = {}
        for market in MARKETS:
            cell = part[part["market"] == market.id]
            reported = bool(cell["device_reported"].any())
            by_market[market.id] = MarketFigures(
                int(cell["product_lines"].sum()), float(cell["single_year[t-CO2e]"].sum()) / MAN,
                float(cell["lifetime[t-CO2e]"].sum()) / MAN,
                float(cell["device_single_year[t-CO2e]"].sum()) / MAN if reported else math.nan,
                float(cell["device_lifetime[t-CO2e]"].sum()) / MAN if reported else math.nan)
        name = _(TOTAL) if category is None else pick(category.ja, category.en)
        out.append(("total" if category is None else category.id, name, by_market))
    return out


def market_name(market_id: str) -> str:
    """A market's name in the current language (国内/海外, Domestic/Overseas); an unknown id as it is."""
    return next((pick(m.ja, m.en) for m in MARKETS if m.id == market_id), str(market_id))


def line_label(line: pd.Series | dict) -> str:
    """A product line's name: its ``product_line``, else its methodology and row (``refrigerator, row 7``)."""
    name = line.get("product_line")
    if isinstance(name, str) and name.strip():
        return name.strip()
    return _("{methodology}, row {row}").format(methodology=line.get("methodology", "?"), row=line.get("row", "?"))


def line_devices(lines: pd.DataFrame, figure: str) -> pd.Series:
    """Each line's device share of ``figure`` (``single_year`` or ``lifetime``) in t-CO2e, over its device
    classes; NaN where the line has no device ratio (or the report gives no device shares)."""
    columns = device_columns(lines, figure)
    if not columns:
        return pd.Series(math.nan, index=lines.index)
    ratios = [c for c in lines.columns if c.startswith("device_ratio:")]
    known = lines[ratios].notna().any(axis=1) if ratios else pd.Series(True, index=lines.index)
    return lines[columns].sum(axis=1).where(known)


def largest_lines(lines: pd.DataFrame, count: int) -> pd.DataFrame:
    """The ``count`` lines with the largest lifetime figures (ties: the first in the results first)."""
    if lines.empty:
        return lines
    order = lines["lifetime[t-CO2e]"].rank(method="first", ascending=False)
    return lines.loc[order.sort_values().index[:count]]


def by_year(report: Report) -> pd.DataFrame:
    """Set-product figures per fiscal year and market in 万t-CO2e: ``fiscal_year``, ``market``,
    ``product_lines``, ``single_year[万t-CO2e]``, ``lifetime[万t-CO2e]`` (every fiscal year of the results)."""
    years = report.years
    if years.empty:
        return pd.DataFrame(columns=["fiscal_year", "market", "product_lines", "single_year[万t-CO2e]",
                                     "lifetime[万t-CO2e]"])
    grouped = years.groupby(["fiscal_year", "market"], sort=True).sum(numeric_only=True).reset_index()
    grouped["single_year[万t-CO2e]"] = grouped["single_year[t-CO2e]"] / MAN
    grouped["lifetime[万t-CO2e]"] = grouped["lifetime[t-CO2e]"] / MAN
    return grouped[["fiscal_year", "market", "product_lines", "single_year[万t-CO2e]", "lifetime[万t-CO2e]"]]


def methodology_titles(report: Report) -> dict[tuple[str, str], str]:
    """Each methodology and version of the report, ``(id, version)``, as the page names it: its title in the current
    language with its id and version beside it (``電気冷蔵庫（refrigerator 1.0.0）``; the id alone when the result
    does not record the title)."""
    return {(m["id"], str(m["version"])): methodology_name(m) for m in report.disclosures.get("methodologies", [])}


FUNCTIONAL_UNITS_EN = {"台": N_("unit (台)"), "件": N_("case (件)"), "基": N_("plant (基)"), "式": N_("set (式)")}
"""How the English page names the counting units of functional units (``per unit (台)``); the Japanese page writes
them as they are (``機能単位（台）あたり``), and a physical unit (kW) is written as it is in both."""


def functional_unit_text(unit: str) -> str:
    """A functional unit's unit as the page writes it after "per": ``unit (台)`` in English, ``台`` in Japanese
    (the catalogue's translation of ``unit (台)`` is ``台``), ``kW`` in both."""
    return _(FUNCTIONAL_UNITS_EN[unit]) if unit in FUNCTIONAL_UNITS_EN else unit


def fiscal_years(report: Report) -> list[int]:
    """Every fiscal year of the results, in order (more than one: the page shows a trend)."""
    years = report.years
    return sorted(set(int(y) for y in years["fiscal_year"])) if "fiscal_year" in years else []


# ----------------------------------------------------------------- baseline and product per functional unit

SCENARIO_DIMENSIONS = ("kg-CO2e/yr", "kWh/yr")
"""What a pair of named figures may measure to be shown as a methodology's baseline and product per functional
unit: emissions per year first, then energy per year (or power: the same dimension), in that order of choice."""


@dataclass(frozen=True)
class Scenarios:
    """Where a methodology's rows name their baseline and product figures per functional unit.

    Attributes:
        source: ``steps`` or ``inputs`` (of the result rows).
        baseline, product: the names (``baseline_annual_energy``, ``product_annual_energy``).
        unit: their unit (``kWh/yr``, ``W``, ``kg-CO2e/yr``), per functional unit.
    """

    source: str
    baseline: str
    product: str
    unit: str


def scenarios(line: pd.Series | dict) -> Scenarios | None:
    """The baseline and product figures a result row names, or None.

    The steps ``baseline_emissions`` and ``product_emissions`` that every methodology names (the integrated
    methodology: use-phase emissions per functional unit and year) come first, whatever the functional unit.
    Otherwise (a result of an older methodology) a pair is ``baseline_<x>`` and ``product_<x>`` among the row's
    steps (first) or inputs, with the same unit,
    measuring emissions per year or energy per year (:data:`SCENARIO_DIMENSIONS`), e.g. the refrigerator's inputs
    ``baseline_annual_energy`` and ``product_annual_energy`` (kWh/yr) or the transformer's steps
    ``baseline_loss`` and ``product_loss`` (W). Pairs of other kinds (efficiencies, load factors) are not
    baseline and product scenarios and are passed over.

    >>> scenarios({"inputs": {"baseline_annual_energy": {"value": 420, "unit": "kWh/yr"},
    ...                       "product_annual_energy": {"value": 273, "unit": "kWh/yr"},
    ...                       "baseline_load_factor": {"value": 0.4, "unit": "fraction"},
    ...                       "product_load_factor": {"value": 0.4, "unit": "fraction"}}, "steps": {}})
    Scenarios(source='inputs', baseline='baseline_annual_energy', product='product_annual_energy', unit='kWh/yr')
    """
    steps = line.get("steps")
    if isinstance(steps, dict) and BASELINE_STEP in steps and PRODUCT_STEP in steps:
        unit = _unit(steps[BASELINE_STEP])
        if unit is not None and unit == _unit(steps[PRODUCT_STEP]):   # the two scenarios every methodology names
            return Scenarios("steps", BASELINE_STEP, PRODUCT_STEP, unit)
    wanted = [parse_unit(u).dimensionality for u in SCENARIO_DIMENSIONS]
    for source in ("steps", "inputs"):
        named = line.get(source)
        if not isinstance(named, dict):
            continue
        found = []
        for name, item in named.items():
            other = "product_" + name.removeprefix("baseline_")
            if not name.startswith("baseline_") or other not in named:
                continue
            unit, other_unit = _unit(item), _unit(named[other])
            if unit is None or unit != other_unit:
                continue
            try:
                dimension = parse_unit(unit).dimensionality
            except KokenError:
                continue
            if dimension in wanted:
                found.append((wanted.index(dimension), Scenarios(source, name, other, unit)))
        if found:
            return min(found, key=lambda f: f[0])[1]
    return None


def scenarios_kind(pair: Scenarios) -> int:
    """What a pair measures: the index of its dimension in :data:`SCENARIO_DIMENSIONS` (0 emissions per year, 1
    energy per year or power)."""
    if pair.baseline == BASELINE_STEP:   # the scenarios' emissions, per whatever functional unit (台, kW)
        return 0
    dimension = parse_unit(pair.unit).dimensionality
    return [parse_unit(u).dimensionality for u in SCENARIO_DIMENSIONS].index(dimension)


def _unit(item: object) -> str | None:
    return item.get("unit") if isinstance(item, dict) and isinstance(item.get("unit"), str) else None


def named_value(line: pd.Series | dict, source: str, name: str) -> float:
    """The value of a row's step or input ``name`` (NaN when absent)."""
    item = (line.get(source) or {}).get(name) if isinstance(line.get(source), dict) else None
    value = item.get("value") if isinstance(item, dict) else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan


def avoided_per_unit_year(line: pd.Series | dict) -> float:
    """The row's avoided emissions per functional unit and year (kg-CO2e per functional unit per year)."""
    value = line.get(AVOIDED_COLUMN)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return named_value(line, "steps", AVOIDED_STEP)


__all__ = [
    "MarketFigures",
    "Scenarios",
    "avoided_per_unit_year",
    "by_year",
    "category_figures",
    "fiscal_years",
    "functional_unit_text",
    "largest_lines",
    "line_devices",
    "line_label",
    "market_name",
    "methodology_titles",
    "named_value",
    "scenarios",
    "scenarios_kind",
]
