"""koken.factors: sourced factor tables, lookups by region and year, overrides, no extrapolation."""

import numpy as np
import pytest

from koken.base.errors import KokenError, KokenErrors, Location
from koken.calculation import calculate
from koken.factors import listing, load_factor_table, load_factor_tables, lookup, overview, year_ranges
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
    # the table starts at FY2013 (電気事業連合会); FY2012 is before it
    with pytest.raises(KokenErrors, match="no value for region 'JP', fiscal_year 2012.*does not extrapolate"):
        run(tmp_path, library, "refrigerator,2012,domestic,,1000,420,273,,12\n")


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


# The Japanese all-source average (全電源平均, adjusted 調整後, per kWh sold) that a lookup returns, FY2013-FY2023,
# each with its source, status and basis as factors/grid_emission_factor.yaml cites them:
JP_GRID = {
    2013: (0.570, "published", "fepc_fy2014"),        # 電気事業連合会 CO2排出実績 2014年度 (2013年度 0.570)
    2014: (0.554, "published", "fepc_fy2014"),        # same page: 2014年度 調整後 0.554
    2015: (0.531, "published", "sankeibiz_fy2016"),   # SankeiBiz 2017-09-12: 15年度の0.531キログラム
    2016: (0.516, "final", "denki_fy2016_final"),     # 電気新聞 2018-02-01: 16年度確報 0.516
    2017: (0.496, "derived", "jaif_fy2018"),          # JAIF 2019-09-24: FY2018 0.463, 6.7 % below FY2017 → 0.463/0.933
    2018: (0.463, "preliminary", "jaif_fy2018"),      # same: 2018年度 速報値 0.463
    2019: (0.444, "derived", "jaif_fy2020"),          # JAIF 2021-09-13: FY2020 0.439, about 1.1 % below FY2019 → 0.439/0.989
    2020: (0.439, "preliminary", "jaif_fy2020"),      # same: 2020年度 速報値 0.439
    2021: (0.436, "published", "denjiji_fy2021"),     # 電気事業新聞: 2021年度 0.436
    2022: (0.437, "published", "fepc_fy2022"),        # 電気事業連合会 CO2排出実績 2022年度: 調整後 0.437
    2023: (0.421, "preliminary", "argus_fy2023"),     # Argus Media 2024: ELCS preliminary 0.421 kg/kWh
}


def test_every_japanese_year_from_fy2013_is_looked_up_with_its_status_and_basis():
    grid = load_factor_tables()[0]["grid_emission_factor"]
    years = np.array(sorted(JP_GRID))
    found, problems = lookup(grid, {}, {"region": np.full(len(years), "JP", dtype=object), "fiscal_year": years},
                             np.ones(len(years), dtype=bool), "grid_emission_factor", lambda i: Location())
    assert not problems and found.found.all()
    assert dict(zip(years.tolist(), found.values.tolist())) == {y: v for y, (v, _, _) in JP_GRID.items()}
    assert dict(zip(years.tolist(), found.statuses)) == {y: s for y, (_, s, _) in JP_GRID.items()}
    assert dict(zip(years.tolist(), found.sources)) == {y: src for y, (_, _, src) in JP_GRID.items()}
    assert set(found.bases) == {"adjusted"}
    # the derived years say how in their notes
    assert "0.463 / (1 - 0.067)" in grid.index[("JP", 2017)].note
    assert "0.439 / (1 - 0.011)" in grid.index[("JP", 2019)].note
    # 0.463 / (1 - 0.067) = 0.4962 and 0.439 / (1 - 0.011) = 0.4439, at three decimals
    assert round(0.463 / (1 - 0.067), 3) == JP_GRID[2017][0] and round(0.439 / (1 - 0.011), 3) == JP_GRID[2019][0]


def test_other_bases_and_releases_are_listed_beside_the_lookup_value():
    grid = load_factor_tables()[0]["grid_emission_factor"]
    fy2018 = {(grid.basis(e), e.status): e.value for e in grid.entries[("JP", 2018)]}
    # 九州電力: 全国平均係数を適用 0.462 (national average, 2020-01-07); 資源エネルギー庁 需給実績 0.49 (速報)
    assert fy2018 == {("adjusted", "preliminary"): 0.463, ("national_average", "final"): 0.462,
                      ("energy_statistics", "preliminary"): 0.49}
    # FEPC's FY2022 results give FY2021 as 0.435; the lookup keeps 0.436, which existing results use
    assert [e.value for e in grid.entries[("JP", 2021)]] == [0.436, 0.435]
    # 電気事業連合会 2014年度: 実排出係数 0.556, 調整後 0.554
    assert {grid.basis(e): e.value for e in grid.entries[("JP", 2014)] if e.source == "fepc_fy2014"} == \
        {"adjusted": 0.554, "actual": 0.556}
    # every grid entry says what it measures and where it comes from
    for group in grid.entries.values():
        for e in group:
            assert grid.basis(e) and e.source and grid.source(e).url


def test_overseas_markets_carry_their_basis():
    grid = load_factor_tables()[0]["grid_emission_factor"]
    # EIA 2023: 1,532 million t / 4,183,271 million kWh = 0.366 kg/kWh (utility-scale net generation)
    assert grid.index[("US", 2023)].value == pytest.approx(1532 / 4183.271, abs=0.0005)
    # 生态环境部・国家统计局: 全国电力平均二氧化碳排放因子 2022 0.5366 kgCO2/kWh
    assert (grid.index[("CN", 2022)].value, grid.basis(grid.index[("CN", 2022)])) == (0.5366, "national_average")
    # CEA v20.0: weighted average 2023-24 0.727 tCO2/MWh; DCC Viet Nam 2023 0.6592 (combined margin)
    assert grid.index[("IN", 2023)].value == 0.727
    assert (grid.index[("VN", 2023)].value, grid.basis(grid.index[("VN", 2023)])) == (0.6592, "combined_margin")
    # 經濟部能源署 2023 0.494 kg CO2e/度; 기후에너지환경부 2023 0.4173 tCO2eq/MWh; EMA 2017 0.4192 kg CO2/kWh
    assert (grid.index[("TW", 2023)].value, grid.index[("KR", 2023)].value, grid.index[("SG", 2017)].value) == \
        (0.494, 0.4173, 0.4192)
    # EEA: EU-27 281 g CO2e/kWh in 2018 (gross generation)
    assert (grid.index[("EU", 2018)].value, grid.basis(grid.index[("EU", 2018)])) == (0.281, "generation_gross")


def test_a_preliminary_value_is_flagged_in_the_results_origin(tmp_path, library):
    p = tmp_path / "p.csv"
    p.write_text(HEADER + "refrigerator,2023,domestic,,1000,420,273,,12\n", encoding="utf-8")
    calc = calculate(read_portfolio(p, library, collect=True), library)
    assert calc.table["factors_from_tables"].iloc[0] == \
        "grid_emission_factor=grid_emission_factor[JP 2023] (adjusted, preliminary)"
    origin = row_details(calc)[0]["inputs"]["grid_emission_factor"]["origin"]
    assert origin == "factor table grid_emission_factor [JP 2023] (source argus_fy2023; adjusted, preliminary)"
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


def test_overview_lists_every_table_with_its_regions_and_years():
    frame = overview(load_factor_tables()[0])
    grid = frame.set_index("table").loc["grid_emission_factor"]
    assert grid["unit"] == "kg-CO2/kWh" and grid["keys"] == "region, fiscal_year"
    assert {"JP", "US", "CN", "IN", "VN", "SG", "TW", "KR", "EU", "DE"} <= set(grid["regions"].split(", "))
    assert grid["fiscal_years"] == "2013-2023"
    assert year_ranges([2001, 2013, 2030]) == "2001, 2013, 2030"


def test_listing_filters_by_region_and_year_and_names_every_source():
    tables = load_factor_tables()[0]
    jp2019 = listing(tables, "grid_emission_factor", region="jp", fiscal_year=2019)
    # 協議会 basis derived from the FY2020 release 0.444 (the lookup value); METI energy statistics 0.47 (速報)
    assert list(jp2019["value"]) == [0.444, 0.47] and list(jp2019["default"]) == [True, False]
    assert list(jp2019["basis"]) == ["adjusted", "energy_statistics"] and jp2019["url"].str.startswith("https://").all()
    everything = listing(tables, fiscal_year=2013)   # tables without a fiscal year drop out
    assert set(everything["table"]) == {"grid_emission_factor", "thermal_average_emission_factor"}
    fuels = listing(tables, "fuel_emission_factor")
    assert "region" not in fuels and fuels["fuel"].iloc[0] == "coal"
    with pytest.raises(KokenError, match="no factor table 'grid'; the tables are: fuel_emission_factor"):
        listing(tables, "grid")
