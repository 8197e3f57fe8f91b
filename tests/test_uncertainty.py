"""Uncertain values read from text (never eval) and their quantile functions (koken.uncertainty)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from koken.uncertainty import Z95, Distribution, DistributionError, looks_uncertain, parse_distribution


@pytest.mark.parametrize(("text", "kind", "low", "mode", "high", "unit"), [
    ("320 ± 20", "triangular", 300, 320, 340, ""),
    ("320 ± 5 %", "triangular", 304, 320, 336, ""),  # 5 % of 320 = 16
    ("420 kWh/yr ± 5 %", "triangular", 399, 420, 441, "kWh/yr"),
    ("0.9 +/- 0.05", "triangular", 0.85, 0.9, 0.95, ""),
    ("320 ± 20 kWh/yr", "triangular", 300, 320, 340, "kWh/yr"),
    ("triangular(300, 320, 350) kWh/yr", "triangular", 300, 320, 350, "kWh/yr"),
    ("uniform(1, 3)", "uniform", 1, 2, 3, ""),
    ("三角(1, 2, 4)", "triangular", 1, 2, 4, ""),
    ("normal(10, 2)", "normal", 10 - 2 * Z95, 10, 10 + 2 * Z95, ""),
    ("lognormal(2, 1.5)", "lognormal", 2 / 1.5 ** Z95, 2, 2 * 1.5 ** Z95, ""),
])
def test_cell_forms_give_bounds_or_p5_p95_around_the_central_value(text, kind, low, mode, high, unit):
    d = parse_distribution(text)
    assert (d.kind, d.unit) == (kind, unit)
    assert d.low_high() == pytest.approx((low, high)) and d.central() == pytest.approx(mode)


@pytest.mark.parametrize(("text", "reason"), [
    ("uniform(3, 1)", "the low value 3 is above the high value 1"),
    ("triangular(1, 5, 3)", "the central value 5 is outside its range [1, 3]"),
    ("normal(10, -1)", "standard deviation of normal(10, -1) is negative"),
    ("lognormal(-1, 2)", "median above 0"),
    ("320 ± -5", "must not be negative"),
    ("triangular(1, 2)", "triangular takes 3 numbers"),
    ("normal(1, 2 * 3)", "takes plain numbers"),
    ("normal(1, __import__('os'))", "is not an uncertain value koken reads"),
    ("400 MWh/yr ± 1 kWh/yr", "write both in one unit"),
])
def test_impossible_or_unreadable_shapes_are_refused_with_the_reason(text, reason):
    assert looks_uncertain(text)
    with pytest.raises(DistributionError, match=re.escape(reason)):
        parse_distribution(text)


def test_plain_numbers_and_units_are_not_taken_for_uncertain_values():
    assert not any(looks_uncertain(t) for t in ("420", "4.5 万台", "1e+5", "kWh(yr)", "-3"))


def test_triangular_quantiles_match_the_closed_form():
    # Kotz and van Dorp: x = a + sqrt(u (c − a)(m − a)) below F(m) = (m − a)/(c − a), else c − sqrt((1 − u)(c − a)(c − m))
    d = Distribution("triangular", 300, 320, 350)
    assert d.ppf(np.array([0.05]))[0] == pytest.approx(300 + (0.05 * 50 * 20) ** 0.5)
    assert d.ppf(np.array([0.95]))[0] == pytest.approx(350 - (0.05 * 50 * 30) ** 0.5)


def test_normal_draws_are_truncated_at_the_declared_range():
    x = Distribution.of("normal", (0.9, 0.1)).sample(np.random.default_rng(1), 20_000, 0, 1)
    assert x.min() >= 0 and x.max() <= 1 and (x > 0.99).any()


def test_the_same_generator_seed_gives_the_same_draws():
    d = parse_distribution("lognormal(2, 1.5)")
    assert np.array_equal(d.sample(np.random.default_rng(5), 100), d.sample(np.random.default_rng(5), 100))


def test_plus_minus_after_a_unit_reads_like_the_other_spellings():
    """`273 kWh/yr +- 5 %` was read as a unit with a minus sign (kWh-1) and refused; ± and +/- were read."""
    from koken.uncertainty import looks_uncertain, parse_distribution

    for text in ("273 kWh/yr +- 5 %", "273 kWh/yr ± 5 %", "273 kWh/yr +/- 5 %"):
        assert looks_uncertain(text)
        d = parse_distribution(text)   # 5 % of 273 = 13.65
        assert (d.low, d.mode, d.high) == pytest.approx((259.35, 273.0, 286.65)) and d.unit == "kWh/yr"


def test_a_spread_in_another_unit_is_refused_without_advice_that_would_change_the_value():
    """The advice once read '420 ± 5 MWh/yr' for '420 kWh/yr ± 5 MWh/yr': followed, 420 kWh/yr became 420 MWh/yr."""
    from koken.uncertainty import DistributionError, parse_distribution

    with pytest.raises(DistributionError) as info:
        parse_distribution("420 kWh/yr ± 5 MWh/yr")
    assert "420 ± … kWh/yr" in str(info.value) and "420 ± 5 MWh/yr" not in str(info.value)


@pytest.mark.parametrize("cell", ["420 ± 5 % kWh/yr", "420 +/- 5 % kWh/yr", "420 % kWh/yr", "420 ± 5 kWh/yr %"])
def test_percent_beside_another_unit_is_refused_not_read_a_hundredfold_small(tmp_path, library, cell):
    """`420 ± 5 % kWh/yr` was read as 420 % of a kWh/yr: a baseline of 4.2 kWh/yr and a total of −5,092.4 t-CO2e
    instead of 2,784.9, without a word. % with another unit is refused, naming the cell."""
    from helpers import portfolio_problems

    path = tmp_path / "one.csv"
    path.write_text("product_line,methodology,fiscal_year,market,region,units_shipped,baseline_annual_energy,"
                    f"product_annual_energy[kWh/yr],operating_years[yr]\nA,refrigerator,2023,domestic,JP,4.5 万台,"
                    f"\"{cell}\",273,12\n", encoding="utf-8")
    problems = portfolio_problems(path, library)
    assert "row 2" in problems and "baseline_annual_energy" in problems and "% with another unit" in problems


@pytest.mark.parametrize("header, cell", [("capacity_factor[%]", "13 ± 2 %"), ("capacity_factor", "13% ± 2%"),
                                          ("capacity_factor[%]", "13 ±2%")])
def test_a_relative_spread_on_a_value_in_percent_is_refused_as_ambiguous(tmp_path, library, header, cell):
    """Found by the adversarial pass of issue 16: `13 % ± 2 %` was read as 2 % of the value (12.74 to 13.26 %) where a
    reporter may mean 2 percentage points (11 to 15 %), a range 7.7× wider. Refused, naming the cell and both ways."""
    from helpers import portfolio_problems

    path = tmp_path / "pv.csv"
    path.write_text(f"product_line,methodology,fiscal_year,market,region,units_shipped,{header},operating_years[yr]\n"
                    f"PV,solar_pv,2023,domestic,JP,18000 kW,\"{cell}\",20\n", encoding="utf-8")
    problems = portfolio_problems(path, library)
    assert "row 2" in problems and "capacity_factor" in problems and "on a value in percent, is ambiguous" in problems


def test_a_spread_in_points_on_a_value_in_percent_reads_as_points():
    """`13 ± 2` under a [%] header: 11 to 15 % (the spread in the column's unit)."""
    d = parse_distribution("13 ± 2")
    assert (d.low, d.mode, d.high, d.relative) == (11.0, 13.0, 15.0, False)
    assert parse_distribution("13 ± 2 %").relative
