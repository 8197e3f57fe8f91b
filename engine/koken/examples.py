"""Run a methodology's worked examples and compare with their expected values.

Each example in a methodology file gives inputs (quantity strings such as ``"420 kWh/yr"``) and
expected outputs with a relative tolerance; ``koken validate`` and the test suite run them all.
"""

from __future__ import annotations

import math

import pint

from koken.base.errors import KokenError, KokenErrors, Location, MethodologyError, UnitError
from koken.base.i18n import _
from koken.base.units import conversion_factor, parse_unit
from koken.methodology import Methodology
from koken.methodology.evaluate import BatchResult, evaluate_line, line_inputs


def run_example(m: Methodology, index: int, overrides: dict | None = None,
                label: str | None = None) -> BatchResult:
    """Evaluate example ``index`` of ``m`` (one row), optionally with some inputs replaced.

    Args:
        m: compiled methodology.
        index: example position.
        overrides: input name → quantity string, number (dimensionless parameters), or the name of
            another input whose value is copied (used by the ``checks`` block).
        label: what to call the run in error messages (default: the example's name).
    Returns:
        BatchResult of length 1.
    Raises:
        KokenErrors: unknown input names, unparsable quantities, evaluation errors.
    """
    example = m.spec.examples[index]
    where = Location(file=m.path, field=label or f"examples[{index}] ({example.name})")
    result, _tables = evaluate_line(m, _given(m, index, overrides), example.region, example.fiscal_year, where)
    return result


def example_inputs(m: Methodology, index: int, overrides: dict | None = None,
                   where: Location | None = None) -> tuple[dict[str, pint.Quantity], pint.Quantity | None]:
    """The inputs of example ``index`` of ``m`` as Pint quantities of length 1 (factor tables not consulted).

    Args:
        m: compiled methodology.
        index: example position.
        overrides: as for :func:`run_example`.
        where: location for error messages (default: the example).
    Returns:
        (parameter name → quantity array ``(1,)`` in the unit written, units shipped ``(1,)`` or None).
    Raises:
        KokenErrors: unknown input names, unparsable quantities.
    """
    example = m.spec.examples[index]
    where = where or Location(file=m.path, field=f"examples[{index}] ({example.name})")
    return line_inputs(m, _given(m, index, overrides), where)


def _given(m: Methodology, index: int, overrides: dict | None) -> dict:
    """Example ``index``'s inputs with ``overrides`` applied (an override naming another input copies it)."""
    example = m.spec.examples[index]
    given = dict(example.inputs)
    for name, value in (overrides or {}).items():
        if isinstance(value, str) and value in example.inputs:
            value = example.inputs[value]
        given[name] = value
    return given


def check_examples(m: Methodology) -> list[KokenError]:
    """Run every example of ``m``; return one error per failed run or mismatching expected value."""
    problems: list[KokenError] = []
    known_sources = {s.id for s in m.spec.sources} | {"hand_calculation"}
    for index, example in enumerate(m.spec.examples):
        where = Location(file=m.path, field=f"examples[{index}] ({example.name})")
        if example.source not in known_sources:
            problems.append(MethodologyError(
                _("example source {source!r} is neither a source id nor 'hand_calculation'").format(source=example.source),
                where))
        if example.source == "hand_calculation" and not example.calculation:
            problems.append(MethodologyError(_("a hand-calculated example must write out its calculation"), where))
        try:
            result = run_example(m, index)
        except KokenErrors as errs:
            problems.extend(errs.errors)
            continue
        for key, expected in example.expected.items():
            actual = output_quantity(result, key)
            loc = where.at(column=key)
            if actual is None:
                problems.append(MethodologyError(
                    _("expected output {key!r} is not a step, single_year or lifetime (single_year and lifetime need "
                      "units_shipped in the inputs)").format(key=key), loc))
                continue
            try:
                unit = parse_unit(expected.unit, m.spec.hours_per_year, loc)
                value = float(actual.magnitude[0]) * conversion_factor(actual.units, unit, key, loc)
            except UnitError as err:
                problems.append(err)
                continue
            if not math.isclose(value, expected.value, rel_tol=expected.rel_tol, abs_tol=1e-12):
                problems.append(MethodologyError(
                    _("{key} = {value:.10g} {unit}, but the example expects {expected:g} {unit} (relative tolerance "
                      "{tolerance:g})").format(key=key, value=value, unit=expected.unit, expected=expected.value,
                                               tolerance=expected.rel_tol), loc))
    problems.extend(check_properties(m))
    return problems


ZERO_TOLERANCE = 1e-9
"""Relative tolerance (against the first example's result) for "equal to its baseline gives 0":
baseline and product terms computed in different units (GJ of fuel, kWh of electricity) may differ
by floating-point rounding only."""


def check_properties(m: Methodology) -> list[KokenError]:
    """Run the file's ``checks``: equal to baseline gives exactly 0, worse than baseline gives < 0."""
    checks = m.spec.checks
    if checks is None:
        return []
    problems: list[KokenError] = []
    try:
        scale = abs(float(run_example(m, 0).avoided_per_unit_year.magnitude[0]))
    except KokenErrors:
        scale = 0.0  # the example's own problem is reported by check_examples
    cases = [("equal_to_baseline", checks.equal_to_baseline)]
    if checks.worse_than_baseline is not None:
        cases.append(("worse_than_baseline", checks.worse_than_baseline))
    for label, overrides in cases:
        where = Location(file=m.path, field=f"checks.{label}")
        unknown = [k for k in overrides if k not in m.parameters]
        if unknown:
            problems.append(MethodologyError(_("unknown parameter(s) {names}").format(names=", ".join(unknown)), where))
            continue
        try:
            result = run_example(m, 0, overrides, f"checks.{label}")
        except KokenErrors as errs:
            problems.extend(errs.errors)
            continue
        value = float(result.avoided_per_unit_year.magnitude[0])
        if label == "equal_to_baseline" and abs(value) > ZERO_TOLERANCE * scale:
            problems.append(MethodologyError(
                _("a product equal to its baseline must avoid 0 (to floating-point precision), got {value:g}").format(
                    value=value), where))
        if label == "worse_than_baseline" and not value < 0.0:
            problems.append(MethodologyError(_("a product worse than its baseline must give a negative figure, got "
                                               "{value:g}").format(value=value), where))
    return problems


def output_quantity(result: BatchResult, key: str):
    """A named output of a batch result: a step name, ``single_year`` or ``lifetime`` (None if absent)."""
    if key in result.steps:
        return result.steps[key]
    if key in ("single_year", "lifetime"):
        q = getattr(result, key)
        return q if len(q.magnitude) else None
    return None
