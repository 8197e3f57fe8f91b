"""koken.production.tables: the sourced carrier table and the plan's target rules."""

import pytest

from koken.base.units import parse_unit
from koken.production.tables import CO2_PER_CARBON, load_carrier_table, load_plan


def test_commit_path_reproduces_the_published_targets_from_the_one_percent_rule():
    # The report's targets: phase II 9.56 % (FY2020 → FY2030), phase I 7.73 % (FY2012 → FY2020),
    # both 1 %/yr compounded: 1 − 0.99¹⁰ = 0.095618, 1 − 0.99⁸ = 0.077255.
    plan = load_plan()
    assert round(plan.commit_required(2030) * 100, 2) == 9.56
    assert round(plan.commit_required(2020, base_year=2012) * 100, 2) == 7.73


def test_challenge_path_is_a_straight_line_to_minus_46_percent():
    plan = load_plan()
    assert plan.challenge_required(2030) == pytest.approx(0.46)
    assert plan.challenge_required(2013) == 0.0
    assert plan.challenge_required(2023) == pytest.approx(0.46 * 10 / 17)


def test_fuel_co2_factor_is_heat_value_times_carbon_factor_times_44_over_12():
    # 算定省令 (2010): A重油 39.1 GJ/kL × 0.0189 t-C/GJ × 44/12 = 2.7096 t-CO2/kL (the familiar 2.71)
    table = load_carrier_table()
    a = table.carrier("A重油")
    assert table.co2_factor(a, 2020).quantity.to(parse_unit("t-CO2/kL")).magnitude == pytest.approx(39.1 * 0.0189 * 44 / 12)
    assert CO2_PER_CARBON == 44 / 12
    lpg = table.carrier("lpg")  # 50.2 GJ/t × 0.0163 × 44/12 = 3.0003 t-CO2/t
    assert table.co2_factor(lpg, 2015).quantity.to(parse_unit("t-CO2/t")).magnitude == pytest.approx(50.2 * 0.0163 * 44 / 12)


def test_heat_values_apply_to_their_fiscal_years_only():
    table = load_carrier_table()
    electricity = table.carrier("electricity_purchased")
    assert table.heat_value(electricity, 2022).quantity.to("GJ/kWh").magnitude == pytest.approx(9.76e-3)
    assert table.heat_value(electricity, 2023).quantity.to("GJ/kWh").magnitude == pytest.approx(8.64e-3)
    kerosene = table.carrier("kerosene")
    assert table.heat_value(kerosene, 2013) is None and table.heat_value(kerosene, 2023) is None
    assert table.heat_value(table.carrier("city_gas"), 2020) is None  # the supplier's value applies


def test_crude_oil_rule_agrees_with_the_unit_definitions():
    assert load_carrier_table().crude_oil_per_gj == 0.0258


def test_carriers_are_found_by_id_japanese_or_english_name():
    table = load_carrier_table()
    assert table.carrier("灯油") is table.carrier("kerosene") is table.carrier("Kerosene")
    assert table.carrier("naphtha") is None


def test_a_plan_target_that_is_not_a_share_is_refused_in_the_chosen_language(tmp_path):
    from koken.base.errors import KokenErrors
    from koken.base.i18n import language
    from koken.base.paths import action_plan_dir

    path = tmp_path / "plan.yaml"
    text = (action_plan_dir() / "plan.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("reduction: 46 %", "reduction: 146 %"), encoding="utf-8")
    with language("ja"), pytest.raises(KokenErrors) as err:
        load_plan(str(path))
    assert "reduction は 0 から 100 % の間にしてください。" in str(err.value)
    with language("en"), pytest.raises(KokenErrors) as err:
        load_plan(str(path))
    assert "reduction must be between 0 and 100 %" in str(err.value)
