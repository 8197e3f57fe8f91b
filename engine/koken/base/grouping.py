"""Rows grouped by a key of several columns, with array operations (never one Python tuple per row)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def group_codes(columns: list[np.ndarray]) -> tuple[np.ndarray, list[tuple]]:
    """Number the distinct keys of ``n`` rows.

    Args:
        columns: one array or pandas Series of length ``n`` per key part (any dtype pandas can factorize;
            a categorical Series is used through its codes).
    Returns:
        (codes: int array ``(n,)``, keys: the distinct key tuples, ``keys[codes[i]]`` is row ``i``'s key,
        numbered in order of first appearance). Parts are Python scalars (``int``, ``str``), not numpy ones.
    """
    n = len(columns[0]) if columns else 0
    combined = np.zeros(n, dtype=np.int64)
    parts = []
    for column in columns:
        if isinstance(getattr(column, "dtype", None), pd.CategoricalDtype):  # codes are there already
            codes, uniques = np.asarray(column.cat.codes, dtype=np.int64), np.asarray(column.cat.categories,
                                                                                       dtype=object)
        else:
            codes, uniques = pd.factorize(np.asarray(column), sort=False)
        combined = combined * max(len(uniques), 1) + codes
        parts.append((codes, uniques))
    group, distinct = pd.factorize(combined, sort=False)  # numbered in order of first appearance
    first = np.empty(len(distinct), dtype=np.int64)
    first[group[::-1]] = np.arange(n - 1, -1, -1)  # the first row of each key
    keys = [tuple(_plain(uniques[codes[i]]) for codes, uniques in parts) for i in first]
    return group.astype(np.int64), keys


def group_codes_within(groups: np.ndarray, columns: list[np.ndarray]) -> tuple[np.ndarray, list[tuple]]:
    """:func:`group_codes` of ``columns`` where rows of one number in ``groups`` (int array ``(n,)``) are known to agree
    on every column: the columns are read at the first row of each number only, and the same codes and keys come out,
    in the same order (the first row of a key is the first row of its first number).

    Args:
        groups: int array ``(n,)``; rows of one number hold the same value in every column.
        columns: as for :func:`group_codes`.
    Returns:
        As :func:`group_codes`.
    """
    n = len(groups)
    group, distinct = pd.factorize(np.asarray(groups, dtype=np.int64), sort=False)
    first = np.empty(len(distinct), dtype=np.int64)
    first[group[::-1]] = np.arange(n - 1, -1, -1)  # the first row of each number, in order of first appearance
    codes, keys = group_codes([np.asarray(column)[first] for column in columns])
    return codes[group], keys


def _plain(value):
    return value.item() if hasattr(value, "item") else value
