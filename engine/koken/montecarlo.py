"""Monte Carlo on the compiled kernels: the figures' percentiles from the inputs' distributions (docs/uncertainty.md).

A calculation's batches (one per methodology) are evaluated again with each uncertain input replaced by ``draws``
samples: the compiled steps run on arrays of shape (rows, draws), a chunk of rows at a time so that memory stays
bounded (:data:`CHUNK_VALUES` numbers per array). Each uncertain value is a random variable with its own stream of
uniform numbers (inverse transform, :func:`koken.uncertainty.quantiles`):

* a portfolio cell's range (``320 ± 20``, low and high columns) is one variable per row and parameter, independent of
  the other rows;
* a methodology default's distribution, and a factor-table entry's (the grid factor of a region and year), is ONE
  variable per draw, shared by every row that uses the default or reads the entry (the rows move together:
  correlation 1), never one per row; a factor-table entry's variable is the same in every methodology that reads it.

The streams are numpy Generators (PCG64) seeded from ``SeedSequence(seed, spawn_key=…)`` keyed by what the variable
is (parameter and sheet, a row taking the stream's outputs from its file row × draws on; a methodology's default; a
factor-table entry), never by where it is computed: the same seed gives bit-identical draws whatever the
partitioning and on either engine (local or Dask). Figures are never
added across timeframes: single-year and lifetime draws are summed and ranked apart, per fiscal year, category and
market.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from koken.base.errors import EvaluationError, KokenErrors
from koken.base.i18n import _
from koken.base.units import conversion_factor
from koken.base.vocabulary import DISTRIBUTION_KINDS, FIGURES, PERCENTILES, UNCERTAINTY_COLUMNS
from koken.calculation import Calculation
from koken.methodology.evaluate import contributions
from koken.uncertainty import quantiles

CHUNK_VALUES = 1 << 21
"""Numbers per (rows × draws) array of a chunk (16 MiB of float64): rows per chunk = this ÷ draws."""
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
    swings: dict[tuple, np.ndarray] = field(default_factory=dict)
    """(fiscal_year, variable, parameter, source) → float array ``(2 ends, 2 figures)``: how much the fiscal year's
    total single-year and lifetime figures (t-CO2e) move when that one uncertain input is at its low (P5) and at its
    high (P95) end on every row that uses it, the others central (:func:`portfolio_tornado`)."""

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
        for key, values in other.swings.items():
            self.swings[key] = self.swings[key] + values if key in self.swings else values.copy()

    def document(self) -> dict:
        """The ``uncertainty`` key of a JSON result (the issue-16 contract): method, draws, seed, percentiles, inputs,
        per fiscal year, category, market and figure the central total and its P5, P50, P95 (t-CO2e), and a note for
        every total whose reported (central) figure sits at the favourable end of its own range
        (:func:`favourable_end`)."""
        totals = []
        for key in sorted(self.central):
            fiscal_year, category, market = key
            ranks = percentiles(self.totals[key])
            for f, figure in enumerate(FIGURES):
                totals.append({"fiscal_year": int(fiscal_year), "category": category, "market": market,
                               "figure": figure, "central": float(self.central[key][f]),
                               **{f"p{p}": float(ranks[k, f]) for k, p in enumerate(PERCENTILES)}})
        notes = [_("FY{year} {category} {market}, {figure}: the reported figure {central:,.1f} t-CO2e is at the "
                   "favourable end of its own range (P5 {p5:,.1f}, P95 {p95:,.1f}): the GHG Protocol and WBCSD ask "
                   "that the reported case not be the most favourable one; report a central case or say why").format(
            year=t["fiscal_year"], category=t["category"], market=t["market"], figure=t["figure"], central=t["central"],
            p5=t["p5"], p95=t["p95"]) for t in totals if favourable_end(t["central"], t["p5"], t["p95"])]
        return {"method": "monte_carlo", "draws": self.draws, "seed": self.seed, "percentiles": list(PERCENTILES),
                "inputs": sorted(self.inputs, key=lambda r: (r["methodology"], r["parameter"], r["source"], r["kind"])),
                "totals": totals, "favourable_end": notes,
                "tornado": portfolio_tornado(self).to_dict(orient="records")}


def favourable_end(central: float, p5: float, p95: float) -> bool:
    """Whether a reported avoided-emissions figure sits at the favourable (high) end of its own P5–P95 range: in its
    top 10 %, at or above P5 + 0.9 × (P95 − P5), the range being a range (P5 < P95). Source: the GHG Protocol's and
    the WBCSD's guidance on avoided emissions (v2.0, 2025) ask that the reported case not be the most favourable one;
    the 10 % is the threshold of koken's sensitivity analysis for a case "at that end" (issue 16, shared with
    ``koken.sensitivity.favourable_end``).

    >>> favourable_end(95, 0, 100), favourable_end(89.9, 0, 100), favourable_end(5, 5, 5)
    (True, False, False)
    """
    return p5 < p95 and central >= p5 + 0.9 * (p95 - p5)


TORNADO_TOTAL_COLUMNS = ("fiscal_year", "figure", "variable", "parameter", "source", "central",
                         "result_at_low", "result_at_high", "swing")
"""Columns of the portfolio-total tornado (:func:`portfolio_tornado`)."""


def portfolio_tornado(sim: Simulation) -> pd.DataFrame:
    """One-at-a-time sensitivity of each fiscal year's portfolio total: each uncertain input at its low (P5) and its
    high (P95) end on every row that uses it (a shared factor or default: all its rows at once), the others central.

    Returns:
        DataFrame :data:`TORNADO_TOTAL_COLUMNS`, t-CO2e: ``variable`` is the methodology for a portfolio cell's range
        or a methodology default, the factor table and its key (``grid_emission_factor [JP 2023]``) for a factor
        entry shared by every methodology that reads it; per fiscal year and figure (single-year and lifetime
        apart, never added), the central total, the total at each end and the swing ``|high − low|``, sorted by
        swing descending within each fiscal year and figure. Empty when the run has no uncertain input.
    """
    central: dict[int, np.ndarray] = {}
    for (fiscal_year, _category, _market), values in sim.central.items():
        central[int(fiscal_year)] = central.get(int(fiscal_year), np.zeros(2)) + values
    records = []
    for (fiscal_year, variable, parameter, source), moved in sim.swings.items():
        for f, figure in enumerate(FIGURES):
            base = float(central.get(int(fiscal_year), np.zeros(2))[f])
            low, high = base + float(moved[0, f]), base + float(moved[1, f])
            records.append({"fiscal_year": int(fiscal_year), "figure": figure, "variable": variable,
                            "parameter": parameter, "source": source, "central": base, "result_at_low": low,
                            "result_at_high": high, "swing": abs(high - low)})
    frame = pd.DataFrame(records, columns=list(TORNADO_TOTAL_COLUMNS))
    if frame.empty:
        return frame
    frame = frame.sort_values(["fiscal_year", "figure", "swing", "variable", "parameter"],
                              ascending=[True, True, False, True, True], kind="stable")
    return frame.reset_index(drop=True)


def _ends(kind: str, low, mode, high, floor, ceiling) -> tuple:
    """A distribution's low and high ends as the tornado takes them: its P5 and P95 (for uniform and triangular
    ranges, the 5th and 95th percentiles too, so that every kind is compared alike)."""
    u = np.array([0.05, 0.95])
    ends = quantiles(kind, np.asarray(low, dtype=float)[..., None], np.asarray(mode, dtype=float)[..., None],
                     np.asarray(high, dtype=float)[..., None], u, floor, ceiling)
    return ends[..., 0], ends[..., 1]


def _swing(m, central_base: dict[str, np.ndarray], shipped: np.ndarray, name: str, rows: np.ndarray,
           low: np.ndarray, high: np.ndarray, fiscal_year: np.ndarray, point: np.ndarray) -> dict[int, np.ndarray]:
    """Per fiscal year: the (2 ends, 2 figures) change of the batch's totals with parameter ``name`` at ``low`` and at
    ``high`` (base units) on ``rows`` (a boolean mask), the others at ``central_base``."""
    moved = {}
    for e, values in enumerate((low, high)):
        env = dict(central_base)
        x = central_base[name].copy()
        x[rows] = values
        env[name] = x
        for s in m.steps:
            env[s.name] = np.asarray(s.function(*[env[a] for a in s.args]), dtype=float)
        single, lifetime = contributions(m, env, shipped)
        change = np.stack([np.broadcast_to(single, point[0].shape), np.broadcast_to(lifetime, point[1].shape)]) - point
        for year in np.unique(fiscal_year[rows]):
            sel = fiscal_year == year
            moved.setdefault(int(year), np.zeros((2, 2)))[e] = np.nansum(change[:, sel], axis=1)
    return moved


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
    for batch in calc.batches:
        m = batch.methodology
        result = batch.result
        streams: dict[tuple, list] = {}
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
            ends = d.ppf(np.array([0.05, 0.95]), p.low, p.high)
            shared[name] = [(used, d.ppf(u, p.low, p.high), (m.id, "methodology", ends))]
            _note(sim.inputs, name, m.id, d.kind, True, "methodology")
        for name, origin in batch.factor_origins.items():
            p = m.parameters[name]
            table = p.factor_table
            if table is None or not origin.from_table.any():
                continue
            to_declared = conversion_factor(table.unit, p.unit, name)
            labels, codes = np.unique(origin.keys[origin.from_table].astype(str), return_inverse=True)
            for k, label in enumerate(labels):
                spec = table.entry(label).distribution
                if spec is None:
                    continue
                d = spec.around(table.entry(label).value)
                u = _generator(seed, ("factor", table.id, label)).random(draws)
                drawn = quantiles(d.kind, d.low * to_declared, d.mode * to_declared, d.high * to_declared, u,
                                  p.low, p.high)
                rows_of_key = np.flatnonzero(origin.from_table)[codes == k]
                used = np.zeros(n, dtype=bool)
                used[rows_of_key] = True
                ends = quantiles(d.kind, d.low * to_declared, d.mode * to_declared, d.high * to_declared,
                                 np.array([0.05, 0.95]), p.low, p.high)
                shared.setdefault(name, []).append((used, drawn, (f"{table.id} [{label}]", "factor_table", ends)))
                _note(sim.inputs, name, m.id, d.kind, True, "factor_table")
        for name, u in batch.uncertain.items():
            for k in np.unique(u.kind[u.kind >= 0]):
                _note(sim.inputs, name, m.id, DISTRIBUTION_KINDS[k], False, "portfolio")
        shipped = result.units_shipped.to(m.shipment_unit).magnitude * m.shipment_to_base
        fiscal_year = portfolio.fiscal_year[batch.index]
        market = portfolio.market[batch.index]
        point = np.stack([result.single_year.magnitude, result.lifetime.magnitude])
        central_base = {name: values * m.parameters[name].to_base for name, values in central.items()}

        def record(variable: str, name: str, source: str, rows: np.ndarray, low: np.ndarray, high: np.ndarray,
                   m=m, central_base=central_base, shipped=shipped, fiscal_year=fiscal_year, point=point) -> None:
            for year, moved in _swing(m, central_base, shipped, name, rows, low, high, fiscal_year, point).items():
                key = (year, variable, name, source)   # a shared variable is one bar, whichever batches use it
                sim.swings[key] = sim.swings[key] + moved if key in sim.swings else moved

        for name, parts in shared.items():
            to_base = m.parameters[name].to_base
            for used, _drawn, (variable, source, ends) in parts:  # a shared variable at its P5 and P95
                record(variable, name, source, used, np.full(int(used.sum()), float(ends[0]) * to_base),
                       np.full(int(used.sum()), float(ends[1]) * to_base))
        for name, u_in in batch.uncertain.items():
            at = u_in.kind >= 0
            if not at.any():
                continue
            p = m.parameters[name]
            low = np.empty(int(at.sum()))
            high = np.empty(int(at.sum()))
            for k in np.unique(u_in.kind[at]):
                sel = u_in.kind[at] == k
                i = np.flatnonzero(at)[sel]
                low[sel], high[sel] = _ends(DISTRIBUTION_KINDS[k], u_in.low[i], central[name][i], u_in.high[i],
                                            p.low, p.high)
            record(m.id, name, "portfolio", at, low * p.to_base, high * p.to_base)
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
                to_base = p.to_base  # > 0: the quantile functions commute with it, so draws are made in base units
                floor = p.low * to_base if p.low is not None else None
                ceiling = p.high * to_base if p.high is not None else None
                x = values[:, None] * to_base
                u_in = batch.uncertain.get(name)
                if u_in is not None and (u_in.kind[rows] >= 0).any():
                    kinds = u_in.kind[rows]
                    at = np.flatnonzero(kinds >= 0)
                    uniform = _row_uniforms(seed, name, sheets[batch.index[rows]][at],
                                            portfolio.rows[batch.index[rows]][at], draws, streams)
                    low, high = u_in.low[rows] * to_base, u_in.high[rows] * to_base
                    if len(at) == c and (kinds == kinds[0]).all():  # the common case: one kind on every row
                        x = quantiles(DISTRIBUTION_KINDS[kinds[0]], low[:, None], x, high[:, None], uniform, floor,
                                      ceiling)
                    else:
                        x = np.repeat(x, draws, axis=1)
                        for k in np.unique(kinds[at]):
                            sel = kinds[at] == k
                            i = at[sel]
                            x[i] = quantiles(DISTRIBUTION_KINDS[k], low[i, None], values[i, None] * to_base,
                                             high[i, None], uniform[sel], floor, ceiling)
                for used, drawn, _variable in shared.get(name, ()):
                    mask = used[rows]
                    if mask.any():
                        x = np.repeat(x, draws, axis=1) if x.shape[1] == 1 else x
                        x[mask] = drawn * to_base
                env[name] = x
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
                ranks = percentiles(figure)
                for k in range(len(PERCENTILES)):
                    sim.rows[UNCERTAINTY_COLUMNS[f * len(PERCENTILES) + k]][table_at[rows]] = ranks[k]
            chunk_codes = codes[rows]
            groups = np.unique(chunk_codes)
            if len(groups) == 1:  # every row of the chunk in one total: no copy of the rows
                _add(sim, group_keys[groups[0]], np.zeros(2), np.stack([single.sum(axis=0), lifetime.sum(axis=0)]))
            for g in groups if len(groups) > 1 else ():
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


def percentiles(draws: np.ndarray) -> np.ndarray:
    """:data:`koken.base.vocabulary.PERCENTILES` of each row of ``draws`` ``(rows, n)`` → ``(len(PERCENTILES), rows)``,
    by linear interpolation between order statistics (numpy's default, Hyndman and Fan 1996 type 7): P = x(h) with
    h = (n − 1)·p/100, interpolated between ⌊h⌋ and ⌊h⌋ + 1. Sorting is faster here than numpy's percentile (a
    selection per percentile)."""
    ordered = np.sort(draws, axis=1)
    n = ordered.shape[1]
    out = np.empty((len(PERCENTILES), ordered.shape[0]))
    for k, p in enumerate(PERCENTILES):
        h = (n - 1) * p / 100
        lo = int(np.floor(h))
        hi = min(lo + 1, n - 1)
        out[k] = ordered[:, lo] + (h - lo) * (ordered[:, hi] - ordered[:, lo])
    return out


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
                  streams: dict[tuple, list]) -> np.ndarray:
    """Uniform numbers ``(len(rows), draws)`` of parameter ``name``'s per-row variables at these file rows (and
    sheets). Each (parameter, sheet) has one PCG64 stream; file row r takes its outputs r·draws … r·draws + draws − 1
    (reached with ``advance``, O(log) in the distance), so a row's draws do not depend on which rows are computed
    with it. ``streams`` keeps each stream's position between calls of one batch (its rows come in file order)."""
    out = np.empty((len(rows), draws))
    for sheet in dict.fromkeys(sheets.tolist()):
        sel = np.flatnonzero(sheets == sheet)
        contiguous = len(sel) == len(rows)  # one sheet: the rows of ``out`` in order (written in place)
        r = rows[sel].astype(np.int64)
        key = (name, sheet)
        if key not in streams:
            streams[key] = [None, -1]
        state = streams[key]
        breaks = np.flatnonzero(np.diff(r) != 1) + 1
        for s, e in zip([0, *breaks.tolist()], [*breaks.tolist(), len(r)]):
            target = int(r[s]) * draws
            if state[0] is None or target < state[1]:  # a new stream, or rows out of file order: start again
                bits = np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(_key("row"), _key(name), _key(sheet))))
                state[0], state[1] = (bits, np.random.Generator(bits)), 0
            bits, generator = state[0]
            bits.advance(target - state[1])
            if contiguous:
                generator.random(out=out[s:e])
            else:
                out[sel[s:e]] = generator.random((e - s, draws))
            state[1] = (int(r[e - 1]) + 1) * draws
    return out
