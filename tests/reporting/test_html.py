"""koken.reporting.html: the report as one self-contained HTML page — parsed back, its numbers checked by hand, input
texts escaped, nothing loaded from the network, single-year and lifetime in separate panels; then opened in a real
browser (tests/browser.py): no console error, no request, every chart drawn, Japanese in a CJK font, a screenshot."""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import koken
from koken.base.errors import KokenError, KokenErrors
from koken.base.i18n import language, set_language
from koken.cli.commands import main
from koken.reporting.html.blocks import Paragraph, Section, figure_label
from koken.reporting.html.charts import inline_svg
from koken.reporting.html.data import scenarios
from koken.reporting.html.document import CONTENT_SECURITY_POLICY, to_html
from koken.reporting.html.sections import SECTIONS
from koken.reporting.output import write_report

from browser import SCREENSHOTS
from conftest import EXAMPLE_PORTFOLIO, REPO

TEMPLATE = REPO / "examples" / "template_filled.xlsx"

HOSTILE = "<script>alert(1)</script>"
README_LINE = "Refrigerator 401-450 L"

# README's row: (420 − 273) kWh/yr × 0.421 kg-CO2/kWh = 61.887 kg-CO2e per unit-year; × 45,000 units = 2,784.915
# t-CO2e single-year; × 12 years = 33,418.98 t-CO2e lifetime.
README_SINGLE_YEAR = (420 - 273) * 0.421 * 45_000 / 1000
README_LIFETIME = README_SINGLE_YEAR * 12
# The hostile line: (380 − 300) kWh/yr × 0.421 kg-CO2/kWh × 10,000 units = 336.8 t-CO2e single-year, × 12 = 4,041.6.
HOSTILE_SINGLE_YEAR = (380 - 300) * 0.421 * 10_000 / 1000


def write_portfolio(path: Path) -> Path:
    """README's refrigerator line, a line named like a script, and a transformer line (overseas)."""
    pd.DataFrame({
        "product_line": [README_LINE, HOSTILE, "Transformer 500 kVA (US)"],
        "methodology": ["refrigerator", "refrigerator", "transformer"],
        "fiscal_year": [2023, 2023, 2023], "market": ["domestic", "domestic", "overseas"],
        "region": ["JP", "JP", "US"], "units_shipped": ["4.5 万台", "1 万台", "120 台"],
        "baseline_annual_energy[kWh/yr]": [420, 380, None], "product_annual_energy[kWh/yr]": [273, 300, None],
        "baseline_no_load_loss[W]": [None, None, 1400], "baseline_load_loss[W]": [None, None, 7300],
        "baseline_load_factor[%]": [None, None, 40], "product_no_load_loss[W]": [None, None, 1080],
        "product_load_loss[W]": [None, None, 6688], "product_load_factor[%]": [None, None, 40],
        "grid_emission_factor[kg-CO2/kWh]": [0.421, 0.421, 0.39], "operating_years[yr]": [12, 12, 25],
    }).to_csv(path, index=False)
    return path


def report_html(out: Path, *args, lang: str = "en") -> str:
    """``koken report ARGS -o OUT --lang LANG``, in this process; the language (which --lang sets for the rest of
    the process) restored after."""
    try:
        result = CliRunner().invoke(main, ["report", *[str(a) for a in args], "-o", str(out), "--lang", lang],
                                    catch_exceptions=False)
    finally:
        os.environ["KOKEN_LANG"] = "en"
        set_language(None)
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("html")


@pytest.fixture(scope="module")
def portfolio(folder) -> Path:
    return write_portfolio(folder / "portfolio.csv")


@pytest.fixture(scope="module")
def small(folder, portfolio) -> str:
    """The report of the three lines (``--decimals 3``), in English."""
    return report_html(folder / "small.html", portfolio, "--decimals", "3")


@pytest.fixture(scope="module")
def example(folder) -> str:
    """The report of the example portfolio, in English."""
    return report_html(folder / "example.html", EXAMPLE_PORTFOLIO)


@pytest.fixture(scope="module")
def example_ja(folder) -> Path:
    """The report of the example portfolio, in Japanese: its file."""
    report_html(folder / "example_ja.html", EXAMPLE_PORTFOLIO, lang="ja")
    return folder / "example_ja.html"


class Page(HTMLParser):
    """The parts of a page the tests read: tags with their attributes, table cells, headings, script tags."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.cells: list[dict] = []        # every th/td: text, data-value, the table's caption and the row's header
        self.headings: list[tuple[str, str]] = []
        self._stack: list[str] = []
        self._text: list[str] | None = None
        self._caption = ""
        self._row_header = ""
        self._cell_attrs: dict = {}
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag in ("th", "td", "caption", "h1", "h2", "h3", "h4"):
            self._text, self._cell_attrs = [], attributes
        if tag == "tr":
            self._row_header = ""

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if self._text is None or tag not in ("th", "td", "caption", "h1", "h2", "h3", "h4"):
            return
        text = "".join(self._text).strip()
        if tag == "caption":
            self._caption = text
        elif tag in ("th", "td"):
            if tag == "th" and self._cell_attrs.get("scope") == "row":
                self._row_header = text
            self.cells.append({"text": text, "value": self._cell_attrs.get("data-value"), "table": self._caption,
                               "row": self._row_header, "tag": tag})
        elif tag.startswith("h"):
            self.headings.append((tag, text))
        self._text = None

    def row(self, caption_part: str, row_header: str) -> list[dict]:
        """The cells of the row ``row_header`` in the first table whose caption contains ``caption_part``."""
        tables = [c["table"] for c in self.cells if caption_part in c["table"]]
        assert tables, f"no table captioned {caption_part!r}"
        return [c for c in self.cells if c["table"] == tables[0] and c["row"] == row_header and c["tag"] == "td"]


# ----------------------------------------------------------------------------------- without a browser

def test_a_portfolio_given_as_an_argument_is_calculated_and_reported_in_html(small):
    text = small
    page = Page(text)
    assert text.startswith("<!DOCTYPE html>")
    assert ("html", {"lang": "en"}) in page.tags
    assert [h for h in page.headings if h[0] == "h1"] == [("h1", "Avoided emissions, FY2023")]
    h2 = [t for tag, t in page.headings if tag == "h2"]
    assert h2 == ["Contents", "Avoided emissions by category and market", "Charts by category and market",
                  "Beside avoided emissions: category 11, installed base, variants", "Largest product lines",
                  "Methodologies: baseline and product per functional unit", "Disclosures"]
    # The largest lines' table, by hand: README's line is 2,784.915 t-CO2e single-year and 33,418.98 t-CO2e lifetime.
    cells = page.row("largest lifetime", README_LINE)
    figures = [c for c in cells if c["value"] is not None]
    single, single_devices, lifetime, _lifetime_devices = figures
    assert float(single["value"]) == pytest.approx(2784.915) == pytest.approx(README_SINGLE_YEAR)
    assert single["value"] == "2784.915" and single["text"] == "2,784.9"     # unrounded (15 digits), and as shown
    assert float(lifetime["value"]) == pytest.approx(33418.98) and lifetime["text"] == "33,419.0"
    # Devices are a part (内数) of the figure: domestic home appliances' shipped ratio is 232 / 1,110 (FY2023 table).
    assert float(single_devices["value"]) == pytest.approx(README_SINGLE_YEAR * 232 / 1110)
    assert single_devices["text"] == "(582.1)"


def test_the_industry_table_holds_the_reports_numbers(small, portfolio):
    text = small
    report = koken.report([portfolio])
    page = Page(text)
    # Home appliances, domestic: (2,784.915 + 336.8) t-CO2e = 0.3121715 万t-CO2e single-year, shown with 3 decimals.
    row = page.row("Avoided emissions, FY2023", "Home appliances")
    single, lifetime, devices = row[:3]
    assert float(single["value"]) == pytest.approx((README_SINGLE_YEAR + HOSTILE_SINGLE_YEAR) / 1e4)
    assert single["text"] == "0.312"
    t = report.table.set_index(["category", "market"])
    assert float(lifetime["value"]) == pytest.approx(t.loc[("home_appliances", "domestic"), "lifetime[t-CO2e]"] / 1e4)
    assert devices["text"] == f"({float(devices['value']):,.3f})"
    assert float(devices["value"]) == pytest.approx(t.loc[("home_appliances", "domestic"), "device_lifetime[t-CO2e]"] / 1e4)
    total = page.row("Avoided emissions, FY2023", "Total")
    assert float(total[0]["value"]) == pytest.approx(t.xs("domestic", level="market")["single_year[t-CO2e]"].sum() / 1e4)
    assert [c["text"] for c in page.row("Avoided emissions, FY2023", "Power generation")] == ["—"] * 6   # no lines
    assert "Completeness: All 3 product lines of FY2023 are counted (1 file(s) read). No product line has a negative" \
        in text


def test_a_figure_that_would_round_to_zero_is_never_shown_as_zero(tmp_path, portfolio):
    """The transformer line: 417.92 W saved × 8,760 h × 0.39 kg-CO2/kWh = 1,427.8 kg-CO2e a unit-year, × 120 units
    = 171.3 t-CO2e = 0.0171 万t-CO2e: 0.0 with 1 decimal, so it gets two significant digits (0.017), never 0."""
    text = report_html(tmp_path / "report.html", portfolio, "--decimals", "1")
    overseas_single = Page(text).row("Avoided emissions, FY2023", "Industrial equipment")[3]
    assert float(overseas_single["value"]) > 0
    assert float(overseas_single["value"]) == pytest.approx(417.92 * 8.76 * 0.39 * 120 / 1000 / 1e4)
    assert overseas_single["text"] == "0.017"


def test_single_year_and_lifetime_are_separate_panels(small):
    text = small
    figures = [a.get("id") for tag, a in Page(text).tags if tag == "figure"]
    assert {"charts-single-year", "charts-lifetime"} <= set(figures)
    single = text.split('id="charts-single-year"', 1)[1].split("</figure>", 1)[0]
    lifetime = text.split('id="charts-lifetime"', 1)[1].split("</figure>", 1)[0]
    assert "Lifetime" not in single and "Single-year" not in lifetime     # each chart and its table: one timeframe
    assert single.count("<svg") == 1 and lifetime.count("<svg") == 1
    lines = text.split('id="product-lines-chart"', 1)[1].split("</figure>", 1)[0]
    assert 'id="product-lines-chart-axes_1"' in lines and 'id="product-lines-chart-axes_2"' in lines   # two panels


def test_text_from_input_files_is_escaped_and_nothing_is_loaded(small):
    text = small
    page = Page(text)
    assert HOSTILE not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text                    # in the tables and in the SVG
    assert not [a for tag, a in page.tags if tag == "script"]
    assert any(c["row"] == HOSTILE for c in page.cells)                        # shown as the text it is
    loaded = [(tag, a) for tag, a in page.tags
              if a.get("src") or (tag == "link" and a.get("href")) or (tag == "use" and "http" in a.get("href", ""))]
    assert loaded == []
    assert "url(http" not in text and "@import" not in text and "@font-face" not in text
    remote = [a["href"] for tag, a in page.tags if a.get("href", "").startswith(("http:", "https:")) and tag != "a"]
    assert remote == []
    assert ("meta", {"http-equiv": "Content-Security-Policy", "content": CONTENT_SECURITY_POLICY}) in page.tags
    assert "default-src 'none'" in CONTENT_SECURITY_POLICY                      # the browser refuses any load


def test_every_chart_has_its_units_and_a_data_table_beside_it(example):
    text = example
    figures = text.split("<figure")[1:]
    methodologies = pd.read_csv(EXAMPLE_PORTFOLIO)["methodology"].nunique()
    assert len(figures) == 2 + 1 + methodologies == 19   # two timeframes, the largest lines, one per methodology
    for figure in figures:
        body = figure.split("</figure>", 1)[0]
        assert body.count("<svg") == 1 and body.count("<table") == 1 and "<caption>" in body
        assert 'role="img"' in body and "aria-labelledby=" in body
        assert "[" in body.split("<svg", 1)[1].split("</svg>", 1)[0]           # the value axis names its unit
    assert "[万t-CO2e]" in text and "[t-CO2e]" in text and "[kg-CO2e/台/yr]" in text


def test_each_methodology_shows_baseline_and_product_or_says_it_cannot(small):
    """Both scenarios' emissions per functional unit and year (every methodology names them: baseline_emissions and
    product_emissions), and their difference."""
    text = small
    page = Page(text)
    fridge = page.row("Household refrigerator (refrigerator 2.0.0): baseline and product per unit (台)", README_LINE)
    # 420 × 0.421 = 176.82 and 273 × 0.421 = 114.933 kg-CO2e per unit and year; (420 − 273) × 0.421 = 61.887
    assert [c["text"] for c in fridge] == ["Domestic", "176.82", "114.933", "61.887"]
    transformer = page.row("(transformer 2.0.0): baseline and product", "Transformer 500 kVA (US)")
    # Baseline loss 1,400 + 7,300 × 0.4² = 2,568 W; product 1,080 + 6,688 × 0.4² = 2,150.08 W; × 8,760 h/yr × 0.39
    # kg-CO2/kWh: 8,773.3152 and 7,345.533312 kg-CO2e per unit and year.
    shown = transformer[1:3]
    assert [float(c["value"]) for c in shown] == pytest.approx([2568 * 8.76 * 0.39, 2150.08 * 8.76 * 0.39])
    assert "Baseline [kg-CO2e/台/yr]" in {c["text"] for c in page.cells}


def test_without_device_shares_there_are_no_brackets_and_no_inner_bars(tmp_path, portfolio):
    text = report_html(tmp_path / "report.html", portfolio, "--device-shares", "off")
    page = Page(text)
    assert len(page.row("Avoided emissions, FY2023", "Home appliances")) == 4     # 2 markets × 2 timeframes
    assert "of which devices" not in text and "-inner-" not in text
    assert "Device shares (semiconductors and electronic components) are not reported in this report." in text


def test_a_generation_methodology_shows_the_grid_it_displaces_and_its_own_emissions_per_kw(example):
    """Generation names both scenarios too (the generation category): the baseline is the grid's electricity the kW
    displaces, the product what the plant emits in operation (0 for solar PV)."""
    text = example
    cells = Page(text).row("(solar_pv 2.0.0): baseline and product per kW", "PV module 400 W residential")
    # 13 % capacity factor × 8,760 h × 0.421 kg-CO2/kWh = 479.4348 kg-CO2e per kW and year; the product 0
    assert [c["text"] for c in cells][1:4] == ["479.435", "0", "479.435"]


def test_the_pairs_are_chosen_from_steps_then_inputs_by_dimension():
    def row(**named):
        return {"steps": named.get("steps", {}), "inputs": named.get("inputs", {})}

    energy = {"value": 1.0, "unit": "kWh/yr"}
    assert scenarios(row(steps={"baseline_loss": {"value": 1, "unit": "W"}, "product_loss": {"value": 1, "unit": "W"}},
                         inputs={"baseline_annual_energy": energy, "product_annual_energy": energy})).source == "steps"
    assert scenarios(row(inputs={"baseline_motor_efficiency": {"value": 0.9, "unit": "fraction"},
                                 "product_motor_efficiency": {"value": 0.9, "unit": "fraction"}})) is None
    assert scenarios(row(steps={"baseline_emission_factor": {"value": 1, "unit": "kg-CO2/kWh"},
                                "project_emission_factor": {"value": 1, "unit": "kg-CO2/kWh"}})) is None
    both = scenarios(row(steps={"baseline_annual_energy": energy, "product_annual_energy": energy,
                                "baseline_emissions": {"value": 1, "unit": "kg-CO2e/yr"},
                                "product_emissions": {"value": 1, "unit": "kg-CO2e/yr"}}))
    assert both.baseline == "baseline_emissions"                                    # emissions before energy
    assert scenarios(row(steps={"baseline_x": energy, "product_x": {"value": 1, "unit": "MWh/yr"}})) is None


def test_the_trend_appears_for_several_fiscal_years(tmp_path, portfolio, small):
    frame = pd.read_csv(portfolio)
    later = tmp_path / "fy2024.csv"
    frame.assign(fiscal_year=2024).iloc[:1].to_csv(later, index=False)   # FY2024: README's line only
    for source, name in ((portfolio, "a.json"), (later, "b.json")):
        assert CliRunner().invoke(main, ["calculate", str(source), "-o", str(tmp_path / name)]).exit_code == 0
    text = report_html(tmp_path / "report.html", tmp_path / "a.json", tmp_path / "b.json", "--fiscal-year", "2024")
    page = Page(text)
    assert ("h2", "Trend by fiscal year") in page.headings
    fy2024 = page.row("Single-year avoided emissions by fiscal year", "FY2024")
    assert float(fy2024[0]["value"]) == pytest.approx(README_SINGLE_YEAR / 1e4) and fy2024[1]["text"] == "—"
    assert float(page.row("Lifetime avoided emissions by fiscal year", "FY2023")[1]["value"]) > 0   # overseas FY2023
    assert "Trend by fiscal year" not in small   # one year: no trend


def test_japanese_report(tmp_path, portfolio):
    text = report_html(tmp_path / "report.html", portfolio, lang="ja")
    page = Page(text)
    assert ("html", {"lang": "ja"}) in page.tags
    assert ("h1", "削減貢献量（2023年度）") in page.headings
    assert ("h2", "分野別・国内海外別の削減貢献量") in page.headings and ("h2", "目次") in page.headings
    assert page.row("削減貢献量（2023年度）", "家電")[0]["text"] == "0.31"   # 0.3121715: two significant digits
    headers = {c["text"] for c in page.cells if c["tag"] == "th"}
    assert {"単年度 [万t-CO2e]", "稼働年数 [万t-CO2e]", "うちデバイス [万t-CO2e]", "国内", "海外"} <= headers, headers
    assert "うちデバイス（内数）" in text                                     # the charts' legend
    assert "積み上げたり合算したりしません。棒の内側の斜線の棒は" in text     # Japanese sentences: no space between


def test_result_csvs_and_other_json_are_refused_by_name(tmp_path, portfolio):
    result_csv = tmp_path / "r.csv"
    assert CliRunner().invoke(main, ["calculate", str(portfolio), "-o", str(result_csv)]).exit_code == 0
    refused = CliRunner().invoke(main, ["report", str(result_csv)])
    assert refused.exit_code == 1 and "report reads the JSON or Parquet result" in refused.output
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"format": "something-else"}), encoding="utf-8")
    with pytest.raises(KokenErrors, match="neither a koken JSON result"):
        koken.report([other])
    assert not (tmp_path / "report.html").exists()


def test_the_api_writes_html_whole_from_report_and_from_a_calculation(tmp_path, portfolio):
    out = tmp_path / "api.html"
    built = koken.report([portfolio], output=out)
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>") and built.fiscal_year == 2023
    calc = koken.calculate(portfolio)
    calc_out = tmp_path / "calc.html"
    calc.report(output=calc_out)
    assert calc_out.read_text(encoding="utf-8").count("<svg") == out.read_text(encoding="utf-8").count("<svg")
    with pytest.raises(KokenError, match=r"unsupported report type '.htm': use .html, .xlsx, .md, .csv"):
        write_report(built, tmp_path / "report.htm")
    assert not (tmp_path / "report.htm").exists()


def test_a_section_is_one_function_added_to_the_list(portfolio):
    report = koken.report([portfolio])

    def scope3(report, context):
        return Section("scope3", "Scope 3 category 11", (Paragraph(f"{len(report.lines)} lines"),))

    text = to_html(report, sections=[*SECTIONS, scope3])
    assert '<section id="scope3"' in text and ">Scope 3 category 11</h2>" in text and "<p>3 lines</p>" in text
    assert '<a href="#scope3">Scope 3 category 11</a>' in text
    with pytest.raises(ValueError, match="share an id"):
        to_html(report, sections=[scope3, scope3])


def test_svg_ids_are_prefixed_so_that_charts_do_not_share_them():
    svg = ('<?xml version="1.0"?><!DOCTYPE svg><svg xmlns="http://www.w3.org/2000/svg" '
           'xmlns:xlink="http://www.w3.org/1999/xlink"><defs><path id="m1"/></defs><use xlink:href="#m1"/>'
           '<g style="fill: url(#h1)"/><pattern id="h1"/></svg>')
    out = inline_svg(svg, "c")
    assert 'id="c-m1"' in out and 'href="#c-m1"' in out and "url(#c-h1)" in out and "DOCTYPE" not in out


# ------------------------------------------------------------------- numbers, disclosures, texts (new-user test)

def svg_texts(text: str, figure_id: str) -> list[str]:
    """The texts drawn in the chart of the figure ``figure_id`` (axis labels, tick labels, value labels, legend)."""
    figure = text.split(f'id="{figure_id}"', 1)[1].split("</figure>", 1)[0]
    svg = figure.split("<svg", 1)[1].split("</svg>", 1)[0]
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


def test_a_small_figure_reads_the_same_in_its_bar_label_and_its_table(tmp_path):
    """The filled template at the default --decimals 0. Domestic home appliances, single-year: the refrigerator
    (420 − 273) kWh/yr × 0.421 kg-CO2/kWh × 45,000 units = 2,784.915 t plus the room air conditioner (1,100 − 850)
    kWh/yr × 0.421 × 52,000 units = 5,473 t: 8,257.915 t = 0.8257915 万t-CO2e, which 0 decimals showed as "1" beside a
    bar short of 1. Shown with two significant digits: 0.83, in the table and at the end of the bar alike."""
    single = (2784.915 + (1100 - 850) * 0.421 * 52_000 / 1000) / 1e4
    assert single == pytest.approx(0.8257915)
    text = report_html(tmp_path / "r.html", TEMPLATE, lang="ja")
    page = Page(text)
    row = page.row("削減貢献量（2023年度）", "家電")
    assert float(row[0]["value"]) == pytest.approx(single) and row[0]["text"] == "0.83"
    assert "0.83" in svg_texts(text, "charts-single-year") and "1" not in svg_texts(text, "charts-single-year")
    chart_row = page.row("分野別・国内海外別の削減貢献量（単年度）", "家電")
    assert chart_row[0]["text"] == "0.83"                                    # the chart's own table agrees
    # Lifetime: 2,784.915 × 12 + 5,473 × 13 = 104,567.98 t = 10.456798 万t → "10"; its device share, the shipped
    # domestic home-appliance ratio 232 / 1,110 of it, 2.1855 万t → "(2.2)" where 0 decimals gave "(2)".
    assert row[1]["text"] == "10" and row[2]["text"] == "(2.2)"
    assert float(row[2]["value"]) == pytest.approx((2784.915 * 12 + 5473 * 13) / 1e4 * 232 / 1110)
    # Overseas single-year: (600 − 450) kWh/yr × 0.39 × 12,000 units = 702 t = 0.0702 万t → "0.070".
    assert row[3]["text"] == "0.070" and "0.070" in svg_texts(text, "charts-single-year")
    assert "有効数字 2 桁以上" in text                                        # the rounding note says how


@given(st.floats(min_value=0.01, max_value=1e7), st.integers(0, 3))
def test_a_figure_label_is_within_five_percent_of_its_value(value, decimals):
    """Two significant digits at least: a label never strays more than 5 % from its bar (above 0.01, where three
    decimals still give two digits)."""
    shown = float(figure_label(value, decimals).replace(",", ""))
    assert abs(shown - value) <= 0.05 * value


@pytest.fixture(scope="module")
def two_years(folder, portfolio) -> tuple[str, Path, Path]:
    """FY2022 (the three lines, the Japanese lines' grid factor left to the factor table) and FY2023, calculated
    apart, reported for FY2023 (``--lang ja``): the page, and the two result files."""
    frame = pd.read_csv(portfolio).assign(fiscal_year=2022)
    frame.loc[frame["region"] == "JP", "grid_emission_factor[kg-CO2/kWh]"] = None
    earlier = folder / "portfolio_fy2022.csv"
    frame.to_csv(earlier, index=False)
    results = folder / "r2022.json", folder / "r2023.json"
    for source, out in zip((earlier, portfolio), results):
        assert CliRunner().invoke(main, ["calculate", str(source), "-o", str(out)]).exit_code == 0
    text = report_html(folder / "two.html", *results, "--fiscal-year", "2023", lang="ja")
    return text, *results


def disclosures_of(text: str) -> list[tuple[str, str]]:
    page = Page(text)
    cells = [c for c in page.cells if c["table"] == "開示事項" and c["tag"] == "td"]
    return [(c["row"], c["text"]) for c in cells]


def test_the_factors_behind_every_year_shown_are_disclosed(two_years):
    """The trend shows FY2022, computed with Japan's FY2022 grid factor (0.437 kg-CO2/kWh, factors/
    grid_emission_factor.yaml: FEPC, adjusted): the disclosures name it beside FY2023's (0.421, the portfolio's)."""
    text, *_files = two_years
    page = Page(text)
    # FY2022 domestic single-year by hand: (420 − 273) × 0.437 × 45,000 / 1000 = 2,890.755 t and (380 − 300) × 0.437
    # × 10,000 / 1000 = 349.6 t: 3,240.355 t = 0.3240355 万t → "0.32".
    fy2022 = page.row("年度別の削減貢献量（単年度）", "2022年度")
    assert float(fy2022[0]["value"]) == pytest.approx((2890.755 + 349.6) / 1e4) and fy2022[0]["text"] == "0.32"
    rows = disclosures_of(text)
    assert ("系統電力の排出係数（推移に示すほかの年度）",
            "2022年度、JP：0.437 kg-CO2/kWh — 係数表 grid_emission_factor [JP 2022]（出典 fepc_fy2022、調整後排出係数、公表値）"
            ) in rows
    assert ("系統電力の排出係数", "2023年度、JP：0.421 kg-CO2/kWh — 自社の値（ポートフォリオ）") in rows


def test_completeness_counts_the_reporting_years_lines_and_names_the_others(two_years):
    text, *_files = two_years
    completeness = dict(disclosures_of(text))["網羅性"]
    assert completeness == ("2023年度の製品行 3 行をすべて集計しています（読み込んだファイル 2 件）。"
                            "負の値の製品行（製品がベースラインより劣るもの）はありません。"
                            "ある場合も 0 にせず、そのまま集計します。"
                            "ファイルにはほかの年度（2022）の製品行も 3 行ありますが、2023年度の数値には含めていません。")
    assert not completeness.startswith("網羅性")                             # the label is not repeated in the value
    assert "網羅性：2023年度の製品行 3 行をすべて集計しています" in text          # the note under the table names it once


def test_the_disclosures_name_each_file_what_it_is_and_its_hashes_never_its_folder(two_years, folder):
    text, _r2022, r2023 = two_years
    files = [value for label, value in disclosures_of(text) if label == "入力ファイル"]
    digest = "sha256:" + hashlib.sha256(r2023.read_bytes()).hexdigest()
    source = "sha256:" + hashlib.sha256((folder / "portfolio.csv").read_bytes()).hexdigest()
    created = json.loads(r2023.read_text(encoding="utf-8"))["created"]          # 2024-05-01T09:30:00+00:00
    assert files[1] == (f"r2023.json：koken calculate の結果（{digest}）、{created[:10]} {created[11:16]} UTC に"
                        f"ポートフォリオ portfolio.csv（{source}）から作成")
    assert files[0].startswith("r2022.json：koken calculate の結果（sha256:")
    assert str(folder) not in text                                               # no local folder anywhere
    made = dict(disclosures_of(text))["報告書の作成日時"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", made), made


def test_a_portfolio_reported_directly_is_named_a_portfolio(small, portfolio):
    page = Page(small)
    files = [c["text"] for c in page.cells if c["row"] == "Input file" and c["tag"] == "td"]
    assert files == ["portfolio.csv: portfolio, calculated for this report (sha256:"
                     f"{hashlib.sha256(portfolio.read_bytes()).hexdigest()})"]


def test_the_company_name_goes_into_the_title_as_text(tmp_path, portfolio):
    name = f"{HOSTILE} 電機"
    text = report_html(tmp_path / "r.html", portfolio, "--company", name, lang="ja")
    page = Page(text)
    assert ("h1", f"{name}の削減貢献量（2023年度）") in page.headings
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt; 電機の削減貢献量（2023年度）</title>" in text
    assert HOSTILE not in text and not [a for tag, a in page.tags if tag == "script"]
    assert ("会社", name) in disclosures_of(text)
    english = report_html(tmp_path / "en.html", portfolio, "--company", "Example Denki")
    assert ("h1", "Example Denki: avoided emissions, FY2023") in Page(english).headings
    with language("ja"), pytest.raises(KokenError, match="会社名は 1～200 文字の 1 行のテキストで指定してください"):
        koken.report([portfolio], company="a\nb")
    with pytest.raises(KokenError, match="the company name must be one line of text of 1 to 200 characters"):
        koken.report([portfolio], company="x" * 201)


def test_the_japanese_page_names_methodologies_steps_and_units_in_japanese(tmp_path, portfolio):
    text = report_html(tmp_path / "r.html", portfolio, lang="ja")
    page = Page(text)
    h3 = [t for tag, t in page.headings if tag == "h3"]
    assert "電気冷蔵庫（refrigerator 2.0.0）" in h3                               # the title, its id beside it
    caption = "電気冷蔵庫（refrigerator 2.0.0）：機能単位（台）あたりのベースラインと製品"
    assert any(c["table"] == caption for c in page.cells)
    assert page.row("上位", README_LINE)[0]["text"] == "電気冷蔵庫（refrigerator 2.0.0）"   # the methodology column
    assert ("算定方法", "電気冷蔵庫（refrigerator 2.0.0）：ベースライン 基準年度の製品、役割 直接") in disclosures_of(text)
    axis = svg_texts(text, "methodologies-1-chart")
    assert "機能単位（台）あたりの年間排出量 [kg-CO2e/台/yr]" in axis   # both scenarios' emissions, every methodology
    assert "annual_energy [" not in text and " emissions [" not in text and " loss [" not in text
    # The steps described in Japanese, their names beside them (the category methodologies' descriptions).
    assert "ベースライン：ベースライン設備の年間排出量（計算ステップ baseline_emissions）" in text      # transformer
    assert "ベースライン：ベースライン製品の年間排出量（計算ステップ baseline_emissions）" in text      # refrigerator
    assert "（steps）" not in text and "（inputs）" not in text
    assert "単位：万t-CO2e（CO2換算" in text and "万t-CO2（" not in text        # CO2e, as the headers say
    assert "負の値となる" not in text and "0 行も" not in text
    labels = disclosures_of(text)
    assert all(not value.startswith(label + "：") for label, value in labels)


def test_the_english_page_names_the_functional_unit_readably(small):
    assert "per functional unit (台)" not in small
    assert "Household refrigerator (refrigerator 2.0.0): baseline and product per unit (台)" in small
    assert "Annual emissions per unit (台) [kg-CO2e/台/yr]" in small
    assert "Avoided per unit (台) and year [kg-CO2e/台/yr]" in {c["text"] for c in Page(small).cells}


# ---------------------------------------------------------------------------------------- in a browser

def _koken(command: str, cwd: Path) -> None:
    env = {**os.environ, "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ.get('PATH', '')}"}
    run = subprocess.run(shlex.split(command), cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_report_in_a_browser(browser, tmp_path, lang, folder, example):
    if lang == "ja":      # README's tour command as a person types it
        (tmp_path / "examples").mkdir()
        (tmp_path / "examples" / "portfolio_fy2023.csv").write_bytes(EXAMPLE_PORTFOLIO.read_bytes())
        _koken("koken report examples/portfolio_fy2023.csv -o report.html --lang ja", tmp_path)
        report = tmp_path / "report.html"
    else:                 # the same command with --lang en, run in this process by the fixture
        report = folder / "example.html"
    assert 100_000 < report.stat().st_size < 1_000_000
    visit = browser.open(report)
    assert visit.problems() == []                      # no console error, no page error, no request, nothing missing
    page = visit.page
    assert page.locator("html").get_attribute("lang") == lang
    boxes = page.evaluate("""() => Array.from(document.querySelectorAll('figure.chart'), f => {
        const svg = f.querySelector('svg'); const box = svg.getBoundingClientRect();
        return {id: f.id, width: box.width, height: box.height, table: !!f.querySelector('table')};
    })""")
    assert len(boxes) == 2 + 1 + 16                    # two timeframes, the largest lines, 16 methodologies
    for box in boxes:
        assert box["width"] > 100 and box["height"] > 50 and box["table"], box
    # The device share is drawn inside its bar (内数): its box lies within the bar's, never beyond it.
    pairs = page.evaluate("""() => Array.from(document.querySelectorAll('g[id*="-inner-"]'), inner => {
        const bar = document.getElementById(inner.id.replace('-inner-', '-bar-'));
        const a = inner.getBBox(), b = bar.getBBox();
        return {id: inner.id, inner: [a.x, a.y, a.width, a.height], bar: [b.x, b.y, b.width, b.height]};
    })""")
    assert len(pairs) >= 10
    for p in pairs:
        (ix, iy, iw, ih), (bx, by, bw, bh) = p["inner"], p["bar"]
        assert bx - 0.01 <= ix and ix + iw <= bx + bw + 0.01 and by - 0.01 <= iy and iy + ih <= by + bh + 0.01, p
    if lang == "ja":
        heading = page.locator("#table-heading").inner_text()
        assert heading == "分野別・国内海外別の削減貢献量"
        fonts = visit.fonts("#table-heading")
        cjk = [f for f in fonts if "CJK" in f["familyName"]]
        assert cjk and sum(f["glyphCount"] for f in cjk) >= len(heading), fonts   # not tofu boxes
        # A chart's label is text (not paths), drawn by the browser in a CJK font.
        found = page.evaluate("""() => {
            const label = Array.from(document.querySelectorAll('#charts-single-year svg text'))
                .find(t => t.textContent === '家電');
            if (label) label.id = 'probe-label';
            return !!label;
        }""")
        assert found
        fonts = visit.fonts("#probe-label")
        assert any("CJK" in f["familyName"] and f["glyphCount"] == 2 for f in fonts), fonts
    shot = visit.screenshot(f"report-html-{lang}")
    assert shot.stat().st_size > 10_000
    page.emulate_media(media="print")
    assert page.locator("nav.contents").is_hidden()                               # the printable style applies


LAYOUT = r"""async () => {
  await document.fonts.ready;
  await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));   // laid out at the new width
  const out = {clipped: [], broken: [], shrunk: [], dashes: [], misaligned: [], beside: {}};
  for (const wrap of document.querySelectorAll('.table-wrap'))      // a table wider than its place scrolls: clipped
    if (wrap.scrollWidth > wrap.clientWidth + 1) out.clipped.push(wrap.querySelector('caption').textContent);
  const word = /[\p{L}\p{N}]+/gu;                                    // a run of letters and digits: one word
  for (const element of document.querySelectorAll('th, caption, figcaption, h1, h2, h3')) {
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode())
      for (const m of node.data.matchAll(word)) {
        const range = document.createRange();
        range.setStart(node, m.index); range.setEnd(node, m.index + m[0].length);
        if (new Set(Array.from(range.getClientRects(), r => Math.round(r.top))).size > 1) out.broken.push(m[0]);
      }
  }
  for (const svg of document.querySelectorAll('svg.chart-svg'))      // drawn at its own size, never shrunk
    if (svg.getBoundingClientRect().width < 0.95 * svg.width.baseVal.value) out.shrunk.push(svg.closest('figure').id);
  for (const td of document.querySelectorAll('td.num')) {
    if (td.textContent.trim() === '—') out.dashes.push(td.textContent);
    if (getComputedStyle(td).textAlign !== 'right') out.misaligned.push(td.textContent);
  }
  for (const td of document.querySelectorAll('td:not(.num)'))
    if (td.textContent.trim() === '—') out.misaligned.push(td.textContent);
  for (const figure of document.querySelectorAll('figure.chart')) {
    const chart = figure.querySelector('svg').getBoundingClientRect();
    const table = figure.querySelector('table').getBoundingClientRect();
    out.beside[figure.id] = table.top < chart.bottom - 1;
  }
  return out;
}"""


@pytest.mark.parametrize("width", [1280, 1920])
def test_tables_use_the_width_and_keep_words_whole(browser, width, example_ja, folder, portfolio):
    """The new user's screens: no table clipped behind a scrollbar, no word (市場, ソリューション, うちデバイス) broken over
    two lines in a header, a chart never shrunk to make room for its table, — aligned as the figures are; with device
    shares off the largest lines' chart keeps its table under it (its two panels at their size)."""
    no_devices = folder / "no_devices_ja.html"
    report_html(no_devices, portfolio, "--device-shares", "off", lang="ja")
    for page, wide in ((example_ja, True), (no_devices, False)):
        visit = browser.open(page)
        visit.page.set_viewport_size({"width": width, "height": 900})
        found = visit.page.evaluate(LAYOUT)
        assert found["clipped"] == [] and found["broken"] == [] and found["shrunk"] == [], found
        assert found["misaligned"] == [], found
        assert not found["beside"]["product-lines-chart"]                    # its table under it, devices or not
        if not wide:
            assert len(found["dashes"]) >= 4                                 # power generation has no lines: —
        if width == 1920 and wide:   # room for a table beside a chart (the scenarios' tables, with their units, are
            assert any(v for k, v in found["beside"].items() if k.startswith("charts-")), found["beside"]  # wider now)
        visit.screenshot(f"report-html-ja-{width}{'' if wide else '-no-devices'}")
        visit.page.close()


LEAD_INS = """() => Array.from(document.querySelectorAll(
    'main :is(h2, h3, h4, figcaption), main p:has(+ :is(figure, section, .table-wrap, .notes))'),
    e => e.textContent)"""
"""The texts that introduce what follows them: headings, captions, and a paragraph before a chart, table or part."""

PRINT_OVERFLOW = """async () => {
  await document.fonts.ready;
  await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
  const limit = document.body.getBoundingClientRect().right;
  return Array.from(document.querySelectorAll('table, svg.chart-svg'))
    .filter(e => e.getBoundingClientRect().right > limit + 1).map(e => e.closest('[id]').id);
}"""


def test_the_printed_report_keeps_headings_with_what_follows_and_every_table_on_the_page(browser, example_ja):
    """Printed (A4 landscape, the page's print style, Chromium's own PDF): no page ends with a heading, a caption or
    the paragraph that introduces a chart (the new user's print ended a page with 「ベースライン：基準年度の製品、
    役割：直接。」 and had the chart on the next), and no table or chart reaches past the page's right margin (A4
    landscape less 12 mm margins: 273 mm = 1032 CSS px)."""
    tools = {name: shutil.which(name) for name in ("pdftotext", "pdfinfo")}
    if None in tools.values():
        reason = "poppler-utils (pdftotext, pdfinfo) is not installed"
        if os.environ.get("KOKEN_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail(f"KOKEN_REQUIRE_LIBREOFFICE=1 but {reason}")
        pytest.skip(reason)
    visit = browser.open(example_ja)
    page = visit.page
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 1032, "height": 700})
    assert page.evaluate(PRINT_OVERFLOW) == []
    squeeze = lambda text: re.sub(r"\s+", "", text)                                   # noqa: E731
    lead_ins = [squeeze(t) for t in page.evaluate(LEAD_INS)]
    assert len(lead_ins) > 40 and "注記" in lead_ins and "ベースライン：基準年度の製品、役割：直接。" in lead_ins
    pdf = SCREENSHOTS / "report-html-ja.pdf"
    pdf.parent.mkdir(parents=True, exist_ok=True)
    page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
    page.close()
    info = subprocess.run([tools["pdfinfo"], str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Page size:\s+84[12]\.\d+ x 59[45]\.\d+ pts \(A4\)", info, re.M), info          # landscape
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert 10 <= pages <= 40, pages
    ends = []
    for n in range(1, pages + 1):
        text = subprocess.run([tools["pdftotext"], "-f", str(n), "-l", str(n), str(pdf), "-"],
                              capture_output=True, text=True, check=True).stdout
        last = squeeze([line for line in text.splitlines() if line.strip()][-1])
        ends.append(last)
        assert not (len(last) >= 4 and any(t.endswith(last) for t in lead_ins)), (n, last)
    assert any(re.fullmatch(r"[\d,.()]+", last) for last in ends)          # the probe sees page ends: figures
