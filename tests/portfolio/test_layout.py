"""koken.portfolio.layout: the header found below title rows, names per line, the company's own columns carried
through, misspelt headers with the spelling to use (unit kept), header problems beside row problems."""

from __future__ import annotations

import pytest

from koken.base.errors import KokenErrors
from koken.base.i18n import language
from koken.calculation import calculate
from koken.portfolio.build import read_portfolio
from koken.portfolio.layout import find_header, layout_from_header, methodology_names, split_header_cell

HEADER = ("product_line,methodology,fiscal_year,market,units_shipped,baseline_annual_energy[kWh/yr],"
          "product_annual_energy[kWh/yr],grid_emission_factor[kg-CO2/kWh],operating_years[yr]")
ROW = "冷蔵庫 A,refrigerator,2023,domestic,4.5 万台,420,273,0.421,12"
# (420 - 273) kWh/yr × 0.421 kg-CO2/kWh = 61.887 kg-CO2e per unit-year; × 45,000 units = 2,784.915 t-CO2e
SINGLE_YEAR_T = (420 - 273) * 0.421 * 45_000 / 1000


def test_a_header_cell_may_name_its_column_on_two_lines():
    assert split_header_cell("出荷台数\nunits_shipped") == [("出荷台数", None), ("units_shipped", None)]
    assert split_header_cell("a[b]c") is None


def test_the_header_is_the_first_row_naming_two_known_columns(library):
    rows = [["削減貢献量 算定シート 2024年度"], ["作成：環境部"], [], HEADER.split(","), ROW.split(",")]
    assert find_header(rows, library) == 3
    assert find_header([["title"], ["note"]], library) is None


def test_title_and_note_rows_above_the_header_are_skipped_and_recorded(tmp_path, library):
    p = tmp_path / "titled.csv"
    p.write_text(f"削減貢献量 算定シート,,,,\n2024年6月 環境部,,,\n{HEADER}\n{ROW}\n", encoding="utf-8")
    portfolio = read_portfolio(p, library)
    assert list(portfolio.rows) == [4]
    assert portfolio.tables == ({"header_row": 3, "rows_above_header": [1, 2]},)
    assert calculate(portfolio, library).table["single_year[t-CO2e]"].iloc[0] == pytest.approx(SINGLE_YEAR_T)


def test_header_row_given_overrides_detection(tmp_path, library):
    p = tmp_path / "given.csv"
    p.write_text(f"note,methodology,market\n{HEADER}\n{ROW}\n", encoding="utf-8")
    # the first row names two columns (methodology, market) and would be taken for the header
    with pytest.raises(KokenErrors, match="required column 'fiscal_year' is missing"):
        read_portfolio(p, library)
    assert list(read_portfolio(p, library, header_row=2).rows) == [3]


def test_columns_of_the_company_are_carried_into_the_results(tmp_path, library):
    p = tmp_path / "own.csv"
    p.write_text(f"{HEADER},備考,社内コード\n{ROW},主力機種,R-401\n", encoding="utf-8")
    calc = calculate(read_portfolio(p, library), library)
    assert list(calc.table[["備考", "社内コード"]].iloc[0]) == ["主力機種", "R-401"]


@pytest.mark.parametrize(("header", "expected"), [
    ("出荷台数（万台）", "a unit goes in square brackets: write '出荷台数[万台]'"),
    ("operatin_years[yr]", "did you mean 'operating_years[yr]'?"),
    ("basline_annual_energy", "did you mean 'baseline_annual_energy'?"),
    ("annual_energy_use[kWh/yr]", "a column with a unit is read as an input"),
])
def test_a_misspelt_or_unit_bearing_unknown_column_is_an_error_not_carried_through(library, header, expected):
    columns = HEADER.replace("units_shipped", "units_shipped[台]").split(",") + [header]
    layout = layout_from_header("p.csv", "utf-8", columns, library)
    assert not layout.passthrough
    assert any(expected in str(p) for p in layout.problems), [str(p) for p in layout.problems]


def test_a_unit_in_the_units_row_makes_an_unknown_column_an_error(tmp_path, library):
    p = tmp_path / "units_row.csv"
    p.write_text("methodology,fiscal_year,market,units_shipped,baseline_annual_energy,product_annual_energy,"
                 "grid_emission_factor,operating_years,社内評価\n"
                 "単位,,,台,kWh/yr,kWh/yr,kg-CO2/kWh,yr,W\n"
                 "refrigerator,2023,domestic,1,420,273,0.421,12,35\n", encoding="utf-8")
    with pytest.raises(KokenErrors, match="unknown column '社内評価': the units row gives it a unit"):
        read_portfolio(p, library)


def test_header_problems_and_row_problems_are_reported_together(tmp_path, library):
    p = tmp_path / "both.csv"
    p.write_text(f"{HEADER.replace('operating_years', 'operatin_years')}\n"
                 "冷蔵庫 A,refrigerator,2023,国外,1 台,420,273,0.421,12\n", encoding="utf-8")
    with pytest.raises(KokenErrors) as errs:
        read_portfolio(p, library)
    messages = [str(e) for e in errs.value]
    assert any("did you mean 'operating_years[yr]'" in m for m in messages)
    assert any("row 2" in m and "market must be domestic or overseas" in m for m in messages)


def test_header_problems_read_in_japanese(library):
    columns = HEADER.split(",") + ["出荷台数（万台）"]
    with language("ja"):
        layout = layout_from_header("p.csv", "utf-8", columns, library)
    assert "単位は角かっこで書きます。'出荷台数[万台]' と書いてください" in str(layout.problems[0])


def test_methodologies_answer_to_their_titles_and_the_parts_of_them(library):
    names = methodology_names(library)
    assert names["電気冷蔵庫"] == "refrigerator"
    assert names["household refrigerator"] == "refrigerator"
    assert names["磁気ディスク装置"] == "storage"  # ストレージ（磁気ディスク装置）
    assert names["パソコン"] == "client_pc"  # クライアント型電子計算機（パソコン）
