"""koken.scale.sinks: result files. An XLSX workbook (a sheet per methodology with its inputs, figures with units,
origins, the company's own columns; totals; provenance) and CSV rows that carry their inputs."""

from __future__ import annotations

import csv

import openpyxl
import pytest

from koken.api import calculate

HEADER = ("product_line,methodology,fiscal_year,market,region,units_shipped,baseline_annual_energy[kWh/yr],"
          "product_annual_energy[kWh/yr],grid_emission_factor[kg-CO2/kWh],operating_years[yr],備考\n")
ROWS = ("冷蔵庫 A,refrigerator,2023,domestic,JP,4.5 万台,0.42 MWh/yr,273,,12,=1+1\n"
        "冷蔵庫 B,refrigerator,2023,overseas,US,12000 台,600,450,0.39,12,\n")


@pytest.fixture
def calc(tmp_path):
    p = tmp_path / "p.csv"
    p.write_text(HEADER + ROWS, encoding="utf-8")
    return calculate(p)


def test_xlsx_results_have_a_sheet_per_methodology_totals_and_provenance(tmp_path, calc):
    path = calc.to_file(tmp_path / "r.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["refrigerator", "合計 totals", "来歴 provenance"]
    ws = book["refrigerator"]
    header = [c.value for c in ws[1]]
    row = dict(zip(header, [c.value for c in ws[2]]))
    assert row["単年度\nsingle_year[t-CO2e]"] == pytest.approx(61.887 * 45_000 / 1000)  # (420−273)×0.421×45,000
    assert row["入力（換算後）\nbaseline_annual_energy[kWh/yr]"] == pytest.approx(420)  # as used, declared unit
    assert row["入力のまま\nbaseline_annual_energy (as entered)"] == "0.42 MWh/yr"  # as the company wrote it
    assert row["入力（換算後）\ngrid_emission_factor[kg-CO2/kWh]"] == pytest.approx(0.421)
    assert row["入力のまま\ngrid_emission_factor (as entered)"] is None  # from the table, named in the origins
    assert row["市場\nmarket"] == "Domestic"  # a workbook names the market (国内 in Japanese), CSV and JSON keep ids
    assert "grid_emission_factor=grid_emission_factor[JP 2023]" in row["係数表の値\nfactors_from_tables"]
    assert row["出荷台数（入力のまま）\nunits_shipped_as_entered"] == "4.5 万台"
    assert row["備考"] == "'=1+1"  # a formula in a text cell is written as text
    totals = [[c.value for c in r] for r in book["合計 totals"].iter_rows(max_row=3)]
    assert totals[0][:4] == ["年度\nfiscal_year", "分野\ncategory", "方法論\nmethodology", "市場\nmarket"]
    provenance = {r[0].value: r[1].value for r in book["来歴 provenance"].iter_rows(min_row=2)}
    assert provenance["input.sha256"] == calc.portfolio.sha256
    assert provenance["methodologies.refrigerator.version"] == "2.0.0"


def test_csv_results_carry_each_rows_inputs(tmp_path, calc):
    path = calc.to_file(tmp_path / "r.csv")
    rows = list(csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines()))
    # every input of the row, the defaults too (no fuel burnt on site: 0, the home_appliances category's default)
    assert rows[1]["inputs"] == ("baseline_annual_energy=600 kWh/yr; product_annual_energy=450 kWh/yr; "
                                 "baseline_fuel_emissions=0 kg-CO2/yr; product_fuel_emissions=0 kg-CO2/yr; "
                                 "grid_emission_factor=0.39 kg-CO2/kWh; operating_years=12 yr")
    assert rows[0]["inputs"].startswith("baseline_annual_energy=420 kWh/yr;")  # 0.42 MWh/yr in the declared unit
    assert rows[0]["備考"] == "'=1+1"


def test_xlsx_results_keep_each_methodologys_columns_whatever_the_partitioning(tmp_path):
    """A column of the company's own filled only in a later partition, and the as-entered inputs, were dropped
    when the first partition left them empty."""
    from koken.api import run

    lines = "".join(f"F{i},refrigerator,2023,domestic,JP,1 台,420,273,,12,{'late' if i >= 150 else ''}\n"
                    for i in range(200))
    (tmp_path / "p.csv").write_text(HEADER + lines, encoding="utf-8")
    run(tmp_path / "p.csv", output=tmp_path / "r.xlsx", partition_rows=100)
    ws = openpyxl.load_workbook(tmp_path / "r.xlsx")["refrigerator"]
    header = [c.value for c in ws[1]]
    assert "備考" in header and ws.cell(row=201, column=header.index("備考") + 1).value == "late"


def test_xlsx_results_escape_control_characters_and_refuse_texts_longer_than_a_cell(tmp_path):
    from koken.base.errors import KokenError

    (tmp_path / "p.csv").write_text(HEADER + "Fridge\x01A,refrigerator,2023,domestic,JP,1 台,420,273,,12,"
                                    + "x" * 40_000 + "\n", encoding="utf-8")
    calc = calculate(tmp_path / "p.csv")
    with pytest.raises(KokenError, match="longer than a worksheet cell holds"):
        calc.to_file(tmp_path / "r.xlsx")
    assert not (tmp_path / "r.xlsx").exists()
    (tmp_path / "q.csv").write_text(HEADER + "Fridge\x01A,refrigerator,2023,domestic,JP,1 台,420,273,,12,\n",
                                    encoding="utf-8")
    ws = openpyxl.load_workbook(calculate(tmp_path / "q.csv").to_file(tmp_path / "q.xlsx"))["refrigerator"]
    header = [c.value for c in ws[1]]
    assert ws.cell(row=2, column=header.index("製品名\nproduct_line") + 1).value == "Fridge\\x01A"


def test_no_figure_of_the_results_workbook_is_labelled_an_input(tmp_path):
    """The new-user test found 入力（換算後） ("input, converted") above the scenario, category 11 and percentile
    columns: a figure is labelled as what it is."""
    import openpyxl

    import koken

    from conftest import REPO

    path = koken.calculate(REPO / "examples" / "portfolio_fy2023.csv").to_file(tmp_path / "r.xlsx")
    ws = openpyxl.load_workbook(path, read_only=True)["refrigerator"]
    headers = [c.value for c in next(ws.iter_rows(min_row=1, max_row=1))]
    from koken.base.vocabulary import (
        AVOIDED_SHARE_COLUMN,
        BASELINE_COLUMN,
        BASELINE_LIFETIME_COLUMN,
        CATEGORY11_COLUMN,
        PRODUCT_COLUMN,
    )

    outputs = {BASELINE_COLUMN, PRODUCT_COLUMN, AVOIDED_SHARE_COLUMN, BASELINE_LIFETIME_COLUMN, CATEGORY11_COLUMN,
               "single_year[t-CO2e]", "lifetime[t-CO2e]"}
    figures = [h for h in headers if h and h.split("\n")[-1] in outputs]
    assert "スコープ3カテゴリ11（稼働年数分、インベントリ）\nscope3_cat11_lifetime[t-CO2e]" in headers
    assert len(figures) == len(outputs) and not [h for h in figures if h.startswith("入力")], figures


def test_a_portfolio_column_named_as_a_parquet_detail_column_is_refused_and_nothing_written(tmp_path):
    # the bug: a company's own column named inputs.1.value, carried through, gave the Parquet result that name twice:
    # koken report then stopped with a KeyError traceback and koken verify said the file was edited
    from click.testing import CliRunner

    from koken.cli.commands import main

    from conftest import REPO

    rows = list(csv.reader((REPO / "examples" / "portfolio_fy2023.csv").open(encoding="utf-8")))
    rows[0].append("inputs.1.value")
    for row in rows[1:]:
        row.append("x")
    portfolio = tmp_path / "p.csv"
    with portfolio.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    out = tmp_path / "r.parquet"
    result = CliRunner().invoke(main, ["calculate", str(portfolio), "-o", str(out)])
    assert result.exit_code != 0 and "column 'inputs.1.value' is none of koken's, but a result column has that name" \
        in result.output, result.output
    assert "Traceback" not in result.output and not out.exists()
