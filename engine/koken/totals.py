"""Totals of a run, kept by fiscal year, category, methodology and market, summed partition by partition.

Single-year and lifetime figures (and their device shares) are summed separately and never added to
each other, and fiscal years stay apart; the baseline's lifetime emissions (for the avoided share of a group) and
Scope 3 category 11 (an inventory figure) are summed in their own columns, never with avoided emissions: the GHG
Protocol (Scope 3 Standard, ch. 9: avoided emissions
reported separately) and WBCSD's Guidance on Avoided Emissions (2023, step 1: the timeframe).

Determinism: each partition's groups are summed in row order by the same code (``np.bincount``), and
partition sums are added in partition order. The local and the Dask engine cut a file into the same partitions,
so their totals are the same to the last bit; coarser totals (by market, by fiscal year) are sums of
these finest groups.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from koken.base.grouping import group_codes
from koken.base.units import registry
from koken.base.vocabulary import (
    BASELINE_LIFETIME_COLUMN,
    CATEGORY11_COLUMN,
    FIGURES,
    GROUP_KEYS,
    INSTALLED_BASE_COLUMN,
)

MAN = registry().Quantity(1.0, "万").to("dimensionless").magnitude
"""10,000: 万t-CO2e ÷ t-CO2e (koken's units/koken.txt defines 万)."""


SUMMED = (*FIGURES, BASELINE_LIFETIME_COLUMN, CATEGORY11_COLUMN, INSTALLED_BASE_COLUMN)
"""Result columns summed by group besides device shares: avoided emissions in two timeframes, the baseline's lifetime
emissions, Scope 3 category 11, the installed base (when asked for). Each is its own sum; none is ever added to
another. The installed base is a figure of one reporting year summed over vintages: :meth:`Totals.installed_base`,
never by fiscal year."""


def _figure(table: pd.DataFrame, column: str) -> np.ndarray:
    """A figure column as floats; an empty category 11 cell (a methodology that counts no use phase) adds nothing to
    its group (what the group holds is said beside it: only methodologies with a use phase are counted)."""
    values = table[column].to_numpy(dtype=float)
    return np.nan_to_num(values, nan=0.0) if column in (CATEGORY11_COLUMN, INSTALLED_BASE_COLUMN) else values


class Totals:
    """Running sums of every figure column (t-CO2e) and the number of product lines, by :data:`GROUP_KEYS`."""

    def __init__(self) -> None:
        self._figures: list[str] = []
        self._sums: dict[tuple, np.ndarray] = {}  # group key → [figure sums..., product lines]
        self._magnitude = np.zeros(len(FIGURES))  # Σ|single-year|, Σ|lifetime| over every row

    @classmethod
    def from_table(cls, table: pd.DataFrame) -> Totals:
        """Totals of one result table (one partition, or a whole in-memory run)."""
        totals = cls()
        totals.add(table)
        return totals

    def add(self, table: pd.DataFrame) -> None:
        """Add one partition's result rows (columns :data:`GROUP_KEYS`, :data:`FIGURES`, device shares).

        Each group's rows are summed in row order (``np.bincount``), then added to the running sums:
        the same rows in the same partitions give the same bits.
        """
        figures = [c for c in table.columns if c in SUMMED or (c.startswith("device_") and c.endswith("[t-CO2e]"))
                   or c.startswith("variant:")]
        if any(c.startswith("variant:") for c in figures):  # coverage = covered ÷ shipped units, per methodology
            figures.append("units_shipped")
        for figure in figures:
            if figure not in self._figures:  # a figure first seen now: earlier groups had none of it
                self._figures.append(figure)
                for sums in self._sums.values():
                    sums.insert(len(self._figures) - 1, 0.0)
        if not len(table):
            return
        codes, keys = group_codes([table[k] for k in GROUP_KEYS])
        counts = np.bincount(codes, minlength=len(keys)).astype(float)
        with np.errstate(over="ignore"):  # an overflowing sum is reported by finite(), not warned about
            self._magnitude += [float(np.abs(table[f].to_numpy(dtype=float)).sum()) if f in table else 0.0
                                for f in FIGURES]
            columns = [np.bincount(codes, weights=_figure(table, f), minlength=len(keys))
                       if f in table.columns else np.zeros(len(keys)) for f in self._figures]
            for g, key in enumerate(keys):
                part = [column[g] for column in columns] + [counts[g]]
                held = self._sums.get(key)
                self._sums[key] = part if held is None else [a + b for a, b in zip(held, part)]

    @property
    def empty(self) -> bool:
        return not self._sums

    def _frame(self) -> pd.DataFrame:
        keys = sorted(self._sums)
        frame = pd.DataFrame(keys, columns=GROUP_KEYS)
        values = np.array([self._sums[k] for k in keys], dtype=float).reshape(len(keys), len(self._figures) + 1)
        for j, figure in enumerate(self._figures):
            frame[figure] = values[:, j]
        frame["product_lines"] = values[:, -1]
        return frame.set_index(list(GROUP_KEYS))

    def finite(self) -> bool:
        """False when the figures' absolute values sum beyond the largest float: some total (by any grouping,
        however the rows were partitioned) may then not be finite. The same rows give the same answer
        in one partition or many."""
        return bool(np.isfinite(self._magnitude).all()) and all(np.isfinite(v).all() for v in self._sums.values())

    def coverage(self, variant: str, by: list[str]) -> pd.DataFrame:
        """Per group of ``by`` (which must include ``methodology``: units are in each methodology's functional unit),
        the share of units shipped that ``variant``'s customer data covered, with the variant's figures.

        Raises:
            ValueError: ``by`` without ``methodology`` (units of different functional units are never added).
        """
        if "methodology" not in by:
            raise ValueError("coverage is a share of units: group by methodology (one functional unit)")
        columns = [c for c in self._figures if c.startswith(f"variant:{variant}:")]
        frame = self.summarise(by, figures=(*columns, "units_shipped"))
        frame["coverage"] = frame[f"variant:{variant}:covered_units"] / frame["units_shipped"]
        return frame

    def variants(self) -> list[str]:
        """The variants the results hold, in :data:`koken.variants.VARIANTS` order."""
        return list(dict.fromkeys(c.split(":")[1] for c in self._figures if c.startswith("variant:")))

    def columns(self, prefix: str) -> list[str]:
        """Figure columns whose name starts with ``prefix`` (``device_single_year:`` …)."""
        return [c for c in self._figures if c.startswith(prefix)]

    def summarise(self, by: list[str], figures: tuple[str, ...] | None = None) -> pd.DataFrame:
        """Sums by ``by`` (a subset of :data:`GROUP_KEYS`), in t-CO2e and 万t-CO2e, with ``product_lines``.

        Args:
            by: the grouping.
            figures: the figure columns to sum (default: :data:`SUMMED`, those the results hold).
        Returns:
            DataFrame with ``by`` columns, each figure in t-CO2e, ``product_lines`` (int) and each
            :data:`SUMMED` column again in 万t-CO2e; rows sorted by ``by``.
        Raises:
            ValueError: ``by`` names a column that is not kept (a bug, not an input problem).
        """
        if unknown := set(by) - set(GROUP_KEYS):
            raise ValueError(f"totals are kept by {list(GROUP_KEYS)}, not {sorted(unknown)}")
        if figures is None:  # the installed base by vintage year would read as a figure of that year: see installed_base
            figures = (*FIGURES, *(f for f in SUMMED if f in self._figures and f not in (*FIGURES, INSTALLED_BASE_COLUMN)))
        if not self._sums:
            return pd.DataFrame(columns=[*by, *figures, "product_lines"])
        grouped = self._frame().groupby(level=by, sort=True)[[*figures, "product_lines"]].sum().reset_index()
        grouped["product_lines"] = grouped["product_lines"].round().astype(int)
        for figure in SUMMED:
            if figure in grouped:
                grouped[figure.replace("[t-CO2e]", "[万t-CO2e]")] = grouped[figure] / MAN
        return grouped


def installed_base(totals: Totals, by: list[str]) -> pd.DataFrame:
    """The installed-base annual figure of the run's reporting year, summed over every vintage (fiscal year) by
    ``by`` (``category``, ``methodology``, ``market``), in t-CO2e and 万t-CO2e; empty when it was not asked for.

    Raises:
        ValueError: ``by`` names ``fiscal_year`` (the vintages of one reporting year are summed, not kept apart).
    """
    if "fiscal_year" in by:
        raise ValueError("the installed base of one reporting year is summed over vintages, not by fiscal year")
    if INSTALLED_BASE_COLUMN not in totals.columns(INSTALLED_BASE_COLUMN):
        return pd.DataFrame(columns=[*by, INSTALLED_BASE_COLUMN])
    return totals.summarise(by, figures=(INSTALLED_BASE_COLUMN,)).drop(columns="product_lines")


def summarise(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Sum single-year and lifetime contributions of ``table`` by ``by`` (see :meth:`Totals.summarise`)."""
    return Totals.from_table(table).summarise(by)
