"""Totals by group, summed partition by partition (hand-calculated sums)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from koken.base.grouping import group_codes
from koken.cli.commands import main
from koken.totals import Totals, summarise

from helpers import PORTFOLIOS, portfolio_problems


def _table(rows):
    return pd.DataFrame(rows, columns=["fiscal_year", "category", "methodology", "market", "single_year[t-CO2e]",
                                       "lifetime[t-CO2e]"])


ROWS = [(2023, "home_appliances", "refrigerator", "domestic", 1.5, 18.0),
        (2023, "home_appliances", "refrigerator", "overseas", 2.0, 24.0),
        (2023, "home_appliances", "television", "domestic", 0.25, 2.5),
        (2022, "home_appliances", "refrigerator", "domestic", 4.0, 48.0),
        (2023, "home_appliances", "refrigerator", "domestic", 0.5, 6.0)]


def test_sums_by_market_and_year_keep_timeframes_and_years_apart():
    by_market = Totals.from_table(_table(ROWS)).summarise(["fiscal_year", "market"])
    assert by_market.to_dict(orient="records") == [
        # FY2022 domestic: the one refrigerator line
        {"fiscal_year": 2022, "market": "domestic", "single_year[t-CO2e]": 4.0, "lifetime[t-CO2e]": 48.0,
         "product_lines": 1, "single_year[万t-CO2e]": 0.0004, "lifetime[万t-CO2e]": 0.0048},
        # FY2023 domestic: 1.5 + 0.25 + 0.5 = 2.25 t single-year; 18 + 2.5 + 6 = 26.5 t lifetime
        {"fiscal_year": 2023, "market": "domestic", "single_year[t-CO2e]": 2.25, "lifetime[t-CO2e]": 26.5,
         "product_lines": 3, "single_year[万t-CO2e]": 0.000225, "lifetime[万t-CO2e]": 0.00265},
        {"fiscal_year": 2023, "market": "overseas", "single_year[t-CO2e]": 2.0, "lifetime[t-CO2e]": 24.0,
         "product_lines": 1, "single_year[万t-CO2e]": 0.0002, "lifetime[万t-CO2e]": 0.0024},
    ]


def test_partitions_added_in_order_give_the_same_totals():
    whole = Totals.from_table(_table(ROWS))
    parts = Totals()
    for start in range(0, len(ROWS), 2):
        parts.add(_table(ROWS[start:start + 2]))
    by = ["fiscal_year", "category", "methodology", "market"]
    pd.testing.assert_frame_equal(whole.summarise(by), parts.summarise(by))


def test_device_columns_are_summed_beside_the_figures():
    table = _table(ROWS[:2]).assign(**{"device_single_year:semiconductors[t-CO2e]": [0.5, 1.0]})
    totals = Totals.from_table(table)
    assert totals.columns("device_single_year:") == ["device_single_year:semiconductors[t-CO2e]"]
    row = totals.summarise(["fiscal_year"], figures=("single_year[t-CO2e]",
                                                    "device_single_year:semiconductors[t-CO2e]")).iloc[0]
    assert row["device_single_year:semiconductors[t-CO2e]"] == 1.5


def test_summarise_refuses_a_grouping_it_does_not_keep():
    with pytest.raises(ValueError):
        summarise(_table(ROWS), ["region"])


def test_overflowing_sum_is_detected():
    totals = Totals.from_table(_table([(2023, "c", "m", "domestic", 1e308, 1e308)] * 2))
    assert not totals.finite()


def test_group_codes_number_keys_in_order_of_first_appearance():
    codes, keys = group_codes([np.array(["JP", "US", "JP", "JP"], dtype=object), np.array([2023, 2023, 2022, 2023])])
    assert keys == [("JP", 2023), ("US", 2023), ("JP", 2022)]
    assert codes.tolist() == [0, 1, 2, 0]
    assert all(type(part) in (str, int) for key in keys for part in key)


def test_totals_that_overflow_though_every_row_is_finite_are_refused(library):
    # rows of 1e308 t are finite; their sum is not
    assert "totals overflow" in portfolio_problems(PORTFOLIOS / "totals_overflow.csv", library)


def test_fiscal_years_are_totalled_apart_on_screen_and_in_the_result_file(tmp_path):
    path = tmp_path / "years.csv"
    path.write_text("methodology,fiscal_year,market,units_shipped[台],baseline_annual_energy[kWh/yr],"
                    "product_annual_energy[kWh/yr],grid_emission_factor[kg-CO2/kWh],operating_years[yr]\n"
                    "refrigerator,2023,domestic,1000,420,273,0.421,12\n"
                    "refrigerator,2024,domestic,1000,420,273,0.421,12\n", encoding="utf-8")
    out = tmp_path / "r.json"
    result = CliRunner().invoke(main, ["calculate", str(path), "-o", str(out)])
    assert result.exit_code == 0
    assert "FY2023 total single-year: 61.9 t-CO2e" in result.output  # 147 × 0.421 × 1,000 / 1,000
    assert "FY2024 total single-year: 61.9 t-CO2e" in result.output
    totals = json.loads(out.read_text(encoding="utf-8"))["totals_by_market"]
    assert [t["fiscal_year"] for t in totals] == [2023, 2024]
