"""Error types of koken.

Every error koken raises on bad input is a :class:`KokenError` that names where the problem
is (file, row, column, formula step) and what was expected. Loaders collect several problems
into one :class:`KokenErrors` so that a user sees every problem of a file in one run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from koken.base.i18n import _

NO_PLACE = "<input>"
"""What a location with no known field reads as (then a message stands alone)."""


@dataclass(frozen=True)
class Location:
    """Where a problem was found. Every field is optional; ``str()`` joins the known ones.

    ``row`` is the 1-based line or spreadsheet row as the user sees it in the file; in a workbook,
    ``sheet`` names the sheet and ``cell`` the cell (``D7``) when the column is known.
    """

    file: str | None = None
    row: int | None = None
    column: str | None = None
    step: str | None = None
    field: str | None = None
    sheet: str | None = None
    cell: str | None = None

    def at(self, **where: object) -> Location:
        """A copy with the given fields filled in where this location has none."""
        merged = {k: getattr(self, k) for k in Location.__dataclass_fields__}
        for key, value in where.items():
            if merged.get(key) in (None, "") and value is not None:
                merged[key] = value
        return Location(**merged)

    def __str__(self) -> str:
        parts = []
        if self.file:
            parts.append(str(self.file))
        if self.sheet:
            parts.append(_("sheet {sheet!r}").format(sheet=self.sheet))
        if self.cell:
            parts.append(_("cell {cell}").format(cell=self.cell))
        elif self.row is not None:
            parts.append(_("row {row}").format(row=self.row))
        if self.column:
            parts.append(_("column {column!r}").format(column=self.column))
        if self.step:
            parts.append(_("step {step!r}").format(step=self.step))
        if self.field:
            parts.append(_("field {field}").format(field=self.field))
        return ", ".join(parts) if parts else NO_PLACE


class KokenError(Exception):
    """A problem with user input (methodology, unit, formula, portfolio): never a bug in koken.

    Args:
        message: what is wrong and what was expected.
        location: where it was found.
    """

    def __init__(self, message: str, location: Location | None = None):
        self.message = message
        self.location = location or Location()
        where = str(self.location)
        super().__init__(message if where == NO_PLACE else f"{where}: {message}")  # no place: the message alone

    def __reduce__(self):
        """Pickle as (message, location), so that problems found on a Dask worker keep their location."""
        return type(self), (self.message, self.location)

    def at(self, **where: object) -> KokenError:
        """Return a copy of this error with more location fields filled in (known ones kept)."""
        return type(self)(self.message, self.location.at(**where))


class UnitError(KokenError):
    """A unit string cannot be parsed, is ambiguous (``ton``), or has the wrong dimension."""


class FormulaError(KokenError):
    """A formula is refused by the whitelist parser or fails dimension analysis."""


class MethodologyError(KokenError):
    """A methodology file breaks the format (schema, references, examples)."""


class PortfolioError(KokenError):
    """A portfolio (shipment data) cell, row or column is invalid."""


class EvaluationError(KokenError):
    """A row's computation gives no finite number (division by zero, overflow)."""


class YamlError(KokenError):
    """A YAML file is too large, too deep, uses too many aliases, or does not parse."""


class TimeframeError(KokenError):
    """Single-year and lifetime figures were about to be added together."""


@dataclass
class KokenErrors(Exception):
    """Several problems found in one pass; raised when a file has at least one problem.

    A sequence of :class:`KokenError`: ``len(errs)``, ``errs[0]``, ``for e in errs`` (also ``errs.errors``).
    """

    errors: list[KokenError] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.errors)

    def __getitem__(self, index):
        return self.errors[index]

    def __iter__(self):
        return iter(self.errors)

    def __str__(self) -> str:
        head = _("{count} problem(s) found:").format(count=len(self.errors))
        return "\n".join([head] + [f"  - {e}" for e in self.errors])


def gather(load, path, problems: list[KokenError]):
    """``load(path)``, or None with its problems appended to ``problems`` (for loaders that go on)."""
    try:
        return load(path)
    except KokenErrors as errs:
        problems.extend(errs.errors)
    except KokenError as err:
        problems.append(err)
    return None
