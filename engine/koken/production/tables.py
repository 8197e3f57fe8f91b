"""The action plan's data tables: energy carriers (heat values, CO2 bases) and the plan (targets, measure kinds).

Both live in ``action_plan/`` as sourced YAML (``carriers.yaml``, ``plan.yaml``); nothing of them is
in code. A carrier's heat value comes from the Energy Conservation Act's table (省エネ法, for energy
use and the crude-oil equivalent), its CO2 factor from the GHG accounting ordinance (温対法 算定省令:
heat value × carbon factor × 44/12), each for the fiscal years it names; outside them a submission
declares its own value, and a carrier with neither is refused.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import pint
import pydantic
from pydantic import ConfigDict, Field, model_validator

from koken.base.errors import KokenErrors, Location, MethodologyError, UnitError
from koken.base.i18n import _
from koken.base.models import Number, StrictModel, validation_problems
from koken.base.paths import action_plan_dir, display_path
from koken.base.safe_yaml import load_yaml_file
from koken.base.units import conversion_factor, parse_quantity, parse_unit, registry
from koken.factors import FactorSource

CO2_PER_CARBON = 44.0 / 12.0
"""Tonnes of CO2 per tonne of carbon burnt: the molar masses 44 and 12 as the 算定省令 writes them
(別表第一: emissions = quantity × heat value × carbon factor × 44/12)."""

_ID = r"^[a-z][a-z0-9_]{0,63}$"


class _Period(StrictModel):
    """Fiscal years a value applies to: ``from`` to ``to`` inclusive (``to`` absent: still in force)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False, populate_by_name=True)
    first: Annotated[int, Field(alias="from", ge=1990, le=2100)]
    last: Annotated[int | None, Field(alias="to", ge=1990, le=2100)] = None

    def covers(self, fiscal_year: int) -> bool:
        return self.first <= fiscal_year and (self.last is None or fiscal_year <= self.last)

    def label(self) -> str:
        return f"FY{self.first}–" + (f"FY{self.last}" if self.last is not None else "")


class HeatValue(_Period):
    """Energy per physical unit of a carrier (省エネ法), e.g. 36.7 GJ/kL of kerosene."""

    value: Number
    unit: Annotated[str, Field(min_length=1, max_length=60)]
    source: str
    note: Annotated[str, Field(max_length=1000)] | None = None


class EmissionBasis(_Period):
    """温対法's basis for a fuel's CO2: its heat value and carbon factor (t-C per GJ)."""

    heat_value: Number
    heat_unit: Annotated[str, Field(min_length=1, max_length=60)]
    carbon_factor: Number
    source: str
    note: Annotated[str, Field(max_length=1000)] | None = None


class Carrier(StrictModel):
    """An energy carrier: its id and names, the unit its amounts are given in, and its sourced values."""

    id: Annotated[str, Field(pattern=_ID)]
    ja: Annotated[str, Field(min_length=1, max_length=100)]
    en: Annotated[str, Field(min_length=1, max_length=200)]
    kind: Literal["electricity", "fuel", "heat"]
    unit: Annotated[str, Field(min_length=1, max_length=60)]
    heat_values: list[HeatValue] = Field(default_factory=list)
    emission_bases: list[EmissionBasis] = Field(default_factory=list)
    note: Annotated[str, Field(max_length=1000)] | None = None


class _Conversion(StrictModel):
    value: Number
    unit: str
    source: str


class CarrierTableSpec(StrictModel):
    """``action_plan/carriers.yaml``."""

    id: Literal["energy_carriers"]
    title: dict[Literal["ja", "en"], str]
    crude_oil_equivalent: _Conversion
    sources: list[FactorSource] = Field(min_length=1)
    carriers: list[Carrier] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> CarrierTableSpec:
        ids = {s.id for s in self.sources}
        if self.crude_oil_equivalent.source not in ids:
            raise ValueError(
                _("crude_oil_equivalent cites unknown source {source!r}").format(source=self.crude_oil_equivalent.source)
            )
        seen: set[str] = set()
        for c in self.carriers:
            names = {c.id, c.ja.casefold(), c.en.casefold()}
            if names & seen:
                raise ValueError(
                    _("carrier {carrier}: name {name!r} is used by another carrier").format(
                        carrier=c.id, name=sorted(names & seen)[0]
                    )
                )
            seen |= names
            for values in (c.heat_values, c.emission_bases):
                for v in values:
                    if v.source not in ids:
                        raise ValueError(
                            _("carrier {carrier}: cites unknown source {source!r}").format(carrier=c.id, source=v.source)
                        )
                ordered = sorted(values, key=lambda v: v.first)
                for a, b in itertools.pairwise(ordered):
                    if a.last is None or a.last >= b.first:
                        raise ValueError(
                            _("carrier {carrier}: periods {first} and {second} overlap").format(
                                carrier=c.id, first=a.label(), second=b.label()
                            )
                        )
        return self


class _Target(StrictModel):
    """What the two targets share: names, base and target year, source."""

    ja: str
    en: str
    base_year: Annotated[int, Field(ge=1990, le=2100)]
    target_year: Annotated[int, Field(ge=1990, le=2100)]
    source: str
    note: str | None = None


class CommitTarget(_Target):
    """The commit target: energy intensity improved by ``annual_improvement`` a year, compounded."""

    annual_improvement: str
    path: Literal["compound"]


class ChallengeTarget(_Target):
    """The challenge target: CO2 reduced by ``reduction`` from the base year to the target year."""

    reduction: str
    path: Literal["linear"]


class MeasureKind(StrictModel):
    id: Annotated[str, Field(pattern=_ID)]
    ja: str
    en: str


class PlanSpec(StrictModel):
    """``action_plan/plan.yaml``."""

    id: Literal["action_plan"]
    title: dict[Literal["ja", "en"], str]
    sources: list[FactorSource] = Field(min_length=1)
    commit: CommitTarget
    challenge: ChallengeTarget
    measure_kinds: list[MeasureKind] = Field(min_length=1)


@dataclass(frozen=True)
class Value:
    """A value taken from a table or a declaration: the quantity and where it comes from."""

    quantity: pint.Quantity
    origin: dict


def _fraction(text: str, where: str) -> float:
    q = parse_quantity(text, location=Location(field=where))
    try:
        return float(q.to("fraction").magnitude)
    except pint.errors.DimensionalityError:
        raise UnitError(_("{field} must be a share such as '1 %', got {text!r}").format(field=where, text=text)) from None


@dataclass(frozen=True)
class Plan:
    """The targets as rules (see :meth:`commit_required`, :meth:`challenge_required`) and the measure kinds."""

    spec: PlanSpec
    path: str
    content_hash: str

    @property
    def annual_improvement(self) -> float:
        """The commit target's yearly improvement as a fraction (0.01 for 1 %)."""
        return _fraction(self.spec.commit.annual_improvement, "commit.annual_improvement")

    @property
    def reduction(self) -> float:
        """The challenge target's reduction by its target year, as a fraction (0.46)."""
        return _fraction(self.spec.challenge.reduction, "challenge.reduction")

    def commit_required(self, fiscal_year: int, base_year: int | None = None) -> float:
        """Improvement of the energy intensity required by ``fiscal_year`` against ``base_year`` (default:
        the plan's), as a fraction: 1 − (1 − r)ⁿ, n = years since the base year (r = 1 % a year gives
        9.56 % after 10 years and 7.73 % after 8, the report's phase II and phase I targets)."""
        n = fiscal_year - (self.spec.commit.base_year if base_year is None else base_year)
        return 1.0 - (1.0 - self.annual_improvement) ** n

    def challenge_required(self, fiscal_year: int, base_year: int | None = None) -> float:
        """Reduction of CO2 against ``base_year`` (default: the plan's) that the straight path to the target
        asks by ``fiscal_year``, as a fraction (0.46 in the target year; a declared assumption, see plan.yaml)."""
        c = self.spec.challenge
        base = c.base_year if base_year is None else base_year
        return self.reduction * (fiscal_year - base) / (c.target_year - base)

    def measure_kind(self, name: str) -> MeasureKind | None:
        """The measure kind named by its id, Japanese or English name (case-insensitive), or None."""
        key = name.strip().casefold()
        return next((m for m in self.spec.measure_kinds if key in (m.id, m.ja.casefold(), m.en.casefold())), None)


@dataclass(frozen=True)
class CarrierTable:
    """The loaded carrier table: look-ups by name and fiscal year, each value with its origin."""

    spec: CarrierTableSpec
    path: str
    content_hash: str

    @property
    def crude_oil_per_gj(self) -> float:
        """kL of crude oil per GJ (0.0258, 省エネ法施行規則 第4条), as a number for ``GJ × factor = kL``."""
        c = self.spec.crude_oil_equivalent
        return c.value * conversion_factor(parse_unit(c.unit), parse_unit("kL/GJ"))

    def carrier(self, name: str) -> Carrier | None:
        """The carrier named by its id, Japanese or English name (case-insensitive), or None."""
        key = name.strip().casefold()
        return next((c for c in self.spec.carriers if key in (c.id, c.ja.casefold(), c.en.casefold())), None)

    def names(self) -> str:
        """The carrier ids with their Japanese names, for messages."""
        return ", ".join(f"{c.id} ({c.ja})" for c in self.spec.carriers)

    def _source(self, source_id: str) -> dict:
        s = next(s for s in self.spec.sources if s.id == source_id)
        return {
            "table": self.spec.id,
            "table_content_hash": self.content_hash,
            "source_id": s.id,
            "title": s.title,
            "publisher": s.publisher,
            "year": s.year,
            **({"url": s.url} if s.url else {}),
        }

    def heat_value(self, carrier: Carrier, fiscal_year: int) -> Value | None:
        """The table's heat value of ``carrier`` in ``fiscal_year`` (energy per the carrier's unit), or None."""
        entry = next((h for h in carrier.heat_values if h.covers(fiscal_year)), None)
        if entry is None:
            return None
        q = registry().Quantity(entry.value, parse_unit(entry.unit))
        return Value(q, {**self._source(entry.source), "applies": entry.label(), **({"note": entry.note} if entry.note else {})})

    def co2_factor(self, carrier: Carrier, fiscal_year: int) -> Value | None:
        """The table's CO2 per the carrier's unit in ``fiscal_year`` (heat value × carbon factor ×
        :data:`CO2_PER_CARBON`), or None (electricity takes the power factor of the year instead)."""
        entry = next((b for b in carrier.emission_bases if b.covers(fiscal_year)), None)
        if entry is None:
            return None
        ureg = registry()
        heat = ureg.Quantity(entry.heat_value, parse_unit(entry.heat_unit))
        carbon = ureg.Quantity(entry.carbon_factor, "t/GJ")  # tonnes of carbon per GJ
        q = (heat * carbon * ureg.Quantity(CO2_PER_CARBON, parse_unit("t-CO2/t"))).to(
            parse_unit("t-CO2") / parse_unit(carrier.unit)
        )
        return Value(
            q,
            {
                **self._source(entry.source),
                "applies": entry.label(),
                "derivation": f"{entry.heat_value:g} {entry.heat_unit} × {entry.carbon_factor:g} t-C/GJ × 44/12",
            },
        )


def _validated(model, path: Path):
    source = display_path(path)
    data = load_yaml_file(path)
    try:
        spec = model.model_validate(data)
    except pydantic.ValidationError as err:
        raise KokenErrors([MethodologyError(message, Location(file=source, field=path or None))
                           for path, message, _kind in validation_problems(err)]) from None
    canonical = json.dumps(
        spec.model_dump(mode="json", exclude_defaults=True, by_alias=True),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return spec, source, "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _check_units(spec: CarrierTableSpec, source: str) -> None:
    problems = []
    energy = parse_unit("GJ")
    for i, c in enumerate(spec.carriers):
        where = Location(file=source, field=f"carriers.{i}.unit")
        try:
            unit = parse_unit(c.unit, location=where)
        except UnitError as err:
            problems.append(err)
            continue
        for j, h in enumerate(c.heat_values):
            try:
                conversion_factor(
                    parse_unit(h.unit),
                    energy / unit,
                    _("heat value of {carrier}").format(carrier=c.id),
                    Location(file=source, field=f"carriers.{i}.heat_values.{j}.unit"),
                )
            except UnitError as err:
                problems.append(err)
        for j, b in enumerate(c.emission_bases):
            try:
                conversion_factor(
                    parse_unit(b.heat_unit),
                    energy / unit,
                    _("heat value of {carrier}").format(carrier=c.id),
                    Location(file=source, field=f"carriers.{i}.emission_bases.{j}.heat_unit"),
                )
            except UnitError as err:
                problems.append(err)
        if c.kind == "electricity" and c.emission_bases:
            problems.append(
                MethodologyError(
                    _("electricity takes the power factor of the year, not an emission basis"),
                    Location(file=source, field=f"carriers.{i}.emission_bases"),
                )
            )
    try:
        kl_per_gj = spec.crude_oil_equivalent.value * conversion_factor(
            parse_unit(spec.crude_oil_equivalent.unit), parse_unit("kL/GJ")
        )
        registry_rule = conversion_factor(parse_unit("GJ"), parse_unit("原油換算kL"))
        if abs(kl_per_gj - registry_rule) > 1e-12 * registry_rule:
            problems.append(
                MethodologyError(
                    _("crude_oil_equivalent {value} kL/GJ differs from units/koken.txt's 原油換算kL ({rule} kL/GJ)").format(
                        value=f"{kl_per_gj:g}", rule=f"{registry_rule:g}"
                    ),
                    Location(file=source),
                )
            )
    except UnitError as err:
        problems.append(err)
    if problems:
        raise KokenErrors(problems)


@functools.lru_cache(maxsize=4)
def load_carrier_table(path: str | None = None) -> CarrierTable:
    """Load and check ``action_plan/carriers.yaml`` (or ``path``).

    Raises:
        KokenErrors: format problems (unknown keys or sources, overlapping periods), a unit that does not
            parse, a heat value that is not energy per the carrier's unit, a crude-oil rule that differs from
            the unit definitions'.
    """
    spec, source, digest = _validated(CarrierTableSpec, Path(path) if path else action_plan_dir() / "carriers.yaml")
    _check_units(spec, source)
    return CarrierTable(spec=spec, path=source, content_hash=digest)


@functools.lru_cache(maxsize=4)
def load_plan(path: str | None = None) -> Plan:
    """Load and check ``action_plan/plan.yaml`` (or ``path``).

    Raises:
        KokenErrors: format problems, unknown sources, targets that are not shares.
    """
    spec, source, digest = _validated(PlanSpec, Path(path) if path else action_plan_dir() / "plan.yaml")
    ids = {s.id for s in spec.sources}
    problems = [
        MethodologyError(_("cites unknown source {source!r}").format(source=t.source), Location(file=source, field=name))
        for name, t in (("commit", spec.commit), ("challenge", spec.challenge))
        if t.source not in ids
    ]
    plan = Plan(spec=spec, path=source, content_hash=digest)
    for name in ("annual_improvement", "reduction"):
        try:
            share = getattr(plan, name)
            if not 0 < share < 1:
                problems.append(
                    MethodologyError(_("{field} must be between 0 and 100 %").format(field=name), Location(file=source))
                )
        except UnitError as err:
            problems.append(UnitError(err.message, Location(file=source)))
    if problems:
        raise KokenErrors(problems)
    return plan
