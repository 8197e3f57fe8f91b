"""Dimension analysis of formula trees with Pint, once per formula (never per row).

Each step's unit follows from its operands' units: a sympy tree is walked with one unit-only
Pint quantity per symbol. Adding or comparing incompatible dimensions is a
:class:`koken.base.errors.FormulaError` naming both terms and both dimensions.
"""

from __future__ import annotations

from collections.abc import Mapping

import pint
import sympy

from koken.base.errors import FormulaError, Location
from koken.base.units import registry


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
        FormulaError: incompatible addition, comparison, min/max or where() branches; a
            non-dimensionless exponent base raised to a symbolic power.
    """
    return _walk(expr, units, location or Location()).units


def _walk(expr: sympy.Basic, units: Mapping[str, pint.Unit], loc: Location) -> pint.Quantity:
    ureg = registry()
    if isinstance(expr, sympy.Symbol):
        return ureg.Quantity(1.0, units[expr.name])
    if expr.is_Number:
        return ureg.Quantity(1.0, "dimensionless")
    if isinstance(expr, sympy.Mul):
        result = ureg.Quantity(1.0, "dimensionless")
        for arg in expr.args:
            result = result * _walk(arg, units, loc)
        return result
    if isinstance(expr, sympy.Pow):
        base = _walk(expr.base, units, loc)
        return base ** float(expr.exp)
    if isinstance(expr, (sympy.Add, sympy.Min, sympy.Max)):
        return _same_dimension(list(expr.args), units, loc, _verb(expr))
    if isinstance(expr, sympy.Abs):
        return _walk(expr.args[0], units, loc)
    if isinstance(expr, sympy.Piecewise):
        values = [branch.expr for branch in expr.args]
        for branch in expr.args:
            cond = branch.cond
            if isinstance(cond, sympy.core.relational.Relational):
                _same_dimension([cond.lhs, cond.rhs], units, loc, "compare")
        return _same_dimension(values, units, loc, "choose between (where)")
    raise FormulaError(f"cannot analyse the units of {expr}", loc)


def _verb(expr: sympy.Basic) -> str:
    return "add or subtract" if isinstance(expr, sympy.Add) else "take min/max of"


def _same_dimension(args: list[sympy.Basic], units: Mapping[str, pint.Unit], loc: Location,
                    verb: str) -> pint.Quantity:
    quantities = [_walk(arg, units, loc) for arg in args]
    first = quantities[0]
    for arg, q in zip(args[1:], quantities[1:]):
        if q.dimensionality != first.dimensionality:
            raise FormulaError(
                f"cannot {verb} '{args[0]}' ({first.dimensionality or 'dimensionless'}, unit "
                f"{first.units:~}) and '{arg}' ({q.dimensionality or 'dimensionless'}, unit {q.units:~})",
                loc,
            )
    return first
