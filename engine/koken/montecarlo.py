"""Monte Carlo on the compiled kernels: the figures' percentiles from the inputs' distributions (docs/uncertainty.md).

A calculation's batches (one per methodology) are evaluated again with each uncertain input replaced by ``draws``
samples: the compiled steps run on arrays of shape (rows, draws), a chunk of rows at a time so that memory stays
bounded (:data:`CHUNK_VALUES` numbers per array). Each uncertain value is a random variable with its own stream of
uniform numbers (inverse transform, :func:`koken.uncertainty.quantiles`):

* a portfolio cell's range (``320 ± 20``, low and high columns) is one variable per row and parameter, independent of
  the other rows;
* a methodology default's distribution is ONE variable per draw, shared by every row that uses the default (the
  rows move together: correlation 1), never one per row.

The streams are numpy Generators (PCG64) seeded from ``SeedSequence(seed, spawn_key=…)`` keyed by what the variable
is (parameter, sheet, block of file rows; or methodology and parameter), never by where it is computed: the same
seed gives bit-identical draws whatever the partitioning and on either engine (local or Dask). Figures are never
added across timeframes: single-year and lifetime draws are summed and ranked apart, per fiscal year, category and
market.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from koken.base.errors import EvaluationError, KokenErrors
from koken.base.i18n import _
from koken.base.vocabulary import DISTRIBUTION_KINDS, FIGURES, PERCENTILES, UNCERTAINTY_COLUMNS
from koken.calculation import Calculation
from koken.methodology.evaluate import contributions
from koken.uncertainty import quantiles

CHUNK_VALUES = 1 << 21
"""Numbers per (rows × draws) array of a chunk (16 MiB of float64): rows per chunk = this ÷ draws."""
BLOCK_ROWS = 256
"""File rows per random stream of a per-row variable: a partition boundary inside a block regenerates the block."""
MAX_DRAWS = 1_000_000


@dataclass
class Simulation:
    """A Monte Carlo run's results for one calculation (or the sum of several partitions', :meth:`merge`).

    Attributes:
        draws, seed: as asked.
        rows: :data:`koken.base.vocabulary.UNCERTAINTY_COLUMNS` → float array per result-table row (P5, P50, P95).
        central: (fiscal_year, category, market) → float array ``(2,)``: the point run's single-year and lifetime
            totals, t-CO2e.
        totals: the same keys → float array ``(2, draws)``: the totals in each draw, t-CO2e.
        inputs: the uncertain inputs (``uncertainty.inputs`` of a result), without repeats.
        samples: per-row draws (``row``, ``sheet``, ``draw``, ``single_year[t-CO2e]``, ``lifetime[t-CO2e]``) when
            asked for, else None.
    """

    draws: int
    seed: int
    rows: dict[str, np.ndarray] = field(default_factory=dict)
    central: dict[tuple, np.ndarray] = field(default_factory=dict)
    totals: dict[tuple, np.ndarray] = field(default_factory=dict)
    inputs: list[dict] = field(default_factory=list)
    samples: pd.DataFrame | None = None

    def merge(self, other: Simulation) -> None:
        """Add another partition's totals and inputs (its rows and samples are written by the caller)."""
        for key, values in other.central.items():
            if key in self.central:
                self.central[key] = self.central[key] + values
                self.totals[key] = self.totals[key] + other.totals[key]
            else:
                self.central[key] = values.copy()
                self.totals[key] = other.totals[key].copy()
        for record in other.inputs:
            if record not in self.inputs:
                self.inputs.append(record)

    def document(self, favourable: Iterable[str] = ()) -> dict:
        """The ``uncertainty`` key of a JSON result (the issue-16 contract): method, draws, seed, percentiles, inputs,
        and per fiscal year, category, market and figure the central total and its P5, P50, P95 (t-CO2e)."""
        totals = []
        for key in sorted(self.central):
            fiscal_year, category, market = key
            ranks = np.percentile(self.totals[key], PERCENTILES, axis=1)
            for f, figure in enumerate(FIGURES):
                totals.append({"fiscal_year": int(fiscal_year), "category": category, "market": market,
                               "figure": figure, "central": float(self.central[key][f]),
                               **{f"p{p}": float(ranks[k, f]) for k, p in enumerate(PERCENTILES)}})
        return {"method": "monte_carlo", "draws": self.draws, "seed": self.seed, "percentiles": list(PERCENTILES),
                "inputs": sorted(self.inputs, key=lambda r: (r["methodology"], r["parameter"], r["source"], r["kind"])),
                "totals": totals, "favourable_end": list(favourable)}


def simulate(calc: Calculation, draws: int, seed: int, samples: bool = False,
             chunk_values: int = CHUNK_VALUES) -> Simulation:
    """Monte Carlo over every row of ``calc`` (see the module docstring).

    Args:
        calc: a point calculation (:func:`koken.calculation.calculate`); its batches keep each row's inputs.
        draws: samples per variable (2 … :data:`MAX_DRAWS`).
        seed: the run's seed (an int ≥ 0), recorded in the result.
        samples: keep every row's draws (:attr:`Simulation.samples`).
        chunk_values: numbers per (rows × draws) array.
    Returns:
        Simulation with per-row percentiles (aligned with ``calc.table``), per-group totals and inputs.
    Raises:
        KokenErrors: rows whose figures are not finite in some draw (a division by zero at a sampled value).
    """
    positions = np.sort(np.concatenate([b.index for b in calc.batches])) if calc.batches else np.zeros(0, int)
    sim = Simulation(draws=draws, seed=seed, rows={c: np.full(len(positions), np.nan) for c in UNCERTAINTY_COLUMNS})
    portfolio = calc.portfolio
    sheets = portfolio.sheet if portfolio.sheet is not None else np.full(len(portfolio), "", dtype=object)
    errors = []
    frames = []
    cache: dict[tuple, np.ndarray] = {}
    for batch in calc.batches:
        m = batch.methodology
        result = batch.result
        n = len(batch.index)
        central = {}
        for name, p in m.parameters.items():
            q = batch.inputs.get(name)
            values = np.asarray(q.to(p.unit).magnitude, dtype=float) if q is not None else np.full(n, np.nan)
            if p.default is not None:
                values = np.where(np.isnan(values), p.default, values)
            central[name] = values
        shared = {}
        for name, p in m.parameters.items():
            used = result.defaults_used.get(name)
            if p.default_distribution is None or used is None or not used.any():
                continue
            d = p.default_distribution
            u = _generator(seed, ("default", m.id, name)).random(draws)
            shared[name] = (used, d.ppf(u, p.low, p.high))
            _note(sim.inputs, name, m.id, d.kind, True, "methodology")
        for name, u in batch.uncertain.items():
            for k in np.unique(u.kind[u.kind >= 0]):
                _note(sim.inputs, name, m.id, DISTRIBUTION_KINDS[k], False, "portfolio")
        shipped = result.units_shipped.to(m.shipment_unit).magnitude * m.shipment_to_base
        fiscal_year = portfolio.fiscal_year[batch.index]
        market = portfolio.market[batch.index]
        point = np.stack([result.single_year.magnitude, result.lifetime.magnitude])
        codes, keys = pd.factorize(pd.Series([f"{y}\x1f{mk}" for y, mk in zip(fiscal_year.tolist(), market.tolist())],
                                             dtype=object))
        group_keys = [(int(k.split("\x1f")[0]), m.category, k.split("\x1f")[1]) for k in keys]
        for g, key in enumerate(group_keys):
            sel = codes == g
            _add(sim, key, point[:, sel].sum(axis=1), np.zeros((2, draws)))
        step = max(1, chunk_values // draws)
        table_at = np.searchsorted(positions, batch.index)
        for start in range(0, n, step):
            rows = slice(start, min(n, start + step))
            c = rows.stop - rows.start
            env = {}
            for name, p in m.parameters.items():
                values = central[name][rows]
                x = values[:, None]
                u_in = batch.uncertain.get(name)
                if u_in is not None and (u_in.kind[rows] >= 0).any():
                    x = np.repeat(x, draws, axis=1)
                    kinds = u_in.kind[rows]
                    at = np.flatnonzero(kinds >= 0)
                    uniform = _row_uniforms(seed, name, sheets[batch.index[rows]][at],
                                            portfolio.rows[batch.index[rows]][at], draws, cache)
                    for k in np.unique(kinds[at]):
                        sel = kinds[at] == k
                        i = at[sel]
                        x[i] = quantiles(DISTRIBUTION_KINDS[k], u_in.low[rows][i, None], values[i, None],
                                         u_in.high[rows][i, None], uniform[sel], p.low, p.high)
                if name in shared:
                    used, drawn = shared[name]
                    mask = used[rows]
                    if mask.any():
                        x = np.repeat(x, draws, axis=1) if x.shape[1] == 1 else x
                        x[mask] = drawn
                env[name] = x * p.to_base
            for s in m.steps:
                env[s.name] = np.asarray(s.function(*[env[a] for a in s.args]), dtype=float)
            single, lifetime = contributions(m, env, shipped[rows, None])
            single = np.broadcast_to(single, (c, draws))
            lifetime = np.broadcast_to(lifetime, (c, draws))
            bad = ~(np.isfinite(single).all(axis=1) & np.isfinite(lifetime).all(axis=1))
            for i in np.flatnonzero(bad):
                errors.append(EvaluationError(_(
                    "a Monte Carlo draw of this row gives no finite figure (a sampled input reaches a division by "
                    "zero or an overflow): narrow the range of its uncertain inputs"),
                    portfolio.location(int(batch.index[rows][i]))))
            if bad.any():
                continue
            for f, figure in enumerate((single, lifetime)):
                ranks = np.percentile(figure, PERCENTILES, axis=1)
                for k in range(len(PERCENTILES)):
                    sim.rows[UNCERTAINTY_COLUMNS[f * len(PERCENTILES) + k]][table_at[rows]] = ranks[k]
            chunk_codes = codes[rows]
            for g in np.unique(chunk_codes):
                sel = chunk_codes == g
                _add(sim, group_keys[g], np.zeros(2), np.stack([single[sel].sum(axis=0), lifetime[sel].sum(axis=0)]))
            if samples:
                frames.append(_samples_frame(portfolio, batch.index[rows], single, lifetime))
    if errors:
        raise KokenErrors(errors)
    if samples:
        sim.samples = pd.concat(frames, ignore_index=True) if frames else _samples_frame(
            portfolio, np.zeros(0, int), np.zeros((0, draws)), np.zeros((0, draws)))
    return sim


def add_columns(table: pd.DataFrame, sim: Simulation) -> pd.DataFrame:
    """``table`` (the result rows of the simulated calculation, in order) with the percentile columns after the
    figures' other columns."""
    out = table.copy()
    for column in UNCERTAINTY_COLUMNS:
        out[column] = sim.rows[column]
    return out


SAMPLE_COLUMNS = ("row", "sheet", "product_line", "draw", *FIGURES)
"""The columns of a samples file (``koken calculate --samples FILE``): one line per product line and draw."""


def _samples_frame(portfolio, index: np.ndarray, single: np.ndarray, lifetime: np.ndarray) -> pd.DataFrame:
    draws = single.shape[1]
    sheets = portfolio.sheet[index] if portfolio.sheet is not None else np.full(len(index), "", dtype=object)
    return pd.DataFrame({
        "row": np.repeat(portfolio.rows[index].astype(np.int64), draws),
        "sheet": np.repeat(sheets.astype(str), draws),
        "product_line": np.repeat(portfolio.product_line[index].astype(str), draws),
        "draw": np.tile(np.arange(draws, dtype=np.int32), len(index)),
        FIGURES[0]: np.ascontiguousarray(single).reshape(-1),
        FIGURES[1]: np.ascontiguousarray(lifetime).reshape(-1)})


def _add(sim: Simulation, key: tuple, central: np.ndarray, totals: np.ndarray) -> None:
    if key in sim.central:
        sim.central[key] = sim.central[key] + central
        sim.totals[key] = sim.totals[key] + totals
    else:
        sim.central[key] = np.asarray(central, dtype=float).copy()
        sim.totals[key] = np.asarray(totals, dtype=float).copy()


def _note(inputs: list[dict], parameter: str, methodology: str, kind: str, shared: bool, source: str) -> None:
    record = {"parameter": parameter, "methodology": methodology, "kind": kind, "shared": shared, "source": source}
    if record not in inputs:
        inputs.append(record)


def _key(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def _generator(seed: int, what: tuple) -> np.random.Generator:
    """The stream of one variable (or block of per-row variables), keyed by what it is."""
    spawn = tuple(x if isinstance(x, int) else _key(str(x)) for x in what)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=spawn)))


def _row_uniforms(seed: int, name: str, sheets: np.ndarray, rows: np.ndarray, draws: int,
                  cache: dict[tuple, np.ndarray]) -> np.ndarray:
    """Uniform numbers ``(len(rows), draws)`` of parameter ``name``'s per-row variables at these file rows (and
    sheets): each block of :data:`BLOCK_ROWS` file rows is one stream, so a row's draws do not depend on which other
    rows are computed with it."""
    out = np.empty((len(rows), draws))
    blocks = rows // BLOCK_ROWS
    for sheet, block in dict.fromkeys(zip(sheets.tolist(), blocks.tolist())):
        sel = (blocks == block) & (sheets == sheet)
        key = ("row", name, sheet, int(block))
        values = cache.get(key)
        if values is None:
            if len(cache) > 16:
                cache.clear()
            values = cache[key] = _generator(seed, key).random((BLOCK_ROWS, draws))
        out[sel] = values[rows[sel] % BLOCK_ROWS]
    return out
