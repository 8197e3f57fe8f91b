"""koken.factors: sourced factor tables, lookups by region and year, overrides, no extrapolation."""

import pytest

from koken.base.errors import KokenErrors
from koken.calculation import calculate
from koken.factors import load_factor_table, load_factor_tables
from koken.portfolio.build import read_portfolio
from koken.results import row_details

HEADER = ("methodology,fiscal_year,market,region,units_shipped[台],baseline_annual_energy[kWh/yr],"
          "product_annual_energy[kWh/yr],grid_emission_factor[kg-CO2/kWh],operating_years[yr]\n")


def test_bundled_tables_load_and_hold_the_cited_japanese_factors():
    tables, problems = load_factor_tables()
    assert not problems
    grid = tables["grid_emission_factor"]
    # 電気事業連合会 FY2013 0.570; 協議会 FY2021 0.436; FY2023 0.421 (kg-CO2/kWh)
    assert grid.index[("JP", 2013)].value == 0.570
    assert grid.index[("JP", 2021)].value == 0.436
    assert grid.index[("JP", 2023)].value == 0.421
    assert grid.index[("JP", 2022)].status == "derived"
    # 24.42 tC/TJ × 44/12 = 89.54 kg-CO2/GJ
    assert tables["fuel_emission_factor"].index[("coal",)].value == pytest.approx(24.42 * 44 / 12, abs=0.005)
    assert tables["gwp100_ar5"].index[("CH4",)].value == 28


def run(tmp_path, library, body):
    p = tmp_path / "p.csv"
    p.write_text(HEADER + body, encoding="utf-8")
    return calculate(read_portfolio(p, library, collect=True), library).table


def test_empty_factor_cell_takes_the_table_value_and_says_so(tmp_path, library):
    table = run(tmp_path, library, "refrigerator,2021,domestic,,1000,420,273,,12\n")
    # (420 - 273) × 0.436 (JP FY2021) × 1,000 台 / 1,000 = 64.092 t-CO2
    assert table["single_year[t-CO2e]"].iloc[0] == pytest.approx(64.092)
    assert table["factors_from_tables"].iloc[0] == "grid_emission_factor=grid_emission_factor[JP 2021] (adjusted, published)"


def test_company_value_overrides_the_table(tmp_path, library):
    table = run(tmp_path, library, "refrigerator,2021,domestic,JP,1000,420,273,0.5,12\n")
    assert table["single_year[t-CO2e]"].iloc[0] == pytest.approx(147 * 0.5)
    assert table["factors_from_tables"].iloc[0] == ""


def test_year_outside_the_table_is_an_error_never_extrapolated(tmp_path, library):
    with pytest.raises(KokenErrors, match="no value for region 'JP', fiscal_year 2019.*does not extrapolate"):
        run(tmp_path, library, "refrigerator,2019,domestic,,1000,420,273,,12\n")


def test_overseas_row_without_region_needs_one(tmp_path, library):
    with pytest.raises(KokenErrors, match="has no region"):
        run(tmp_path, library, "refrigerator,2022,overseas,,1000,420,273,,12\n")


def test_table_format_errors_are_reported(tmp_path):
    bad = tmp_path / "bad_table.yaml"
    bad.write_text("id: bad_table\ntitle: {en: x, ja: x}\nunit: kg-CO2/kWh\nkeys: [region, fiscal_year]\n"
                   "sources: [{id: s, title: t, publisher: p, year: 2020}]\n"
                   "entries:\n  - {region: JP, fiscal_year: 2020, value: 0.5, source: nowhere}\n",
                   encoding="utf-8")
    with pytest.raises(KokenErrors, match="unknown source 'nowhere'"):
        load_factor_table(bad)
    bad.write_text("id: bad_table\ntitle: {en: x, ja: x}\nunit: kg-CO2/kWh\nkeys: [region, fiscal_year]\n"
                   "sources: [{id: s, title: t, publisher: p, year: 2020}]\n"
                   "entries:\n  - {region: JP, value: 0.5, source: s}\n", encoding="utf-8")
    with pytest.raises(KokenErrors, match="keys"):
        load_factor_table(bad)


def test_a_trace_origin_keeps_a_key_with_a_space_whole_and_typed(tmp_path):
    """A region "New Zealand" was split at its space when a trace described the table entry."""
    table = tmp_path / "grid_nz.yaml"
    table.write_text(
        "id: grid_nz\ntitle: {ja: 係数, en: factor}\nunit: kg-CO2/kWh\nkeys: [region, fiscal_year]\n"
        "sources:\n  - {id: src, title: t, publisher: p, year: 2024}\n"
        "entries:\n  - {region: New Zealand, fiscal_year: 2022, value: 0.1, source: src}\n", encoding="utf-8")
    loaded = load_factor_table(table)
    origin = loaded.origin("New Zealand 2022")
    assert origin["key"] == {"region": "New Zealand", "fiscal_year": 2022}
    assert loaded.entry("New Zealand 2022").value == 0.1
    with pytest.raises(KeyError):
        loaded.entry("New 2022")


def test_a_derived_value_is_flagged_in_the_results_origin(tmp_path, library):
    p = tmp_path / "p.csv"
    p.write_text(HEADER + "refrigerator,2023,domestic,,1000,420,273,,12\n", encoding="utf-8")
    calc = calculate(read_portfolio(p, library, collect=True), library)
    assert calc.table["factors_from_tables"].iloc[0] == \
        "grid_emission_factor=grid_emission_factor[JP 2023] (adjusted, derived)"
    origin = row_details(calc)[0]["inputs"]["grid_emission_factor"]["origin"]
    assert origin == "factor table grid_emission_factor [JP 2023] (source shincho_fy2023; adjusted, derived)"
    # (420 - 273) × 0.421 × 1,000 台 / 1,000 = 61.887 t-CO2
    assert calc.table["single_year[t-CO2e]"].iloc[0] == pytest.approx(61.887)


def write_table(tmp_path, entries: str, sources: str = "[{id: s, title: t, publisher: p, year: 2020}]"):
    path = tmp_path / "toy_grid.yaml"
    path.write_text("id: toy_grid\ntitle: {en: x, ja: x}\nunit: kg-CO2/kWh\nkeys: [region, fiscal_year]\n"
                    "sources: " + sources + "\nentries:\n" + entries, encoding="utf-8")
    return path


def test_an_entry_without_a_source_is_refused_at_its_field(tmp_path):
    path = write_table(tmp_path, "  - {region: JP, fiscal_year: 2020, value: 0.5}\n")
    with pytest.raises(KokenErrors) as caught:
        load_factor_table(path)
    (err,) = caught.value.errors
    assert err.location.file.endswith("toy_grid.yaml") and err.location.field == "entries.0.source"
    assert "no source" in err.message and "(s)" in err.message


def test_table_problems_are_all_reported_at_once_each_at_its_field(tmp_path):
    path = write_table(tmp_path, "  - {region: JP, fiscal_year: 2020, value: 0.5, source: s, basis: adjusted}\n"
                                 "  - {region: JP, fiscal_year: 2020, value: 0.4, source: s, basis: adjusted}\n"
                                 "  - {region: JP, fiscal_year: 2021, value: 0.5, source: s, status: derived}\n"
                                 "  - {region: JP, fiscal_year: 2022, value: -1, source: nowhere}\n")
    with pytest.raises(KokenErrors) as caught:
        load_factor_table(path)
    found = {e.location.field: e.message for e in caught.value.errors}
    assert "repeats entries.0" in found["entries.1"]
    assert "a derived value needs a note" in found["entries.2.note"]
    assert "unknown source 'nowhere'" in found["entries.3.source"]
    assert ">= 0" in found["entries.3.value"]
    assert "mark exactly one" in found["entries.0.default"]   # JP 2020 has two entries and no default


def test_several_entries_of_one_key_need_exactly_one_default(tmp_path):
    path = write_table(tmp_path, "  - {region: JP, fiscal_year: 2020, value: 0.5, source: s, basis: adjusted, default: true}\n"
                                 "  - {region: JP, fiscal_year: 2020, value: 0.4, source: s, basis: basic}\n")
    table = load_factor_table(path)
    assert table.index[("JP", 2020)].value == 0.5 and [e.value for e in table.entries[("JP", 2020)]] == [0.5, 0.4]
    path = write_table(tmp_path, "  - {region: JP, fiscal_year: 2020, value: 0.5, source: s, basis: adjusted, default: true}\n"
                                 "  - {region: JP, fiscal_year: 2020, value: 0.4, source: s, basis: basic, default: true}\n")
    with pytest.raises(KokenErrors, match="2 marked default: true; mark exactly one"):
        load_factor_table(path)
