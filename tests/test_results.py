"""koken.results: the JSON result document."""

import json

import pytest
from click.testing import CliRunner

from koken.base.errors import KokenErrors
from koken.base.i18n import language
from koken.calculation import calculate
from koken.cli.commands import main
from koken.portfolio.build import read_portfolio
from koken.reporting.action_plan import load_result_documents
from koken.results import result_document

from conftest import EXAMPLE_PORTFOLIO


def test_the_documents_note_is_in_the_chosen_language_and_its_figures_are_not(library):
    calc = calculate(read_portfolio(EXAMPLE_PORTFOLIO, library), library)
    with language("en"):
        english = result_document(calc)
    with language("ja"):
        japanese = result_document(calc)
    assert english["note"] == ("single_year and lifetime are separate timeframes and fiscal years are kept apart; "
                               "they are never added together")
    assert japanese["note"].startswith("single_year（単年度）と lifetime（稼働年数分）は別々の期間で")
    # rows (with their recorded origins) and totals do not depend on the language: verify compares them
    assert japanese["rows"] == english["rows"] and japanese["totals_by_market"] == english["totals_by_market"]


def test_a_vintage_shipped_after_the_installed_base_year_is_null_in_json_and_read_back(tmp_path):
    """`koken calculate examples/portfolio_fy2023.csv -o r.json --installed-base 2022` ended in `ValueError:
    non-finite number in results`: every row was shipped in FY2023, after the reporting year 2022, so none is in
    service yet and its installed-base figure is NaN. It is written as null (the vintage is not in the installed base
    of that year; the column stays on every row), the strict reader takes null there (and only there, besides the
    device shares), report and verify read the result, and the workbook and CSV leave the cell empty."""
    out = tmp_path / "r.json"
    done = CliRunner().invoke(main, ["calculate", str(EXAMPLE_PORTFOLIO), "-o", str(out), "--installed-base", "2022"])
    assert done.exit_code == 0, done.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert [r["installed_base_annual[t-CO2e]"] for r in doc["rows"]] == [None] * len(doc["rows"])
    assert load_result_documents([out])
    assert CliRunner().invoke(main, ["report", str(out)]).exit_code == 0
    checked = CliRunner().invoke(main, ["verify", str(out), str(EXAMPLE_PORTFOLIO)])
    assert checked.exit_code == 0 and "The result stands" in checked.output, checked.output
    for suffix in (".csv", ".xlsx"):
        other = tmp_path / f"r{suffix}"
        written = CliRunner().invoke(main, ["calculate", str(EXAMPLE_PORTFOLIO), "-o", str(other),
                                            "--installed-base", "2022"])
        assert written.exit_code == 0, (suffix, written.output)
    # null stays refused where a figure must be a number
    doc["rows"][0]["lifetime[t-CO2e]"] = None
    out.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(KokenErrors, match=r"lifetime\[t-CO2e\] is None, not a finite number"):
        load_result_documents([out])


def test_a_baseline_of_no_emissions_writes_no_avoided_share_instead_of_crashing(tmp_path):
    """A solar line with a capacity factor of 0: baseline and product emissions are both 0, the avoided share 0 / 0.
    `-o p.json` ended in `ValueError: non-finite number in results`; the share is written as null, report reads it."""
    portfolio = tmp_path / "p.csv"
    portfolio.write_text("product_line,methodology,fiscal_year,market,region,units_shipped,capacity_factor[fraction],"
                         "operating_years[yr]\nPV,solar_pv,2023,domestic,JP,1000 kW,0,20\n", encoding="utf-8")
    out = tmp_path / "p.json"
    done = CliRunner().invoke(main, ["calculate", str(portfolio), "-o", str(out)])
    assert done.exit_code == 0, done.output
    row = json.loads(out.read_text(encoding="utf-8"))["rows"][0]
    assert row["avoided_share[fraction]"] is None and row["single_year[t-CO2e]"] == 0
    assert load_result_documents([out]) and CliRunner().invoke(main, ["report", str(out)]).exit_code == 0
