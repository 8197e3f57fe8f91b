"""koken.variants: customer-reflection variants beside the standard figures, with coverage; the residual-mix refusal;
the forward factor path; the same factor in both scenarios."""

import numpy as np
import pandas as pd
import pytest

from koken.api import calculate
from koken.base.errors import KokenError, KokenErrors
from koken.base.paths import methodologies_dir
from koken.library import scan_library
from koken.totals import Totals
from koken.variants import factor_path, read_customer_data

APPLIANCES = scan_library(methodologies_dir() / "home_appliances", bundled=False).library

HEADER = ("製品名,年度,需要家の排出係数[kg-CO2/kWh],小売電気事業者,料金メニュー,対象期間,再エネ比率[%],"
          "残差ミックス排出係数[kg-CO2/kWh],実測電力量[kWh],実測期間[yr]\n")


def portfolio(*lines, years=10):
    """Refrigerator lines (product line, units): 430 → 280 kWh/yr, Japan FY2023 (0.421 kg-CO2/kWh from the table)."""
    return pd.DataFrame({"product_line": [n for n, _u in lines], "methodology": "refrigerator", "fiscal_year": 2023,
                         "market": "domestic", "region": "JP", "units_shipped[台]": [u for _n, u in lines],
                         "baseline_annual_energy[kWh/yr]": 430, "product_annual_energy[kWh/yr]": 280,
                         "operating_years[yr]": years})


def customer_file(tmp_path, *rows, header=HEADER):
    path = tmp_path / "customers.csv"
    path.write_text(header + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def test_a_customer_factor_moves_both_scenarios_and_the_coverage_is_the_share_of_units(tmp_path):
    data = customer_file(tmp_path, "R1,2023,0.3,東京電力EP,スタンダードS,2023年度,,,,")
    calc = calculate(portfolio(("R1", 1000), ("R2", 3000)), APPLIANCES, customer_data=data)
    t = calc.table
    # R1 at 0.3: avoided (430 − 280) × 0.3 × 1,000 台 × 10 yr ÷ 1,000 = 450 t (standard 0.421: 631.5 t);
    # category 11 280 × 0.3 × 10,000 ÷ 1,000 = 840 t; both scenarios took the customer factor (avoided = 150 × 0.3)
    assert t["variant:customer_factor:lifetime[t-CO2e]"].tolist() == pytest.approx([450.0, 3 * 631.5])
    assert t["variant:customer_factor:scope3_cat11_lifetime[t-CO2e]"].iloc[0] == pytest.approx(840.0)
    assert t["lifetime[t-CO2e]"].iloc[0] == pytest.approx(631.5)  # the standard figure is untouched
    coverage = Totals.from_table(t).coverage("customer_factor", ["fiscal_year", "methodology", "market"])
    assert coverage["coverage"].iloc[0] == pytest.approx(1000 / 4000)


def test_a_renewable_share_takes_the_residual_mix_for_the_rest(tmp_path):
    data = customer_file(tmp_path, "R1,2023,,,,,40,0.5,,")
    t = calculate(portfolio(("R1", 1000)), APPLIANCES, customer_data=data).table
    # effective factor 0.4 × 0 + 0.6 × 0.5 = 0.3 kg-CO2/kWh: 150 × 0.3 × 10 = 450 t
    assert t["variant:renewable_share:lifetime[t-CO2e]"].iloc[0] == pytest.approx(450.0)


def test_a_renewable_share_without_a_residual_mix_factor_is_refused_with_the_reason(tmp_path):
    data = customer_file(tmp_path, "R1,2023,,,,,40,,,")
    with pytest.raises(KokenErrors) as info:
        read_customer_data(data)
    message = str(info.value)
    assert "customers.csv, row 2, column '残差ミックス排出係数[kg-CO2/kWh]'" in message
    assert "the grid average would count the renewable attribute twice" in message


def test_a_customer_factor_without_its_evidence_is_refused(tmp_path):
    data = customer_file(tmp_path, "R1,2023,0.3,,スタンダードS,,,,,")
    with pytest.raises(KokenErrors) as info:
        read_customer_data(data)
    message = str(info.value)
    assert "column '小売電気事業者'" in message and "column '対象期間'" in message and "evidence" in message


def test_actual_use_scales_the_use_phase_of_both_scenarios(tmp_path):
    data = customer_file(tmp_path, "R1,2023,,,,,,,600,2")
    t = calculate(portfolio(("R1", 1000)), APPLIANCES, customer_data=data).table
    # observed 600 kWh ÷ 2 yr = 300 kWh/yr against the catalogue's 280: × 300/280 on 631.5 t = 676.607 t
    assert t["variant:actual_use:lifetime[t-CO2e]"].iloc[0] == pytest.approx(631.5 * 300 / 280)


def test_the_forward_path_applies_a_factor_to_each_life_year():
    path = factor_path("jp_plan_fy2030")
    assert path.factor(np.array([2023, 2030, 2040])).tolist() == pytest.approx([0.421, 0.25, 0.25])
    t = calculate(portfolio(("R1", 1000)), APPLIANCES, factor_path="jp_plan_fy2030").table
    # FY2023-2032: 0.421, then 1/7 of the way to 0.25 each year until 2030, then 0.25 (hand: Σ = 3.184)
    factors = [0.421 + (0.25 - 0.421) * min(k, 7) / 7 for k in range(10)]
    assert sum(factors) == pytest.approx(3.184)
    assert t["variant:factor_path:lifetime[t-CO2e]"].iloc[0] == pytest.approx(150 * sum(factors))
    assert t["variant:factor_path:single_year[t-CO2e]"].iloc[0] == pytest.approx(150 * 0.421)


def test_a_fractional_life_counts_the_fraction_of_its_last_year_on_the_path():
    t = calculate(portfolio(("R1", 1000), years=1.5), APPLIANCES, factor_path="jp_plan_fy2030").table
    assert t["variant:factor_path:lifetime[t-CO2e]"].iloc[0] == pytest.approx(150 * (0.421 + 0.5 * (0.421 - 0.171 / 7)))


def test_a_customer_row_that_applies_to_no_product_line_is_an_error(tmp_path):
    data = customer_file(tmp_path, "R9,2023,0.3,A,B,C,,,,")
    with pytest.raises(KokenErrors) as info:
        calculate(portfolio(("R1", 1000)), APPLIANCES, customer_data=data)
    assert "row 2" in str(info.value) and "applies to no product line" in str(info.value)


def test_two_customer_rows_for_one_product_line_are_an_error(tmp_path):
    data = customer_file(tmp_path, "R1,2023,0.3,A,B,C,,,,", "R1,,0.2,A,B,C,,,,")
    with pytest.raises(KokenErrors) as info:
        calculate(portfolio(("R1", 1000)), APPLIANCES, customer_data=data)
    assert "two rows of the customer-data file" in str(info.value) and "(rows 2 and 3)" in str(info.value)


def test_every_problem_of_a_customer_file_is_reported_at_once(tmp_path):
    data = customer_file(tmp_path, "R1,2023,3.5,A,B,C,,,,", "R2,20x3,,,,,,,100,", "R3,2023,,,,,150,0.5,,",
                         header=HEADER.replace("実測期間[yr]", "実測期間"))
    with pytest.raises(KokenErrors) as info:
        read_customer_data(data)
    message = str(info.value)
    assert "give the unit in the header, e.g. metered_years[yr]" in message
    assert "3.5 kg-CO2/kWh is outside the range [0.0, 2.0]" in message
    assert "'20x3' is not a fiscal year" in message
    assert "150.0 % is outside the range [0.0, 1.0]" in message


def test_a_percent_share_and_a_fraction_share_give_the_same_variant(tmp_path):
    as_percent = customer_file(tmp_path, "R1,2023,,,,,40,0.5,,")
    first = calculate(portfolio(("R1", 1000)), APPLIANCES, customer_data=as_percent).table
    (tmp_path / "b").mkdir()
    as_fraction = customer_file(tmp_path / "b", "R1,2023,,,,,0.4,0.5,,", header=HEADER.replace("[%]", "[fraction]"))
    second = calculate(portfolio(("R1", 1000)), APPLIANCES, customer_data=as_fraction).table
    column = "variant:renewable_share:lifetime[t-CO2e]"
    assert first[column].iloc[0] == pytest.approx(second[column].iloc[0])


def test_an_unknown_factor_path_is_refused_naming_the_known_ones():
    with pytest.raises(KokenError, match="unknown factor path 'jp_2050'.*jp_plan_fy2030"):
        calculate(portfolio(("R1", 1)), APPLIANCES, factor_path="jp_2050")
