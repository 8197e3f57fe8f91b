"""Survival rules for the installed-base timeframe: the share of a vintage still in service in a later year.

The installed-base annual figure of reporting year *Y* (stock view) is, per product line and vintage *v*
(the fiscal year it was shipped, ``v ≤ Y``)::

    units shipped in v × in_service(Y − v) × avoided per unit and year (at year Y's factors) × 1 year

``in_service(a)`` is the mean share of the vintage in service during its year of age *a* (age 0 = the shipment
year), ∫ₐ^{a+1} S(t) dt for a survival function S. Taking the mean over the year (not S at one instant) makes
the stock and flow views agree exactly: with constant shipments and factors, the steady-state installed-base
annual figure equals the lifetime figure of one cohort (Σₐ ∫ₐ^{a+1} S = ∫₀^∞ S = the mean operating years), the
identity the tests pin. A unit is counted in service for the whole of its shipment year, as the single-year
figure counts one full year of use.

Rules (both are named and recorded with the results):

* ``operating_years`` (default): every unit serves exactly the row's operating years *L*, S(t) = 1 for t < L:
  in_service(a) = clip(L − a, 0, 1) (a fractional L serves part of its last year);
* ``weibull``: S(t) = exp(−(t/λ)^k) with shape *k* and scale *λ* (years), a survival curve commonly fitted to
  the lifetimes of durable goods (the mean life is λ Γ(1 + 1/k)); the company supplies k and λ and their source.
  ∫ₐ^{a+1} S = λ/k · Γ(1/k) · [P(1/k, ((a+1)/λ)^k) − P(1/k, (a/λ)^k)], P the regularised lower incomplete gamma
  function (``scipy.special.gammainc``).

Sources: Fuji Electric's company figure "one year of operation of every unit shipped since 2009 that has not yet
reached end of life", following the 低炭素社会実行計画 method (domain notes round2.md §1.2); WBCSD's year-on-year
(stock) timeframe and the GHG Protocol 2024 Scope 3 survey's request for annualised installed-base reporting
(round2.md, summary 2 and 4; standards.md §3: AE_y = Σ_vintages N_installed(v, y) × (E_ref − E_sol) × EF_y).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from koken.base.i18n import _

SURVIVAL_RULES = ("operating_years", "weibull")
"""The survival rules koken knows (:class:`Survival`)."""


@dataclass(frozen=True)
class Survival:
    """How long the units of a vintage stay in service.

    Attributes:
        rule: ``operating_years`` (each row's operating years, a fixed life) or ``weibull``.
        shape: Weibull shape k (dimensionless, > 0), for ``weibull``.
        scale_years: Weibull scale λ in years (> 0), for ``weibull``.
    """

    rule: Literal["operating_years", "weibull"] = "operating_years"
    shape: float | None = None
    scale_years: float | None = None

    def __post_init__(self) -> None:
        if self.rule not in SURVIVAL_RULES:
            raise ValueError(_("unknown survival rule {rule!r} (rules: {rules})").format(
                rule=self.rule, rules=", ".join(SURVIVAL_RULES)))
        if self.rule == "weibull":
            for name, value in (("shape", self.shape), ("scale_years", self.scale_years)):
                if value is None or not math.isfinite(value) or value <= 0:
                    raise ValueError(_("a Weibull survival curve needs {name} > 0 (got {value})").format(
                        name=name, value=value))
        elif self.shape is not None or self.scale_years is not None:
            raise ValueError(_("shape and scale_years belong to the weibull rule, not to {rule!r}").format(
                rule=self.rule))

    @classmethod
    def parse(cls, text: str) -> Survival:
        """A rule as written on the command line: ``operating_years`` or ``weibull:shape=2.5,scale=14``.

        Raises:
            ValueError: an unknown rule, a missing or non-positive parameter, or a parameter of another rule.
        """
        rule, _colon, rest = text.strip().partition(":")
        values: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in rest.split(","))):
            key, equals, value = part.partition("=")
            key = {"scale": "scale_years"}.get(key.strip(), key.strip())
            if not equals or key not in ("shape", "scale_years"):
                raise ValueError(_("{part!r}: write weibull:shape=K,scale=YEARS").format(part=part))
            try:
                values[key] = float(value)
            except ValueError:
                raise ValueError(_("{part!r}: {value!r} is not a number").format(part=part, value=value)) from None
        return cls(rule=rule.strip(), **values)  # type: ignore[arg-type]

    def record(self) -> dict:
        """The rule as results record it (``{"rule": "weibull", "shape": 2.5, "scale_years": 14.0}``)."""
        return {"rule": self.rule, **({"shape": self.shape, "scale_years": self.scale_years}
                                      if self.rule == "weibull" else {})}

    def mean_years(self) -> float | None:
        """Mean operating years of a unit under the curve (λ Γ(1 + 1/k)); None for the fixed rule (the row's)."""
        if self.rule != "weibull":
            return None
        return float(self.scale_years * math.gamma(1.0 + 1.0 / self.shape))

    def in_service(self, age: np.ndarray, operating_years: np.ndarray) -> np.ndarray:
        """Mean share of a vintage in service during its year of age ``age`` (see the module docstring).

        Args:
            age: float array ``(n,)``, reporting year − shipment year, ≥ 0.
            operating_years: float array ``(n,)`` in years, each row's (used by the fixed rule).
        Returns:
            float array ``(n,)`` in [0, 1].
        """
        age = np.asarray(age, dtype=float)
        if self.rule == "operating_years":
            return np.clip(np.asarray(operating_years, dtype=float) - age, 0.0, 1.0)
        from scipy.special import gammainc

        k, scale = float(self.shape), float(self.scale_years)
        a = 1.0 / k
        lower = gammainc(a, (age / scale) ** k)
        upper = gammainc(a, ((age + 1.0) / scale) ** k)
        return np.clip(scale / k * math.gamma(a) * (upper - lower), 0.0, 1.0)


__all__ = ["SURVIVAL_RULES", "Survival"]
