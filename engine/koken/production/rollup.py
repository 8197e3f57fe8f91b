"""The industry roll-up: many companies' figures → the report's tables (totals with year-on-year changes,
investment by measure, renewables), the two target figures, and who submitted what.

Rules:

* submissions combine only when their intensity definitions (measure, unit, deflator) and base years are
  the same; otherwise the roll-up is refused with each difference named. The same company (or the same
  file, by the hash of its bytes) twice is refused too;
* a year's totals are sums over the companies that submitted that year; the power factor of the totals is
  the electricity-weighted factor, Σ CO2 of purchased electricity ÷ Σ purchased electricity;
* the target figures compare like with like: the intensity and CO2 of a year against the base year are
  taken over the companies that submitted both years; the others are listed as coverage changes;
* year-on-year change = value(year) ÷ value(previous year) − 1 (the report's "FY2022→23 change").

A company's view (:func:`company_view`) holds its own figures and the industry's totals, never another
company's rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from koken.base.errors import KokenErrors, Location, PortfolioError
from koken.base.i18n import N_, _
from koken.production.metrics import (
    CO2_PER_KWH,
    CO2_UNIT,
    CRUDE_UNIT,
    ELECTRICITY_UNIT,
    FACTOR_UNIT,
    INVESTMENT_UNIT,
    KWH_PER_RENEWABLE_UNIT,
    REDUCTION_UNIT,
    RENEWABLE_UNIT,
    CompanyProgress,
    investment_per_tonne,
)
from koken.production.submission import RENEWABLE_ITEMS
from koken.production.tables import Plan, load_plan
from koken.totals import MAN

ENERGY_TOTAL = f"energy[{CRUDE_UNIT[:-2]}万kL]"
CO2_TOTAL = f"co2[万{CO2_UNIT}]"
POWER_FACTOR = f"power_factor[{FACTOR_UNIT}]"

COVERAGE = {
    "commit": N_("FY{year} against the commit base year FY{base}: without {companies} (submitted one of the two years only)"),
    "challenge": N_(
        "FY{year} against the challenge base year FY{base}: without {companies} (submitted one of the two years only)"
    ),
}
"""A coverage change of a target's comparison, as a sentence (:attr:`Rollup.coverage`)."""


def year_on_year(values: Sequence[float], fiscal_years: Sequence[int] | None = None) -> np.ndarray:
    """value(year) ÷ value(previous year) − 1, as fractions; NaN for the first year and after a gap.

    >>> [round(float(x), 3) for x in year_on_year([680, 669])[1:]]  # the report's energy use, FY2022→23
    [-0.016]
    """
    v = np.asarray(values, dtype=float)
    years = np.arange(len(v)) if fiscal_years is None else np.asarray(fiscal_years)
    out = np.full(len(v), np.nan)
    consecutive = np.diff(years) == 1
    with np.errstate(divide="ignore", invalid="ignore"):
        out[1:] = np.where(consecutive, v[1:] / v[:-1] - 1.0, np.nan)
    return out


def with_year_on_year(table: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``table`` (one row per fiscal year, column ``fiscal_year``) sorted by year, with a
    ``<column> change[fraction]`` column (:func:`year_on_year`) for each of ``columns``; a new frame."""
    out = table.sort_values("fiscal_year").reset_index(drop=True).copy()
    for column in columns:
        out[f"{column} change[fraction]"] = year_on_year(out[column], out["fiscal_year"])
    return out


def investment_table(measures: pd.DataFrame, plan: Plan | None = None) -> pd.DataFrame:
    """Investment and CO2 reduction by measure kind, in the plan's order, with a total row and the yen
    invested per tonne reduced per year.

    Args:
        measures: rows with ``measure`` (a kind id of ``action_plan/plan.yaml``), ``investment[百万円]`` and
            ``reduction[t-CO2/yr]`` (one year's; several rows of a kind are summed).
        plan: the plan whose measure kinds give the order (default: the bundled one).
    Returns:
        One row per kind present, then ``total``: ``measure``, ``measure_ja``, ``measure_en``,
        ``investment[百万円]``, ``reduction[t-CO2/yr]``, ``investment_per_tonne[円/(t-CO2/yr)]`` (NaN where
        the reduction is 0). The rows of the report's FY2023 table: see tests/production/test_rollup.py.
    """
    plan = plan or load_plan()
    inv, red = f"investment[{INVESTMENT_UNIT}]", f"reduction[{REDUCTION_UNIT}]"
    sums = measures.groupby("measure", sort=False)[[inv, red]].sum() if len(measures) else pd.DataFrame(columns=[inv, red])
    rows = []
    for kind in plan.spec.measure_kinds:
        if kind.id in sums.index:
            rows.append(
                {
                    "measure": kind.id,
                    "measure_ja": kind.ja,
                    "measure_en": kind.en,
                    inv: float(sums.loc[kind.id, inv]),
                    red: float(sums.loc[kind.id, red]),
                }
            )
    rows.append(
        {
            "measure": "total",
            "measure_ja": "合計",
            "measure_en": "total",
            inv: float(sum(r[inv] for r in rows)),
            red: float(sum(r[red] for r in rows)),
        }
    )
    table = pd.DataFrame(rows)
    table[f"investment_per_tonne[円/({REDUCTION_UNIT})]"] = investment_per_tonne(table[inv].to_numpy(), table[red].to_numpy())
    return table


@dataclass
class Rollup:
    """The industry's tables from several companies' figures.

    ``totals``: one row per fiscal year (companies, energy in 原油換算万kL, activity, CO2 in 万t-CO2, the
    electricity-weighted power factor, each with its year-on-year change); ``investment``: by measure
    for ``fiscal_year``; ``renewables``: GWh by year; ``targets``: the commit and challenge figures by
    year (like for like); ``completeness``: company × year; ``gaps``: companies missing against the
    base year (``fiscal_year``, ``target``, ``base_year``, ``companies``), said as sentences by ``coverage``.
    """

    fiscal_year: int
    definition: dict
    base_years: dict
    companies: list[CompanyProgress]
    totals: pd.DataFrame
    investment: pd.DataFrame
    renewables: pd.DataFrame
    targets: pd.DataFrame
    completeness: pd.DataFrame
    gaps: list[dict]

    @property
    def coverage(self) -> list[str]:
        """The coverage changes as sentences, in the current language (made when shown, not when computed):
        "FY2022 against the commit base year FY2020: without Gamma (submitted one of the two years only)"."""
        return [
            _(COVERAGE[g["target"]]).format(year=g["fiscal_year"], base=g["base_year"], companies=", ".join(g["companies"]))
            for g in self.gaps
        ]


def check_combinable(companies: Sequence[CompanyProgress]) -> None:
    """Refuse companies whose figures cannot be summed.

    Raises:
        KokenErrors: one problem per submission whose intensity definition or base years differ from the
            first's, or that repeats a company or a file.
    """
    problems = []
    first = companies[0]
    seen_names: dict[str, str] = {}
    seen_hashes: dict[str, str] = {}
    for c in companies:
        where = Location(file=c.source)
        if c.company in seen_names:
            problems.append(
                PortfolioError(
                    _("{company} is submitted twice (also {other})").format(company=c.company, other=seen_names[c.company]), where
                )
            )
        if c.content_hash in seen_hashes:
            problems.append(
                PortfolioError(_("the same file is given twice (also {other})").format(other=seen_hashes[c.content_hash]), where)
            )
        seen_names.setdefault(c.company, c.source)
        seen_hashes.setdefault(c.content_hash, c.source)
        if c is first:
            continue
        for key, label in (("measure", N_("activity measure")), ("unit", N_("unit")), ("deflator", N_("deflator"))):
            if c.definition.get(key) != first.definition.get(key):
                problems.append(
                    PortfolioError(
                        _(
                            "intensity definitions differ: {what} {here!r} here, {there!r} in {source}; intensities on "
                            "different definitions cannot be combined"
                        ).format(what=_(label), here=c.definition.get(key), there=first.definition.get(key), source=first.source),
                        where,
                    )
                )
        for key, differ in (
            ("commit", N_("commit base years differ: FY{here} here, FY{there} in {source}")),
            ("challenge", N_("challenge base years differ: FY{here} here, FY{there} in {source}")),
        ):
            if c.base_years[key] != first.base_years[key]:
                problems.append(
                    PortfolioError(
                        _(differ).format(here=c.base_years[key], there=first.base_years[key], source=first.source), where
                    )
                )
    if problems:
        raise KokenErrors(problems)


def rollup(companies: Sequence[CompanyProgress], fiscal_year: int | None = None, plan: Plan | None = None) -> Rollup:
    """Combine companies' figures into the industry's tables (rules in the module docstring).

    Args:
        companies: one :class:`CompanyProgress` per company.
        fiscal_year: the reporting year of the investment table (default: the latest year submitted).
    Raises:
        KokenErrors: submissions that cannot be combined (:func:`check_combinable`), no companies, or a
            reporting year nobody submitted.
    """
    plan = plan or load_plan()
    if not companies:
        raise KokenErrors([PortfolioError(_("no submissions to combine"))])
    check_combinable(companies)
    first = companies[0]
    activity = first.activity_column
    years = pd.concat([c.years for c in companies], ignore_index=True)
    latest = int(years["fiscal_year"].max())
    fiscal_year = latest if fiscal_year is None else fiscal_year
    if fiscal_year not in set(years["fiscal_year"]):
        raise KokenErrors(
            [
                PortfolioError(
                    _("no submission has FY{year}; the years given are {years}").format(
                        year=fiscal_year, years=", ".join(f"FY{y}" for y in sorted(set(years["fiscal_year"])))
                    )
                )
            ]
        )
    grouped = years.groupby("fiscal_year")
    totals = pd.DataFrame(
        {
            "fiscal_year": grouped.size().index.astype(int),
            "companies": grouped.size().to_numpy(),
            ENERGY_TOTAL: grouped[f"energy[{CRUDE_UNIT}]"].sum().to_numpy() / MAN,
            activity: grouped[activity].sum().to_numpy(),
            CO2_TOTAL: grouped[f"co2[{CO2_UNIT}]"].sum().to_numpy() / MAN,
            POWER_FACTOR: (
                grouped[f"co2_electricity[{CO2_UNIT}]"].sum(min_count=1)
                / CO2_PER_KWH
                / grouped[f"purchased_electricity[{ELECTRICITY_UNIT}]"].sum(min_count=1)
            ).to_numpy(),
        }
    )
    totals = with_year_on_year(totals, [ENERGY_TOTAL, activity, CO2_TOTAL, POWER_FACTOR])
    measures = pd.concat([c.measures for c in companies], ignore_index=True)
    investment = investment_table(measures[measures["fiscal_year"] == fiscal_year], plan)
    renewables = pd.concat([c.renewables for c in companies], ignore_index=True).groupby("fiscal_year").sum(numeric_only=True)
    renewables[f"self_consumed[{RENEWABLE_UNIT}]"] = (
        renewables[f"self_consumed_solar[{RENEWABLE_UNIT}]"] + renewables[f"self_consumed_other[{RENEWABLE_UNIT}]"]
    )
    renewables[f"purchased_electricity[{RENEWABLE_UNIT}]"] = (
        grouped[f"purchased_electricity[{ELECTRICITY_UNIT}]"].sum(min_count=1) / KWH_PER_RENEWABLE_UNIT
    )
    order = (
        [f"self_consumed[{RENEWABLE_UNIT}]"]
        + [f"{t.id}[{RENEWABLE_UNIT}]" for t in RENEWABLE_ITEMS]
        + [f"purchased_electricity[{RENEWABLE_UNIT}]"]
    )
    renewables = renewables[order].reset_index()
    targets, gaps = _targets(companies, years, first.base_years, plan)
    present = years.assign(submitted=True).pivot_table(
        index="company", columns="fiscal_year", values="submitted", aggfunc="any", fill_value=False
    )
    completeness = present.reset_index()
    completeness.columns = ["company", *[f"FY{int(y)}" for y in present.columns]]
    return Rollup(
        fiscal_year=fiscal_year,
        definition=first.definition,
        base_years=first.base_years,
        companies=list(companies),
        totals=totals,
        investment=investment,
        renewables=renewables,
        targets=targets,
        completeness=completeness,
        gaps=gaps,
    )


def _targets(companies, years: pd.DataFrame, base_years: dict, plan: Plan) -> tuple[pd.DataFrame, list[dict]]:
    rows, gaps = [], []
    energy, co2 = f"energy[{CRUDE_UNIT}]", f"co2[{CO2_UNIT}]"
    activity = companies[0].activity_column
    by_company = {c.company: c.years.set_index("fiscal_year") for c in companies}
    for fy in sorted(set(years["fiscal_year"])):
        row = {"fiscal_year": int(fy)}
        for target, base in (("commit", base_years["commit"]), ("challenge", base_years["challenge"])):
            both = [name for name, y in by_company.items() if fy in y.index and base in y.index]
            missing = sorted(name for name, y in by_company.items() if (fy in y.index) != (base in y.index))
            if missing and fy != base:
                gaps.append({"fiscal_year": int(fy), "target": target, "base_year": int(base), "companies": missing})
            if not both or fy < base:
                continue
            if target == "commit":
                now = sum(by_company[n].loc[fy, energy] for n in both) / sum(by_company[n].loc[fy, activity] for n in both)
                then = sum(by_company[n].loc[base, energy] for n in both) / sum(by_company[n].loc[base, activity] for n in both)
                row.update(
                    {
                        "commit_companies": len(both),
                        "intensity_improvement[fraction]": 1.0 - now / then,
                        "commit_path[fraction]": plan.commit_required(int(fy), base),
                    }
                )
            else:
                now = sum(by_company[n].loc[fy, co2] for n in both)
                then = sum(by_company[n].loc[base, co2] for n in both)
                row.update(
                    {
                        "challenge_companies": len(both),
                        "co2_change_vs_base[fraction]": now / then - 1.0,
                        "challenge_path[fraction]": 0.0 - plan.challenge_required(int(fy), base) + 0.0,
                    }
                )
        rows.append(row)
    return pd.DataFrame(rows), gaps


def company_view(company: str, combined: Rollup) -> dict:
    """One company's figures beside the industry's totals and target figures: nothing of another company.

    Raises:
        KokenErrors: ``company`` is not among the submissions (the names given are listed).
    """
    match = next((c for c in combined.companies if c.company == company), None)
    if match is None:
        raise KokenErrors(
            [
                PortfolioError(
                    _("no submission of {company!r}: the companies are {companies}").format(
                        company=company, companies=", ".join(c.company for c in combined.companies)
                    )
                )
            ]
        )
    return {"company": match, "industry_totals": combined.totals, "industry_targets": combined.targets}
