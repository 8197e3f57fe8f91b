"""koken.audit.diff and koken.methodology.lock: symbolic formula comparison, effects, version discipline."""

import pytest
from click.testing import CliRunner

from koken.audit.diff import diff_methodologies, example_effects, load_pair
from koken.base.errors import KokenError
from koken.cli.commands import main
from koken.library import load_methodology
from koken.methodology.lock import check_lock, write_lock

from conftest import REPO
from helpers import load_folder, methodology_dict, write_methodology


def pair(tmp_path, change):
    old = methodology_dict()
    new = methodology_dict()
    change(new)
    return load_pair(write_methodology(tmp_path / "old", old), write_methodology(tmp_path / "new", new))


def test_reordering_a_product_is_no_change(tmp_path):
    def reorder(d):
        d["formulas"][1]["expression"] = "grid_emission_factor * saved"
    a, b = pair(tmp_path, reorder)
    assert diff_methodologies(a, b) == []


def test_inlining_a_step_is_no_change_of_the_result(tmp_path):
    def inline(d):
        d["formulas"][1]["expression"] = "(baseline_energy - product_energy) * grid_emission_factor"
    a, b = pair(tmp_path, inline)
    assert not any("the result changes" in line for line in diff_methodologies(a, b))


def test_changed_formula_is_found_with_its_effect_and_missing_bump(tmp_path):
    def change(d):  # the product uses 1 % more: both the saving and the product's emissions change
        d["formulas"][0]["expression"] = "baseline_energy - product_energy - product_energy / 100"
        d["formulas"][3]["expression"] = "(product_energy + product_energy / 100) * grid_emission_factor"
    a, b = pair(tmp_path, change)
    lines = diff_methodologies(a, b)
    assert any(line.startswith("formula saved:") for line in lines)
    assert any("the result changes" in line for line in lines)
    assert any("VERSION NOT BUMPED" in line for line in lines)
    # example: (400 - 300 - 3) × 0.5 = 48.5 kg/台/yr instead of 50
    assert any("avoided_per_unit_year 50 → 48.5" in e and "CHANGED" in e for e in example_effects(a, b))


def test_unit_written_differently_is_no_change(tmp_path):
    def respell(d):
        d["parameters"]["baseline_energy"]["unit"] = "kWh/a"
    a, b = pair(tmp_path, respell)
    assert not any("unit" in line for line in diff_methodologies(a, b))


def test_cli_diff_with_portfolio(tmp_path):
    """A category methodology rewritten to the same value but evaluated otherwise (terms added and cancelled): the
    portfolio lines of its products (the bundled refrigerator, television … extend home_appliances) move by nothing,
    yet the formula is named as computed differently, in the category and in every product that inherits it
    (issue 17 §1: sympy cancelled P - P once the steps were put in, so diff said nothing)."""
    from conftest import EXAMPLE_PORTFOLIO, REPO

    category = REPO / "methodologies" / "home_appliances" / "home_appliances.yaml"
    new = tmp_path / "home_appliances.yaml"
    text = category.read_text(encoding="utf-8")
    new.write_text(text.replace("version: 2.0.0", "version: 2.1.0").replace(
        "expression: baseline_emissions - product_emissions",
        "expression: product_emissions - product_emissions + baseline_emissions - product_emissions"),
        encoding="utf-8")
    result = CliRunner().invoke(main, ["diff", str(category), str(new), "--portfolio", str(EXAMPLE_PORTFOLIO)])
    assert result.exit_code == 0, result.output
    assert "version: 2.0.0 → 2.1.0" in result.output
    # the same values where sampled, but added and cancelled terms are computed (issue 17 §1): a change, said so
    assert "formula avoided_per_unit_year: baseline_emissions - product_emissions → product_emissions - " \
        "product_emissions + baseline_emissions - product_emissions (computed differently" in result.output
    assert "FY2023 domestic single_year[t-CO2e]" in result.output and "(+0.00%)" in result.output
    moved = result.output.split("moved by the change: ", 1)[1].splitlines()[0]
    assert "refrigerator" in moved and "television" in moved
    assert result.output.count("(computed differently") == 7  # the category and its six products


def test_a_category_change_moves_the_portfolio_lines_of_its_products(tmp_path):
    """The baseline of every home appliance 1 % higher: the refrigerator lines move, the transformer's do not."""
    from conftest import EXAMPLE_PORTFOLIO, REPO

    category = REPO / "methodologies" / "home_appliances" / "home_appliances.yaml"
    new = tmp_path / "home_appliances.yaml"
    text = category.read_text(encoding="utf-8")
    new.write_text(text.replace("version: 2.0.0", "version: 2.1.0").replace(
        "expression: baseline_annual_energy * grid_emission_factor + baseline_fuel_emissions",
        "expression: 1.01 * baseline_annual_energy * grid_emission_factor + baseline_fuel_emissions"),
        encoding="utf-8")
    result = CliRunner().invoke(main, ["diff", str(category), str(new), "--portfolio", str(EXAMPLE_PORTFOLIO)])
    assert result.exit_code == 0, result.output
    moved = result.output.split("moved by the change: ", 1)[1].splitlines()[0]
    assert "refrigerator" in moved and "television" in moved
    assert "transformer" not in result.output
    domestic = next(line for line in result.output.splitlines() if "FY2023 domestic single_year" in line)
    assert "(+0.00%)" not in domestic and "(+" in domestic  # a higher baseline: more avoided


def test_terms_added_and_cancelled_are_a_change_diff_reports(tmp_path):
    """``a - b`` → ``a - b + big - big``: the same function where diff samples it (so it said nothing), yet computed
    otherwise (for a large ``big`` the small ``a - b`` is lost to rounding: 1 + 1e17 − 1e17 is 0 in floating point)
    and hashed otherwise: diff names the formula (issue 17 §1)."""
    def pad(d):
        d["formulas"][0]["expression"] = "baseline_energy - product_energy + baseline_energy - baseline_energy"
    a, b = pair(tmp_path, pad)
    assert a.content_hash != b.content_hash
    lines = diff_methodologies(a, b)
    assert "formula saved: baseline_energy - product_energy → baseline_energy - product_energy + baseline_energy - " \
        "baseline_energy (computed differently: the same values at the sampled points, but rounding can differ)" \
        in lines, lines
    assert any("VERSION NOT BUMPED" in line for line in lines)
    assert not any("the result changes" in line for line in lines)
    # a reordering is still no change at all
    def reorder(d):
        d["formulas"][0]["expression"] = "-product_energy + baseline_energy"
    a, b = pair(tmp_path / "reorder", reorder)
    assert diff_methodologies(a, b) == []
    # nor is a step put inline: the tree evaluated is the same
    def inline(d):
        d["formulas"][1]["expression"] = "(baseline_energy - product_energy) * grid_emission_factor"
    a, b = pair(tmp_path / "inline", inline)
    assert not any("formula" in line for line in diff_methodologies(a, b))


def test_the_lock_refuses_terms_added_and_cancelled_under_a_released_version(tmp_path):
    """``a - b + big - big`` shared ``a - b``'s hash and so passed the version lock (issue 17 §1)."""
    data = methodology_dict()
    write_methodology(tmp_path, data)
    library, _ = load_folder(tmp_path)
    lock = tmp_path / "versions.lock"
    assert write_lock(library, lock) == 1
    data["formulas"][0]["expression"] = "baseline_energy - product_energy + baseline_energy - baseline_energy"
    errors, _ = check_lock({"toy": load_methodology(write_methodology(tmp_path, data))}, lock)
    assert len(errors) == 1 and "bump the version" in str(errors[0])


def test_lock_refuses_changed_content_under_a_released_version(tmp_path):
    data = methodology_dict()
    write_methodology(tmp_path, data)
    library, _ = load_folder(tmp_path)
    lock = tmp_path / "versions.lock"
    assert write_lock(library, lock) == 1
    assert check_lock(library, lock) == ([], [])
    data["parameters"]["grid_emission_factor"]["range"] = [0, 3]
    library = {"toy": load_methodology(write_methodology(tmp_path, data))}
    errors, _ = check_lock(library, lock)
    assert len(errors) == 1 and "bump the version" in str(errors[0])
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 1 and "bump the version" in result.output
    data["version"] = "1.0.1"
    library = {"toy": load_methodology(write_methodology(tmp_path, data))}
    errors, warnings = check_lock(library, lock)
    assert errors == [] and "not in versions.lock" in warnings[0]


def test_diff_refuses_two_different_methodologies():
    with pytest.raises(KokenError, match="different methodologies"):
        load_pair(REPO / "methodologies/home_appliances/refrigerator.yaml",
                  REPO / "methodologies/home_appliances/television.yaml")


def test_validate_reports_a_malformed_version_lock_as_a_problem_not_a_traceback(tmp_path):
    write_methodology(tmp_path, methodology_dict())
    (tmp_path / "versions.lock").write_text("- not a mapping\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 1 and "the version lock must map ids" in result.output


def test_a_version_only_change_lists_no_effect_but_counts_what_did_not_move(tmp_path):
    old, new = pair(tmp_path, lambda d: d.update(version="1.0.1"))
    assert diff_methodologies(old, new) == ["version: 1.0.0 → 1.0.1"]
    assert example_effects(old, new) == ["1 expected output(s) of the old examples unchanged"]


def test_diff_reads_in_japanese_with_the_same_figures(tmp_path):
    from koken.audit.diff import Comparison
    from koken.base.i18n import language

    def change(d):
        d["formulas"][0]["expression"] = "baseline_energy - product_energy - product_energy / 100"
        d["formulas"][3]["expression"] = "(product_energy + product_energy / 100) * grid_emission_factor"
    a, b = pair(tmp_path, change)
    with language("ja"):
        lines = Comparison(a, b, diff_methodologies(a, b), example_effects(a, b), []).lines()
        with pytest.raises(KokenError) as err:
            load_pair(REPO / "methodologies/home_appliances/refrigerator.yaml",
                      REPO / "methodologies/home_appliances/television.yaml")
    assert "  式 saved: baseline_energy - product_energy → baseline_energy - product_energy - product_energy / 100" \
        in lines
    assert "  バージョン未更新: 内容が変わりましたが、バージョンは 1.0.0 のままです。" in lines
    assert "旧ファイルの計算例への影響:" in lines
    effect = next(line for line in lines if "avoided_per_unit_year" in line and "変更あり" in line)
    with language("en"):
        english = example_effects(a, b)
    assert effect.strip().replace("計算例", "example").replace("変更あり", "CHANGED") in english
    assert "2つのファイルは別の方法論です（refrigerator と television）" in str(err.value)


def test_a_change_to_a_category_methodology_names_every_product_it_moves(tmp_path):
    import shutil

    from koken.audit.diff import compare
    from koken.base.paths import methodologies_dir

    folder = tmp_path / "home_appliances"
    shutil.copytree(methodologies_dir() / "home_appliances", folder)
    category = folder / "home_appliances.yaml"
    text = category.read_text(encoding="utf-8")
    # the operating years' upper bound 40 → 12: a product whose examples use more moves, the others do not
    category.write_text(text.replace("version: 2.0.0", "version: 2.1.0").replace(
        "    range: [1, 40]\n    aliases: [稼働年数]", "    range: [1, 12]\n    aliases: [稼働年数]"), encoding="utf-8")
    comparison = compare(methodologies_dir() / "home_appliances" / "home_appliances.yaml", category)
    assert set(comparison.moved) == {"heat_pump_water_heater", "led_lighting", "refrigerator", "residential_fuel_cell",
                                     "room_air_conditioner", "television"}
    # the refrigerator takes the category's range and moves; the television sets its own [1, 20] and does not
    assert comparison.moved["refrigerator"] and comparison.moved["television"] == []
    text_out = "\n".join(comparison.lines())
    assert "Products on this category methodology: 6; moved by the change:" in text_out
    # the range moved; the product's own file did not change, so no bump is asked of it (the category's records it)
    assert comparison.moved["refrigerator"] == ["parameter operating_years: range [1.0, 40.0] → [1.0, 12.0]"]
    # led_lighting derives its operating years (rated life ÷ hours): its example of 20 yr now leaves the range
    assert any("cannot run" in line for line in comparison.moved["led_lighting"])


def test_a_product_file_is_compared_on_the_category_beside_it(tmp_path):
    import shutil

    from koken.audit.diff import compare
    from koken.base.paths import methodologies_dir

    folder = tmp_path / "home_appliances"
    shutil.copytree(methodologies_dir() / "home_appliances", folder)
    category = folder / "home_appliances.yaml"
    category.write_text(category.read_text(encoding="utf-8").replace(
        "expression: baseline_annual_energy * grid_emission_factor + baseline_fuel_emissions",
        "expression: 2 * baseline_annual_energy * grid_emission_factor + baseline_fuel_emissions"), encoding="utf-8")
    comparison = compare(methodologies_dir() / "home_appliances" / "refrigerator.yaml", folder / "refrigerator.yaml")
    # the product file is the same, but the category beside the new one doubles the baseline: the diff says so
    assert any("formula baseline_emissions" in line for line in comparison.changes)
