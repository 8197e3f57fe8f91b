"""koken.production.metrics: one company's intensity, targets and CO2 split, by hand calculation."""

import shutil

import pytest

from koken.base.errors import KokenErrors
from koken.production.metrics import company_progress
from koken.production.submission import read_submission

from helpers import PROGRESS

KEROSENE_CO2 = 36.7 * 0.0185 * 44 / 12  # t-CO2 per kL (算定省令 2010)


def alpha():
    return company_progress(read_submission(PROGRESS / "alpha.yaml")).years.set_index("fiscal_year")


def test_energy_and_crude_oil_equivalent_by_hand():
    y = alpha()
    # FY2021: 9,500 MWh × 9.76 GJ/MWh + 80 kL × 36.7 GJ/kL = 92,720 + 2,936 = 95,656 GJ; × 0.0258 = 2,467.9248 kL
    assert y.loc[2021, "energy[GJ]"] == pytest.approx(95_656)
    assert y.loc[2021, "energy[原油換算kL]"] == pytest.approx(95_656 * 0.0258)


def test_intensity_improvement_and_commit_path_by_hand():
    y = alpha()
    base = (9_800 * 9.76 + 100 * 36.7) * 0.0258 / 50  # FY2020: 99,318 GJ → 2,562.4044 kL over 50 (10億円)
    fy21 = 95_656 * 0.0258 / 52
    fy22 = (9_000 * 9.76 + 80 * 36.7) * 0.0258 / 53
    assert y.loc[2021, "intensity[原油換算kL/10億円]"] == pytest.approx(fy21)
    assert y.loc[2021, "intensity_improvement[fraction]"] == pytest.approx(1 - fy21 / base)
    assert y.loc[2022, "commit_path[fraction]"] == pytest.approx(1 - 0.99 ** 2)
    assert y.loc[2022, "average_annual_improvement[fraction]"] == pytest.approx(1 - (fy22 / base) ** 0.5)
    assert bool(y.loc[2021, "commit_on_track"]) is (1 - fy21 / base >= 0.01)


def test_co2_against_the_challenge_base_year_by_hand():
    y = alpha()
    co2_19 = 10_000_000 * 0.45 / 1000 + 100 * KEROSENE_CO2    # declared supplier factor
    co2_21 = 9_500_000 * 0.436 / 1000 + 80 * KEROSENE_CO2     # grid table, JP FY2021
    assert y.loc[2021, "co2[t-CO2]"] == pytest.approx(co2_21)
    assert y.loc[2021, "co2_change_vs_base[fraction]"] == pytest.approx(co2_21 / co2_19 - 1)
    # the straight path from the declared base FY2019 to −46 % in FY2030
    assert y.loc[2021, "challenge_path[fraction]"] == pytest.approx(-0.46 * 2 / 11)


def test_co2_change_splits_into_power_factor_and_own_parts_by_hand():
    y = alpha()
    co2_20 = 9_800_000 * 0.44 / 1000 + 100 * KEROSENE_CO2
    co2_21 = 9_500_000 * 0.436 / 1000 + 80 * KEROSENE_CO2
    factor_part = 9_500_000 * (0.436 - 0.44) / 1000  # −38 t
    assert y.loc[2021, "co2_change[t-CO2]"] == pytest.approx(co2_21 - co2_20)
    assert y.loc[2021, "co2_change_power_factor[t-CO2]"] == pytest.approx(factor_part)
    assert y.loc[2021, "co2_change_own[t-CO2]"] == pytest.approx(co2_21 - co2_20 - factor_part)
    # fixed-factor view: electricity at the challenge base year's factor (0.45)
    assert y.loc[2021, "co2_fixed_factor[t-CO2]"] == pytest.approx(9_500_000 * 0.45 / 1000 + 80 * KEROSENE_CO2)


def test_renewable_share_of_electricity_by_hand():
    # FY2021: (0.5 GWh self-consumed + 1 GWh purchased) ÷ (9.5 GWh purchased + 0.5 GWh self-consumed)
    assert alpha().loc[2021, "renewable_share[fraction]"] == pytest.approx(1.5 / 10.0)


def test_declared_supplier_values_are_used_and_recorded():
    gamma = company_progress(read_submission(PROGRESS / "gamma.yaml"))
    gas = gamma.carriers[(gamma.carriers["carrier"] == "city_gas") & (gamma.carriers["fiscal_year"] == 2021)].iloc[0]
    assert gas["energy[GJ]"] == pytest.approx(90 * 45) and gas["co2[t-CO2]"] == pytest.approx(90 * 2.05)
    assert "test gas supplier" in gas["heat_value_origin"]
    assert any(o["source"] == "declared by the company" and o["fiscal_year"] == 2019 for o in gamma.origins)


def write(tmp_path, text: str, name="s.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read_submission(path)


HEAD = """format: koken-progress/1
company: T
intensity: {measure: m, unit: 10億円}
base_years: {commit: 2021, challenge: 2021}
"""


def problems(sub) -> list[str]:
    with pytest.raises(KokenErrors) as err:
        company_progress(sub)
    return [str(e) for e in err.value]


def test_a_missing_base_year_is_refused(tmp_path):
    sub = write(tmp_path, HEAD.replace("challenge: 2021", "challenge: 2013") + """years:
  - {fiscal_year: 2021, energy: {electricity_purchased: 1 MWh}, activity: 1 10億円}
""")
    assert any("challenge target's base year FY2013 is missing" in p for p in problems(sub))


def test_a_carrier_without_a_heat_value_is_refused_with_the_years_covered(tmp_path):
    sub = write(tmp_path, HEAD.replace("2021", "2023") + """years:
  - fiscal_year: 2023
    energy: {electricity_purchased: 1 MWh, kerosene: 1 kL, city_gas: 1 千m3}
    activity: 1 10億円
""")
    found = problems(sub)
    assert any("no heat value for kerosene" in p and "FY2014–FY2022" in p and "years.0.energy.kerosene" in p for p in found)
    assert any("no heat value for city_gas" in p and "supplier" in p for p in found)


def test_an_energy_given_as_a_plain_volume_is_refused(tmp_path):
    sub = write(tmp_path, HEAD + """years:
  - fiscal_year: 2021
    activity: 1 10億円
    reported: {energy: 3 万kL, co2: 1 t-CO2, source: earlier report}
""")
    assert any("原油換算万kL" in p and "reported.energy" in p for p in problems(sub))


def test_every_problem_is_reported_at_once(tmp_path):
    sub = write(tmp_path, HEAD + """years:
  - fiscal_year: 2021
    energy: {electricity_purchased: 1 kg, naphtha: 1 kL}
    activity: 1 kWh
    measures: [{kind: magic, investment: 1 百万円, reduction: 1 t-CO2/yr}]
""")
    found = problems(sub)
    assert len(found) >= 4
    assert any("unknown energy carrier 'naphtha'" in p for p in found)
    assert any("unknown measure kind 'magic'" in p for p in found)


def test_a_year_outside_the_power_factor_table_needs_a_declared_factor(tmp_path):
    # the grid table starts at FY2013 (電気事業連合会); FY2012 has no value
    sub = write(tmp_path, HEAD.replace("2021", "2012") + """years:
  - {fiscal_year: 2012, energy: {electricity_purchased: 1 MWh}, activity: 1 10億円}
""")
    assert any("no electricity CO2 factor for FY2012" in p for p in problems(sub))


def test_renewables_beyond_the_electricity_purchased_are_refused(tmp_path):
    sub = write(tmp_path, HEAD + """years:
  - fiscal_year: 2021
    energy: {electricity_purchased: 1 MWh}
    activity: 1 10億円
    renewables: {purchased: 1 GWh}
""")
    assert any("exceed the electricity purchased" in p for p in problems(sub))


def test_the_bundled_example_submissions_compute(tmp_path):
    from helpers import ROOT

    for path in sorted((ROOT / "examples" / "progress").iterdir()):
        shutil.copy(path, tmp_path / path.name)
        assert len(company_progress(read_submission(tmp_path / path.name)).years) == 5


# Found by the adversarial pass: each input gave a figure (inf, a sign flip, a silently summed or first-wins value)
# instead of a refusal.
@pytest.mark.parametrize("energy, activity, extra, message", [
    ("{electricity_purchased: 1 MWh}", "0 10億円", "", "activity (m) must be greater than 0"),
    ("{electricity_purchased: 1 MWh}", "-52 10億円", "", "activity (m) must be greater than 0"),
    ("{electricity_purchased: 0 MWh}", "1 10億円", "", "has no energy"),
    ("{electricity_purchased: -9500 MWh}", "1 10億円", "", "must be 0 or more"),
    ("{electricity_purchased: 1e308 MWh, kerosene: 1e308 kL}", "1 10億円", "", "too large"),
    ("{electricity_purchased: 1 MWh, kerosene: 20% kL}", "1 10億円", "", "percent sign"),
    ("{electricity_purchased: 34200 GJ}", "1 10億円", "", "give electricity in kWh, MWh or GWh"),
    ("{electricity_purchased: 1 MWh, 買電（系統電力）: 1 MWh}", "1 10億円", "", "is given twice"),
    ("{electricity_purchased: 1 MWh}", "1 10億円",
     "electricity_factors:\n  - {fiscal_year: 2021, value: 0.99, unit: kg-CO2/kWh, source: a}\n"
     "  - {fiscal_year: 2021, value: 0.44, unit: kg-CO2/kWh, source: b}\n", "declared twice"),
    ("{electricity_purchased: 1 MWh}", "1 10億円",
     "electricity_factors:\n  - {fiscal_year: 2021, value: -0.44, unit: kg-CO2/kWh, source: a}\n", "0 or more"),
    ("{electricity_purchased: 1 MWh, kerosene: 1 kL}", "1 10億円",
     "heat_values:\n  - {carrier: kerosene, value: 36.5, unit: GJ/kL, source: a}\n"
     "  - {carrier: 灯油, value: 99, unit: GJ/kL, source: b}\n", "declared twice for overlapping years"),
])
def test_inputs_that_gave_wrong_figures_are_refused(tmp_path, energy, activity, extra, message):
    sub = write(tmp_path, HEAD + extra + f"years:\n  - {{fiscal_year: 2021, energy: {energy}, activity: {activity}}}\n")
    assert any(message in p for p in problems(sub)), problems(sub)


def test_an_unknown_carrier_is_refused_in_the_chosen_language(tmp_path):
    from koken.base.i18n import language

    sub = write(tmp_path, HEAD + """years:
  - {fiscal_year: 2021, energy: {electricity_purchased: 1 MWh, naphtha: 1 kL}, activity: -1 10億円}
""")
    with language("ja"):
        found = problems(sub)
    assert any("エネルギー種別 'naphtha' は不明です。" in p and "のいずれかを指定してください。" in p for p in found), found
    assert any("生産活動量（m） は 0 より大きくしてください（記入値：'-1 10億円'）。" in p for p in found), found
    with language("en"):
        found = problems(sub)
    assert any("unknown energy carrier 'naphtha': expected one of" in p for p in found), found
    assert any("activity (m) must be greater than 0, got '-1 10億円'" in p for p in found), found


def test_a_plain_kl_for_energy_gets_the_hint_in_the_chosen_language(tmp_path):
    from koken.base.i18n import language

    sub = write(tmp_path, HEAD + """years:
  - fiscal_year: 2021
    activity: 1 10億円
    reported: {energy: 3 万kL, co2: 1 t-CO2, source: earlier report}
""")
    with language("ja"):
        assert any("単位のない kL は体積です" in p for p in problems(sub))
    with language("en"):
        assert any("a plain kL is a volume" in p for p in problems(sub))
