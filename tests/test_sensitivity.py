"""One-at-a-time and global sensitivity (koken.sensitivity): tornado order, Sobol indices, the favourable end."""

import math

import pytest

from koken.base.errors import KokenError, KokenErrors
from koken.methodology.compile import compile_methodology
from koken.methodology.schema import MethodologySpec
from koken.sensitivity import favourable_end, favourable_warning, methodology_sensitivity, parse_bounds, sobol, tornado

from helpers import methodology_dict


def toy():
    """avoided = (b − p) × f: helpers.MINIMAL (b = baseline_energy, p = product_energy, f = grid_emission_factor,
    declared range [0, 2] kg-CO2/kWh; b, p and operating_years have no range). Example: b 400, p 300 kWh/yr, f 0.5."""
    return compile_methodology(MethodologySpec.model_validate(methodology_dict()), check_location=False)


def additive():
    """avoided = a·x1 − b·x2 (baseline a·x1, product b·x2), a = 3 and b = 1 kg-CO2/kWh, x1 and x2 in kWh/yr."""
    data = methodology_dict(parameters={
        "x1": {"unit": "kWh/yr", "description": {"ja": "x1", "en": "x1"}, "range": [0, 100]},
        "x2": {"unit": "kWh/yr", "description": {"ja": "x2", "en": "x2"}, "range": [0, 100]},
        "a": {"unit": "kg-CO2/kWh", "description": {"ja": "a", "en": "a"}},
        "b": {"unit": "kg-CO2/kWh", "description": {"ja": "b", "en": "b"}},
        "operating_years": {"unit": "yr", "description": {"ja": "l", "en": "l"}},
    }, formulas=[
        {"name": "baseline_emissions", "expression": "a * x1", "unit": "kg-CO2e/台/yr"},
        {"name": "product_emissions", "expression": "b * x2", "unit": "kg-CO2e/台/yr"},
        {"name": "avoided_per_unit_year", "expression": "baseline_emissions - product_emissions",
         "unit": "kg-CO2e/台/yr"},
    ], examples=[{
        "name": "hand", "description": "d", "source": "hand_calculation", "calculation": "3 × 50 − 1 × 50 = 100",
        "inputs": {"x1": "50 kWh/yr", "x2": "50 kWh/yr", "a": "3 kg-CO2/kWh", "b": "1 kg-CO2/kWh",
                   "operating_years": "10 yr"},
        "expected": {"avoided_per_unit_year": {"value": 100, "unit": "kg-CO2e/台/yr"}}}])
    return compile_methodology(MethodologySpec.model_validate(data), check_location=False)


CENTRAL = {"baseline_energy": 400, "product_energy": 300, "grid_emission_factor": 0.5, "operating_years": 10}


def test_tornado_order_and_swings_of_a_hand_example():
    bounds = {"baseline_energy": (380, 440), "product_energy": (250, 320), "grid_emission_factor": (0.4, 0.6)}
    table = tornado(toy(), CENTRAL, bounds)
    # central (400 − 300) × 0.5 = 50 kg/台/yr
    # b: (380 − 300) × 0.5 = 40, (440 − 300) × 0.5 = 70 → swing 30
    # p: (400 − 250) × 0.5 = 75, (400 − 320) × 0.5 = 40 → swing 35
    # f: 100 × 0.4 = 40, 100 × 0.6 = 60 → swing 20
    assert list(table["parameter"]) == ["product_energy", "baseline_energy", "grid_emission_factor"]
    assert table["result_at_low"].tolist() == pytest.approx([75, 40, 40])
    assert table["result_at_high"].tolist() == pytest.approx([40, 70, 60])
    assert table["swing"].tolist() == pytest.approx([35, 30, 20])
    assert table.attrs["central_result"] == pytest.approx(50)
    assert table.attrs["result_unit"] == "kg-CO2e/台/yr"
    assert list(table.columns[:2]) == ["parameter", "unit"] and table["unit"].tolist() == ["kWh/yr", "kWh/yr",
                                                                                          "kg-CO2/kWh"]


def test_tornado_refuses_bounds_that_do_not_hold_the_central_value_and_names_a_failing_case():
    with pytest.raises(KokenErrors) as caught:
        tornado(toy(), CENTRAL, {"baseline_energy": (410, 440), "product_energy": (320, 250), "nope": (0, 1)})
    text = "\n".join(str(e) for e in caught.value)
    assert "central value of baseline_energy, 400 kWh/yr, is outside its bounds [410, 440]" in text
    assert "bounds of product_energy must be finite with low ≤ high" in text and "'nope' is not a parameter" in text
    with pytest.raises(KokenErrors) as caught:   # 2.5 kg-CO2/kWh is above the declared range [0, 2]
        tornado(toy(), CENTRAL, {"grid_emission_factor": (0.4, 2.5)})
    (error,) = caught.value
    assert error.location.field == "grid_emission_factor at its high (2.5 kg-CO2/kWh)"
    assert "outside the allowed range [0, 2]" in error.message


def test_sobol_indices_of_an_additive_function():
    # y = a·x1 − b·x2, x1 and x2 uniform on [0, 100]: Var(y) = (a² + b²)·100²/12, so S1(x1) = a²/(a² + b²) = 9/10,
    # S1(x2) = 1/10; additive, so ST = S1 and the first-order indices sum to 1.
    table = sobol(additive(), {"x1": (0, 100), "x2": (0, 100)}, n=4096, seed=7, central={"a": 3, "b": 1, "operating_years": 10})
    got = table.set_index("parameter")
    for name, expected in (("x1", 0.9), ("x2", 0.1)):
        assert abs(got.loc[name, "S1"] - expected) <= got.loc[name, "S1_conf"], (name, got.loc[name].to_dict())
        assert abs(got.loc[name, "ST"] - expected) <= got.loc[name, "ST_conf"]
    assert abs(got["S1"].sum() - 1) <= got["S1_conf"].sum()
    assert table.attrs["seed"] == 7 and table.attrs["evaluations"] == 4096 * 4
    again = sobol(additive(), {"x1": (0, 100), "x2": (0, 100)}, n=4096, seed=7, central={"a": 3, "b": 1, "operating_years": 10})
    assert again.equals(table)  # the seed reproduces the indices


@pytest.mark.parametrize("n", [100, 8, True])
def test_sobol_refuses_sample_counts_that_are_not_a_power_of_two_in_range(n):
    with pytest.raises(KokenError, match="power of 2"):
        sobol(toy(), {"grid_emission_factor": (0.4, 0.6)}, n=n, central=CENTRAL)


def test_a_parameter_without_a_range_is_listed_as_not_varied():
    result = methodology_sensitivity(toy(), samples=None)
    # only grid_emission_factor has a declared range ([0, 2]); the example's 0.5 is the central value
    assert result.tornado[["parameter", "low", "high", "bound_source"]].values.tolist() == [
        ["grid_emission_factor", 0.0, 2.0, "declared_range"]]
    # (400 − 300) × 0 = 0 and (400 − 300) × 2 = 200 kg/台/yr
    assert result.tornado[["result_at_low", "result_at_high"]].values.tolist() == [[0.0, 200.0]]
    assert result.not_varied[["parameter", "value", "reason"]].values.tolist() == [
        ["baseline_energy", 400.0, "no_range"], ["product_energy", 300.0, "no_range"],
        ["operating_years", 10.0, "no_range"]]
    assert set(result.table()["parameter"]) == set(CENTRAL)  # every parameter is in the table, none dropped
    assert result.sobol is None


def test_given_bounds_win_over_the_declared_range_and_say_so():
    result = methodology_sensitivity(toy(), bounds=parse_bounds(toy(), ["baseline_energy=0.38..0.44 MWh/yr"]),
                                     samples=64, seed=1)
    rows = result.tornado.set_index("parameter")
    assert rows.loc["baseline_energy", ["low", "high"]].tolist() == pytest.approx([380, 440])  # converted to kWh/yr
    assert rows.loc["baseline_energy", "bound_source"] == "given"
    assert rows.loc["grid_emission_factor", "bound_source"] == "declared_range"
    assert set(result.sobol["parameter"]) == {"baseline_energy", "grid_emission_factor"}


def test_parse_bounds_lists_every_bad_setting():
    with pytest.raises(KokenErrors) as caught:
        parse_bounds(toy(), ["baseline_energy=1", "nope=1..2", "product_energy=1..2 kg", "grid_emission_factor=0..1",
                             "grid_emission_factor=0..2", "operating_years=1.2.3..4"])
    text = "\n".join(str(e) for e in caught.value)
    assert len(caught.value) == 5
    assert "expected name=low..high" in text and "'nope' is not a parameter" in text
    assert "product_energy" in text and "grid_emission_factor is given twice" in text


@pytest.mark.parametrize(("central", "expected"), [
    (90.0, True),       # low + 0.9 × (high − low) = 0 + 0.9 × 100 = 90: the boundary is in the top 10 %
    (89.99, False),
    (100.0, True),
    (50.0, False),
])
def test_the_favourable_end_is_the_top_ten_percent_boundary_included(central, expected):
    assert favourable_end(central, 0.0, 100.0) is expected
    assert favourable_end(central, 100.0, 0.0) is expected  # either order of the range


def test_the_favourable_end_of_a_negative_range_and_of_no_range():
    # range [−200, −100]: boundary −200 + 0.9 × 100 = −110
    assert favourable_end(-110, -200, -100) and not favourable_end(-111, -200, -100)
    assert not favourable_end(5, 5, 5)
    with pytest.raises(ValueError):
        favourable_end(math.nan, 0, 1)


def test_the_example_at_the_favourable_end_is_warned_with_the_rule_and_its_sources():
    # the example's f = 0.5; bounds f ∈ [0.1, 0.52]: results 10 and 52 kg/台/yr, threshold 10 + 0.9 × 42 = 47.8 ≤ 50
    result = methodology_sensitivity(toy(), bounds={"grid_emission_factor": (0.1, 0.52)}, samples=None)
    assert result.favourable and (result.result_low, result.result_high) == pytest.approx((10, 52))
    (warning,) = result.warnings
    assert warning == favourable_warning(50, 10, 52, "kg-CO2e/台/yr")
    assert "favourable end" in warning and "WBCSD" in warning and "GHG Protocol" in warning and "top 10 %" in warning
    calm = methodology_sensitivity(toy(), bounds={"grid_emission_factor": (0.1, 0.6)}, samples=None)
    # results 10 and 60: threshold 10 + 0.9 × 50 = 55 > 50
    assert not calm.favourable and calm.warnings == ()


def test_an_example_number_outside_the_examples_is_refused():
    with pytest.raises(KokenError, match="1 worked example"):
        methodology_sensitivity(toy(), example=2)


def test_a_parameter_without_a_central_value_is_one_located_problem_not_one_per_sample():
    with pytest.raises(KokenErrors) as caught:
        sobol(additive(), {"x1": (0, 100), "x2": (0, 100)}, n=64, central={"a": 3, "b": 1})
    (error,) = caught.value
    assert error.location.field == "operating_years" and "needs a central value" in error.message


def shares():
    """avoided = (b − p) × f with f = f_a·share_a + f_b·share_b, share_a + share_b = 1 (a share group)."""
    data = methodology_dict()
    data["parameters"].update({
        "share_a": {"unit": "fraction", "description": {"ja": "a", "en": "a"}},
        "share_b": {"unit": "fraction", "description": {"ja": "b", "en": "b"}},
        "other_factor": {"unit": "kg-CO2/kWh", "description": {"ja": "o", "en": "o"}, "range": [0, 2]}})
    data["share_groups"] = [["share_a", "share_b"]]
    data["formulas"] = [
        {"name": "factor", "expression": "grid_emission_factor * share_a + other_factor * share_b", "unit": "kg-CO2/kWh"},
        {"name": "baseline_emissions", "expression": "baseline_energy * factor", "unit": "kg-CO2e/台/yr"},
        {"name": "product_emissions", "expression": "product_energy * factor", "unit": "kg-CO2e/台/yr"},
        {"name": "avoided_per_unit_year", "expression": "baseline_emissions - product_emissions", "unit": "kg-CO2e/台/yr"}]
    data["examples"][0]["inputs"].update({"share_a": 0.5, "share_b": 0.5, "other_factor": "0.5 kg-CO2/kWh"})
    return compile_methodology(MethodologySpec.model_validate(data), check_location=False)


def test_a_share_of_a_share_group_is_not_varied_alone_and_bounds_on_it_are_refused():
    result = methodology_sensitivity(shares(), samples=None)
    # share_a and share_b have the implicit range [0, 1] of a fraction, but moving one breaks their sum of 100 %
    reasons = dict(zip(result.not_varied["parameter"], result.not_varied["reason"]))
    assert reasons["share_a"] == reasons["share_b"] == "share_group"
    assert set(result.tornado["parameter"]) == {"grid_emission_factor", "other_factor"}
    with pytest.raises(KokenErrors, match="share_a is in a share group"):
        methodology_sensitivity(shares(), bounds={"share_a": (0.4, 0.6)}, samples=None)


def narrowing():
    """The toy with b declared in [0, 1000] kWh/yr and its step saved = b − p declared in [0, 150] kWh/yr."""
    data = methodology_dict()
    data["parameters"]["baseline_energy"]["range"] = [0, 1000]
    data["formulas"][0]["range"] = [0, 150]
    return compile_methodology(MethodologySpec.model_validate(data), check_location=False)


def test_a_declared_end_that_takes_a_derived_step_out_of_its_range_is_narrowed_and_said_so():
    result = methodology_sensitivity(narrowing(), samples=64)
    row = result.tornado.set_index("parameter").loc["baseline_energy"]
    # p = 300: saved = b − 300 stays in [0, 150] for b in [300, 450]; the declared 0 and 1000 give −300 and 700
    assert row["low"] == pytest.approx(300, abs=1e-6) and row["high"] == pytest.approx(450, abs=1e-6)
    assert row["bound_source"] == "declared_range_narrowed"
    # (300 − 300) × 0.5 = 0 and (450 − 300) × 0.5 = 75 kg-CO2e/台/yr
    assert (row["result_at_low"], row["result_at_high"]) == pytest.approx((0, 75), abs=1e-6)
    notes = [w for w in result.warnings if w.startswith("baseline_energy: the declared")]
    assert len(notes) == 2 and "saved = -300 kWh/yr" in notes[0] and "the low used is 300 kWh/yr" in notes[0]
    # b and f together can still leave the step's range in no combination (f does not enter saved): Sobol runs
    assert result.sobol is not None


def test_a_given_end_that_cannot_be_computed_is_an_error_never_narrowed():
    with pytest.raises(KokenErrors) as caught:
        methodology_sensitivity(narrowing(), bounds={"baseline_energy": (350, 500)}, samples=None)
    (error,) = caught.value
    assert error.location.field == "baseline_energy at its high (500 kWh/yr)" and "saved = 200" in error.message
