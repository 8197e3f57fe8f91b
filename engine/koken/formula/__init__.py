"""Formulas: text → tree (:mod:`.parse`, a whitelist over Python's ``ast``; never ``eval``), the node set and
its walker (:mod:`.tree`), units (:mod:`.dimensions`), numpy kernels (:mod:`.kernel`), per-row Pint values
(:mod:`.quantities`), LaTeX (:mod:`.latex`) and MathML (:mod:`.mathml`)."""

from koken.formula.dimensions import infer_unit
from koken.formula.kernel import compile_kernel
from koken.formula.latex import step_latex
from koken.formula.mathml import step_mathml
from koken.formula.parse import parse_formula
from koken.formula.quantities import evaluate_quantity

__all__ = ["compile_kernel", "evaluate_quantity", "infer_unit", "parse_formula", "step_latex", "step_mathml"]
