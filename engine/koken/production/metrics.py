"""One company's action-plan figures, year by year, from its submission.

Rules, each with its source:

* energy (GJ) = Σ amount × heat value (省エネ法 table of the year, or the company's declared value);
  crude-oil equivalent (kL) = GJ × 0.0258 kL/GJ (省エネ法施行規則 第4条), both from
  ``action_plan/carriers.yaml``;
* CO2 (t-CO2) = Σ fuel amount × CO2 factor (温対法 算定省令: heat value × carbon factor × 44/12, or
  declared) + purchased electricity × the power factor of the year (``factors/grid_emission_factor.yaml``,
  Japan) or the company's declared supplier factor;
* energy intensity = crude-oil-equivalent kL ÷ the declared activity measure; improvement against the
  commit base year = 1 − intensity ÷ intensity(base); the commit path after n years = 1 − (1 − 1 %)ⁿ;
  average annual improvement = 1 − (intensity ÷ intensity(base))^(1/n) (the report's terms, see
  ``../shared/domain/action-plan.md`` § 3);
* CO2 against the challenge base year = CO2 ÷ CO2(base) − 1; the challenge path = −46 % × (year − base)
  ÷ (target − base) (a straight path, koken's declared assumption in ``action_plan/plan.yaml``);
* the year-on-year change of CO2 splits into the power factor's part, purchased electricity(year) ×
  (factor(year) − factor(previous year)), and the company's own part (the rest: its energy use and mix);
  the fixed-factor view prices electricity at the challenge base year's factor every year;
* renewable share of electricity = (self-consumed renewable + renewable purchased + certificates) ÷
  (purchased electricity + self-consumed renewable);
* investment per tonne = investment ÷ CO2 reduction per year, by measure.

Inventory of the company's own production: these figures are never combined with avoided emissions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from koken.base.errors import KokenError, KokenErrors, Location, PortfolioError, UnitError
from koken.base.i18n import N_, _, pick
from koken.base.units import conversion_factor, parse_quantity, parse_unit, registry
from koken.factors import FactorTable, load_factor_tables
from koken.production.submission import RENEWABLE_ITEMS, Submission
from koken.production.tables import CarrierTable, Plan, Value, load_carrier_table, load_plan

POWER_FACTOR_TABLE = "grid_emission_factor"
"""The factor table of the power sector's CO2 factor by fiscal year (Japan: region JP)."""

POWER_FACTOR_REGION = "JP"
"""Domestic production: the action plan covers domestic sites."""

ENERGY_UNIT = "GJ"
CRUDE_UNIT = "原油換算kL"
CO2_UNIT = "t-CO2"
ELECTRICITY_UNIT = "kWh"
FACTOR_UNIT = "kg-CO2/kWh"
RENEWABLE_UNIT = "GWh"
INVESTMENT_UNIT = "百万円"
REDUCTION_UNIT = "t-CO2/yr"

CO2_PER_KWH = conversion_factor(parse_unit(ELECTRICITY_UNIT) * parse_unit(FACTOR_UNIT), parse_unit(CO2_UNIT))
"""kWh × kg-CO2/kWh → t-CO2 (10⁻³), from the unit registry: no bare 1000 in the formulas."""

KWH_PER_RENEWABLE_UNIT = conversion_factor(parse_unit(RENEWABLE_UNIT), parse_unit(ELECTRICITY_UNIT))
"""GWh → kWh (10⁶): renewables are given in GWh, purchased electricity is counted in kWh."""


@dataclass
class CompanyProgress:
    """A company's figures by fiscal year (``years``), by carrier (``carriers``), its measures and renewables.

    Column names carry their units (``energy[原油換算kL]``, ``co2[t-CO2]``); shares are fractions (0–1).
    ``definition`` and ``base_years`` are recorded in every export; ``origins`` lists where each value used
    came from (table entry with source, or the company's declaration).
    """

    company: str
    group: str | None
    source: str
    content_hash: str
    definition: dict
    base_years: dict
    years: pd.DataFrame
    carriers: pd.DataFrame
    measures: pd.DataFrame
    renewables: pd.DataFrame
    origins: list[dict] = field(default_factory=list)

    @property
    def activity_column(self) -> str:
        return f"activity[{self.definition['unit']}]"

    @property
    def intensity_column(self) -> str:
        return f"intensity[{CRUDE_UNIT}/{self.definition['unit']}]"


def _magnitude(
    text: str, unit: str, where: Location, what: str, problems: list[KokenError], minimum: str = "nonnegative"
) -> float:
    """``text`` (a quantity with its unit) in ``unit``, or NaN with the problem recorded.

    ``minimum``: ``"nonnegative"`` (amounts, reductions, investments: ≥ 0) or ``"positive"`` (activity,
    heat values: > 0). A percent sign is refused: no amount is a share.
    """
    q = None
    try:
        if "%" in text:
            raise UnitError(
                _("{what}: {text!r} has a percent sign; give the amount in {unit}").format(what=what, text=text, unit=unit)
            )
        q = parse_quantity(text, location=where)
        value = float(q.magnitude * conversion_factor(q.units, parse_unit(unit), what, where))
    except UnitError as err:
        message = err.message
        volume = parse_unit("kL").dimensionality
        if q is not None and q.dimensionality == volume and parse_unit(unit).dimensionality == parse_unit("GJ").dimensionality:
            message = _(
                "{problem} (a plain kL is a volume: write 原油換算kL or 原油換算万kL for crude-oil-equivalent energy)"
            ).format(problem=message)
        problems.append(UnitError(message, where))
        return float("nan")
    if not math.isfinite(value):
        problems.append(UnitError(_("{what}: {text!r} is too large to compute with").format(what=what, text=text), where))
        return float("nan")
    if value < 0 or (minimum == "positive" and value == 0):
        refusal = (
            _("{what} must be greater than 0, got {text!r}")
            if minimum == "positive"
            else _("{what} must be 0 or more, got {text!r}")
        )
        problems.append(UnitError(refusal.format(what=what, text=text), where))
        return float("nan")
    return value


def _declared(entries, carrier_id: str, fiscal_year: int, carriers: CarrierTable) -> tuple[int, object] | None:
    for i, d in enumerate(entries):
        c = carriers.carrier(d.carrier)
        if c is not None and c.id == carrier_id and d.covers(fiscal_year):
            return i, d
    return None


_VALUES = {
    # kind: (declarations field, unit of the value, what it is (of a carrier), refusal when missing, least value allowed)
    "heat": (
        "heat_values",
        ENERGY_UNIT,
        N_("heat value of {carrier}"),
        N_(
            "no heat value for {carrier} ({name}) in FY{year}: the carrier table covers {periods}; "
            "declare the heat value (heat_values, {unit} per {carrier_unit}) with its source"
        ),
        "positive",
    ),
    "co2": (
        "co2_factors",
        CO2_UNIT,
        N_("CO2 factor of {carrier}"),
        N_(
            "no CO2 factor for {carrier} ({name}) in FY{year}: the carrier table covers {periods}; "
            "declare the factor (co2_factors, {unit} per {carrier_unit}) with its source"
        ),
        "nonnegative",
    ),
}


def _carrier_value(
    sub: Submission, carriers: CarrierTable, carrier, fiscal_year: int, kind: str, where: Location, problems: list[KokenError]
) -> tuple[float, str] | None:
    """A carrier's heat value (``kind="heat"``, GJ per its unit) or CO2 factor (``"co2"``, t-CO2 per its unit) in
    ``fiscal_year``, with where it comes from: the company's declaration first, else the carrier table.

    Returns:
        (value, origin title), or None with the problem recorded (no declaration and no table value).
    """
    field, unit, what, missing, minimum = _VALUES[kind]
    declared = _declared(getattr(sub.spec, field), carrier.id, fiscal_year, carriers)
    if declared is not None:
        i, d = declared
        value = _magnitude(
            f"{d.value} {d.unit}",
            f"{unit}/({carrier.unit})",
            sub.where(f"{field}.{i}.unit"),
            _(what).format(carrier=carrier.id),
            problems,
            minimum,
        )
        return value, (d.source if kind == "heat" else _("declared by the company: {source}").format(source=d.source))
    table_value = carriers.heat_value(carrier, fiscal_year) if kind == "heat" else carriers.co2_factor(carrier, fiscal_year)
    if table_value is None:
        entries = carrier.heat_values if kind == "heat" else carrier.emission_bases
        periods = ", ".join(e.label() for e in entries) or _("none (the supplier's value applies)")
        problems.append(
            PortfolioError(
                _(missing).format(
                    carrier=carrier.id, name=carrier.ja, year=fiscal_year, periods=periods, unit=unit, carrier_unit=carrier.unit
                ),
                where,
            )
        )
        return None
    value = float(table_value.quantity.to(parse_unit(unit) / parse_unit(carrier.unit)).magnitude)
    origin = table_value.origin
    return value, (origin.get("title", "") if kind == "heat" else f"{origin['title']} ({origin['derivation']})")


def _power_factor(
    sub: Submission, fiscal_year: int, table: FactorTable | None, problems: list[KokenError], where: Location
) -> Value | None:
    declared = next(((i, f) for i, f in enumerate(sub.spec.electricity_factors) if f.fiscal_year == fiscal_year), None)
    ureg = registry()
    if declared is not None:
        i, f = declared
        try:
            q = ureg.Quantity(f.value, parse_unit(f.unit, location=sub.where(f"electricity_factors.{i}.unit")))
            conversion_factor(
                q.units, parse_unit(FACTOR_UNIT), _("electricity factor"), sub.where(f"electricity_factors.{i}.unit")
            )
        except UnitError as err:
            problems.append(err)
            return None
        if f.value < 0:
            problems.append(
                UnitError(
                    _("the electricity factor must be 0 or more, got {value}").format(value=f"{f.value:g}"),
                    sub.where(f"electricity_factors.{i}.value"),
                )
            )
            return None
        return Value(
            q,
            {
                "source": "declared by the company",
                "title": f.source,
                **({"supplier": f.supplier} if f.supplier else {}),
                **({"menu": f.menu} if f.menu else {}),
            },
        )
    entry = table.index.get((POWER_FACTOR_REGION, fiscal_year)) if table is not None else None
    if entry is None:
        problems.append(
            PortfolioError(
                _(
                    "no electricity CO2 factor for FY{year}: the table {table} has {keys}; declare the factor of the year "
                    "(co2_factor / electricity_factors) with its source"
                ).format(year=fiscal_year, table=POWER_FACTOR_TABLE, keys=table.describe_keys() if table else _("no entries")),
                where,
            )
        )
        return None
    return Value(ureg.Quantity(entry.value, table.unit), table.origin(f"{POWER_FACTOR_REGION} {fiscal_year}"))


def company_progress(
    sub: Submission,
    carriers: CarrierTable | None = None,
    plan: Plan | None = None,
    factor_tables: dict[str, FactorTable] | None = None,
) -> CompanyProgress:
    """Compute one company's figures by fiscal year (rules in the module docstring).

    Args:
        sub: a read submission (:func:`koken.production.submission.read_submission`).
        carriers: the carrier table (default: the bundled ``action_plan/carriers.yaml``).
        plan: the plan's targets (default: the bundled ``action_plan/plan.yaml``).
        factor_tables: factor tables by id (default: the bundled ``factors/``), for the power factor.
    Returns:
        :class:`CompanyProgress`.
    Raises:
        KokenErrors: every problem at once, located: an unknown carrier or measure kind, a carrier without a
            heat value or CO2 factor for the year, a year without an electricity factor, a unit of the wrong
            dimension (an energy given as a plain volume), a missing base year, a fiscal year given twice,
            renewable electricity larger than the electricity purchased.
    """
    carriers = carriers or load_carrier_table()
    plan = plan or load_plan()
    if factor_tables is None:
        factor_tables, _problems = load_factor_tables()
    power_table = factor_tables.get(POWER_FACTOR_TABLE)
    spec = sub.spec
    problems: list[KokenError] = []
    definition = {"measure": spec.intensity.measure, "unit": spec.intensity.unit, "deflator": spec.intensity.deflator}
    try:
        activity_unit = parse_unit(spec.intensity.unit, location=sub.where("intensity.unit"))
    except UnitError as err:
        problems.append(err)
        activity_unit = None
    base_years = {
        "commit": spec.base_years.commit or plan.spec.commit.base_year,
        "challenge": spec.base_years.challenge or plan.spec.challenge.base_year,
    }
    origins: list[dict] = []
    _check_declarations(sub, carriers, problems)
    year_rows, carrier_rows, measure_rows, renewable_rows = [], [], [], []
    seen_years: dict[int, int] = {}
    crude_per_gj = carriers.crude_oil_per_gj
    for y, record in enumerate(spec.years):
        fy = record.fiscal_year
        prefix = f"years.{y}"
        if fy in seen_years:
            problems.append(
                PortfolioError(
                    _("FY{year} is given twice (years {first} and {second})").format(year=fy, first=seen_years[fy], second=y),
                    sub.where(f"{prefix}.fiscal_year"),
                )
            )
            continue
        seen_years[fy] = y
        factor = _power_factor(sub, fy, power_table, problems, sub.where(prefix))
        factor_kg_per_kwh = float(factor.quantity.to(parse_unit(FACTOR_UNIT)).magnitude) if factor else float("nan")
        if factor is not None:
            origins.append(
                {
                    "fiscal_year": fy,
                    "value": "electricity CO2 factor",
                    "quantity": f"{factor_kg_per_kwh:g} {FACTOR_UNIT}",
                    **factor.origin,
                }
            )
        energy_gj = co2_fuels = co2_electricity = electricity_kwh = 0.0
        basis = "carriers"
        if record.reported is not None:
            if record.energy:
                problems.append(
                    PortfolioError(
                        _("a year is given either by carrier (energy) or as reported totals, not both"),
                        sub.where(f"{prefix}.reported"),
                    )
                )
            basis = "reported totals"
            r = record.reported
            energy_gj = _magnitude(r.energy, ENERGY_UNIT, sub.where(f"{prefix}.reported.energy"), _("reported energy"), problems)
            co2_total = _magnitude(r.co2, CO2_UNIT, sub.where(f"{prefix}.reported.co2"), _("reported CO2"), problems)
            electricity_kwh = (
                _magnitude(
                    r.electricity,
                    ELECTRICITY_UNIT,
                    sub.where(f"{prefix}.reported.electricity"),
                    _("reported electricity"),
                    problems,
                )
                if r.electricity
                else float("nan")
            )
            co2_electricity = electricity_kwh * factor_kg_per_kwh * CO2_PER_KWH if r.electricity else float("nan")
            co2_fuels = co2_total - co2_electricity if r.electricity else float("nan")
            origins.append(
                {"fiscal_year": fy, "value": "reported totals", "source": "declared by the company", "title": r.source}
            )
        elif not record.energy:
            problems.append(
                PortfolioError(
                    _("FY{year} has no energy use: give the carriers (energy) or reported totals").format(year=fy),
                    sub.where(prefix),
                )
            )
        named: dict[str, str] = {}
        for name, amount_text in record.energy.items():
            where = sub.where(f"{prefix}.energy.{name}")
            carrier = carriers.carrier(name)
            if carrier is None:
                problems.append(PortfolioError(_unknown_carrier(name, carriers), where))
                continue
            if carrier.id in named:
                problems.append(
                    PortfolioError(
                        _("FY{year}: {carrier} is given twice (as {first!r} and {second!r}): give one amount").format(
                            year=fy, carrier=carrier.id, first=named[carrier.id], second=name
                        ),
                        where,
                    )
                )
                continue
            named[carrier.id] = name
            if carrier.kind == "electricity" and "Wh" not in amount_text:
                problems.append(
                    UnitError(
                        _(
                            "give electricity in kWh, MWh or GWh, got {amount!r} (an energy in GJ or "
                            "原油換算kL is ambiguous: heat value or electricity?)"
                        ).format(amount=amount_text),
                        where,
                    )
                )
                continue
            amount = _magnitude(amount_text, carrier.unit, where, _("amount of {carrier}").format(carrier=carrier.id), problems)
            heat_value = _carrier_value(sub, carriers, carrier, fy, "heat", where, problems)
            if heat_value is None:
                continue
            heat, heat_origin = heat_value
            if carrier.kind == "electricity":
                kwh = amount * conversion_factor(parse_unit(carrier.unit), parse_unit(ELECTRICITY_UNIT))
                electricity_kwh += kwh
                co2 = kwh * factor_kg_per_kwh * CO2_PER_KWH
                co2_electricity += co2
                co2_factor, co2_origin = (
                    factor_kg_per_kwh * CO2_PER_KWH * conversion_factor(parse_unit(carrier.unit), parse_unit(ELECTRICITY_UNIT)),
                    _("electricity CO2 factor of the year"),
                )
            else:
                co2_value = _carrier_value(sub, carriers, carrier, fy, "co2", where, problems)
                if co2_value is None:
                    continue
                co2_factor, co2_origin = co2_value
                co2 = amount * co2_factor
                co2_fuels += co2
            gj = amount * heat
            energy_gj += gj
            carrier_rows.append(
                {
                    "company": spec.company,
                    "fiscal_year": fy,
                    "carrier": carrier.id,
                    "carrier_ja": carrier.ja,
                    "amount": amount,
                    "unit": carrier.unit,
                    f"heat_value[{ENERGY_UNIT}/unit]": heat,
                    f"energy[{ENERGY_UNIT}]": gj,
                    f"co2_factor[{CO2_UNIT}/unit]": co2_factor,
                    f"co2[{CO2_UNIT}]": co2,
                    "heat_value_origin": heat_origin,
                    "co2_factor_origin": co2_origin,
                }
            )
        r = record.renewables
        renewable = {}
        for term in RENEWABLE_ITEMS:
            text = getattr(r, term.id)
            renewable[term.id] = (
                _magnitude(text, RENEWABLE_UNIT, sub.where(f"{prefix}.renewables.{term.id}"), _(term.en), problems)
                if text
                else 0.0
            )
        renewable_rows.append(
            {"company": spec.company, "fiscal_year": fy, **{f"{k}[{RENEWABLE_UNIT}]": v for k, v in renewable.items()}}
        )
        self_consumed_kwh = (renewable["self_consumed_solar"] + renewable["self_consumed_other"]) * KWH_PER_RENEWABLE_UNIT
        green_kwh = self_consumed_kwh + (renewable["purchased"] + renewable["certificates"]) * KWH_PER_RENEWABLE_UNIT
        bought = renewable["purchased"] + renewable["certificates"]
        if basis == "carriers" and bought * KWH_PER_RENEWABLE_UNIT > electricity_kwh * (1 + 1e-9):
            problems.append(
                PortfolioError(
                    _(
                        "FY{year}: renewable electricity purchased and certificates ({renewable} {unit}) exceed "
                        "the electricity purchased ({purchased} {unit})"
                    ).format(
                        year=fy,
                        renewable=f"{bought:g}",
                        purchased=f"{electricity_kwh / KWH_PER_RENEWABLE_UNIT:g}",
                        unit=RENEWABLE_UNIT,
                    ),
                    sub.where(f"{prefix}.renewables"),
                )
            )
        denominator = electricity_kwh + self_consumed_kwh
        for m, measure in enumerate(record.measures):
            kind = plan.measure_kind(measure.kind)
            if kind is None:
                problems.append(
                    PortfolioError(
                        _("unknown measure kind {kind!r}: expected one of {kinds}").format(
                            kind=measure.kind, kinds=", ".join(f"{k.id} ({k.ja})" for k in plan.spec.measure_kinds)
                        ),
                        sub.where(f"{prefix}.measures.{m}"),
                    )
                )
                continue
            investment = _magnitude(
                measure.investment, INVESTMENT_UNIT, sub.where(f"{prefix}.measures.{m}.investment"), _("investment"), problems
            )
            reduction = _magnitude(
                measure.reduction,
                REDUCTION_UNIT,
                sub.where(f"{prefix}.measures.{m}.reduction"),
                _("CO2 reduction per year"),
                problems,
            )
            measure_rows.append(
                {
                    "company": spec.company,
                    "fiscal_year": fy,
                    "measure": kind.id,
                    "measure_ja": kind.ja,
                    f"investment[{INVESTMENT_UNIT}]": investment,
                    f"reduction[{REDUCTION_UNIT}]": reduction,
                }
            )
        activity = float("nan")
        if activity_unit is not None:
            activity = _magnitude(
                record.activity,
                spec.intensity.unit,
                sub.where(f"{prefix}.activity"),
                _("activity ({measure})").format(measure=spec.intensity.measure),
                problems,
                "positive",
            )
        co2_total = co2_total if basis == "reported totals" else co2_fuels + co2_electricity
        year_rows.append(
            {
                "company": spec.company,
                "fiscal_year": fy,
                "basis": basis,
                f"energy[{ENERGY_UNIT}]": energy_gj,
                f"energy[{CRUDE_UNIT}]": energy_gj * crude_per_gj,
                f"purchased_electricity[{ELECTRICITY_UNIT}]": electricity_kwh
                if basis == "carriers" or record.reported.electricity
                else float("nan"),
                f"co2_fuels[{CO2_UNIT}]": co2_fuels,
                f"co2_electricity[{CO2_UNIT}]": co2_electricity,
                f"co2[{CO2_UNIT}]": co2_total,
                f"electricity_factor[{FACTOR_UNIT}]": factor_kg_per_kwh,
                f"activity[{spec.intensity.unit}]": activity,
                "renewable_share[fraction]": green_kwh / denominator if denominator > 0 else float("nan"),
            }
        )
    years = pd.DataFrame(year_rows)
    for name, fy in base_years.items():
        if years.empty or fy not in set(years["fiscal_year"]):
            target = plan.spec.commit if name == "commit" else plan.spec.challenge
            missing = (
                _(
                    "the commit target's base year FY{year} is missing ({target}): give FY{year}'s energy use and "
                    "activity (by carrier, or as reported totals)"
                )
                if name == "commit"
                else _(
                    "the challenge target's base year FY{year} is missing ({target}): give FY{year}'s energy use and "
                    "CO2 (by carrier, or as reported totals)"
                )
            )
            problems.append(PortfolioError(missing.format(year=fy, target=pick(target.ja, target.en)), sub.where("years")))
    if not problems:
        for name, column in (("commit", f"energy[{CRUDE_UNIT}]"), ("challenge", f"co2[{CO2_UNIT}]")):
            base = years.loc[years["fiscal_year"] == base_years[name], column]
            if len(base) and not float(base.iloc[0]) > 0:
                zero = (
                    _("the commit base year FY{year} has no energy: a change against zero cannot be computed")
                    if name == "commit"
                    else _("the challenge base year FY{year} has no CO2: a change against zero cannot be computed")
                )
                problems.append(PortfolioError(zero.format(year=base_years[name]), sub.where("years")))
        figures = years.select_dtypes("number").to_numpy(dtype=float)
        if not np.isfinite(figures[~np.isnan(figures)]).all():
            problems.append(PortfolioError(_("the figures are too large to compute with"), sub.where("years")))
    if problems:
        raise KokenErrors(problems)
    years = years.sort_values("fiscal_year", kind="stable").reset_index(drop=True)
    _add_target_columns(years, spec.intensity.unit, base_years, plan)
    return CompanyProgress(
        company=spec.company,
        group=spec.group,
        source=sub.source,
        content_hash=sub.content_hash,
        definition=definition,
        base_years=base_years,
        years=years,
        carriers=pd.DataFrame(carrier_rows),
        measures=_measures_frame(measure_rows),
        renewables=pd.DataFrame(renewable_rows).sort_values("fiscal_year").reset_index(drop=True),
        origins=origins,
    )


def _unknown_carrier(name: str, carriers: CarrierTable) -> str:
    return _("unknown energy carrier {name!r}: expected one of {carriers}").format(name=name, carriers=carriers.names())


def _check_declarations(sub: Submission, carriers: CarrierTable, problems: list[KokenError]) -> None:
    """Two declared values for one carrier (or one year's electricity) that overlap are refused: which one
    would apply is not for koken to choose."""
    spec = sub.spec
    seen_years: dict[int, int] = {}
    for i, f in enumerate(spec.electricity_factors):
        if f.fiscal_year in seen_years:
            problems.append(
                PortfolioError(
                    _("the electricity factor of FY{year} is declared twice (entries {first} and {second})").format(
                        year=f.fiscal_year, first=seen_years[f.fiscal_year], second=i
                    ),
                    sub.where(f"electricity_factors.{i}.value"),
                )
            )
        seen_years.setdefault(f.fiscal_year, i)
    for field_name in ("heat_values", "co2_factors"):
        entries = getattr(spec, field_name)
        for i, a in enumerate(entries):
            ca = carriers.carrier(a.carrier)
            if ca is None:
                problems.append(
                    PortfolioError(_unknown_carrier(a.carrier, carriers), sub.where(f"{field_name}.{i}.carrier"))
                )
                continue
            for j in range(i):
                b = entries[j]
                cb = carriers.carrier(b.carrier)
                lo_a, hi_a = a.first or 0, a.last or 9999
                lo_b, hi_b = b.first or 0, b.last or 9999
                if cb is not None and cb.id == ca.id and lo_a <= hi_b and lo_b <= hi_a:
                    problems.append(
                        PortfolioError(
                            _("{field}: {carrier} is declared twice for overlapping years (entries {first} and {second})").format(
                                field=field_name, carrier=ca.id, first=j, second=i
                            ),
                            sub.where(f"{field_name}.{i}.value"),
                        )
                    )
                    break


def _measures_frame(rows: list[dict]) -> pd.DataFrame:
    columns = [
        "company",
        "fiscal_year",
        "measure",
        "measure_ja",
        f"investment[{INVESTMENT_UNIT}]",
        f"reduction[{REDUCTION_UNIT}]",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    return frame


def investment_per_tonne(investment_million_yen: np.ndarray | float, reduction_t_per_yr: np.ndarray | float):
    """Yen invested per tonne of CO2 reduced per year: investment [百万円] × 10⁶ 円/百万円 ÷ reduction [t-CO2/yr].

    Returns:
        ``円/(t-CO2/yr)``; NaN where the reduction is zero.
    """
    yen_per_million = conversion_factor(parse_unit(INVESTMENT_UNIT), parse_unit("円"))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            np.asarray(reduction_t_per_yr) > 0,
            np.asarray(investment_million_yen) * yen_per_million / np.asarray(reduction_t_per_yr),
            np.nan,
        )


def _add_target_columns(years: pd.DataFrame, activity_unit: str, base_years: dict, plan: Plan) -> None:
    """Intensity, the two targets' paths and the factor split, in place (rules in the module docstring)."""
    intensity = years[f"energy[{CRUDE_UNIT}]"] / years[f"activity[{activity_unit}]"]
    years[f"intensity[{CRUDE_UNIT}/{activity_unit}]"] = intensity
    fy = years["fiscal_year"].to_numpy()
    commit_base = base_years["commit"]
    base_intensity = float(intensity[years["fiscal_year"] == commit_base].iloc[0])
    n = fy - commit_base
    ratio = intensity.to_numpy() / base_intensity
    years["intensity_improvement[fraction]"] = 1.0 - ratio
    years["commit_path[fraction]"] = [plan.commit_required(int(y), commit_base) if y >= commit_base else np.nan for y in fy]
    with np.errstate(divide="ignore", invalid="ignore"):
        years["average_annual_improvement[fraction]"] = np.where(n > 0, 1.0 - ratio ** (1.0 / np.where(n > 0, n, 1)), np.nan)
    years["commit_on_track"] = [
        bool(i >= p - 1e-12) if y > commit_base else None
        for i, p, y in zip(years["intensity_improvement[fraction]"], years["commit_path[fraction]"], fy)
    ]
    challenge_base = base_years["challenge"]
    co2 = years[f"co2[{CO2_UNIT}]"].to_numpy()
    base_row = years["fiscal_year"] == challenge_base
    base_co2 = float(years.loc[base_row, f"co2[{CO2_UNIT}]"].iloc[0])
    years["co2_change_vs_base[fraction]"] = co2 / base_co2 - 1.0
    years["challenge_path[fraction]"] = [
        0.0 - plan.challenge_required(int(y), challenge_base) + 0.0 if y >= challenge_base else np.nan for y in fy
    ]
    years["challenge_on_track"] = [
        bool(c <= p + 1e-12) if y > challenge_base else None
        for c, p, y in zip(years["co2_change_vs_base[fraction]"], years["challenge_path[fraction]"], fy)
    ]
    electricity = years[f"purchased_electricity[{ELECTRICITY_UNIT}]"].to_numpy()
    factor = years[f"electricity_factor[{FACTOR_UNIT}]"].to_numpy()
    base_factor = float(years.loc[base_row, f"electricity_factor[{FACTOR_UNIT}]"].iloc[0])
    years[f"co2_fixed_factor[{CO2_UNIT}]"] = years[f"co2_fuels[{CO2_UNIT}]"].to_numpy() + electricity * base_factor * CO2_PER_KWH
    change = np.full(len(years), np.nan)
    factor_part = np.full(len(years), np.nan)
    for i in range(1, len(years)):
        if fy[i] - fy[i - 1] == 1:
            change[i] = co2[i] - co2[i - 1]
            factor_part[i] = electricity[i] * (factor[i] - factor[i - 1]) * CO2_PER_KWH
    years[f"co2_change[{CO2_UNIT}]"] = change
    years[f"co2_change_power_factor[{CO2_UNIT}]"] = factor_part
    years[f"co2_change_own[{CO2_UNIT}]"] = change - factor_part
