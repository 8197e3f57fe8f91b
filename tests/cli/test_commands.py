"""The koken command line, end to end (click's test runner; a subprocess for the installed script)."""

import hashlib
import json
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from koken.cli.commands import main
from koken.cli.render import MAX_LISTED_PROBLEMS
from koken.methodology.json_schema import schema_json

from conftest import EXAMPLE_PORTFOLIO, REPO
from helpers import MESSY, PORTFOLIOS, methodology_dict, write_methodology


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_calculate_the_example_portfolio(tmp_path):
    out = tmp_path / "result.json"
    result = run("calculate", EXAMPLE_PORTFOLIO, "--output", out)
    assert result.exit_code == 0, result.output
    assert "40 product lines" in result.output and "万t-CO2e" in result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["format"] == "koken-result" and len(doc["rows"]) == 40
    assert len(doc["methodologies"]) >= 12  # the example uses at least 12 methodologies, every category
    assert {r["category"] for r in doc["rows"]} == {"generation", "home_appliances", "industrial_equipment",
                                                    "it_equipment", "solutions"}
    row = next(r for r in doc["rows"] if r["product_line"] == "Refrigerator 401-450 L")
    # (420 - 273) kWh/yr × 0.421 kg-CO2/kWh = 61.887 kg/台/yr; × 4.5万台 = 2,784.915 t; × 12 yr = 33,418.98 t
    assert row["single_year[t-CO2e]"] == pytest.approx(2784.915)
    assert row["lifetime[t-CO2e]"] == pytest.approx(33418.98)
    pv = next(r for r in doc["rows"] if r["product_line"] == "PV module 600 W utility")
    # 42 MW × 0.15 × 8,760 h × 0.421 kg/kWh = 23,235.4 t single-year; × 20 yr
    assert pv["single_year[t-CO2e]"] == pytest.approx(42000 * 0.15 * 8760 * 0.421 / 1000)
    assert pv["lifetime[t-CO2e]"] == pytest.approx(42000 * 0.15 * 8760 * 0.421 / 1000 * 20)


def test_calculate_csv_output_names_units_in_headers(tmp_path):
    out = tmp_path / "result.csv"
    assert run("calculate", EXAMPLE_PORTFOLIO, "-o", out).exit_code == 0
    header = out.read_text(encoding="utf-8").splitlines()[0]
    assert "single_year[t-CO2e]" in header and "lifetime[t-CO2e]" in header


def test_bad_portfolio_exits_1_lists_problems_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("methodology,fiscal_year,market,units_shipped[台]\nrefrigerator,2023,domestic,-5\n",
                   encoding="utf-8")
    out = tmp_path / "result.json"
    result = CliRunner().invoke(main, ["calculate", str(bad), "-o", str(out)])
    assert result.exit_code == 1
    assert "problem(s) found" in result.output and "baseline_annual_energy is required" in result.output
    assert "units_shipped must be a finite number >= 0" in result.output
    assert not out.exists() and not list(tmp_path.glob(".result.json.*"))


def test_validate_bundled_library():
    from koken.base.paths import methodologies_dir
    from koken.library import find_methodology_files

    result = run("validate")
    count = len(find_methodology_files(methodologies_dir()))
    assert result.exit_code == 0 and f"{count} methodologies valid" in result.output


def test_validate_reports_every_problem_and_exits_1(tmp_path):
    good = methodology_dict()
    bad = methodology_dict(id="toy_bad")
    bad["formulas"][0]["expression"] = "__import__('os').system('id')"
    write_methodology(tmp_path, good)
    write_methodology(tmp_path, bad)
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    assert "toy_bad.yaml" in result.output and "only the functions" in result.output


def test_schema_in_docs_is_current():
    assert (REPO / "docs" / "methodology.schema.json").read_text(encoding="utf-8") == schema_json()


@pytest.mark.skipif(shutil.which("koken") is None, reason="the koken script is not installed")
def test_installed_script_runs():
    proc = subprocess.run(["koken", "calculate", str(EXAMPLE_PORTFOLIO)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "FY2023 total single-year" in proc.stdout


def test_module_entry_point_help():
    proc = subprocess.run([sys.executable, "-m", "koken.cli.commands", "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "calculate" in proc.stdout


def test_same_inputs_give_byte_identical_results_apart_from_created(tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert run("calculate", EXAMPLE_PORTFOLIO, "-o", first).exit_code == 0
    assert run("calculate", EXAMPLE_PORTFOLIO, "-o", second).exit_code == 0
    a = json.loads(first.read_text(encoding="utf-8"))
    b = json.loads(second.read_text(encoding="utf-8"))
    assert a.pop("created") and b.pop("created")
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    lines_a = [line for line in first.read_text(encoding="utf-8").splitlines() if '"created"' not in line]
    lines_b = [line for line in second.read_text(encoding="utf-8").splitlines() if '"created"' not in line]
    assert lines_a == lines_b
    assert a["options"]["methodologies"] == "bundled"
    assert a["options"]["device_ratios"].startswith("fy2023_report_implied (attribution/ratios_fy2023_report.yaml")
    assert set(a["factor_tables"]) >= {"grid_emission_factor", "fuel_emission_factor"} and a["gwp_set"]


def test_calculate_to_parquet_prints_the_same_totals(tmp_path):
    import pyarrow.parquet as pq

    whole = run("calculate", EXAMPLE_PORTFOLIO)
    parts = run("calculate", EXAMPLE_PORTFOLIO, "--partition-rows", 100, "-o", tmp_path / "r.parquet")
    assert parts.exit_code == 0, parts.output
    assert whole.output.splitlines()[:-1] == [line for line in parts.output.splitlines()
                                              if not line.startswith("Results written")][:-1]
    assert pq.read_table(tmp_path / "r.parquet").num_rows == 40


def test_progress_bar_stays_silent_off_a_terminal(tmp_path):
    result = CliRunner().invoke(main, ["calculate", str(EXAMPLE_PORTFOLIO), "-o", str(tmp_path / "r.csv")],
                                catch_exceptions=False)
    assert result.exit_code == 0
    assert "lines" not in (result.stderr or "") and "\r" not in result.output


def test_calculate_on_dask_takes_the_cluster_it_started_early_and_writes_what_the_local_engine_writes(tmp_path,
                                                                                                     monkeypatch):
    from koken.scale import dask_engine

    started = []
    real = dask_engine.start_local_cluster
    monkeypatch.setattr(dask_engine, "start_local_cluster", lambda n: started.append(n) or real(n))
    out = {}
    for engine in ("local", "dask"):
        out[engine] = tmp_path / f"{engine}.csv"
        extra = ["--engine", "dask", "--workers", "1"] if engine == "dask" else []
        result = run("calculate", EXAMPLE_PORTFOLIO, "-o", out[engine], *extra)
        assert result.exit_code == 0, result.output
    assert out["local"].read_bytes() == out["dask"].read_bytes()
    assert started == [1]  # started before the library loaded
    assert not dask_engine._EARLY  # and taken by the run (none left to close at exit)


def test_dask_options_without_the_dask_engine_are_a_usage_error():
    result = CliRunner().invoke(main, ["calculate", str(EXAMPLE_PORTFOLIO), "--workers", "2"])
    assert result.exit_code == 2 and "--engine dask" in result.output


def test_calculate_csv_output_escapes_cells_a_spreadsheet_would_run_as_formulas(tmp_path):
    out = tmp_path / "r.csv"
    assert CliRunner().invoke(main, ["calculate", str(PORTFOLIOS / "csv_injection.csv"), "-o", str(out)]).exit_code == 0
    row = out.read_text(encoding="utf-8-sig").splitlines()[1]
    assert "\"'=HYPERLINK(" in row and ",'@SUM(" in row  # the product line, and a column of the company's own


def test_terminal_escapes_from_input_are_shown_not_obeyed():
    result = CliRunner().invoke(main, ["calculate", str(PORTFOLIOS / "terminal_escape.csv")])
    assert result.exit_code == 1 and "\x1b" not in result.output and "\\x1b[2J" in result.output


def test_calculate_refuses_an_output_that_would_overwrite_the_portfolio(tmp_path):
    portfolio = tmp_path / "same.csv"
    portfolio.write_bytes((MESSY / "clean_utf8.csv").read_bytes())
    before = portfolio.read_bytes()
    result = CliRunner().invoke(main, ["calculate", str(portfolio), "-o", str(portfolio)])
    assert result.exit_code == 1 and "would overwrite an input file" in result.output
    assert portfolio.read_bytes() == before


def test_docs_and_schema_report_an_unwritable_output_without_a_traceback(tmp_path):
    for args in (["docs", "-o", "/proc/nope"], ["schema", "-o", str(tmp_path / "missing" / "x.json")]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1 and "Traceback" not in result.output


def test_calculate_refuses_a_methodology_that_fails_its_own_example(tmp_path):
    data = methodology_dict()
    data["examples"][0]["expected"]["avoided_per_unit_year"]["value"] = 49
    write_methodology(tmp_path / "lib", data)
    portfolio = tmp_path / "p.csv"
    portfolio.write_text("methodology,fiscal_year,market,units_shipped[台],baseline_energy[kWh/yr],"
                         "product_energy[kWh/yr],grid_emission_factor[kg-CO2/kWh],operating_years[yr]\n"
                         "toy,2024,domestic,1,400,300,0.5,10\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["calculate", str(portfolio), "--methodologies", str(tmp_path / "lib")])
    assert result.exit_code == 1 and "but the example expects 49" in result.output


def test_validate_problems_do_not_claim_nothing_was_written(tmp_path):
    data = methodology_dict()
    data["formulas"][0]["expression"] = "2^3"
    write_methodology(tmp_path, data)
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 1 and "nothing was written" not in result.output


@pytest.mark.parametrize("args, says", [
    (["--engine", "dask", "--scheduler", "tcp://127.0.0.1:9", "--workers", "2"], "--workers sizes a local cluster"),
    (["--encoding", "cp932", "--sheet", "x"], "--sheet applies to workbooks"),
])
def test_calculate_options_that_do_not_apply_are_usage_errors(args, says):
    """--workers with --scheduler, --sheet on a CSV: usage errors, never silently ignored."""
    result = CliRunner().invoke(main, ["calculate", "examples/portfolio_fy2023.csv", *args])
    assert result.exit_code == 2 and says in result.output


def test_thousands_of_problems_are_listed_up_to_a_limit_then_counted(tmp_path):
    """30,000 bad rows are not 30,000 lines: the first MAX_LISTED_PROBLEMS are listed, the rest counted by kind."""
    header = "methodology,fiscal_year,market,region,units_shipped[台],baseline_annual_energy[kWh/yr]," \
             "product_annual_energy[kWh/yr],grid_emission_factor[kg-CO2/kWh],operating_years[yr]\n"
    bad = "refrigerator,2023,domestic,JP,x,420,273,0.457,12\n"
    (tmp_path / "p.csv").write_text(header + bad * (MAX_LISTED_PROBLEMS + 100), encoding="utf-8")
    result = CliRunner().invoke(main, ["calculate", str(tmp_path / "p.csv")])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"{MAX_LISTED_PROBLEMS + 100} problem(s) found" in lines[0]
    assert sum(line.startswith("  - ") for line in lines) == MAX_LISTED_PROBLEMS
    assert "… and 100 more, not listed; by kind:" in result.output
    assert "100 × " in result.output


def test_progress_prints_each_company_and_the_industry_and_writes_the_workbook(tmp_path):
    from openpyxl import load_workbook

    from helpers import PROGRESS

    out = tmp_path / "進捗.xlsx"
    result = CliRunner().invoke(main, ["progress", str(PROGRESS / "alpha.yaml"), str(PROGRESS / "beta.csv"),
                                       str(PROGRESS / "gamma.yaml"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Alpha: intensity" in result.output and "industry: totals" in result.output
    assert "業界 industry" in load_workbook(out).sheetnames


def test_progress_for_one_company_shows_no_other_company(tmp_path):
    from helpers import PROGRESS

    result = CliRunner().invoke(main, ["progress", str(PROGRESS / "alpha.yaml"), str(PROGRESS / "beta.csv"),
                                       "--company", "Beta"])
    assert result.exit_code == 0, result.output
    assert "Beta: intensity" in result.output and "Alpha" not in result.output


def test_progress_in_japanese_prints_japanese_titles_and_notes_and_the_same_figures(monkeypatch):
    import re

    from koken.base.i18n import language

    from helpers import ROOT

    files = [str(ROOT / "examples" / "progress" / n) for n in ("example_denki.yaml", "mihon_kogyo.csv")]
    monkeypatch.setenv("KOKEN_LANG", "en")  # --lang sets it for the workers; restored after the test
    output = {}
    for lang in ("ja", "en"):
        with language(None):  # --lang chooses the process's language: restored after the block
            result = CliRunner().invoke(main, ["progress", *files, "--lang", lang])
        assert result.exit_code == 0, result.output
        output[lang] = result.output
    ja, en = output["ja"], output["en"]
    assert "例示電機株式会社：エネルギー原単位とコミットメント目標" in ja and "業界：総量" in ja
    assert "- これらは各社の国内生産に伴う排出量（インベントリ）の数値です。" in ja
    assert "例示電機株式会社: intensity" in en and "- These are inventory figures" in en
    assert "inventory figures" not in ja and "industry: totals" not in ja
    figures = re.compile(r"[-+]?\d[\d,]*\.\d+ ?%?")
    assert figures.findall(ja.split("\n- ")[0]) == figures.findall(en.split("\n- ")[0])


def test_progress_refuses_bad_submissions_and_writes_nothing(tmp_path):
    from helpers import PROGRESS

    bad = tmp_path / "bad.yaml"
    text = (PROGRESS / "alpha.yaml").read_text(encoding="utf-8")
    bad.write_text(text.replace("kerosene: 100 kL", "kerosene: 100 万kL(原油換算)"), encoding="utf-8")
    out = tmp_path / "p.md"
    result = CliRunner().invoke(main, ["progress", str(bad), "-o", str(out)])
    assert result.exit_code != 0
    assert "nothing was written" in result.output and "amount of kerosene" in result.output
    assert not out.exists()


def test_template_progress_writes_the_submission_workbook(tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "提出.xlsx"
    result = CliRunner().invoke(main, ["template", "progress", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert load_workbook(out).sheetnames == ["提出 submission", "説明 instructions"]


def test_factors_lists_the_tables():
    result = run("factors")
    assert result.exit_code == 0, result.output
    for text in ("grid_emission_factor", "kg-CO2/kWh", "2013-2023", "fuel_emission_factor", "gwp100_ar5"):
        assert text in result.output


def test_factors_lists_every_japanese_year_with_its_source():
    result = run("factors", "grid_emission_factor", "--region", "JP")
    assert result.exit_code == 0, result.output
    assert "grid_emission_factor — entries: 24" in result.output
    for year in range(2013, 2024):
        assert f"│ JP     │ {year} │" in result.output
    # FY2023: the council's preliminary 0.421 (Argus Media), adjusted basis, the lookup value
    row = next(line for line in result.output.splitlines() if "│ 2023 │ 0.421 │" in line)
    assert "adjusted" in row and "preliminary" in row and "✓" in row and "ELCS preliminary data" in row
    assert "Argus Media" in result.output
    assert "https://www.fepc.or.jp/smp/environment/warming/kyouka/index.html" in result.output


def test_factors_filters_by_fiscal_year_and_region():
    result = run("factors", "grid_emission_factor", "--fiscal-year", "2023", "--region", "tw")
    assert result.exit_code == 0, result.output
    # 經濟部能源署 2023: 0.494 kg CO2e per kWh sold
    assert "entries: 1" in result.output and "0.494" in result.output and "sales" in result.output
    assert "businesstoday.com.tw" in result.output
    everything = run("factors", "--fiscal-year", "2013")   # every table with a fiscal year
    assert "grid_emission_factor, thermal_average_emission_factor" in everything.output
    none = run("factors", "grid_emission_factor", "--region", "ZZ")
    assert none.exit_code == 0 and "No factor-table entries match." in none.output


def test_factors_unknown_table_exits_1_naming_the_tables():
    result = CliRunner().invoke(main, ["factors", "grid"])
    assert result.exit_code == 1
    assert "no factor table 'grid'; the tables are: fuel_emission_factor, grid_emission_factor" in result.output


def test_report_writes_the_workbook_read_back_cell_by_cell(tmp_path):
    import openpyxl

    out = tmp_path / "report.xlsx"
    result = run("report", "--portfolio", EXAMPLE_PORTFOLIO, "--decimals", "1", "-o", out)
    assert result.exit_code == 0, result.output
    assert f"Report written to {out}" in result.output
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["削減貢献量 Avoided emissions", "カテゴリ11 Category 11", "明細 Detail", "開示事項 Disclosures"]
    table = wb.worksheets[0]
    assert [table.cell(row=r, column=1).value for r in range(6, 12)] == [
        "発電 / Power generation", "家電 / Home appliances", "産業用機器 / Industrial equipment", "IT製品 / IT products",
        "ソリューション / Solutions", "合計 / Total"]
    assert table["B11"].font.b and table["B11"].number_format == "#,##0.0"      # --decimals 1
    assert table.page_setup.orientation == "landscape" and table.print_title_rows == "$4:$5"
    detail = wb["明細 Detail"]
    assert detail.max_row == 2 + 40                                                # one row per product line
    headers = [" ".join(c.value.split("\n")[1:]) for c in detail[2]]   # English and unit
    fridge = next(r for r in detail.iter_rows(min_row=3, values_only=True)
                  if r[headers.index("Product line")] == "Refrigerator 401-450 L")
    # (420 - 273) kWh/yr × 0.421 kg-CO2/kWh × 4.5万台 = 2,784.915 t single-year; × 12 yr = 33,418.98 t lifetime
    assert fridge[headers.index("Result file")] == "portfolio_fy2023.csv"       # its name, never its folder
    assert fridge[headers.index("Units shipped as entered")] == "4.5 万台"
    assert fridge[headers.index("Single-year [t-CO2e]")] == pytest.approx(2784.915)
    assert fridge[headers.index("Single-year [万t-CO2e]")] == pytest.approx(0.2784915)
    assert fridge[headers.index("Lifetime [t-CO2e]")] == pytest.approx(33418.98)
    assert fridge[headers.index("Device ratio")] == pytest.approx(232 / 1110)
    assert "factor table grid_emission_factor [JP 2023]" in fridge[headers.index("Values not from the portfolio")]
    disclosures = list(wb["開示事項 Disclosures"].iter_rows(min_row=3, values_only=True))
    assert ("報告年度 / Reporting year", "2023") in disclosures
    files = [value for label, value in disclosures if label == "入力ファイル / Input file"]
    assert files == [f"portfolio_fy2023.csv: portfolio, calculated for this report (sha256:"
                     f"{hashlib.sha256(EXAMPLE_PORTFOLIO.read_bytes()).hexdigest()})"]           # no folder
    assert str(EXAMPLE_PORTFOLIO.parent) not in str(disclosures)


def test_report_with_device_shares_off_has_no_brackets_anywhere(tmp_path):
    import openpyxl

    out = tmp_path / "report.xlsx"
    result = run("report", "--portfolio", EXAMPLE_PORTFOLIO, "--device-shares", "off", "-o", out)
    assert result.exit_code == 0, result.output
    assert "device shares not reported" in result.output
    assert "Device shares (semiconductors and electronic components) are not reported in this report." in result.output
    assert "fy2023_report_implied" not in result.output
    table_lines = [line for line in result.output.splitlines() if line.startswith("│")]
    assert table_lines and not any("(" in line for line in table_lines)
    ws = openpyxl.load_workbook(out).worksheets[0]
    assert ws.max_column == 5
    assert not any("うちデバイス" in str(c.value) for row in ws.iter_rows() for c in row)


def test_report_names_the_shipped_ratios_on_screen_in_markdown_and_csv(tmp_path):
    result = run("report", "--portfolio", EXAMPLE_PORTFOLIO, "-o", tmp_path / "r.md")
    shipped = "Device shares use the ratios implied by the industry's FY2023 table (fy2023_report_implied"
    assert shipped in result.output and shipped in (tmp_path / "r.md").read_text(encoding="utf-8")
    run("report", "--portfolio", EXAMPLE_PORTFOLIO, "-o", tmp_path / "r.csv")
    csv = (tmp_path / "r.csv").read_text(encoding="utf-8-sig")
    assert csv.splitlines()[0].endswith(",device_shares")
    assert all(line.endswith("industry averages implied by the FY2023 table (shipped default)")
               for line in csv.splitlines()[1:])


def test_report_device_shares_off_with_a_ratio_file_is_a_usage_error(tmp_path):
    ratios = REPO / "attribution" / "ratios_fy2023_report.yaml"
    result = CliRunner().invoke(main, ["report", "--portfolio", str(EXAMPLE_PORTFOLIO), "--device-shares", "off",
                                       "--ratios", str(ratios), "-o", str(tmp_path / "r.xlsx")])
    assert result.exit_code == 2 and "--device-shares off" in result.output
    assert not (tmp_path / "r.xlsx").exists()


@pytest.fixture
def language_restored(monkeypatch):
    """--lang sets the language for the rest of the process (and KOKEN_LANG for its workers): undone after the test."""
    from koken.base.i18n import set_language

    monkeypatch.setenv("KOKEN_LANG", "en")
    yield
    set_language(None)


def test_report_speaks_the_chosen_language(tmp_path, language_restored):
    out = tmp_path / "r.md"
    result = run("report", "--portfolio", EXAMPLE_PORTFOLIO, "--lang", "ja", "-o", out)
    assert result.exit_code == 0, result.output
    assert "（万t-CO2e、括弧内はデバイス寄与分）" in result.output
    assert "- 単年度（当該年度に出荷した製品の1年間の稼働分）と稼働年数" in result.output
    assert f"報告書を {out} に書き出しました" in result.output
    assert "## 注記" in out.read_text(encoding="utf-8")


def test_trace_shows_terminal_escapes_from_the_portfolio_instead_of_obeying_them(tmp_path):
    p = tmp_path / "esc.csv"
    p.write_text("product_line,methodology,fiscal_year,market,units_shipped[台],baseline_annual_energy[kWh/yr],"
                 "product_annual_energy[kWh/yr],grid_emission_factor[kg-CO2/kWh],operating_years[yr]\n"
                 "\"A\x1b[2JB\",refrigerator,2023,domestic,1,420,273,0.421,12\n", encoding="utf-8")
    result = run("trace", p, "--row", "2")
    assert result.exit_code == 0 and "\x1b" not in result.output and "A\\x1b[2JB" in result.output


def test_emoji_codes_from_the_users_input_are_shown_as_written_not_as_emoji(tmp_path):
    """Found by the adversarial pass of issue 16: rich turned ``:x:`` in a methodology cell (echoed by the error)
    and ``:thumbs_up:`` in a claim statement into emoji on the console."""
    p = tmp_path / "emoji.csv"
    p.write_text("product_line,methodology,fiscal_year,market,units_shipped[台],baseline_annual_energy[kWh/yr],"
                 "product_annual_energy[kWh/yr],grid_emission_factor[kg-CO2/kWh],operating_years[yr]\n"
                 "Fridge,:x: fridge,2023,domestic,1,420,273,0.421,12\n", encoding="utf-8")
    result = run("calculate", p)
    assert result.exit_code == 1 and "unknown methodology ':x: fridge'" in result.output
    claimed = run("claim", REPO / "tests" / "data" / "claim" / "result_fy2023.json", "--gates",
                  REPO / "tests" / "data" / "claim" / "gates_met.yaml", "--statement", "Great products :thumbs_up:")
    assert "Great products :thumbs_up:" in claimed.output and "\U0001f44d" not in claimed.output


def test_allow_stale_factors_is_echoed_on_the_console():
    """Issue 17 §3 (leftover): `--allow-stale-factors` changed the figures without a word on the console (only the
    results said so); the run now says it was on, and a run without it says nothing of the kind."""
    stale = str(REPO / "tests" / "data" / "messy" / "stale_year.csv")
    done = CliRunner().invoke(main, ["calculate", stale, "--allow-stale-factors"])
    assert done.exit_code == 0, done.output
    assert "note: --allow-stale-factors is on: where a factor table has no value for a row's fiscal year, its latest " \
           "earlier year's value was used" in done.output
    plain = CliRunner().invoke(main, ["calculate", str(EXAMPLE_PORTFOLIO)])
    assert plain.exit_code == 0 and "--allow-stale-factors is on" not in plain.output


def test_temporary_files_left_by_a_killed_run_are_reported(tmp_path):
    """Issue 17 §3 (leftover): a run killed with kill -9 cannot remove its `.koken-*.tmp` file, and nothing said so.
    The next run writing into that folder names them (it does not remove them: another run may be writing them)."""
    import os
    import signal
    import time

    out = tmp_path / "r.json"
    big = tmp_path / "big.csv"  # long enough to be killed while the result is being written
    lines = EXAMPLE_PORTFOLIO.read_text(encoding="utf-8").splitlines()
    big.write_text("\n".join([lines[0]] + lines[1:] * 2000) + "\n", encoding="utf-8")
    run = subprocess.Popen([sys.executable, "-m", "koken.cli.commands", "calculate", str(big), "-o", str(out)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".koken-*.tmp")) and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    left = list(tmp_path.glob(".koken-*.tmp"))
    assert left and not out.exists()
    done = CliRunner().invoke(main, ["calculate", str(EXAMPLE_PORTFOLIO), "-o", str(out)])
    assert done.exit_code == 0, done.output
    assert f"note: {tmp_path} holds 1 temporary file(s) of koken, {left[0].name}: left by a run that was killed " \
           "(kill -9, a power loss), or being written by another run now" in done.output
    assert left[0].exists() and out.exists()


def test_a_fossil_lock_in_methodology_is_flagged_in_every_output(tmp_path):
    """The example portfolio has a gas combined-cycle line (fossil_lock_in: true): the console totals, the JSON
    result, the results workbook, the report (console, Markdown, workbook disclosures, HTML) all say so."""
    import openpyxl

    flag = "fossil lock-in: an efficiency gain on a fossil-fuel asset"
    out = tmp_path / "result.json"
    result = run("calculate", EXAMPLE_PORTFOLIO, "-o", out, "--lang", "en")
    assert result.exit_code == 0 and f"gas_combined_cycle: {flag}" in result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert [(f["methodology"], f["flag"]) for f in doc["legitimacy"]] == [("gas_combined_cycle", "fossil_lock_in")]
    assert doc["legitimacy"][0]["ja"].startswith("化石燃料設備の効率向上")
    book = tmp_path / "result.xlsx"
    assert run("calculate", EXAMPLE_PORTFOLIO, "-o", book, "--lang", "en").exit_code == 0
    cells = [str(c.value) for row in openpyxl.load_workbook(book)["来歴 provenance"].iter_rows() for c in row]
    assert any("legitimacy" in c for c in cells) and any(c.startswith("fossil lock-in") for c in cells)
    report = run("report", out, "--lang", "en")
    assert report.exit_code == 0 and f"gas_combined_cycle: {flag}" in report.output
    for suffix in (".md", ".html"):
        target = tmp_path / f"report{suffix}"
        assert run("report", out, "-o", target, "--lang", "en").exit_code == 0
        assert flag in target.read_text(encoding="utf-8"), suffix
    target = tmp_path / "report.xlsx"
    assert run("report", out, "-o", target, "--lang", "en").exit_code == 0
    sheet = next(ws for ws in openpyxl.load_workbook(target).worksheets if "Disclosures" in ws.title)
    assert any(flag in str(c.value) for row in sheet.iter_rows() for c in row)


def test_sensitivity_prints_the_tornado_sobol_and_not_varied_tables_in_english(tmp_path, language_restored):
    write_methodology(tmp_path, methodology_dict())  # avoided = (b − p) × f; example b 400, p 300 kWh/yr, f 0.5
    chart = tmp_path / "tornado.svg"
    result = run("sensitivity", "toy", "--methodologies", tmp_path, "--set", "baseline_energy=380..440",
                 "--samples", "64", "--seed", "5", "--chart", chart, "--lang", "en")
    assert result.exit_code == 0, result.output
    out = result.output
    # b: (380 − 300) × 0.5 = 40, (440 − 300) × 0.5 = 70 → swing 30; f over its declared [0, 2]: 0 and 200 → 200
    assert "result at low [kg-CO2e/台/yr]" in out and "swing [kg-CO2e/台/yr]" in out
    assert out.index("grid_emission_factor") < out.index("baseline_energy")
    assert "declared range" in out and "given (--set)" in out and "seed 5" in out
    assert "Not varied" in out and "product_energy" in out and "no range" in out
    assert "not at the favourable end" in out
    svg = chart.read_text(encoding="utf-8")
    assert svg.startswith("<?xml") and "Avoided emissions per unit and year [kg-CO2e/台/yr]" in svg


def test_sensitivity_speaks_japanese_and_gives_the_same_figures_as_json(tmp_path, language_restored):
    write_methodology(tmp_path, methodology_dict())
    ja = run("sensitivity", "toy", "--methodologies", tmp_path, "--samples", "0", "--lang", "ja")
    assert ja.exit_code == 0, ja.output
    assert "一つずつ変化させた感度" in ja.output and "振れ幅 [kg-CO2e/台/yr]" in ja.output
    assert "方法論の範囲（range）" in ja.output and "変化させないパラメータ" in ja.output
    doc = json.loads(run("sensitivity", "toy", "--methodologies", tmp_path, "--samples", "0", "--format", "json",
                         "--lang", "en").output)
    # f over [0, 2] kg-CO2/kWh: (400 − 300) × 0 = 0 and × 2 = 200 kg-CO2e/台/yr
    assert doc["tornado"] == [{"parameter": "grid_emission_factor", "unit": "kg-CO2/kWh", "low": 0.0, "high": 2.0,
                               "bound_source": "declared_range", "result_at_low": 0.0, "result_at_high": 200.0,
                               "swing": 200.0}]
    assert doc["central_result"] == 50.0 and doc["sobol"] is None
    assert {r["parameter"] for r in doc["not_varied"]} == {"baseline_energy", "product_energy", "operating_years"}


def test_sensitivity_lists_every_bad_setting_and_writes_no_chart(tmp_path):
    write_methodology(tmp_path, methodology_dict())
    chart = tmp_path / "t.svg"
    result = CliRunner().invoke(main, ["sensitivity", "toy", "--methodologies", str(tmp_path), "--set", "nope=1..2",
                                       "--set", "baseline_energy=oops", "--chart", str(chart), "--lang", "en"])
    assert result.exit_code == 1 and "2 problem(s) found" in result.output and not chart.exists()


def test_sensitivity_warns_when_the_example_sits_at_the_favourable_end_and_csv_names_units(tmp_path, language_restored):
    write_methodology(tmp_path, methodology_dict())
    # f ∈ [0.1, 0.52] around the example's 0.5: results 10 and 52 kg-CO2e/台/yr, 50 ≥ 10 + 0.9 × 42 = 47.8
    result = run("sensitivity", "toy", "--methodologies", tmp_path, "--set", "grid_emission_factor=0.1..0.52",
                 "--samples", "0", "--format", "csv", "--lang", "en")
    assert result.exit_code == 0, result.output
    header = result.stdout.splitlines()[0].split(",")
    assert header[:6] == ["parameter", "unit", "central", "low", "high", "bound_source"]
    assert "result_at_low[kg-CO2e/台/yr]" in header and "swing[kg-CO2e/台/yr]" in header
    assert "sits at the favourable end of its range [10, 52] kg-CO2e/台/yr" in result.stderr
    assert "WBCSD" in result.stderr and "GHG Protocol" in result.stderr


def test_calculate_with_draws_prints_the_totals_range_and_records_the_seed(tmp_path):
    out = tmp_path / "r.json"
    result = run("calculate", REPO / "examples" / "portfolio_uncertain.csv", "--draws", "200", "--seed", "5",
                    "-o", out, "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "Uncertainty of the totals (t-CO2e): 200 draws, seed 5" in result.output and "P95" in result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["uncertainty"]["seed"] == 5 and document["options"]["uncertainty"]["draws"] == 200
    assert {t["figure"] for t in document["uncertainty"]["totals"]} == {"single_year[t-CO2e]", "lifetime[t-CO2e]"}
    refused = run("calculate", REPO / "examples" / "portfolio_uncertain.csv", "--seed", "5", "--lang", "en")
    assert refused.exit_code == 2 and "--seed and --samples go with --draws N" in refused.output
