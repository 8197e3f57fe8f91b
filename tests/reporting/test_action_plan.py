"""koken.reporting.action_plan: the action plan's table, brackets, XLSX, aggregation, timeframes kept apart."""

import io
import json

import openpyxl
import pytest
from click.testing import CliRunner

from koken.attribution import load_ratio_file
from koken.base.errors import KokenErrors, TimeframeError
from koken.cli.commands import main
from koken.reporting.action_plan import (
    Figure,
    build_report,
    formatted,
    load_result_documents,
    presentation,
    to_xlsx,
)

from conftest import EXAMPLE_PORTFOLIO

# The FY2023 industry table (万t-CO2): category, market, single-year, lifetime
FY2023 = [("generation", "domestic", 76, 1512), ("home_appliances", "domestic", 104, 1110),
          ("industrial_equipment", "domestic", 5, 87), ("it_equipment", "domestic", 12, 60),
          ("solutions", "domestic", 3, 3 * 5), ("generation", "overseas", 695, 27128),
          ("home_appliances", "overseas", 37, 372), ("it_equipment", "overseas", 51, 254)]


def document(rows, path="a.json", year=2023):
    return {"format": "koken-result", "_path": path, "gwp_set": "gwp100_ar5",
            "methodologies": {"m": {"version": "1.0.0", "baseline_type": "custom", "contribution_role": "direct",
                                    "result_type": "avoided_emissions"}},
            "rows": [{"row": i + 2, "methodology": "m", "category": c, "market": mk, "fiscal_year": year,
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
    assert "2 result file(s)" in report.disclosures["completeness"]
    c = document([("it_equipment", "domestic", 1, 5)], "c.json", year=2024)
    with pytest.raises(KokenErrors, match="one reporting year"):
        build_report([a, c], load_ratio_file())
    assert build_report([a, c], load_ratio_file(), fiscal_year=2024).fiscal_year == 2024


def test_xlsx_read_back_cell_by_cell():
    report = build_report([document(FY2023)], load_ratio_file())
    ws = openpyxl.load_workbook(io.BytesIO(to_xlsx(report))).active
    assert ws["A1"].value == "削減貢献量 / Avoided emissions, FY2023"
    assert ws["A4"].value == "分野 / Category" and ws["C4"].value == "国内 稼働年数 / Domestic lifetime"
    assert ws["A5"].value == "発電 / Power generation"
    assert ws["B5"].value == pytest.approx(76) and ws["C5"].value == pytest.approx(1512)
    assert ws["D5"].value == pytest.approx(552) and ws["D5"].number_format == '"("#,##0")"'
    assert ws["C5"].number_format == "#,##0"
    assert ws["F5"].value == pytest.approx(27128) and ws["G5"].value == pytest.approx(243)
    assert ws["D9"].value is None                                      # solutions: no device share
    assert ws["A10"].value == "合計 / Total"
    notes = [ws.cell(row=r, column=1).value for r in range(11, ws.max_row + 1)]
    assert any(n and "never netted" in n for n in notes) and any(n and "Rounding" in n for n in notes)


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


def test_report_refuses_a_parquet_result_and_says_it_reads_json_results(tmp_path):
    """`koken report results.parquet` is refused naming the JSON result it reads (it was a UTF-8 decoding error)."""
    (tmp_path / "r.parquet").write_bytes(b"PAR1")
    with pytest.raises(KokenErrors) as err:
        load_result_documents([tmp_path / "r.parquet"])
    assert "report reads the JSON result" in str(err.value) and "--portfolio" in str(err.value)
