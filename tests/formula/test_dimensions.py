"""koken.formula.dimensions: units inferred from a formula tree; terms of different dimensions are refused."""

import pytest

from koken.base.errors import FormulaError
from koken.base.i18n import language
from koken.base.units import conversion_factor, parse_unit
from koken.formula.dimensions import infer_unit
from koken.formula.parse import parse_formula

UNITS = {"energy": parse_unit("kWh"), "mass": parse_unit("kg"), "share": parse_unit("fraction")}


def test_a_product_has_the_product_of_the_units():
    unit = infer_unit(parse_formula("energy * share", set(UNITS)), UNITS)
    assert conversion_factor(unit, parse_unit("kWh")) == 1.0


@pytest.mark.parametrize(("formula", "english", "japanese"), [
    ("energy - mass", "cannot add or subtract 'energy'", "は次元が違うため、足し引きできません。"),
    ("max(energy, mass)", "cannot take min/max of 'energy'", "は次元が違うため、min/max を取れません。"),
    ("where(energy < mass, energy, 2 * energy)", "cannot compare 'energy'", "は次元が違うため、比較できません。"),
    ("where(share < 1, energy, mass)", "cannot choose between (where) 'energy'", "where() でどちらかを選ぶ値にできません。"),
])
def test_terms_of_different_dimensions_are_refused_in_the_chosen_language(formula, english, japanese):
    expr = parse_formula(formula, set(UNITS))
    with language("en"), pytest.raises(FormulaError) as info:
        infer_unit(expr, UNITS)
    assert str(info.value).startswith(english)
    with language("ja"), pytest.raises(FormulaError) as info:
        infer_unit(expr, UNITS)
    assert japanese in str(info.value) and "'energy'（" in str(info.value)


def test_a_dimensionless_term_is_named_so_in_japanese():
    with language("ja"), pytest.raises(FormulaError) as info:
        infer_unit(parse_formula("energy + share", set(UNITS)), UNITS)
    assert "'share'（無次元、単位 " in str(info.value)
