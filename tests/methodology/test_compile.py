"""koken.methodology.compile: format, references, units and dimensions, all problems reported at once."""

import copy
import time

import pytest

from koken.base.errors import KokenErrors
from koken.base.paths import methodologies_dir
from koken.examples import check_examples
from koken.library import find_methodology_files, load_methodology

from helpers import METHODOLOGIES, MINIMAL, load_folder, methodology_dict, scale_scenarios, write_methodology

BUNDLED = find_methodology_files(methodologies_dir())


def test_the_bundled_library_has_the_five_core_methodologies_one_per_category(library):
    assert {"solar_pv", "refrigerator", "transformer", "server", "ict_solution"} <= set(library)
    assert {m.category for m in library.values()} == {
        "generation", "home_appliances", "industrial_equipment", "it_equipment", "solutions"}


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_every_example_of_every_bundled_methodology_reproduces(path):
    m = load_methodology(path, check_examples=False)
    assert len(m.spec.examples) >= 2
    assert check_examples(m) == []


def test_minimal_methodology_loads(tmp_path):
    m = load_methodology(write_methodology(tmp_path, methodology_dict()))
    assert m.id == "toy" and m.content_hash.startswith("sha256:")


def problems_of(tmp_path, data) -> list[str]:
    with pytest.raises(KokenErrors) as info:
        load_methodology(write_methodology(tmp_path, data))
    return [str(e) for e in info.value.errors]


def test_unknown_key_is_an_error_naming_the_field(tmp_path):
    data = methodology_dict()
    data["parameters"]["baseline_energy"]["untis"] = "kWh"
    msgs = problems_of(tmp_path, data)
    assert any("parameters.baseline_energy.untis" in m and "unknown key" in m for m in msgs)


def test_adding_incompatible_units_is_a_load_error_naming_step_and_dimensions(tmp_path):
    data = methodology_dict()
    data["formulas"][0]["expression"] = "baseline_energy - grid_emission_factor"
    del data["formulas"][0]["unit"]
    msgs = problems_of(tmp_path, data)
    assert any("step 'saved'" in m and "energy per year, unit kWh/yr" in m
               and "GHG emissions per energy (an emission factor), unit kg-CO2e/kWh" in m for m in msgs)
    assert not any("year_8760h" in m or "[mass]" in m for m in msgs)  # units and dimensions as people write them


def test_avoided_must_be_ghg_per_unit_per_year(tmp_path):
    data = methodology_dict()
    data["formulas"][1]["expression"] = "saved"
    msgs = problems_of(tmp_path, data)
    assert any("avoided_per_unit_year must be GHG mass" in m for m in msgs)


def test_declared_step_unit_must_match_the_formula(tmp_path):
    data = methodology_dict()
    data["formulas"][0]["unit"] = "kg"
    msgs = problems_of(tmp_path, data)
    assert any("step 'saved'" in m and "declared unit" in m for m in msgs)


def test_every_problem_is_reported_not_just_the_first(tmp_path):
    data = methodology_dict()
    data["parameters"]["baseline_energy"]["unit"] = "ton"
    data["formulas"][0]["expression"] = "2^3"
    data["baseline"]["sources"] = ["nowhere"]
    data["operating_years"] = "lifetime_years"
    msgs = problems_of(tmp_path, data)
    assert any("ambiguous" in m for m in msgs)
    assert any("use **" in m for m in msgs)
    assert any("unknown source id 'nowhere'" in m for m in msgs)
    assert any("operating_years names 'lifetime_years'" in m for m in msgs)


def test_missing_avoided_step_is_an_error(tmp_path):
    data = methodology_dict()
    data["formulas"][1]["name"] = "other"
    assert any("must define 'avoided_per_unit_year'" in m for m in problems_of(tmp_path, data))


def test_default_needs_a_source(tmp_path):
    data = methodology_dict()
    data["parameters"]["operating_years"]["default"] = 12
    assert any("default_source" in m for m in problems_of(tmp_path, data))


def test_wrong_example_value_is_reported(tmp_path):
    data = methodology_dict()
    data["examples"][0]["expected"]["avoided_per_unit_year"]["value"] = 51
    assert any("but the example expects 51" in m for m in problems_of(tmp_path, data))


def test_file_name_and_folder_must_match_id_and_category(tmp_path):
    data = methodology_dict()
    path = write_methodology(tmp_path, data)
    moved = tmp_path / "solutions" / "other.yaml"
    moved.parent.mkdir()
    path.rename(moved)
    msgs = problems_of_path(moved)
    assert any("must be the id" in m for m in msgs) and any("category is 'home_appliances'" in m for m in msgs)


def problems_of_path(path) -> list[str]:
    with pytest.raises(KokenErrors) as info:
        load_methodology(path)
    return [str(e) for e in info.value.errors]


def test_reserved_names_are_refused(tmp_path):
    data = methodology_dict()
    data["parameters"]["units_shipped"] = copy.deepcopy(MINIMAL["parameters"]["operating_years"])
    assert any("reserved" in m for m in problems_of(tmp_path, data))


def test_library_reports_duplicate_ids(tmp_path):
    write_methodology(tmp_path, methodology_dict())
    other = tmp_path / "x" / "home_appliances"
    write_methodology(other.parent, methodology_dict())
    _library, problems = load_folder(tmp_path)
    assert any("also defined" in str(p) for p in problems)


def test_content_hash_changes_with_content(tmp_path):
    a = load_methodology(write_methodology(tmp_path / "a", methodology_dict()))
    changed = methodology_dict()
    changed["parameters"]["grid_emission_factor"]["range"] = [0, 3]
    b = load_methodology(write_methodology(tmp_path / "b", changed))
    assert a.content_hash != b.content_hash


def test_numeric_literals_in_formulas_are_warnings_not_errors(tmp_path):
    data = methodology_dict()
    scale_scenarios(data, "1.06")
    data["examples"][0]["expected"]["avoided_per_unit_year"]["value"] = 53  # 50 × 1.06
    m = load_methodology(write_methodology(tmp_path, data))
    # one warning per step that writes it: avoided emissions and both scenarios
    assert len(m.warnings) == 3 and all("numeric literal 1.06" in w for w in m.warnings)


def test_pure_constants_and_exponents_are_not_flagged():
    from koken.formula.parse import literal_numbers

    assert literal_numbers("(1 - a / 100) * b**3 * 2 + c**-2 + 0") == []
    assert sorted(literal_numbers("a * 8760 + 0.0036 * b")) == [0.0036, 8760.0]


def test_property_checks_run_at_load(tmp_path):
    data = methodology_dict()
    data["checks"] = {"equal_to_baseline": {"product_energy": "baseline_energy"},
                      "worse_than_baseline": {"product_energy": "350 kWh/yr"}}
    msgs = problems_of(tmp_path, data)
    # 400 - 350 > 0: the "worse" inputs are not worse, so the check must fail
    assert any("worse than its baseline must give a negative figure" in m for m in msgs)
    data["checks"]["worse_than_baseline"] = {"product_energy": "450 kWh/yr"}
    assert load_methodology(write_methodology(tmp_path / "ok", data)).spec.checks is not None


@pytest.mark.parametrize("folder, message", [
    ("nan_default", "operating_years.default: 'default' must be a finite number"),   # NaN default gave 0 t
    ("duplicate_keys", "'range' appears twice"),
    ("exponent_tower", "combined exponent 256 is beyond"),                          # hung computing 2**16**…
    ("power_of_a_product", "combined exponent 256 is beyond"),                      # OverflowError (issue 17)
    ("complex_constant", "not a real number"),                                      # imaginary part dropped
    ("long_min", "at most 200 item(s)"),                                            # took minutes
    ("alias_standard_clash", "alias '国' is a standard portfolio column header"),   # shadowed 'region'
])
def test_methodology_libraries_that_would_hang_or_be_misread_are_refused_quickly(folder, message):
    start = time.perf_counter()
    _library, found = load_folder(METHODOLOGIES / folder, check_examples=True)
    assert time.perf_counter() - start < 10
    assert any(message in str(p) for p in found), [str(p) for p in found]


@pytest.mark.parametrize("folder, message", [
    ("formula_const_product_digits", "beyond 10**"),              # crashed on 4300-digit integers
    ("formula_dim_bypass", "cannot add or subtract"),              # a - b + c - c hid a unit mismatch
    ("boolean_default", "expected a number, got a boolean"),       # default: true was 1 year
])
def test_huge_constants_hidden_unit_mismatches_and_boolean_defaults_are_refused(folder, message):
    _library, found = load_folder(METHODOLOGIES / folder, check_examples=True)
    assert any(message in str(p) for p in found), [str(p) for p in found]


def test_load_problems_read_in_the_chosen_language(tmp_path):
    from koken.base.i18n import language

    data = methodology_dict()
    data["baseline"]["sources"] = ["nowhere"]
    del data["functional_unit"]["unit"]
    with language("ja"):
        msgs = problems_of(tmp_path, data)
    assert any(m.endswith("項目 functional_unit.unit: 必須の項目 'unit' がありません。") for m in msgs), msgs
    del data["baseline"]["description"]["en"]
    data["functional_unit"]["unit"] = "台"
    with language("ja"):
        msgs = problems_of(tmp_path / "ja", data)
    assert any("必須の項目 'en' がありません。" in m for m in msgs), msgs
    data["baseline"]["description"]["en"] = "base"
    with language("ja"):
        msgs = problems_of(tmp_path / "ja2", data)
    assert msgs == [f"{tmp_path / 'ja2' / 'home_appliances' / 'toy.yaml'}, 項目 baseline.sources: "
                    "出典の id 'nowhere' は sources にありません。"]
    with language("en"):
        msgs = problems_of(tmp_path / "en", data)
    assert msgs[0].endswith("field baseline.sources: unknown source id 'nowhere'")


def test_a_numeric_literal_warning_reads_in_the_chosen_language(tmp_path):
    from koken.base.i18n import language
    from koken.methodology import read_methodology

    data = methodology_dict()
    scale_scenarios(data, "1.5")
    with language("ja"):
        m = read_methodology(write_methodology(tmp_path, data))
    assert m.warnings[0].endswith("式に数値リテラル 1.5 があります。係数は単位と出典を持つ名前付きのパラメータとして書いて"
                                  "ください。")


def test_a_formula_whose_unit_is_beyond_floats_range_is_an_error_naming_its_step(tmp_path):
    """Issue 17 §3: a product of 90 energies has the unit (kWh/yr)**90, whose factor to base units is beyond
    float's range: Pint's OverflowError escaped `koken validate`. Now an error naming the step."""
    data = methodology_dict()
    data["formulas"][1]["expression"] = "*".join(["saved"] * 90) + " * grid_emission_factor"
    msgs = problems_of(tmp_path, data)
    assert any("step 'avoided_per_unit_year'" in m and "beyond" in m for m in msgs), msgs


def test_a_flat_sum_of_more_than_40_terms_is_not_refused_as_deep(tmp_path):
    """Issue 17 §3: ``a + b + … `` is a left-leaning tree in Python's ast, so 42 terms counted as 41 levels of
    nesting and were refused; a chain of + and - (or of * and /) is one level, brackets still count."""
    data = methodology_dict()
    terms = [f"e{i}" for i in range(30)]
    data["parameters"].update({t: {"unit": "kWh/yr", "description": {"ja": t, "en": t}} for t in terms})
    data["formulas"][0]["expression"] = "baseline_energy - product_energy + " + " + ".join(terms) + \
        " - " + " - ".join(terms)
    data["examples"][0]["inputs"].update({t: f"{i} kWh/yr" for i, t in enumerate(terms)})
    m = load_methodology(write_methodology(tmp_path, data))
    assert check_examples(m) == []
