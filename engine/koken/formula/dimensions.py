"""Dimension analysis of formula trees with Pint, once per formula (never per row).

Each step's unit follows from its operands' units: the tree is folded (:func:`koken.formula.tree.fold`)
with one unit-only Pint quantity per symbol. Adding or comparing incompatible dimensions is a
:class:`koken.base.errors.FormulaError` naming both terms and both dimensions.
"""

from __future__ import annotations

from collections.abc import Mapping

import pint
import sympy

from koken.base.errors import FormulaError, Location
from koken.base.i18n import N_, _
from koken.base.units import dimension_text, registry, unit_display
from koken.formula.tree import fold

_MISMATCH = {
    "add": N_("cannot add or subtract '{first}' ({first_dimension}, unit {first_unit}) and '{other}' "
              "({other_dimension}, unit {other_unit})"),
    "extreme": N_("cannot take min/max of '{first}' ({first_dimension}, unit {first_unit}) and '{other}' "
                  "({other_dimension}, unit {other_unit})"),
    "where": N_("cannot choose between (where) '{first}' ({first_dimension}, unit {first_unit}) and '{other}' "
                "({other_dimension}, unit {other_unit})"),
    "compare": N_("cannot compare '{first}' ({first_dimension}, unit {first_unit}) and '{other}' "
                  "({other_dimension}, unit {other_unit})"),
}
"""What cannot be done with two terms of different dimensions, by operation."""


def infer_unit(expr: sympy.Expr, units: Mapping[str, pint.Unit],
               location: Location | None = None) -> pint.Unit:
    """Unit of ``expr`` when each symbol ``s`` carries ``units[s.name]``.

    Args:
        expr: a sympy expression from :func:`koken.formula.parse.parse_formula`.
        units: unit of every symbol that may occur.
        location: file and step, for error messages.
    Returns:
        The expression's ``pint.Unit`` (a product of the operand units, not simplified).
    Raises:
        FormulaError: incompatible addition, comparison, min/max or where() branches.
    """
    return fold(expr, _Units(units, location or Location())).units


class _Units:
    """The unit algebra: every value is a Pint quantity of magnitude 1 carrying the unit."""

    def __init__(self, units: Mapping[str, pint.Unit], loc: Location):
        self._units, self._loc, self._one = units, loc, registry().Quantity(1.0, "dimensionless")

    def symbol(self, name):
        return registry().Quantity(1.0, self._units[name])

    def number(self, value):
        return self._one

    def add(self, terms, nodes):
        return self._same(terms, nodes, "add")

    def mul(self, factors):
        result = self._one
        for f in factors:
            result = result * f
        return result

    def power(self, base, exponent):
        return base ** exponent

    def extreme(self, kind, values, nodes):
        return self._same(values, nodes, "extreme")

    def absolute(self, value):
        return value

    def where(self, branches, nodes):
        for test, _value in branches:
            if test is not None:
                test()  # the comparison's two sides must have one dimension
        return self._same([value() for _t, value in branches], nodes, "where")

    def compare(self, operator, lhs, rhs, nodes):
        self._same([lhs, rhs], nodes, "compare")
        return None

    def unknown(self, expr):
        return FormulaError(f"cannot analyse the units of {expr}", self._loc)

    def _same(self, quantities, nodes, operation):
        first = quantities[0]
        for node, q in zip(nodes[1:], quantities[1:]):
            if q.dimensionality != first.dimensionality:
                raise FormulaError(_(_MISMATCH[operation]).format(
                    first=nodes[0], first_dimension=dimension_text(first.units), first_unit=unit_display(first.units),
                    other=node, other_dimension=dimension_text(q.units), other_unit=unit_display(q.units)), self._loc)
        return first
