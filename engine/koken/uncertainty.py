"""Uncertain inputs: a distribution per value, read from text without eval, and sampled through its quantile function.

An uncertain value is one of :data:`koken.base.vocabulary.DISTRIBUTION_KINDS`, written in a portfolio cell or a
methodology's ``default_distribution`` (docs/uncertainty.md):

* ``320 ± 20`` or ``320 ± 5 %`` (± x % is x per cent of the value): triangular, most likely at the value, zero at
  the bounds (value − x, value + x); ``+/-`` and ``+-`` are read as ±;
* low and high columns beside the value's: triangular too, from low through the value to high;
* ``uniform(low, high)``, ``triangular(low, mode, high)``, ``normal(mean, sd)``, ``lognormal(median, gsd)`` (gsd: the
  geometric standard deviation, > 1), optionally followed by the unit, as for a point value.

Every distribution is kept as (kind, low, central, high) in one unit: for uniform and triangular low and high are the
bounds, for normal and lognormal the 5th and 95th percentiles (so that a change of unit is one multiplication and the
tornado's low and high values are at hand). Normal and lognormal draws are truncated at the parameter's declared range
(a fraction stays in [0, 1]); uniform and triangular bounds must lie inside it.

Sampling is by inverse transform: a uniform number u in [0, 1) per draw → the kind's quantile function. The Monte
Carlo (:mod:`koken.montecarlo`) draws the u itself, per variable, so that a factor shared by many rows is one random
variable per draw. Sources: triangular quantile function (Kotz and van Dorp, *Beyond Beta*, 2004, ch. 1); lognormal
parameterised by median and geometric standard deviation as in the ecoinvent pedigree approach (Weidema et al.,
*Data quality guideline for the ecoinvent database*, 2013, § 10).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from koken.base.i18n import _
from koken.base.models import Number, StrictModel
from koken.base.vocabulary import DISTRIBUTION_KINDS, DISTRIBUTION_NAMES

Z95 = 1.6448536269514722
"""The standard normal's 95th percentile: a normal's P5 and P95 lie Z95 standard deviations from its mean."""

_NUMBER = r"[+\-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+\-]?\d+)?"
_PLUS_MINUS = re.compile(rf"^(?P<value>{_NUMBER})\s*(?P<unit1>[^±]*?)\s*(?:±|\+/-|\+-)\s*(?P<spread>{_NUMBER})"
                         r"\s*(?P<unit2>.*?)\s*$")
_NAMED = re.compile(r"^(?P<name>[^\W\d][\w]*)\s*\((?P<args>[^()]*)\)\s*(?P<unit>.*?)\s*$")
_ARGUMENTS = {"fixed": 1, "uniform": 2, "triangular": 3, "normal": 2, "lognormal": 2}
"""How many numbers each kind takes, in the order written: fixed(value), uniform(low, high), triangular(low, mode,
high), normal(mean, sd), lognormal(median, gsd)."""


def ranges_notice(count: int) -> str:
    """The notice of a point run whose inputs carry ranges (``count`` values): its figures are the central case."""
    return _("{count} input value(s) carry a range (±, low/high, a distribution): these figures are the central "
             "case; koken calculate … --draws N gives their P5–P95 and what moves the total "
             "(docs/uncertainty.md)").format(count=count)


def ranged_values(batches) -> int:
    """How many input values of calculated batches carry a range (:attr:`koken.calculation.Batch.uncertain`)."""
    return sum(int((u.kind >= 0).sum()) for b in batches for u in b.uncertain.values())


def looks_uncertain(text: str) -> bool:
    """Whether a (width-folded) cell is meant as an uncertain value: it holds ± (or +/-, +-) or starts with a
    distribution's name and a parenthesis; such a cell that :func:`parse_distribution` cannot read is refused."""
    if "±" in text or "+/-" in text or re.search(r"\+-\s*[-+]?[\d.]", text):   # 273 +- 5, 273 kWh/yr +- 5 %
        return True
    match = re.match(r"^\s*([^\W\d]\w*)\s*\(", text)
    return bool(match) and match.group(1).casefold() in DISTRIBUTION_NAMES


class DistributionError(ValueError):
    """An uncertain value that cannot be read, or whose shape is impossible (the message says which)."""


@dataclass(frozen=True)
class Distribution:
    """One uncertain value.

    Attributes:
        kind: one of :data:`koken.base.vocabulary.DISTRIBUTION_KINDS`.
        low, high: the bounds (uniform, triangular) or the 5th and 95th percentiles (normal, lognormal), in ``unit``;
            equal to ``mode`` for ``fixed``.
        mode: the central value in ``unit``: the mode of a triangular, the midpoint of a uniform, the mean of a
            normal, the median of a lognormal; the point run uses it.
        unit: the unit text the numbers are in ('' when it comes from elsewhere: a column's header).
        relative: the spread was written as a share of the value (``13 ± 2 %``); on a value in % that is ambiguous
            (2 % of 13 %, or 2 percentage points), which the portfolio reader refuses.
    Raises (on construction):
        DistributionError: low above high, the central value outside [low, high], a negative spread, a lognormal
            with a value ≤ 0, a kind that is not known, a number that is not finite.
    """

    kind: str
    low: float
    mode: float
    high: float
    unit: str = ""
    relative: bool = False

    def __post_init__(self):
        check_shape(self.kind, self.low, self.mode, self.high)

    @classmethod
    def of(cls, kind: str, numbers: tuple[float, ...], unit: str = "") -> Distribution:
        """A distribution from its numbers as written (see :data:`_ARGUMENTS`): ``of("normal", (10, 2))``.

        Raises:
            DistributionError: the wrong count of numbers, or an impossible shape.
        """
        if kind not in _ARGUMENTS:
            raise DistributionError(_("unknown distribution {name!r} (known: {known})").format(
                name=kind, known=", ".join(DISTRIBUTION_KINDS)))
        if len(numbers) != _ARGUMENTS[kind]:
            raise DistributionError(_("{kind} takes {count} numbers ({form}), got {given}").format(
                kind=kind, count=_ARGUMENTS[kind], form=FORMS[kind], given=len(numbers)))
        if not all(math.isfinite(x) for x in numbers):
            raise DistributionError(_("the numbers of a distribution must be finite"))
        if kind == "fixed":
            return cls(kind, numbers[0], numbers[0], numbers[0], unit)
        if kind == "uniform":
            low, high = numbers
            return cls(kind, low, (low + high) / 2, high, unit)
        if kind == "triangular":
            return cls(kind, *numbers, unit)
        centre, spread = numbers
        if kind == "normal":
            if spread < 0:
                raise DistributionError(_("the standard deviation of normal({mean:g}, {sd:g}) is negative").format(
                    mean=centre, sd=spread))
            return cls(kind, centre - Z95 * spread, centre, centre + Z95 * spread, unit)
        if centre <= 0 or spread < 1:
            raise DistributionError(_("lognormal(median, gsd) needs a median above 0 and a geometric standard "
                                      "deviation of at least 1, got lognormal({median:g}, {gsd:g})").format(
                median=centre, gsd=spread))
        return cls(kind, centre / spread ** Z95, centre, centre * spread ** Z95, unit)

    def central(self) -> float:
        """The central value (the point run's), in ``unit``."""
        return self.mode

    def low_high(self) -> tuple[float, float]:
        """(low, high) in ``unit``: the bounds of a uniform or triangular, the P5 and P95 of a normal or lognormal."""
        return self.low, self.high

    def ppf(self, u: np.ndarray, floor: float | None = None, ceiling: float | None = None) -> np.ndarray:
        """The quantile function at ``u`` (floats in [0, 1)), normal and lognormal truncated at [floor, ceiling]."""
        return quantiles(self.kind, self.low, self.mode, self.high, np.asarray(u, dtype=float), floor, ceiling)

    def sample(self, rng: np.random.Generator, n: int, floor: float | None = None,
               ceiling: float | None = None) -> np.ndarray:
        """``n`` draws from numpy Generator ``rng`` (float array ``(n,)`` in ``unit``)."""
        return self.ppf(rng.random(n), floor, ceiling)

    def describe(self) -> str:
        """As written in a cell: ``triangular(300, 320, 350) kWh/yr``."""
        if self.kind == "normal":
            numbers = (self.mode, (self.high - self.low) / (2 * Z95))
        elif self.kind == "lognormal":
            numbers = (self.mode, (self.high / self.mode) ** (1 / Z95))
        elif self.kind == "uniform":
            numbers = (self.low, self.high)
        elif self.kind == "fixed":
            numbers = (self.mode,)
        else:
            numbers = (self.low, self.mode, self.high)
        text = f"{self.kind}({', '.join(f'{x:.6g}' for x in numbers)})"
        return f"{text} {self.unit}".rstrip()


FORMS = {"fixed": "value", "uniform": "low, high", "triangular": "low, mode, high", "normal": "mean, sd",
         "lognormal": "median, gsd"}
"""How each kind's numbers are written (for messages and docs)."""


class DistributionSpec(StrictModel):
    """The uncertainty of a value written in a file (a methodology's ``default_distribution``, a factor-table entry's
    ``distribution``), from a cited source: the value itself is the central value (the mode of a triangular, the mean
    of a normal, the median of a lognormal); ``low`` and ``high`` bound a uniform or triangular, ``sd`` is a normal's
    standard deviation, both in the value's unit, and ``gsd`` a lognormal's geometric standard deviation (a ratio
    ≥ 1)."""

    kind: Literal["uniform", "triangular", "normal", "lognormal"]
    low: Number | None = None
    high: Number | None = None
    sd: Number | None = None
    gsd: Number | None = None
    source: str = Field(description="the id of the source that gives the range (one of the file's sources)")

    @model_validator(mode="after")
    def _fields_of_kind(self) -> DistributionSpec:
        wanted = {"uniform": {"low", "high"}, "triangular": {"low", "high"}, "normal": {"sd"}, "lognormal": {"gsd"}}
        given = {k for k in ("low", "high", "sd", "gsd") if getattr(self, k) is not None}
        if given != wanted[self.kind]:
            raise ValueError(_("a {kind} distribution takes {fields}").format(
                kind=self.kind, fields=", ".join(sorted(wanted[self.kind]))))
        return self

    def around(self, central: float, unit: str = "") -> Distribution:
        """The distribution with ``central`` as its central value.

        Raises:
            DistributionError: an impossible shape (the value outside [low, high], a negative sd, a gsd below 1).
        """
        if self.kind == "normal":
            return Distribution.of("normal", (central, self.sd), unit)
        if self.kind == "lognormal":
            return Distribution.of("lognormal", (central, self.gsd), unit)
        return Distribution(self.kind, self.low, central, self.high, unit)


def check_shape(kind: str, low: float, mode: float, high: float) -> None:
    """Refuse an impossible shape (see :class:`Distribution`).

    Raises:
        DistributionError: with the reason.
    """
    if kind not in DISTRIBUTION_KINDS:
        raise DistributionError(_("unknown distribution {name!r} (known: {known})").format(
            name=kind, known=", ".join(DISTRIBUTION_KINDS)))
    if not (math.isfinite(low) and math.isfinite(mode) and math.isfinite(high)):
        raise DistributionError(_("the numbers of a distribution must be finite"))
    if low > high:
        raise DistributionError(_("the low value {low:g} is above the high value {high:g}").format(low=low, high=high))
    if not low <= mode <= high:
        raise DistributionError(_("the central value {central:g} is outside its range [{low:g}, {high:g}]").format(
            central=mode, low=low, high=high))


def parse_distribution(text: str) -> Distribution:
    """A cell's uncertain value (width-folded text): ``320 ± 20``, ``320 ± 5 %``, ``0.9 ± 0.05 fraction``,
    ``420 kWh/yr ± 5 %``, ``triangular(300, 320, 350) kWh/yr``; a regular expression and float(), never eval.

    >>> parse_distribution("320 ± 5 %").low_high()
    (304.0, 336.0)
    >>> parse_distribution("triangular(300, 320, 350) kWh/yr").describe()
    'triangular(300, 320, 350) kWh/yr'

    Returns:
        Distribution whose ``unit`` is the unit written in the cell ('' when none: the column's unit applies).
    Raises:
        DistributionError: text that is none of the forms, a negative spread, an impossible shape.
    """
    text = text.strip()
    plus_minus = _PLUS_MINUS.match(text)
    if plus_minus:
        value, spread = float(plus_minus["value"]), float(plus_minus["spread"])
        unit1, unit2 = plus_minus["unit1"].strip(), plus_minus["unit2"].strip()
        if spread < 0:
            raise DistributionError(_("the spread after ± must not be negative, got {spread:g}").format(spread=spread))
        if unit2 == "%":
            spread, unit = abs(value) * spread / 100, unit1
        elif unit1 and unit2 and unit1 != unit2:
            raise DistributionError(_("the value is in {unit1} and the spread in {unit2}: write both in one unit, once, "
                                      "after the spread ('{value} ± … {unit1}')").format(
                value=plus_minus["value"], unit1=unit1, unit2=unit2))
        else:
            unit = unit2 or unit1
        if not (math.isfinite(value) and math.isfinite(spread)):
            raise DistributionError(_("the numbers of a distribution must be finite"))
        return Distribution("triangular", value - spread, value, value + spread, unit, relative=unit2 == "%")
    named = _NAMED.match(text)
    if named and named["name"].casefold() in DISTRIBUTION_NAMES:
        kind = DISTRIBUTION_NAMES[named["name"].casefold()]
        parts = [p.strip() for p in named["args"].split(",")]
        if not all(re.fullmatch(_NUMBER, p) for p in parts):
            raise DistributionError(_("{kind}(…) takes plain numbers separated by commas ({form}), got {text!r}").format(
                kind=kind, form=FORMS[kind], text=text))
        return Distribution.of(kind, tuple(float(p) for p in parts), named["unit"].strip())
    raise DistributionError(_("{text!r} is not an uncertain value koken reads: write 'value ± spread', 'value ± "
                              "spread %' or a distribution such as triangular(low, mode, high)").format(text=text))


def quantiles(kind: str, low, mode, high, u: np.ndarray, floor: float | None = None,
              ceiling: float | None = None) -> np.ndarray:
    """The quantile function of one kind, vectorised: ``low``, ``mode``, ``high`` broadcast against ``u``.

    Args:
        kind: one of :data:`koken.base.vocabulary.DISTRIBUTION_KINDS`.
        low, mode, high: as in :class:`Distribution` (floats or arrays, e.g. ``(rows, 1)``).
        u: uniform numbers in [0, 1) (e.g. ``(rows, draws)``).
        floor, ceiling: the parameter's declared range (None: open), at which normal and lognormal are truncated.
    Returns:
        float array of the broadcast shape.
    """
    import numexpr
    from scipy.special import ndtr, ndtri

    low, mode, high = (np.asarray(x, dtype=float) for x in (low, mode, high))
    if kind == "fixed":
        return np.broadcast_to(mode, np.broadcast_shapes(mode.shape, u.shape)).astype(float)
    # uniform and triangular in one pass over the (rows × draws) array (numexpr: the same IEEE operations as numpy,
    # element by element, so the numbers do not depend on its threads)
    if kind == "uniform":
        return numexpr.evaluate("low + u * width", local_dict={"low": low, "u": u, "width": high - low})
    if kind == "triangular":
        width = high - low
        with np.errstate(divide="ignore", invalid="ignore"):
            split = np.where(width > 0, (mode - low) / np.where(width > 0, width, 1.0), 0.0)
        rise, fall = width * (mode - low), width * (high - mode)
        return numexpr.evaluate("where(u < split, low + sqrt(u * rise), high - sqrt((1 - u) * fall))",
                                local_dict={"u": u, "split": split, "low": low, "high": high, "rise": rise,
                                            "fall": fall})
    u = np.maximum(u, 2.0 ** -60)  # a draw of exactly 0 would be the quantile −∞
    if kind == "normal":
        scale = (high - low) / (2 * Z95)
        centre = mode
        lo = -np.inf if floor is None else floor
        hi = np.inf if ceiling is None else ceiling
    else:
        scale = np.log(np.where(low > 0, high / np.where(low > 0, low, 1.0), 1.0)) / (2 * Z95)
        centre = np.log(mode)
        lo = -np.inf if floor is None or floor <= 0 else math.log(floor)
        hi = np.inf if ceiling is None else (math.log(ceiling) if ceiling > 0 else -np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        safe = np.where(scale > 0, scale, 1.0)
        a = ndtr((lo - centre) / safe)
        b = ndtr((hi - centre) / safe)
        z = ndtri(a + u * (b - a))
        x = np.where(scale > 0, centre + scale * z, centre)
    if kind == "lognormal":
        x = np.exp(x)
    if floor is not None or ceiling is not None:
        x = np.clip(x, -np.inf if floor is None else floor, np.inf if ceiling is None else ceiling)
    return x
