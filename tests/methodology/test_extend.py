"""koken.methodology.extend and the scenario identity: category methodologies, products that extend them, and
avoided = baseline − product checked when a methodology is read."""

import copy

import pytest
import yaml

from koken.base.errors import KokenErrors
from koken.examples import run_example
from koken.library import load_methodology, scan_library

from helpers import MINIMAL, methodology_dict, write_methodology

CATEGORY = {
    "id": "gadgets",
    "version": "1.0.0",
    "kind": "category",
    "title": {"ja": "小物", "en": "Gadgets"},
    "category": "home_appliances",
    "result_type": "avoided_emissions",
    "contribution_role": "direct",
    "functional_unit": {"description": {"ja": "1台", "en": "one unit"}, "unit": "台"},
    "baseline": {"type": "base_year_model", "description": {"ja": "基準", "en": "base"}, "sources": ["src"]},
    "operating_years": "operating_years",
    "parameters": {
        "baseline_annual_energy": {"unit": "kWh/yr", "description": {"ja": "b", "en": "b"}},
        "product_annual_energy": {"unit": "kWh/yr", "description": {"ja": "p", "en": "p"}},
        "grid_emission_factor": {"unit": "kg-CO2/kWh", "description": {"ja": "e", "en": "e"}, "range": [0, 2]},
        "operating_years": {"unit": "yr", "description": {"ja": "l", "en": "l"}, "range": [1, 30]},
    },
    "formulas": [
        {"name": "baseline_emissions", "expression": "baseline_annual_energy * grid_emission_factor",
         "unit": "kg-CO2e/台/yr"},
        {"name": "product_emissions", "expression": "product_annual_energy * grid_emission_factor",
         "unit": "kg-CO2e/台/yr"},
        {"name": "avoided_per_unit_year", "expression": "baseline_emissions - product_emissions"},
    ],
    "checks": {"equal_to_baseline": {"product_annual_energy": "baseline_annual_energy"}},
    "sources": [{"id": "src", "title": "t", "publisher": "p", "year": 2024}],
    "examples": [{
        "name": "hand", "description": "d", "source": "hand_calculation",
        "calculation": "400 × 0.5 − 300 × 0.5 = 200 − 150 = 50 kg/yr",
        "inputs": {"baseline_annual_energy": "400 kWh/yr", "product_annual_energy": "300 kWh/yr",
                   "grid_emission_factor": "0.5 kg-CO2/kWh", "operating_years": "10 yr"},
        "expected": {"avoided_per_unit_year": {"value": 50, "unit": "kg-CO2/台/yr"}},
    }],
}

LAMP = {
    "id": "lamp",
    "version": "1.0.0",
    "extends": "gadgets",
    "title": {"ja": "電灯", "en": "Lamp"},
    "category": "home_appliances",
    "aliases": ["ランプ"],
    "status": {"state": "provisional", "unconfirmed": {"ja": "未公表", "en": "not published"}},
    "parameters": {
        "grid_emission_factor": {"description": {"ja": "係数（上書き）", "en": "factor (overridden)"}},
        "baseline_power": {"unit": "W", "description": {"ja": "旧", "en": "old"}},
        "product_power": {"unit": "W", "description": {"ja": "新", "en": "new"}},
        "annual_hours": {"unit": "h/yr", "description": {"ja": "時間", "en": "hours"}},
    },
    "formulas": [
        {"name": "baseline_annual_energy", "expression": "baseline_power * annual_hours", "unit": "kWh/yr"},
        {"name": "product_annual_energy", "expression": "product_power * annual_hours", "unit": "kWh/yr"},
    ],
    "checks": {"equal_to_baseline": {"product_power": "baseline_power"}},
    "sources": [{"id": "lamp_src", "title": "t2", "publisher": "p2", "year": 2025}],
    "examples": [{
        "name": "hand", "description": "d", "source": "hand_calculation",
        "calculation": ("baseline 60 W × 2,000 h/yr = 120 kWh/yr × 0.5 = 60; product 10 W × 2,000 h/yr = 20 kWh/yr × "
                        "0.5 = 10; avoided 50 kg-CO2/台/yr"),
        "inputs": {"baseline_power": "60 W", "product_power": "10 W", "annual_hours": "2000 h/yr",
                   "grid_emission_factor": "0.5 kg-CO2/kWh", "operating_years": "10 yr"},
        "expected": {"baseline_emissions": {"value": 60, "unit": "kg-CO2/台/yr"},
                     "product_emissions": {"value": 10, "unit": "kg-CO2/台/yr"},
                     "avoided_per_unit_year": {"value": 50, "unit": "kg-CO2/台/yr"}},
    }],
}


def step(line, name: str) -> float:
    """A step's value of a one-row evaluation, in kg-CO2e per functional unit and year for the scenarios."""
    q = line.steps[name]
    if name in ("baseline_emissions", "product_emissions", "avoided_per_unit_year"):
        q = q.to(line.avoided_per_unit_year.units)
    return float(q.magnitude[0])


def write(root, data):
    folder = root / data["category"]
    folder.mkdir(parents=True, exist_ok=True)
    name = data["category"] if data.get("kind") == "category" else data["id"]
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def chain(tmp_path, product=LAMP, category=CATEGORY):
    """A folder with a category methodology (saved as <category>/<category>.yaml, under its category's folder name)
    and one product extending it, read as a library without the bundled set."""
    category = copy.deepcopy(category)
    category_id = category["id"]
    category["id"] = category["category"]  # a category methodology's file is <category>/<category>.yaml
    product = copy.deepcopy(product)
    if product.get("extends") == category_id:
        product["extends"] = category["id"]
    write(tmp_path, category)
    write(tmp_path, product)
    return scan_library(tmp_path, bundled=False, check_examples=True)


def test_a_product_extends_its_category_with_an_override_and_a_derived_input(tmp_path):
    scan = chain(tmp_path)
    assert scan.problems == []
    lamp = scan.library["lamp"]
    assert lamp.extends == "home_appliances" and lamp.spec.kind == "product"
    # the category's formulas, written once, with the product's steps defining two of their inputs
    assert [s.name for s in lamp.steps] == ["baseline_annual_energy", "product_annual_energy", "baseline_emissions",
                                           "product_emissions", "avoided_per_unit_year"]
    assert "baseline_annual_energy" not in lamp.parameters  # derived now, no longer an input
    assert lamp.spec.parameters["grid_emission_factor"].description.en == "factor (overridden)"
    assert lamp.parameters["grid_emission_factor"].unit_text == "kg-CO2/kWh"  # the rest of the category's field
    assert [s.id for s in lamp.spec.sources] == ["src", "lamp_src"]
    assert lamp.spec.aliases == ["ランプ"] and lamp.spec.status.state == "provisional"
    # hand calculation: (60 − 10) W × 3,000 h/yr = 150 kWh/yr × 0.4 kg-CO2/kWh = 60 kg-CO2/台/yr
    line = run_example(lamp, 0, {"annual_hours": "3000 h/yr", "grid_emission_factor": "0.4 kg-CO2/kWh"})
    assert step(line, "avoided_per_unit_year") == pytest.approx(60.0)
    assert step(line, "baseline_emissions") == pytest.approx(72.0)  # 60 W × 3,000 h/yr = 180 kWh/yr × 0.4


def test_a_change_to_the_category_changes_every_product_content_hash(tmp_path):
    before = chain(tmp_path / "a").library["lamp"].content_hash
    changed = copy.deepcopy(CATEGORY)
    changed["parameters"]["operating_years"]["range"] = [1, 20]
    after = chain(tmp_path / "b", category=changed).library["lamp"].content_hash
    assert before != after


@pytest.mark.parametrize("change, field, words", [
    (lambda d: d["parameters"].update({"grid_emission_fctor": {"description": {"ja": "x", "en": "x"}}}),
     "parameters.grid_emission_fctor", "no parameter of"),
    (lambda d: d["parameters"].update({"grid_emission_factor": {"unit": "kWh"}}),
     "parameters.grid_emission_factor.unit", "not of the dimension"),
    (lambda d: d["formulas"].append({"name": "avoided_per_unit_year", "expression": "baseline_emissions"}),
     "formulas[2]", "redefines the category's step"),
    (lambda d: d.update({"functional_unit": {"unit": "kW"}}), "functional_unit.unit", "keeps its category's"),
    (lambda d: d["sources"].append({"id": "src", "title": "again", "publisher": "p", "year": 2024}),
     "sources[1]", "is the category's already"),
    (lambda d: d.update({"extends": "toasters"}), "extends", "no category methodology here"),
])
def test_a_broken_extension_is_refused_with_a_located_error(tmp_path, change, field, words):
    product = copy.deepcopy(LAMP)
    change(product)
    scan = chain(tmp_path, product=product)
    messages = [str(e) for e in scan.problems]
    assert any("home_appliances/lamp.yaml" in m and f"field {field}" in m and words in m for m in messages), messages


def test_every_problem_of_an_extension_is_reported_at_once(tmp_path):
    product = copy.deepcopy(LAMP)
    product["parameters"]["nonexistent"] = {"description": {"ja": "x", "en": "x"}}
    product["formulas"].append({"name": "product_emissions", "expression": "product_annual_energy"})
    messages = [str(e) for e in chain(tmp_path, product=product).problems]
    assert any("parameters.nonexistent" in m for m in messages)
    assert any("redefines the category's step 'product_emissions'" in m for m in messages)


def test_a_product_extends_only_a_category_methodology(tmp_path):
    write_methodology(tmp_path, methodology_dict())  # toy: a product methodology
    product = copy.deepcopy(LAMP)
    product["extends"] = "toy"
    write(tmp_path, product)
    messages = [str(e) for e in scan_library(tmp_path, bundled=False).problems]
    assert any("extends 'toy'" in m and "no category methodology" in m for m in messages), messages


def test_the_bundled_products_extend_their_category(library):
    for m in library.values():
        if m.spec.kind == "category":
            assert m.id == m.category
        else:
            assert m.extends == m.category, m.id


# --- both scenarios ------------------------------------------------------------------------------------------------

def scenario_problems(tmp_path, formulas):
    data = methodology_dict(formulas=formulas)
    with pytest.raises(KokenErrors) as info:
        load_methodology(write_methodology(tmp_path, data))
    return [str(e) for e in info.value.errors]


def test_a_methodology_without_both_scenarios_is_refused(tmp_path):
    formulas = [f for f in MINIMAL["formulas"] if f["name"] != "product_emissions"]
    messages = scenario_problems(tmp_path, formulas)
    assert any("must define product_emissions" in m for m in messages), messages


def test_avoided_that_is_not_baseline_minus_product_is_refused(tmp_path):
    formulas = copy.deepcopy(MINIMAL["formulas"])
    formulas[3]["expression"] = "product_energy * grid_emission_factor * 0.9"  # the product side no longer matches
    messages = scenario_problems(tmp_path, formulas)
    assert any("step 'avoided_per_unit_year'" in m and "is not baseline_emissions − product_emissions" in m
               for m in messages), messages


def test_the_identity_is_checked_through_intermediate_steps_and_algebra(tmp_path):
    # avoided = (b − p) × g written through a step; baseline − product = b g − p g: equal after expansion
    m = load_methodology(write_methodology(tmp_path, methodology_dict()))
    assert m.spec.formulas[1].expression == "saved * grid_emission_factor"


def test_the_identity_holds_where_sympy_needs_the_numeric_check(tmp_path):
    # min() does not expand: avoided = min(b, c) g − p g written two ways
    data = methodology_dict()
    data["parameters"]["cap_energy"] = {"unit": "kWh/yr", "description": {"ja": "c", "en": "c"}}
    data["formulas"] = [
        {"name": "capped", "expression": "min(baseline_energy, cap_energy)", "unit": "kWh/yr"},
        {"name": "avoided_per_unit_year", "expression": "(capped - product_energy) * grid_emission_factor"},
        {"name": "baseline_emissions", "expression": "grid_emission_factor * min(cap_energy, baseline_energy)"},
        {"name": "product_emissions", "expression": "product_energy * grid_emission_factor"},
    ]
    data["examples"][0]["inputs"]["cap_energy"] = "1000 kWh/yr"
    assert load_methodology(write_methodology(tmp_path, data)).id == "toy"


def test_a_scenario_of_another_dimension_is_refused(tmp_path):
    formulas = copy.deepcopy(MINIMAL["formulas"])
    formulas[2]["expression"] = "baseline_energy"
    messages = scenario_problems(tmp_path, formulas)
    assert any("baseline_emissions must be of the dimension of avoided_per_unit_year" in m for m in messages), messages


def test_category11_step_must_name_a_step(tmp_path):
    data = methodology_dict(category11_step="use_phase")
    with pytest.raises(KokenErrors) as info:
        load_methodology(write_methodology(tmp_path, data))
    assert "category11_step names 'use_phase', which is no step" in str(info.value)


def test_every_example_of_every_bundled_methodology_has_avoided_plus_product_equal_to_baseline(library):
    for m in library.values():
        for index, example in enumerate(m.spec.examples):
            line = run_example(m, index)
            assert step(line, "avoided_per_unit_year") + step(line, "product_emissions") == pytest.approx(
                step(line, "baseline_emissions"), rel=1e-12, abs=1e-9), (m.id, example.name)


def test_a_default_reason_is_only_for_a_neutral_default(tmp_path):
    data = methodology_dict()
    data["parameters"]["product_energy"].update(default=5, default_reason={"ja": "x", "en": "x"})
    with pytest.raises(KokenErrors) as info:
        load_methodology(write_methodology(tmp_path, data))
    assert "default_reason is for a neutral default" in str(info.value)


def test_a_provisional_status_says_what_is_unconfirmed(tmp_path):
    with pytest.raises(KokenErrors) as info:
        load_methodology(write_methodology(tmp_path, methodology_dict(status={"state": "provisional"})))
    assert "says what is still unconfirmed" in str(info.value)


def test_operating_years_derived_by_a_product_are_range_checked_like_the_input_they_replace():
    from koken.api import calculate
    from koken.base.paths import methodologies_dir

    library = scan_library(methodologies_dir() / "home_appliances", bundled=False).library
    frame = {"methodology": ["led_lighting"], "fiscal_year": [2023], "market": ["domestic"], "region": ["JP"],
             "units_shipped[台]": [100], "baseline_luminaire_power[W]": [68], "product_luminaire_power[W]": [33],
             "annual_lighting_hours[h/yr]": [500], "led_rated_life[h]": [40000]}
    import pandas as pd

    with pytest.raises(KokenErrors) as info:
        calculate(pd.DataFrame(frame), library)
    # 40,000 h ÷ 500 h/yr = 80 yr, beyond the home-appliance category's operating years [1, 40]
    assert "operating_years = 80 yr, derived by led_rated_life / annual_lighting_hours, is outside the allowed " \
           "range [1, 40] yr" in str(info.value)


def test_a_step_range_is_checked_for_every_row(tmp_path):
    data = methodology_dict()
    data["formulas"][0]["range"] = [0, 50]  # saved, kWh/yr
    m = load_methodology(write_methodology(tmp_path, data), check_examples=False)
    with pytest.raises(KokenErrors) as info:
        run_example(m, 0)  # 400 − 300 = 100 kWh/yr
    assert "saved = 100 kWh/yr" in str(info.value) and "[0, 50]" in str(info.value)
