"""Formula trees as presentation MathML, for the methodology pages: drawn by the browser itself (MathML Core:
Chromium 109+, Firefox, Safari), so a page shows its formulas with no script and no network.

The markup is a third algebra over the tree (:func:`koken.formula.tree.fold`, beside units and Pint
values), so it shows the tree the numbers come from, node for node, and a node added to the parser is an
error here until it is drawn. sympy's own presentation printer was not used: it re-evaluates negated
terms while printing and drops their parentheses (``a - (b + c)`` comes out as ``a − b + c``), and it has
no ``Piecewise``.

Drawing rules: names upright and whole (``grid_emission_factor``, as :func:`koken.formula.latex.latex_name`
writes them), ``x ** -n`` as a denominator, ``x ** 0.5`` as a square root, a sum inside a product or after
a minus in parentheses, ``where()`` as cases.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import sympy

from koken.base.errors import FormulaError
from koken.formula.tree import fold

MATHML_NAMESPACE = "http://www.w3.org/1998/Math/MathML"

_SUM, _PRODUCT, _FRACTION, _POWER, _ATOM = range(5)
"""How tightly a piece binds; a piece inside an operator that binds tighter gets parentheses."""

_OPERATORS = {"<": "&lt;", "<=": "&#x2264;", ">": "&gt;", ">=": "&#x2265;"}
_MINUS, _TIMES = "<mo>&#x2212;</mo>", "<mo>&#xB7;</mo>"


@dataclass(frozen=True)
class _Piece:
    """The markup of a sub-tree (one element) without its sign; ``negative`` draws a leading minus, ``reciprocal`` marks
    ``x ** -n`` (its markup is the denominator ``x ** n``) so that a product can draw a fraction."""

    markup: str
    level: int
    negative: bool = False
    reciprocal: bool = False


def _paren(markup: str) -> str:
    return f"<mrow><mo>(</mo>{markup}<mo>)</mo></mrow>"


def _full(p: _Piece) -> _Piece:
    """The piece as drawn on its own: sign and reciprocal written out."""
    if p.reciprocal:
        p = _Piece(f"<mfrac><mn>1</mn>{p.markup}</mfrac>", _FRACTION, p.negative)
    if p.negative:
        return _Piece(f"<mrow>{_MINUS}{_wrap(_Piece(p.markup, p.level), _PRODUCT)}</mrow>", _SUM)
    return p


def _wrap(p: _Piece, level: int) -> str:
    """The piece's markup inside an operator that needs at least ``level``."""
    p = _full(p)
    return p.markup if p.level >= level else _paren(p.markup)


def _number(value: float) -> str:
    text = format(value, ".12g")
    if "e" not in text:
        return f"<mn>{text}</mn>"
    mantissa, exponent = text.split("e")
    power = f"<msup><mn>10</mn><mn>{int(exponent)}</mn></msup>"
    return power if mantissa == "1" else f"<mrow><mn>{mantissa}</mn><mo>&#xD7;</mo>{power}</mrow>"


class _MathML:
    """The algebra: each node → a :class:`_Piece`. ``compare`` returns the condition's markup, not its
    truth value: drawing a ``where()`` shows every branch with its condition."""

    def symbol(self, name):
        return _Piece(f'<mi mathvariant="normal">{html.escape(name)}</mi>', _ATOM)

    def number(self, value):
        level = _PRODUCT if "e" in format(value, ".12g") else _ATOM
        return _Piece(_number(abs(value)), level, negative=value < 0)

    def add(self, terms, nodes):
        out = [_full(terms[0]).markup]
        for t in terms[1:]:
            out += [_MINUS if t.negative else "<mo>+</mo>", _wrap(_Piece(t.markup, t.level, reciprocal=t.reciprocal),
                                                                  _PRODUCT)]
        return _Piece(f"<mrow>{''.join(out)}</mrow>", _SUM)

    def mul(self, factors):
        first, *rest = factors
        negative = first.negative  # the sign of the first factor is drawn in front: −2 · a, −(a + b) · c
        first = _Piece(first.markup, first.level, reciprocal=first.reciprocal)
        kept = rest if negative and first == _Piece("<mn>1</mn>", _ATOM) else [first, *rest]  # −1 · x is −x
        numerator = [f for f in kept if not f.reciprocal]
        denominator = [_Piece(f.markup, f.level, f.negative) for f in kept if f.reciprocal]

        def product(pieces: list[_Piece]) -> _Piece:
            if not pieces:
                return _Piece("<mn>1</mn>", _ATOM)
            if len(pieces) == 1:
                return _full(pieces[0])
            return _Piece(f"<mrow>{_TIMES.join(_wrap(p, _PRODUCT) for p in pieces)}</mrow>", _PRODUCT)

        top = product(numerator)
        if not denominator:
            return _Piece(top.markup, top.level, negative)
        return _Piece(f"<mfrac>{top.markup}{product(denominator).markup}</mfrac>", _FRACTION, negative)

    def power(self, base, exponent):
        if exponent < 0:
            p = base if exponent == -1 else self.power(base, -exponent)
            return _Piece(p.markup, p.level, p.negative, reciprocal=True)
        if exponent == 0.5:
            return _Piece(f"<msqrt>{_full(base).markup}</msqrt>", _ATOM)
        return _Piece(f"<msup>{_wrap(base, _ATOM)}{_number(exponent)}</msup>", _POWER)

    def extreme(self, kind, values, nodes):
        args = "<mo>,</mo>".join(_full(v).markup for v in values)
        return _Piece(f"<mrow><mi>{kind}</mi><mo>(</mo>{args}<mo>)</mo></mrow>", _ATOM)

    def absolute(self, value):
        return _Piece(f"<mrow><mo>|</mo>{_full(value).markup}<mo>|</mo></mrow>", _ATOM)

    def where(self, branches, nodes):
        rows = []
        for test, value in branches:
            condition = "<mtext>otherwise</mtext>" if test is None else f"<mrow><mtext>if&#xA0;</mtext>{test()}</mrow>"
            rows.append(f"<mtr><mtd>{_full(value()).markup}</mtd><mtd>{condition}</mtd></mtr>")
        return _Piece(f"<mrow><mo>{{</mo><mtable columnalign=\"left\">{''.join(rows)}</mtable></mrow>", _ATOM)

    def compare(self, operator_text, lhs, rhs, nodes):
        return f"{_full(lhs).markup}<mo>{_OPERATORS[operator_text]}</mo>{_full(rhs).markup}"

    def unknown(self, expr):
        return FormulaError(f"cannot draw {type(expr).__name__} as MathML")


def step_mathml(name: str, expression: sympy.Expr) -> str:
    """``name = expression`` as one ``<math display="block">`` element on one line (a raw HTML block in
    Markdown).

    >>> from koken.formula.parse import parse_formula
    >>> markup = step_mathml("share", parse_formula("a / b", {"a", "b"}))
    >>> markup.startswith('<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">')
    True
    >>> markup[markup.index("<mfrac>"):markup.index("</mfrac>") + 8]
    '<mfrac><mi mathvariant="normal">a</mi><mi mathvariant="normal">b</mi></mfrac>'

    Raises:
        FormulaError: a node outside koken's node set (:mod:`koken.formula.tree`).
    """
    algebra = _MathML()
    lhs, rhs = algebra.symbol(name).markup, _full(fold(expression, algebra)).markup
    return f'<math xmlns="{MATHML_NAMESPACE}" display="block"><mrow>{lhs}<mo>=</mo>{rhs}</mrow></math>'
