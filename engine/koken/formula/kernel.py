"""Formula trees → numpy kernels (sympy ``lambdify``), printed exactly as built.

A kernel takes one float array per argument (base-unit magnitudes) and returns the step's values
as an array; units were resolved once, at load, by :mod:`koken.formula.dimensions`. The kernel never
sees Pint and never simplifies: ``x*x/x`` at 0 still divides by zero, ``a - b + c - c`` keeps every
term (what is checked is what runs).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import sympy
from sympy.printing.numpy import NumPyPrinter

from koken.formula.parse import symbol

KERNEL_MODULES = [{"koken_min": lambda *xs: np.minimum.reduce(np.broadcast_arrays(*xs)),
                   "koken_max": lambda *xs: np.maximum.reduce(np.broadcast_arrays(*xs))}, "numpy"]
"""What a kernel may call: numpy, and koken's elementwise min/max over any number of arguments."""


class KernelPrinter(NumPyPrinter):
    """numpy code for koken's trees, printed exactly as built (no rebuilding, so nothing cancels):
    min/max as plain numpy reductions (sympy's own printing of nested Min/Max rewrites them at a cost
    that grows steeply with the arguments)."""

    def _print_Min(self, expr):  # noqa: N802 - sympy printer protocol
        return "koken_min(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Max(self, expr):  # noqa: N802 - sympy printer protocol
        return "koken_max(" + ", ".join(self._print(a) for a in expr.args) + ")"


class Kernel:
    """A step's numpy function, printed and compiled by ``lambdify`` on its first call (a library of 29
    methodologies is loaded for a portfolio that uses two of them: the others' kernels are never needed).
    Pickled as its tree and arguments, compiled again where it is called."""

    __slots__ = ("_args", "_expr", "_function")

    def __init__(self, expr: sympy.Expr, args: Sequence[str]):
        self._expr = expr
        self._args = tuple(args)
        self._function: Callable[..., np.ndarray] | None = None

    def __call__(self, *arrays):
        function = self._function
        if function is None:
            function = self._function = _lambdify(self._expr, self._args)
        return function(*arrays)

    def compile(self) -> Kernel:
        """Compile now rather than on the first call (a ``koken server`` compiles every kernel before it forks)."""
        if self._function is None:
            self._function = _lambdify(self._expr, self._args)
        return self

    def __getstate__(self):
        return (self._expr, self._args)

    def __setstate__(self, state):
        self._expr, self._args = state
        self._function = None


def compile_kernel(expr: sympy.Expr, args: Sequence[str]) -> Callable[..., np.ndarray]:
    """The numpy function of ``expr`` over the symbols ``args`` (in that order), compiled on its first call.

    Args:
        expr: a tree from :func:`koken.formula.parse.parse_formula` (its free symbols ⊆ ``args``).
        args: argument names.
    Returns:
        ``f(*arrays) -> array``: arrays of shape ``(n,)`` (or scalars, broadcast) in, shape ``(n,)`` or a
        scalar out (a constant step), float64.
    """
    return Kernel(expr, args)


def _lambdify(expr: sympy.Expr, args: Sequence[str]) -> Callable[..., np.ndarray]:
    with sympy.evaluate(False):  # lambdify's own symbol substitution must not simplify the tree either
        return sympy.lambdify([symbol(a) for a in args], expr, modules=KERNEL_MODULES, dummify=True,
                              printer=KernelPrinter)
