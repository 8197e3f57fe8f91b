"""koken.methodology.evaluate: vectorised kernel, unit invariance, ranges, negatives, division by zero."""

import numpy as np
import pytest

from koken.base.errors import KokenErrors
from koken.base.units import registry
from koken.calculation import calculate
from koken.library import load_methodology
from koken.methodology.evaluate import evaluate
from koken.portfolio.build import read_portfolio

from helpers import (
    METHODOLOGIES,
    PORTFOLIOS,
    load_folder,
    methodology_dict,
    portfolio_problems,
    scale_scenarios,
    write_methodology,
)

Q = registry().Quantity


@pytest.fixture()
def toy(tmp_path):
    return load_methodology(write_methodology(tmp_path, methodology_dict()))


def inputs(**over):
    base = {
        "baseline_energy": Q(np.array([400.0, 470.0]), "kWh/year_8760h"),
        "product_energy": Q(np.array([300.0, 273.0]), "kWh/year_8760h"),
        "grid_emission_factor": Q(np.array([0.5, 0.457]), "kg*CO2e/kWh"),
        "operating_years": Q(np.array([10.0, 12.0]), "year_8760h"),
    }
    base.update(over)
    return base


def test_hand_calculated_batch(toy):
    r = evaluate(toy, inputs(), Q(np.array([1000.0, 20000.0]), "台"))
    # row 1: (400-300) × 0.5 = 50 kg/yr; × 1,000 units = 50 t single-year; × 10 yr = 500 t
    # row 2: (470-273) × 0.457 = 90.029 kg/yr; × 20,000 units = 1,800.58 t; × 12 = 21,606.96 t
    assert r.avoided_per_unit_year.magnitude == pytest.approx([50.0, 90.029])
    assert r.single_year.to("t*CO2e").magnitude == pytest.approx([50.0, 1800.58])
    assert r.lifetime.to("t*CO2e").magnitude == pytest.approx([500.0, 21606.96])


def test_mwh_instead_of_kwh_gives_the_same_result(toy):
    a = evaluate(toy, inputs(), Q(np.array([1.0, 1.0]), "台"))
    b = evaluate(toy, inputs(baseline_energy=Q(np.array([0.4, 0.47]), "MWh/year_8760h"),
                             grid_emission_factor=Q(np.array([500.0, 457.0]), "g*CO2e/kWh")),
                 Q(np.array([1.0, 1.0]), "台"))
    assert np.allclose(a.lifetime.magnitude, b.lifetime.magnitude, rtol=1e-12)


def test_man_units_equal_plain_units(toy):
    a = evaluate(toy, inputs(), Q(np.array([1000.0, 20000.0]), "台"))
    b = evaluate(toy, inputs(), Q(np.array([0.1, 2.0]), "万*台"))
    assert np.allclose(a.single_year.magnitude, b.single_year.magnitude, rtol=1e-12)


def test_kg_where_kwh_is_declared_fails(toy):
    with pytest.raises(KokenErrors, match="baseline_energy.*dimension"):
        evaluate(toy, inputs(baseline_energy=Q(np.array([1.0, 1.0]), "kg")))


def test_bare_number_is_refused(toy):
    with pytest.raises(KokenErrors, match="quantity with a unit"):
        evaluate(toy, inputs(baseline_energy=np.array([1.0, 1.0])))


def test_negative_results_are_kept_not_clipped(toy):
    r = evaluate(toy, inputs(product_energy=Q(np.array([500.0, 470.0]), "kWh/year_8760h")),
                 Q(np.array([10.0, 10.0]), "台"))
    # (400 - 500) × 0.5 = -50 kg/yr; product equal to baseline gives exactly 0
    assert r.avoided_per_unit_year.magnitude.tolist() == [-50.0, 0.0]
    assert r.single_year.to("kg*CO2e").magnitude[0] == pytest.approx(-500.0)


def test_results_are_linear_in_units_shipped(toy):
    one = evaluate(toy, inputs(), Q(np.array([1.0, 1.0]), "台")).lifetime.magnitude
    many = evaluate(toy, inputs(), Q(np.array([7.0, 7.0]), "台")).lifetime.magnitude
    assert np.allclose(many, 7 * one)


def test_missing_required_value_names_row_and_column(toy):
    with pytest.raises(KokenErrors) as info:
        evaluate(toy, inputs(product_energy=Q(np.array([300.0, np.nan]), "kWh/year_8760h")))
    err = info.value.errors[0]
    assert err.location.row == 2 and err.location.column == "product_energy"


def test_out_of_range_and_negative_shipments(toy):
    with pytest.raises(KokenErrors) as info:
        evaluate(toy, inputs(grid_emission_factor=Q(np.array([0.5, 5.0]), "kg*CO2e/kWh")),
                 Q(np.array([-1.0, 1.0]), "台"))
    messages = [str(e) for e in info.value.errors]
    assert any("outside the allowed range" in m and "row 2" in m for m in messages)
    assert any("units_shipped must be a finite number >= 0" in m and "row 1" in m for m in messages)


def test_fraction_declared_refuses_bare_90(tmp_path):
    data = methodology_dict()
    data["parameters"]["share"] = {"unit": "fraction", "description": {"ja": "s", "en": "s"}}
    scale_scenarios(data, "share")
    data["examples"][0]["inputs"]["share"] = 1
    m = load_methodology(write_methodology(tmp_path, data))
    with pytest.raises(KokenErrors, match="a fraction is expected"):
        evaluate(m, inputs(share=Q(np.array([90.0, 0.5]), "fraction")))
    r = evaluate(m, inputs(share=Q(np.array([90.0, 50.0]), "percent")))
    # 50 kg × 0.9 = 45; 90.029 × 0.5 = 45.0145
    assert r.avoided_per_unit_year.magnitude == pytest.approx([45.0, 45.0145])


def test_division_by_zero_is_a_row_error_never_nan(tmp_path):
    data = methodology_dict()
    data["parameters"]["ratio_base"] = {"unit": "kWh/yr", "description": {"ja": "r", "en": "r"}}
    scale_scenarios(data, "product_energy / ratio_base")
    data["examples"][0]["inputs"]["ratio_base"] = "300 kWh/yr"
    m = load_methodology(write_methodology(tmp_path, data))
    with pytest.raises(KokenErrors) as info:
        evaluate(m, inputs(ratio_base=Q(np.array([300.0, 0.0]), "kWh/year_8760h")))
    errors = info.value.errors  # each step that divides by zero on row 2: avoided emissions and both scenarios
    assert {e.location.row for e in errors} == {2} and all("division by zero" in e.message for e in errors)
    assert {e.location.step for e in errors} == {"avoided_per_unit_year", "baseline_emissions", "product_emissions"}


def test_defaults_fill_empty_cells_and_are_recorded(tmp_path):
    data = methodology_dict()
    data["parameters"]["operating_years"].update(default=12, default_source="src")
    m = load_methodology(write_methodology(tmp_path, data))
    r = evaluate(m, inputs(operating_years=Q(np.array([10.0, np.nan]), "year_8760h")), Q(np.ones(2), "台"))
    assert r.operating_years.magnitude.tolist() == [10.0, 12.0]
    assert r.defaults_used_per_row() == [(), ("operating_years",)]


@pytest.mark.parametrize("name, message", [
    ("row_overflow.csv", "overflows"),                                       # 1e300 台: the total was inf
    ("negative_baseline_energy.csv", "outside the allowed range [0, inf]"),  # the open end was printed as -inf
])
def test_an_overflowing_figure_and_a_value_outside_an_open_range_are_refused_clearly(library, name, message):
    assert message in portfolio_problems(PORTFOLIOS / name, library)


def test_a_formula_that_cancels_symbolically_still_divides_by_zero_on_its_row():
    library, found = load_folder(METHODOLOGIES / "formula_cancel_div0")
    assert not found
    # x*x/x with x = 0 (baseline equals product) is a division by zero for that row, not a silent 0
    assert "division by zero" in portfolio_problems(PORTFOLIOS / "equal_baseline_and_product_energy.csv", library)


def test_unit_range_and_sign_problems_of_every_row_are_reported_in_one_run(tmp_path, library):
    path = tmp_path / "dims2.csv"
    path.write_text(
        "product_line,methodology,fiscal_year,market,units_shipped,baseline_annual_energy[kWh/yr],"
        "product_annual_energy[kWh/yr],grid_emission_factor[kg-CO2/kWh],operating_years[yr]\n"
        "A,refrigerator,2024,domestic,5 kW,420,273,0.421,12\n"
        "D,refrigerator,2024,domestic,4.5 万台,273,420,0.421,12\n"
        "E,refrigerator,2024,domestic,-100 台,420,273,0.421,12\n"
        "F,refrigerator,2024,domestic,4.5 万台,420,273,0.421,0.5\n"
        "G,refrigerator,2024,domestic,4.5 万台,420,273,-0.1,12\n"
        "H,refrigerator,2024,domestic,x,420,273,0.421,12\n", encoding="utf-8")
    with pytest.raises(KokenErrors) as info:
        calculate(read_portfolio(path, library, collect=True), library)
    rows = {e.location.row: str(e) for e in info.value.errors}
    assert "'kW'" in rows[2]
    assert "units_shipped must be a finite number >= 0" in rows[4]
    assert "operating_years" in rows[5] and "outside the allowed range" in rows[5]
    assert "grid_emission_factor" in rows[6] and "outside the allowed range" in rows[6]
    assert "is not a number" in rows[7]
    assert 3 not in rows  # a product worse than its baseline is a result, not an error


def test_row_problems_read_in_the_chosen_language(toy, tmp_path):
    from koken.base.i18n import language

    bad = inputs(grid_emission_factor=Q(np.array([0.5, 5.0]), "kg*CO2e/kWh"),
                 product_energy=Q(np.array([300.0, np.nan]), "kWh/year_8760h"))
    with language("ja"), pytest.raises(KokenErrors) as info:
        evaluate(toy, bad, Q(np.array([-1.0, 1.0]), "台"))
    assert [str(e) for e in info.value.errors] == [
        "2行目, 列 'product_energy': product_energy は toy に必要です（単位 kWh/yr）が、値がありません。",
        "2行目, 列 'grid_emission_factor': grid_emission_factor = 5 kg-CO2/kWh は許容範囲 [0, 2] kg-CO2/kWh の範囲外です。",
        "1行目, 列 'units_shipped': units_shipped は 0 以上の有限の数値にしてください（-1 が指定されています）。",
    ]
    with language("en"), pytest.raises(KokenErrors) as info:
        evaluate(toy, bad, Q(np.array([-1.0, 1.0]), "台"))
    assert str(info.value.errors[1]) == ("row 2, column 'grid_emission_factor': grid_emission_factor = 5 kg-CO2/kWh is "
                                         "outside the allowed range [0, 2] kg-CO2/kWh")
    with language("ja"), pytest.raises(KokenErrors, match="'bogus' は toy のパラメータではありません"):
        toy.evaluate_one({"bogus": "1 kWh/yr"})


def test_the_fraction_hint_reads_in_the_chosen_language(tmp_path):
    from koken.base.i18n import language

    data = methodology_dict()
    data["parameters"]["share"] = {"unit": "fraction", "description": {"ja": "s", "en": "s"}}
    scale_scenarios(data, "share")
    data["examples"][0]["inputs"]["share"] = 1
    m = load_methodology(write_methodology(tmp_path, data))
    with language("ja"), pytest.raises(KokenErrors) as info:
        evaluate(m, inputs(share=Q(np.array([90.0, 0.5]), "fraction")))
    assert str(info.value.errors[0]).endswith(
        "share = 90 fraction は許容範囲 [0, 1] fraction の範囲外です。（0〜1 の割合で指定します。90 が 90 % の意味なら、"
        "単位に % を指定してください。）")
