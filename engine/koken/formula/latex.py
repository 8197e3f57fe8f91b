"""Formula trees as LaTeX, for the methodology pages and traces (rendered from the tree the numbers come
from, never from the formula text)."""

from __future__ import annotations

from collections.abc import Iterable

import sympy

from koken.formula.parse import symbol


def latex_name(name: str) -> str:
    """A parameter or step name as upright LaTeX (``\\mathrm{grid\\_emission\\_factor}``).

    >>> latex_name("operating_years")
    '\\\\mathrm{operating\\\\_years}'
    """
    return r"\mathrm{" + name.replace("_", r"\_") + "}"


def step_latex(name: str, expression: sympy.Expr, names: Iterable[str]) -> str:
    """``name = expression`` in LaTeX, every symbol of ``names`` written as :func:`latex_name` gives it.

    >>> from koken.formula.parse import parse_formula
    >>> step_latex("saving", parse_formula("a - b", {"a", "b"}), ["a", "b"])
    '\\\\mathrm{saving} = \\\\mathrm{a} - \\\\mathrm{b}'
    """
    symbols = {symbol(n): latex_name(n) for n in names}
    return f"{latex_name(name)} = {sympy.latex(expression, symbol_names=symbols, mul_symbol='dot')}"
