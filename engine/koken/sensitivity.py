"""Sensitivity of a methodology's result to its inputs: one-at-a-time (a tornado table) and global (Sobol indices).

What the frameworks ask: the GHG Protocol's guidance on avoided emissions and the WBCSD guidance on avoided emissions
(v2.0, 2025) ask that the assumptions behind a figure be tested for sensitivity and that the reported case not be the
most favourable one; IEC 63372 asks for the assumptions to be stated. koken answers with:

* :func:`tornado`: each parameter at its low and at its high value, the others at their central values (one at a
  time); the result's swing per parameter, largest first;
* :func:`sobol`: first-order and total Sobol indices (Saltelli sampling and Sobol analysis, with SALib) over
  independent uniform inputs between the bounds;
* :func:`favourable_end`: whether a reported case sits in the top 10 % of its own range;
* :func:`methodology_sensitivity`: all three for a methodology on its own, the worked example's inputs as the
  central case and the parameters' declared ranges (or bounds given by the caller) as the low and high values.

Every case is computed by the methodology's compiled kernels (:func:`koken.methodology.evaluate.evaluate`), all
cases in one vectorised call, with the same checks as a portfolio row (declared ranges, share groups, derived steps'
ranges, finite results): a case that fails is a located error naming the parameter and its bound, never a dropped
case. The result is the avoided step (``avoided_per_unit_year``) in its declared unit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from koken.base.errors import KokenError, KokenErrors, Location, MethodologyError, UnitError
from koken.base.i18n import N_, _
from koken.base.units import conversion_factor, parse_unit, registry
from koken.base.vocabulary import (
    AVOIDED_STEP,
    BOUND_ORIGINS,
    CENTRAL_ORIGINS,
    NOT_VARIED_REASONS,
    SOBOL_COLUMNS,
    TORNADO_COLUMNS,
)
from koken.examples import example_inputs
from koken.factors import fill_from_tables
from koken.methodology import Methodology
from koken.methodology.evaluate import evaluate

if TYPE_CHECKING:
    import pandas as pd

FAVOURABLE_SHARE = 0.10
"""The favourable end of a result's range: its top 10 % (:func:`favourable_end`)."""

FAVOURABLE_END_RULE = N_(
    "the reported case should not be the most favourable one (GHG Protocol, Guidance on avoided emissions; WBCSD, "
    "Guidance on avoided emissions v2.0, 2025); koken flags a case in the top {share} of its own range, i.e. at "
    "or above low + 0.9 × (high − low)")
"""The rule behind :func:`favourable_end`, as every output states it: ``_(FAVOURABLE_END_RULE).format(share="10 %")``
(:func:`favourable_rule`)."""


def favourable_rule() -> str:
    """The favourable-end rule with its sources, in the current language."""
    return _(FAVOURABLE_END_RULE).format(share=f"{FAVOURABLE_SHARE:.0%}".replace("%", " %"))


DEFAULT_SAMPLES = 1024
"""Base samples of the Sobol analysis (a power of 2: the Sobol sequence's balance properties need it); the model is
evaluated ``samples × (k + 2)`` times for ``k`` varied parameters."""

DEFAULT_SEED = 63372
"""The default seed of the Sobol sampling and its bootstrap (recorded with every result)."""

MAX_SAMPLES = 2 ** 20

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_SET = re.compile(rf"^\s*([A-Za-z_]\w*)\s*=\s*({_NUMBER})\s*\.\.\s*({_NUMBER})\s*(.*?)\s*$")


def favourable_end(central_result: float, low_result: float, high_result: float) -> bool:
    """Whether the reported case sits at the favourable end of its own range: in its top 10 %.

    The range is ``[min(low, high), max(low, high)]`` of the result (avoided emissions: larger is more favourable);
    the case is at the favourable end when ``central ≥ low + 0.9 × (high − low)``, the boundary included. A range of
    no width has no favourable end (False). Source of the rule: the GHG Protocol's guidance on avoided emissions and
    the WBCSD guidance on avoided emissions (v2.0, 2025) ask that the reported case not be the most favourable one;
    the 10 % is koken's threshold for "at that end" (:data:`FAVOURABLE_SHARE`).

    Args:
        central_result: the reported (central) result.
        low_result: one end of the result's range, in the same unit.
        high_result: its other end (either order).
    Returns:
        True when the central result is in the top 10 % of the range.
    Raises:
        ValueError: a value that is not a finite number.

    >>> favourable_end(95, 0, 100), favourable_end(90, 0, 100), favourable_end(89.9, 0, 100), favourable_end(5, 5, 5)
    (True, True, False, False)
    """
    values = [float(v) for v in (central_result, low_result, high_result)]
    if not all(math.isfinite(v) for v in values):
        raise ValueError(_("favourable_end takes finite numbers, got {values}").format(values=values))
    central, low, high = values[0], min(values[1:]), max(values[1:])
    if high == low:
        return False
    threshold = low + (1 - FAVOURABLE_SHARE) * (high - low)
    return central >= threshold - 1e-12 * max(abs(high), abs(low))


def favourable_warning(central_result: float, low_result: float, high_result: float, unit: str) -> str:
    """The warning shown when :func:`favourable_end` holds: the figures and the rule with its sources."""
    return _("the worked example's result {central:g} {unit} sits at the favourable end of its range "
             "[{low:g}, {high:g}] {unit}: {rule}").format(central=central_result, unit=unit, low=min(low_result, high_result),
                                                          high=max(low_result, high_result), rule=favourable_rule())


def result_unit(m: Methodology) -> str:
    """The unit of the results: the avoided step's unit as the methodology writes it (``kg-CO2e/台/yr``), or, for a
    step that declares none, kg-CO2e per functional unit per year (what result files give)."""
    for step in m.spec.formulas:
        if step.name == AVOIDED_STEP and step.unit:
            return step.unit
    return f"kg-CO2e/{m.spec.functional_unit.unit}/yr"


class _CaseLocations(Sequence[Location]):
    """Each case's location (the methodology file, the case's label as the field), built only for a failing case."""

    def __init__(self, path: str, labels: Sequence[str]):
        self._path, self._labels = path, labels

    def __len__(self) -> int:
        return len(self._labels)

    def __getitem__(self, i):  # an int only: evaluate asks for one row at a time
        return Location(file=self._path, field=self._labels[int(i)])


def evaluate_cases(m: Methodology, central: Mapping[str, float], cases: Mapping[str, np.ndarray],
                   labels: Sequence[str]) -> np.ndarray:
    """The avoided step of ``n`` cases in one call of the compiled kernels.

    Args:
        m: compiled methodology.
        central: parameter name → value in the parameter's declared unit (the value of every case where ``cases``
            does not vary it); a parameter left out takes its default.
        cases: parameter name → float array ``(n,)`` in the declared unit.
        labels: per case, what to call it in error messages (``"grid_emission_factor at its low (0.3 kg-CO2/kWh)"``).
    Returns:
        float array ``(n,)``: ``avoided_per_unit_year`` in :func:`result_unit`.
    Raises:
        KokenErrors: every failing case (a value outside a declared range, a share group not adding up, a derived
            step outside its range, no finite result), each located by its label.
    """
    n = len(labels)
    ureg = registry()
    inputs = {}
    for name, value in central.items():
        p = m.parameters[name]
        inputs[name] = ureg.Quantity(np.full(n, float(value)), p.unit)
    for name, values in cases.items():
        inputs[name] = ureg.Quantity(np.asarray(values, dtype=float), m.parameters[name].unit)
    batch = evaluate(m, inputs, None, _CaseLocations(m.path, labels))
    avoided = batch.avoided_per_unit_year  # kg-CO2e per functional unit per year
    return np.asarray(avoided.to(parse_unit(result_unit(m), m.spec.hours_per_year)).magnitude, dtype=float)


def tornado(methodology: Methodology, central: Mapping[str, float],
            bounds: Mapping[str, tuple[float, float]]) -> pd.DataFrame:
    """One-at-a-time sensitivity: each parameter of ``bounds`` at its low and at its high value, the others central.

    Args:
        methodology: compiled methodology.
        central: parameter name → central value in the parameter's declared unit (a parameter left out takes its
            default; one without a default is an error).
        bounds: parameter name → ``(low, high)`` in the declared unit, ``low ≤ central ≤ high``.
    Returns:
        DataFrame ``parameter, unit, low, high, result_at_low, result_at_high, swing``: one row per parameter of
        ``bounds``, sorted by swing (``|result_at_high − result_at_low|``) descending, then by name; ``unit`` is the
        parameter's declared unit, results are ``avoided_per_unit_year`` in ``attrs["result_unit"]``;
        ``attrs["central_result"]`` is the result with every parameter central. All ``2k + 1`` cases are computed
        in one kernel call.
    Raises:
        KokenErrors: an unknown parameter, bounds that are not finite numbers or not ordered around the central
            value, and every case that fails (see :func:`evaluate_cases`), all at once.
    """
    import pandas as pd

    m = methodology
    problems = _bounds_problems(m, central, bounds)
    if problems:
        raise KokenErrors(problems)
    names = list(bounds)
    unit = result_unit(m)
    centre = {name: float(central[name]) if name in central else float(m.parameters[name].default) for name in names}
    labels = [_("central case")]
    cases = {name: np.full(1 + 2 * len(names), centre[name]) for name in names}
    for i, name in enumerate(names):
        p = m.parameters[name]
        for j, (end, value) in enumerate(((_("low"), bounds[name][0]), (_("high"), bounds[name][1]))):
            cases[name][1 + 2 * i + j] = float(value)
            labels.append(_("{parameter} at its {end} ({value:g} {unit})").format(
                parameter=name, end=end, value=float(value), unit=p.unit_text))
    fixed = {k: v for k, v in central.items() if k not in bounds}
    results = evaluate_cases(m, fixed, cases, labels)
    at_low, at_high = results[1::2], results[2::2]
    frame = pd.DataFrame({
        "parameter": names, "unit": [m.parameters[n].unit_text for n in names],
        "low": [float(bounds[n][0]) for n in names], "high": [float(bounds[n][1]) for n in names],
        "result_at_low": at_low, "result_at_high": at_high, "swing": np.abs(at_high - at_low)})
    frame = frame.sort_values(["swing", "parameter"], ascending=[False, True], kind="stable").reset_index(drop=True)
    frame = frame[list(TORNADO_COLUMNS)]
    frame.attrs.update(result_unit=unit, central_result=float(results[0]), methodology=m.id)
    return frame


def sobol(methodology: Methodology, bounds: Mapping[str, tuple[float, float]], n: int = DEFAULT_SAMPLES,
          seed: int = DEFAULT_SEED, central: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Global sensitivity: first-order (S1) and total (ST) Sobol indices of the avoided step, with SALib.

    The parameters of ``bounds`` are independent and uniform between their bounds; the others are fixed at
    ``central`` (or their defaults). Samples: SALib's Saltelli scheme on a scrambled Sobol sequence
    (``SALib.sample.sobol.sample``, ``n × (k + 2)`` points, no second-order terms); indices and their 95 %
    bootstrap confidence half-widths: ``SALib.analyze.sobol.analyze`` (Saltelli 2010, Jansen 1999 estimators).
    Every sample is computed in one kernel call.

    Args:
        methodology: compiled methodology.
        bounds: parameter name → ``(low, high)`` in the declared unit, ``low < high``.
        n: base samples, a power of 2 from 16 to 2**20.
        seed: seed of the sampling and of the bootstrap (the same seed gives the same indices).
        central: values of the parameters not varied, in their declared units.
    Returns:
        DataFrame ``parameter, S1, S1_conf, ST, ST_conf`` (dimensionless), sorted by ST descending, then by name;
        ``attrs``: ``samples`` (n), ``seed``, ``evaluations``, ``result_unit``, ``variance`` (of the result, in its
        unit squared; indices are NaN when it is 0: the result does not vary over the bounds).
    Raises:
        KokenError: ``n`` not a power of 2 in range, no bounds.
        KokenErrors: as :func:`tornado`, and every sample whose evaluation fails.
    """
    import pandas as pd
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    m = methodology
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 16 or n > MAX_SAMPLES or n & (n - 1):
        raise KokenError(_("the Sobol analysis takes a power of 2 from 16 to {most} base samples (got {n!r})").format(
            most=MAX_SAMPLES, n=n))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise KokenError(_("the seed is a whole number ≥ 0 (got {seed!r})").format(seed=seed))
    if not bounds:
        raise KokenError(_("the Sobol analysis needs at least one parameter with bounds"))
    central = dict(central or {})
    problems = _bounds_problems(m, {**{k: (lo + hi) / 2 for k, (lo, hi) in bounds.items()}, **central}, bounds,
                                strict=True)
    if problems:
        raise KokenErrors(problems)
    names = list(bounds)
    problem = {"num_vars": len(names), "names": names, "bounds": [[float(bounds[k][0]), float(bounds[k][1])]
                                                                  for k in names]}
    samples = sobol_sample.sample(problem, int(n), calc_second_order=False, seed=int(seed))
    labels = _SampleLabels(samples, names, [m.parameters[k].unit_text for k in names])
    fixed = {k: v for k, v in central.items() if k not in bounds}
    y = evaluate_cases(m, fixed, {name: samples[:, j] for j, name in enumerate(names)}, labels)
    variance = float(np.var(y))
    if variance == 0.0:
        s1 = s1c = st = stc = np.full(len(names), np.nan)
    else:
        indices = sobol_analyze.analyze(problem, y, calc_second_order=False, seed=int(seed), print_to_console=False)
        s1, s1c, st, stc = (np.asarray(indices[k], dtype=float) for k in ("S1", "S1_conf", "ST", "ST_conf"))
    frame = pd.DataFrame({"parameter": names, "S1": s1, "S1_conf": s1c, "ST": st, "ST_conf": stc})
    frame = frame.sort_values(["ST", "parameter"], ascending=[False, True], kind="stable",
                              na_position="last").reset_index(drop=True)[list(SOBOL_COLUMNS)]
    frame.attrs.update(samples=int(n), seed=int(seed), evaluations=len(samples), result_unit=result_unit(m),
                       variance=variance, methodology=m.id)
    return frame


class _SampleLabels(Sequence[str]):
    """What each Sobol sample is called in an error (its number and values), built only for a sample that fails."""

    def __init__(self, samples: np.ndarray, names: Sequence[str], units: Sequence[str]):
        self._samples, self._names, self._units = samples, names, units

    def __len__(self) -> int:
        return len(self._samples)

    def __getitem__(self, i):  # an int only: evaluate asks for one row at a time
        values = ", ".join(f"{name} = {value:g} {unit}" for name, value, unit in
                           zip(self._names, self._samples[int(i)], self._units))
        return _("Sobol sample {index} ({values})").format(index=int(i) + 1, values=values)


def _bounds_problems(m: Methodology, central: Mapping[str, float], bounds: Mapping[str, tuple[float, float]],
                     strict: bool = False) -> list[KokenError]:
    """Unknown names, non-finite or unordered bounds, central values outside their bounds."""
    problems: list[KokenError] = []
    for name in {**central, **bounds}:
        if name not in m.parameters:
            problems.append(MethodologyError(_("{name!r} is not a parameter of {id} (its parameters: {parameters})").format(
                name=name, id=m.id, parameters=", ".join(m.parameters)), Location(file=m.path, field=name)))
    for name, p in m.parameters.items():
        if name not in central and name not in bounds and p.default is None:
            problems.append(KokenError(_("{name} needs a central value: it is not varied and has no default").format(
                name=name), Location(file=m.path, field=name)))
    for name, pair in bounds.items():
        if name not in m.parameters:
            continue
        where = Location(file=m.path, field=name)
        try:
            low, high = (float(v) for v in pair)
        except (TypeError, ValueError):
            problems.append(KokenError(_("bounds of {name} must be two numbers (low, high), got {pair!r}").format(
                name=name, pair=pair), where))
            continue
        unit = m.parameters[name].unit_text
        if not (math.isfinite(low) and math.isfinite(high)) or low > high or (strict and low == high):
            problems.append(KokenError(_("bounds of {name} must be finite with low {relation} high, got [{low:g}, "
                                         "{high:g}] {unit}").format(name=name, relation="<" if strict else "≤",
                                                                   low=low, high=high, unit=unit), where))
            continue
        value = central.get(name, m.parameters[name].default)
        if value is None and not strict:
            problems.append(KokenError(_("{name} has bounds but no central value (and no default)").format(name=name),
                                       where))
        elif not strict and not low <= float(value) <= high:
            problems.append(KokenError(_("the central value of {name}, {value:g} {unit}, is outside its bounds [{low:g}, "
                                         "{high:g}] {unit}").format(name=name, value=float(value), unit=unit, low=low,
                                                                    high=high), where))
    return problems


@dataclass(frozen=True)
class Sensitivity:
    """A methodology's sensitivity around one worked example (what ``koken sensitivity`` shows).

    Attributes:
        methodology: the methodology's id; ``version`` its version.
        example: the worked example used as the central case (its name), ``example_number`` its number (1: the first).
        result_unit: the unit of every result (the avoided step's, e.g. ``kg-CO2e/台/yr``).
        central_result: the avoided step at the central case.
        central: one row per parameter: ``parameter, unit, value, origin`` (origin in
            :data:`koken.base.vocabulary.CENTRAL_ORIGINS`: the example, a factor table, the default).
        tornado: :func:`tornado`'s frame plus ``bound_source`` (:data:`koken.base.vocabulary.BOUND_ORIGINS`).
        not_varied: parameters not varied: ``parameter, unit, value, reason``
            (:data:`koken.base.vocabulary.NOT_VARIED_REASONS`); never left out silently.
        sobol: :func:`sobol`'s frame (None when no parameter is varied).
        favourable: whether the central result is in the top 10 % of the one-at-a-time results' range
            (:func:`favourable_end`); ``result_low``, ``result_high`` that range.
        warnings: sentences to show (the favourable-end warning).
    """

    methodology: str
    version: str
    example: str
    example_number: int
    result_unit: str
    central_result: float
    central: pd.DataFrame
    tornado: pd.DataFrame
    not_varied: pd.DataFrame
    sobol: pd.DataFrame | None
    favourable: bool
    result_low: float
    result_high: float
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def document(self) -> dict:
        """JSON-ready data: every figure unrounded, units and sources named, the seed recorded."""
        def records(frame):
            return [] if frame is None else [{k: (None if isinstance(v, float) and math.isnan(v) else v)
                                              for k, v in r.items()} for r in frame.to_dict(orient="records")]

        return {"methodology": self.methodology, "version": self.version, "example": self.example,
                "result": AVOIDED_STEP, "result_unit": self.result_unit, "central_result": self.central_result,
                "central": records(self.central), "tornado": records(self.tornado),
                "not_varied": records(self.not_varied),
                "sobol": None if self.sobol is None else {
                    "samples": self.sobol.attrs["samples"], "seed": self.sobol.attrs["seed"],
                    "evaluations": self.sobol.attrs["evaluations"], "sampling": "SALib.sample.sobol (Saltelli)",
                    "analysis": "SALib.analyze.sobol", "indices": records(self.sobol)},
                "favourable_end": {"rule": favourable_rule(), "result_low": self.result_low,
                                   "result_high": self.result_high, "at_favourable_end": self.favourable},
                "warnings": list(self.warnings)}

    def table(self) -> pd.DataFrame:
        """One row per parameter (varied first, by swing; then those not varied): the tornado's columns,
        ``central``, ``bound_source``, the Sobol indices and, for a parameter not varied, its ``reason``."""
        import pandas as pd

        frame = self.tornado.copy()
        centre = dict(zip(self.central["parameter"], self.central["value"]))
        frame.insert(frame.columns.get_loc("low"), "central", [centre.get(n, math.nan) for n in frame["parameter"]])
        if self.sobol is not None:
            frame = frame.merge(self.sobol, on="parameter", how="left")
        rest = self.not_varied.rename(columns={"value": "central"})
        return pd.concat([frame, rest], ignore_index=True)


def example_central(m: Methodology, index: int) -> tuple[dict[str, float], dict[str, str]]:
    """The central case of worked example ``index``: every parameter's value in its declared unit, and its origin.

    Values come from the example's inputs, else from a factor table (the example's region and fiscal year), else from
    the parameter's default; a parameter with none of these is left out (the evaluation then says it is required).

    Raises:
        KokenErrors: the example's inputs cannot be read or a table cannot serve them.
    """
    example = m.spec.examples[index]
    where = Location(file=m.path, field=f"examples[{index}] ({example.name})")
    inputs, _shipped = example_inputs(m, index, where=where)
    given = set(inputs)
    inputs, _origins, problems, _failed = fill_from_tables(
        m.parameters, inputs, np.array([example.region or ""], dtype=object), np.array([example.fiscal_year or 0]),
        1, lambda i: where)
    if problems:
        raise KokenErrors(problems)
    values: dict[str, float] = {}
    origin: dict[str, str] = {}
    for name, p in m.parameters.items():
        if name in inputs:
            q = inputs[name]
            values[name] = float(np.asarray(q.magnitude, dtype=float)[0]) * conversion_factor(q.units, p.unit, name)
            origin[name] = "example" if name in given else "factor_table"
        elif p.default is not None:
            values[name], origin[name] = float(p.default), "default"
    assert set(origin.values()) <= {t.id for t in CENTRAL_ORIGINS}
    return values, origin


def parse_bounds(m: Methodology, settings: Sequence[str]) -> dict[str, tuple[float, float]]:
    """``name=low..high`` texts (``--set``) as bounds in each parameter's declared unit.

    A unit may follow the two numbers (``baseline_annual_energy=380..460 kWh/yr``, converted to the declared unit);
    without one, the numbers are in the declared unit.

    Raises:
        KokenErrors: every text that is not ``name=low..high [unit]``, names no parameter, has a unit of another
            dimension, or names a parameter twice.
    """
    problems: list[KokenError] = []
    out: dict[str, tuple[float, float]] = {}
    for text in settings:
        where = Location(field=f"--set {text}")
        found = _SET.match(text)
        if not found:
            problems.append(KokenError(_("expected name=low..high with an optional unit (e.g. "
                                         "grid_emission_factor=0.3..0.5 kg-CO2/kWh), got {text!r}").format(text=text),
                                       where))
            continue
        name, low, high, unit_text = found.groups()
        p = m.parameters.get(name)
        if p is None:
            problems.append(MethodologyError(_("{name!r} is not a parameter of {id} (its parameters: {parameters})").format(
                name=name, id=m.id, parameters=", ".join(m.parameters)), where))
            continue
        if name in out:
            problems.append(KokenError(_("{name} is given twice").format(name=name), where))
            continue
        try:
            factor = conversion_factor(parse_unit(unit_text, m.spec.hours_per_year, where), p.unit, name, where) \
                if unit_text else 1.0
            out[name] = (float(low) * factor, float(high) * factor)
        except (UnitError, ValueError) as err:
            problems.append(err if isinstance(err, KokenError) else KokenError(str(err), where))
    if problems:
        raise KokenErrors(problems)
    return out


def methodology_sensitivity(m: Methodology, example: int = 1, bounds: Mapping[str, tuple[float, float]] | None = None,
                            samples: int | None = DEFAULT_SAMPLES, seed: int = DEFAULT_SEED) -> Sensitivity:
    """The sensitivity of methodology ``m`` around its worked example ``example``.

    Low and high values: the caller's ``bounds`` where given (``bound_source`` ``given``), else the parameter's
    declared ``range`` when both ends are given and differ (``declared_range``). Not varied (listed, with the
    reason): a parameter without both, one in a share group (its shares must add up to 100 %: varying one alone
    breaks the sum). The central case is the example's inputs (factor tables and
    defaults for the rest).

    Args:
        m: compiled methodology.
        example: the worked example's number (1: the first, as ``koken sensitivity --example`` counts).
        bounds: parameter name → ``(low, high)`` in the declared unit.
        samples: the Sobol analysis's base samples (a power of 2), or None to skip it.
        seed: the Sobol sampling's seed.
    Returns:
        Sensitivity.
    Raises:
        KokenError: no such example; bounds for a parameter of a share group.
        KokenErrors: as :func:`tornado` and :func:`sobol`.
    """
    import pandas as pd

    given = dict(bounds or {})
    if isinstance(example, bool) or not isinstance(example, (int, np.integer)) or not 1 <= example <= len(m.spec.examples):
        raise KokenError(_("{id} has {count} worked example(s): give a number from 1 to {count}").format(
            id=m.id, count=len(m.spec.examples)), Location(file=m.path, field="examples"))
    index = int(example) - 1
    central, origin = example_central(m, index)
    shared = {name for group in m.spec.share_groups for name in group}
    refused = [KokenError(_("{name} is in a share group (its shares must add up to 100 %): it cannot be varied "
                            "alone").format(name=name), Location(file=m.path, field=name))
               for name in given if name in shared]
    unknown = [name for name in given if name not in m.parameters]
    if refused or unknown:
        raise KokenErrors(refused + _bounds_problems(m, {}, {k: given[k] for k in unknown}))
    chosen: dict[str, tuple[float, float]] = {}
    source: dict[str, str] = {}
    skipped: list[tuple[str, str]] = []
    for name, p in m.parameters.items():
        if name in given:
            chosen[name], source[name] = given[name], "given"
        elif name in shared:
            skipped.append((name, "share_group"))
        elif p.low is not None and p.high is not None and p.low < p.high:
            chosen[name], source[name] = (p.low, p.high), "declared_range"
        else:
            skipped.append((name, "no_range"))
    declared = [name for name in chosen if source[name] == "declared_range"]
    chosen, notes = _narrowed(m, central, chosen, declared)
    for note in notes:
        source[note[0]] = "declared_range_narrowed"
    table = tornado(m, central, chosen) if chosen else _empty_tornado(m)
    table.insert(table.columns.get_loc("high") + 1, "bound_source", [source[n] for n in table["parameter"]])
    central_result = table.attrs.get("central_result")
    if central_result is None:
        central_result = float(evaluate_cases(m, central, {}, [_("central case")])[0])
    results = [central_result, *table["result_at_low"], *table["result_at_high"]]
    low, high = float(min(results)), float(max(results))
    favourable = favourable_end(central_result, low, high)
    unit = result_unit(m)
    not_varied = pd.DataFrame({"parameter": [n for n, _r in skipped],
                               "unit": [m.parameters[n].unit_text for n, _r in skipped],
                               "value": [central.get(n, math.nan) for n, _r in skipped],
                               "reason": [r for _n, r in skipped]})
    assert set(not_varied["reason"]) <= {t.id for t in NOT_VARIED_REASONS}
    assert set(source.values()) <= {t.id for t in BOUND_ORIGINS}
    central_frame = pd.DataFrame({"parameter": list(central), "unit": [m.parameters[n].unit_text for n in central],
                                  "value": list(central.values()), "origin": [origin[n] for n in central]})
    indices = None
    warnings = [narrowing_note(m, *note) for note in notes]
    if chosen and samples is not None:
        try:
            indices = sobol(m, chosen, samples, seed, central)
        except KokenErrors as errs:
            if not declared:  # the caller's own bounds: their failing samples are the caller's to see
                raise
            warnings.append(_("the Sobol analysis was not run: {count} of its {total} samples cannot be computed, e.g. "
                              "{first}; give bounds that keep every combination computable with --set").format(
                count=len({e.location.field for e in errs}), total=samples * (len(chosen) + 2),
                first=str(errs.errors[0]).rstrip("。")))
    if favourable:
        warnings.insert(0, favourable_warning(central_result, low, high, unit))
    return Sensitivity(methodology=m.id, version=m.version, example=m.spec.examples[index].name,
                       example_number=int(example), result_unit=unit, central_result=float(central_result),
                       central=central_frame, tornado=table, not_varied=not_varied, sobol=indices,
                       favourable=favourable, result_low=low, result_high=high, warnings=tuple(warnings))


BISECTIONS = 40
"""Halvings when a declared range's end is narrowed (:func:`_narrowed`): the bound is then within 2**-40 of the
range's width from the last computable value."""


def _narrowed(m: Methodology, central: Mapping[str, float], bounds: Mapping[str, tuple[float, float]],
              declared: Sequence[str]) -> tuple[dict[str, tuple[float, float]], list[tuple]]:
    """The bounds with each declared-range end whose case cannot be computed (a derived step outside its own range,
    no finite result) moved towards the central value, by bisection, to the furthest value that can.

    A declared range is what a methodology allows each input alone; a derived step's range (a derived operating
    years of at most 40 yr, a generation factor of at most 2 kg-CO2/kWh) may allow less. Only ends taken from a
    declared range are narrowed; an end the caller gave is never changed (its failing case is an error). Assumes
    the computable values between the central value and the end are one interval (true for a monotone step).

    Returns:
        (the bounds, one ``(parameter, "low" or "high", the declared end, the narrowed end, the problem at the
        declared end)`` per narrowed end).
    Raises:
        KokenErrors: a case that fails at a caller's bound, or at the central values.
    """
    bounds = dict(bounds)
    names = list(bounds)
    ends = [(name, j) for name in names for j in (0, 1)]
    labels = [_("{parameter} at its {end} ({value:g} {unit})").format(
        parameter=name, end=_("low") if j == 0 else _("high"), value=float(bounds[name][j]),
        unit=m.parameters[name].unit_text) for name, j in ends]
    failed = _failures(m, central, names, [(name, bounds[name][j]) for name, j in ends], labels)
    if not failed:
        return bounds, []
    if any(ends[i][0] not in declared for i in failed):
        raise KokenErrors([e for i in sorted(failed) for e in failed[i]])
    todo = sorted(failed)
    good = {i: _centre(m, central, ends[i][0]) for i in todo}
    bad = {i: float(bounds[ends[i][0]][ends[i][1]]) for i in todo}
    if _failures(m, central, names, [], [_("central case")]):
        raise KokenErrors([e for i in sorted(failed) for e in failed[i]])
    for _step in range(BISECTIONS):
        middle = {i: (good[i] + bad[i]) / 2 for i in todo}
        worse = _failures(m, central, names, [(ends[i][0], middle[i]) for i in todo], [str(i) for i in todo])
        for k, i in enumerate(todo):
            if k in worse:
                bad[i] = middle[i]
            else:
                good[i] = middle[i]
    notes = []
    for i in todo:
        name, j = ends[i]
        pair = list(bounds[name])
        declared_end, pair[j] = pair[j], good[i]
        bounds[name] = (pair[0], pair[1])
        notes.append((name, "low" if j == 0 else "high", declared_end, good[i], failed[i][0].message))
    return bounds, notes


def _centre(m: Methodology, central: Mapping[str, float], name: str) -> float:
    return float(central[name]) if name in central else float(m.parameters[name].default)


def _failures(m: Methodology, central: Mapping[str, float], names: Sequence[str],
              cases: Sequence[tuple[str, float]], labels: Sequence[str]) -> dict[int, list[KokenError]]:
    """Which one-at-a-time cases (``(parameter, value)``, the others central) cannot be computed, by position, with
    their problems; all cases in one kernel call."""
    n = max(len(cases), 1)
    arrays = {name: np.full(n, _centre(m, central, name)) for name in names}
    for i, (name, value) in enumerate(cases):
        arrays[name][i] = value
    fixed = {k: v for k, v in central.items() if k not in arrays}
    try:
        evaluate_cases(m, fixed, arrays, list(labels)[:n])
    except KokenErrors as errs:
        index = {label: i for i, label in enumerate(labels)}
        out: dict[int, list[KokenError]] = {}
        for err in errs:
            out.setdefault(index.get(err.location.field, -1), []).append(err)
        if -1 in out:  # a problem of no case (the inputs themselves): not a failing case but an error
            raise
        return out
    return {}


def narrowing_note(m: Methodology, name: str, end: str, declared_end: float, bound: float, problem: str) -> str:
    """The sentence that says a declared range's end was narrowed, to what, and why."""
    unit = m.parameters[name].unit_text
    return _("{name}: the declared {end} {declared:g} {unit} cannot be computed ({problem}); the {end} used is "
             "{bound:g} {unit}, the furthest value from the central one that can").format(
        name=name, end=_("low") if end == "low" else _("high"), declared=declared_end, unit=unit,
        problem=problem.rstrip("。"), bound=bound)  # a Japanese sentence in brackets drops its full stop


def _empty_tornado(m: Methodology) -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame({c: pd.Series(dtype=object if c in ("parameter", "unit") else float) for c in TORNADO_COLUMNS})
    frame.attrs.update(result_unit=result_unit(m), methodology=m.id)
    return frame


__all__ = ["DEFAULT_SAMPLES", "DEFAULT_SEED", "FAVOURABLE_END_RULE", "Sensitivity", "favourable_end", "favourable_rule",
           "favourable_warning", "methodology_sensitivity", "parse_bounds", "sobol", "tornado"]
