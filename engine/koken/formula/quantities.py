"""A formula tree evaluated with Pint quantities, one row at a time: the independent recomputation behind
``koken trace`` (the vectorised kernel of :mod:`koken.formula.kernel` computes the same numbers on
base-unit magnitudes; the trace tests compare the two).
"""

from __future__ import annotations

import operator
from collections.abc import Mapping

import pint
import sympy

from koken.base.errors import EvaluationError
from koken.formula.tree import fold

_COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def evaluate_quantity(expr: sympy.Basic, env: Mapping[str, pint.Quantity]) -> pint.Quantity | float:
    """The value of ``expr`` with each symbol bound to ``env[name]`` (Pint arithmetic checks units again).

    Only the ``where()`` branch whose condition holds is evaluated.

    Raises:
        ZeroDivisionError: a negative power of zero (Pint would give inf).
        EvaluationError: no ``where()`` branch applies, or a node outside koken's node set.
        pint.DimensionalityError: units that do not add up (the load-time check makes this a bug).
    """
    return fold(expr, _Quantities(env))


class _Quantities:
    def __init__(self, env: Mapping[str, pint.Quantity]):
        self._env = env

    def symbol(self, name):
        return self._env[name]

    def number(self, value):
        return value

    def add(self, terms, nodes):
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        return total

    def mul(self, factors):
        product = 1.0
        for f in factors:
            product = product * f
        return product

    def power(self, base, exponent):
        magnitude = base.magnitude if isinstance(base, pint.Quantity) else base
        if exponent < 0 and float(magnitude) == 0.0:
            raise ZeroDivisionError
        return base ** exponent

    def extreme(self, kind, values, nodes):
        return (min if kind == "min" else max)(values)

    def absolute(self, value):
        return abs(value)

    def where(self, branches, nodes):
        for test, value in branches:
            if test is None or test():
                return value()
        raise EvaluationError("no branch of where() applies")

    def compare(self, operator_text, lhs, rhs, nodes):
        return bool(_COMPARE[operator_text](lhs, rhs))

    def unknown(self, expr):
        return EvaluationError(f"cannot trace {expr}")
