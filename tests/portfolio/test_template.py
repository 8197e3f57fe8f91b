"""koken.portfolio.template: the portfolio template a company fills in Excel, and the same workbook read back
(every sheet at once, a sheet named after its methodology, title rows, a units row, a column of its own)."""

from __future__ import annotations

import io

import openpyxl
import pytest

from koken.base.errors import KokenErrors
from koken.base.i18n import language
from koken.calculation import calculate
from koken.portfolio.build import read_portfolio
from koken.portfolio.readers import open_portfolio
from koken.portfolio.template import HEADER_ROW, resolve_methodologies, template_workbook


def _template(library, *names, combined=False):
    return openpyxl.load_workbook(io.BytesIO(template_workbook(resolve_methodologies(list(names), library),
                                                               combined=combined)))


def test_a_sheet_per_methodology_with_bilingual_headers_units_row_and_instructions(library):
    book = _template(library, "電気冷蔵庫", "room_air_conditioner")
    assert book.sheetnames == ["説明", "refrigerator", "room_air_conditioner", "コード"]
    assert book["コード"].sheet_state == "hidden"
    ws = book["refrigerator"]
    assert "電気冷蔵庫 / Household refrigerator" in ws["A1"].value and "2.0.0" in ws["A1"].value
    headers = [c.value for c in ws[HEADER_ROW]]
    assert headers[:5] == ["製品名\nproduct_line", "年度\nfiscal_year", "市場\nmarket", "地域\nregion",
                           "出荷台数\nunits_shipped"]
    assert "ベースライン年間消費電力量\nbaseline_annual_energy" in headers
    units = [c.value for c in ws[HEADER_ROW + 1]]
    assert units[0] == "単位" and units[4] == "台" and units[headers.index(
        "ベースライン年間消費電力量\nbaseline_annual_energy")] == "kWh/yr"
    comment = ws.cell(row=HEADER_ROW, column=headers.index("排出係数\ngrid_emission_factor") + 1).comment.text
    assert "系統電力" in comment or "emission factor" in comment
    assert "factor table grid_emission_factor" in comment and "0 – 2 kg-CO2/kWh" in comment
    lists = {str(v.sqref).split(":")[0]: v for v in ws.data_validations.dataValidation}
    assert lists[f"C{HEADER_ROW + 2}"].formula1 == '"国内,海外"'
    assert lists[f"B{HEADER_ROW + 2}"].type == "whole" and lists[f"D{HEADER_ROW + 2}"].type == "list"
    text = "\n".join(str(c.value) for row in book["説明"].iter_rows() for c in row if c.value)
    assert "入力のしかた" in text and "How to fill it in" in text and "refrigerator" in text
    assert "420 ± 5 %" in text and ":下限" in text and "--draws" in text   # ranges: how to write them


def test_no_names_gives_every_methodology_and_an_unknown_name_gets_the_closest(library):
    assert [m.id for m in resolve_methodologies([], library)] == sorted(
        library, key=lambda mid: (library[mid].category, mid))
    with pytest.raises(KokenErrors, match="unknown methodology '冷臓庫'; did you mean '冷蔵庫' \\(refrigerator\\)"):
        resolve_methodologies(["冷臓庫"], library)
    with language("ja"), pytest.raises(KokenErrors, match="不明な方法論 '冷臓庫'。'冷蔵庫'（refrigerator）のことですか"):
        resolve_methodologies(["冷臓庫"], library)


def _fill(book):
    """A company's filling: 万台 in the units row, a name region, a column of its own, a second sheet."""
    ws = book["refrigerator"]
    ws.cell(row=HEADER_ROW + 1, column=5, value="万台")
    # the columns: line, year, market, region, shipped, baseline and product energy, grid factor, operating years,
    # then the fuel burnt on site by baseline and product (blank: none, the default with its reason), then 備考
    remark = ws.max_column + 1
    ws.append(["冷蔵庫 401-450L", 2023, "国内", "日本", 4.5, 420, 273, None, 12, None, None, "主力機種"])
    ws.append(["冷蔵庫 輸出", 2023, "海外", "米国", 1.2, 600, 450, 0.39, 12])
    ws.cell(row=HEADER_ROW, column=remark, value="備考")
    ws2 = book["room_air_conditioner"]
    ws2.append(["RAC 2.8kW", 2023, "国内", "JP", 52000, 1100, 850, None, 13])
    return book


def test_a_filled_template_is_read_back_every_sheet_at_once(tmp_path, library):
    path = tmp_path / "提出用.xlsx"
    _fill(_template(library, "refrigerator", "room_air_conditioner")).save(path)
    source = open_portfolio(path, library, partition_rows=None)
    portfolio = read_portfolio(path, library)
    calc = calculate(portfolio, library)
    t = calc.table.set_index("product_line")
    # refrigerator, JP FY2023 table factor 0.421: (420 − 273) × 0.421 = 61.887 kg per unit-year × 45,000
    assert t.loc["冷蔵庫 401-450L", "single_year[t-CO2e]"] == pytest.approx(61.887 * 45_000 / 1000)
    # overseas, the company's own 0.39: (600 − 450) × 0.39 = 58.5 kg × 12,000 units × 12 years
    assert t.loc["冷蔵庫 輸出", "lifetime[t-CO2e]"] == pytest.approx(58.5 * 12_000 * 12 / 1000)
    # room air conditioner: (1,100 − 850) × 0.421 = 105.25 kg × 52,000 units
    assert t.loc["RAC 2.8kW", "single_year[t-CO2e]"] == pytest.approx(105.25 * 52_000 / 1000)
    assert list(t["sheet"]) == ["refrigerator", "refrigerator", "room_air_conditioner"]
    assert list(t["region"]) == ["JP", "US", "JP"] and list(t["market"]) == ["domestic", "overseas", "domestic"]
    assert list(t["備考"]) == ["主力機種", "", ""]
    assert list(t["units_shipped_as_entered"])[:2] == ["4.5 万台", "1.2 万台"]
    list(source.partitions())
    assert source.tables[0] == {"sheet": "refrigerator", "header_row": HEADER_ROW, "rows_above_header": [1, 2, 3],
                                "passthrough_columns": ["備考"], "methodology_from_sheet_name": "refrigerator"}
    assert not any("説明" in n for n in source.notices)  # the template's own instructions are passed over quietly
    assert source.notices[0] == ("sheet 'refrigerator': the header is row 4 (rows 1, 2, 3 above it were not read); "
                                 "every row is refrigerator, the sheet's name (no methodology column); columns "
                                 "carried into the results as they are (not inputs): 備考")


def test_problems_of_a_filled_template_name_sheet_cell_and_header(tmp_path, library):
    book = _template(library, "refrigerator")
    book["refrigerator"].append(["冷蔵庫", 2023, "国外", "JP", "abc", 420, 273, None, 12])
    path = tmp_path / "bad.xlsx"
    book.save(path)
    with pytest.raises(KokenErrors) as errs:
        read_portfolio(path, library)
    messages = sorted(str(e) for e in errs.value)
    assert any("sheet 'refrigerator', cell C6, column '市場 / market': market must be domestic or overseas" in m
               for m in messages), messages
    assert any("cell E6, column '出荷台数 / units_shipped': 'abc' is not a number" in m for m in messages), messages
    with language("ja"), pytest.raises(KokenErrors) as errs:
        read_portfolio(path, library)
    assert any("シート 'refrigerator', セル C6, 列 '市場 / market': 市場は 国内 か 海外" in str(e) for e in errs.value)


def test_a_combined_template_has_a_methodology_column_and_reads_back(tmp_path, library):
    book = _template(library, "refrigerator", "led_lighting", combined=True)
    assert book.sheetnames == ["説明", "ポートフォリオ", "コード"]
    ws = book["ポートフォリオ"]
    headers = [c.value for c in ws[HEADER_ROW]]
    assert headers[1] == "方法論\nmethodology"
    row = dict.fromkeys(headers)
    row.update({"製品名\nproduct_line": "冷蔵庫", "方法論\nmethodology": "電気冷蔵庫", "年度\nfiscal_year": 2023,
                "市場\nmarket": "国内", "出荷台数\nunits_shipped": "1 台",
                "ベースライン年間消費電力量\nbaseline_annual_energy": 420, "年間消費電力量\nproduct_annual_energy": 273,
                "稼働年数\noperating_years": 12})
    ws.append(list(row.values()))
    path = tmp_path / "combined.xlsx"
    book.save(path)
    calc = calculate(read_portfolio(path, library), library)
    assert list(calc.table["methodology"]) == ["refrigerator"]  # named by its Japanese title
    assert calc.table["single_year[t-CO2e]"].iloc[0] == pytest.approx(61.887 / 1000)


def test_the_shipped_filled_template_is_todays_template_and_computes_the_hand_figures(tmp_path, library):
    """examples/template_filled.xlsx (used by the tutorial): its header and units rows are those the template
    writes today (apart from the units the company changed), and its figures are examples/README.md's."""
    from conftest import REPO

    shipped = openpyxl.load_workbook(REPO / "examples" / "template_filled.xlsx")
    today = _template(library, "refrigerator", "room_air_conditioner")
    for sheet in ("refrigerator", "room_air_conditioner"):
        width = today[sheet].max_column
        assert [c.value for c in shipped[sheet][HEADER_ROW]][:width] == [c.value for c in today[sheet][HEADER_ROW]]
    calc = calculate(read_portfolio(REPO / "examples" / "template_filled.xlsx", library), library)
    single = dict(zip(calc.table["product_line"], calc.table["single_year[t-CO2e]"]))
    assert single["冷蔵庫 401-450L"] == pytest.approx((420 - 273) * 0.421 * 45_000 / 1000)
    assert single["冷蔵庫 401-450L 北米向け"] == pytest.approx((600 - 450) * 0.39 * 12_000 / 1000)
    assert single["ルームエアコン 2.8kW"] == pytest.approx((1100 - 850) * 0.421 * 52_000 / 1000)


def test_merged_data_cells_product_lines_above_the_header_and_hidden_sheets(tmp_path, library):
    """A factor merged over three rows was read in the first only; product lines sorted above the header were
    dropped with a notice; a hidden sheet's lines left out without one."""
    book = _fill(_template(library, "refrigerator", "room_air_conditioner"))
    ws = book["refrigerator"]
    ws.merge_cells(f"H{HEADER_ROW + 2}:H{HEADER_ROW + 3}")
    path = tmp_path / "merged.xlsx"
    book.save(path)
    with pytest.raises(KokenErrors, match="cells H6:H7 are merged in the product lines"):
        read_portfolio(path, library)
    book = _fill(_template(library, "refrigerator", "room_air_conditioner"))
    book["refrigerator"]["A2"] = "refrigerator"  # a product line's methodology above the header
    book["room_air_conditioner"].sheet_state = "hidden"
    path = tmp_path / "above.xlsx"
    book.save(path)
    with pytest.raises(KokenErrors, match="row 2 is above the header \\(row 4\\) but names the methodology"):
        read_portfolio(path, library)
    book["refrigerator"]["A2"] = None
    book.save(path)
    source = open_portfolio(path, library, partition_rows=None)
    list(source.partitions())
    assert "sheet 'room_air_conditioner' is hidden: not read" in " ".join(source.notices)


def test_a_sheet_named_twice_is_read_once_and_header_row_passes_over_other_sheets(tmp_path, library):
    path = tmp_path / "filled.xlsx"
    _fill(_template(library, "refrigerator", "room_air_conditioner")).save(path)
    twice = read_portfolio(path, library, sheet=["refrigerator", "refrigerator"])
    assert len(twice) == 2  # the two refrigerator lines, not four
    assert len(read_portfolio(path, library, header_row=HEADER_ROW)) == 3  # 説明 is passed over, not refused


def test_a_template_never_replaces_an_existing_file_unless_asked(tmp_path, library):
    """`koken template -o filled.xlsx` once emptied a filled template."""
    from koken.api import portfolio_template
    from koken.base.errors import KokenError

    path = tmp_path / "t.xlsx"
    path.write_bytes(b"a filled template")
    with pytest.raises(KokenError, match="the file exists"):
        portfolio_template(path, ["refrigerator"], library)
    assert path.read_bytes() == b"a filled template"
    portfolio_template(path, ["refrigerator"], library, overwrite=True)
    assert openpyxl.load_workbook(path).sheetnames == ["説明", "refrigerator", "コード"]


def test_the_lists_offer_japanese_names_that_read_back_and_capacity_is_shipped_not_counted(library):
    book = _template(library, "solar_pv", "refrigerator", combined=True)
    codes = book["コード"]
    assert codes["A2"].value == "日本" and codes["C2"].value in {m.spec.title.ja for m in library.values()}
    assert [c.value for c in book["ポートフォリオ"][HEADER_ROW]][5] == "出荷量\nunits_shipped"  # kW and 台: 出荷量
