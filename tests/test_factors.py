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
    # AR5 Table 8.A.1: methane 28, one value whatever its origin (the origin is declared for AR6's sake)
    assert tables["gwp100_ar5"].index[("CH4-non-fossil",)].value == tables["gwp100_ar5"].index[("CH4-fossil",)].value == 28


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


# --- GWP sets (issue 17 §1) ---------------------------------------------------------------------------------


def test_an_ar6_gwp_set_holds_the_values_of_ipcc_ar6_table_7_15():
    """IPCC AR6 WG1 Chapter 7, Table 7.15 (GWP-100): CH4 fossil 29.8, non-fossil 27.0, N2O 273, HFC-32 771,
    HFC-134a 1,530; Table 7.SM.7: HFC-125 3,740, SF6 25,200. There was no AR6 set."""
    tables, problems = load_factor_tables()
    assert not problems
    ar6 = tables["gwp100_ar6"]
    values = {gas: ar6.index[(gas,)].value for (gas,) in ar6.index}
    assert values == {"CO2": 1, "CH4-fossil": 29.8, "CH4-non-fossil": 27.0, "N2O": 273, "HFC-32": 771,
                      "HFC-134a": 1530, "HFC-125": 3740, "SF6": 25200}
    assert {ar6.source(e).id for e in ar6.index.values()} == {"ipcc_ar6_wg1_7_15", "ipcc_ar6_wg1_7sm7"}
    assert "Table 7.15" in ar6.source(ar6.index[("CH4-fossil",)]).title


def _refrigerant(tmp_path, gas="HFC-32", table="gwp"):
    """A toy methodology whose avoided emissions are refrigerant leakage avoided × the gas's GWP: the baseline's
    leakage and the product's, each × the GWP, are its two scenarios."""
    from helpers import load_folder, methodology_dict, write_methodology

    data = methodology_dict(id="refrigerant", title={"ja": "冷媒", "en": "Refrigerant"})
    data["parameters"] = {
        "baseline_leak": {"unit": "kg/yr", "description": {"ja": "ベースラインの漏えい量", "en": "baseline leakage"}},
        "product_leak": {"unit": "kg/yr", "description": {"ja": "製品の漏えい量", "en": "product leakage"}},
        "refrigerant_gwp": {"unit": "kg-CO2e/kg", "description": {"ja": "GWP", "en": "GWP"},
                            "factor": {"table": table, "key": {"gas": gas}}},
        "operating_years": {"unit": "yr", "description": {"ja": "l", "en": "l"}},
    }
    data["formulas"] = [
        {"name": "avoided_per_unit_year", "expression": "(baseline_leak - product_leak) * refrigerant_gwp",
         "unit": "kg-CO2e/台/yr"},
        {"name": "baseline_emissions", "expression": "baseline_leak * refrigerant_gwp", "unit": "kg-CO2e/台/yr"},
        {"name": "product_emissions", "expression": "product_leak * refrigerant_gwp", "unit": "kg-CO2e/台/yr"}]
    data["examples"] = [{"name": "hand", "description": "d", "source": "hand_calculation",
                         "calculation": "(0.1 - 0) kg/yr × 677 (AR5 HFC-32) = 67.7 kg-CO2e/yr",
                         "inputs": {"baseline_leak": "0.1 kg/yr", "product_leak": "0 kg/yr",
                                    "operating_years": "10 yr"},
                         "expected": {"avoided_per_unit_year": {"value": 67.7, "unit": "kg-CO2e/台/yr"}}}]
    write_methodology(tmp_path / "lib", data)
    return load_folder(tmp_path / "lib", check_examples=True)


def test_a_gwp_follows_the_fiscal_year_under_the_rule_the_run_declares(tmp_path):
    """A regulator moving from AR4 to AR5 in FY2024: the FY2023 line reads AR4's HFC-32 (675), the FY2024 line AR5's
    (677); without a rule every line reads the default set (AR5), and ar6 reads 771. Results name the sets used."""
    library, problems = _refrigerant(tmp_path)
    assert not problems, problems
    p = tmp_path / "leaks.csv"
    p.write_text("methodology,fiscal_year,market,units_shipped[台],baseline_leak[kg/yr],product_leak[kg/yr],"
                 "operating_years[yr]\nrefrigerant,2023,domestic,1000,0.1,0,10\nrefrigerant,2024,domestic,1000,0.1,0,10\n",
                 encoding="utf-8")
    portfolio = read_portfolio(p, library)
    declared = calculate(portfolio, library, {"gwp_rule": "gwp100_ar4,gwp100_ar5@2024"})
    # 0.1 kg/yr × 675 = 67.5 kg-CO2e/台/yr (FY2023, AR4); × 677 = 67.7 (FY2024, AR5)
    assert declared.table["avoided_per_unit_year[kg-CO2e/functional_unit/yr]"].tolist() == pytest.approx([67.5, 67.7])
    assert declared.table["factors_from_tables"].tolist() == [
        "refrigerant_gwp=gwp100_ar4[HFC-32] (published)", "refrigerant_gwp=gwp100_ar5[HFC-32] (published)"]
    provenance = declared.provenance()
    assert provenance["gwp_set"] == "gwp100_ar4, gwp100_ar5"
    assert provenance["gwp"]["by_fiscal_year"] == {"2023": "gwp100_ar4", "2024": "gwp100_ar5"}
    assert row_details(declared)[0]["inputs"]["refrigerant_gwp"]["origin"].startswith("factor table gwp100_ar4 [HFC-32]")
    default = calculate(portfolio, library)
    assert default.table["avoided_per_unit_year[kg-CO2e/functional_unit/yr]"].tolist() == pytest.approx([67.7, 67.7])
    assert default.provenance()["gwp_set"] == "gwp100_ar5"
    ar6 = calculate(portfolio, library, {"gwp_rule": "ar6"})
    assert ar6.table["avoided_per_unit_year[kg-CO2e/functional_unit/yr]"].tolist() == pytest.approx([77.1, 77.1])
    assert ar6.provenance()["gwp_set"] == "gwp100_ar6"


def test_results_record_the_gwp_set_of_the_run_not_a_constant(tmp_path, library):
    """gwp_set was the constant gwp100_ar5 whatever was used."""
    import koken

    p = tmp_path / "p.csv"
    p.write_text(HEADER + "refrigerator,2023,domestic,JP,100,420,273,0.421,12\n", encoding="utf-8")
    assert koken.calculate(p, gwp_rule="ar6").provenance()["gwp_set"] == "gwp100_ar6"
    assert koken.calculate(p).provenance()["gwp_set"] == "gwp100_ar5"


@pytest.mark.parametrize("rule", ["gwp100_ar9", "gwp100_ar5@2024", "gwp100_ar4,gwp100_ar6@2025,gwp100_ar5@2024",
                                  "grid_emission_factor"])
def test_a_gwp_rule_that_is_no_rule_is_refused(tmp_path, library, rule):
    import koken

    p = tmp_path / "p.csv"
    p.write_text(HEADER + "refrigerator,2023,domestic,JP,100,420,273,0.421,12\n", encoding="utf-8")
    with pytest.raises(KokenError, match="GWP rule"):
        koken.calculate(p, gwp_rule=rule)


@pytest.mark.parametrize("table", ["gwp", "gwp100_ar6"])
def test_methane_must_declare_fossil_or_non_fossil(tmp_path, table):
    """AR6 gives fossil methane 29.8 and other methane 27.0 (Table 7.15): a plain CH4 key is refused at load."""
    _library, problems = _refrigerant(tmp_path, gas="CH4", table=table)
    assert any("declare it as gas: CH4-fossil or gas: CH4-non-fossil" in str(p) for p in problems), problems


def test_a_gas_no_gwp_set_has_is_refused_at_load(tmp_path):
    _library, problems = _refrigerant(tmp_path, gas="HFC-9999")
    assert any("has no entry for gas 'HFC-9999'" in str(p) for p in problems), problems


def test_a_factor_given_in_co2_is_marked_where_co2e_is_computed(tmp_path, library):
    """The grid factor in kg-CO2/kWh (the cell's, the header's or the table's) counts CO2 alone while the figures are
    t-CO2e: results mark it; a factor in kg-CO2e/kWh is not marked."""
    p = tmp_path / "p.csv"
    p.write_text(HEADER.replace("grid_emission_factor[kg-CO2/kWh]", "grid_emission_factor")
                 + "refrigerator,2023,domestic,JP,100,420,273,0.421 kg-CO2/kWh,12\n"
                 + "refrigerator,2023,domestic,JP,100,420,273,0.421 kg-CO2e/kWh,12\n"
                 + "refrigerator,2023,domestic,JP,100,420,273,,12\n", encoding="utf-8")
    table = calculate(read_portfolio(p, library), library).table
    assert table["co2_only_inputs"].tolist() == ["grid_emission_factor", "", "grid_emission_factor"]
    assert table["factors_from_tables"].tolist()[2].startswith("grid_emission_factor=grid_emission_factor[JP 2023]")


def test_a_scenario_term_given_in_co2_is_marked_and_its_zero_default_is_not(tmp_path, library):
    """The category's scenario terms (issue 12: baseline_fuel_emissions, product_fuel_emissions, declared in kg-CO2/yr
    with the default 0 for a product that burns no fuel): 500 kg-CO2/yr given leaves the other gases out and is
    marked like a factor; the default 0 leaves nothing out (0 kg-CO2 is 0 kg-CO2e) and is not marked, nor is a 0
    written."""
    p = tmp_path / "p.csv"
    p.write_text(HEADER.replace("operating_years[yr]", "operating_years[yr],baseline_fuel_emissions")
                 + "refrigerator,2023,domestic,JP,100,420,273,0.421,12,500 kg-CO2/yr\n"
                 + "refrigerator,2023,domestic,JP,100,420,273,0.421,12,500 kg-CO2e/yr\n"
                 + "refrigerator,2023,domestic,JP,100,420,273,0.421,12,0 kg-CO2/yr\n"
                 + "refrigerator,2023,domestic,JP,100,420,273,0.421,12,\n", encoding="utf-8")
    table = calculate(read_portfolio(p, library), library).table
    assert table["co2_only_inputs"].tolist() == ["baseline_fuel_emissions;grid_emission_factor",
                                                 "grid_emission_factor", "grid_emission_factor", "grid_emission_factor"]


def test_the_installed_base_records_the_gwp_set_of_its_reporting_year(tmp_path):
    """--installed-base 2024 under AR5 before FY2024, AR6 from it: the FY2023 vintage's single-year figure reads AR5
    (0.1 kg/yr × 677 × 1,000 台 = 67.7 t-CO2e) and its installed-base year is recomputed at FY2024's factors, AR6's
    HFC-32 (0.1 × 771 × 1,000 = 77.1 t-CO2e; it read the default set, AR5): the results name both sets, and FY2024
    under the rule."""
    library, problems = _refrigerant(tmp_path)
    assert not problems, problems
    p = tmp_path / "leaks.csv"
    p.write_text("methodology,fiscal_year,market,units_shipped[台],baseline_leak[kg/yr],product_leak[kg/yr],"
                 "operating_years[yr]\nrefrigerant,2023,domestic,1000,0.1,0,10\n", encoding="utf-8")
    result = calculate(read_portfolio(p, library), library,
                       {"gwp_rule": "gwp100_ar5,gwp100_ar6@2024", "installed_base_year": 2024,
                        "survival": {"rule": "operating_years"}})
    assert result.table["single_year[t-CO2e]"].tolist() == pytest.approx([67.7])
    assert result.table["installed_base_annual[t-CO2e]"].tolist() == pytest.approx([77.1])
    provenance = result.provenance()
    assert provenance["gwp_set"] == "gwp100_ar5, gwp100_ar6"
    assert provenance["gwp"]["by_fiscal_year"] == {"2023": "gwp100_ar5", "2024": "gwp100_ar6"}


def test_a_broken_gwp_rules_file_is_reported_with_the_factor_tables(tmp_path):
    """A rule naming a set that is no GWP table, or periods out of order, is a problem of the factor folder (validate
    and every load show it), located at the rule's field."""
    import shutil

    from koken.base.paths import factors_dir

    folder = tmp_path / "factors"
    shutil.copytree(factors_dir(), folder)
    rules = folder / "rules" / "gwp.yaml"
    text = rules.read_text(encoding="utf-8")
    rules.write_text(text.replace("- {gwp_set: gwp100_ar6, source: ipcc_ar6_wg1_ch7}",
                                  "- {gwp_set: grid_emission_factor, source: ipcc_ar6_wg1_ch7}\n"
                                  "      - {gwp_set: gwp100_ar6, source: ipcc_ar6_wg1_ch7}"), encoding="utf-8")
    _tables, problems = load_factor_tables(folder)
    texts = [str(p) for p in problems]
    assert any("'grid_emission_factor' is not a GWP set" in t and "rules.ar6.periods.0" in t for t in texts), texts
    assert any("every period after the first names the fiscal year it starts in" in t for t in texts), texts
    assert not load_factor_tables()[1]


def test_the_command_line_declares_a_gwp_rule_and_verify_recomputes_with_it(tmp_path):
    """koken calculate --gwp-rule gwp100_ar4,gwp100_ar5@2024: the JSON names both sets and the set of each fiscal
    year; koken verify recomputes with the recorded rule, so the result stands (with the default set, AR5, the FY2023
    line would be 67.7 kg-CO2e/台/yr, not AR4's 67.5)."""
    import json

    from click.testing import CliRunner

    from koken.cli.commands import main

    _library, problems = _refrigerant(tmp_path)
    assert not problems, problems
    p = tmp_path / "leaks.csv"
    p.write_text("methodology,fiscal_year,market,units_shipped[台],baseline_leak[kg/yr],product_leak[kg/yr],"
                 "operating_years[yr]\nrefrigerant,2023,domestic,1000,0.1,0,10\nrefrigerant,2024,domestic,1000,0.1,0,10\n",
                 encoding="utf-8")
    out = tmp_path / "r.json"
    lib = ["--methodologies", str(tmp_path / "lib"), "--no-bundled"]
    result = CliRunner().invoke(main, ["calculate", str(p), *lib, "--gwp-rule", "gwp100_ar4,gwp100_ar5@2024",
                                       "-o", str(out)])
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["gwp_set"] == "gwp100_ar4, gwp100_ar5"
    assert document["gwp"]["by_fiscal_year"] == {"2023": "gwp100_ar4", "2024": "gwp100_ar5"}
    assert document["options"]["gwp_rule"] == "gwp100_ar4,gwp100_ar5@2024"
    # 0.1 kg/yr × 675 (AR4 HFC-32) = 67.5 kg-CO2e/台/yr × 1,000 台 = 67,500 kg = 67.5 t-CO2e single-year
    assert document["rows"][0]["single_year[t-CO2e]"] == pytest.approx(67.5)
    verified = CliRunner().invoke(main, ["verify", str(out), str(p), *lib])
    assert verified.exit_code == 0, verified.output
    refused = CliRunner().invoke(main, ["calculate", str(p), *lib, "--gwp-rule", "ar9"])
    assert refused.exit_code != 0 and "GWP rule 'ar9'" in refused.output, refused.output



@pytest.mark.parametrize("allow_stale", [False, True])
def test_lookup_reads_integer_years_as_it_read_python_objects(allow_stale):
    """lookup numbers the rows' fiscal years as an integer array (no Python object per row): the same values, keys,
    sources, statuses, bases and problems as with the years as Python ints (as it read them before), stale years,
    unknown regions and rows not needed among them."""
    grid = load_factor_tables()[0]["grid_emission_factor"]
    regions = np.array(["JP", "US", "JP", "XX", "JP", "CN", "JP", "US"], dtype=object)
    years = np.array([2023, 2023, 2019, 2023, 2031, 2022, 2013, 1990])
    need = np.array([True, True, True, True, True, False, True, True])
    runs = [lookup(grid, {}, {"region": regions, "fiscal_year": y}, need, "grid_emission_factor",
                   lambda i: Location(row=i), allow_stale) for y in (years, np.asarray(years, dtype=object))]
    (new, new_problems), (old, old_problems) = runs
    np.testing.assert_array_equal(new.values, old.values)
    for field in ("found", "keys", "sources", "stale", "statuses", "bases"):
        assert getattr(new, field).tolist() == getattr(old, field).tolist(), field
    assert [(p.message, p.location) for p in new_problems] == [(p.message, p.location) for p in old_problems]
    assert new_problems and new.found.any()



def test_factor_origins_grouped_by_lookup_numbers_as_by_their_texts():
    """Each row's factor-table label is grouped by the number of the key its value was found under (FactorOrigin.groups)
    instead of by its texts: the same groups, keys and order, also where two keys fall back to the same earlier year."""
    from koken.base.grouping import group_codes, group_codes_within
    from koken.factors import fill_from_tables
    from koken.library import load_library

    m = load_library(None, lazy=True)["refrigerator"]
    n = 8
    regions = np.array(["JP", "US", "JP", "JP", "US", "JP", "JP", "CN"], dtype=object)
    years = np.array([2023, 2023, 2031, 2032, 2023, 2019, 2031, 2022])
    _filled, origins, _problems, _failed = fill_from_tables(m.parameters, {}, regions, years, n,
                                                           lambda i: Location(row=i), allow_stale=True)
    o = origins["grid_emission_factor"]
    supplied = np.flatnonzero(o.from_table)
    assert o.groups is not None and len(supplied) >= 6
    o = o.take(supplied)
    columns = [np.asarray(o.keys, dtype=object), np.asarray(o.stale, dtype=bool), np.asarray(o.bases, dtype=object),
               np.asarray(o.statuses, dtype=object), np.full(len(supplied), o.table, dtype=object)]
    assert len(set(o.groups.tolist())) > len(set(o.keys.tolist()))  # 2031 and 2032 fall back to one key
    new, old = group_codes_within(o.groups, columns), group_codes(columns)
    assert new[0].tolist() == old[0].tolist() and new[1] == old[1]
