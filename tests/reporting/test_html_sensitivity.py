"""The HTML report's tornado section (koken.reporting.html.sections.sensitivity), against a hand-built report."""

from dataclasses import dataclass

import pandas as pd
import pytest

from koken.reporting.html.blocks import Chart, Context
from koken.reporting.html.sections.sensitivity import section


@dataclass
class ReportWithTornado:
    """What the section reads: a report that carries a tornado frame (the Monte Carlo results will)."""

    tornado: pd.DataFrame


def hand_tornado() -> pd.DataFrame:
    # avoided = (b − p) × f around b 400, p 300 kWh/yr, f 0.5 kg-CO2/kWh (50 kg/台/yr):
    # p 250..320 → 75 and 40 (swing 35); b 380..440 → 40 and 70 (swing 30)
    frame = pd.DataFrame({"parameter": ["product_energy", "baseline_energy"], "unit": ["kWh/yr", "kWh/yr"],
                          "low": [250.0, 380.0], "high": [320.0, 440.0], "result_at_low": [75.0, 40.0],
                          "result_at_high": [40.0, 70.0], "swing": [35.0, 30.0]})
    frame.attrs.update(result_unit="kg-CO2e/台/yr", central_result=50.0)
    return frame


def test_the_tornado_section_draws_each_bar_from_the_central_result_with_its_table():
    found = section(ReportWithTornado(hand_tornado()), Context())
    assert found is not None and found.id == "sensitivity"
    chart = next(b for b in found.blocks if isinstance(b, Chart))
    assert 'id="sensitivity-tornado-low-0"' in chart.svg and 'id="sensitivity-tornado-high-1"' in chart.svg
    assert "Avoided emissions per unit and year [kg-CO2e/台/yr]" in chart.svg
    head = [c.text for c in chart.table.head[0]]
    assert "Swing [kg-CO2e/台/yr]" in head and "Result at low [kg-CO2e/台/yr]" in head
    rows = [[c.text for c in row] for row in chart.table.body]
    assert rows == [["product_energy", "250", "320", "kWh/yr", "75", "40", "35"],
                    ["baseline_energy", "380", "440", "kWh/yr", "40", "70", "30"]]


def test_a_report_without_per_parameter_ranges_has_no_tornado_section():
    assert section(ReportWithTornado(hand_tornado().iloc[0:0]), Context()) is None
    assert section(object(), Context()) is None


def _tornado_document(year, records):
    return {"uncertainty": {"tornado": [{"fiscal_year": year, "figure": "lifetime[t-CO2e]", **r} for r in records]}}


def test_the_portfolio_tornado_of_several_results_adds_each_inputs_changes_to_the_summed_central_totals():
    """Two result files of FY2023: one input in both (a shared factor) moves both totals; their changes add."""
    from koken.reporting.action_plan import tornado_records

    shared = {"variable": "grid_emission_factor [JP 2023]", "parameter": "grid_emission_factor",
              "source": "factor_table"}
    own = {"variable": "refrigerator", "parameter": "baseline_annual_energy", "source": "portfolio"}
    first = _tornado_document(2023, [{**shared, "central": 100.0, "result_at_low": 90.0, "result_at_high": 110.0},
                                     {**own, "central": 100.0, "result_at_low": 97.0, "result_at_high": 104.0}])
    second = _tornado_document(2023, [{**shared, "central": 50.0, "result_at_low": 46.0, "result_at_high": 54.0}])
    other_year = _tornado_document(2022, [{**shared, "central": 7.0, "result_at_low": 1.0, "result_at_high": 9.0}])
    records = tornado_records([first, second, other_year], 2023)
    # central 100 + 50 = 150; the shared factor: 150 − 10 − 4 = 136 and 150 + 10 + 4 = 164 (swing 28); the cell's
    # range in the first file only: 150 − 3 = 147 and 150 + 4 = 154 (swing 7)
    assert [(r["parameter"], r["central"], r["result_at_low"], r["result_at_high"], r["swing"]) for r in records] == [
        ("grid_emission_factor", 150.0, 136.0, 164.0, 28.0), ("baseline_annual_energy", 150.0, 147.0, 154.0, 7.0)]


def test_a_monte_carlo_result_gets_its_tornado_in_the_html_report_and_a_point_result_none(tmp_path):
    import json

    from click.testing import CliRunner

    from koken.cli import main
    from koken.reporting.action_plan import build_report
    from koken.reporting.html.sections.sensitivity import portfolio_section

    from conftest import REPO

    result = tmp_path / "mc.json"
    run = CliRunner().invoke(main, ["calculate", str(REPO / "examples" / "portfolio_uncertain.csv"), "--draws", "50",
                                    "--seed", "3", "-o", str(result)])
    assert run.exit_code == 0, run.output
    doc = json.loads(result.read_text(encoding="utf-8"))
    doc["_path"] = "mc.json"
    report = build_report([doc], None, device_shares=False)
    lifetime = [r for r in doc["uncertainty"]["tornado"] if r["figure"] == "lifetime[t-CO2e]"]
    assert [r["swing"] for r in report.tornado if r["figure"] == "lifetime[t-CO2e]"] == [r["swing"] for r in lifetime]
    found = portfolio_section(report, Context())
    chart = next(b for b in found.blocks if isinstance(b, Chart))
    assert len(chart.table.body) == len(lifetime) and "What moves the FY2023 lifetime total" == chart.title
    point = dict(doc)
    point.pop("uncertainty")
    assert portfolio_section(build_report([point], None, device_shares=False), Context()) is None


def _monte_carlo_document(tmp_path):
    import json

    from click.testing import CliRunner

    from koken.cli import main

    from conftest import REPO

    result = tmp_path / "mc.json"
    run = CliRunner().invoke(main, ["calculate", str(REPO / "examples" / "portfolio_uncertain.csv"), "--draws", "50",
                                    "--seed", "3", "-o", str(result)])
    assert run.exit_code == 0, run.output
    doc = json.loads(result.read_text(encoding="utf-8"))
    doc["_path"] = "mc.json"
    return doc


def test_the_totals_p5_to_p95_of_a_monte_carlo_result_are_in_the_html_markdown_and_workbook(tmp_path):
    """Issue 16 (left by the first pass): the report showed the tornado but not the totals' P5-P95. Each total's own
    percentiles, as the result stores them, in 万t-CO2e (t-CO2e ÷ 10,000), in each of the report's formats."""
    import io

    import openpyxl

    from koken.reporting.action_plan import build_report, figure_text, to_markdown
    from koken.reporting.html.blocks import Table
    from koken.reporting.html.sections.sensitivity import ranges_section
    from koken.reporting.output import report_bytes

    doc = _monte_carlo_document(tmp_path)
    report = build_report([doc], None, device_shares=False)
    stored = [t for t in doc["uncertainty"]["totals"] if t["fiscal_year"] == 2023]
    assert [(r["figure"], r["p5"], r["p95"]) for r in report.ranges] == [(t["figure"], t["p5"], t["p95"]) for t in stored]
    lifetime = next(t for t in stored if t["figure"] == "lifetime[t-CO2e]")

    table = next(b for b in ranges_section(report, Context(decimals=1)).blocks if isinstance(b, Table))
    row = next(r for r in table.body if r[2].text == "Lifetime")
    assert [c.text for c in row[:2]] == ["Home appliances", "Domestic"]
    assert [c.value for c in row[3:]] == [lifetime[k] / 10_000 for k in ("central", "p5", "p50", "p95")]

    markdown = to_markdown(report, 1)
    assert "| Home appliances | Domestic | Lifetime | " + " | ".join(
        figure_text(lifetime[k] / 10_000, 1) for k in ("central", "p5", "p50", "p95")) + " |" in markdown
    assert "Monte Carlo, 50 draws, seed 3" in markdown

    wb = openpyxl.load_workbook(io.BytesIO(report_bytes(report, ".xlsx")))
    ws = wb["不確実性 Uncertainty"]
    found = next([c.value for c in r] for r in ws.iter_rows(min_row=3, max_row=2 + len(stored))
                 if r[2].value == "稼働年数 Lifetime")
    assert found[:2] == ["家電 Home appliances", "国内 Domestic"]
    assert found[3:7] == pytest.approx([lifetime[k] / 10_000 for k in ("central", "p5", "p50", "p95")], rel=1e-12)


def test_ranges_are_withheld_when_the_years_lines_come_from_several_files_and_absent_for_a_point_result(tmp_path):
    """Percentiles do not add: a Monte Carlo result beside another file of the same year gets no range, and a note
    saying why; a point result gets neither."""
    from koken.reporting.action_plan import build_report, notes_lines
    from koken.reporting.html.sections.sensitivity import ranges_section
    from koken.reporting.output import report_bytes

    doc = _monte_carlo_document(tmp_path)
    point = {k: v for k, v in doc.items() if k != "uncertainty"}
    other = {**point, "_path": "other.json", "_sha256": "other", "input": {**doc["input"], "sha256": "other"}}
    both = build_report([doc, other], None, device_shares=False)
    assert both.ranges == [] and both.ranges_withheld
    assert any(line.startswith("P5-P95 ranges are not shown") for line in notes_lines(both))
    assert ranges_section(both, Context()) is None
    alone = build_report([point], None, device_shares=False)
    assert alone.ranges == [] and not alone.ranges_withheld
    assert not any(line.startswith("P5-P95 ranges") for line in notes_lines(alone))
    assert b"Uncertainty" not in report_bytes(alone, ".md")
