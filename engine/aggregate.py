"""Totals of a run, kept by fiscal year, category, methodology and market, summed partition by partition.

Single-year and lifetime figures (and their device shares) are summed separately and never added to
each other, and fiscal years stay apart: the GHG Protocol (Scope 3 Standard, ch. 9: avoided emissions
reported separately) and WBCSD's Guidance on Avoided Emissions (2023, step 1: the timeframe).

Determinism: each partition is summed by the same code (pandas' compensated group sums), and partition
sums are added in partition order. The local and the Dask engine cut a file into the same partitions,
so their totals are the same to the last bit; coarser totals (by market, by fiscal year) are sums of
these finest groups.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.units import registry

GROUP_KEYS = ["fiscal_year", "category", "methodology", "market"]
"""The finest grouping kept; every total koken prints or writes is a sum of these groups."""
FIGURES = ("single_year[t-CO2e]", "lifetime[t-CO2e]")
"""The set-product figures, in t-CO2e."""

MAN = registry().Quantity(1.0, "万").to("dimensionless").magnitude
"""10,000: 万t-CO2e ÷ t-CO2e (koken's units/koken.txt defines 万)."""


class Totals:
    """Running sums of every figure column (t-CO2e) and the number of product lines, by :data:`GROUP_KEYS`."""

    def __init__(self) -> None:
        self._sums: pd.DataFrame | None = None

    @classmethod
    def from_table(cls, table: pd.DataFrame) -> Totals:
        """Totals of one result table (one partition, or a whole in-memory run)."""
        totals = cls()
        totals.add(table)
        return totals

    def add(self, table: pd.DataFrame) -> None:
        """Add one partition's result rows (columns :data:`GROUP_KEYS`, :data:`FIGURES`, device shares)."""
        figures = [c for c in table.columns if c in FIGURES or (c.startswith("device_") and c.endswith("[t-CO2e]"))]
        grouped = table.groupby(GROUP_KEYS, sort=True)
        part = grouped[figures].sum()
        part["product_lines"] = grouped.size().astype(float)
        self._sums = part if self._sums is None else self._sums.add(part, fill_value=0.0)

    @property
    def empty(self) -> bool:
        return self._sums is None

    def finite(self) -> bool:
        """False when a sum overflowed (every row finite, their sum not)."""
        return self._sums is None or bool(np.isfinite(self._sums.to_numpy(dtype=float)).all())

    def columns(self, prefix: str) -> list[str]:
        """Figure columns whose name starts with ``prefix`` (``device_single_year:`` …)."""
        return [] if self._sums is None else [c for c in self._sums.columns if c.startswith(prefix)]

    def summarise(self, by: list[str], figures: tuple[str, ...] = FIGURES) -> pd.DataFrame:
        """Sums by ``by`` (a subset of :data:`GROUP_KEYS`), in t-CO2e and 万t-CO2e, with ``product_lines``.

        Returns:
            DataFrame with ``by`` columns, each figure in t-CO2e, ``product_lines`` (int) and each
            :data:`FIGURES` column again in 万t-CO2e; rows sorted by ``by``.
        Raises:
            ValueError: ``by`` names a column that is not kept (a bug, not an input problem).
        """
        if unknown := set(by) - set(GROUP_KEYS):
            raise ValueError(f"totals are kept by {GROUP_KEYS}, not {sorted(unknown)}")
        if self._sums is None:
            return pd.DataFrame(columns=[*by, *figures, "product_lines"])
        grouped = self._sums.groupby(level=by, sort=True)[[*figures, "product_lines"]].sum().reset_index()
        grouped["product_lines"] = grouped["product_lines"].round().astype(int)
        for figure in FIGURES:
            if figure in grouped:
                grouped[figure.replace("[t-CO2e]", "[万t-CO2e]")] = grouped[figure] / MAN
        return grouped


def summarise(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Sum single-year and lifetime contributions of ``table`` by ``by`` (see :meth:`Totals.summarise`)."""
    return Totals.from_table(table).summarise(by)
