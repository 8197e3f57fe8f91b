"""The disclosure bundle of a figure: every mandatory item, refusal naming each missing one, data quality by hand."""

import copy
import json

import pytest

from koken.base.errors import KokenErrors
from koken.base.i18n import _
from koken.claim.disclosure import MANDATORY_ITEMS, aggregate_quality, build_bundle, choose_scope, legitimacy_carriers
from koken.claim.gates import load_assessment

from conftest import REPO

DATA = REPO / "tests" / "data" / "claim"


def _result() -> dict:
    doc = json.loads((DATA / "result_fy2023.json").read_text(encoding="utf-8"))
    doc["_path"] = "result_fy2023.json"
    return doc


def _bundle(doc, timeframe="lifetime", gates="gates_met.yaml", **scope):
    chosen = choose_scope(doc, timeframe, **scope)
    return build_bundle(doc, chosen, load_assessment(DATA / gates, legitimacy_carriers(doc, chosen)) if gates else None)


def test_the_bundle_holds_every_mandatory_item_of_the_figure():
    bundle = _bundle(_result())
    assert set(MANDATORY_ITEMS) <= set(bundle)
    assert bundle["figure"]["value"] == pytest.approx(100.0 - 50.0 + 50.0)  # the three lines, the negative one too
    assert bundle["completeness"] == {"lines": 3, "negative_lines": 1, "negative_sum": -50.0, "positive_sum": 150.0,
                                      "all_lines_included": True}
    assert [m["id"] + " " + m["version"] for m in bundle["methodologies"]] == ["gas_combined_cycle 2.0.0",
                                                                                "refrigerator 2.0.0"]
    assert {b["baseline_type"] for b in bundle["baseline_types"]} == {"thermal_average", "market_average"}
    assert bundle["uncertainty"]["p5"] == 60.0 and bundle["uncertainty"]["p95"] == 140.0  # the portfolio total's entry
    assert bundle["factors"][0]["origin"].startswith("factor table grid_emission_factor [JP 2023] (source argus_fy2023")
    assert bundle["legitimacy"][0]["methodology"] == "gas_combined_cycle"
    # category 11 beside, never netted: 40 + 20 t-CO2e of the refrigerators, the turbine has none
    assert bundle["inventory_beside"]["scope3_cat11_lifetime"] == 60.0
    assert bundle["figure"]["value"] == 100.0  # not 100 - 60 nor 100 + 60
    assert bundle["gates"]["met"] is True


def test_a_scope_of_one_category_and_market_takes_that_entrys_range():
    bundle = _bundle(_result(), category="home_appliances", market="domestic")
    assert bundle["figure"]["value"] == 100.0 and bundle["uncertainty"]["p5"] == 70.0


def test_data_quality_is_the_weakest_level_of_each_line_weighted_by_the_absolute_figure():
    quality = aggregate_quality(_result()["rows"], "lifetime[t-CO2e]")
    # by hand: |100| + |-50| + |50| = 200 t-CO2e. Line 1 (100): primary + secondary (+ a neutral default, no level)
    # → secondary; line 2 (-50): default + primary → default; line 3 (50): primary only → primary.
    assert quality["weighting"] == "absolute_figure"
    assert quality["by_line"] == pytest.approx({"primary_measured": 50 / 200, "secondary": 100 / 200, "default": 50 / 200})
    # product_annual_energy: secondary on line 1 (100), primary on line 3 (50) → 1/3 primary, 2/3 secondary
    assert quality["by_input"]["product_annual_energy"] == pytest.approx(
        {"primary_measured": 50 / 150, "secondary": 100 / 150, "default": 0.0})
    assert "baseline_fuel_emissions" not in quality["by_input"]  # a term that does not apply carries no data


def test_data_quality_of_all_zero_figures_weighs_lines():
    rows = copy.deepcopy(_result()["rows"])
    for r in rows:
        r["lifetime[t-CO2e]"] = 0.0
    quality = aggregate_quality(rows, "lifetime[t-CO2e]")
    assert quality["weighting"] == "lines"
    assert quality["by_line"] == pytest.approx({"primary_measured": 1 / 3, "secondary": 1 / 3, "default": 1 / 3})


def _drop_uncertainty(doc):
    del doc["uncertainty"]


def _drop_gwp(doc):
    del doc["gwp_set"]


def _drop_version(doc):
    del doc["methodologies"]["refrigerator"]["version"]


def _drop_baseline(doc):
    doc["methodologies"]["gas_combined_cycle"]["baseline_type"] = None


def _drop_role(doc):
    del doc["methodologies"]["refrigerator"]["contribution_role"]


def _drop_factors(doc):
    del doc["factor_tables"]


def _drop_quality(doc):
    del doc["rows"][1]["inputs"]["capacity_factor"]["data_quality"]


def _drop_flags(doc):
    del doc["methodologies"]["gas_combined_cycle"]["fossil_lock_in"]


def _other_range(doc):
    doc["uncertainty"]["totals"] = [t for t in doc["uncertainty"]["totals"] if t["category"] is not None]


@pytest.mark.parametrize(("change", "item"), [
    (_drop_uncertainty, "uncertainty"), (_drop_gwp, "gwp_set"), (_drop_version, "methodologies"),
    (_drop_baseline, "baseline_types"), (_drop_role, "contribution_roles"), (_drop_factors, "factors"),
    (_drop_quality, "data_quality"), (_drop_flags, "legitimacy"), (_other_range, "uncertainty"),
])
def test_a_missing_mandatory_item_refuses_the_bundle_naming_it(change, item):
    doc = _result()
    change(doc)
    with pytest.raises(KokenErrors) as err:
        _bundle(doc)
    assert len(err.value) == 1
    assert repr(_(MANDATORY_ITEMS[item])) in err.value[0].message


def test_every_missing_item_is_named_at_once_and_no_gates_is_one_of_them():
    doc = _result()
    _drop_uncertainty(doc)
    _drop_gwp(doc)
    with pytest.raises(KokenErrors) as err:
        _bundle(doc, gates=None)
    named = [next(k for k, label in MANDATORY_ITEMS.items() if repr(label) in e.message) for e in err.value]
    assert sorted(named) == ["gates", "gwp_set", "uncertainty"]
    assert "draws" in next(e.message for e in err.value if "uncertainty" in e.message)


def test_a_result_of_several_years_needs_one_chosen_and_an_unknown_timeframe_is_refused():
    doc = _result()
    doc["rows"][0]["fiscal_year"] = 2022
    with pytest.raises(KokenErrors, match="2022, 2023"):
        choose_scope(doc, "lifetime")
    assert choose_scope(doc, "lifetime", 2022).fiscal_year == 2022
    with pytest.raises(KokenErrors, match="installed_base"):
        choose_scope(doc, "installed_base")
