"""koken.calculation: the figures of a result row side by side (avoided emissions in three timeframes, the two
scenarios, the avoided share, Scope 3 category 11), never added together; the installed-base timeframe."""

import copy
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from koken.api import calculate
from koken.base.errors import KokenError
from koken.base.paths import methodologies_dir
from koken.base.vocabulary import (
    AVOIDED_SHARE_COLUMN,
    BASELINE_COLUMN,
    BASELINE_LIFETIME_COLUMN,
    CATEGORY11_COLUMN,
    INSTALLED_BASE_COLUMN,
    PRODUCT_COLUMN,
)
from koken.library import scan_library
from koken.totals import Totals, installed_base

from helpers import MINIMAL, write_methodology

APPLIANCES = scan_library(methodologies_dir() / "home_appliances", bundled=False).library


def refrigerators(*rows, grid=None):
    """Refrigerator lines: (fiscal year, units, baseline kWh/yr, product kWh/yr, operating years) each."""
    frame = pd.DataFrame(rows, columns=["fiscal_year", "units_shipped[台]", "baseline_annual_energy[kWh/yr]",
                                        "product_annual_energy[kWh/yr]", "operating_years[yr]"])
    frame.insert(0, "methodology", "refrigerator")
    frame.insert(1, "market", "domestic")
    frame.insert(2, "region", "JP")
    if grid is not None:
        frame["grid_emission_factor[kg-CO2/kWh]"] = grid
    return frame


def test_the_scenarios_share_and_category_11_of_a_line_by_hand():
    table = calculate(refrigerators((2023, 35000, 430, 280, 12)), APPLIANCES).table
    row = table.iloc[0]
    # Japan FY2023 grid 0.421 kg-CO2/kWh (shared table); baseline 430 × 0.421 = 181.03, product 280 × 0.421 = 117.88
    assert row[BASELINE_COLUMN] == pytest.approx(181.03)
    assert row[PRODUCT_COLUMN] == pytest.approx(117.88)
    assert row[AVOIDED_SHARE_COLUMN] == pytest.approx(150 / 430)
    # lifetime figures: 35,000 台 × 12 yr × per unit ÷ 1,000 kg/t
    assert row[BASELINE_LIFETIME_COLUMN] == pytest.approx(35000 * 12 * 181.03 / 1000)  # 76,032.6 t
    assert row[CATEGORY11_COLUMN] == pytest.approx(35000 * 12 * 117.88 / 1000)  # 49,509.6 t
    assert row["lifetime[t-CO2e]"] == pytest.approx(35000 * 12 * 63.15 / 1000)  # 26,523 t


def test_category_11_and_avoided_emissions_are_summed_apart_never_together():
    calc = calculate(refrigerators((2023, 1000, 430, 280, 10), (2023, 3000, 500, 300, 10)), APPLIANCES)
    totals = Totals.from_table(calc.table).summarise(["fiscal_year"]).iloc[0]
    # hand: category 11 = (1,000 × 280 + 3,000 × 300) × 0.421 × 10 ÷ 1,000 = 1,180,000 × 0.00421 = 4,967.8 t
    assert totals[CATEGORY11_COLUMN] == pytest.approx(4967.8)
    # avoided lifetime = (1,000 × 150 + 3,000 × 200) × 0.421 × 10 ÷ 1,000 = 3,157.5 t: its own column
    assert totals["lifetime[t-CO2e]"] == pytest.approx(3157.5)
    assert totals[BASELINE_LIFETIME_COLUMN] == pytest.approx(4967.8 + 3157.5)


def test_no_category_11_where_the_methodology_counts_no_use_phase(tmp_path):
    data = copy.deepcopy(MINIMAL)
    data["category11_step"] = None
    library = scan_library(write_methodology(tmp_path, data).parent.parent, bundled=False).library
    frame = pd.DataFrame({"methodology": ["toy"], "fiscal_year": [2023], "market": ["domestic"], "region": ["JP"],
                          "units_shipped[台]": [10], "baseline_energy[kWh/yr]": [400], "product_energy[kWh/yr]": [300],
                          "grid_emission_factor[kg-CO2/kWh]": [0.5], "operating_years[yr]": [10]})
    table = calculate(frame, library).table
    assert math.isnan(table[CATEGORY11_COLUMN].iloc[0])
    assert table["lifetime[t-CO2e]"].iloc[0] == pytest.approx(10 * 10 * 50 / 1000)  # 5 t avoided all the same
    assert Totals.from_table(table).summarise(["fiscal_year"])[CATEGORY11_COLUMN].iloc[0] == 0


# --- installed base ------------------------------------------------------------------------------------------------

def test_the_installed_base_counts_vintages_in_service_at_the_reporting_years_factor():
    frame = refrigerators((2015, 1000, 430, 280, 12), (2021, 1000, 430, 280, 2), (2022, 1000, 430, 280, 2),
                          (2023, 1000, 430, 280, 2))
    calc = calculate(frame, APPLIANCES, installed_base_year=2023)
    stock = calc.table[INSTALLED_BASE_COLUMN].tolist()
    per_unit_2023 = (430 - 280) * 0.421  # 63.15 kg-CO2e/台/yr at Japan's FY2023 factor
    # 2015 vintage, 12 years of use: in service in 2023 (age 8), counted at FY2023's factor, not FY2015's
    assert stock[0] == pytest.approx(1000 * per_unit_2023 / 1000)
    assert calc.table["single_year[t-CO2e]"].iloc[0] != pytest.approx(stock[0])  # its own year's factor differs
    assert stock[1] == 0  # 2021 with 2 years of use: retired before 2023
    assert stock[2] == pytest.approx(63.15) and stock[3] == pytest.approx(63.15)
    by_category = installed_base(Totals.from_table(calc.table), ["category", "market"])
    assert by_category[INSTALLED_BASE_COLUMN].iloc[0] == pytest.approx(3 * 63.15)
    assert calc.options["survival"] == {"rule": "operating_years"} and calc.options["installed_base_year"] == 2023


def test_a_vintage_shipped_after_the_reporting_year_is_not_in_its_stock():
    calc = calculate(refrigerators((2023, 1000, 430, 280, 2), (2024, 1000, 430, 280, 2), grid=0.421), APPLIANCES,
                     installed_base_year=2023)
    assert calc.table[INSTALLED_BASE_COLUMN].iloc[0] == pytest.approx(63.15)
    assert math.isnan(calc.table[INSTALLED_BASE_COLUMN].iloc[1])


def test_a_factor_the_row_gives_itself_is_kept_in_the_installed_base():
    calc = calculate(refrigerators((2015, 1000, 430, 280, 12), grid=[0.5]), APPLIANCES, installed_base_year=2023)
    assert calc.table[INSTALLED_BASE_COLUMN].iloc[0] == pytest.approx(1000 * 150 * 0.5 / 1000)  # 75 t


@settings(deadline=None, max_examples=30)
@given(st.integers(1, 50_000), st.floats(1.0, 15.0), st.integers(0, 400), st.integers(2013, 2023))
def test_at_steady_state_the_installed_base_equals_one_cohorts_lifetime_figure(shipped, years, saved, year):
    # constant shipments, use and factor (one row given the same factor every year): Σ_a clip(L − a, 0, 1) = L, so the
    # stock of year Y equals the lifetime figure of the cohort shipped in Y
    vintages = range(year - math.ceil(years) - 2, year + 1)
    frame = refrigerators(*[(v, shipped, 100 + saved, 100, years) for v in vintages], grid=0.421)
    calc = calculate(frame, APPLIANCES, installed_base_year=year)
    cohort = calc.table[calc.table["fiscal_year"] == year]["lifetime[t-CO2e]"].iloc[0]
    assert calc.table[INSTALLED_BASE_COLUMN].sum() == pytest.approx(cohort, rel=1e-12, abs=1e-9)


def test_a_weibull_installed_base_at_steady_state_is_shipments_times_the_mean_life():
    # k = 3, λ = 8 yr: mean life 8 Γ(4/3) = 7.1441 yr; vintages 1990–2023 leave exp(−(34/8)³) ≈ 5e−34 uncounted
    frame = refrigerators(*[(v, 1000, 430, 280, 12) for v in range(1990, 2024)], grid=0.421)
    calc = calculate(frame, APPLIANCES, installed_base_year=2023, survival="weibull:shape=3,scale=8")
    expected = 1000 * 63.15 / 1000 * 8 * math.gamma(1 + 1 / 3)
    assert calc.table[INSTALLED_BASE_COLUMN].sum() == pytest.approx(expected, rel=1e-9)
    assert calc.options["survival"] == {"rule": "weibull", "shape": 3.0, "scale_years": 8.0}


def test_a_survival_rule_needs_an_installed_base_year_and_must_be_readable():
    with pytest.raises(KokenError, match="give its reporting year too"):
        calculate(refrigerators((2023, 1, 430, 280, 12)), APPLIANCES, survival="operating_years")
    with pytest.raises(KokenError, match="unknown survival rule 'gompertz'"):
        calculate(refrigerators((2023, 1, 430, 280, 12)), APPLIANCES, installed_base_year=2023, survival="gompertz")


def test_the_installed_base_never_enters_the_flow_totals():
    calc = calculate(refrigerators((2022, 1000, 430, 280, 12), (2023, 1000, 430, 280, 12)), APPLIANCES,
                     installed_base_year=2023)
    by_year = Totals.from_table(calc.table).summarise(["fiscal_year"])
    assert INSTALLED_BASE_COLUMN not in by_year.columns
    assert np.isfinite(by_year["single_year[t-CO2e]"]).all()
    with pytest.raises(ValueError, match="summed over vintages"):
        installed_base(Totals.from_table(calc.table), ["fiscal_year"])


@pytest.mark.parametrize("parts", [3, 70])  # 70 yes/no parts: more combinations than one integer numbers
def test_joined_labels_are_those_joined_row_by_row(parts):
    """The label columns (defaults_used …) are built once per distinct combination: the same text as joining each
    row's names one by one."""
    import koken.calculation as calculation

    rng = np.random.default_rng(parts)
    n = 500
    given = [(np.where(rng.random(n) < 0.3, rng.integers(0, 2, n), -1), [f"p{j}", f"q{j}"]) for j in range(parts)]
    codes, labels = calculation._joined(given, n)
    expected = [";".join(names[c[i]] for c, names in given if c[i] >= 0) for i in range(n)]
    assert [labels[k] for k in codes] == expected
    assert calculation._joined([], 4)[1] == [""]
