"""Whitelist parser: formula text → sympy expression, without ``eval``, ``sympify`` or ``parse_expr``.

Formula text from a methodology YAML is parsed with Python's :mod:`ast` in ``eval`` mode and
converted node by node into sympy objects. Only these are accepted:

* numbers (int, float), declared names (parameters and earlier steps);
* ``+ - * /``, ``**`` with a constant exponent of at most :data:`MAX_EXPONENT` in absolute value,
  unary minus and plus, parentheses;
* ``min(a, b, ...)``, ``max(a, b, ...)``, ``abs(a)`` and ``where(a <op> b, then, else)`` with
  ``<op>`` one of ``< <= > >=``.

Everything else (attributes, subscripts, unknown calls, lambdas, strings, keywords, comparisons
outside ``where``, ``^``) is refused with a :class:`koken.base.errors.FormulaError` naming the
offending token. Formula text is ASCII (Python's parser would fold ``ａ`` and ``ﬁ`` into the names ``a`` and ``fi``)
and has no comment (``#``). Names are plain ASCII identifiers turned into ``sympy.Symbol`` directly, so
``E``, ``N``, ``S``, ``I``, ``Q`` or ``beta`` are ordinary variables (sympy issues #24397, #17812,
#12835, #16795; sympify and parse_expr evaluate text, sympy #10805 and #24990). Size, nesting depth and constant exponents are
bounded so that any text is accepted or refused quickly (``10**10**10`` is refused at once).
"""

from __future__ import annotations

import ast
import difflib
import functools
import keyword
import re
import unicodedata
from collections.abc import Collection

import sympy

from koken.base.errors import FormulaError, Location
from koken.base.i18n import N_, _

MAX_FORMULA_CHARS = 2000
MAX_NODES = 400
MAX_DEPTH = 40
MAX_EXPONENT = 16
MAX_FUNCTION_ARGS = 16
MAX_CONSTANT_DIGITS = 300
"""A constant sub-expression may not exceed 10**300 in size (float's range), so that
``((2**16)**16)**16 …`` is refused instead of computed."""
FUNCTIONS = ("min", "max", "abs", "where")
NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")

# Built unevaluated: sympy would otherwise simplify before koken checks anything — x*x/x becomes x
# (hiding a division by zero at x = 0) and a - b + c - c drops c (hiding a unit mismatch).
_BINOPS = {
    ast.Add: lambda a, b: sympy.Add(a, b, evaluate=False),
    ast.Sub: lambda a, b: sympy.Add(a, sympy.Mul(sympy.S.NegativeOne, b, evaluate=False), evaluate=False),
    ast.Mult: lambda a, b: sympy.Mul(a, b, evaluate=False),
    ast.Div: lambda a, b: sympy.Mul(a, sympy.Pow(b, sympy.S.NegativeOne, evaluate=False), evaluate=False),
}
_CHAINS = {ast.Add: "sum", ast.Sub: "sum", ast.Mult: "product", ast.Div: "product"}
"""Operators whose chains count as one level of nesting (``a + b - c``, ``a * b / c``)."""
_COMPARE = {ast.Lt: sympy.Lt, ast.LtE: sympy.Le, ast.Gt: sympy.Gt, ast.GtE: sympy.Ge}
_OPERATOR_TEXT = {
    ast.BitXor: N_("'^' is not a power in koken formulas: use ** (e.g. load_factor**2)"),
    ast.Mod: N_("'%' (modulo) is not allowed"),
    ast.FloorDiv: N_("'//' is not allowed: use /"),
    ast.MatMult: N_("'@' is not allowed"),
    ast.BitAnd: N_("'&' is not allowed"),
    ast.BitOr: N_("'|' is not allowed"),
    ast.LShift: N_("'<<' is not allowed"),
    ast.RShift: N_("'>>' is not allowed"),
}
_NODE_TEXT = {
    ast.Attribute: N_("attribute access not allowed in formulas"),
    ast.Subscript: N_("subscripts not allowed in formulas"),
    ast.Lambda: N_("lambdas not allowed in formulas"),
    ast.BoolOp: N_("'and'/'or' not allowed in formulas"),
    ast.IfExp: N_("'x if c else y' (use where()) not allowed in formulas"),
    ast.Tuple: N_("tuples not allowed in formulas"),
    ast.List: N_("lists not allowed in formulas"),
    ast.Dict: N_("dicts not allowed in formulas"),
    ast.Set: N_("sets not allowed in formulas"),
    ast.JoinedStr: N_("strings not allowed in formulas"),
    ast.NamedExpr: N_("':=' not allowed in formulas"),
    ast.Starred: N_("'*' unpacking not allowed in formulas"),
}


PURE_CONSTANTS = (0, 1, 2, 100)
"""Numbers a formula may write without a warning; any other literal should be a sourced parameter."""


def literal_numbers(text: str) -> list[float]:
    """Numeric literals in formula text other than :data:`PURE_CONSTANTS` and exponents.

    A factor written as a number hides its unit and source (the lesson of openfisca_nsw_safeguard's
    ``1.06`` copied into 29 formulas); ``koken validate`` warns about each one.

    Returns:
        The literal values, in order; [] for text that does not parse (the parser reports that).

    >>> literal_numbers("saved * 0.421 + 2 * b ** 3")
    [0.421]
    """
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return []
    exponents = {id(node.right) for node in ast.walk(tree) if isinstance(node, ast.BinOp)
                 and isinstance(node.op, ast.Pow)}
    exponents |= {id(node.operand) for node in ast.walk(tree) if isinstance(node, ast.UnaryOp)
                  and id(node) in exponents}
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, (int, float))
                and not isinstance(node.value, bool) and id(node) not in exponents
                and node.value not in PURE_CONSTANTS):
            found.append(float(node.value))
    return found


def is_valid_name(name: str) -> bool:
    """True if ``name`` may name a parameter or formula step.

    Rule: an ASCII letter then letters, digits or ``_`` (at most 64 characters), not a Python
    keyword and not one of the formula functions (:data:`FUNCTIONS`).

    >>> is_valid_name("grid_emission_factor"), is_valid_name("ａ"), is_valid_name("lambda"), is_valid_name("min")
    (True, False, False, False)
    """
    return bool(NAME_PATTERN.match(name)) and not keyword.iskeyword(name) and name not in FUNCTIONS


@functools.lru_cache(maxsize=4096)
def symbol(name: str) -> sympy.Symbol:
    """The sympy symbol koken uses for a parameter or step called ``name`` (real-valued)."""
    return sympy.Symbol(name, real=True)


def parse_formula(text: str, allowed_names: Collection[str],
                  location: Location | None = None) -> sympy.Expr:
    """Parse formula text into a sympy expression over ``allowed_names``.

    Args:
        text: the formula, e.g. ``"(baseline_energy - product_energy) * grid_emission_factor"``.
        allowed_names: names the formula may use (parameters and earlier steps).
        location: file and step, for error messages.
    Returns:
        A sympy expression whose free symbols are all in ``allowed_names``.
    Raises:
        FormulaError: for anything outside the whitelist, unknown names, or a formula over the
            size, depth or exponent limits; the message names the offending token.

    >>> parse_formula("(baseline - product) * factor", {"baseline", "product", "factor"})
    factor*(baseline - product)
    >>> parse_formula("where(load < 0.5, a, b)", {"load", "a", "b"})  # decimals are kept exact
    Piecewise((a, load < 1/2), (b, True))
    >>> parse_formula('__import__("os").system("ls")', {"a"})
    Traceback (most recent call last):
    ...
    koken.base.errors.FormulaError: only the functions min, max, abs, where may be called (at ...)
    >>> parse_formula("baseline - prodcut", {"baseline", "product"})
    Traceback (most recent call last):
    ...
    koken.base.errors.FormulaError: unknown name 'prodcut': not a parameter or an earlier step; did you mean 'product'? ...
    """
    loc = location or Location()
    if not isinstance(text, str) or not text.strip():
        raise FormulaError(_("formula is empty"), loc)
    if len(text) > MAX_FORMULA_CHARS:
        raise FormulaError(_("formula is longer than {limit} characters").format(limit=MAX_FORMULA_CHARS), loc)
    _check_characters(text, loc)
    depth = 0
    for ch in text:
        depth += ch in "([{"
        depth -= ch in ")]}"
        if depth > MAX_DEPTH:
            raise FormulaError(_("formula nests brackets deeper than {limit} levels").format(limit=MAX_DEPTH), loc)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        raise FormulaError(_("formula is not valid syntax: {problem} (at character {position})").format(
            problem=err.msg, position=err.offset), loc) from None
    except (RecursionError, MemoryError, ValueError):
        raise FormulaError(_("formula is too deeply nested or not text"), loc) from None
    nodes = sum(1 for _node in ast.walk(tree))
    if nodes > MAX_NODES:
        raise FormulaError(_("formula has {count} syntax nodes, more than {limit}").format(count=nodes, limit=MAX_NODES),
                           loc)
    expr = _Converter(text.strip(), frozenset(allowed_names), loc).convert(tree.body, 0)
    folded = expr.doit()  # constants multiplied out, as sympy would: 1e299 * 1e299 * … must stay in range
    if expr.has(sympy.zoo, sympy.oo, -sympy.oo, sympy.nan) or folded.has(sympy.zoo, sympy.oo, -sympy.oo, sympy.nan):
        raise FormulaError(_("formula {formula!r} divides by a zero constant or is not finite").format(
            formula=text.strip()[:200]), loc)
    for number in folded.atoms(sympy.Number):
        if number != 0 and (abs(number) > sympy.Integer(10) ** MAX_CONSTANT_DIGITS
                            or abs(number) < sympy.Integer(10) ** -MAX_CONSTANT_DIGITS):
            raise FormulaError(_("formula {formula!r} multiplies constants beyond 10**±{limit}").format(
                formula=text.strip()[:200], limit=MAX_CONSTANT_DIGITS), loc)
    if expr.has(sympy.I) or any(not n.is_real for n in expr.atoms(sympy.Number)):
        raise FormulaError(_("formula {formula!r} has a constant that is not a real number").format(formula=text.strip()),
                           loc)
    return expr


def _check_characters(text: str, loc: Location) -> None:
    """Refuse what Python's parser would change before koken sees it: a character that is not ASCII (identifiers are
    NFKC-folded, so ``ａ`` would be the name ``a`` and ``ﬁ`` the name ``fi``, despite the ASCII rule for names) and a
    comment (``a + b # - c`` parses as ``a + b``).

    Raises:
        FormulaError: naming the character, its code point, its position (from 1) and what Python would read.
    """
    for position, char in enumerate(text, start=1):
        if not char.isascii():
            raise FormulaError(_("formula {formula!r}: {char!r} (U+{code:04X}) at character {position} is not ASCII; "
                                 "Python would read it as {folded!r}: write formulas in ASCII").format(
                formula=text.strip()[:200], char=char, code=ord(char), position=position,
                folded=unicodedata.normalize("NFKC", char)), loc)
        if char == "#":
            raise FormulaError(_("formula {formula!r}: '#' at character {position} starts a comment, and Python would "
                                 "drop the rest of the formula: formulas have no comments").format(
                formula=text.strip()[:200], position=position), loc)


def _exponents(expr: sympy.Expr) -> dict[sympy.Symbol, sympy.Number]:
    """The largest power (in absolute value) to which each name is raised in ``expr``, as its unit would be:
    ``((a*1)**16*1)`` gives a: 16, ``a**2/b`` gives a: 2, b: 1. Products add, sums and functions take the
    larger, powers multiply; a condition of ``where`` does not count (its units do not reach the result)."""
    if isinstance(expr, sympy.Symbol):
        return {expr: sympy.Integer(1)}
    if isinstance(expr, sympy.Pow):
        factor = abs(expr.exp) if expr.exp.is_number else sympy.Integer(1)
        return {s: e * factor for s, e in _exponents(expr.base).items()}
    parts = [piece for piece, _condition in expr.args] if isinstance(expr, sympy.Piecewise) else expr.args
    out: dict[sympy.Symbol, sympy.Number] = {}
    for part in parts:
        for s, e in _exponents(part).items():
            out[s] = out.get(s, 0) + e if isinstance(expr, sympy.Mul) else max(out.get(s, 0), e)
    return out


class _Converter:
    def __init__(self, text: str, allowed: frozenset[str], loc: Location):
        self.text = text
        self.allowed = allowed
        self.loc = loc

    def fail(self, node: ast.AST, message: str) -> FormulaError:
        segment = ast.get_source_segment(self.text, node) or type(node).__name__
        return FormulaError(_("{problem} (at {segment!r} in formula {formula!r})").format(
            problem=message, segment=segment, formula=self.text), self.loc)

    def convert(self, node: ast.AST, depth: int) -> sympy.Expr:
        if depth > MAX_DEPTH:
            raise self.fail(node, _("formula is nested deeper than {limit} levels").format(limit=MAX_DEPTH))
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.BinOp):
            return self.binop(node, depth)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                operand = self.convert(node.operand, depth + 1)
                return -operand if operand.is_Number else sympy.Mul(sympy.S.NegativeOne, operand, evaluate=False)
            if isinstance(node.op, ast.UAdd):
                return self.convert(node.operand, depth + 1)
            raise self.fail(node, _("only unary - and + are allowed"))
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        if isinstance(node, ast.Compare):
            raise self.fail(node, _("comparisons are only allowed as the first argument of where()"))
        if type(node) in _NODE_TEXT:
            raise self.fail(node, _(_NODE_TEXT[type(node)]))
        raise self.fail(node, _("{kind} not allowed in formulas").format(kind=type(node).__name__))

    def constant(self, node: ast.Constant) -> sympy.Expr:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(node, _("only numbers are allowed as constants (no strings, booleans, None)"))
        if isinstance(value, int):
            return sympy.Integer(value)
        if value != value or value in (float("inf"), float("-inf")):
            raise self.fail(node, _("constant is not a finite number"))
        return sympy.Rational(repr(value))

    def name(self, node: ast.Name) -> sympy.Expr:
        ident = node.id
        if not NAME_PATTERN.match(ident):
            raise self.fail(node, _("name {name!r} is not a plain ASCII identifier").format(name=ident))
        if ident in FUNCTIONS:
            raise self.fail(node, _("{name!r} is a function; call it as {name}(...)").format(name=ident))
        if ident not in self.allowed:
            hint = difflib.get_close_matches(ident, sorted(self.allowed), n=1)
            if hint:
                raise self.fail(node, _("unknown name {name!r}: not a parameter or an earlier step; did you mean "
                                        "{hint!r}?").format(name=ident, hint=hint[0]))
            raise self.fail(node, _("unknown name {name!r}: not a parameter or an earlier step").format(name=ident))
        return symbol(ident)

    def binop(self, node: ast.BinOp, depth: int) -> sympy.Expr:
        op = type(node.op)
        if op in _OPERATOR_TEXT:
            raise self.fail(node, _(_OPERATOR_TEXT[op]))
        # a chain of one kind of operator (a + b - c + …, a * b / c * …) is one level, however long: Python's ast
        # nests it to the left, one level per term, which refused flat sums of more than 40 terms
        chained = op in _CHAINS and isinstance(node.left, ast.BinOp) and _CHAINS.get(type(node.left.op)) == _CHAINS[op]
        left = self.convert(node.left, depth if chained else depth + 1)
        if op is ast.Pow:
            exponent = self.convert(node.right, depth + 1)
            if not exponent.is_number:
                raise self.fail(node.right, _("the exponent of ** must be a number"))
            if abs(exponent) > MAX_EXPONENT:
                raise self.fail(node.right, _("the exponent of ** must be between -{limit} and {limit}").format(
                    limit=MAX_EXPONENT))
            if left.is_number:
                self.check_constant_power(node, left, exponent)
            combined = max(_exponents(left).values(), default=0) * abs(exponent)
            if isinstance(left, sympy.Pow) and left.exp.is_number:  # a power of a constant's power too: 2**16**16
                combined = max(combined, abs(left.exp * exponent))
            if combined > MAX_EXPONENT:
                raise self.fail(node, _("the combined exponent {exponent} is beyond ±{limit}").format(
                    exponent=combined, limit=MAX_EXPONENT))
            result = sympy.Pow(left, exponent, evaluate=False)
            self.check_constant_size(node, result)
            return result
        right = self.convert(node.right, depth + 1)
        result = _BINOPS[op](left, right)
        self.check_constant_size(node, result)
        return result

    def check_constant_size(self, node: ast.AST, value: sympy.Expr) -> None:
        """Refuse a constant sub-expression outside 10**±300 (float's range) before it grows further."""
        if not value.is_number:
            return
        numeric = sympy.N(value, 20)
        if not numeric.is_finite:
            raise self.fail(node, _("constant is not a finite number (a division by zero?)"))
        magnitude = abs(complex(numeric))
        if magnitude > 10.0 ** MAX_CONSTANT_DIGITS or 0 < magnitude < 10.0 ** -MAX_CONSTANT_DIGITS:
            raise self.fail(node, _("constant is beyond 10**±{limit}").format(limit=MAX_CONSTANT_DIGITS))

    def check_constant_power(self, node: ast.AST, base: sympy.Expr, exponent: sympy.Expr) -> None:
        """Refuse a constant power that is not real or larger than float's range, before computing it."""
        import math

        b = abs(float(sympy.N(base, 20)))
        if float(sympy.N(base)) < 0 and not float(exponent).is_integer():
            raise self.fail(node, _("a negative number to a fractional power is not a real number"))
        if b > 0 and abs(math.log10(b) * float(exponent)) > MAX_CONSTANT_DIGITS:
            raise self.fail(node, _("constant is beyond 10**±{limit}").format(limit=MAX_CONSTANT_DIGITS))
        if b == 0 and float(exponent) < 0:
            raise self.fail(node, _("0 to a negative power divides by zero"))

    def call(self, node: ast.Call, depth: int) -> sympy.Expr:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise self.fail(node, _("only the functions {functions} may be called").format(functions=", ".join(FUNCTIONS)))
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise self.fail(node, _("function arguments must be plain positional expressions"))
        fname, args = node.func.id, node.args
        if fname in ("min", "max"):
            if len(args) < 2:
                raise self.fail(node, _("{function}() needs at least two arguments").format(function=fname))
            if len(args) > MAX_FUNCTION_ARGS:
                raise self.fail(node, _("{function}() takes at most {limit} arguments").format(
                    function=fname, limit=MAX_FUNCTION_ARGS))
            values = [self.convert(a, depth + 1) for a in args]
            # evaluate=False: sympy's simplification of Min/Max grows quadratically with the arguments
            return sympy.Min(*values, evaluate=False) if fname == "min" else sympy.Max(*values, evaluate=False)
        if fname == "abs":
            if len(args) != 1:
                raise self.fail(node, _("abs() takes one argument"))
            return sympy.Abs(self.convert(args[0], depth + 1))
        if len(args) != 3:
            raise self.fail(node, _("where(condition, value_if_true, value_if_false) takes three arguments"))
        cond = args[0]
        if not (isinstance(cond, ast.Compare) and len(cond.ops) == 1 and type(cond.ops[0]) in _COMPARE):
            raise self.fail(cond, _("the condition of where() must be one comparison: a < b, a <= b, a > b "
                                    "or a >= b"))
        relation = _COMPARE[type(cond.ops[0])](self.convert(cond.left, depth + 1),
                                               self.convert(cond.comparators[0], depth + 1))
        then = self.convert(args[1], depth + 1)
        other = self.convert(args[2], depth + 1)
        return sympy.Piecewise((then, relation), (other, True))
