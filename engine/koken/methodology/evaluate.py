"""Vectorised evaluation of one methodology over a batch of product lines.

Per batch: each input column (a Pint quantity array) is converted once to the parameter's
declared unit (for the range check) and then to base-unit magnitudes; the compiled steps
(sympy ``lambdify`` → numpy) run on whole arrays; no Pint arithmetic per row.

Per product line the result is (the action plan's 単年度 and 稼働年数 figures, and the company
practice of Toshiba Lifestyle and Mitsubishi Electric: per-unit annual saving × units sold × years):

* ``avoided_per_unit_year``: avoided GHG per functional unit per year of use;
* single-year contribution (単年度): units shipped in the reporting year × avoided per unit × 1 year;
* lifetime contribution (稼働年数): units shipped × avoided per unit × operating years;

both in t-CO2e. Negative results (product worse than its baseline) are kept as they are
(ITU-T L.1480 and the GHG Protocol's completeness principle: no clamping). A row whose formula gives no finite number
(division by zero, overflow) is an :class:`koken.base.errors.EvaluationError` for that row, never a
NaN in a total.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pint

from koken.base.errors import (
    EvaluationError,
    KokenError,
    KokenErrors,
    Location,
    MethodologyError,
    PortfolioError,
    UnitError,
)
from koken.base.i18n import N_, _
from koken.base.units import (
    conversion_factor,
    is_count_unit,
    is_dimensionless,
    parse_quantity,
    parse_unit,
    registry,
    unit_display,
)
from koken.base.vocabulary import AVOIDED_STEP, BASELINE_STEP, PRODUCT_STEP, RESULT_UNIT
from koken.factors import LINE_FACTOR_TEXT, fill_from_tables

if TYPE_CHECKING:  # the compiled methodology calls this module; it is only read here
    from koken.methodology.compile import Methodology


SHARE_TOLERANCE = 1e-9
"""How far a share group's sum may be from 1 (rounding of decimal inputs only)."""


@dataclass(frozen=True)
class BatchResult:
    """Results of one methodology over ``n`` product lines (every array has shape ``(n,)``).

    Attributes:
        methodology: the compiled methodology used.
        steps: every formula step's values as a Pint quantity array in the step's unit.
        avoided_per_unit_year: quantity array in kg-CO2e per functional unit per year.
        units_shipped: quantity array in the functional unit (empty without shipments).
        single_year: quantity array in t-CO2e (単年度 contribution).
        lifetime: quantity array in t-CO2e (contribution over the operating years).
        operating_years: quantity array in years.
        defaults_used: parameter name → boolean array, True where the row's value is the
            methodology's default (only parameters that were defaulted somewhere appear).
    """

    methodology: Methodology
    steps: dict[str, pint.Quantity]
    avoided_per_unit_year: pint.Quantity
    single_year: pint.Quantity
    lifetime: pint.Quantity
    units_shipped: pint.Quantity
    operating_years: pint.Quantity
    defaults_used: dict[str, np.ndarray]
    baseline_per_unit_year: pint.Quantity | None = None
    """The baseline scenario's use-phase emissions, kg-CO2e per functional unit per year."""
    product_per_unit_year: pint.Quantity | None = None
    """The product's use-phase emissions, kg-CO2e per functional unit per year."""
    baseline_lifetime: pint.Quantity | None = None
    """The baseline scenario's emissions over the operating years of the units shipped, t-CO2e."""
    category11_lifetime: pint.Quantity | None = None
    """Scope 3 category 11 (use of sold products): the use-phase emissions of the units shipped over their operating
    years (the methodology's ``category11_step``, by default the product scenario), t-CO2e. An inventory figure,
    never added to or netted with avoided emissions; None where the methodology names no use-phase step."""

    def defaults_used_per_row(self) -> list[tuple[str, ...]]:
        """Per row, the names of the parameters filled from defaults (builds Python objects: for reports)."""
        n = len(self.avoided_per_unit_year.magnitude)
        return [tuple(name for name, mask in self.defaults_used.items() if mask[i]) for i in range(n)]


def evaluate(m: Methodology, inputs: Mapping[str, pint.Quantity],
             units_shipped: pint.Quantity | None = None,
             locations: Sequence[Location] | None = None) -> BatchResult:
    """Evaluate methodology ``m`` on ``n`` product lines at once.

    Args:
        m: compiled methodology.
        inputs: parameter name → Pint quantity array of shape ``(n,)`` (any compatible unit; NaN
            where a cell was empty, filled from the parameter's default if it has one).
        units_shipped: quantity array ``(n,)`` in any unit compatible with the functional unit, or
            None to compute per-unit figures only (``single_year`` and ``lifetime`` are then
            empty arrays).
        locations: per row, where it came from (for errors); default ``row 1..n``.
    Returns:
        BatchResult.
    Raises:
        KokenErrors: every problem in the batch (unknown parameter, missing required value,
            value outside the declared range, negative units shipped, incompatible unit,
            non-finite result), each with its row and column.
    """
    n = _batch_length(inputs, units_shipped)
    locs = _Locations(locations)
    errors: list[KokenError] = []
    for name in inputs:
        if name not in m.parameters:
            errors.append(PortfolioError(_("methodology {id!r} has no parameter {name!r}").format(id=m.id, name=name),
                                         Location(column=name)))
    env: dict[str, np.ndarray] = {}
    defaults_used: dict[str, np.ndarray] = {}
    with np.errstate(all="ignore"):
        for name, p in m.parameters.items():
            declared = _declared_values(p.name, p.unit, inputs.get(name), n, errors)
            if declared is None:
                continue
            values, given, given_unit = declared
            missing = np.isnan(values)
            if missing.any():
                if p.default is not None:
                    values = np.where(missing, p.default, values)
                    defaults_used[name] = missing
                else:
                    for i in np.flatnonzero(missing):
                        errors.append(PortfolioError(missing_value(m, p), locs[i].at(column=name)))
            errors.extend(_range_problems(p, values, given, given_unit, missing, locs))
            env[name] = values * p.to_base

        for group in m.spec.share_groups:
            if not all(name in env for name in group):
                continue
            total = sum(env[name] for name in group)  # base units of a share: fractions
            for i in np.flatnonzero(np.abs(total - 1.0) > SHARE_TOLERANCE):
                shares = " + ".join(f"{env[name][i] * 100:g} %" for name in group)
                errors.append(PortfolioError(
                    _("the shares {names} must add up to 100 %, but {shares} = {total:g} %").format(
                        names=", ".join(group), shares=shares, total=total[i] * 100),
                    locs[i].at(column=group[0])))

        shipped_base = None
        if units_shipped is not None:
            try:
                factor = conversion_factor(units_shipped.units, m.shipment_unit, "units_shipped")
            except UnitError as err:
                errors.append(err.at(column="units_shipped"))
            else:
                shipped = np.asarray(units_shipped.magnitude, dtype=float) * factor
                errors.extend(_shipment_problems(shipped, np.zeros(len(shipped), dtype=bool), locs))
                shipped_base = shipped * m.shipment_to_base
        if errors:
            raise KokenErrors(errors)

        run_kernel(m, env, n)
        for step in m.steps:
            for i in np.flatnonzero(~np.isfinite(env[step.name])):
                errors.append(EvaluationError(step_not_finite(step), locs[i].at(step=step.name)))
            if step.low is None and step.high is None:
                continue
            shown = env[step.name] * step.to_unit  # the step's own unit, as its range is written
            bad = np.isfinite(shown) & (((shown < step.low) if step.low is not None else False)
                                        | ((shown > step.high) if step.high is not None else False))
            for i in np.flatnonzero(bad):
                errors.append(EvaluationError(step_out_of_range(step, float(shown[i])), locs[i].at(step=step.name)))
        if errors:
            raise KokenErrors(errors)

        ureg = registry()
        years_base = env[m.spec.operating_years]
        steps = {s.name: ureg.Quantity(env[s.name] * s.to_unit, s.unit) for s in m.steps}
        avoided_q = steps[AVOIDED_STEP].to(_kg_per_unit_year(m))
        years_q = ureg.Quantity(years_base * m.operating_years_to_year, _year(m))
        scenarios = {name: steps[name].to(_kg_per_unit_year(m)) for name in (BASELINE_STEP, PRODUCT_STEP)
                     if name in steps}
        category11 = m.spec.category11_step if m.spec.category11_step in steps else None
        scenario_lifetimes: dict[str, pint.Quantity] = {}
        if shipped_base is None:
            empty = np.zeros(0)
            single = lifetime = ureg.Quantity(empty, parse_unit(RESULT_UNIT))
            shipped_q = ureg.Quantity(empty, m.shipment_unit)
        else:
            single_t, lifetime_t = contributions(m, env, shipped_base)
            single = ureg.Quantity(single_t, parse_unit(RESULT_UNIT))
            lifetime = ureg.Quantity(lifetime_t, parse_unit(RESULT_UNIT))
            shipped_q = ureg.Quantity(shipped_base / m.shipment_to_base, m.shipment_unit)
            for name in {BASELINE_STEP, category11} & set(steps):
                scenario_lifetimes[name] = ureg.Quantity(contributions(m, env, shipped_base, name)[1],
                                                         parse_unit(RESULT_UNIT))
            overflow = ~np.isfinite(single.magnitude) | ~np.isfinite(lifetime.magnitude)
            for q in scenario_lifetimes.values():
                overflow |= ~np.isfinite(q.magnitude)
            for i in np.flatnonzero(overflow):
                errors.append(EvaluationError(_(FIGURE_OVERFLOWS), locs[i]))
            if errors:
                raise KokenErrors(errors)
    return BatchResult(methodology=m, steps=steps, avoided_per_unit_year=avoided_q, single_year=single,
                       lifetime=lifetime, units_shipped=shipped_q, operating_years=years_q,
                       defaults_used=defaults_used, baseline_per_unit_year=scenarios.get(BASELINE_STEP),
                       product_per_unit_year=scenarios.get(PRODUCT_STEP),
                       baseline_lifetime=scenario_lifetimes.get(BASELINE_STEP),
                       category11_lifetime=scenario_lifetimes.get(category11) if category11 else None)


def value_problems(m: Methodology, inputs: Mapping[str, pint.Quantity], units_shipped: pint.Quantity | None,
                   locations: Sequence[Location]) -> list[KokenError]:
    """The checks of single values that :func:`evaluate` makes, for rows that are not evaluated because of another
    problem (so that a file's problems are all reported in one run): values outside a parameter's declared range,
    units shipped that are negative. Empty values (NaN) are left alone (a missing value is reported elsewhere).

    Args:
        m: compiled methodology.
        inputs: parameter name → quantity array ``(n,)`` in a unit compatible with the parameter's (NaN: no value
            to check); names ``m`` does not declare are ignored.
        units_shipped: quantity array ``(n,)`` compatible with the functional unit, or None.
        locations: per row, where it came from.
    Returns:
        The problems, in the words :func:`evaluate` uses.
    """
    locs = _Locations(locations)
    errors: list[KokenError] = []
    with np.errstate(all="ignore"):
        for name, q in inputs.items():
            p = m.parameters.get(name)
            if p is None:
                continue
            given = np.asarray(q.magnitude, dtype=float)
            values = given * conversion_factor(q.units, p.unit, name)
            errors.extend(_range_problems(p, values, given, q.units, np.isnan(values), locs))
        if units_shipped is not None:
            shipped = np.asarray(units_shipped.magnitude, dtype=float) * conversion_factor(
                units_shipped.units, m.shipment_unit, "units_shipped")
            errors.extend(_shipment_problems(shipped, np.isnan(shipped), locs))
    return errors


def _range_problems(p, values: np.ndarray, given: np.ndarray, given_unit: pint.Unit, missing: np.ndarray,
                    locs: _Locations) -> list[KokenError]:
    """Present values of parameter ``p`` (``values`` in its declared unit, ``given`` as written in ``given_unit``)
    that are not finite or outside its declared range."""
    bad = ~np.isfinite(values) & ~missing
    bad |= (values < p.low) if p.low is not None else False
    bad |= (values > p.high) if p.high is not None else False
    same_unit = given_unit == p.unit
    errors: list[KokenError] = []
    for i in np.flatnonzero(bad & ~missing):
        hint = ""
        if same_unit and p.high is not None and p.high <= 1 and 1 < values[i] <= 100:
            hint = _("(a fraction is expected; if {value:g} means {value:g} %, give the unit %)").format(
                value=values[i])
        shown = f"{values[i]:g} {p.unit_text}" if same_unit else \
            f"{given[i]:g} {unit_display(given_unit)} (= {values[i]:g} {p.unit_text})"
        errors.append(PortfolioError(out_of_range(p, shown, hint), locs[i].at(column=p.name)))
    return errors


def _shipment_problems(shipped: np.ndarray, missing: np.ndarray, locs: _Locations) -> list[KokenError]:
    """Units shipped (in the functional unit) that are negative or not finite."""
    return [PortfolioError(bad_shipment(shipped[i]), locs[i].at(column="units_shipped"))
            for i in np.flatnonzero((~np.isfinite(shipped) | (shipped < 0)) & ~missing)]


def run_kernel(m: Methodology, env: dict[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    """The numeric kernel: every compiled step on whole arrays, in order (no checks, no Pint).

    Args:
        m: compiled methodology.
        env: parameter name → float array ``(n,)`` of base-unit magnitudes (SI base units of each
            declared unit, as :class:`koken.methodology.compile.CompiledParameter` ``to_base`` gives); each
            step's values (base units) are added under the step's name.
        n: rows.
    Returns:
        ``env``, with the steps added (non-finite values are left for the caller to report).
    """
    for step in m.steps:
        env[step.name] = _as_column(step.function(*[env[a] for a in step.args]), n)
    return env


def contributions(m: Methodology, env: dict[str, np.ndarray], shipped_base: np.ndarray,
                  step: str = AVOIDED_STEP) -> tuple[np.ndarray, np.ndarray]:
    """Single-year and lifetime contributions per row (action plan: units × avoided per unit × 1 year or
    × operating years; see the module docstring); of another per-unit step of the same dimension with ``step``
    (the scenarios' emissions: ``baseline_emissions``, ``product_emissions``).

    Args:
        m: compiled methodology.
        env: the kernel's arrays ``(n,)`` in base units (:func:`run_kernel`), with ``avoided_per_unit_year``
            and the operating-years parameter or step.
        shipped_base: units shipped ``(n,)`` in the base unit of the functional unit.
    Returns:
        (single_year, lifetime): float arrays ``(n,)`` in t-CO2e; the per-unit factors are applied before
        the product with units shipped, so a figure that fits in a float never overflows on the way.
    """
    avoided = env[step]  # the per-unit factors first, so that no product overflows before the result
    return (shipped_base * (avoided * m.single_year_factor),
            shipped_base * (avoided * m.lifetime_factor * env[m.spec.operating_years]))


def _kg_per_unit_year(m: Methodology) -> pint.Unit:
    return parse_unit("kg-CO2e", m.spec.hours_per_year) / m.shipment_unit / _year(m)


def _year(m: Methodology) -> pint.Unit:
    return parse_unit("year", m.spec.hours_per_year)


# The messages of a row's evaluation, written once: the vectorised evaluation here and the per-row trace
# (koken.audit.trace) report the same problem in the same words.

def missing_value(m: Methodology, p) -> str:
    """A required parameter without a value (and without a default)."""
    return _("{name} is required by {id} (unit {unit}) but has no value").format(name=p.name, id=m.id, unit=p.unit_text)


def out_of_range(p, shown: str, hint: str = "") -> str:
    """A value outside the parameter's declared range; ``shown`` is the value as given (with its unit), ``hint``
    a sentence added after it."""
    message = _("{name} = {value} is outside the allowed range [{low}, {high}] {unit}").format(
        name=p.name, value=shown, low=_fmt(p.low, "-inf"), high=_fmt(p.high, "inf"), unit=p.unit_text)
    return _("{message} {hint}").format(message=message, hint=hint) if hint else message  # ja: no space between


def bad_shipment(value: float) -> str:
    """Units shipped that are negative or not finite."""
    return _("units_shipped must be a finite number >= 0, got {value:g}").format(value=value)


def step_out_of_range(step, value: float) -> str:
    """A derived value outside its step's declared range (a derived operating years, as an input's would be)."""
    return _("{name} = {value:g} {unit}, derived by {expression}, is outside the allowed range [{low}, {high}] {unit}: "
             "check the inputs it is derived from").format(
        name=step.name, value=value, unit=step.unit_text or f"{step.unit:~}", expression=step.text,
        low="−∞" if step.low is None else f"{step.low:g}", high="∞" if step.high is None else f"{step.high:g}")


def step_not_finite(step) -> str:
    """A formula step without a finite value for a row's inputs."""
    return _("step {name!r} ({formula}) gives no finite number: division by zero or overflow with this row's "
             "inputs").format(name=step.name, formula=step.text)


FIGURE_OVERFLOWS = N_("the single-year or lifetime figure overflows (beyond 1e308 t-CO2e): check units_shipped and "
                      "the inputs' units")
"""Translated where shown: ``_(FIGURE_OVERFLOWS)``."""


LineValue = str | float | int | pint.Quantity
"""One input of one product line: quantity text (``"420 kWh/yr"``), a Pint quantity, or a bare number for a
dimensionless parameter (a fraction or a count)."""


def line_inputs(m: Methodology, given: Mapping[str, LineValue], where: Location
                ) -> tuple[dict[str, pint.Quantity], pint.Quantity | None]:
    """One product line's values as length-1 quantity arrays (factor tables not consulted).

    Args:
        m: compiled methodology.
        given: parameter name (or ``units_shipped``) → value (see :data:`LineValue`).
        where: location for error messages (the example, or the caller's line).
    Returns:
        (parameter name → quantity array ``(1,)`` in the unit given, units shipped ``(1,)`` or None).
    Raises:
        KokenErrors: unknown names and unreadable values, all of them.
    """
    errors: list[KokenError] = []
    inputs = {}
    shipped = None
    for name, raw in given.items():
        try:
            value = _one(line_value(m, name, raw, where.at(column=name)))
        except KokenError as err:
            errors.append(err)
            continue
        if name == "units_shipped":
            shipped = value
        else:
            inputs[name] = value
    if errors:
        raise KokenErrors(errors)
    return inputs, shipped


def line_value(m: Methodology, name: str, raw: LineValue, where: Location) -> pint.Quantity:
    """One input of one product line as a scalar Pint quantity.

    Args:
        m: compiled methodology.
        name: a parameter of ``m``, or ``units_shipped``.
        raw: quantity text (``"420 kWh/yr"``), a Pint quantity, or a bare number for a dimensionless parameter.
        where: location for the error.
    Raises:
        MethodologyError: ``name`` is not a parameter of ``m``.
        UnitError: no number, no unit where one is required, an unknown unit.
    """
    p = m.parameters.get(name)
    if name != "units_shipped" and p is None:
        raise MethodologyError(_("{name!r} is not a parameter of {id} (its parameters: {parameters})").format(
            name=name, id=m.id, parameters=", ".join(m.parameters)), where)
    default_unit = p.unit_text if p is not None and is_dimensionless(p.unit) else None
    try:
        if isinstance(raw, pint.Quantity):
            q = registry().Quantity(float(raw.magnitude), parse_unit(f"{raw.units}", m.spec.hours_per_year, where))
        else:
            q = parse_quantity(raw, default_unit, m.spec.hours_per_year, where)
    except (TypeError, ValueError):
        raise UnitError(_("{name}: expected a quantity such as '420 kWh/yr', got {value!r}").format(name=name, value=raw),
                        where) from None
    if not math.isfinite(float(q.magnitude)):
        raise UnitError(_("{name}: {value!r} is not a finite number").format(name=name, value=raw), where)
    if name == "units_shipped" and is_count_unit(m.shipment_unit) and not is_count_unit(q.units):
        raise UnitError(_("units_shipped: {value!r} is not a count of things: write 台, 件, 基 or 万台").format(value=raw),
                        where)
    return q


def evaluate_line(m: Methodology, given: Mapping[str, LineValue], region: str | None = None,
                  fiscal_year: int | None = None, where: Location | None = None
                  ) -> tuple[BatchResult, dict[str, str]]:
    """Evaluate one product line from named values; factor tables fill what is not given.

    Args:
        m: compiled methodology.
        given: parameter name (and optionally ``units_shipped``) → value (see :data:`LineValue`).
        region: key for factor-table look-ups (``JP``).
        fiscal_year: key for factor-table look-ups (2023).
        where: location for error messages (default: the methodology file).
    Returns:
        (BatchResult of length 1, parameter name → the factor-table entry that supplied it, as
        ``table[key] (source id)``).
    Raises:
        KokenErrors: unknown names, unreadable values, values a table cannot supply (with the keys
            it holds), missing required values, out-of-range values, non-finite results.
    """
    where = where or Location(file=m.path)
    inputs, shipped = line_inputs(m, given, where)
    inputs, origins, problems, _failed = fill_from_tables(
        m.parameters, inputs, np.array([region or ""], dtype=object), np.array([fiscal_year or 0]), 1,
        lambda i: where)
    if problems:
        raise KokenErrors(problems)
    try:
        result = evaluate(m, inputs, shipped, [where])
    except KokenErrors as errs:
        raise KokenErrors([e.at(file=where.file) for e in errs.errors]) from None
    tables = {name: LINE_FACTOR_TEXT.format(table=o.table_of(0), key=o.keys[0], source=o.sources[0],
                                            described=o.described(0))
              for name, o in origins.items() if o.from_table[0]}
    return result, tables


@dataclass(frozen=True)
class LineResult:
    """The figures of one product line (every quantity a Pint scalar).

    Attributes:
        methodology: the id of the methodology that computed it.
        version: its version.
        steps: every formula step, in the step's unit.
        avoided_per_unit_year: kg-CO2e per functional unit per year.
        operating_years: years.
        single_year: t-CO2e (単年度), or None without ``units_shipped``.
        lifetime: t-CO2e (稼働年数), or None without ``units_shipped``; a separate timeframe, never added to
            ``single_year``.
        defaults_used: parameters filled from the methodology's defaults.
        factors_from_tables: parameter → ``table[key] (source <id>; <basis>, <status>)`` for values a factor
            table supplied.
    """

    methodology: str
    version: str
    steps: dict[str, pint.Quantity]
    avoided_per_unit_year: pint.Quantity
    operating_years: pint.Quantity
    single_year: pint.Quantity | None
    lifetime: pint.Quantity | None
    defaults_used: tuple[str, ...]
    factors_from_tables: dict[str, str]

    @classmethod
    def from_batch(cls, result: BatchResult, tables: dict[str, str]) -> LineResult:
        """The first (only) row of a :class:`BatchResult`."""
        def first(q):
            return registry().Quantity(float(q.magnitude[0]), q.units) if len(q.magnitude) else None

        m = result.methodology
        return cls(methodology=m.id, version=m.version, steps={k: first(q) for k, q in result.steps.items()},
                   avoided_per_unit_year=first(result.avoided_per_unit_year),
                   operating_years=first(result.operating_years), single_year=first(result.single_year),
                   lifetime=first(result.lifetime), defaults_used=result.defaults_used_per_row()[0],
                   factors_from_tables=tables)


def _one(q: pint.Quantity) -> pint.Quantity:
    """A scalar quantity as a length-1 array quantity."""
    return registry().Quantity(np.array([float(q.magnitude)]), q.units)


class _Locations:
    """Row locations, built only for rows that have a problem (never one object per row up front)."""

    def __init__(self, locations: Sequence[Location] | None):
        self._locations = locations

    def __getitem__(self, i: int) -> Location:
        return self._locations[i] if self._locations is not None else Location(row=int(i) + 1)


def _fmt(x: float | None, open_end: str) -> str:
    return open_end if x is None else f"{x:g}"


def _batch_length(inputs: Mapping[str, pint.Quantity], units_shipped: pint.Quantity | None) -> int:
    arrays = [getattr(q, "magnitude", q) for q in inputs.values()]
    if units_shipped is not None:
        arrays.append(units_shipped.magnitude)
    lengths = {np.shape(a)[0] if np.ndim(a) else 1 for a in arrays}
    if len(lengths) > 1:
        raise KokenErrors([PortfolioError(_("input columns have different lengths: {lengths}").format(
            lengths=sorted(lengths)))])
    return lengths.pop() if lengths else 1


def _declared_values(name: str, unit: pint.Unit, q: pint.Quantity | None, n: int,
                     errors: list[KokenError]) -> tuple[np.ndarray, np.ndarray, pint.Unit] | None:
    """(values in the declared unit, values as given, the given unit), or None after an error."""
    if q is None:
        empty = np.full(n, np.nan)
        return empty, empty, unit
    if not isinstance(q, pint.Quantity):
        errors.append(UnitError(_("{name}: a quantity with a unit is required, got a bare {type}").format(
            name=name, type=type(q).__name__), Location(column=name)))
        return None
    try:
        factor = conversion_factor(q.units, unit, name)
    except UnitError as err:
        errors.append(err.at(column=name))
        return None
    given = _as_column(np.asarray(q.magnitude, dtype=float), n)
    return given * factor, given, q.units


def _as_column(values, n: int) -> np.ndarray:
    """A float array of shape (n,): arrays pass through, scalars (constant steps) are repeated."""
    arr = np.asarray(values, dtype=float)
    return arr if arr.shape == (n,) else np.full(n, arr) if arr.ndim == 0 else np.broadcast_to(arr, (n,)).copy()
