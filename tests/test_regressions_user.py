"""Failing inputs found by a new-user walkthrough, kept as tests (each was a bug before its fix)."""

import json
import os
import stat

import pytest
from click.testing import CliRunner

from koken.base.errors import KokenErrors
from koken.base.units import conversion_factor, parse_unit
from koken.calculation import calculate
from koken.cli.commands import main
from koken.portfolio.build import read_portfolio

from helpers import methodology_dict, write_methodology

TRANSFORMER_HEADER = ["product_line", "methodology", "fiscal_year", "market", "units_shipped[台]",
                      "baseline_no_load_loss[W]", "baseline_load_loss[W]", "baseline_load_factor[%]",
                      "product_no_load_loss[W]", "product_load_loss[W]", "product_load_factor[%]",
                      "grid_emission_factor[kg-CO2/kWh]", "operating_years[yr]"]


def test_excel_percent_formatted_cells_are_read_as_the_percent_they_show(tmp_path, library):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(TRANSFORMER_HEADER)
    ws.append(["T", "transformer", 2024, "domestic", 95, 1900, 10000, 0.5, 1300, 8500, 0.5, 0.421, 25])
    ws["H2"].number_format = "0%"
    ws["K2"].number_format = "0%"
    path = tmp_path / "pct.xlsx"
    wb.save(path)
    single = calculate(read_portfolio(path, library), library).table["single_year[t-CO2e]"].iloc[0]
    # baseline 1,900 + 10,000 × 0.5² = 4,400 W; product 1,300 + 8,500 × 0.25 = 3,425 W; 975 W × 8,760 h
    # = 8,541 kWh/yr × 0.421 = 3,595.761 kg/台/yr × 95 台 = 341.597295 t
    assert single == pytest.approx(341.597295)


@pytest.mark.parametrize("body", [
    "",
    ",,,,\n,,,,\n",
    "units,,,台\n",
])
def test_a_file_without_product_lines_is_a_clear_error_not_a_traceback(tmp_path, library, body):
    path = tmp_path / "empty.csv"
    path.write_text("methodology,fiscal_year,market,units_shipped\n" + body, encoding="utf-8")
    with pytest.raises(KokenErrors, match="no product lines"):
        read_portfolio(path, library)


def test_output_files_get_the_usual_permissions(tmp_path):
    from conftest import EXAMPLE_PORTFOLIO

    out = tmp_path / "r.csv"
    assert CliRunner().invoke(main, ["calculate", str(EXAMPLE_PORTFOLIO), "-o", str(out)]).exit_code == 0
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask


def test_every_problem_is_reported_in_one_run_unit_range_and_sign(tmp_path, library):
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


def test_multiplier_binds_to_the_unit_after_it():
    # t-CO2 per 1,000 kWh = kg-CO2 per kWh
    assert conversion_factor(parse_unit("t-CO2/千kWh"), parse_unit("kg-CO2/kWh")) == pytest.approx(1.0)
    assert conversion_factor(parse_unit("t-CO2/万kWh"), parse_unit("kg-CO2/kWh")) == pytest.approx(0.1)


def test_japanese_year_unit():
    assert conversion_factor(parse_unit("kWh/年"), parse_unit("kWh/yr")) == 1.0


def test_bad_header_unit_is_one_error_per_column_not_missing_value_errors(tmp_path, library):
    path = tmp_path / "h.csv"
    path.write_text("methodology,fiscal_year,market,units_shipped[台],baseline_annual_energy[kWh/yr],"
                    "product_annual_energy[kWh/yr],grid_emission_factor[kg/kWh],operating_years[yr]\n"
                    "refrigerator,2024,domestic,10,420,273,0.421,12\n"
                    "refrigerator,2024,domestic,10,420,273,0.421,12\n", encoding="utf-8")
    with pytest.raises(KokenErrors) as info:
        calculate(read_portfolio(path, library, collect=True), library)
    (err,) = info.value.errors
    assert "grid_emission_factor" in str(err) and "is expected" in str(err)


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


def test_fiscal_years_are_totalled_apart(tmp_path):
    path = tmp_path / "years.csv"
    path.write_text("methodology,fiscal_year,market,units_shipped[台],baseline_annual_energy[kWh/yr],"
                    "product_annual_energy[kWh/yr],grid_emission_factor[kg-CO2/kWh],operating_years[yr]\n"
                    "refrigerator,2023,domestic,1000,420,273,0.421,12\n"
                    "refrigerator,2024,domestic,1000,420,273,0.421,12\n", encoding="utf-8")
    out = tmp_path / "r.json"
    result = CliRunner().invoke(main, ["calculate", str(path), "-o", str(out)])
    assert result.exit_code == 0
    assert "FY2023 total single-year: 61.9 t-CO2e" in result.output  # 147 × 0.421 × 1,000 / 1,000
    assert "FY2024 total single-year: 61.9 t-CO2e" in result.output
    totals = json.loads(out.read_text(encoding="utf-8"))["totals_by_market"]
    assert [t["fiscal_year"] for t in totals] == [2023, 2024]


def test_utf16_csv_and_unknown_encoding(tmp_path, library):
    text = ("product_line,methodology,fiscal_year,market,units_shipped[台],baseline_annual_energy[kWh/yr],"
            "product_annual_energy[kWh/yr],grid_emission_factor[kg-CO2/kWh],operating_years[yr]\n"
            "冷蔵庫（米国）,refrigerator,2023,overseas,1000,420,273,0.421,12\n")
    path = tmp_path / "u16.csv"
    path.write_bytes(text.encode("utf-16"))
    portfolio = read_portfolio(path, library)
    assert portfolio.encoding == "utf-16"
    assert portfolio.product_line[0] == "冷蔵庫（米国）"  # labels are kept as written
    with pytest.raises(KokenErrors, match="unknown encoding 'foo'"):
        read_portfolio(path, library, encoding="foo")


def test_validate_does_not_say_nothing_was_written(tmp_path):
    data = methodology_dict()
    data["formulas"][0]["expression"] = "2^3"
    write_methodology(tmp_path, data)
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 1 and "nothing was written" not in result.output


def test_verify_accepts_a_result_koken_calculate_just_wrote(tmp_path):
    """New-user pass 3: `koken calculate -o result.json` then `koken verify` reported every row as differing,
    because verify recomputed without the device shares that calculate adds."""
    from click.testing import CliRunner

    from koken.cli.commands import main

    out = tmp_path / "result.json"
    runner = CliRunner()
    assert runner.invoke(main, ["calculate", "examples/portfolio_fy2023.csv", "-o", str(out)]).exit_code == 0
    checked = runner.invoke(main, ["verify", str(out), "examples/portfolio_fy2023.csv"])
    assert checked.exit_code == 0, checked.output
    assert "The result stands" in checked.output


def test_parquet_from_a_filtered_dataframe_ignores_the_pandas_index(tmp_path):
    """New-user pass 3: df[df.market == 'domestic'].to_parquet(path) adds __index_level_0__, which was refused
    as an unknown column."""
    import pandas as pd

    from koken.calculation import calculate

    from helpers import load_folder

    frame = pd.read_csv("examples/portfolio_fy2023.csv", dtype=str, keep_default_na=False)
    frame[frame.market == "domestic"].to_parquet(tmp_path / "dom.parquet")
    library, _ = load_folder()
    table = calculate(read_portfolio(tmp_path / "dom.parquet", library), library).table
    assert len(table) == 30 and set(table["market"]) == {"domestic"}


def test_an_undecodable_csv_names_the_byte(tmp_path):
    """New-user pass 3: one bad byte deep in a CSV gave no offset."""
    data = open("examples/portfolio_fy2023.csv", "rb").read()[:3000] + b"\x80\xff\xfe\n"
    (tmp_path / "bad.csv").write_bytes(data)
    with pytest.raises(KokenErrors) as err:
        read_portfolio(tmp_path / "bad.csv", {})
    assert "not utf-8 at byte 3,000" in str(err.value)


@pytest.mark.parametrize("args, says", [
    (["--engine", "dask", "--scheduler", "tcp://127.0.0.1:9", "--workers", "2"], "--workers sizes a local cluster"),
    (["--encoding", "cp932", "--sheet", "x"], "--sheet applies to workbooks"),
])
def test_options_that_do_not_apply_are_usage_errors(args, says):
    """New-user pass 3: --workers with --scheduler, --sheet on a CSV were silently ignored."""
    from click.testing import CliRunner

    from koken.cli.commands import main

    result = CliRunner().invoke(main, ["calculate", "examples/portfolio_fy2023.csv", *args])
    assert result.exit_code == 2 and says in result.output


def test_a_problem_without_a_place_has_no_placeholder():
    """New-user pass 3: Dask errors began with '<input>:'."""
    from koken.base.errors import KokenError

    assert str(KokenError("cannot reach the Dask scheduler")) == "cannot reach the Dask scheduler"


def test_thousands_of_problems_are_listed_up_to_a_limit_then_counted(tmp_path):
    """New-user pass 3: 30,000 bad rows printed 30,000 lines."""
    from click.testing import CliRunner

    from koken.cli import main
    from koken.cli.render import MAX_LISTED_PROBLEMS

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


def test_report_explains_that_it_reads_json_results(tmp_path):
    """New-user pass 3: `koken report results.parquet` failed with a UTF-8 decoding error."""
    from koken.base.errors import KokenErrors as Errors
    from koken.reporting.action_plan import load_result_documents

    (tmp_path / "r.parquet").write_bytes(b"PAR1")
    with pytest.raises(Errors) as err:
        load_result_documents([tmp_path / "r.parquet"])
    assert "report reads the JSON result" in str(err.value) and "--portfolio" in str(err.value)
