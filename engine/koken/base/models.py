"""The one pydantic base of koken's file formats (methodologies, factor tables, ratio files), and the
number type they share.

Every model forbids unknown keys (a misspelt key is an error, never ignored), is frozen, strips
surrounding whitespace from text and refuses NaN and infinity. :func:`validation_problems` words
pydantic's validation errors as koken's own messages, in the chosen language (docs/i18n.md).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from koken.base.i18n import N_, _, pick


def not_bool(value: object) -> object:
    """YAML true/false are not numbers: refuse them where a number is expected (pydantic would read 1.0).

    Raises:
        ValueError: ``value`` is a boolean (pydantic reports it with the field's location).
    """
    if isinstance(value, bool):
        raise ValueError(_("expected a number, got a boolean (true/false)"))
    return value


Number = Annotated[float, BeforeValidator(not_bool), Field(strict=True)]
"""A number written as a number: not a boolean, not text ("0.421" in quotes is refused)."""


def validation_problems(err: ValidationError, unknown_key: str | None = None) -> list[tuple[str, str, str]]:
    """Each problem of a pydantic ``ValidationError`` as ``(field path, message, error type)``.

    The path is dotted (``entries.3.value``; ``""`` for the whole document), without pydantic's tags for
    union members and dictionary keys (``inputs.a.constrained-str`` is ``inputs.a``). The message is koken's
    own, in the current language, for the errors people meet in files: a missing or unknown field, a wrong
    type (text, number, whole number, list, mapping), a value out of range or not among the allowed ones,
    text too short or too long, a list too short or too long, text not of the required form. An unknown key
    is said as ``unknown_key`` (a text that may name the key as ``{field}``). A value that fits none of a
    union's types is one problem naming them all. pydantic's English text is kept only for rarer errors.
    Loaders turn these into located errors.

    >>> from typing import Literal
    >>> class Baseline(StrictModel):
    ...     type: Literal["market_average", "custom"]
    ...     reference_year: Annotated[int, Field(ge=1990)]
    ...     value: Number | str
    >>> try:
    ...     Baseline.model_validate({"type": "market", "reference_year": 1980, "value": [1], "yaer": 2013})
    ... except ValidationError as err:
    ...     for problem in validation_problems(err):
    ...         print(problem)
    ('type', "'type' must be one of 'market_average', 'custom', got 'market'", 'literal_error')
    ('reference_year', "'reference_year' must be at least 1990, got 1980", 'greater_than_equal')
    ('value', "'value' must be one of these: a number, text (got [1])", 'float_type')
    ('yaer', "unknown key 'yaer'", 'extra_forbidden')
    """
    located = _located(err.errors())
    unions: dict[tuple, list[dict]] = {}
    for loc, union, e in located:
        if union:
            unions.setdefault(loc, []).append(e)
    problems = []
    for loc, union, e in located:
        path = ".".join(map(str, loc))
        if not union:
            problems.append((path, problem_message(e, unknown_key, loc), e["type"]))
            continue
        members = unions.pop(loc, None)
        if members is None:
            continue  # the union was reported with its first member
        failed_constraint = [m for m in members if m["type"] not in _TYPE_KINDS]
        if failed_constraint:  # the value has one of the types but breaks its limits: say that
            problems.extend((path, problem_message(m, unknown_key, loc), m["type"]) for m in failed_constraint)
            continue
        kinds = list(dict.fromkeys(_TYPE_KINDS[m["type"]] for m in members))
        message = _("{field!r} must be one of these: {kinds} (got {value})").format(
            field=_field_name(loc), kinds=pick("、", ", ").join(_(_KIND_NOUNS[k]) for k in kinds),
            value=_shown(e.get("input")))
        problems.append((path, message, members[0]["type"]))
    return problems


def problem_message(error: dict, unknown_key: str | None = None, loc: tuple | None = None) -> str:
    """koken's message for one of pydantic's errors (an item of ``ValidationError.errors()``), in the
    current language; pydantic's own text for error types koken does not word itself.

    Args:
        error: pydantic's error: ``type``, ``loc``, ``msg``, ``input`` and, for some types, ``ctx``.
        unknown_key: what to say for a key the model does not have (``{field}`` names the key).
        loc: the error's location without pydantic's tags (default: ``error["loc"]`` cleaned of them).
    """
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    loc = _clean(error["loc"]) if loc is None else loc
    field, shown = _field_name(loc), _shown(value)
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])  # koken's own validators, worded in the current language when they ran
    if kind == "extra_forbidden":
        return (unknown_key if unknown_key is not None else _("unknown key {field!r}")).format(field=field)
    if not loc:
        if _TYPE_KINDS.get(kind) == "mapping":
            return _("the file must be a mapping of keys to values, got {value}").format(value=shown)
        return error["msg"]
    if kind == "missing":
        return _("required field {field!r} is missing").format(field=field)
    if kind in _TYPE_KINDS:
        if kind == "float_type" and isinstance(value, str):
            return _("{field!r} must be a number, not text: write it without quotes (got {value})").format(
                field=field, value=shown)
        return _(_KIND_MESSAGES[_TYPE_KINDS[kind]]).format(field=field, value=shown)
    if kind in _LIMITS:
        bound, message = _LIMITS[kind]
        return _(message).format(field=field, limit=_number(ctx.get(bound)), value=shown)
    if kind in ("literal_error", "enum"):
        allowed = _allowed(str(ctx.get("expected", "")))
        if error["loc"] and error["loc"][-1] == "[key]":
            return _("key {key!r} is not allowed here: use one of {allowed}").format(key=value, allowed=allowed)
        return _("{field!r} must be one of {allowed}, got {value}").format(field=field, allowed=allowed, value=shown)
    if kind == "string_too_short":
        if ctx.get("min_length") == 1:
            return _("{field!r} must not be empty").format(field=field)
        return _("{field!r} must have at least {limit} characters, has {count}").format(
            field=field, limit=ctx.get("min_length"), count=_length(value))
    if kind == "string_too_long":
        return _("{field!r} must have at most {limit} characters, has {count}").format(
            field=field, limit=ctx.get("max_length"), count=_length(value))
    if kind == "too_short":
        return _("{field!r} must have at least {limit} item(s), has {count}").format(
            field=field, limit=ctx.get("min_length"), count=_length(value))
    if kind == "too_long":
        return _("{field!r} must have at most {limit} item(s), has {count}").format(
            field=field, limit=ctx.get("max_length"), count=_length(value))
    if kind == "string_pattern_mismatch":
        return _("{field!r} does not have the required form (pattern {pattern}), got {value}").format(
            field=field, pattern=ctx.get("pattern"), value=shown)
    return error["msg"]


_TYPE_KINDS = {
    "string_type": "text", "float_type": "number", "float_parsing": "number", "int_type": "integer",
    "int_parsing": "integer", "int_from_float": "integer", "bool_type": "boolean", "bool_parsing": "boolean",
    "list_type": "list", "tuple_type": "list", "set_type": "list", "frozen_set_type": "list",
    "dict_type": "mapping", "model_type": "mapping", "model_attributes_type": "mapping",
    "dataclass_type": "mapping", "finite_number": "finite",
}
"""pydantic's type errors → the kind of value that was expected."""

_KIND_MESSAGES = {
    "text": N_("{field!r} must be text, got {value}"),
    "number": N_("{field!r} must be a number, got {value}"),
    "integer": N_("{field!r} must be a whole number (an integer), got {value}"),
    "boolean": N_("{field!r} must be true or false, got {value}"),
    "list": N_("{field!r} must be a list, got {value}"),
    "mapping": N_("{field!r} must be a mapping of keys to values, got {value}"),
    "finite": N_("{field!r} must be a finite number, got {value}"),
}
_KIND_NOUNS = {
    "text": N_("text"), "number": N_("a number"), "integer": N_("a whole number"), "boolean": N_("true or false"),
    "list": N_("a list"), "mapping": N_("a mapping"), "finite": N_("a finite number"),
}
"""The kinds as nouns, listed when a value fits none of a union's types."""

_LIMITS = {
    "greater_than": ("gt", N_("{field!r} must be greater than {limit}, got {value}")),
    "greater_than_equal": ("ge", N_("{field!r} must be at least {limit}, got {value}")),
    "less_than": ("lt", N_("{field!r} must be less than {limit}, got {value}")),
    "less_than_equal": ("le", N_("{field!r} must be at most {limit}, got {value}")),
}
"""pydantic's range errors → (the bound in the error's ``ctx``, koken's message)."""

_BRACKET_TAG = re.compile(r"^(?:[A-Za-z][\w-]*\[.*\]|\[key\])$")
"""pydantic's location tags that are never a key of a file: ``function-after[...]``, ``list[str]``, ``[key]``."""
_MEMBER_TAG = re.compile(r"^(?:str|int|float|bool|bytes|none|[a-z]+(?:-[a-z]+)+|[A-Za-z][\w-]*\[.*\])$")
"""pydantic's tags for the members of a union (``str``, ``constrained-str``, ``function-before[...]``), told from
a key of the same spelling by two or more of them following one location."""


def _clean(loc: tuple) -> tuple:
    """``loc`` without the bracketed tags (:data:`_BRACKET_TAG`)."""
    return tuple(p for p in loc if not (isinstance(p, str) and _BRACKET_TAG.match(p)))


def _located(errors: list[dict]) -> list[tuple[tuple, bool, dict]]:
    """Each error as (its location without tags, whether it is a member of a union that failed, the error);
    the members of one union share the union's location."""
    tags: dict[tuple, set] = {}
    for e in errors:
        for i, part in enumerate(e["loc"]):
            if isinstance(part, str) and _MEMBER_TAG.match(part):
                tags.setdefault(tuple(e["loc"][:i]), set()).add(part)
    located = []
    for e in errors:
        loc = tuple(e["loc"])
        union = next((i for i, part in enumerate(loc) if len(tags.get(loc[:i], ())) > 1 and part in tags[loc[:i]]),
                     None)
        located.append((_clean(loc[:union]), True, e) if union is not None else (_clean(loc), False, e))
    return located


def _field_name(loc: tuple) -> str:
    """The field a location ends in: from its last named key on (``parameters.x.range.1`` → ``range.1``)."""
    named = [i for i, p in enumerate(loc) if isinstance(p, str)]
    return ".".join(map(str, loc[named[-1]:] if named else loc))


def _shown(value: object) -> str:
    """A value as written in a message: its repr, cut at 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _number(value: object) -> str:
    """A bound as written in a message (``0.5``, ``1990``; a float with no fraction as a whole number)."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _length(value: object) -> str:
    try:
        return str(len(value))  # type: ignore[arg-type]
    except TypeError:
        return "?"


_ITEM = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s,]+")


def _allowed(expected: str) -> str:
    """The allowed values of pydantic's ``ctx["expected"]`` (``'a', 'b' or 'c'``) listed as ``'a', 'b', 'c'``;
    the text as it is when it does not read back exactly."""
    items = _ITEM.findall(expected)
    if len(items) >= 3 and items[-2] == "or":
        items = items[:-2] + items[-1:]
    rebuilt = items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1] if items else ""
    return ", ".join(items) if rebuilt == expected else expected


class StrictModel(BaseModel):
    """Base of every file-format model: unknown keys are errors, values frozen, text stripped, finite numbers."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False)
