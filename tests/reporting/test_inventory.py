"""koken.reporting.inventory and the report's section beside avoided emissions: category 11 with the avoided share,
the installed base, the variants with coverage, flagged methodologies; in the HTML page and the workbook."""

import io

import openpyxl
import pandas as pd
import pytest

from koken.api import calculate
from koken.attribution import load_ratio_file
from koken.base.i18n import language
from koken.base.paths import methodologies_dir
from koken.library import scan_library
from koken.reporting.action_plan import build_report
from koken.reporting.inventory import INVENTORY_SHEET, category11_rows, stock_rows, variants
from koken.reporting.output import report_bytes

APPLIANCES = scan_library(methodologies_dir() / "home_appliances", bundled=False).library


def refrigerators(tmp_path, customer: bool = True, **options):
    frame = pd.DataFrame({"product_line": ["R1", "R1", "R2"], "methodology": "refrigerator",
                          "fiscal_year": [2022, 2023, 2023], "market": "domestic", "region": "JP",
                          "units_shipped[台]": 1000, "baseline_annual_energy[kWh/yr]": 430,
                          "product_annual_energy[kWh/yr]": 280, "operating_years[yr]": 10})
    if customer:
        path = tmp_path / "customers.csv"
        path.write_text("製品名,年度,需要家の排出係数[kg-CO2/kWh],小売電気事業者,料金メニュー,対象期間\n"
                        "R1,2023,0.3,A電力,B,2023年度\n", encoding="utf-8")
        options["customer_data"] = path
    calc = calculate(frame, APPLIANCES, **options)
    return build_report([calc.document()], load_ratio_file(None), 2023)


def test_category_11_and_the_avoided_share_by_hand(tmp_path):
    rows = category11_rows(refrigerators(tmp_path))
    assert [(r.category, r.market, r.lines) for r in rows] == [("home_appliances", "domestic", 2)]
    # FY2023 lines, Japan FY2023 0.421: category 11 = 2 × 1,000 台 × 280 kWh/yr × 0.421 × 10 yr ÷ 1,000 = 2,357.6 t;
    # baseline 2 × 1,000 × 430 × 0.421 × 10 ÷ 1,000 = 3,620.6 t; avoided 1,263 t; share 150/430 = 34.88 %
    assert rows[0].category11 == pytest.approx(2357.6)
    assert rows[0].baseline == pytest.approx(3620.6)
    assert rows[0].avoided == pytest.approx(1263.0)
    assert rows[0].share == pytest.approx(150 / 430)


def test_the_variant_is_shown_with_its_coverage(tmp_path):
    [(variant, _name, rows)] = variants(refrigerators(tmp_path))
    assert variant == "customer_factor"
    assert rows[0].coverage == pytest.approx(0.5)  # R1 of R1 and R2, 1,000 台 each
    # R1 at 0.3: 1,000 × 150 × 0.3 × 10 ÷ 1,000 = 450 t; R2 standard 631.5 t
    assert rows[0].variant_lifetime == pytest.approx(450 + 631.5)


def test_the_installed_base_of_the_reporting_year_sums_every_vintage(tmp_path):
    report = refrigerators(tmp_path, customer=False, installed_base_year=2023)
    # three vintage rows of 1,000 台, all in service in 2023 (10 years of use), at FY2023's factor: 3 × 63.15 t
    assert [(m, round(v, 6), n) for _c, m, v, n in stock_rows(report)] == [("domestic", 189.45, 2)]


def test_the_html_report_and_the_workbook_show_them_in_both_languages(tmp_path):
    report = refrigerators(tmp_path, installed_base_year=2023)
    with language("ja"):
        page = report_bytes(report, ".html").decode("utf-8")
    assert "スコープ3カテゴリ11と削減率" in page and "34.9%" in page and "カバー率" in page
    assert "暫定（業界の方法論の一つであることは確認されていない）" in page  # refrigerator is provisional
    book = openpyxl.load_workbook(io.BytesIO(report_bytes(report, ".xlsx")))
    sheet = book[INVENTORY_SHEET]
    values = [row for row in sheet.iter_rows(values_only=True) if any(v is not None for v in row)]
    figures = next(row for row in values if row[0] == "家電 Home appliances")
    assert figures[2] == pytest.approx(0.23576)  # 2,357.6 t = 0.23576 万t-CO2e, unrounded in the cell
    assert figures[5] == pytest.approx(150 / 430)


def test_results_without_these_figures_give_no_section(tmp_path):
    report = refrigerators(tmp_path, customer=False)
    lines = report.lines.drop(columns=[c for c in report.lines.columns if c.startswith(("scope3", "baseline_"))])
    old = type(report)(table=report.table, fiscal_year=report.fiscal_year, disclosures={}, lines=lines)
    assert category11_rows(old) == [] and variants(old) == []


def test_a_flagged_methodology_reads_right_in_a_sentence_and_in_a_cell(tmp_path):
    # The Markdown note reads "注意が必要な方法論 {id}：{text}。" and the HTML page and the workbook show the flag's text
    # alone in a list item or a cell: a label fits both. As a sentence of its own it printed "…確認されていません。。"
    # in the note; without its 。 it read as an unfinished sentence in the cells.
    report = refrigerators(tmp_path, customer=False)
    with language("ja"):
        text = report_bytes(report, ".md").decode("utf-8")
        page = report_bytes(report, ".html").decode("utf-8")
    assert "注意が必要な方法論 refrigerator：暫定（業界の方法論の一つであることは確認されていない）。" in text
    assert "。。" not in text
    assert "refrigerator: 暫定（業界の方法論の一つであることは確認されていない）" in page
