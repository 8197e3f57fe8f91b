"""The methodology file format, as pydantic v2 models (unknown keys are errors).

A methodology lives in ``methodologies/<category>/<id>.yaml``. Its JSON Schema, exported by
``koken schema`` to ``docs/methodology.schema.json``, gives editors completion; the prose
description is ``docs/methodology-format.md``. Semantic checks that need units or formulas
(dimensions, references between steps) are in :mod:`koken.methodology.compile`.

Sources of the rules: the baseline types follow IEC 63372:2026 (the most-used market product, or
a publicly recognised efficient product, as reported by Nikkan Kogyo, newswitch.jp/p/47719), the
industry's base-year practice (Toshiba Lifestyle: FY2013 models) and the top-runner standards; the
single-year / lifetime split is the Carbon Neutral Action Plan's 単年度 / 稼働年数 reporting
(電機・電子温暖化対策連絡会, FY2023 progress report).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BeforeValidator, ConfigDict, Field, field_validator, model_validator

from koken.base.i18n import _
from koken.base.models import Number, StrictModel, not_bool
from koken.base.vocabulary import BASELINE_TYPE_IDS, CATEGORY_IDS, CONTRIBUTION_ROLE_IDS
from koken.formula.parse import is_valid_name
from koken.uncertainty import DistributionSpec

Category = Literal[CATEGORY_IDS]
BaselineType = Literal[BASELINE_TYPE_IDS]
_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
_ID = re.compile(r"^[a-z][a-z0-9_]{1,63}$")

Text = Annotated[str, Field(min_length=1, max_length=4000)]
ShortText = Annotated[str, Field(min_length=1, max_length=300)]


class Bilingual(StrictModel):
    """A text in Japanese and English."""

    ja: Text
    en: Text


class Source(StrictModel):
    """A document a methodology cites; ``id`` is how parameters, baselines and examples refer to it."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,63}$")]
    title: Text
    publisher: ShortText
    year: Annotated[int, Field(ge=1900, le=2100)]
    url: Annotated[str, Field(pattern=r"^https?://\S+$", max_length=1000)] | None = None
    note: Text | None = None


class FunctionalUnit(StrictModel):
    """What one counted unit of shipment is (e.g. one refrigerator 台, one kW of PV)."""

    description: Bilingual
    unit: ShortText = Field(description="unit of units_shipped, e.g. 台 or kW")


class Baseline(StrictModel):
    """The reference scenario against which the product's emissions are compared."""

    type: BaselineType
    description: Bilingual
    reference_year: Annotated[int, Field(ge=1990, le=2100)] | None = None
    sources: list[str] = Field(min_length=1)


class FactorRef(StrictModel):
    """Where a parameter's value comes from when the portfolio leaves it empty: a shared factor table.

    ``table`` is a file in ``factors/``; ``key`` fixes keys the row does not give (e.g.
    ``{fuel: city_gas}``); ``region`` and ``fiscal_year`` come from the product line.
    """

    table: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")]
    key: dict[Literal["fuel", "gas", "region", "fiscal_year"], str | int] = Field(default_factory=dict)


class Parameter(StrictModel):
    """An input of the methodology: required from the portfolio, or defaulted with a cited source.

    ``range`` is ``[min, max]`` in the parameter's own unit (either may be null). A parameter
    whose unit is ``fraction`` gets ``[0, 1]`` and one in ``%`` gets ``[0, 100]`` when no range
    is given, so that 90 where 0.9 is meant is refused.
    """

    unit: ShortText
    description: Bilingual
    default: Number | None = None
    default_source: str | None = None
    default_reason: Bilingual | None = Field(None, description=(
        "instead of default_source, for a neutral default that says a term does not apply (0: a product that burns "
        "no fuel; 1: one product replaces one baseline product): why"))
    factor: FactorRef | None = Field(None, description="look the value up in a shared factor table when the "
                                                       "portfolio leaves it empty")
    default_distribution: DistributionSpec | None = Field(None, description=(
        "the default's uncertainty, one random variable shared by every row that uses the default in a Monte Carlo "
        "run (koken calculate --draws)"))
    range: tuple[Number | None, Number | None] | None = None
    aliases: list[ShortText] = Field(default_factory=list,
                                     description="other column headers, e.g. Japanese ones")

    @model_validator(mode="after")
    def _default_needs_source(self) -> Parameter:
        if self.default is not None and self.factor is not None:
            raise ValueError(_("a parameter takes either a default or a factor table, not both"))
        if self.default_reason is not None and (self.default not in (0, 1) or self.default_source):
            raise ValueError(_("default_reason is for a neutral default that says a term does not apply (0 for an "
                               "added term, 1 for a factor such as one unit replacing one); a value needs "
                               "default_source instead"))
        if self.default is not None and not self.default_source and self.default_reason is None:
            raise ValueError(_("a default needs default_source (the id of a source with a confirmed value)"))
        if self.default is None and self.default_source:
            raise ValueError(_("default_source is given but there is no default"))
        if self.default_distribution is not None and self.default is None:
            raise ValueError(_("default_distribution describes a default: give default too"))
        if self.range and None not in self.range and self.range[0] > self.range[1]:
            raise ValueError(_("range minimum {low} is above its maximum {high}").format(low=self.range[0],
                                                                                         high=self.range[1]))
        return self


class FormulaStep(StrictModel):
    """One named step: an expression over parameters and earlier steps (see koken.formula.parse)."""

    name: ShortText
    expression: Text
    unit: ShortText | None = Field(None, description="unit to display the step in; checked against the "
                                                     "unit derived from the expression")
    description: Bilingual | None = None
    range: tuple[Number | None, Number | None] | None = Field(None, description=(
        "allowed values of the step in its unit, checked for every row like an input's (a derived operating "
        "years, a derived share); a step that defines a category parameter takes that parameter's range unless it "
        "gives its own"))

    @field_validator("name")
    @classmethod
    def _name_ok(cls, value: str) -> str:
        if not is_valid_name(value):
            raise ValueError(_("step name {name!r} must be an ASCII identifier (letter first, then letters, "
                               "digits, _), not a keyword or min/max/abs/where").format(name=value))
        return value


class ExpectedValue(StrictModel):
    """An expected output of an example: value, unit, and relative tolerance."""

    value: Number
    unit: ShortText
    rel_tol: Annotated[Number, Field(gt=0, le=0.5)] = 1e-6


class Example(StrictModel):
    """A worked example: inputs → expected outputs, and where its numbers come from.

    ``inputs`` values are quantity strings (``"420 kWh/yr"``); bare numbers only for
    dimensionless parameters. ``units_shipped`` may be given to check ``single_year`` and
    ``lifetime``. ``expected`` keys are step names, ``single_year`` or ``lifetime``.
    """

    name: ShortText
    description: Text
    source: str = Field(description="a source id, or 'hand_calculation'")
    calculation: Text | None = Field(None, description="the hand calculation written out")
    region: Annotated[str, Field(min_length=1, max_length=40)] | None = Field(
        None, description="region of use, for factor-table lookups")
    fiscal_year: Annotated[int, Field(ge=1990, le=2100)] | None = Field(
        None, description="fiscal year, for factor-table lookups")
    inputs: dict[str, Annotated[str | float, BeforeValidator(not_bool)]]
    expected: dict[str, ExpectedValue] = Field(min_length=1)


class Checks(StrictModel):
    """Property checks the test suite runs on the file (on top of its first example's inputs).

    ``equal_to_baseline``: inputs that make the product equal to its baseline (a value is another
    parameter's name, copied, or a quantity string); ``avoided_per_unit_year`` must then be exactly 0.
    ``worse_than_baseline``: inputs that make the product worse; the result must be negative (never
    clipped). Either may be omitted with a reason in ``note`` (e.g. a plant cannot be worse than a grid).
    """

    equal_to_baseline: dict[str, Annotated[str | float, BeforeValidator(not_bool)]] = Field(min_length=1)
    worse_than_baseline: dict[str, Annotated[str | float, BeforeValidator(not_bool)]] | None = None
    note: Text | None = None


class Status(StrictModel):
    """How far a methodology is confirmed: ``confirmed`` (published evidence that it is one of the industry's), or
    ``provisional`` with what is still unconfirmed (stated in the file, never as a drafting note in its prose)."""

    state: Literal["confirmed", "provisional"]
    unconfirmed: Bilingual | None = None

    @model_validator(mode="after")
    def _provisional_says_what(self) -> Status:
        if self.state == "provisional" and self.unconfirmed is None:
            raise ValueError(_("a provisional methodology says what is still unconfirmed (status.unconfirmed)"))
        return self


class MethodologySpec(StrictModel):
    """A methodology file."""

    model_config = ConfigDict(title="Methodology")

    id: str
    version: str
    kind: Literal["product", "category"] = Field("product", description=(
        "a product methodology, or a category methodology (統合版方法論) that holds a category's shared structure "
        "for product methodologies to extend"))
    title: Bilingual
    aliases: list[ShortText] = Field(default_factory=list, description=(
        "other names a portfolio may give the methodology (冷蔵庫, 磁気ディスク装置)"))
    status: Status | None = Field(None, description="confirmed or provisional, with what is still unconfirmed")
    category: Category
    result_type: Literal["avoided_emissions", "emission_reduction"] = Field(
        description="avoided emissions against a reference scenario (IEC 63372, WBCSD), or an emission "
                    "reduction inside the product system; the two are never added together")
    contribution_role: Literal[CONTRIBUTION_ROLE_IDS] = Field(
        description="the product's role in the avoided emissions; disclosed with every result (WBCSD 2023)")
    eligibility_note: Bilingual | None = Field(
        None, description="why a framework may doubt the claim (e.g. fossil efficiency under WBCSD's "
                          "climate-alignment gate)")
    fossil_lock_in: bool = Field(False, description=(
        "the product is an efficiency gain on a fossil asset that may lock in emissions (WBCSD v2.0's legitimacy "
        "test): every output that reports it says so"))
    factor_basis: Literal["all_source", "thermal_average"] = Field("all_source", description=(
        "which grid factor the methodology's electricity takes: the all-source average (全電源平均, the industry's "
        "default) or the thermal average (火力平均, a named sensitivity)"))
    category11_step: str | None = Field("product_emissions", description=(
        "the step whose emissions Scope 3 category 11 counts for the products sold (GHG Protocol Scope 3 Standard, "
        "use of sold products): the product's use-phase emissions, by default product_emissions; another step "
        "where product_emissions also holds emissions outside the use phase (an ICT solution's embodied share); "
        "null where nothing sold has a use phase of its own"))
    functional_unit: FunctionalUnit
    baseline: Baseline
    hours_per_year: Annotated[int, Field(ge=8760, le=8784), BeforeValidator(not_bool)] = 8760
    operating_years: str = Field(description="name of the parameter or step giving the operating years")
    parameters: dict[str, Parameter] = Field(min_length=1, max_length=200)
    formulas: list[FormulaStep] = Field(min_length=1, max_length=100)
    sources: list[Source] = Field(min_length=1)
    examples: list[Example] = Field(min_length=1)
    share_groups: list[list[str]] = Field(default_factory=list, description=(
        "groups of share parameters (fractions or %) that must add up to 100 % in every row"))
    checks: Checks | None = None
    notes: Text | None = None

    @field_validator("id")
    @classmethod
    def _id_ok(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(_("id must be lower-case snake_case (a-z, 0-9, _), 2-64 characters"))
        return value

    @field_validator("version")
    @classmethod
    def _semver(cls, value: str) -> str:
        if not _SEMVER.match(value):
            raise ValueError(_("version must be semantic MAJOR.MINOR.PATCH, e.g. 1.0.0"))
        return value

    @field_validator("parameters")
    @classmethod
    def _parameter_names(cls, value: dict[str, Parameter]) -> dict[str, Parameter]:
        for name in value:
            if not is_valid_name(name):
                raise ValueError(_("parameter name {name!r} must be an ASCII identifier (letter first, then "
                                   "letters, digits, _), not a keyword or min/max/abs/where").format(name=name))
        return value


def parameter_headers(parameters: Mapping[str, Parameter]) -> dict[str, str]:
    """Every column header parameters are read from → the parameter: each parameter's name and its ``aliases``
    (a header naming two parameters is refused when the file is compiled)."""
    return {header: name for name, p in parameters.items() for header in (name, *p.aliases)}
