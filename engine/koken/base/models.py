"""The one pydantic base of koken's file formats (methodologies, factor tables, ratio files), and the
number type they share.

Every model forbids unknown keys (a misspelt key is an error, never ignored), is frozen, strips
surrounding whitespace from text and refuses NaN and infinity.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError


def not_bool(value: object) -> object:
    """YAML true/false are not numbers: refuse them where a number is expected (pydantic would read 1.0).

    Raises:
        ValueError: ``value`` is a boolean (pydantic reports it with the field's location).
    """
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean (true/false)")
    return value


Number = Annotated[float, BeforeValidator(not_bool), Field(strict=True)]
"""A number written as a number: not a boolean, not text ("0.421" in quotes is refused)."""


def validation_problems(err: ValidationError, unknown_key: str = "unknown key") -> list[tuple[str, str, str]]:
    """Each problem of a pydantic ``ValidationError`` as ``(field path, message, error type)``: the path dotted
    (``entries.3.value``; ``""`` for the whole document), an extra key (which :class:`StrictModel` forbids)
    said as ``unknown_key``, other messages as pydantic writes them. Loaders turn these into located errors."""
    return [(".".join(map(str, e["loc"])), unknown_key if e["type"] == "extra_forbidden" else e["msg"], e["type"])
            for e in err.errors()]


class StrictModel(BaseModel):
    """Base of every file-format model: unknown keys are errors, values frozen, text stripped, finite numbers."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False)
