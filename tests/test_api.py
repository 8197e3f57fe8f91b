"""The notebook contract: ``import koken`` and public names only — a DataFrame in, the table, totals, a trace, a
file and a report out (issue 11).

Expected figures are the README's hand calculation: (420 − 273) kWh/yr × 0.421 kg-CO2/kWh = 61.887 kg-CO2e per
unit and year; × 45,000 units = 2,784.915 t-CO2e single-year; × 12 years = 33,418.98 t-CO2e lifetime.
"""

import importlib
import json
import pkgutil
import types

import pandas as pd
import pytest

import koken

SINGLE_YEAR_T = (420 - 273) * 0.421 * 45_000 / 1000  # kg → t
LIFETIME_T = SINGLE_YEAR_T * 12


def readme_row(**changes) -> pd.DataFrame:
    row = {"product_line": "Refrigerator 401-450 L", "methodology": "refrigerator", "fiscal_year": 2023,
           "market": "domestic", "units_shipped[万台]": 4.5, "baseline_annual_energy[kWh/yr]": 420,
           "product_annual_energy[kWh/yr]": 273, "grid_emission_factor[kg-CO2/kWh]": 0.421, "operating_years[yr]": 12}
    row.update(changes)
    return pd.DataFrame([row])


def test_a_dataframe_gives_the_readme_row():
    calc = koken.calculate(readme_row())
    row = calc.table.iloc[0]
    assert row["avoided_per_unit_year[kg-CO2e/functional_unit/yr]"] == pytest.approx(61.887)
    assert row["single_year[t-CO2e]"] == pytest.approx(SINGLE_YEAR_T)
    assert row["lifetime[t-CO2e]"] == pytest.approx(LIFETIME_T)
    assert row["units_shipped"] == 45_000 and row["functional_unit"] == "台"
    assert row["units_shipped_as_entered"] == "4.5 万台"


def test_units_can_be_given_apart_from_the_column_names_and_cells_may_carry_units():
    frame = pd.DataFrame({"methodology": ["refrigerator", "refrigerator"], "fiscal_year": [2023, 2023],
                          "market": ["国内", "domestic"], "出荷台数": ["4.5 万台", 45_000],
                          "baseline_annual_energy": [420, 420], "product_annual_energy": ["273 kWh/yr", 273],
                          "grid_emission_factor": [0.421, 0.421], "operating_years": [12, 12]})
    units = {"出荷台数": "台", "baseline_annual_energy": "kWh/yr", "product_annual_energy": "kWh/yr",
             "grid_emission_factor": "kg-CO2/kWh", "operating_years": "yr"}
    table = koken.calculate(frame, units=units).table
    assert table["single_year[t-CO2e]"].tolist() == pytest.approx([SINGLE_YEAR_T, SINGLE_YEAR_T])


def test_dataframe_problems_are_all_reported_by_index_and_column():
    frame = pd.concat([readme_row(), readme_row(market="abroad", **{"operating_years[yr]": "twelve"})],
                      ignore_index=True)
    frame.index = [10, 11]
    with pytest.raises(koken.KokenErrors) as caught:
        koken.calculate(frame)
    where = {(e.location.file, e.location.row, e.location.column) for e in caught.value.errors}
    assert ("<DataFrame>", 11, "market") in where and ("<DataFrame>", 11, "operating_years[yr]") in where
    assert len(caught.value.errors) == 2


def test_a_number_column_without_a_unit_is_refused_not_guessed():
    frame = readme_row().rename(columns={"operating_years[yr]": "operating_years"})
    with pytest.raises(koken.KokenErrors, match="operating_years.*has no unit"):
        koken.calculate(frame)


def test_a_unit_both_in_the_name_and_in_units_is_refused():
    with pytest.raises(koken.KokenErrors, match="both in the column name and in units="):
        koken.calculate(readme_row(), units={"operating_years[yr]": "yr"})


def test_totals_keep_timeframes_and_markets_apart():
    frame = pd.concat([readme_row(), readme_row(market="overseas", region="US",
                                                **{"grid_emission_factor[kg-CO2/kWh]": 0.39})], ignore_index=True)
    totals = koken.calculate(frame).totals.summarise(["fiscal_year", "market"]).set_index("market")
    assert totals.loc["domestic", "single_year[t-CO2e]"] == pytest.approx(SINGLE_YEAR_T)
    assert totals.loc["overseas", "single_year[t-CO2e]"] == pytest.approx((420 - 273) * 0.39 * 45_000 / 1000)
    assert totals.loc["domestic", "lifetime[万t-CO2e]"] == pytest.approx(LIFETIME_T / 10_000)


def test_a_trace_recomputes_the_row_with_its_origins():
    calc = koken.calculate(readme_row())
    trace = calc.trace(0)
    assert isinstance(trace, koken.TraceNode)
    figures = {child.name: child.value for child in trace.children}
    assert figures["single_year"] == pytest.approx(SINGLE_YEAR_T) and figures["lifetime"] == pytest.approx(LIFETIME_T)
    with pytest.raises(koken.KokenErrors, match="row 5 is not a product line"):
        calc.trace(5)


def test_to_file_writes_what_the_command_line_writes(tmp_path):
    from click.testing import CliRunner

    from koken.cli import main

    from conftest import EXAMPLE_PORTFOLIO

    koken.calculate(EXAMPLE_PORTFOLIO).to_file(tmp_path / "api.json")
    assert CliRunner().invoke(main, ["calculate", str(EXAMPLE_PORTFOLIO), "-o", str(tmp_path / "cli.json")]).exit_code == 0
    api, cli = (json.loads((tmp_path / f"{n}.json").read_text(encoding="utf-8")) for n in ("api", "cli"))
    api.pop("created"), cli.pop("created")
    assert api == cli


def test_run_writes_a_result_file_and_returns_the_totals(tmp_path):
    frame = pd.concat([readme_row()] * 3, ignore_index=True)
    result = koken.run(frame, output=tmp_path / "r.parquet", partition_rows=100)
    assert isinstance(result, koken.RunResult) and result.rows == 3
    assert pd.read_parquet(tmp_path / "r.parquet")["single_year[t-CO2e]"].sum() == pytest.approx(3 * SINGLE_YEAR_T)
    by_year = result.totals.summarise(["fiscal_year"])
    assert by_year["single_year[t-CO2e]"].iloc[0] == pytest.approx(3 * SINGLE_YEAR_T)


def test_report_from_a_dataframe_writes_the_industry_table(tmp_path):
    report = koken.report(portfolio=readme_row(), output=tmp_path / "report.md")
    assert isinstance(report, koken.Report) and report.fiscal_year == 2023
    home = report.table.set_index(["category", "market"]).loc[("home_appliances", "domestic")]
    assert home["single_year[t-CO2e]"] == pytest.approx(SINGLE_YEAR_T)
    assert "削減貢献量" in (tmp_path / "report.md").read_text(encoding="utf-8")


def test_one_product_line_from_a_methodology():
    fridge = koken.load_library()["refrigerator"]
    line = fridge.evaluate_one({"baseline_annual_energy": "420 kWh/yr", "product_annual_energy": "273 kWh/yr",
                                "grid_emission_factor": "0.421 kg-CO2/kWh", "operating_years": "12 yr"},
                               units_shipped="4.5 万台")
    assert isinstance(line, koken.LineResult)
    assert line.single_year.magnitude == pytest.approx(SINGLE_YEAR_T)
    assert line.lifetime.magnitude == pytest.approx(LIFETIME_T)


def test_one_product_line_takes_the_grid_factor_from_its_table():
    fridge = koken.load_library()["refrigerator"]
    line = fridge.evaluate_one({"baseline_annual_energy": "420 kWh/yr", "product_annual_energy": "273 kWh/yr",
                                "operating_years": "12 yr"}, region="JP", fiscal_year=2023)
    # factors/grid_emission_factor.yaml: JP FY2023 0.421 kg-CO2/kWh
    assert line.avoided_per_unit_year.magnitude == pytest.approx(147 * 0.421)
    assert line.factors_from_tables["grid_emission_factor"] == \
        "grid_emission_factor[JP 2023] (source argus_fy2023; adjusted, preliminary)"
    assert line.single_year is None  # no units shipped: per-unit figures only


def test_one_product_line_lists_every_problem():
    fridge = koken.load_library()["refrigerator"]
    with pytest.raises(koken.KokenErrors) as caught:
        fridge.evaluate_one({"baseline_annual_energy": "420", "no_such_input": "1 kWh"})
    text = str(caught.value)
    assert "no unit" in text and "'no_such_input' is not a parameter" in text


def test_every_public_name_resolves_and_no_submodule_shadows_one():
    for info in pkgutil.walk_packages(koken.__path__, "koken."):
        importlib.import_module(info.name)  # importing a submodule sets an attribute on the package
    importlib.reload(koken)
    for name in koken.__all__:
        value = getattr(koken, name)
        assert not isinstance(value, types.ModuleType), f"koken.{name} is a module"
    assert callable(koken.calculate) and callable(koken.run) and callable(koken.report)


def test_problems_are_a_sequence_of_located_errors():
    with pytest.raises(koken.KokenErrors) as caught:
        koken.calculate(readme_row(market="abroad"))
    errs = caught.value
    assert len(errs) == 1 and errs[0].location.column == "market" and list(errs) == errs.errors


def test_evaluation_problems_name_the_column_as_the_frame_writes_it():
    frame = readme_row(**{"operating_years[yr]": 50}).rename(columns={"units_shipped[万台]": "出荷台数[万台]"})
    frame["出荷台数[万台]"] = -1
    with pytest.raises(koken.KokenErrors) as caught:
        koken.calculate(frame)
    assert {e.location.column for e in caught.value} == {"出荷台数[万台]", "operating_years[yr]"}


def test_a_trace_row_must_be_an_integer():
    calc = koken.calculate(readme_row())
    with pytest.raises(koken.KokenError, match="row must be an integer"):
        calc.trace("0")


def test_one_product_line_problems_name_the_call_not_the_methodology_file():
    fridge = koken.load_library()["refrigerator"]
    with pytest.raises(koken.KokenErrors) as caught:
        fridge.evaluate_one({"baseline_annual_energy": "420"})
    assert caught.value[0].location.file == "evaluate_one(refrigerator)"


def test_decimal_cells_read_like_their_digits_and_unreadable_cells_name_their_type():
    frame = readme_row()
    frame["units_shipped[万台]"] = pd.Series([__import__("decimal").Decimal("4.5")], dtype=object)
    assert koken.calculate(frame).table["single_year[t-CO2e]"].iloc[0] == pytest.approx(SINGLE_YEAR_T)
    frame["units_shipped[万台]"] = pd.Series([[4.5]], dtype=object)
    with pytest.raises(koken.KokenErrors, match="a cell holds a list"):
        koken.calculate(frame)


def test_outputs_never_overwrite_an_input(tmp_path):
    from conftest import EXAMPLE_PORTFOLIO

    portfolio = tmp_path / "p.csv"
    portfolio.write_bytes(EXAMPLE_PORTFOLIO.read_bytes())
    with pytest.raises(koken.KokenError, match="would overwrite an input"):
        koken.calculate(portfolio).to_file(portfolio)
    with pytest.raises(koken.KokenError, match="would overwrite an input"):
        koken.report(portfolio=portfolio, output=portfolio.with_suffix(".csv"))
    assert portfolio.read_bytes() == EXAMPLE_PORTFOLIO.read_bytes()


def test_a_library_argument_may_be_a_folder_and_nothing_else_odd():
    from conftest import REPO

    calc = koken.calculate(readme_row(), REPO / "methodologies")  # bundled + the same folder: same figures
    assert calc.table["single_year[t-CO2e]"].iloc[0] == pytest.approx(SINGLE_YEAR_T)
    with pytest.raises(koken.KokenError, match="library must be a koken.Library"):
        koken.calculate(readme_row(), 42)


def test_one_product_line_refuses_a_share_as_shipments_and_a_nan_quantity():
    fridge = koken.load_library()["refrigerator"]
    given = {"baseline_annual_energy": "420 kWh/yr", "product_annual_energy": "273 kWh/yr", "operating_years": "12 yr"}
    with pytest.raises(koken.KokenErrors, match="not a count of things"):
        fridge.evaluate_one(given, units_shipped="50 %", region="JP", fiscal_year=2023)
    nan = koken.registry().Quantity(float("nan"), fridge.parameters["grid_emission_factor"].unit)
    with pytest.raises(koken.KokenErrors, match="not a finite number"):
        fridge.evaluate_one({**given, "grid_emission_factor": nan})
    with pytest.raises(koken.KokenErrors, match="grid_emission_factor"):  # wrong dimension: located, no traceback
        fridge.evaluate_one({**given, "grid_emission_factor": "0.421 kg/kWh"}, units_shipped="1 台")


def test_progress_from_python_gives_the_figures_as_dataframes(tmp_path):
    from helpers import PROGRESS

    p = koken.progress([PROGRESS / "alpha.yaml", PROGRESS / "beta.csv"], output=tmp_path / "p.json")
    alpha = p.companies[0].years.set_index("fiscal_year")
    # FY2021: (9,500 MWh × 9.76 GJ/MWh + 80 kL × 36.7 GJ/kL) × 0.0258 kL/GJ
    assert alpha.loc[2021, "energy[原油換算kL]"] == pytest.approx((9_500 * 9.76 + 80 * 36.7) * 0.0258)
    assert p.rollup is not None and list(p.rollup.totals["fiscal_year"]) == [2019, 2020, 2021, 2022]
    assert "Industry totals" in p.to_markdown() and (tmp_path / "p.json").exists()


def test_progress_collects_the_problems_of_every_submission(tmp_path):
    a = tmp_path / "a.yaml"
    a.write_text("format: koken-progress/1\ncompany: A\n", encoding="utf-8")
    b = tmp_path / "b.csv"
    b.write_text("区分,項目,値\n燃料,x,1\n", encoding="utf-8")
    with pytest.raises(koken.KokenErrors) as err:
        koken.progress([a, b])
    files = {e.location.file for e in err.value}
    assert files == {str(a), str(b)}


def test_factor_tables_and_entries_as_dataframes():
    tables = koken.factor_tables()
    assert "grid_emission_factor" in set(tables["table"])
    jp = koken.factor_entries("grid_emission_factor", region="JP")
    lookup = jp[jp["default"]].set_index("fiscal_year")
    assert list(lookup.index) == list(range(2013, 2024))   # FY2013 to the latest published, one value each
    # 電気事業連合会 FY2013 0.570; 協議会 FY2023 preliminary 0.421 (kg-CO2/kWh)
    assert lookup.loc[2013, "value"] == 0.570 and lookup.loc[2023, ["value", "status"]].tolist() == [0.421, "preliminary"]
    assert (jp["source_title"] != "").all() and (jp["url"] != "").all()
