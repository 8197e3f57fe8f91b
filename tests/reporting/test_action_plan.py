"""koken.reporting.action_plan: the action plan's table, brackets, aggregation, timeframes kept apart; the workbook read
back cell by cell, and printed with LibreOffice (PDF, then one PNG per page in out/report/)."""

import io
import json
import os
import re
import shutil
import subprocess

import openpyxl
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import koken
from koken.attribution import load_ratio_file
from koken.base.errors import KokenError, KokenErrors, TimeframeError
from koken.base.i18n import language
from koken.cli.commands import main
from koken.reporting.action_plan import (
    Figure,
    build_report,
    disclosure_rows,
    figure_text,
    formatted,
    load_result_documents,
    notes_lines,
    number_format,
    presentation,
    shown_decimals,
    to_csv,
    to_markdown,
    to_xlsx,
)

from conftest import EXAMPLE_PORTFOLIO, REPO

# The FY2023 industry table (万t-CO2): category, market, single-year, lifetime
FY2023 = [("generation", "domestic", 76, 1512), ("home_appliances", "domestic", 104, 1110),
          ("industrial_equipment", "domestic", 5, 87), ("it_equipment", "domestic", 12, 60),
          ("solutions", "domestic", 3, 3 * 5), ("generation", "overseas", 695, 27128),
          ("home_appliances", "overseas", 37, 372), ("it_equipment", "overseas", 51, 254)]


def document(rows, path="a.json", year=2023):
    """A result of the category methodologies (統合版方法論), one row per (category, market): each category
    methodology is mapped to its sector (attribution/sector_map.yaml), so it takes the category's device share."""
    return {"format": "koken-result", "_path": path, "gwp_set": "gwp100_ar5",
            "methodologies": {c: {"version": "2.0.0", "baseline_type": "custom", "contribution_role": "direct",
                                  "result_type": "avoided_emissions"} for c, *_ in rows},
            "rows": [{"row": i + 2, "methodology": c, "category": c, "market": mk, "fiscal_year": year,
                      "region": "JP", "single_year[t-CO2e]": s * 1e4, "lifetime[t-CO2e]": life * 1e4}
                     for i, (c, mk, s, life) in enumerate(rows)]}


def test_reproduces_the_fy2023_industry_table_with_device_brackets():
    report = build_report([document(FY2023)], load_ratio_file())
    shown = presentation(report).set_index("category")
    domestic_life = "国内 稼働年数 (デバイス) / Domestic lifetime (devices)"
    overseas_life = "海外 稼働年数 (デバイス) / Overseas lifetime (devices)"
    assert shown.loc["Power generation", domestic_life] == "1,512 (552)"
    assert shown.loc["Home appliances", domestic_life] == "1,110 (232)"
    assert shown.loc["Industrial equipment", domestic_life] == "87 (7)"
    assert shown.loc["IT products", domestic_life] == "60 (14)"
    assert shown.loc["Power generation", overseas_life] == "27,128 (243)"
    assert shown.loc["Home appliances", overseas_life] == "372 (137)"
    assert shown.loc["IT products", overseas_life] == "254 (91)"
    assert shown.loc["Solutions", domestic_life] == "15"          # no device share reported: no bracket
    assert shown.loc["Solutions", "国内 単年度 / Domestic single-year"] == "3"


def test_bracket_format():
    assert formatted(15_120_000, 5_520_000) == "1,512 (552)"
    assert formatted(15_124_999, None) == "1,512"
    assert formatted(15_125, 5_000, decimals=1) == "1.5 (0.5)"


def test_single_year_and_lifetime_are_never_added():
    assert (Figure(1.0, "lifetime") + Figure(2.0, "lifetime")).value == 3.0
    with pytest.raises(TimeframeError, match="never added"):
        Figure(1.0, "single_year") + Figure(2.0, "lifetime")


def test_two_result_files_aggregate_and_years_are_not_mixed():
    a = document([("it_equipment", "domestic", 2, 10)], "a.json")
    b = document([("it_equipment", "domestic", 1, 5)], "b.json")
    report = build_report([a, b], load_ratio_file())
    row = report.table[(report.table["category"] == "it_equipment") & (report.table["market"] == "domestic")]
    assert row["lifetime[t-CO2e]"].iloc[0] == pytest.approx(150_000)   # (10 + 5) 万t
    assert report.disclosures["completeness"].startswith("All 2 product lines of FY2023 are counted (2 file(s) read).")
    c = document([("it_equipment", "domestic", 1, 5)], "c.json", year=2024)
    with pytest.raises(KokenErrors, match="one reporting year"):
        build_report([a, c], load_ratio_file())
    assert build_report([a, c], load_ratio_file(), fiscal_year=2024).fiscal_year == 2024


def test_report_command_on_the_example_portfolio(tmp_path):
    for name in ("report.xlsx", "report.md", "report.csv"):
        out = tmp_path / name
        result = CliRunner().invoke(main, ["report", "--portfolio", str(EXAMPLE_PORTFOLIO), "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert out.exists()
    assert "| 発電 | Power generation |" in (tmp_path / "report.md").read_text(encoding="utf-8")
    result_json = tmp_path / "r.json"
    assert CliRunner().invoke(main, ["calculate", str(EXAMPLE_PORTFOLIO), "-o", str(result_json)]).exit_code == 0
    doc = json.loads(result_json.read_text(encoding="utf-8"))
    assert any(k.startswith("device_lifetime:devices") for k in doc["rows"][0])   # attribution in every result
    from_file = CliRunner().invoke(main, ["report", str(result_json)])
    from_portfolio = CliRunner().invoke(main, ["report", "--portfolio", str(EXAMPLE_PORTFOLIO)])
    assert from_file.output.split("\n")[:12] == from_portfolio.output.split("\n")[:12]


def test_report_refuses_a_broken_parquet_result_naming_it(tmp_path):
    """`koken report results.parquet` of a file that only starts as Parquet does is refused naming the file (it was a
    UTF-8 decoding error; Parquet results are read since issue 17 §4: tests/reporting/test_parquet_report.py)."""
    (tmp_path / "r.parquet").write_bytes(b"PAR1")
    with pytest.raises(KokenErrors) as err:
        load_result_documents([tmp_path / "r.parquet"])
    (problem,) = err.value.errors
    assert "cannot read the result file as Parquet" in problem.message
    assert problem.location.file == str(tmp_path / "r.parquet")


@pytest.fixture(scope="module")
def example_result(tmp_path_factory):
    """The example portfolio's JSON result (koken calculate -o r.json)."""
    out = tmp_path_factory.mktemp("result") / "r.json"
    assert CliRunner().invoke(main, ["calculate", str(EXAMPLE_PORTFOLIO), "-o", str(out)]).exit_code == 0
    return out


def test_the_same_input_given_twice_is_refused_not_counted_twice(example_result, tmp_path):
    """Issue 17 §2: `koken report r.json r.json` (or a copy of it, or the result beside its own portfolio) doubled
    every total. Results and portfolios are told apart by their input's sha256: the second is refused."""
    copy = tmp_path / "copy.json"
    copy.write_bytes(example_result.read_bytes())
    for results in ([example_result, example_result], [example_result, copy]):
        with pytest.raises(KokenErrors, match=r"computed from the same input as .*r\.json .*counted twice"):
            koken.report(results)
    with pytest.raises(KokenErrors, match="counted twice"):
        koken.report([example_result], portfolio=EXAMPLE_PORTFOLIO)
    cli = CliRunner().invoke(main, ["report", str(example_result), str(example_result)])
    assert cli.exit_code == 1 and "counted twice" in cli.output
    assert koken.report([example_result]).table["lifetime[t-CO2e]"].sum() == pytest.approx(
        koken.report([], portfolio=EXAMPLE_PORTFOLIO).table["lifetime[t-CO2e]"].sum(), rel=1e-12)


def _edited(example_result, tmp_path, name, change=None, text=None):
    path = tmp_path / name
    if text is None:
        doc = json.loads(example_result.read_text(encoding="utf-8"))
        change(doc)
        text = json.dumps(doc, ensure_ascii=False, allow_nan=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("name", "change", "message"), [
    # a NaN figure made its category 0 and dropped the total; inf was printed
    ("nan", lambda d: d["rows"][0].update({"single_year[t-CO2e]": float("nan")}), "NaN is not a number JSON allows"),
    ("inf", lambda d: d["rows"][0].update({"lifetime[t-CO2e]": float("inf")}), "Infinity is not a number JSON allows"),
    # rows with an unknown category or no market vanished from the table
    ("category", lambda d: d["rows"][0].update({"category": "space"}),
     r"rows\[0\] \(portfolio row 2\): category 'space' is none of generation"),
    ("market", lambda d: d["rows"][1].pop("market"), r"rows\[1\] \(portfolio row 3\): market None is none of"),
    # a figure stored as text crashed it
    ("text", lambda d: d["rows"][0].update({"lifetime[t-CO2e]": "172596"}),
     r"lifetime\[t-CO2e\] is '172596', not a finite number"),
    ("year", lambda d: d["rows"][0].update({"fiscal_year": "2023"}), "fiscal_year is '2023', not a whole number"),
    ("units", lambda d: d["units"].update({"lifetime": "kt-CO2e"}), "units: .* is not what koken writes"),
    ("gwp", lambda d: d.pop("gwp_set"), "gwp_set: missing or not a text"),
    # a row changed (or removed) without its totals
    ("row_edited", lambda d: d["rows"][0].update({"lifetime[t-CO2e]": 1e9}),
     "totals_by_market differ from the sums of the rows for 2023 domestic: the file was edited"),
    ("row_removed", lambda d: d["rows"].pop(0), "totals_by_methodology differ from the sums of the rows for "
                                                "2023 generation solar_pv domestic"),
])
def test_a_malformed_result_is_refused_on_read_naming_what_is_wrong(example_result, tmp_path, name, change, message):
    """Issue 17 §2: results are validated on read: strict JSON, known categories and markets, finite numbers (never
    text), the units koken writes, and rows that add up to the stored totals."""
    path = _edited(example_result, tmp_path, f"{name}.json", change)
    with pytest.raises(KokenErrors, match=message):
        load_result_documents([path])


@pytest.fixture(scope="module")
def monte_carlo_result(tmp_path_factory):
    out = tmp_path_factory.mktemp("mc") / "r.json"
    done = CliRunner().invoke(main, ["calculate", str(REPO / "examples" / "portfolio_uncertain.csv"), "--draws", "50",
                                     "--seed", "3", "-o", str(out)])
    assert done.exit_code == 0, done.output
    return out


def test_a_monte_carlo_result_is_read_strictly_its_new_keys_included(monte_carlo_result, tmp_path):
    """Merging issue 16 into issue 17 §2: the strict reader takes a Monte Carlo result (percentile columns,
    ``uncertainty`` with its tornado, ``legitimacy``, data-quality levels) and a row without percentiles, and refuses
    its figures as text or missing in the same way as the central figures."""
    doc = json.loads(monte_carlo_result.read_text(encoding="utf-8"))
    assert "single_year_p5[t-CO2e]" in doc["rows"][0] and doc["uncertainty"]["tornado"] and "legitimacy" in doc
    assert len(load_result_documents([monte_carlo_result])) == 1
    lacking = _edited(monte_carlo_result, tmp_path, "lacking.json",
                      lambda d: [d["rows"][0].pop(k) for k in list(d["rows"][0]) if "_p" in k and "[t-CO2e]" in k])
    assert len(load_result_documents([lacking])) == 1
    for name, change, message in [
        ("p5text", lambda d: d["rows"][0].update({"single_year_p5[t-CO2e]": "1.5"}),
         r"single_year_p5\[t-CO2e\] is '1.5', not a finite number"),
        ("p95null", lambda d: d["rows"][1].update({"lifetime_p95[t-CO2e]": None}),
         r"lifetime_p95\[t-CO2e\] is None, not a finite number"),
        ("total", lambda d: d["uncertainty"]["totals"][0].update({"p50": "12"}),
         r"uncertainty.totals\[0\].p50 is '12', not a finite number"),
        ("tornado", lambda d: d["uncertainty"]["tornado"][0].pop("swing"),
         r"uncertainty.tornado\[0\].swing is None, not a finite number"),
        ("seed", lambda d: d["uncertainty"].update({"seed": "3"}), r"uncertainty.seed is '3', not a whole number"),
        ("block", lambda d: d.update({"uncertainty": [1]}), "uncertainty: not a mapping"),
        ("nan", lambda d: d["uncertainty"]["totals"][0].update({"p5": float("nan")}), "NaN is not a number JSON allows"),
        ("swapped", lambda d: d["uncertainty"]["totals"][0].update({"p5": d["uncertainty"]["totals"][0]["p95"] * 2}),
         r"uncertainty.totals\[0\]: P5 .* are not in order \(P5 <= P50 <= P95\)"),
    ]:
        with pytest.raises(KokenErrors, match=message):
            load_result_documents([_edited(monte_carlo_result, tmp_path, f"{name}.json", change)])


def test_a_result_with_a_key_written_twice_is_refused(example_result, tmp_path):
    """A key written twice in one object: a first-wins reader and a last-wins reader see different results."""
    text = example_result.read_text(encoding="utf-8").replace('"gwp_set": "gwp100_ar5"',
                                                              '"gwp_set": "gwp100_ar4", "gwp_set": "gwp100_ar5"', 1)
    path = _edited(example_result, tmp_path, "twice.json", text=text)
    with pytest.raises(KokenErrors, match="the key 'gwp_set' is written twice in one object"):
        load_result_documents([path])


# ------------------------------------------------------------------------ numbers never shown as 0

@pytest.mark.parametrize(("value", "decimals", "shown"), [
    (1512.3, 0, "1,512"), (0.74, 0, "1"), (0.061887, 0, "0.1"), (0.0061887, 0, "0.01"), (0.00061887, 0, "0.001"),
    (0.00049, 0, "<0.001"), (-0.00049, 0, ">-0.001"), (-0.3, 0, "-0.3"), (0.0, 0, "0"), (0.0, 2, "0.00"),
    (0.061887, 2, "0.06"), (12.345, 1, "12.3"),
])
def test_a_figure_is_shown_with_the_decimals_asked_and_more_only_where_it_would_show_as_zero(value, decimals, shown):
    assert figure_text(value, decimals) == shown


@given(st.floats(min_value=-1e7, max_value=1e7, allow_nan=False).filter(lambda v: v != 0), st.integers(0, 3))
def test_a_non_zero_figure_never_reads_as_zero(value, decimals):
    text = figure_text(value, decimals)
    assert not re.fullmatch(r"-?[0,.]+", text), text
    places = shown_decimals(value, decimals)
    assert places is None or decimals <= places <= 3
    assert (places is None) == text.startswith(("<", ">"))


def test_the_number_format_shows_what_the_text_shows():
    assert number_format(1512.3) == "#,##0" and number_format(1512.3, 2) == "#,##0.00"
    assert number_format(0.061887) == "#,##0.0"
    assert number_format(552.0, brackets=True) == '"("#,##0")";"(-"#,##0")"'       # a negative share reads (-5)
    assert number_format(0.00001) == '"<0.001";">-0.001"'
    assert number_format(0.00001, brackets=True) == '"(<0.001)";"(>-0.001)"'
    assert formatted(618.87, None) == "0.1" and formatted(618.87 * 12, 618.87 * 12 * 0.209) == "1 (0.2)"


# ------------------------------------------------------------------------------------- the workbook

def workbook(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def english(header: str) -> str:
    """A three-line header (Japanese, English, unit) as ``Single-year [t-CO2e]``."""
    return " ".join(header.split("\n")[1:])


def rows_of(ws) -> list[str]:
    return [str(ws.cell(row=r, column=1).value) for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=1).value]


def test_the_workbook_has_the_table_the_detail_and_the_disclosures():
    report = build_report([document(FY2023)], load_ratio_file())
    wb = workbook(to_xlsx(report))
    assert wb.sheetnames == ["削減貢献量 Avoided emissions", "明細 Detail", "開示事項 Disclosures"]
    ws = wb["削減貢献量 Avoided emissions"]
    assert ws["A1"].value == "削減貢献量（2023年度） / Avoided emissions, FY2023" and ws["A1"].font.b
    assert ws["A2"].value.startswith("単位：万t-CO2e（CO2換算、1万t = 10,000 t-CO2e） / Unit: 万t-CO2e")
    assert "括弧内は半導体・電子部品の寄与分（内数）" in ws["A2"].value
    assert ws["A4"].value == "分野\nCategory" and "A4:A5" in ws.merged_cells
    assert ws["B4"].value == "国内 / Domestic" and "B4:D4" in ws.merged_cells
    assert ws["E4"].value == "海外 / Overseas" and "E4:G4" in ws.merged_cells
    assert [ws.cell(row=5, column=c).value for c in range(2, 5)] == [
        "単年度\nSingle-year\n[万t-CO2e]", "稼働年数\nLifetime\n[万t-CO2e]", "うちデバイス\nof which devices\n[万t-CO2e]"]
    assert ws["A6"].value == "発電 / Power generation"
    assert ws["B6"].value == pytest.approx(76) and ws["C6"].value == pytest.approx(1512)
    assert ws["D6"].value == pytest.approx(552) and ws["D6"].number_format == '"("#,##0")";"(-"#,##0")"'
    assert ws["B6"].number_format == "#,##0" and ws["C6"].number_format == "#,##0"
    assert ws["F6"].value == pytest.approx(27128) and ws["G6"].value == pytest.approx(243)
    assert ws["D10"].value is None                                      # solutions: no device share reported
    assert ws["F7"].value == pytest.approx(372) and ws["F8"].value == "—"   # no overseas industrial lines
    # the total row: 76 + 104 + 5 + 12 + 3 = 200; 1,512 + 1,110 + 87 + 60 + 15 = 2,784; devices 552 + 232 + 7 + 14 = 805
    # (solutions report none); overseas 695 + 37 + 51 = 783, 27,128 + 372 + 254 = 27,754, 243 + 137 + 91 = 471
    assert ws["A11"].value == "合計 / Total"
    assert [ws.cell(row=11, column=c).value for c in range(2, 8)] == pytest.approx([200, 2784, 805, 783, 27754, 471])
    assert all(ws.cell(row=11, column=c).font.b for c in range(1, 8))
    assert not ws["B10"].font.b
    assert ws["B11"].border.top.style == "double"
    for r in range(5, 12):                                    # every cell of the table has its borders (merged
        for c in range(2 if r == 5 else 1, 8):                # header cells: on the merged range's outline)
            border = ws.cell(row=r, column=c).border
            assert border.left.style and border.right.style and border.top.style and border.bottom.style, (r, c)
    assert all(ws.cell(row=4, column=c).border.top.style == "thin" for c in range(1, 8))
    assert ws["B4"].border.left.style and ws["D4"].border.right.style and ws["A5"].border.bottom.style


def test_the_table_sheet_prints_on_one_a4_landscape_page_with_its_headers_repeated():
    wb = workbook(to_xlsx(build_report([document(FY2023)], load_ratio_file())))
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9   # 9: A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
        assert ws.page_margins.left == pytest.approx(0.5) and ws.page_margins.top == pytest.approx(0.6)
        assert "&P / &N" in ws.oddFooter.center.text
    table, detail, disclosures = wb.worksheets
    assert table.page_setup.fitToHeight == 1 and detail.page_setup.fitToHeight == 0
    assert table.print_title_rows == "$4:$5" and detail.print_title_rows == "$2:$2"
    assert disclosures.print_title_rows == "$2:$2"


def test_header_rows_are_tall_enough_for_their_wrapped_text_and_columns_wide_enough():
    ws = workbook(to_xlsx(build_report([document(FY2023)], load_ratio_file()))).worksheets[0]
    # three lines (Japanese, English, unit) of 11 pt text need about 3 × 15 pt
    assert ws.row_dimensions[5].height >= 3 * 15
    assert ws.column_dimensions["A"].width >= len("産業用機器 / Industrial equipment") + 5   # 5 full-width characters
    assert all(ws.column_dimensions[c].width >= len("of which devices") for c in "BCDEFG")
    for r in range(1, ws.max_row + 1):   # a wrapped note has room for its lines: never the default one-line height
        text = ws.cell(row=r, column=1).value
        if isinstance(text, str) and len(text) > 200:
            assert ws.row_dimensions[r].height >= 2 * 13, text


def test_decimals_set_the_number_formats():
    report = build_report([document(FY2023)], load_ratio_file())
    ws = workbook(to_xlsx(report, decimals=1)).worksheets[0]
    assert ws["B6"].number_format == "#,##0.0" and ws["C6"].number_format == "#,##0.0"
    assert ws["D6"].number_format == '"("#,##0.0")";"(-"#,##0.0")"'
    assert ws["C6"].value == pytest.approx(1512)                        # the cell keeps the unrounded figure
    assert "| 発電 | Power generation | 76.0 | 1,512.0 (552.0) |" in to_markdown(report, decimals=1)


def fridge_frame(units=("1 万台", "1 台"), markets=("domestic", "overseas")) -> pd.DataFrame:
    """Refrigerator lines (municipal newsletter case: 420 → 273 kWh/yr, 0.421 kg-CO2/kWh, 12 years)."""
    n = len(units)
    return pd.DataFrame({"product_line": [f"Refrigerator 401-450 L ({u})" for u in units],
                         "methodology": ["refrigerator"] * n, "fiscal_year": [2023] * n, "market": list(markets),
                         "units_shipped": list(units), "baseline_annual_energy[kWh/yr]": [420] * n,
                         "product_annual_energy[kWh/yr]": [273] * n, "grid_emission_factor[kg-CO2/kWh]": [0.421] * n,
                         "operating_years[yr]": [12] * n})


# 1万台 × (420 − 273) kWh/yr × 0.421 kg/kWh = 618,870 kg = 618.87 t-CO2e single-year = 0.061887 万t;
# × 12 yr = 7,426.44 t = 0.742644 万t lifetime; devices (domestic home appliances 232/1,110) 1,552.19 t = 0.155219 万t.
# 1台: 0.061887 t = 0.0000061887 万t single-year; 0.742644 t = 0.0000742644 万t lifetime;
# devices (overseas TVs 137/372) 0.2735 t = 0.00002735 万t.
FRIDGE_SINGLE_T = 10_000 * (420 - 273) * 0.421 / 1000
FRIDGE_LIFE_T = FRIDGE_SINGLE_T * 12


def test_a_1man_unit_refrigerator_line_is_never_shown_as_zero(tmp_path):
    report = koken.report(portfolio=fridge_frame(), output=tmp_path / "r.xlsx")
    assert FRIDGE_SINGLE_T == pytest.approx(618.87)
    ws = openpyxl.load_workbook(tmp_path / "r.xlsx").worksheets[0]
    assert ws["A7"].value == "家電 / Home appliances"
    assert ws["B7"].value == pytest.approx(0.061887) and ws["B7"].number_format == "#,##0.0"          # 0.1, not 0
    assert ws["C7"].value == pytest.approx(0.742644) and ws["C7"].number_format == "#,##0"            # 1
    assert ws["D7"].value == pytest.approx(0.742644 * 232 / 1110)
    assert ws["D7"].number_format == '"("#,##0.0")";"(-"#,##0.0")"'                                  # (0.2), not (0)
    assert ws["E7"].value == pytest.approx(0.0000061887) and ws["E7"].number_format == '"<0.001";">-0.001"'
    assert ws["F7"].value == pytest.approx(0.0000742644) and ws["F7"].number_format == '"<0.001";">-0.001"'
    assert ws["G7"].value == pytest.approx(0.0000742644 * 137 / 372)
    assert ws["G7"].number_format == '"(<0.001)";"(>-0.001)"'
    detail = openpyxl.load_workbook(tmp_path / "r.xlsx")["明細 Detail"]
    headers = [english(detail.cell(row=2, column=c).value) for c in range(1, detail.max_column + 1)]
    line = {h: detail.cell(row=3, column=c).value for c, h in enumerate(headers, start=1)}
    assert line["Units shipped as entered"] == "1 万台" and line["Units shipped"] == pytest.approx(10_000)
    assert line["Single-year [t-CO2e]"] == pytest.approx(618.87)                     # unrounded, in t and 万t
    assert line["Single-year [万t-CO2e]"] == pytest.approx(0.061887)
    assert line["Lifetime [t-CO2e]"] == pytest.approx(7426.44)
    assert line["Devices, lifetime [t-CO2e]"] == pytest.approx(7426.44 * 232 / 1110)
    assert line["Device ratio"] == pytest.approx(232 / 1110)
    md = presentation(report).set_index("category")
    assert md.loc["Home appliances", "国内 単年度 / Domestic single-year"] == "0.1"
    assert md.loc["Home appliances", "国内 稼働年数 (デバイス) / Domestic lifetime (devices)"] == "1 (0.2)"
    assert md.loc["Home appliances", "海外 稼働年数 (デバイス) / Overseas lifetime (devices)"] == "<0.001 (<0.001)"


def test_the_notes_are_in_japanese_and_english_whatever_the_language():
    report = build_report([document(FY2023)], load_ratio_file())
    for code in ("ja", "en"):
        with language(code):
            notes = rows_of(workbook(to_xlsx(report)).worksheets[0])
        assert any(n.startswith("・単年度（当該年度に出荷した製品の1年間の稼働分）") for n in notes), code
        assert any(n.startswith("• Single-year figures (products shipped in the year") for n in notes), code
        assert any(n.startswith("・削減貢献量は Scope 1～3 の排出量とは別に報告しており") for n in notes)
        assert any("never netted against them" in n for n in notes)
        assert any("0 でない数値が丸めで 0 になる場合は" in n for n in notes)
        assert any("shown with more decimals (up to 3) or as <0.001" in n for n in notes)
        # the shipped report-implied ratios are named as such, in both languages
        assert any("業界の2023年度実績の表から逆算した寄与率（fy2023_report_implied" in n for n in notes)
        assert any("ratios implied by the industry's FY2023 table (fy2023_report_implied" in n for n in notes)


def test_notes_follow_the_chosen_language_in_markdown_and_csv():
    report = build_report([document(FY2023)], load_ratio_file())
    with language("ja"):
        md, csv = to_markdown(report), to_csv(report)
    assert "## 注記" in md and "- 単年度（当該年度に出荷した製品の1年間の稼働分）" in md
    assert "fy2023_report_implied：2023年度実績の表から逆算した業界平均（同梱の既定値）" in csv
    with language("en"):
        md, csv = to_markdown(report), to_csv(report)
    assert "## Notes" in md and "- Single-year figures (products shipped in the year" in md
    assert "ratios implied by the industry's FY2023 table" in md
    assert "fy2023_report_implied: industry averages implied by the FY2023 table (shipped default)" in csv


def test_device_shares_off_gives_no_brackets_and_says_so():
    report = build_report([document(FY2023)], None, device_shares=False)
    assert not report.device_shares and report.disclosures["device_ratios"] is None
    assert report.table["device_lifetime[t-CO2e]"].isna().all()
    wb = workbook(to_xlsx(report))
    ws = wb.worksheets[0]
    assert ws.max_column == 5 and "B4:C4" in ws.merged_cells and "D4:E4" in ws.merged_cells
    assert [ws.cell(row=5, column=c).value.split("\n")[1] for c in range(2, 6)] == ["Single-year", "Lifetime"] * 2
    assert ws["C6"].value == pytest.approx(1512) and ws["C6"].number_format == "#,##0"
    assert "括弧" not in ws["A2"].value and "brackets" not in ws["A2"].value
    notes = rows_of(ws)
    assert "・半導体・電子部品の寄与分（内数）は、この報告では示していません。" in notes
    assert "• Device shares (semiconductors and electronic components) are not reported in this report." in notes
    assert not any("fy2023_report_implied" in n for n in notes)
    detail_headers = [c.value for c in wb["明細 Detail"][2]]
    assert not any("Device" in h for h in detail_headers)
    assert detail_headers[-3:] == ["単年度\nSingle-year\n[万t-CO2e]", "稼働年数\nLifetime\n[万t-CO2e]",
                                   "ポートフォリオ以外から得た値\nValues not from the portfolio"]
    disclosures = dict((a.value, b.value) for a, b in wb["開示事項 Disclosures"].iter_rows(min_row=3, max_col=2))
    assert disclosures["寄与率ファイル / Ratio file"] == "not reported"
    shown = presentation(report).set_index("category")
    assert shown.loc["Power generation", "国内 稼働年数 / Domestic lifetime"] == "1,512"
    table_lines = [line for line in to_markdown(report).splitlines() if line.startswith("| ")]
    assert not any("(" in line for line in table_lines[2:])
    assert "device_shares" in to_csv(report) and ",not reported" in to_csv(report)


def test_a_ratio_file_of_ones_own_is_named_and_not_called_the_shipped_default(tmp_path):
    own = tmp_path / "ratios_own.yaml"
    own.write_text(yaml.safe_dump({
        "id": "own_ratios", "title": {"ja": "自社", "en": "own"}, "basis": "category_market",
        "source": {"title": "Own input-output analysis", "publisher": "Example Denki", "year": 2024},
        "device_classes": {"devices": {"ja": "半導体・電子部品", "en": "devices"}},
        "entries": [{"category": "generation", "market": "domestic", "device_class": "devices", "ratio": 0.5}]},
        allow_unicode=True), encoding="utf-8")
    report = build_report([document(FY2023)], load_ratio_file(own))
    assert not report.shipped_ratios and report.disclosures["device_ratios"]["id"] == "own_ratios"
    notes = notes_lines(report)
    assert any(n.startswith("Device shares use the ratio file own_ratios (") and "Own input-output analysis" in n
               for n in notes)
    assert not any("implied by the industry" in n for n in notes)
    ws = workbook(to_xlsx(report)).worksheets[0]
    assert ws["D6"].value == pytest.approx(1512 * 0.5)
    assert ws["D7"].value is None                                       # home appliances: no ratio in this file


def test_the_disclosures_sheet_lists_every_item_with_bilingual_labels():
    report = build_report([document(FY2023)], load_ratio_file())
    ws = workbook(to_xlsx(report))["開示事項 Disclosures"]
    assert ws["A2"].value == "項目\nItem" and ws["B2"].value == "開示内容\nDisclosure"
    rows = [(a.value, b.value) for a, b in ws.iter_rows(min_row=3, max_col=2)]
    assert rows == disclosure_rows(report)
    labels = [label for label, _value in rows]
    assert ("報告年度 / Reporting year", "2023") in rows
    assert labels.count("算定方法 / Methodology") == len(report.disclosures["methodologies"]) == 5  # one per category
    assert ("算定方法 / Methodology", "generation 2.0.0: baseline defined for the methodology, role direct") in rows
    assert dict(rows)["入力ファイル / Input file"].startswith("a.json: result of koken calculate")
    assert all(" / " in label for label in labels)
    ratio = dict(rows)["寄与率ファイル / Ratio file"]
    assert ratio.startswith("fy2023_report_implied (ratios_fy2023_report.yaml; category_market;")   # its name only


def test_the_detail_sheet_has_one_row_per_product_line_and_keeps_text_as_text():
    doc = document(FY2023)
    doc["rows"][0]["product_line"] = "=HYPERLINK(\"http://example.com\")"
    doc["rows"][1]["product_line"] = "Fridge\x1b[31m"
    report = build_report([doc], load_ratio_file())
    ws = workbook(to_xlsx(report))["明細 Detail"]
    assert ws.max_row == 2 + len(FY2023)
    headers = [english(c.value) for c in ws[2]]
    assert headers[:4] == ["Result file", "Row", "Product line", "Methodology"]
    assert "Single-year [t-CO2e]" in headers and "Lifetime [万t-CO2e]" in headers
    product = headers.index("Product line") + 1
    assert ws.cell(row=3, column=product).value == "=HYPERLINK(\"http://example.com\")"
    assert ws.cell(row=3, column=product).data_type == "s"                # text, never a formula
    assert ws.cell(row=4, column=product).value == "Fridge\\x1b[31m"      # a control character shown, not obeyed
    single = headers.index("Single-year [万t-CO2e]") + 1
    assert ws.cell(row=3, column=single).value == pytest.approx(76)
    assert ws.freeze_panes == "D3" and ws.auto_filter.ref == f"A2:{ws.cell(row=2, column=ws.max_column).column_letter}10"


def test_a_very_long_detail_says_where_the_lines_are(monkeypatch):
    from koken.reporting import action_plan

    monkeypatch.setattr(action_plan, "DETAIL_LINES_LIMIT", 3)
    ws = workbook(to_xlsx(build_report([document(FY2023)], load_ratio_file())))["明細 Detail"]
    assert ws.max_row == 3 and ws["A3"].value.startswith("8 product lines: more than a sheet lists here (3).")


def test_the_api_checks_the_switches_before_reading_anything(tmp_path):
    with pytest.raises(KokenError, match="leave it out when device shares are off"):
        koken.report(["missing.json"], ratios=load_ratio_file(), device_shares=False)
    with pytest.raises(KokenError, match="device_shares must be True or False"):
        koken.report(["missing.json"], device_shares="off")
    with pytest.raises(KokenError, match="decimals must be a whole number from 0 to 3"):
        koken.report(["missing.json"], decimals=4)


def test_calculation_report_has_the_same_switch(tmp_path):
    calc = koken.calculate(fridge_frame(("1 万台",), ("domestic",)))
    on = calc.report()
    off = calc.report(device_shares=False, output=tmp_path / "r.md", decimals=2)
    assert on.device_shares and on.shipped_ratios and not off.device_shares
    home = on.table.set_index(["category", "market"]).loc[("home_appliances", "domestic")]
    assert home["device_lifetime[t-CO2e]"] == pytest.approx(FRIDGE_LIFE_T * 232 / 1110)
    assert "| 家電 | Home appliances | 0.06 | 0.74 |" in (tmp_path / "r.md").read_text(encoding="utf-8")


# ------------------------------------------------------------- printed with LibreOffice (PDF, then PNG)

ARTEFACTS = REPO / "out" / "report"
"""The printed workbooks (PDF and one PNG per page) are left here to look at (git-ignored)."""


def _print_tools() -> dict[str, str]:
    """soffice (LibreOffice Calc) and poppler's pdftoppm, pdftotext and pdfinfo; the tests that print skip
    without them, or fail when KOKEN_REQUIRE_LIBREOFFICE=1 (CI installs them)."""
    found = {name: shutil.which(name) for name in ("soffice", "pdftoppm", "pdftotext", "pdfinfo")}
    missing = sorted(name for name, where in found.items() if where is None)
    if missing:
        reason = (f"{', '.join(missing)} not installed: printing the workbook needs LibreOffice Calc and poppler-utils "
                  "(apt-get install libreoffice-calc-nogui poppler-utils)")
        if os.environ.get("KOKEN_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail(f"KOKEN_REQUIRE_LIBREOFFICE=1 but {reason}")
        pytest.skip(reason)
    return found


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """The example portfolio's workbook (through ``koken report``) and a refrigerator workbook, converted to PDF
    by one LibreOffice run, each page then to PNG in out/report/."""
    tools = _print_tools()
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTEFACTS.iterdir():
        old.unlink()
    example, fridge = ARTEFACTS / "example.xlsx", ARTEFACTS / "refrigerator.xlsx"
    result = CliRunner().invoke(main, ["report", "--portfolio", str(EXAMPLE_PORTFOLIO), "-o", str(example)])
    assert result.exit_code == 0, result.output
    koken.report(portfolio=fridge_frame(), output=fridge)
    profile = tmp_path_factory.mktemp("libreoffice-profile")
    done = subprocess.run([tools["soffice"], "--headless", f"-env:UserInstallation={profile.as_uri()}",
                           "--convert-to", "pdf", "--outdir", str(ARTEFACTS), str(example), str(fridge)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    pdfs = {}
    for xlsx in (example, fridge):
        pdf = xlsx.with_suffix(".pdf")
        assert pdf.exists(), f"LibreOffice wrote no {pdf.name}: {done.stdout} {done.stderr}"
        subprocess.run([tools["pdftoppm"], "-r", "80", "-png", str(pdf), str(ARTEFACTS / xlsx.stem)], check=True,
                       timeout=300)
        info = subprocess.run([tools["pdfinfo"], str(pdf)], capture_output=True, text=True, check=True).stdout
        pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
        text = [subprocess.run([tools["pdftotext"], "-layout", "-f", str(n), "-l", str(n), str(pdf), "-"],
                               capture_output=True, text=True, check=True).stdout for n in range(1, pages + 1)]
        pdfs[xlsx.stem] = {"pages": pages, "text": text, "pngs": sorted(ARTEFACTS.glob(f"{xlsx.stem}-*.png"))}
    return pdfs


def _sheet_of_page(text: str) -> str:
    """The sheet a printed page belongs to, from its footer ``<sheet> — <page> / <pages>``."""
    return re.fullmatch(r"\s*(.+?) — \d+ / \d+\s*", text.strip().splitlines()[-1]).group(1)


def test_the_printed_table_sheet_is_one_page_with_every_heading_and_the_total(printed):
    example = printed["example"]
    assert example["pages"] == len(example["pngs"]) >= 3
    sheets = [_sheet_of_page(text) for text in example["text"]]
    assert sheets[0] == "削減貢献量 Avoided emissions" and sheets.count("削減貢献量 Avoided emissions") == 1
    detail, disclosures = sheets.count("明細 Detail"), sheets.count("開示事項 Disclosures")
    inventory = sheets.count("カテゴリ11 Category 11")  # category 11 beside avoided emissions, after the table
    assert inventory >= 1 and detail >= 1 and disclosures >= 1
    assert sheets == [sheets[0]] + ["カテゴリ11 Category 11"] * inventory + ["明細 Detail"] * detail \
        + ["開示事項 Disclosures"] * disclosures
    first = example["text"][0]
    table = first.split("注記 / Notes")[0]
    for heading in ("削減貢献量（2023年度） / Avoided emissions, FY2023", "分野", "Category", "国内 / Domestic",
                    "海外 / Overseas", "単年度", "Single-year", "稼働年数", "Lifetime", "うちデバイス",
                    "of which devices", "[万t-CO2e]"):
        assert heading in table, heading
    assert table.count("of which devices") == 2 and table.count("Single-year") == 2 and table.count("Lifetime") == 2
    total = next(line for line in table.splitlines() if "合計 / Total" in line)
    assert total.split()[3:] == ["18", "273", "(67)", "28", "917", "(14)"], total
    assert "• Methodologies and their versions" in first and "「明細 Detail」シート" in first   # the last notes, page 1
    assert "明細 / Detail" in example["text"][1 + inventory] and "項目" in example["text"][-1]


def test_the_printed_refrigerator_table_shows_no_figure_as_zero(printed):
    fridge = printed["refrigerator"]
    assert fridge["pages"] == 4 == len(fridge["pngs"])      # table, category 11, detail, disclosures
    line = next(line for line in fridge["text"][0].splitlines() if "家電 / Home appliances" in line)
    # 0.061887 → 0.1; 0.742644 → 1; devices 0.155219 → (0.2); the 1台 line: < 0.001 万t (5 t) everywhere
    assert line.split()[4:] == ["0.1", "1", "(0.2)", "<0.001", "<0.001", "(<0.001)"], line
    assert " 0 " not in f" {line} "


def test_a_results_workbook_is_not_taken_for_a_portfolio(tmp_path):
    """`koken report results.xlsx` once read koken's own results workbook as a portfolio (or failed on its bytes)."""
    import koken

    from conftest import REPO

    workbook = koken.calculate(REPO / "examples" / "template_filled.xlsx").to_file(tmp_path / "results.xlsx")
    with pytest.raises(KokenErrors, match="report reads the JSON or Parquet result of koken calculate"):
        koken.report([workbook])


# issue 17 §4: a report of many lines summarises the grid factors the portfolio gives, with counts


def test_grid_factors_the_portfolio_gives_are_summarised_per_year_and_region_with_counts(tmp_path):
    """Where the portfolio gives several grid factors for one fiscal year and region (one a line), the disclosures
    hold one entry for them with how many distinct values, their lowest and highest and how many lines (it held
    one entry per distinct value: 20 MB of notes on a million lines); a single value given is listed as before, as
    is every factor-table entry used."""
    from koken.reporting.action_plan import grid_factor_text

    given = {"US": [0.38, 0.41, 0.41, 0.45], "DE": [0.35], "CN": [0.55, 0.6]}
    lines = ["methodology,fiscal_year,market,region,units_shipped[台],baseline_annual_energy[kWh/yr],"
             "product_annual_energy[kWh/yr],operating_years[yr],grid_emission_factor[kg-CO2/kWh]",
             "refrigerator,2023,domestic,JP,1000,420,273,12,", "refrigerator,2023,domestic,JP,2000,450,280,12,"]
    lines += [f"refrigerator,2023,overseas,{region},100,420,273,12,{value}" for region, values in given.items()
              for value in values]
    portfolio = tmp_path / "p.csv"
    portfolio.write_text("\n".join(lines) + "\n", encoding="utf-8")
    built = koken.report(portfolio=portfolio)
    entries = built.disclosures["grid_emission_factors"]
    tables = [g for g in entries if g["origin"] != "portfolio"]
    assert len(tables) == 1 and tables[0]["region"] == "JP"  # the two JP lines read one table entry
    ours = {g["region"]: g for g in entries if g["origin"] == "portfolio"}
    assert set(ours) == set(given)
    for region, values in given.items():
        g = ours[region]
        if len(set(values)) == 1:
            assert g["value"] == values[0] and "values" not in g
            continue
        assert (g["values"], g["low"], g["high"], g["lines"]) == (len(set(values)), min(values), max(values),
                                                                  len(values))
        text = grid_factor_text(g)
        assert f"{len(set(values))} values" in text and f"{len(values)} product lines" in text
        with language("ja"):
            assert f"{len(set(values))} 個" in grid_factor_text(g)
    assert len(entries) == 1 + len(given)
