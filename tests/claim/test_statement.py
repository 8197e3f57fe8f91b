"""koken claim: the statement in both languages, forbidden wording refused, the gates line first, no partial file."""

import json

import pytest
from click.testing import CliRunner

from koken.base.errors import KokenErrors
from koken.base.i18n import language
from koken.claim import make_claim
from koken.claim.statement import claim_markdown, forbidden_words, statement_lines
from koken.cli.commands import main

from conftest import REPO

DATA = REPO / "tests" / "data" / "claim"
RESULT = DATA / "result_fy2023.json"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.parametrize(("statement", "word"), [
    ("Our refrigerators offset 5 % of our Scope 3 emissions.", "offset"),
    ("These savings make our operations carbon neutral.", "neutral"),
    ("Climate-neutral products.", "neutral"),
    ("The products deliver negative emissions.", "negative emissions"),
    ("They compensate for our factories' emissions.", "compensate"),
    ("当社製品の削減貢献量で排出量をオフセットします。", "オフセット"),
    ("スコープ3の排出量と相殺できます。", "相殺"),
    ("2030年にカーボンニュートラルを達成します。", "カーボンニュートラル"),
    ("当社はカーボン・ニュートラルを実現します。", "カーボンニュートラル"),   # a middle dot or a space between
    ("カーボン ニュートラルに貢献します。", "カーボンニュートラル"),
    ("ネットゼロに貢献します。", "ネットゼロ"),
    ("Our products are climate-positive.", "climate positive"),
    ("A path to Net Zero.", "net zero"),
    # found by the adversarial pass of issue 16: a space inside the word, invisible format characters, other phrasings
    ("Our products off set our inventory.", "offset"),
    ("Our products off\u00adset our inventory.", "offset"),          # soft hyphen
    ("当社はカーボンニュー\u200bトラルです。", "カーボンニュートラル"),  # zero-width space
    ("The avoided emissions cancel out our Scope 3.", "cancel out"),
    ("We net them against Scope 3.", "net against"),
    ("2030年に実質ゼロを達成します。", "実質ゼロ"),
    ("排出量を打ち消します。", "打ち消し"),
    ("差し引きゼロにします。", "差し引きゼロ"),
])
def test_a_statement_with_offset_wording_is_refused_naming_the_word_and_nothing_is_written(tmp_path, statement, word):
    out = tmp_path / "claim.md"
    with pytest.raises(KokenErrors) as err:
        make_claim(RESULT, DATA / "gates_met.yaml", statement=statement, output=out)
    assert repr(word) in err.value[0].message
    assert not out.exists()
    result = run("claim", RESULT, "--gates", DATA / "gates_met.yaml", "--statement", statement, "-o", out)
    assert result.exit_code == 1 and repr(word) in result.output and not out.exists()


def test_a_plain_statement_is_kept_in_both_languages(tmp_path):
    out = tmp_path / "claim.md"
    make_claim(RESULT, DATA / "gates_met.yaml", statement="Our refrigerators avoid emissions at our customers.",
               output=out)
    text = out.read_text(encoding="utf-8")
    assert text.count("Our refrigerators avoid emissions at our customers.") == 2


def test_gates_not_met_is_the_first_line_of_every_output(tmp_path):
    md, js = tmp_path / "claim.md", tmp_path / "claim.json"
    make_claim(RESULT, DATA / "gates_not_met.yaml", output=md)
    first = md.read_text(encoding="utf-8").splitlines()[0]
    assert "near_term_targets" in first and "Eligibility gates not met" in first and "適格性ゲート" in first
    make_claim(RESULT, DATA / "gates_not_met.yaml", output=js)
    doc = json.loads(js.read_text(encoding="utf-8"))
    assert doc["gates_met"] is False
    assert doc["statement"]["en"][0].startswith("Eligibility gates not met (wbcsd_v2): near_term_targets")
    assert doc["statement"]["ja"][0].startswith("適格性ゲート") and "near_term_targets" in doc["statement"]["ja"][0]
    result = run("claim", RESULT, "--gates", DATA / "gates_not_met.yaml", "--lang", "en")
    assert result.exit_code == 0 and result.output.splitlines()[0].startswith("Eligibility gates not met")
    met = make_claim(RESULT, DATA / "gates_met.yaml")
    assert statement_lines(met)[0].startswith("Eligibility gates met")


def test_the_statement_names_the_timeframe_the_baseline_and_keeps_category_11_beside():
    bundle = make_claim(RESULT, DATA / "gates_met.yaml", timeframe="single_year")
    with language("en"):
        en = "\n".join(statement_lines(bundle))
    assert "single-year timeframe" in en and "FY2023" in en and "10.0 t-CO2e" in en  # 10 - 5 + 5
    assert "avoided emissions relative to a baseline" in en
    assert "Scope 3 category 11" in en and "60.0 t-CO2e" in en  # 40 + 20, beside, not subtracted
    assert "6.0 to 14.0 t-CO2e" in en  # the single-year entry of the uncertainty totals
    with language("ja"):
        ja = "\n".join(statement_lines(bundle))
    assert "単年度" in ja and "ベースライン" in ja and "削減貢献量" in ja


@pytest.mark.parametrize("gates", ["gates_met.yaml", "gates_not_met.yaml"])
@pytest.mark.parametrize("timeframe", ["lifetime", "single_year"])
def test_kokens_own_claim_text_never_uses_forbidden_wording(gates, timeframe):
    bundle = make_claim(RESULT, DATA / gates, timeframe=timeframe)
    text = claim_markdown(bundle)
    statement_part = text.split("## ")[0] + "\n".join(text.split("## ")[1:3])  # the gates line and both statements
    assert forbidden_words(statement_part) == []


def test_the_claim_shows_the_legitimacy_flag_in_both_languages():
    text = claim_markdown(make_claim(RESULT, DATA / "gates_met.yaml"))
    assert text.count("gas_combined_cycle") >= 2
    assert "fossil lock-in" in text and "化石燃料設備の効率向上" in text


def test_a_claim_missing_its_uncertainty_range_writes_nothing_and_says_to_run_with_draws(tmp_path):
    doc = json.loads(RESULT.read_text(encoding="utf-8"))
    del doc["uncertainty"]
    point = tmp_path / "point.json"
    point.write_text(json.dumps(doc), encoding="utf-8")
    out = tmp_path / "claim.md"
    result = run("claim", point, "--gates", DATA / "gates_met.yaml", "-o", out, "--lang", "en")
    assert result.exit_code == 1 and "uncertainty range" in result.output and "draws" in result.output
    assert not out.exists()


def test_a_whole_portfolio_of_several_categories_and_markets_is_claimed_end_to_end(tmp_path):
    """Once refused: a Monte Carlo result held ranges per (category, market) only, so a claim over all lines found no
    range. The run now adds the totals over markets, categories and all lines, draw by draw."""
    portfolio = tmp_path / "p.csv"
    portfolio.write_text(
        "product_line,methodology,fiscal_year,market,region,units_shipped[台],baseline_annual_energy[kWh/yr],"
        "product_annual_energy[kWh/yr],grid_emission_factor[kg-CO2/kWh],operating_years[yr]\n"
        "F1,refrigerator,2023,domestic,JP,1000,420 ± 5 %,273,0.421,12\n"
        "F2,refrigerator,2023,overseas,US,500,600,450 ± 10 %,0.39,12\n"
        "T1,television,2023,domestic,JP,800,200,120,0.421,10\n", encoding="utf-8")
    result = tmp_path / "r.json"
    assert run("calculate", portfolio, "--draws", "400", "--seed", "5", "-o", result).exit_code == 0
    out = tmp_path / "claim.md"
    claimed = run("claim", result, "--gates", DATA / "gates_met.yaml", "-o", out)
    assert claimed.exit_code == 0, claimed.output
    # the point figure of all lines: (420 − 273) × 0.421 × 1,000 × 12 + (600 − 450) × 0.39 × 500 × 12
    # + (200 − 120) × 0.421 × 800 × 10, in kg, ÷ 1,000 = 742.644 + 351 + 269.44 = 1,363.084 t-CO2e lifetime
    assert "1,363" in out.read_text(encoding="utf-8")
    by_name = run("claim", result, "--gates", DATA / "gates_met.yaml", "--market", "国内", "--category", "家電")
    assert by_name.exit_code == 0, by_name.output        # Japanese names of the market and the category
