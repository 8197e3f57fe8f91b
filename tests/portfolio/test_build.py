"""koken.portfolio.build: CSV/XLSX/YAML portfolios, units from headers, units rows or cells, Japanese input."""

import pytest

from koken.base.errors import KokenErrors
from koken.calculation import calculate
from koken.portfolio.build import read_portfolio

from helpers import (
    METHODOLOGIES,
    PORTFOLIOS,
    load_folder,
    methodology_dict,
    portfolio_problems,
    scale_scenarios,
    write_methodology,
)

HEADER = ("product_line,methodology,fiscal_year,market,units_shipped[台],baseline_annual_energy[kWh/yr],"
          "product_annual_energy[kWh/yr],grid_emission_factor[kg-CO2/kWh],operating_years[yr]\n")
ROW = "Fridge 401-450 L,refrigerator,2023,domestic,45000,420,273,0.421,12\n"


def lifetime_of(path, library, **kw):
    return calculate(read_portfolio(path, library, **kw), library).table["lifetime[t-CO2e]"].tolist()


def test_clean_csv(tmp_path, library):
    p = tmp_path / "p.csv"
    p.write_text(HEADER + ROW, encoding="utf-8")
    # (420 - 273) × 0.421 = 61.887 kg/台/yr; × 45,000 台 = 2,784.915 t; × 12 yr = 33,418.98 t
    assert lifetime_of(p, library) == pytest.approx([33418.98])


def test_cp932_with_japanese_headers_full_width_digits_and_man_units_equals_clean_twin(tmp_path, library):
    text = ("製品名,方法論,年度,市場,出荷台数[万台],ベースライン年間消費電力量[kWh/yr],年間消費電力量[kWh/yr],"
            "排出係数[kg-CO2/kWh],稼働年数[yr]\n"
            "冷蔵庫 401〜450L,refrigerator,２０２３,国内,４．５,４２０,２７３,０．４２１,１２\n")
    p = tmp_path / "jp.csv"
    p.write_bytes(text.encode("cp932"))
    portfolio = read_portfolio(p, library)
    assert portfolio.encoding == "cp932"
    assert lifetime_of(p, library) == pytest.approx([33418.98])


def test_units_row_and_inline_cell_units(tmp_path, library):
    p = tmp_path / "u.csv"
    p.write_text("methodology,fiscal_year,market,units_shipped,baseline_annual_energy,product_annual_energy,"
                 "grid_emission_factor,operating_years\n"
                 "units,,,,kWh/yr,kWh/yr,g-CO2/kWh,yr\n"
                 "refrigerator,2023,domestic,4.5 万台,420,273,421,12\n", encoding="utf-8")
    assert lifetime_of(p, library) == pytest.approx([33418.98])


def test_xlsx_reads_like_csv(tmp_path, library):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    for line in (HEADER + ROW).strip().split("\n"):
        ws.append([float(c) if c.replace(".", "").isdigit() else c for c in line.split(",")])
    p = tmp_path / "p.xlsx"
    wb.save(p)
    assert lifetime_of(p, library) == pytest.approx([33418.98])


def test_yaml_portfolio(tmp_path, library):
    p = tmp_path / "p.yaml"
    p.write_text("rows:\n  - {methodology: refrigerator, fiscal_year: 2023, market: domestic, "
                 "units_shipped: 45000 台, baseline_annual_energy: 420 kWh/yr, product_annual_energy: 0.273 MWh/yr, "
                 "grid_emission_factor: 0.421 kg-CO2/kWh, operating_years: 12 yr}\n", encoding="utf-8")
    assert lifetime_of(p, library) == pytest.approx([33418.98])


def test_every_problem_of_a_file_is_reported_with_row_and_column(tmp_path, library):
    p = tmp_path / "bad.csv"
    p.write_text(HEADER.replace("operating_years[yr]", "operating_years") +
                 "a,refrigeratr,2023,domestic,10,420,273,0.421,12\n"
                 "b,refrigerator,20x3,abroad,10,abc,273,0.421,12\n", encoding="utf-8")
    with pytest.raises(KokenErrors) as info:
        read_portfolio(p, library)
    msgs = [str(e) for e in info.value.errors]
    assert any("row 2" in m and "did you mean 'refrigerator'" in m for m in msgs)
    assert any("row 3" in m and "fiscal_year" in m for m in msgs)
    assert any("row 3" in m and "market must be domestic or overseas" in m for m in msgs)
    assert any("row 3" in m and "'abc' is not a number" in m for m in msgs)
    assert any("has no unit" in m and "operating_years" in m for m in msgs)


def test_unknown_column_is_an_error_not_ignored(tmp_path, library):
    p = tmp_path / "c.csv"
    p.write_text(HEADER.replace("operating_years[yr]", "operatin_years[yr]") + ROW, encoding="utf-8")
    with pytest.raises(KokenErrors, match=r"unknown column 'operatin_years'.*did you mean 'operating_years\[yr\]'"):
        read_portfolio(p, library)


def test_value_for_a_parameter_the_methodology_lacks_is_an_error(tmp_path, library):
    p = tmp_path / "x.csv"
    p.write_text(HEADER.strip() + ",capacity_factor[%]\n" + ROW.strip() + ",13\n", encoding="utf-8")
    with pytest.raises(KokenErrors, match="capacity_factor.*has no such parameter"):
        calculate(read_portfolio(p, library), library)


def test_a_row_with_one_problem_still_has_its_other_values_checked(tmp_path, library):
    """Every problem at once: a value for a parameter the methodology lacks does not hide an out-of-range value, an
    unreadable unit or a negative shipment in the same row (they used to appear only on the next run)."""
    p = tmp_path / "x.csv"
    p.write_text(HEADER.strip() + ",capacity_factor[%]\n"
                 + "a,refrigerator,2023,domestic,45000,420,273,5,12,13\n"
                 + "b,refrigerator,2023,domestic,-5,420 kg,273,0.421,0.5,13\n"
                 + "c,refrigerator,20x3,domestic,45000,420,273,0.421,99\n", encoding="utf-8")
    with pytest.raises(KokenErrors) as info:
        calculate(read_portfolio(p, library, collect=True), library)
    msgs = [str(e) for e in info.value.errors]
    assert any("row 2" in m and "has no such parameter" in m for m in msgs)
    assert any("row 2, column 'grid_emission_factor[kg-CO2/kWh]'" in m
               and "grid_emission_factor = 5 kg-CO2/kWh is outside the allowed range" in m for m in msgs)
    assert any("row 3" in m and "baseline_annual_energy" in m and "unit 'kg'" in m for m in msgs)
    assert any("row 3" in m and "operating_years = 0.5 yr is outside" in m for m in msgs)
    assert any("row 3" in m and "units_shipped must be a finite number >= 0" in m for m in msgs)
    assert any("row 4" in m and "fiscal_year" in m for m in msgs)
    assert any("row 4" in m and "operating_years = 99 yr is outside" in m for m in msgs)
    assert len(msgs) == len(set(msgs)), msgs  # each problem once


def test_a_flagged_cell_is_not_reported_twice(tmp_path, library):
    p = tmp_path / "x.csv"
    p.write_text(HEADER.replace("units_shipped[台]", "units_shipped") + ROW.replace("2023", "20x3"), encoding="utf-8")
    with pytest.raises(KokenErrors) as info:
        calculate(read_portfolio(p, library, collect=True), library)
    msgs = [str(e) for e in info.value.errors]
    assert len(msgs) == 2, msgs
    assert any("fiscal_year" in m for m in msgs) and any("has no unit" in m for m in msgs)


def test_incompatible_header_unit_names_expected_dimension(tmp_path, library):
    p = tmp_path / "d.csv"
    p.write_text(HEADER.replace("product_annual_energy[kWh/yr]", "product_annual_energy[kg]") + ROW,
                 encoding="utf-8")
    with pytest.raises(KokenErrors,
                       match=r"row 2.*product_annual_energy.*'kg' has dimension mass, but 'kWh/yr' \(energy per year\) is"):
        calculate(read_portfolio(p, library), library)


def test_alias_shared_by_two_parameters_is_refused_when_used(tmp_path):
    a = methodology_dict(id="toy_a")
    a["parameters"]["baseline_energy"]["aliases"] = ["消費電力量"]
    b = methodology_dict(id="toy_b")
    b["parameters"]["product_energy"]["aliases"] = ["消費電力量"]
    write_methodology(tmp_path / "lib", a)
    write_methodology(tmp_path / "lib", b)
    lib, problems = load_folder(tmp_path / "lib")
    assert not problems
    p = tmp_path / "p.csv"
    p.write_text("methodology,fiscal_year,market,units_shipped[台],消費電力量[kWh/yr]\ntoy_a,2023,domestic,1,400\n",
                 encoding="utf-8")
    with pytest.raises(KokenErrors, match="alias of several parameters"):
        read_portfolio(p, lib)


@pytest.mark.parametrize("name, message", [
    ("decimal_comma.csv", "'420,5': a comma is read only as a thousands separator"),       # was 4205: decimal comma
    ("misplaced_commas.csv", "'4,2,0': a comma is read only as a thousands separator"),    # was 420
    ("stray_quote.csv", "a cell runs over several lines: a quote"),                        # rows were merged
    ("superscript_cells.csv", "'10⁴ 台': superscripts and fractions are not read"),         # was 104 units
    ("units_shipped_in_percent.csv", "'%' is not a count of things"),  # 5 % was read as 0.05 units shipped
])
def test_cells_that_would_be_misread_are_refused_with_a_clear_message(library, name, message):
    """Cells a lenient reader would turn into another number (or rows it would merge) are refused, saying why."""
    assert message in portfolio_problems(PORTFOLIOS / name, library)


@pytest.mark.parametrize("name, message", [
    ("huge_header_exponent.csv", "gives a factor of inf"),            # kWh/yr*(kJ/J)**200: was a traceback
    ("century_unit.csv", "'century' is a Julian-year multiple"),       # bypassed the 8,760 h year
])
def test_header_units_that_would_be_misread_are_refused_with_a_clear_message(library, name, message):
    assert message in portfolio_problems(PORTFOLIOS / name, library)


def test_a_superscript_power_in_a_header_unit_is_read_as_a_power(library):
    # grid_emission_factor[kg-CO2·kWh⁻¹] was read as kg-CO2·kWh (a dimension error); it is kg-CO2/kWh
    table = calculate(read_portfolio(PORTFOLIOS / "superscript_header_unit.csv", library), library).table
    # (420 - 273) × 0.421 × 100 台 / 1,000 = 6.1887 t-CO2e
    assert table["single_year[t-CO2e]"].iloc[0] == pytest.approx(6.1887)


def test_a_column_in_an_offset_unit_is_refused():
    library, found = load_folder(METHODOLOGIES / "offset_unit_parameter")
    assert not found
    # 25 degC was read as 25 K: offset units are refused in portfolios too
    assert "has an offset" in portfolio_problems(PORTFOLIOS / "offset_unit_degc.csv", library)


def test_a_wrong_header_unit_is_one_error_for_the_column_not_a_missing_value_error_per_row(tmp_path, library):
    """grid_emission_factor[kg/kWh] (kg of what?) on two rows: one error naming the column and the unit expected."""
    path = tmp_path / "h.csv"
    path.write_text("methodology,fiscal_year,market,units_shipped[台],baseline_annual_energy[kWh/yr],"
                    "product_annual_energy[kWh/yr],grid_emission_factor[kg/kWh],operating_years[yr]\n"
                    "refrigerator,2024,domestic,10,420,273,0.421,12\n"
                    "refrigerator,2024,domestic,10,420,273,0.421,12\n", encoding="utf-8")
    with pytest.raises(KokenErrors) as info:
        calculate(read_portfolio(path, library, collect=True), library)
    (err,) = info.value.errors
    assert "grid_emission_factor" in str(err) and "is expected" in str(err)


def test_regions_are_read_by_code_or_name_in_japanese_or_english(tmp_path, library):
    p = tmp_path / "regions.csv"
    header = HEADER.replace("market,", "market,region,")
    rows = [ROW.replace("domestic,", f"overseas,{region},") for region in ("米国", "United States", "ｕｓ", "中国",
                                                                          "EU27")]
    p.write_text(header + "".join(rows), encoding="utf-8")
    portfolio = read_portfolio(p, library)
    assert list(portfolio.region) == ["US", "US", "US", "CN", "EU27"]  # a code the table lacks is kept as written


def test_an_unknown_region_name_is_refused_with_the_closest_one(tmp_path, library):
    p = tmp_path / "bad_region.csv"
    p.write_text(HEADER.replace("market,", "market,region,") + ROW.replace("domestic,", "overseas,ベトナン,"),
                 encoding="utf-8")
    problems = portfolio_problems(p, library)
    assert "unknown region 'ベトナン'; did you mean ベトナム (VN)?" in problems, problems


@pytest.mark.parametrize("written", ["ナルニア", "Narnia", "タイランド"])
def test_an_unknown_region_far_from_every_name_gets_no_guess_but_where_the_names_are(tmp_path, library, written):
    """'ナルニア' was answered 'did you mean RO?' (ルーマニア shares two characters with it)."""
    from koken.base.i18n import language

    p = tmp_path / "narnia.csv"
    p.write_text(HEADER.replace("market,", "market,region,") + ROW.replace("domestic,", f"overseas,{written},"),
                 encoding="utf-8")
    problems = portfolio_problems(p, library)
    assert "did you mean" not in problems
    assert f"unknown region {written!r}: write a country's code" in problems and "regions.yaml" in problems
    with language("ja"):
        japanese = portfolio_problems(p, library)
    assert "のことですか" not in japanese and "koken が読める地域名は" in japanese and "regions.yaml" in japanese


def test_a_near_miss_in_japanese_is_answered_with_the_japanese_name(tmp_path, library):
    from koken.base.i18n import language

    p = tmp_path / "near.csv"
    p.write_text(HEADER.replace("market,", "market,region,") + ROW.replace("domestic,", "overseas,米囯,"),
                 encoding="utf-8")
    with language("ja"):
        assert "不明な地域 '米囯'。米国（US） のことですか？" in portfolio_problems(p, library)


def test_a_methodology_is_named_by_its_japanese_title_or_a_part_of_it(tmp_path, library):
    p = tmp_path / "titles.csv"
    p.write_text(HEADER + ROW.replace("refrigerator", "電気冷蔵庫") + ROW.replace("refrigerator", "Household Refrigerator"),
                 encoding="utf-8")
    assert list(read_portfolio(p, library).methodology) == ["refrigerator", "refrigerator"]
    p.write_text(HEADER + ROW.replace("refrigerator", "冷臓庫"), encoding="utf-8")
    # the closest name is the methodology's alias 冷蔵庫 (refrigerator.yaml, aliases)
    assert "unknown methodology '冷臓庫'; did you mean '冷蔵庫' (refrigerator)?" in portfolio_problems(p, library)


def test_a_multiplier_in_a_cell_of_a_column_already_in_man_is_refused_not_multiplied_twice(tmp_path, library):
    """'4.5万' under 出荷台数[万台] once read 4.5億台 (10,000× too many); '4.5 万台' and '4.5' there are 45,000 台."""
    p = tmp_path / "man.csv"
    header = HEADER.replace("units_shipped[台]", "units_shipped[万台]")
    p.write_text(header + ROW.replace(",45000,", ",4.5万,"), encoding="utf-8")
    assert ("'4.5万': the column is already in 万台, so a 万 in the cell would multiply twice: write 4.5 (in 万台) or "
            "4.5 万台") in portfolio_problems(p, library)
    p.write_text(header + ROW.replace(",45000,", ",4.5 万台,") + ROW.replace(",45000,", ",4.5,"), encoding="utf-8")
    portfolio = read_portfolio(p, library)
    assert list(portfolio.units_shipped_entered) == ["4.5 万台", "4.5 万台"]  # the unit once, as written
    # (420 − 273) × 0.421 × 45,000 × 12 / 1000 = 33,418.98 t-CO2e for each
    assert lifetime_of(p, library) == pytest.approx([33418.98, 33418.98])


@pytest.mark.parametrize(("market", "region"), [("domestic", "US"), ("overseas", "JP"), ("国内", "米国")])
def test_a_market_that_contradicts_the_region_is_refused(tmp_path, library, market, region):
    """A domestic line with a US region once took the US grid factor silently (2,421 t instead of 2,785 t)."""
    p = tmp_path / "contradiction.csv"
    p.write_text(HEADER.replace("market,", "market,region,").replace(",grid_emission_factor[kg-CO2/kWh]", "")
                 + f"Fridge,refrigerator,2023,{market},{region},45000,420,273,12\n", encoding="utf-8")
    assert "correct the market or the region" in portfolio_problems(p, library)


def test_the_contradiction_names_market_and_region_in_the_readers_language_as_the_file_gives_them(tmp_path, library):
    """The cells said 国内 and 米国 but the message said 'domestic' and 'US'."""
    from koken.base.i18n import language

    p = tmp_path / "contradiction.csv"
    p.write_text(HEADER.replace("market,", "market,region,").replace(",grid_emission_factor[kg-CO2/kWh]", "")
                 + "A,refrigerator,2023,国内,米国,45000,420,273,12\n"
                 + "B,refrigerator,2023,domestic,US,45000,420,273,12\n"
                 + "C,refrigerator,2023,海外,日本,45000,420,273,12\n", encoding="utf-8")
    with language("ja"):
        japanese = portfolio_problems(p, library)
    assert "市場が 国内 ですが地域が 米国（US） です" in japanese
    assert "市場が 国内 ですが地域が アメリカ合衆国（US） です" in japanese  # a code is named
    assert "市場が 海外 ですが地域が 日本（JP） です" in japanese
    assert "domestic" not in japanese and "overseas" not in japanese
    english = portfolio_problems(p, library)
    assert "market domestic but region United States of America (US):" in english
    assert "market overseas but region 日本 (JP):" in english  # as the file gives it


@pytest.mark.parametrize(("written", "year"), [("2023年度", 2023), ("FY2023", 2023), ("令和5年度", 2023),
                                               ("令和元年度", 2019), ("平成25年度", 2013)])
def test_a_fiscal_year_may_be_written_as_a_name(tmp_path, library, written, year):
    p = tmp_path / "year.csv"
    p.write_text(HEADER + ROW.replace(",2023,", f",{written},"), encoding="utf-8")
    assert list(read_portfolio(p, library).fiscal_year) == [year]


def test_every_problem_of_a_row_comes_in_one_run_even_after_another_problem_in_it(tmp_path, library):
    """A row with a bad market and an empty required cell: both at once (the empty cell came a run later)."""
    p = tmp_path / "two.csv"
    p.write_text(HEADER + "Fridge,refrigerator,2023,国外,45000,420,273,0.421,\n", encoding="utf-8")
    problems = portfolio_problems(p, library)
    assert "market must be domestic or overseas (国内/海外), got '国外'" in problems
    assert "operating_years is required by refrigerator (unit yr) but has no value" in problems


def test_a_misspelt_header_still_reads_its_column_so_its_rows_are_checked_too(tmp_path, library):
    p = tmp_path / "misspelt.csv"
    p.write_text(HEADER.replace("units_shipped[台]", "出荷台数（万台）") + ROW.replace(",45000,", ",abc,"), encoding="utf-8")
    problems = portfolio_problems(p, library)
    assert "write '出荷台数[万台]'" in problems and "'abc' is not a number" in problems
    assert "required column" not in problems


@pytest.mark.parametrize(("column", "cell", "char"), [
    ("baseline_annual_energy[kWh/yr]", "5▲ kWh/yr", "▲"),         # was read as +5 kWh/yr
    ("baseline_annual_energy[kWh/yr]", "420 kWh/yr # MWh", "#"),  # was read as 420 kWh/yr, the comment dropped
    ("units_shipped[台]", "45000 台→万台", "→"),                   # was read as 45,000 × 10⁴ 台
    ("baseline_annual_energy[kWh/yr]", "420 kWh@yr", "@"),        # was read as 420 kWh·yr (a dimension error at best)
])
def test_a_cell_unit_with_a_character_the_unit_parser_would_drop_is_refused(tmp_path, library, column, cell, char):
    p = tmp_path / "dropped.csv"
    header = HEADER.replace(column, column.split("[")[0])
    values = ROW.strip().split(",")
    values[HEADER.strip().split(",").index(column)] = cell
    p.write_text(header + ",".join(values) + "\n", encoding="utf-8")
    problems = portfolio_problems(p, library)
    assert f"{char!r}" in problems and "is not part of a unit" in problems, problems


@pytest.mark.parametrize(("header_unit", "cell", "multiplier"), [
    ("千台", "45千", "千"), ("千台", "0.045万", "万"), ("億台", "0.00045万", "万"),   # 千, 万, 億: refused already
    ("百台", "4.5万", "万"),       # 百 was not a multiplier here: 4.5万 × 百台 = 450万台 read
    ("万台", "4.5 百万", "百万"),    # 百万 read as a count of its own (4,500,000 台) in a column of 万台
])
def test_a_second_multiplier_is_refused_under_any_scaled_header(tmp_path, library, header_unit, cell, multiplier):
    p = tmp_path / "double.csv"
    header = HEADER.replace("units_shipped[台]", f"units_shipped[{header_unit}]")
    p.write_text(header + ROW.replace(",45000,", f",{cell},"), encoding="utf-8")
    problems = portfolio_problems(p, library)
    assert f"the column is already in {header_unit}, so a {multiplier} in the cell would multiply twice" in problems


def test_a_second_multiplier_is_refused_under_a_units_row_too(tmp_path, library):
    p = tmp_path / "double_units_row.csv"
    p.write_text("methodology,fiscal_year,market,units_shipped,baseline_annual_energy,product_annual_energy,"
                 "grid_emission_factor,operating_years\n"
                 "units,,,千台,kWh/yr,kWh/yr,kg-CO2/kWh,yr\n"
                 "refrigerator,2023,domestic,45千,420,273,0.421,12\n", encoding="utf-8")
    assert "the column is already in 千台, so a 千 in the cell would multiply twice" in portfolio_problems(p, library)


def test_a_multiplier_word_in_a_cell_multiplies_the_column_s_unit(tmp_path, library):
    """0.45百 and 1.2百万 under [kWh/yr]: a bare multiplier (十, 百, 千, 万, 億 or several) multiplies the column's unit,
    as 1.2万 does: 45 kWh/yr and 1,200,000 kWh/yr."""
    p = tmp_path / "words.csv"
    p.write_text(HEADER + ROW.replace(",420,273,", ",4.2百,2.73百,") + ROW.replace(",420,273,", ",0.000420百万,273,"),
                 encoding="utf-8")
    # (420 − 273) × 0.421 × 45,000 × 12 / 1000 = 33,418.98 t-CO2e for each
    assert lifetime_of(p, library) == pytest.approx([33418.98, 33418.98])


MOTOR = ("methodology,fiscal_year,market,units_shipped[台],motor_rated_output[kW],load_factor,"
         "annual_operating_hours[h/yr],baseline_motor_efficiency[-],product_motor_efficiency[-],"
         "grid_emission_factor[kg-CO2/kWh],operating_years[yr]\n")


@pytest.mark.parametrize("cell", ["0.5-", "0.5 -", "0.5－", "0.5 −", "0.5‐"])
def test_a_trailing_minus_in_a_fraction_column_is_refused_not_dropped(tmp_path, library, cell):
    """Accounting exports write −0.5 as '0.5-': the '-' was read as the cell's unit (a fraction), so the load factor
    was +0.5 without a word."""
    p = tmp_path / "trailing.csv"
    p.write_text(MOTOR + f"high_efficiency_motor,2023,domestic,100,11,{cell},6000,0.88,0.9,0.421,15\n", encoding="utf-8")
    problems = portfolio_problems(p, library)
    assert "a minus sign after the number" in problems and "write -0.5" in problems, problems


def test_a_fraction_written_with_its_unit_in_the_cell_still_reads(tmp_path, library):
    p = tmp_path / "fraction.csv"
    p.write_text(MOTOR + "high_efficiency_motor,2023,domestic,100,11,0.75 fraction,6000,0.88,0.9,0.421,15\n",
                 encoding="utf-8")
    assert read_portfolio(p, library).parameters["load_factor"][0].tolist() == [0.75]


def test_a_temperature_difference_is_refused_where_an_absolute_temperature_is_declared():
    """ambient_temperature is declared in K (absolute); 10 delta_degC was read as 10 K (−263 °C), so the row's saving was
    scaled by 10 / 298.15 instead of refused."""
    library, found = load_folder(METHODOLOGIES / "offset_unit_parameter")
    assert not found
    problems = portfolio_problems(PORTFOLIOS / "temperature_difference_as_absolute.csv", library)
    assert "is a temperature difference, but 'K' is an absolute temperature" in problems, problems


def test_an_absolute_temperature_is_refused_where_a_temperature_difference_is_declared(tmp_path):
    """The reverse: a lift declared in delta_degC given as 300 K (an absolute temperature) was read as a 300 K rise."""
    data = methodology_dict()
    data["parameters"]["temperature_lift"] = {"unit": "delta_degC", "description": {"ja": "t", "en": "t"}}
    data["parameters"]["reference_lift"] = {"unit": "delta_degC", "description": {"ja": "r", "en": "r"}}
    scale_scenarios(data, "temperature_lift / reference_lift")  # both scenarios and their difference scaled alike
    data["examples"][0]["inputs"].update({"temperature_lift": "30 delta_degC", "reference_lift": "30 delta_degC"})
    write_methodology(tmp_path / "lib", data)
    library, found = load_folder(tmp_path / "lib")
    assert not found, found
    p = tmp_path / "lift.csv"
    p.write_text("methodology,fiscal_year,market,units_shipped[台],baseline_energy[kWh/yr],product_energy[kWh/yr],"
                 "grid_emission_factor[kg-CO2/kWh],operating_years[yr],temperature_lift[K],reference_lift[delta_degC]\n"
                 "toy,2023,domestic,100,400,300,0.5,10,300,30\n", encoding="utf-8")
    problems = portfolio_problems(p, library)
    assert "is an absolute temperature, but 'Δ°C' is a temperature difference" in problems, problems


def test_data_quality_columns_declare_each_inputs_level_and_the_result_carries_it(tmp_path, library):
    from koken.results import row_details

    p = tmp_path / "p.csv"
    p.write_text(HEADER.replace("\n", ",data_quality:baseline_annual_energy,データ品質:排出係数\n")
                 + ROW.replace("\n", ",primary_measured,\n")
                 + ROW.replace("\n", ",一次データ（実測）,二次データ\n")
                 + ROW.replace("420,273,0.421,12", "420,273,,12").replace("\n", ",,\n"), encoding="utf-8")
    calc = calculate(read_portfolio(p, library), library)
    levels = [{k: v["data_quality"] for k, v in d["inputs"].items()} for d in row_details(calc)]
    # declared: primary on rows 1-2, the grid factor secondary on row 2 (by its Japanese alias and level name);
    # not declared: a portfolio value is secondary, a factor table's value secondary (row 3's empty factor cell)
    assert [lv["baseline_annual_energy"] for lv in levels] == ["primary_measured", "primary_measured", "secondary"]
    assert [lv["grid_emission_factor"] for lv in levels] == ["secondary", "secondary", "secondary"]
    assert [lv["operating_years"] for lv in levels] == ["secondary"] * 3
    assert levels[0]["baseline_fuel_emissions"] is None  # a neutral default: a term that does not apply
    assert calc.table["data_quality:baseline_annual_energy"].tolist() == ["primary_measured", "primary_measured", ""]


def test_a_bad_data_quality_cell_or_a_level_on_an_empty_value_is_located(tmp_path, library):
    p = tmp_path / "p.csv"
    p.write_text(HEADER.replace("\n", ",data_quality:grid_emission_factor\n")
                 + ROW.replace("\n", ",measured\n")
                 + ROW.replace("420,273,0.421,12", "420,273,,12").replace("\n", ",primary_measured\n"),
                 encoding="utf-8")
    problems = portfolio_problems(p, library).splitlines()
    assert len(problems) == 2
    assert "row 2, column 'data_quality:grid_emission_factor'" in problems[0] and "'measured'" in problems[0]
    assert "row 3, column 'data_quality:grid_emission_factor'" in problems[1] and "empty" in problems[1]


def test_a_data_quality_column_of_no_parameter_is_refused(tmp_path, library):
    p = tmp_path / "p.csv"
    p.write_text(HEADER.replace("\n", ",data_quality:colour\n") + ROW.replace("\n", ",secondary\n"), encoding="utf-8")
    assert "'colour', which is not a parameter" in portfolio_problems(p, library)


def test_low_and_high_columns_in_their_own_units_and_japanese_names(tmp_path):
    write_methodology(tmp_path / "lib", methodology_dict())
    library, problems = load_folder(tmp_path / "lib")
    assert not problems
    path = tmp_path / "p.csv"
    path.write_text("product_line,methodology,fiscal_year,market,units_shipped[台],baseline_energy[kWh/yr],"
                    "baseline_energy:下限[MWh/yr],baseline_energy：上限[kWh/yr],product_energy[kWh/yr],"
                    "grid_emission_factor[kg-CO2/kWh],operating_years[yr]\n"
                    "A,toy,2023,domestic,100,400,0.38,450,300,0.5,10\nB,toy,2023,domestic,100,400,,,300,0.5,10\n",
                    encoding="utf-8")
    calc = calculate(read_portfolio(path, library, collect=True), library)
    ranges = calc.batches[0].uncertain["baseline_energy"]
    # 0.38 MWh/yr = 380 kWh/yr; the bounds around 400 kWh/yr, kind triangular (position 2 of the kinds); B: a point.
    assert list(ranges.kind) == [2, -1] and ranges.low[0] == pytest.approx(380) and ranges.high[0] == 450
    assert list(calc.table["single_year[t-CO2e]"]) == [5.0, 5.0]  # the point run uses the value column
