"""Run a methodology's worked examples and compare with their expected values.

Each example in a methodology file gives inputs (quantity strings such as ``"420 kWh/yr"``) and
expected outputs with a relative tolerance; ``koken validate`` and the test suite run them all.
"""

from __future__ import annotations

import math

import numpy as np
import pint

from koken.base.errors import KokenError, KokenErrors, Location, MethodologyError, UnitError
from koken.methodology.evaluate import BatchResult, evaluate
from koken.factors import fill_from_tables
from koken.methodology.compile import CompiledMethodology
from koken.base.units import conversion_factor, is_dimensionless, parse_quantity, parse_unit, registry


def run_example(m: CompiledMethodology, index: int, overrides: dict | None = None,
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
    inputs, shipped = example_inputs(m, index, overrides, where)
    region = np.array([example.region or ""], dtype=object)
    fiscal_year = np.array([example.fiscal_year or 0])
    inputs, _origins, problems, _failed = fill_from_tables(m.parameters, inputs, region, fiscal_year, 1,
                                                           lambda i: where)
    if problems:
        raise KokenErrors(problems)
    try:
        return evaluate(m, inputs, shipped, [where])
    except KokenErrors as errs:
        raise KokenErrors([e.at(file=m.path) for e in errs.errors]) from None


def example_inputs(m: CompiledMethodology, index: int, overrides: dict | None = None,
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
    errors: list[KokenError] = []
    inputs = {}
    shipped = None
    given = dict(example.inputs)
    for name, value in (overrides or {}).items():
        if isinstance(value, str) and value in example.inputs:
            value = example.inputs[value]
        given[name] = value
    for name, raw in given.items():
        loc = where.at(column=name)
        if name == "units_shipped":
            try:
                shipped = _one(parse_quantity(raw, None, m.spec.hours_per_year, loc))
            except UnitError as err:
                errors.append(err)
            continue
        p = m.parameters.get(name)
        if p is None:
            errors.append(MethodologyError(f"example input {name!r} is not a parameter", loc))
            continue
        default_unit = p.unit_text if is_dimensionless(p.unit) else None
        try:
            inputs[name] = _one(parse_quantity(raw, default_unit, m.spec.hours_per_year, loc))
        except UnitError as err:
            errors.append(err)
    if errors:
        raise KokenErrors(errors)
    return inputs, shipped


def check_examples(m: CompiledMethodology) -> list[KokenError]:
    """Run every example of ``m``; return one error per failed run or mismatching expected value."""
    problems: list[KokenError] = []
    known_sources = {s.id for s in m.spec.sources} | {"hand_calculation"}
    for index, example in enumerate(m.spec.examples):
        where = Location(file=m.path, field=f"examples[{index}] ({example.name})")
        if example.source not in known_sources:
            problems.append(MethodologyError(
                f"example source {example.source!r} is neither a source id nor 'hand_calculation'", where))
        if example.source == "hand_calculation" and not example.calculation:
            problems.append(MethodologyError("a hand-calculated example must write out its calculation", where))
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
                    f"expected output {key!r} is not a step, single_year or lifetime (single_year and "
                    "lifetime need units_shipped in the inputs)", loc))
                continue
            try:
                unit = parse_unit(expected.unit, m.spec.hours_per_year, loc)
                value = float(actual.magnitude[0]) * conversion_factor(actual.units, unit, key, loc)
            except UnitError as err:
                problems.append(err)
                continue
            if not math.isclose(value, expected.value, rel_tol=expected.rel_tol, abs_tol=1e-12):
                problems.append(MethodologyError(
                    f"{key} = {value:.10g} {expected.unit}, but the example expects {expected.value:g} "
                    f"{expected.unit} (relative tolerance {expected.rel_tol:g})", loc))
    problems.extend(check_properties(m))
    return problems


ZERO_TOLERANCE = 1e-9
"""Relative tolerance (against the first example's result) for "equal to its baseline gives 0":
baseline and product terms computed in different units (GJ of fuel, kWh of electricity) may differ
by floating-point rounding only."""


def check_properties(m: CompiledMethodology) -> list[KokenError]:
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
            problems.append(MethodologyError(f"unknown parameter(s) {', '.join(unknown)}", where))
            continue
        try:
            result = run_example(m, 0, overrides, f"checks.{label}")
        except KokenErrors as errs:
            problems.extend(errs.errors)
            continue
        value = float(result.avoided_per_unit_year.magnitude[0])
        if label == "equal_to_baseline" and abs(value) > ZERO_TOLERANCE * scale:
            problems.append(MethodologyError(
                f"a product equal to its baseline must avoid 0 (to floating-point precision), got {value:g}", where))
        if label == "worse_than_baseline" and not value < 0.0:
            problems.append(MethodologyError(f"a product worse than its baseline must give a negative figure, "
                                             f"got {value:g}", where))
    return problems


def output_quantity(result: BatchResult, key: str):
    """A named output of a batch result: a step name, ``single_year`` or ``lifetime`` (None if absent)."""
    if key in result.steps:
        return result.steps[key]
    if key in ("single_year", "lifetime"):
        q = getattr(result, key)
        return q if len(q.magnitude) else None
    return None


def _one(q):
    """Wrap a scalar quantity as a length-1 array quantity."""
    return registry().Quantity(np.array([float(q.magnitude)]), q.units)
