"""A portfolio column's numbers and per-row unit texts → one Pint quantity array, each distinct unit text
resolved once (never Pint per row)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pint

from koken.base.errors import KokenError, Location, UnitError
from koken.base.i18n import _
from koken.base.units import check_multiplicative, conversion_factor, is_count_unit, parse_unit, registry


@dataclass(frozen=True)
class ColumnValues:
    """A portfolio column for one methodology's rows, with units resolved.

    Attributes:
        quantity: Pint quantity array; in the column's own unit when every present cell shares it
            (so messages can quote the user's unit), else in the target unit. NaN = empty cell.
        failed: True for rows whose unit could not be read or converted (already reported).
    """

    quantity: pint.Quantity
    failed: np.ndarray


def column_quantity(values: np.ndarray, units: np.ndarray, target: pint.Unit, hours_per_year: int,
                    what: str, locate: Callable[[int], Location],
                    count: bool = False) -> tuple[ColumnValues, list[KokenError]]:
    """Numbers with per-row unit text → one quantity array (each distinct unit text resolved once).

    Args:
        values: float array (NaN = empty cell).
        units: unit text per row (a zero-stride broadcast array when the whole column has one unit).
        target: the unit the column must be convertible to (the parameter's declared unit).
        hours_per_year: the methodology's year length (for ``yr`` in the unit text).
        what: column name for messages.
        locate: ``locate(i) -> Location`` of row ``i``.
        count: the column counts things (台, 件): only count units (and 千/万/億) are accepted, not
            other dimensionless units such as % or ppm.
    Returns:
        (ColumnValues, problems): one problem per distinct unit text that is unknown or incompatible,
        located at its first row.
    """
    problems: list[KokenError] = []
    failed = np.zeros(len(values), dtype=bool)
    present = ~np.isnan(values)
    uniform = isinstance(units, np.ndarray) and units.strides == (0,)  # one unit for the column (a broadcast)
    places: list[np.ndarray] = []  # per distinct unit text, its rows (in row order)
    if uniform:
        texts = [units[0]] if present.any() else []
        places = [np.flatnonzero(present)] * len(texts)
    elif present.any():  # each distinct text numbered once; its rows found by its number, not by comparing texts
        at = np.flatnonzero(present)
        codes, uniques = pd.factorize(np.asarray(units, dtype=object)[at], use_na_sentinel=False)
        texts = list(uniques)
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(texts) + 1))
        places = [at[order[bounds[k]:bounds[k + 1]]] for k in range(len(texts))]
    else:
        texts = []
    factors: dict[str, float] = {}
    parsed = {}
    for text, rows in zip(texts, places):
        first = int(rows[0])
        try:
            unit = parse_unit(str(text), hours_per_year, locate(first))
            check_multiplicative(unit, str(text), locate(first))
            if count and not is_count_unit(unit):
                raise UnitError(_("{what}: {unit!r} is not a count of things: write 台, 件, 基 or 万台").format(
                    what=what, unit=text), locate(first))
            factors[text] = conversion_factor(unit, target, what, locate(first))
            parsed[text] = unit
        except UnitError as err:
            problems.append(err)
            failed[rows] = True
    if len(texts) == 1 and texts[0] in parsed:
        return ColumnValues(registry().Quantity(values.astype(float), parsed[texts[0]]), failed), problems
    out = np.full(len(values), np.nan)
    for text, rows in zip(texts, places):
        if text in factors:
            out[rows] = values[rows] * factors[text]
    return ColumnValues(registry().Quantity(out, target), failed), problems
