"""koken.audit.verify: recompute a result and name the cause of each difference."""

import shutil

import pytest
import yaml
from click.testing import CliRunner

import koken.factors as factors_module
from koken.audit.verify import verify
from koken.base.errors import KokenError
from koken.calculation import calculate
from koken.cli.commands import main
from koken.portfolio.build import read_portfolio
from koken.scale.sinks import write_results

from conftest import EXAMPLE_PORTFOLIO, REPO
from helpers import RESULTS, load_folder, methodology_dict, write_methodology

PORTFOLIO = ("methodology,fiscal_year,market,units_shipped[台],baseline_energy[kWh/yr],product_energy[kWh/yr],"
             "grid_emission_factor[kg-CO2/kWh],operating_years[yr]\n"
             "toy,2023,domestic,1000,400,300,,\n"
             "toy,2023,domestic,500,420,273,0.5,10\n")


@pytest.fixture()
def setup(tmp_path, monkeypatch):
    """A toy library whose grid factor comes from a copy of the factor tables, and a result file."""
    tables = tmp_path / "factors"
    shutil.copytree(factors_module.factors_dir(), tables)
    monkeypatch.setattr(factors_module, "factors_dir", lambda: tables)
    data = methodology_dict()
    data["parameters"]["grid_emission_factor"]["factor"] = {"table": "grid_emission_factor"}
    data["parameters"]["operating_years"].update(default=12, default_source="src")
    lib_dir = tmp_path / "lib"
    write_methodology(lib_dir, data)
    portfolio = tmp_path / "p.csv"
    portfolio.write_text(PORTFOLIO, encoding="utf-8")
    library, problems = load_folder(lib_dir)
    assert not problems
    result = tmp_path / "result.json"
    write_results(calculate(read_portfolio(portfolio, library), library), result)
    return tmp_path, lib_dir, portfolio, result, data, tables


def reload(lib_dir):
    factors_module._load_all.cache_clear()
    library, problems = load_folder(lib_dir)
    assert not problems
    return library


def test_unchanged_result_stands(setup):
    _, lib_dir, portfolio, result, _, _ = setup
    assert verify(result, portfolio, reload(lib_dir)).stands


def test_changed_input_cell_is_named(setup):
    _, lib_dir, portfolio, result, _, _ = setup
    portfolio.write_text(PORTFOLIO.replace("500,420,273", "500,420,250"), encoding="utf-8")
    outcome = verify(result, portfolio, reload(lib_dir))
    assert not outcome.stands
    (line,) = [d for d in outcome.differences if d.startswith("row")]
    assert line.startswith("row 3") and "input changed: product_energy 273 → 250 kWh/yr" in line


def test_changed_default_is_named(setup):
    _, lib_dir, portfolio, result, data, _ = setup
    data["parameters"]["operating_years"]["default"] = 15
    data["version"] = "1.1.0"
    write_methodology(lib_dir, data)
    outcome = verify(result, portfolio, reload(lib_dir))
    (line,) = [d for d in outcome.differences if d.startswith("row 2")]
    assert "methodology default changed: operating_years 12 → 15" in line
    # row 3 gave its own operating years: its figures stand, but it records the old methodology version
    (other,) = [d for d in outcome.differences if d.startswith("row 3")]
    assert "methodology_version" in other and "single_year" not in other
    assert any("methodology toy changed: version 1.0.0 → 1.1.0" in n for n in outcome.notes)


def test_changed_factor_is_named(setup):
    _, lib_dir, portfolio, result, _, tables = setup
    path = tables / "grid_emission_factor.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    for entry in doc["entries"]:
        if entry.get("region") == "JP" and entry.get("fiscal_year") == 2023:
            entry["value"] = 0.43
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    outcome = verify(result, portfolio, reload(lib_dir))
    (line,) = [d for d in outcome.differences if d.startswith("row")]
    assert line.startswith("row 2") and "factor changed: grid_emission_factor 0.421 → 0.43" in line
    assert any("factor table grid_emission_factor changed" in n for n in outcome.notes)


def test_cli_exit_status(setup):
    from click.testing import CliRunner

    from koken.cli.commands import main

    _, lib_dir, portfolio, result, _, _ = setup
    ok = CliRunner().invoke(main, ["verify", str(result), str(portfolio), "--methodologies", str(lib_dir)])
    assert ok.exit_code == 0 and "The result stands" in ok.output
    portfolio.write_text(PORTFOLIO.replace("1000,400", "1001,400"), encoding="utf-8")
    bad = CliRunner().invoke(main, ["verify", str(result), str(portfolio), "--methodologies", str(lib_dir)])
    assert bad.exit_code == 1 and "DIFFERS: row 2" in bad.output


def test_tampered_result_fields_do_not_stand(setup):
    import json

    _, lib_dir, portfolio, result, _, _ = setup
    library = reload(lib_dir)
    doc = json.loads(result.read_text(encoding="utf-8"))
    tampered = [
        ("totals_by_market", lambda d: d["totals_by_market"][0].update({"single_year[t-CO2e]": 1.0})),
        ("market", lambda d: d["rows"][0].update({"market": "overseas"})),
        ("steps", lambda d: d["rows"][0]["steps"]["saved"].update({"value": 999.0})),
        ("version", lambda d: d["methodologies"]["toy"].update({"version": "9.9.9"})),
    ]
    for label, change in tampered:
        copy = json.loads(json.dumps(doc))
        change(copy)
        path = result.with_name(f"tampered_{label}.json")
        path.write_text(json.dumps(copy), encoding="utf-8")
        outcome = verify(path, portfolio, library)
        assert not outcome.stands, label


def test_changed_fiscal_year_is_named_as_such(setup):
    _, lib_dir, portfolio, result, _, _ = setup
    portfolio.write_text(PORTFOLIO.replace("toy,2023,domestic,1000", "toy,2022,domestic,1000"), encoding="utf-8")
    outcome = verify(result, portfolio, reload(lib_dir))
    (line,) = [d for d in outcome.differences if d.startswith("row")]
    assert "input changed: fiscal_year 2023 → 2022" in line


def test_verify_refuses_a_malformed_result_and_finds_a_duplicated_row(library):
    with pytest.raises(KokenError, match="malformed|well-formed"):
        verify(RESULTS / "figure_as_text.json", EXAMPLE_PORTFOLIO, library)  # a figure written as the text "1"
    outcome = verify(RESULTS / "duplicated_row.json", EXAMPLE_PORTFOLIO, library)
    assert not outcome.stands and any("appears 2 times" in d for d in outcome.differences)


def test_verify_recomputes_device_shares_with_the_recorded_ratio_file(tmp_path):
    """`koken calculate -o result.json` then `koken verify` stands: verify recomputes the device shares that
    calculate adds (without them every row was reported as differing)."""
    out = tmp_path / "result.json"
    runner = CliRunner()
    assert runner.invoke(main, ["calculate", "examples/portfolio_fy2023.csv", "-o", str(out)]).exit_code == 0
    checked = runner.invoke(main, ["verify", str(out), "examples/portfolio_fy2023.csv"])
    assert checked.exit_code == 0, checked.output
    assert "The result stands" in checked.output


def test_verify_with_other_methodologies_than_the_result_names_that_first(tmp_path):
    """A result computed with `--methodologies ours` (a default the bundled file lacks) cannot be recomputed with
    the bundled set alone: the first problem says so; with the same --methodologies it stands, without a note."""
    ours = tmp_path / "ours" / "home_appliances"
    ours.mkdir(parents=True)
    fridge = yaml.safe_load((REPO / "methodologies" / "home_appliances" / "refrigerator.yaml").read_text(encoding="utf-8"))
    fridge["version"] = "2.1.0"
    fridge["parameters"]["operating_years"] = {"default": 12, "default_source": "toshiba_lifestyle_ghg"}
    (ours / "refrigerator.yaml").write_text(yaml.safe_dump(fridge, allow_unicode=True), encoding="utf-8")
    portfolio = tmp_path / "p.csv"
    portfolio.write_text("methodology,fiscal_year,market,units_shipped[台],baseline_annual_energy[kWh/yr],"
                         "product_annual_energy[kWh/yr]\nrefrigerator,2023,domestic,1000,420,273\n", encoding="utf-8")
    out = tmp_path / "r.json"
    runner = CliRunner()
    assert runner.invoke(main, ["calculate", str(portfolio), "--methodologies", str(tmp_path / "ours"),
                                "-o", str(out)]).exit_code == 0
    alone = runner.invoke(main, ["verify", str(out), str(portfolio)])
    assert alone.exit_code == 1
    assert alone.output.splitlines()[1].endswith(f"computed with the methodologies in bundled + {tmp_path / 'ours'}, "
                                                 "this check with bundled: verify with the same --methodologies "
                                                 "(and --no-bundled if it was used)")
    same = runner.invoke(main, ["verify", str(out), str(portfolio), "--methodologies", str(tmp_path / "ours")])
    assert same.exit_code == 0 and "The result stands" in same.output and "computed with the methodologies" not in same.output


def test_verify_reports_in_japanese_with_the_same_figures(setup):
    """A result written in English verifies under Japanese (the recorded origins and labels do not depend on the
    language), and every line of the report reads in Japanese with the English figures."""
    from koken.audit.verify import report
    from koken.base.i18n import language

    tmp_path, lib_dir, portfolio, result, _, _ = setup
    library = reload(lib_dir)
    with language("ja"):
        assert report(verify(result, portfolio, library)) == ["結果は再現されました: すべての数値が一致します。"]
    portfolio.write_text(PORTFOLIO.replace("500,420,273", "500,420,250"), encoding="utf-8")
    with language("ja"):
        lines = report(verify(result, portfolio, library))
    with language("en"):
        english = report(verify(result, portfolio, library))
    assert lines[0] == "注: ポートフォリオのファイルが、結果の計算に使われたものと異なります（sha256）。"
    (row,) = [line for line in lines if line.startswith("相違: 3行目")]
    assert "入力が変わりました: product_energy 273 → 250 kWh/yr" in row and "— 原因: " in row
    (english_row,) = [line for line in english if line.startswith("DIFFERS: row 3")]
    assert row.split("）: ")[1].split(" — ")[0] == english_row.split("): ")[1].split(" — ")[0]  # the figures
    assert lines[-1] == "結果は再現されません: 相違が 3 件あります。"
    assert english[-1] == "The result does not stand: 3 difference(s)."
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with language("ja"), pytest.raises(KokenError, match="結果ファイルを JSON として読めません（JSONDecodeError）"):
        verify(broken, portfolio, library)
    with language("en"), pytest.raises(KokenError, match="cannot read the result file as JSON"):
        verify(broken, portfolio, library)


def test_a_workbook_result_from_several_sheets_verifies_rows_by_sheet_and_row(tmp_path, library):
    """Both sheets of examples/template_filled.xlsx have a row 6: rows are matched by (sheet, row)."""
    from koken.api import calculate

    from conftest import REPO

    workbook = REPO / "examples" / "template_filled.xlsx"
    result = calculate(workbook, library).to_file(tmp_path / "r.json")
    assert verify(result, workbook, library).stands


def test_a_monte_carlo_result_stands_from_its_seed_and_a_tampered_percentile_does_not(tmp_path, library):
    import json

    from koken.api import run

    portfolio = REPO / "examples" / "portfolio_uncertain.csv"
    out = tmp_path / "r.json"
    run(portfolio, library, output=out, draws=200, seed=12)
    assert verify(out, portfolio, library).stands
    document = json.loads(out.read_text(encoding="utf-8"))
    document["uncertainty"]["totals"][0]["p95"] *= 1.01
    document["rows"][0]["single_year_p5[t-CO2e]"] *= 0.99
    out.write_text(json.dumps(document), encoding="utf-8")
    result = verify(out, portfolio, library)
    text = "\n".join(result.differences)
    assert not result.stands and "uncertainty: the percentiles of the totals" in text and "single_year_p5" in text
