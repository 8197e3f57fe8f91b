"""One partition of a portfolio file, computed: the unit of work of both engines (local and Dask).

Building (:func:`koken.portfolio.build.build_portfolio`), evaluating (:func:`koken.calculation.calculate`)
and attributing device shares (:func:`koken.attribution.attribute`) happen here, on whichever machine
runs the partition; the pipeline (:mod:`koken.scale.pipeline`) writes and sums the results in order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from koken.attribution import RatioFile, attribute
from koken.base.errors import KokenError, KokenErrors
from koken.calculation import calculate
from koken.methodology import Methodology
from koken.montecarlo import Simulation, add_columns, simulate
from koken.portfolio.build import build_portfolio
from koken.portfolio.readers import Partition
from koken.results import detail_arrays, detail_width, input_columns, input_texts, row_details
from koken.uncertainty import ranged_values


@dataclass(frozen=True)
class PartitionResult:
    """What one partition gives: its result rows (None if it had problems), their details, its problems."""

    index: int
    table: pd.DataFrame | None
    details: list[dict] | pd.DataFrame | None
    methodology_ids: tuple[str, ...]
    problems: list[KokenError] = field(default_factory=list)
    had_units_row: bool = False
    customer_matched: frozenset[int] = frozenset()
    """The customer-data rows that applied to a product line of this partition."""
    uncertainty: Simulation | None = None
    """With ``options["uncertainty"]`` (draws, seed): the partition's Monte Carlo totals, inputs and samples."""
    ranged: int = 0
    """How many input values of the partition carry a range (koken.uncertainty.ranged_values)."""


def compute_partition(part: Partition, digest: str, library: Mapping[str, Methodology], ratios: RatioFile,
                      options: Mapping[str, object], details: bool | str | None) -> PartitionResult:
    """Build, evaluate and attribute one partition (runs on this machine or on a Dask worker).

    Args:
        part: the partition (layout and rows).
        digest: the file's sha256 (recorded in the partition's Portfolio).
        library: methodologies by id.
        ratios: the device contribution-ratio file (:class:`koken.attribution.RatioFile`).
        options: run options (``allow_stale_factors`` …).
        details: what the result file needs beside the table: ``"details"`` (or True: each row's inputs and
            steps, for JSON results), ``"inputs"`` (the inputs as columns, for XLSX results), ``"input texts"``
            (each row's inputs as one text, for CSV results), ``"arrays"`` (the inputs and steps as Arrow columns,
            for Parquet results) or None.
    Returns:
        PartitionResult; input problems are returned in it, never raised.
    """
    header = list(part.header_problems)  # the table's header problems, reported with its rows' problems
    if part.problems:
        return PartitionResult(index=part.index, table=None, details=None, methodology_ids=(),
                               problems=header + list(part.problems), had_units_row=part.had_units_row)
    try:
        portfolio = build_portfolio(part.layout, digest, part.block, library, first=False)
        if not len(portfolio):  # only blank rows
            return PartitionResult(index=part.index, table=None, details=None, methodology_ids=(), problems=header,
                                   had_units_row=part.had_units_row)
        calc = calculate(portfolio, library, options)
        mc = options.get("uncertainty")
        sim = simulate(calc, int(mc["draws"]), int(mc["seed"]), samples=bool(mc.get("samples"))) if mc else None
    except KokenErrors as errs:
        return PartitionResult(index=part.index, table=None, details=None, methodology_ids=(),
                               problems=header + errs.errors, had_units_row=part.had_units_row)
    table = attribute(calc.table, ratios)
    if sim is not None:
        table = add_columns(table, sim)
        sim.rows = {}  # in the table now
    if part.columns:  # every partition of a file has the file's columns (a workbook's sheets differ)
        table = table.reindex(columns=[*[c for c in table.columns if c not in part.columns], *part.columns],
                              fill_value="")
    extra = row_details(calc) if details in (True, "details") else input_columns(calc) if details == "inputs" else \
        input_texts(calc) if details == "input texts" else \
        detail_arrays(calc, detail_width(library)) if details == "arrays" else None  # the same columns every partition
    return PartitionResult(index=part.index, table=table, details=extra,
                           methodology_ids=tuple(sorted(calc.methodologies)), problems=header,
                           had_units_row=part.had_units_row, customer_matched=calc.customer_matched,
                           uncertainty=sim, ranged=ranged_values(calc.batches))
