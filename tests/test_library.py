"""koken.library: the bundled set, files added to it (a later id replaces an earlier one, with a notice), the same
checks as ``koken validate`` (worked examples, version lock), and ``--methodologies`` / ``--no-bundled``."""

import pytest
import yaml
from click.testing import CliRunner

import koken
from koken.cli import main
from koken.library import load_library, scan_library

from conftest import EXAMPLE_PORTFOLIO, REPO
from helpers import load_folder, methodology_dict, write_methodology

FRIDGE = REPO / "methodologies" / "home_appliances" / "refrigerator.yaml"


def company_refrigerator(tmp_path, operating_years: float = 10.0):
    """The bundled refrigerator methodology with another default operating life, as a company's own file."""
    data = yaml.safe_load(FRIDGE.read_text(encoding="utf-8"))
    data["version"] = "2.1.0"
    folder = tmp_path / "ours" / "home_appliances"
    folder.mkdir(parents=True)
    path = folder / "refrigerator.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return tmp_path / "ours"


def test_the_bundled_library_has_24_product_and_5_category_methodologies_checked_like_validate():
    lib = load_library()
    assert len(lib) == 29 and lib.description == "bundled" and lib.notices == []
    assert sum(m.spec.kind == "category" for m in lib.values()) == 5
    assert isinstance(lib["transformer"], koken.Methodology)
    with pytest.raises(KeyError, match="did you mean 'transformer'"):
        lib["transfomer"]


def test_a_folder_added_to_the_bundled_set_replaces_its_ids_with_a_notice(tmp_path):
    ours = company_refrigerator(tmp_path)
    lib = load_library(ours)
    assert len(lib) == 29 and lib["refrigerator"].version == "2.1.0"
    assert lib.description == f"bundled + {ours}"
    assert len(lib.notices) == 1 and "'refrigerator' 2.1.0" in lib.notices[0] and "replaces 2.0.0" in lib.notices[0]


def test_library_add_chains_and_leaves_the_library_unchanged_on_a_problem(tmp_path):
    lib = load_library()
    assert lib.add(company_refrigerator(tmp_path)) is lib and lib["refrigerator"].version == "2.1.0"
    bad = methodology_dict()
    bad["examples"][0]["expected"]["avoided_per_unit_year"]["value"] = 1.0  # the example no longer reproduces
    write_methodology(tmp_path / "bad", bad)
    with pytest.raises(koken.KokenErrors, match="but the example expects"):
        lib.add(tmp_path / "bad")
    assert "toy" not in lib and len(lib) == 29


def test_only_the_given_folder_without_the_bundled_set(tmp_path):
    write_methodology(tmp_path / "mine", methodology_dict())
    lib = load_library(tmp_path / "mine", bundled=False)
    assert list(lib) == ["toy"] and lib.description == str(tmp_path / "mine")


def test_one_id_twice_in_one_folder_is_an_error_not_an_override(tmp_path):
    write_methodology(tmp_path / "lib", methodology_dict())
    write_methodology(tmp_path / "lib" / "copy", methodology_dict())
    scan = scan_library(tmp_path / "lib", bundled=False)
    assert any("is also defined in" in str(p) for p in scan.problems)
    with pytest.raises(koken.KokenErrors, match="is also defined in"):
        load_library(tmp_path / "lib", bundled=False)


def test_a_folder_lock_refuses_a_released_version_whose_content_changed(tmp_path):
    path = write_methodology(tmp_path / "lib", methodology_dict())
    (tmp_path / "lib" / "versions.lock").write_text("toy:\n  1.0.0: sha256:" + "0" * 64 + "\n", encoding="utf-8")
    scan = scan_library(tmp_path / "lib", bundled=False)
    assert "toy" not in scan.library and any("bump the version" in str(p) for p in scan.problems)
    assert path.exists()


def test_cli_methodologies_adds_to_the_bundled_set(tmp_path):
    ours = company_refrigerator(tmp_path)
    out = tmp_path / "r.json"
    result = CliRunner().invoke(main, ["calculate", str(EXAMPLE_PORTFOLIO), "--methodologies", str(ours), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "note: methodology 'refrigerator' 2.1.0" in result.output
    doc = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert doc["methodologies"]["refrigerator"]["version"] == "2.1.0"
    assert doc["methodologies"]["transformer"]["version"] == "2.0.0"  # still the bundled one
    assert doc["options"]["methodologies"] == f"bundled + {ours}"


def test_cli_no_bundled_leaves_the_bundled_set_out(tmp_path):
    ours = company_refrigerator(tmp_path)
    result = CliRunner().invoke(main, ["calculate", str(EXAMPLE_PORTFOLIO), "--methodologies", str(ours), "--no-bundled"])
    # the example's other columns name parameters of bundled methodologies only
    assert result.exit_code == 1 and "unknown column 'capacity_factor'" in result.output
    result = CliRunner().invoke(main, ["methodologies", "--no-bundled"])
    assert result.exit_code == 2 and "--no-bundled needs --methodologies" in result.output


def test_a_copy_of_a_released_version_must_keep_its_content_or_take_a_new_version(tmp_path):
    folder = tmp_path / "copy" / "home_appliances"
    folder.mkdir(parents=True)
    text = FRIDGE.read_text(encoding="utf-8")
    (folder / "refrigerator.yaml").write_text(text, encoding="utf-8")
    lib = load_library(tmp_path / "copy")  # the same bytes as the released 2.0.0: no warning either
    assert not [w for w in lib.warnings if "copy" in w]
    (folder / "refrigerator.yaml").write_text(text.replace("(470 kWh/yr)", "(471 kWh/yr)"), encoding="utf-8")
    with pytest.raises(koken.KokenErrors) as caught:
        load_library(tmp_path / "copy")
    (problem,) = caught.value
    assert "version 2.0.0 was released" in problem.message and "methodologies/versions.lock" in problem.message


def test_a_source_that_adds_nothing_is_an_error_and_upper_case_suffixes_count(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(koken.KokenErrors, match="no methodology files"):
        load_library(tmp_path / "empty")
    with pytest.raises(koken.KokenErrors, match="no such file or folder"):
        load_library("")
    folder = tmp_path / "upper" / "home_appliances"
    folder.mkdir(parents=True)
    data = methodology_dict()
    (folder / "toy.YAML").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert "toy" in load_library(tmp_path / "upper", bundled=False)


def test_library_problems_and_notices_read_in_the_chosen_language(tmp_path):
    from koken.base.i18n import language

    ours = company_refrigerator(tmp_path)
    write_methodology(tmp_path / "twice", methodology_dict())
    write_methodology(tmp_path / "twice" / "copy", methodology_dict())
    with language("ja"):
        lib = load_library(ours)
        with pytest.raises(KeyError, match="方法論 'transfomer' はありません。'transformer' のことですか？"):
            lib["transfomer"]
        scan = scan_library([tmp_path / "twice", tmp_path / "nowhere"], bundled=False)
    assert lib.notices == [f"方法論 'refrigerator'：{ours / 'home_appliances' / 'refrigerator.yaml'} のバージョン 2.1.0 "
                           "で、methodologies/home_appliances/refrigerator.yaml のバージョン 2.0.0 を置き換えます。"]
    found = [str(p) for p in scan.problems]
    assert any("id 'toy' は " in p and "でも定義されています。" in p for p in found), found
    assert f"{tmp_path / 'nowhere'}: そのようなファイルやフォルダはありません。" in found
    with language("en"), pytest.raises(KeyError, match="no methodology 'transfomer'; did you mean 'transformer'"):
        lib["transfomer"]


def test_a_control_character_in_one_file_does_not_hide_the_problems_of_the_others(tmp_path):
    """Issue 17 §3: a BEL in one methodology file raised PyYAML's ReaderError out of `koken validate`, hiding every
    other file's problems behind a traceback. Each file's problems are listed, the control character with its
    line."""
    write_methodology(tmp_path, methodology_dict(id="bell"))
    bell = tmp_path / "home_appliances" / "bell.yaml"
    bell.write_text(bell.read_text(encoding="utf-8").replace("version: 1.0.0", "version: 1.0.0\x07"), encoding="utf-8")
    write_methodology(tmp_path, methodology_dict(id="typo", untis="kWh"))
    _library, problems = load_folder(tmp_path)
    text = "\n".join(map(str, problems))
    assert "bell.yaml, row 2" in text and "U+0007" in text
    assert "typo.yaml" in text and "untis" in text
    run = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert run.exit_code == 1 and "U+0007" in run.output and "untis" in run.output, run.output
    assert run.exception is None or isinstance(run.exception, SystemExit)


def test_a_broken_factor_table_is_reported_once_and_named_as_the_cause(tmp_path, monkeypatch):
    """Issue 17 §3 (leftover): a factor table with one bad key was reported once per methodology that uses it (the
    grid table: 23 times), each followed by "unknown factor table 'grid_emission_factor'". Its problem is listed
    once, and each methodology says the table cannot be read because of its file."""
    import shutil

    import koken.factors as factors_module

    tables = tmp_path / "factors"
    shutil.copytree(factors_module.factors_dir(), tables)
    grid = tables / "grid_emission_factor.yaml"
    grid.write_text(grid.read_text(encoding="utf-8").replace("unit: kg-CO2/kWh", "unit: kg-CO2/kWh\nbogus: 1", 1),
                    encoding="utf-8")
    monkeypatch.setattr(factors_module, "factors_dir", lambda: tables)
    factors_module._load_all.cache_clear()
    try:
        _library, problems = load_folder()
    finally:
        factors_module._load_all.cache_clear()
    texts = [str(p) for p in problems]
    assert texts.count(f"{grid}, field bogus: unknown key 'bogus'") == 1, texts[:5]
    # the grid factor is a parameter of the category methodologies (2.0.0); their products name the category
    assert "methodologies/home_appliances/home_appliances.yaml, field parameters.grid_emission_factor: factor table " \
           "'grid_emission_factor' cannot be read: its file grid_emission_factor.yaml has problems (listed with it)" \
           in texts
    assert "methodologies/home_appliances/refrigerator.yaml, field extends: extends 'home_appliances', whose file " \
           "cannot be read (its problems are listed with it)" in texts
    assert not any("unknown factor table" in t or "no category methodology" in t for t in texts)


# --- lazy loading (koken calculate; issue 17 §4, docs/performance.md § Start-up) ---

def test_a_lazy_library_is_the_eager_one_compiled_on_first_use():
    eager = load_library()
    lazy = load_library(lazy=True)
    assert list(lazy) == list(eager) and len(lazy) == len(eager) and lazy.description == eager.description
    assert "refrigerator" in lazy and "fridge" not in lazy
    assert lazy.specs == {mid: m.spec for mid, m in eager.items()}  # read without compiling anything
    for mid in eager:  # each compiled on first lookup: the same identity, hash and steps as the eager library's
        m, e = lazy[mid], eager[mid]
        assert (m.content_hash, m.path, m.version, m.extends, m.step_names) == (e.content_hash, e.path, e.version,
                                                                               e.extends, e.step_names)
        assert lazy[mid] is m  # compiled once
    with pytest.raises(KeyError, match="did you mean 'transformer'"):
        lazy["transfomer"]


def broken_unit_folder(tmp_path):
    """A folder with a methodology ``broken`` whose format is right but whose formula has the wrong unit."""
    data = methodology_dict(id="broken")
    data["formulas"][0]["unit"] = "kg"  # baseline_energy - product_energy is kWh/yr, not kg
    write_methodology(tmp_path / "lib", data)
    return tmp_path / "lib"


def test_a_lazy_library_reports_a_broken_file_when_it_is_used_and_validate_always(tmp_path):
    folder = broken_unit_folder(tmp_path)
    with pytest.raises(koken.KokenErrors, match="broken.yaml"):
        load_library(folder)  # the eager library refuses it
    assert any("broken.yaml" in str(p) for p in scan_library(folder).problems)  # so does koken validate
    lazy = load_library(folder, lazy=True)  # its format is right: it is read, and compiled on first use
    assert "broken" in lazy and lazy["refrigerator"].id == "refrigerator"
    with pytest.raises(koken.KokenErrors, match="broken.yaml") as info:
        lazy["broken"]
    assert "declared unit vs formula" in str(info.value)


def test_a_lazy_library_still_refuses_a_file_whose_format_is_wrong(tmp_path):
    data = methodology_dict(id="misspelt")
    data["titel"] = data.pop("title")
    write_methodology(tmp_path / "lib", data)
    with pytest.raises(koken.KokenErrors, match="misspelt.yaml"):
        load_library(tmp_path / "lib", lazy=True)


def test_a_lazy_library_refuses_a_used_released_version_whose_content_changed(tmp_path):
    ours = company_refrigerator(tmp_path)
    data = yaml.safe_load((ours / "home_appliances" / "refrigerator.yaml").read_text(encoding="utf-8"))
    data["version"] = "2.0.0"  # the bundled lock released 2.0.0 with the bundled content
    data["title"]["en"] = "Refrigerator (ours)"
    (ours / "home_appliances" / "refrigerator.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    lazy = load_library(ours, lazy=True)
    with pytest.raises(koken.KokenErrors, match="bump the version"):
        lazy["refrigerator"]
    with pytest.raises(koken.KokenErrors, match="bump the version"):
        load_library(ours)


def test_calculate_leaves_a_broken_methodology_the_portfolio_does_not_use_to_validate(tmp_path):
    folder = broken_unit_folder(tmp_path)
    plain, added = tmp_path / "plain.json", tmp_path / "added.json"
    assert CliRunner().invoke(main, ["calculate", str(EXAMPLE_PORTFOLIO), "-o", str(plain)]).exit_code == 0
    result = CliRunner().invoke(main, ["calculate", str(EXAMPLE_PORTFOLIO), "--methodologies", str(folder),
                                       "-o", str(added)])
    assert result.exit_code == 0, result.output
    shown = [line for line in added.read_text("utf-8").splitlines() if '"created"' not in line]
    expected = [line for line in plain.read_text("utf-8").splitlines() if '"created"' not in line]
    assert [line.replace("bundled + " + str(folder), "bundled") for line in shown] == expected
    assert CliRunner().invoke(main, ["validate", str(folder)]).exit_code == 1
    portfolio = tmp_path / "p.csv"
    portfolio.write_text("methodology,fiscal_year,market,units_shipped[台],baseline_energy[kWh/yr],"
                         "product_energy[kWh/yr],grid_emission_factor[kg-CO2/kWh],operating_years[yr]\n"
                         "broken,2024,domestic,1,400,300,0.5,10\n", encoding="utf-8")
    out = tmp_path / "used.json"
    result = CliRunner().invoke(main, ["calculate", str(portfolio), "--methodologies", str(folder), "-o", str(out)])
    assert result.exit_code == 1 and "broken.yaml" in result.output and "declared unit vs formula" in result.output
    assert not out.exists() and not list(tmp_path.glob(".used.json.*"))


def test_the_lazy_command_line_writes_the_bytes_the_eager_library_gives(tmp_path):
    """koken calculate (lazy) against koken.run with the eager library, on the example portfolios."""
    for portfolio in (EXAMPLE_PORTFOLIO, REPO / "examples" / "portfolio_uncertain.csv"):
        cli, api = tmp_path / f"cli_{portfolio.stem}.json", tmp_path / f"api_{portfolio.stem}.json"
        assert CliRunner().invoke(main, ["calculate", str(portfolio), "-o", str(cli)]).exit_code == 0
        koken.run(portfolio, load_library(), output=api)
        lines = [[line for line in path.read_text("utf-8").splitlines() if '"created"' not in line]
                 for path in (cli, api)]
        assert lines[0] == lines[1]


def test_validate_and_lock_compile_every_file_again_in_a_process_that_compiled_them(monkeypatch, tmp_path):
    """`koken validate` does the full work even where the files were compiled before in the same process (a `koken
    server` compiles the bundled files before it forks each command): every file is parsed and compiled again."""
    import shutil

    import koken.methodology.compile as compile_module
    from koken.api import validate_methodologies
    from koken.library import load_library, lock_library

    load_library()  # every bundled file compiled in this process
    compiled = []
    inner = compile_module.compile_methodology
    monkeypatch.setattr(compile_module, "compile_methodology",
                        lambda spec, *args, **kw: compiled.append(spec.id) or inner(spec, *args, **kw))
    scan = validate_methodologies()
    assert not scan.problems
    assert len(compiled) >= len(scan.files) == len(set(compiled)) > 20
    compiled.clear()
    folder = tmp_path / "ours" / "home_appliances"
    folder.mkdir(parents=True)
    from koken.base.paths import methodologies_dir

    shutil.copy(methodologies_dir() / "home_appliances" / "refrigerator.yaml", folder)
    lock_library(tmp_path / "ours")
    lock_library(tmp_path / "ours")  # the second time from the files again, not from the first's compilation
    assert compiled.count("refrigerator") == 2
