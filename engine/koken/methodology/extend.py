"""Product methodologies on a category methodology (the integrated methodology, 統合版方法論).

A category methodology (``kind: category``, ``methodologies/<category>/<category>.yaml``) holds what the products of
one category share: the functional unit, the baseline and product scenarios (``baseline_emissions``,
``product_emissions``), ``avoided_per_unit_year`` as their difference, the parameters those formulas read and their
sources. A product methodology names it with ``extends: <category>`` and adds only what is its own:

* ``parameters``: a parameter of the category is overridden field by field (a description, aliases, a default, a
  range; a unit only for one of the same dimension); a new parameter (with a ``unit``) is added;
* ``formulas``: a step named after a parameter of the category defines that parameter (an LED's annual energy is
  power × hours, so ``baseline_annual_energy`` is no longer an input); other new steps are intermediate steps. A
  step of the category is never redefined: the shared formulas are written once;
* ``functional_unit.description``, ``baseline``, ``sources`` (added to the category's), ``examples`` (the product's
  own; the category's run on the category), ``checks`` (the category's unless the product gives its own),
  ``share_groups`` (added), ``operating_years``, the title, aliases, status and the other fields of a methodology.

The result is one ordinary methodology (:class:`koken.methodology.schema.MethodologySpec`), compiled and checked as
any other; its content hash covers the category's part too, so a change to a category moves every product on it
(``koken diff`` names them, the version lock asks for their new versions).

Source of the structure: the industry's move to an integrated methodology (統合版方法論) from FY2025, one per
category plus product methodologies (電機・電子温暖化対策連絡会, FY2023 progress report); the generic skeleton,
avoided = baseline − product use-phase emissions per functional unit and year (``methodologies.md`` §1.1,
IEC 63372:2026's two scenarios).
"""

from __future__ import annotations

import copy
from typing import Annotated, Literal

import pydantic
from pydantic import BeforeValidator, Field

from koken.base.errors import KokenError, KokenErrors, Location, MethodologyError
from koken.base.i18n import _
from koken.base.models import Number, StrictModel, not_bool, validation_problems
from koken.methodology.schema import (
    Baseline,
    Bilingual,
    Checks,
    Example,
    FactorRef,
    FormulaStep,
    MethodologySpec,
    ShortText,
    Source,
    Status,
    Text,
)
from koken.uncertainty import DistributionSpec


class ParameterOverride(StrictModel):
    """A product's change to a parameter of its category, or (with a ``unit``) a parameter of its own."""

    unit: ShortText | None = None
    description: Bilingual | None = None
    default: Number | None = None
    default_source: str | None = None
    default_reason: Bilingual | None = None
    default_distribution: DistributionSpec | None = None
    factor: FactorRef | None = None
    range: tuple[Number | None, Number | None] | None = None
    aliases: list[ShortText] | None = None


class FunctionalUnitOverride(StrictModel):
    description: Bilingual | None = None
    unit: ShortText | None = None


class MethodologyExtension(StrictModel):
    """A product methodology file that ``extends`` a category methodology: only what is its own."""

    id: str
    version: str
    extends: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")]
    kind: Literal["product"] = "product"
    title: Bilingual
    aliases: list[ShortText] = Field(default_factory=list)
    status: Status | None = None
    category: str | None = None
    result_type: Literal["avoided_emissions", "emission_reduction"] | None = None
    contribution_role: str | None = None
    eligibility_note: Bilingual | None = None
    fossil_lock_in: bool | None = None
    factor_basis: Literal["all_source", "thermal_average"] | None = None
    category11_step: str | None = None
    functional_unit: FunctionalUnitOverride | None = None
    baseline: Baseline | None = None
    hours_per_year: Annotated[int, Field(ge=8760, le=8784), BeforeValidator(not_bool)] | None = None
    operating_years: str | None = None
    parameters: dict[str, ParameterOverride] = Field(default_factory=dict)
    formulas: list[FormulaStep] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)
    examples: list[Example] = Field(min_length=1)
    share_groups: list[list[str]] = Field(default_factory=list)
    checks: Checks | None = None
    notes: Text | None = None


def extension_of(data: dict, source: str) -> MethodologyExtension:
    """A product file's own content, checked before it is merged (problems located in the product's file).

    Raises:
        KokenErrors: the file breaks the extension format.
    """
    try:
        return MethodologyExtension.model_validate(data)
    except pydantic.ValidationError as err:
        unknown = _("unknown key (check the spelling; see docs/methodology-format.md)")
        raise KokenErrors([MethodologyError(message, Location(file=source, field=where or None))
                           for where, message, _kind in validation_problems(err, unknown)]) from None


def merge(category: MethodologySpec, extension: MethodologyExtension, source: str) -> MethodologySpec:
    """The product methodology: ``category`` with ``extension`` laid over it (the rules are the module's).

    Args:
        category: the category methodology's parsed file (``kind: category``).
        extension: the product file, as :func:`extension_of` reads it.
        source: the product file, for messages.
    Returns:
        MethodologySpec of the product.
    Raises:
        KokenErrors: every problem of the extension at once (a dangling override, a unit of another dimension, a
            redefined category step, a source id given twice, another category), and the merged file's own.
    """
    from koken.base.units import parse_unit

    problems: list[KokenError] = []

    def at(field: str) -> Location:
        return Location(file=source, field=field)

    if category.kind != "category":
        problems.append(MethodologyError(_("extends {id!r}, which is a product methodology: a product extends its "
                                           "category methodology").format(id=category.id), at("extends")))
    merged = category.model_dump(mode="json", exclude_none=True)
    merged.pop("examples")
    own = extension.model_dump(mode="json", exclude_unset=True)
    if own.get("category") not in (None, category.category):
        problems.append(MethodologyError(_("category {category!r}, but the methodology it extends is of {base!r}")
                                         .format(category=own["category"], base=category.category), at("category")))
    for key in ("id", "version", "title", "result_type", "contribution_role", "eligibility_note", "fossil_lock_in",
                "factor_basis", "category11_step", "baseline", "hours_per_year", "operating_years", "checks", "notes", "status"):
        if key in own:
            merged[key] = own[key]
    merged["kind"] = "product"
    merged["aliases"] = own.get("aliases", [])
    if "status" not in own:
        merged.pop("status", None)
    if "functional_unit" in own:
        unit = own["functional_unit"].get("unit")
        if unit is not None and unit != category.functional_unit.unit:
            problems.append(MethodologyError(_("functional unit {unit!r}, but the category counts in {base!r}: a "
                                               "product keeps its category's functional unit").format(
                unit=unit, base=category.functional_unit.unit), at("functional_unit.unit")))
        merged["functional_unit"] = {**merged["functional_unit"], **own["functional_unit"]}
    parameters = copy.deepcopy(merged["parameters"])
    for name, override in own.get("parameters", {}).items():
        if name in parameters:
            new_unit = override.get("unit")
            if new_unit is not None and new_unit != parameters[name]["unit"]:
                try:
                    same = (parse_unit(new_unit).dimensionality == parse_unit(parameters[name]["unit"]).dimensionality)
                except KokenError:
                    same = True  # an unreadable unit is reported when the merged file is compiled
                if not same:
                    problems.append(MethodologyError(_("unit {unit!r} is not of the dimension of the category's "
                                                       "{base!r}").format(unit=new_unit, base=parameters[name]["unit"]),
                                                     at(f"parameters.{name}.unit")))
            if "default" in override or "factor" in override:  # a default and a table exclude each other
                for key in ("default", "default_source", "default_reason", "default_distribution", "factor"):
                    parameters[name].pop(key, None)
            parameters[name].update(override)
        elif "unit" not in override:
            problems.append(MethodologyError(_("overrides {name!r}, which is no parameter of {category} (a new "
                                               "parameter needs its unit)").format(name=name, category=category.id),
                                             at(f"parameters.{name}")))
        else:
            parameters[name] = override
    category_steps = {s.name for s in category.formulas}
    own_steps = own.get("formulas", [])
    for index, step in enumerate(own_steps):
        if step["name"] in category_steps:
            problems.append(MethodologyError(_("redefines the category's step {name!r}: a product methodology does not "
                                               "repeat or change the shared formulas; define one of their inputs "
                                               "instead").format(name=step["name"]), at(f"formulas[{index}]")))
        defined = parameters.pop(step["name"], None)  # a step that defines a category input: derived now
        if defined is not None and defined.get("range") is not None and step.get("range") is None:
            step["range"] = defined["range"]  # and range-checked like the input it replaces
            if step.get("unit") is None:
                step["unit"] = defined["unit"]
    merged["parameters"] = parameters
    merged["formulas"] = own_steps + merged["formulas"]
    ids = {s.id for s in category.sources}
    for index, s in enumerate(own.get("sources", [])):
        if s["id"] in ids:
            problems.append(MethodologyError(_("source id {id!r} is the category's already").format(id=s["id"]),
                                             at(f"sources[{index}]")))
    merged["sources"] = merged["sources"] + own.get("sources", [])
    merged["share_groups"] = merged.get("share_groups", []) + own.get("share_groups", [])
    merged["examples"] = own["examples"]
    if problems:
        raise KokenErrors(problems)
    try:
        return MethodologySpec.model_validate(merged)
    except pydantic.ValidationError as err:
        raise KokenErrors([MethodologyError(message, Location(file=source, field=where or None))
                           for where, message, _kind in validation_problems(err)]) from None


__all__ = ["MethodologyExtension", "ParameterOverride", "extension_of", "merge"]
