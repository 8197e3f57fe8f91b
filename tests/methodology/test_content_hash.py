"""The content hash: a methodology's identity for audits and the version lock (docs/methodology-format.md)."""

import copy

from koken.library import load_methodology

from helpers import methodology_dict, write_methodology


def hash_of(tmp_path, data, name):
    return load_methodology(write_methodology(tmp_path / name, data), check_examples=False).content_hash


def with_step(text):
    data = methodology_dict()
    data["formulas"][0]["expression"] = text
    return data


def test_reordered_operands_are_no_change(tmp_path):
    a = hash_of(tmp_path, with_step("baseline_energy - product_energy"), "a")
    b = hash_of(tmp_path, with_step("-product_energy + baseline_energy"), "b")
    assert a == b


def test_terms_that_cancel_on_simplification_are_a_change(tmp_path):
    """``a - b + c - c`` computes other numbers than ``a - b`` (rounding for large c): it must not share a hash."""
    a = hash_of(tmp_path, with_step("baseline_energy - product_energy"), "a")
    b = hash_of(tmp_path, with_step("baseline_energy - product_energy + baseline_energy - baseline_energy"), "b")
    assert a != b


def test_a_change_of_prose_changes_the_hash(tmp_path):
    """Decision: the hash covers the text too, so a version names one text; a typo fix is a patch release."""
    data = methodology_dict()
    changed = copy.deepcopy(data)
    changed["parameters"]["baseline_energy"]["description"]["en"] = "baseline energy (typo fixed)"
    assert hash_of(tmp_path, data, "a") != hash_of(tmp_path, changed, "b")


def test_numbers_units_and_ranges_change_the_hash(tmp_path):
    base = hash_of(tmp_path, methodology_dict(), "base")
    for i, change in enumerate((("grid_emission_factor", "range", [0, 3]), ("baseline_energy", "unit", "MWh/yr"))):
        data = methodology_dict()
        name, key, value = change
        data["parameters"][name][key] = value  # the example's kWh/yr inputs convert to MWh/yr: it still passes
        assert hash_of(tmp_path, data, f"c{i}") != base
