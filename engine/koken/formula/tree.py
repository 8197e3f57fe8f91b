"""The node set of a koken formula tree, and the one walker over it.

:func:`koken.formula.parse.parse_formula` builds trees of these sympy nodes only: symbols, numbers,
``Add``, ``Mul``, ``Pow`` (numeric exponent), ``Min``, ``Max``, ``Abs`` and ``Piecewise`` (from
``where(a < b, x, y)``) with one comparison as its condition. Everything that reads a tree — unit
inference (:mod:`koken.formula.dimensions`), the per-row Pint evaluation of traces
(:mod:`koken.formula.quantities`), the MathML of the methodology pages (:mod:`koken.formula.mathml`) —
walks it with :func:`fold`, so a node added to the parser is a node every reader must handle (an unknown
node is an error, never skipped).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

import sympy

T = TypeVar("T")

COMPARISONS = {sympy.StrictLessThan: "<", sympy.LessThan: "<=", sympy.StrictGreaterThan: ">",
               sympy.GreaterThan: ">="}
"""The comparisons a ``where()`` condition may be, and their operators."""


class Algebra(Protocol, Generic[T]):
    """What a walker does at each node; ``T`` is its value (a unit, a Pint quantity …)."""

    def symbol(self, name: str) -> T: ...
    def number(self, value: float) -> T: ...
    def add(self, terms: list[T], nodes: tuple[sympy.Basic, ...]) -> T: ...
    def mul(self, factors: list[T]) -> T: ...
    def power(self, base: T, exponent: float) -> T: ...
    def extreme(self, kind: str, values: list[T], nodes: tuple[sympy.Basic, ...]) -> T: ...
    def absolute(self, value: T) -> T: ...
    def where(self, branches: list[tuple[Callable[[], bool | None] | None, Callable[[], T]]],
              nodes: tuple[sympy.Basic, ...]) -> T: ...
    def compare(self, operator: str, lhs: T, rhs: T, nodes: tuple[sympy.Basic, sympy.Basic]) -> bool | None: ...
    def unknown(self, expr: sympy.Basic) -> Exception: ...


def fold(expr: sympy.Basic, algebra: Algebra[T]) -> T:
    """Walk ``expr`` bottom-up with ``algebra``.

    ``where()`` branches are handed over as thunks, so that an algebra may evaluate only the branch that
    applies (a trace must not divide by zero in a branch the condition excludes) or all of them (unit
    checks).

    Raises:
        whatever ``algebra.unknown(node)`` returns, for a node outside the node set.
    """
    def walk(node: sympy.Basic) -> T:
        return fold(node, algebra)

    if isinstance(expr, sympy.Symbol):
        return algebra.symbol(expr.name)
    if expr.is_Number:
        return algebra.number(float(expr))
    if isinstance(expr, sympy.Add):
        return algebra.add([walk(a) for a in expr.args], expr.args)
    if isinstance(expr, sympy.Mul):
        return algebra.mul([walk(a) for a in expr.args])
    if isinstance(expr, sympy.Pow):
        return algebra.power(walk(expr.base), float(expr.exp))
    if isinstance(expr, (sympy.Min, sympy.Max)):
        return algebra.extreme("min" if isinstance(expr, sympy.Min) else "max", [walk(a) for a in expr.args],
                               expr.args)
    if isinstance(expr, sympy.Abs):
        return algebra.absolute(walk(expr.args[0]))
    if isinstance(expr, sympy.Piecewise):
        branches = []
        for branch in expr.args:
            cond = branch.cond
            if cond is sympy.true:
                test = None
            elif type(cond) in COMPARISONS:
                def test(c=cond):
                    return algebra.compare(COMPARISONS[type(c)], walk(c.lhs), walk(c.rhs), (c.lhs, c.rhs))
            else:
                raise algebra.unknown(cond)
            branches.append((test, lambda e=branch.expr: walk(e)))
        return algebra.where(branches, tuple(b.expr for b in expr.args))
    raise algebra.unknown(expr)
