"""koken.results: the JSON result document."""

from koken.base.i18n import language
from koken.calculation import calculate
from koken.portfolio.build import read_portfolio
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
