"""koken.base.units: Japanese notation, GHG dimension, and Pint's traps (ton, kt, year, percent)."""

import math

import pytest

from koken.base.errors import UnitError
from koken.base.units import conversion_factor, parse_quantity, parse_unit, registry


def factor(a: str, b: str) -> float:
    return conversion_factor(parse_unit(a), parse_unit(b))


@pytest.mark.parametrize("text, kg_co2e", [
    ("t-CO2", 1000.0), ("t-CO2e", 1000.0), ("tCO2", 1000.0), ("kgCO2e", 1.0), ("kg-CO2", 1.0),
    ("万t-CO2", 1e7), ("ktCO2e", 1e6), ("MtCO2e", 1e9), ("g-CO2", 1e-3), ("t CO2e", 1000.0),
])
def test_japanese_ghg_notations_are_mass_of_co2e(text, kg_co2e):
    assert factor(text, "kg-CO2e") == pytest.approx(kg_co2e, rel=1e-12)


def test_emission_factor_notation():
    # 0.421 kg-CO2/kWh is 421 g-CO2/kWh and 0.421 t-CO2/MWh
    assert factor("kg-CO2/kWh", "g-CO2/kWh") == pytest.approx(1000.0)
    assert factor("kg-CO2/kWh", "t-CO2/MWh") == pytest.approx(1.0)


@pytest.mark.parametrize("text, base, expected", [
    ("千kWh", "kWh", 1e3), ("万台", "台", 1e4), ("億kWh", "kWh", 1e8), ("ｋＷｈ", "kWh", 1.0),
    ("kt", "t", 1000.0),
])
def test_multipliers_and_full_width(text, base, expected):
    assert factor(text, base) == pytest.approx(expected)


def test_crude_oil_equivalent_uses_the_statutory_factor():
    # 省エネ法施行規則 第4条: 1 GJ = 0.0258 kL crude oil, so 1 kL = 1/0.0258 GJ = 38.7597 GJ
    assert factor("原油換算kl", "GJ") == pytest.approx(1 / 0.0258, rel=1e-12)


def test_plain_mass_is_not_a_ghg_amount():
    with pytest.raises(UnitError, match=r"'kg' has dimension mass, but 'kg-CO2e' \(GHG emissions \(CO2e\)\)"):
        factor("kg", "kg-CO2e")


@pytest.mark.parametrize("text", ["ton", "tons", "kiloton", "Mton", "t/ton"])
def test_bare_ton_is_refused_as_ambiguous(text):
    with pytest.raises(UnitError, match="ambiguous"):
        parse_unit(text)


def test_kt_is_kilotonne_never_knot():
    assert registry().Quantity(1, parse_unit("kt")).dimensionality == registry().Quantity(1, "kg").dimensionality


def test_year_is_pinned_to_8760_hours_not_julian():
    # Pint's own year is 8,766 h; koken's is 365 d x 24 h = 8,760 h
    assert factor("yr", "h") == 8760.0
    assert factor("year", "h") == 8760.0
    assert factor("a", "h") == 8760.0
    assert factor("kW", "kWh/yr") == pytest.approx(8760.0)


def test_a_methodology_may_declare_a_leap_year():
    assert conversion_factor(parse_unit("yr", 8784), parse_unit("h")) == 8784.0


def test_month_is_refused():
    with pytest.raises(UnitError, match="ambiguous"):
        parse_unit("kWh/month")


def test_percent_and_fraction_are_distinct_units():
    assert factor("%", "fraction") == pytest.approx(0.01)
    assert factor("-", "%") == pytest.approx(100.0)


@pytest.mark.parametrize("text", ["", "   ", "foo", "kg**", "kWh/", "x" * 300])
def test_bad_unit_text_is_a_unit_error(text):
    with pytest.raises(UnitError):
        parse_unit(text)


def test_parse_quantity_reads_number_and_unit():
    q = parse_quantity("１２，３４５ 台")
    assert q.magnitude == 12345.0
    assert math.isclose(parse_quantity("420 kWh/yr").to("kWh/h").magnitude, 420 / 8760)


def test_parse_quantity_requires_a_unit_unless_a_default_is_given():
    with pytest.raises(UnitError, match="no unit"):
        parse_quantity("90")
    assert parse_quantity("0.9", default_unit="fraction").magnitude == 0.9


def test_parse_quantity_refuses_non_finite():
    with pytest.raises(UnitError):
        parse_quantity(float("nan"), default_unit="fraction")


@pytest.mark.parametrize("text, message", [
    ("kg-CO2·kWh^−1", None), ("kWh-1", "ambiguous"), ("13%%", "more than once"), ("century", "Julian-year"),
])
def test_a_caret_power_with_a_unicode_minus_reads_and_misleading_unit_texts_are_refused(text, message):
    if message is None:
        assert conversion_factor(parse_unit(text), parse_unit("kg-CO2/kWh")) == 1.0
    else:
        with pytest.raises(UnitError, match=message):
            parse_unit(text)


def test_a_kanji_multiplier_binds_to_the_unit_after_it():
    # t-CO2 per 1,000 kWh = kg-CO2 per kWh
    assert conversion_factor(parse_unit("t-CO2/千kWh"), parse_unit("kg-CO2/kWh")) == pytest.approx(1.0)
    assert conversion_factor(parse_unit("t-CO2/万kWh"), parse_unit("kg-CO2/kWh")) == pytest.approx(0.1)


def test_nen_is_koken_s_year():
    assert conversion_factor(parse_unit("kWh/年"), parse_unit("kWh/yr")) == 1.0


@pytest.mark.parametrize("text, base, expected", [
    # 千m³ of city gas is 1,000 m³, never (1,000 m)³ = 10⁹ m³: the multiplier binds to the unit with its power
    ("千m**3", "m**3", 1e3), ("千m^3", "m**3", 1e3), ("千m³", "m**3", 1e3), ("千m3", "m**3", 1e3),
    ("t-CO2/千m3", "kg-CO2/m**3", 1.0), ("GJ/千m3", "MJ/m**3", 1.0),
])
def test_a_kanji_multiplier_binds_to_the_unit_with_its_power(text, base, expected):
    assert factor(text, base) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("text, base, expected", [
    ("百万円", "円", 1e6), ("10億円", "円", 1e9), ("十億円", "円", 1e9), ("千万円", "円", 1e7), ("100万円", "円", 1e6),
    ("円/t-CO2", "JPY/t-CO2", 1.0),
])
def test_yen_and_its_japanese_multiples(text, base, expected):
    assert factor(text, base) == pytest.approx(expected, rel=1e-12)


def test_money_is_its_own_dimension():
    with pytest.raises(UnitError):
        factor("百万円", "kWh")


@pytest.mark.parametrize("text", ["原油換算万kL", "原油換算万kl", "万kL(原油換算)", "万kL（原油換算）"])
def test_crude_oil_equivalent_man_kl_is_energy(text):
    # 669 万kL crude-oil equivalent (the FY2023 industry total) = 669e4 kL / 0.0258 kL/GJ
    assert factor(text, "GJ") == pytest.approx(1e4 / 0.0258, rel=1e-12)


def test_plain_man_kl_stays_a_volume_and_never_passes_as_energy():
    assert factor("万kL", "m**3") == pytest.approx(1e4)
    with pytest.raises(UnitError):
        factor("万kL", "GJ")


@pytest.mark.parametrize("text", ["80,5 kL", "4,2 MWh", "1,23,456 kWh", "12,34 t"])
def test_a_comma_that_does_not_group_thousands_is_refused_not_dropped(text):
    # "80,5 kL" (a decimal comma) was read as 805 kL
    with pytest.raises(UnitError, match="comma groups thousands"):
        parse_quantity(text)


def test_thousands_separators_still_read():
    assert parse_quantity("52,000 MWh").magnitude == 52_000
    assert parse_quantity("1,234,567.5 kWh").magnitude == 1_234_567.5


def test_unit_problems_read_in_the_chosen_language():
    from koken.base.i18n import language

    with language("ja"):
        with pytest.raises(UnitError) as ton:
            parse_unit("ton")
        with pytest.raises(UnitError) as bare:
            parse_quantity("420")
        with pytest.raises(UnitError) as dimension:
            conversion_factor(parse_unit("kg"), parse_unit("kWh"), "baseline_energy")
    assert str(ton.value).startswith("単位 'ton'：'ton' はあいまいです（Pint は 'ton' を米トン 907.18 kg と読みます）。")
    assert str(bare.value) == "値 '420' に単位がありません。'<数値> <単位>' の形で書いてください。"
    assert str(dimension.value) == "baseline_energy：単位 'kg' の次元は 質量 ですが、'kWh'（エネルギー）の次元が必要です。"
    with language("en"), pytest.raises(UnitError) as dimensionless:
        conversion_factor(parse_unit("%"), parse_unit("kWh"))
    assert str(dimensionless.value) == "value: unit '%' has dimension dimensionless, but 'kWh' (energy) is expected"
    with language("ja"), pytest.raises(UnitError) as unknown:
        parse_unit("foo/kWh")
    assert str(unknown.value) == "'foo/kWh' に不明な単位があります：'foo' は単位レジストリに定義されていません。"


@pytest.mark.parametrize("text, shown", [
    ("kWh/yr", "kWh/yr"), ("kWh/kW/yr", "kWh/kW/yr"), ("kg-CO2/kWh", "kg-CO2e/kWh"), ("万台", "万台"),
    ("kg-CO2e/台/yr", "kg-CO2e/台/yr"), ("万t-CO2", "万t-CO2e"), ("m**3/h", "m³/h"), ("kL", "kL"), ("%", "%"),
    ("fraction", "fraction"), ("1/yr", "1/yr"), ("t*km", "t·km"),
])
def test_units_are_shown_as_people_write_them_never_as_pint_internals(text, shown):
    from koken.base.units import unit_display

    assert unit_display(parse_unit(text)) == shown
    assert unit_display(parse_unit(text, 8784)) == shown  # a methodology's own year is still yr


@pytest.mark.parametrize("text, english, japanese", [
    ("kWh", "energy", "エネルギー"), ("kW", "power", "電力・仕事率"), ("kg", "mass", "質量"),
    ("kWh/yr", "energy per year", "1 年あたりのエネルギー"), ("t-CO2e", "GHG emissions (CO2e)", "温室効果ガスの量（CO2e）"),
    ("kg-CO2e/台/yr", "GHG emissions (CO2e) per year", "1 年あたりの温室効果ガスの量（CO2e）"),
    ("kg-CO2/kWh", "GHG emissions per energy (an emission factor)", "エネルギーあたりの温室効果ガスの量（排出係数）"),
    ("台", "dimensionless", "無次元"), ("1/yr", "per year", "1 年あたり"), ("m**2", "area", "面積"),
])
def test_dimensions_are_named_in_words_in_both_languages(text, english, japanese):
    from koken.base.i18n import language
    from koken.base.units import dimension_text

    with language("en"):
        assert dimension_text(parse_unit(text)) == english
    with language("ja"):
        assert dimension_text(parse_unit(text)) == japanese


def test_an_unusual_dimension_falls_back_to_pints_form():
    from koken.base.units import dimension_text

    assert dimension_text(parse_unit("1/kWh")) == "[time] ** 2 / [mass] / [length] ** 2"


def test_the_dimension_message_names_both_units_as_written(tmp_path):
    from koken.base.i18n import language

    with language("ja"), pytest.raises(UnitError) as info:
        conversion_factor(parse_unit("kg"), parse_unit("kWh/yr"), "baseline_annual_energy")
    assert str(info.value) == ("baseline_annual_energy：単位 'kg' の次元は 質量 ですが、'kWh/yr'（1 年あたりのエネルギー）の"
                               "次元が必要です。")
    with language("ja"), pytest.raises(UnitError) as info:
        conversion_factor(parse_unit("台"), parse_unit("kW"), "units_shipped")
    assert str(info.value) == "units_shipped：単位 '台' の次元は 無次元 ですが、'kW'（電力・仕事率）の次元が必要です。"


# --- issue 17 §1: units Pint reads differently from the reporter -------------------------------------------
@pytest.mark.parametrize(("text", "pint_reads", "spelling"), [
    ("mt", "millitonne, 1 kg", "write t (tonne) or kg"),
    ("mt-CO2", "millitonne, 1 kg", "write t (tonne) or kg"),
    ("gr", "grain, 64.8 mg", "write g (gram)"),
    ("MBtu", "10⁶ Btu", "write kBtu (10³ Btu) or MMBtu (10⁶ Btu)"),
    ("mWh", "milliwatt-hour", "write MWh (megawatt-hour)"),
    ("mW", "milliwatt", "write MW (megawatt)"),
    ("Tb", "barn", "write TB (bytes) or Tbit (bits)"),
    ("Gb/s", "gilbert", "write GB (bytes) or Gbit (bits)"),
    ("refrigeration_ton", "US refrigeration ton", "write USRT"),
    ("RT", "ronnatesla", "write USRT"),
    ("冷凍トン", "US refrigeration ton", "write USRT"),
])
def test_units_pint_reads_otherwise_than_the_reporter_are_refused_with_the_spelling_to_use(text, pint_reads, spelling):
    """Pint reads mt as a millitonne (1 kg: a US report's 'mt' is a metric ton, 1,000× more), gr as the grain,
    MBtu as 10⁶ Btu (10³ in US usage), mWh as a milliwatt-hour (10⁹× less than MWh), Tb as a terabarn (an area)
    and Gb as a gilbert, RT as a ronnatesla; the US refrigeration ton (3.517 kW) is 9 % smaller than the Japanese
    one (3.861 kW)."""
    with pytest.raises(UnitError, match="ambiguous") as info:
        parse_unit(text)
    assert pint_reads in info.value.message and spelling in info.value.message


@pytest.mark.parametrize(("text", "base", "expected"), [
    # JSRAE 冷凍空調用語 68 冷凍トン: 1 JRT = 1,000 kg × 79.68 kcal/kg / 24 h = 3,320 kcal/h (IT kcal, 4.1868 kJ)
    # = 3,861.16 W; 1 USRT = 2,000 lb × 144 Btu/lb / 24 h = 12,000 Btu_IT/h, and 1 Btu_IT = 1 lb × 1 °F of the IT
    # calorie (0.45359237 kg × 5/9 K × 4,186.8 J/(kg·K) = 1,055.0559 J), so 3,516.85 W (NIST SP 811: 3.516 853 kW)
    ("JRT", "W", 3320 * 4186.8 / 3600), ("USRT", "W", 12000 * 453.59237 * 4.1868 * 5 / 9 / 3600),
    ("MMBtu", "Btu", 1e6), ("kBtu", "Btu", 1e3), ("milliwatt_hour", "Wh", 1e-3), ("Tbit", "TB", 1 / 8),
])
def test_the_unambiguous_spellings_read_as_written(text, base, expected):
    assert factor(text, base) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("text", "char"), [
    ("▲ kWh/yr", "▲"),            # '5▲ kWh/yr' read +5 kWh/yr
    ("kWh/yr # MWh", "#"),        # '420 kWh/yr # MWh': the comment was dropped
    ("台→万台", "→"),              # '45000 台→万台' was multiplied by 10⁴
    ("kWh@yr", "@"),              # read kWh·yr
    ("kWh, yr", ","), ("kWh;yr", ";"), ("kWh!", "!"), ("kWh?", "?"), ("kWh'", "'"), ("kWh=yr", "="),
    ("kWh.yr", "."),
])
def test_every_character_of_a_unit_is_accounted_for_or_the_unit_is_refused(text, char):
    with pytest.raises(UnitError, match="not part of a unit") as info:
        parse_unit(text)
    assert repr(char) in info.value.message


@pytest.mark.parametrize("text", ["台 万台", "台*台", "万万台"])
def test_counts_or_multipliers_multiplied_together_are_refused(text):
    """'45000 台 万台' (a space multiplies in Pint) read 45000 × 10⁴ 台."""
    with pytest.raises(UnitError, match="multiplies counts"):
        parse_unit(text)


@pytest.mark.parametrize(("text", "base", "expected"), [
    ("kg/m**2.5", "kg*m**-2.5", 1.0), ("t-CO2/千kWh", "kg-CO2/kWh", 1.0), ("kg·m", "kg*m", 1.0), ("kg m", "kg*m", 1.0),
    ("m²", "m**2", 1.0), ("(kWh)/(yr)", "kWh/yr", 1.0), ("‰", "%", 0.1),
])
def test_units_that_use_only_accounted_characters_still_read(text, base, expected):
    assert factor(text, base) == pytest.approx(expected)


@pytest.mark.parametrize(("given", "declared", "message"), [
    ("delta_degC", "K", "a temperature difference"),     # 10 delta_degC was read as 10 K, an absolute temperature
    ("delta_degF", "degR", "a temperature difference"),
    ("K", "delta_degC", "an absolute temperature"),
    ("degR", "delta_degC", "an absolute temperature"),
])
def test_a_temperature_difference_and_an_absolute_temperature_never_convert_into_each_other(given, declared, message):
    with pytest.raises(UnitError, match=message):
        factor(given, declared)


def test_temperatures_of_the_same_kind_and_units_per_kelvin_still_convert():
    assert factor("delta_degF", "delta_degC") == pytest.approx(5 / 9)
    assert factor("degR", "K") == pytest.approx(5 / 9)
    assert factor("W/K", "W/delta_degC") == pytest.approx(1.0)  # a per-kelvin unit is per difference either way


@pytest.mark.parametrize(("text", "unit", "factor"), [
    ("Pa", "N/m**2", 1), ("kPa", "N/m**2", 1000), ("ha", "m**2", 10_000), ("ka", "yr", 1000), ("kyr", "yr", 1000),
    ("Ma", "yr", 1e6),
])
def test_pascal_hectare_and_prefixed_years_are_read_not_refused(text, unit, factor):
    """Issue 17 §3: every unit some of whose readings is a prefixed year was refused as a Julian-year multiple:
    ``Pa`` (Pint: pascal, or peta-annum), ``ha`` (hectare, or hecto-annum), ``ka``. Pint's own reading is used;
    a prefixed year is that multiple of koken's year (8,760 h), never of Pint's Julian one."""
    assert conversion_factor(parse_unit(text), parse_unit(unit)) == pytest.approx(factor, rel=1e-15)
    if text == "ka":  # the methodology's own year: a leap-year methodology's ka is 1,000 of its years
        assert conversion_factor(parse_unit("ka", 8784), parse_unit("yr", 8784)) == pytest.approx(1000)


def test_the_on_demand_registry_gives_every_unit_what_pints_own_registry_gives():
    """koken's registry leaves out Pint's start-up pass over every unit (issue 17 §4): each unit's root units,
    conversion factor and dimension, worked out on use, must be exactly what Pint's fully built registry holds."""
    import pint

    from koken.base.paths import units_dir
    from koken.base.units import OnDemandRegistry

    ours = OnDemandRegistry(on_redefinition="raise", autoconvert_offset_to_baseunit=False)
    pints = pint.UnitRegistry(on_redefinition="raise", autoconvert_offset_to_baseunit=False)
    for path in sorted(units_dir().glob("*.txt")):
        ours.load_definitions(str(path))
        pints.load_definitions(str(path))
    names = list(pints)  # Pint's pass also defines the prefixed units definitions name (centipoise): ours on use
    assert len(names) > 900 and set(ours) <= set(names)
    def looked_up(registry_, name):
        try:
            factor, root = registry_.get_root_units(name)
            return factor, str(root), str(registry_.get_dimensionality(name))
        except Exception as err:  # a name Pint cannot parse as a unit expression (%, R_∞): the same refusal
            return type(err).__name__

    for name in names:
        assert looked_up(ours, name) == looked_up(pints, name), name
    for text in ("kWh/yr", "kg-CO2e/台/yr", "万t-CO2e", "原油換算kL", "MJ/m3"):
        unit = parse_unit(text)
        assert ours.Quantity(1.0, str(unit)).to_base_units().magnitude == \
            pints.Quantity(1.0, str(unit)).to_base_units().magnitude, text
    # the one lookup that needs every unit's dimension at once builds Pint's whole cache on its first call
    assert {str(u) for u in pints.get_compatible_units("kWh")} <= {str(u) for u in ours.get_compatible_units("kWh")}
    assert "megawatt_hour" not in {str(u) for u in ours.get_compatible_units("kWh")}  # prefixed units: as Pint
    assert "joule" in {str(u) for u in ours.get_compatible_units("kWh")}
