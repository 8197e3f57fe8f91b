"""koken.formula.mathml: formulas drawn as presentation MathML from the tree, node for node."""

import re
import xml.etree.ElementTree as ET

import pytest
import sympy

from koken.base.errors import FormulaError
from koken.formula.mathml import MATHML_NAMESPACE, step_mathml
from koken.formula.parse import parse_formula

NAMES = {"a", "b", "c", "x"}


def reading(formula: str) -> str:
    """The right-hand side as a reader sees it: fractions as [num / den], powers as ^, roots as sqrt{}."""
    markup = step_mathml("y", parse_formula(formula, NAMES))
    root = ET.fromstring(markup)  # well-formed XML (a `<` in a condition is escaped)
    assert root.tag == f"{{{MATHML_NAMESPACE}}}math" and root.get("display") == "block"

    def text(node) -> str:
        tag = node.tag.split("}")[1]
        inner = [text(child) for child in node]
        if tag == "mfrac":
            return f"[{inner[0]} / {inner[1]}]"
        if tag == "msup":
            return f"{inner[0]}^{inner[1]}"
        if tag == "msqrt":
            return "sqrt{" + " ".join(inner) + "}"
        if tag == "mtd":
            return " ".join(inner) + ";"
        return " ".join([node.text.strip()] if node.text and node.text.strip() else inner)

    return re.sub(r"^y = ", "", " ".join(text(root).split()))


@pytest.mark.parametrize(("formula", "drawn"), [
    ("a - (b + c)", "a − ( b + c )"),            # sympy's own MathML printer draws a − b + c
    ("a - (b - c)", "a − ( b − c )"),
    ("a + (b + c)", "a + ( b + c )"),            # the tree as written, parentheses and all
    ("a - b + c - c", "a − b + c − c"),          # nothing cancelled or reordered
    ("-(a + b) * c", "− ( a + b ) · c"),
    ("a * -b", "a · ( − b )"),
    ("a - -b", "a − ( − b )"),
    ("x * x / x", "[x · x / x]"),                # not simplified to x
    ("a / (b * c)", "[a / b · c]"),
    ("a / b / c", "[[a / b] / c]"),
    ("(a + b) ** 2", "( a + b )^2"),
    ("(a / b) ** 2", "( [a / b] )^2"),
    ("a ** -2", "[1 / a^2]"),
    ("a ** 0.5", "sqrt{a}"),
    ("a * 0.000001", "a · 10^-6"),
    ("2.5 * a", "2.5 · a"),
    ("min(a, b)", "min ( a , b )"),
    ("abs(a - b)", "| a − b |"),
    ("where(a < b, a, b - 1)", "{ a; if a < b; b − 1; otherwise;"),
    ("where(a >= b, a, b)", "{ a; if a ≥ b; b; otherwise;"),
])
def test_formulas_are_drawn_as_their_tree(formula, drawn):
    assert reading(formula) == drawn


def test_names_are_whole_and_upright():
    markup = step_mathml("avoided_per_unit_year", parse_formula("annual_energy_saved * E", {"annual_energy_saved", "E"}))
    assert re.findall(r'<mi mathvariant="normal">([^<]+)</mi>', markup) == ["avoided_per_unit_year", "annual_energy_saved", "E"]
    assert "<msub>" not in markup  # annual_energy_saved is not `annual` with a subscript


def test_a_node_outside_the_node_set_is_an_error():
    with pytest.raises(FormulaError, match="cannot draw"):
        step_mathml("y", sympy.sin(sympy.Symbol("a")))


def test_every_bundled_step_is_drawn(library):
    for m in library.values():
        for step in m.steps:
            ET.fromstring(m.step_mathml(step.name))
