"""koken.survival: the share of a vintage in service in a later year (installed-base timeframe)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from koken.survival import Survival


def test_a_fixed_life_serves_whole_years_then_the_fraction_of_the_last():
    # L = 2.5 years: ages 0 and 1 whole, age 2 half the year, age 3 nothing (hand calculation: clip(L − a, 0, 1))
    share = Survival().in_service(np.array([0.0, 1.0, 2.0, 3.0]), np.full(4, 2.5))
    assert share.tolist() == [1.0, 1.0, 0.5, 0.0]


@settings(deadline=None)  # the first call imports scipy
@given(st.floats(0.8, 8.0), st.floats(0.5, 40.0))  # durable goods: k ≥ 0.8 (a thinner tail than 4,000 yr)
def test_the_weibull_shares_over_all_ages_add_up_to_the_mean_life(shape, scale):
    curve = Survival("weibull", shape=shape, scale_years=scale)
    ages = np.arange(0, 4000, dtype=float)
    total = float(curve.in_service(ages, np.zeros(len(ages))).sum())
    # ∫₀^∞ exp(−(t/λ)^k) dt = λ Γ(1 + 1/k): the mean operating years
    assert total == pytest.approx(scale * math.gamma(1 + 1 / shape), rel=1e-6)
    assert curve.mean_years() == pytest.approx(scale * math.gamma(1 + 1 / shape))


def test_the_weibull_share_of_the_first_year_by_hand():
    # k = 1 is the exponential: ∫₀¹ exp(−t/λ) dt = λ (1 − e^(−1/λ)); λ = 10 → 10 (1 − e^−0.1) = 0.9516258
    share = Survival("weibull", shape=1.0, scale_years=10.0).in_service(np.array([0.0]), np.array([0.0]))
    assert share[0] == pytest.approx(10 * (1 - math.exp(-0.1)), rel=1e-12)


@pytest.mark.parametrize("text, rule", [
    ("operating_years", Survival()),
    ("weibull:shape=2.5,scale=14", Survival("weibull", shape=2.5, scale_years=14.0)),
    (" weibull : shape = 3 , scale_years = 9 ", Survival("weibull", shape=3.0, scale_years=9.0)),
])
def test_rules_are_read_as_written_on_the_command_line(text, rule):
    assert Survival.parse(text) == rule


@pytest.mark.parametrize("text, words", [
    ("gompertz", "unknown survival rule 'gompertz'"),
    ("weibull:shape=2.5", "needs scale_years > 0"),
    ("weibull:shape=-1,scale=10", "needs shape > 0"),
    ("weibull:shape=two,scale=10", "'two' is not a number"),
    ("weibull:mean=10", "write weibull:shape=K,scale=YEARS"),
    ("operating_years:shape=2", "belong to the weibull rule"),
    ("weibull:shape=nan,scale=10", "needs shape > 0"),
])
def test_a_rule_that_cannot_be_read_is_refused_naming_what_is_wrong(text, words):
    with pytest.raises(ValueError) as info:
        Survival.parse(text)
    assert words in str(info.value)


def test_a_rule_is_recorded_with_its_parameters():
    assert Survival("weibull", shape=2.0, scale_years=12.0).record() == {
        "rule": "weibull", "shape": 2.0, "scale_years": 12.0}
    assert Survival().record() == {"rule": "operating_years"}
