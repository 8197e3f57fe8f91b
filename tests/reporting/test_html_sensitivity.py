"""The HTML report's tornado section (koken.reporting.html.sections.sensitivity), against a hand-built report."""

from dataclasses import dataclass

import pandas as pd

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
