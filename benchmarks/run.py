"""koken at scale: its kernel and evaluation against a hand-written numpy floor and a per-row Pint loop,
and a full run from Parquet. Prints figures and ratios; asserts only that the three agree on the numbers.

Run: python benchmarks/run.py [--rows 1000000] [--sample 2000] [--repeat 3] [--no-end-to-end]

On one synthetic portfolio (benchmarks/generate.py: all 24 methodologies, domestic and overseas), in
one run:

1. koken, per methodology batch (inputs already read and their units resolved, as ``calculate`` hands
   them over): the *kernel* (compiled formula steps on base-unit arrays, and the single-year and
   lifetime scaling), the full *evaluate* (plus range checks, defaults, unit conversion and Pint
   result arrays), and *aggregation* (totals by fiscal year, category, methodology and market);
2. the *numpy floor*: the same 24 formulas written out by hand (benchmarks/floor.py) on plain arrays,
   aggregated with ``np.bincount``;
3. a *per-row Pint loop* (what a naive engine does): each row's inputs as Pint quantities, each step
   computed and converted with Pint; timed on a sample and extrapolated to all rows.

Then ``koken calculate PORTFOLIO.parquet -o RESULTS.parquet`` in a fresh process: wall time and peak
memory of the whole job (start-up, read, validate, evaluate, attribute, aggregate, write).

Timings are medians of ``--repeat`` runs. Goals (issue 7, on the 2-core build machine): kernel ≤ 3×
the floor; ≥ 100× faster than per-row Pint; 1M rows end to end ≤ 10 s and ≤ 2 GB.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import sympy

sys.path.insert(0, str(Path(__file__).resolve().parent))

import floor
from generate import generate
from koken.base.units import parse_unit, registry
from koken.calculation import calculate
from koken.library import load_library
from koken.methodology.evaluate import contributions, evaluate, run_kernel
from koken.portfolio.build import read_portfolio
from koken.totals import Totals

DATA = Path(os.environ.get("KOKEN_BENCH_DATA", Path(tempfile.gettempdir()) / "koken-bench"))


def _median_time(action, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def portfolio_file(rows: int) -> Path:
    """The synthetic portfolio of ``rows`` lines as Parquet (generated once per size, seed 0)."""
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"portfolio_{rows}.parquet"
    if not path.exists():
        generate(rows, seed=0).to_parquet(path, index=False)
    return path


def batches(path: Path, library):
    """Per methodology: (methodology, inputs in declared units, units shipped, group keys) from koken's
    own reading and unit resolution (untimed: both contenders start from the same resolved columns)."""
    portfolio = read_portfolio(path, library)
    calc = calculate(portfolio, library)
    out = []
    for b in calc.batches:
        m = b.methodology
        inputs = {}
        for name, p in m.parameters.items():
            q = b.inputs.get(name)
            values = q.to(p.unit).magnitude if q is not None else np.full(len(b.index), np.nan)
            if p.default is not None:
                values = np.where(np.isnan(values), p.default, values)
            inputs[name] = registry().Quantity(np.ascontiguousarray(values, dtype=float), p.unit)
        shipped = b.result.units_shipped
        keys = {"fiscal_year": portfolio.fiscal_year[b.index], "market": portfolio.market[b.index]}
        out.append((m, inputs, shipped, keys, b.result))
    return out


def time_koken(work, repeat: int) -> dict[str, float]:
    """Median seconds of koken's kernel, evaluate and aggregation over all batches."""
    prepared = []
    for m, inputs, shipped, _keys, _ in work:
        env = {name: q.magnitude * m.parameters[name].to_base for name, q in inputs.items()}
        prepared.append((m, env, shipped.magnitude * m.shipment_to_base, len(shipped)))

    def kernel():
        for m, env, shipped_base, n in prepared:
            contributions(m, run_kernel(m, dict(env), n), shipped_base)

    results = []

    def full_evaluate():
        results.clear()
        for m, inputs, shipped, keys, _ in work:
            results.append((m, evaluate(m, inputs, shipped), keys))

    # The group keys as the engine's result tables hold them (categorical), built outside the timing,
    # as the floor's group codes are.
    keyed = [(m, {"fiscal_year": keys["fiscal_year"],
                  "category": pd.Categorical.from_codes(np.zeros(len(keys["market"]), dtype=int), [m.category]),
                  "methodology": pd.Categorical.from_codes(np.zeros(len(keys["market"]), dtype=int), [m.id]),
                  "market": pd.Categorical(keys["market"])}) for m, _, _, keys, _ in work]

    def aggregate():
        totals = Totals()
        for (_m, r, _), (_, keys) in zip(results, keyed):
            totals.add(pd.DataFrame({**keys, "single_year[t-CO2e]": r.single_year.magnitude,
                                     "lifetime[t-CO2e]": r.lifetime.magnitude}))
        return totals

    kernel_s = _median_time(kernel, repeat)
    evaluate_s = _median_time(full_evaluate, repeat)
    aggregate_s = _median_time(aggregate, repeat)
    return {"kernel": kernel_s, "evaluate": evaluate_s, "aggregate": aggregate_s, "totals": aggregate()}


def time_floor(work, repeat: int) -> tuple[float, float, dict]:
    """Median seconds of the hand-written formulas and of a bincount aggregation; and the floor's rows."""
    plain = [(m.id, {name: q.magnitude for name, q in inputs.items()}, shipped.magnitude, keys)
             for m, inputs, shipped, keys, _ in work]
    codes = []
    for mid, _, _, keys in plain:
        frame = pd.DataFrame(keys)
        codes.append(pd.MultiIndex.from_frame(frame.assign(m=mid)).factorize()[0])
    outputs = {}

    def formulas():
        for mid, x, shipped, _ in plain:
            outputs[mid] = floor.contributions(mid, x, shipped)

    def aggregate():
        return [(np.bincount(c, weights=outputs[mid][0]), np.bincount(c, weights=outputs[mid][1]))
                for (mid, _, _, _), c in zip(plain, codes)]

    formulas_s = _median_time(formulas, repeat)
    aggregate_s = _median_time(aggregate, repeat)
    return formulas_s, aggregate_s, outputs


def time_pint(work, sample: int) -> tuple[float, int, dict]:
    """Seconds per row of a naive per-row Pint engine (on ``sample`` rows spread over the batches)."""
    ureg = registry()
    per_batch = max(1, sample // len(work))
    plans = []
    for m, inputs, shipped, _, _ in work:
        steps = [(s.name, sympy.lambdify(list(map(sympy.Symbol, s.args)), s.expression, modules="math"), s.args, s.unit)
                 for s in m.steps]
        plans.append((m, inputs, shipped, steps))
    t_co2e = parse_unit("t-CO2e")
    results: dict[str, list[tuple[float, float]]] = {}
    rows = 0
    start = time.perf_counter()
    for m, inputs, shipped, steps in plans:
        year = ureg.Quantity(1.0, parse_unit("yr", m.spec.hours_per_year))
        out = results.setdefault(m.id, [])
        for i in range(min(per_batch, len(shipped))):
            env = {name: ureg.Quantity(float(q.magnitude[i]), q.units) for name, q in inputs.items()}
            for name, function, args, unit in steps:
                env[name] = ureg.Quantity(function(*[env[a] for a in args])).to(unit)
            units = ureg.Quantity(float(shipped.magnitude[i]), shipped.units)
            single = (env["avoided_per_unit_year"] * units * year).to(t_co2e).magnitude
            lifetime = (env["avoided_per_unit_year"] * units * env[m.spec.operating_years]).to(t_co2e).magnitude
            out.append((single, lifetime))
            rows += 1
    return (time.perf_counter() - start) / rows, rows, results


KOKEN_WITH_PEAK = """
import atexit, resource, sys
def peak():
    try:  # the high-water mark of this process's own memory (Linux), not of the parent it was forked from
        kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
    except OSError:
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sys.stderr.write(f"KOKEN_PEAK_KB {kb}\\n")
atexit.register(peak)
from koken.cli.commands import main
sys.argv = ["koken", *sys.argv[1:]]
main()
"""
"""The koken command in a new process that writes its peak resident memory to standard error at exit."""


def end_to_end(path: Path, repeat: int) -> tuple[float, float]:
    """Median wall seconds and largest peak memory (GB) of ``koken calculate PATH -o OUT.parquet`` in a new
    process (the child reports its own high-water mark as it exits)."""
    out = DATA / "results.parquet"
    walls, peaks = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        child = subprocess.run([sys.executable, "-c", KOKEN_WITH_PEAK, "calculate", str(path), "-o", str(out)],
                               capture_output=True, text=True, check=False)
        walls.append(time.perf_counter() - start)
        if child.returncode != 0:
            raise SystemExit(f"koken calculate failed:\n{child.stderr[-2000:]}")
        kb = next(int(line.split()[1]) for line in child.stderr.splitlines() if line.startswith("KOKEN_PEAK_KB"))
        peaks.append(kb / 1024 / 1024)
    return statistics.median(walls), max(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=2_000, help="rows for the per-row Pint loop")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-end-to-end", dest="end_to_end", action="store_false")
    args = parser.parse_args()

    library = load_library(check_examples=False)  # raises KokenErrors listing every problem
    path = portfolio_file(args.rows)
    work = batches(path, library)
    rows = sum(len(s) for _, _, s, _, _ in work)

    koken = time_koken(work, args.repeat)
    floor_s, floor_agg_s, floor_rows = time_floor(work, args.repeat)
    pint_per_row, pint_rows, pint_results = time_pint(work, args.sample)
    pint_s = pint_per_row * rows

    for m, _, _, _, result in work:  # the three agree, row by row, before any figure is printed
        single, lifetime = floor_rows[m.id]
        np.testing.assert_allclose(result.single_year.magnitude, single, rtol=1e-9, err_msg=m.id)
        np.testing.assert_allclose(result.lifetime.magnitude, lifetime, rtol=1e-9, err_msg=m.id)
        sample = np.array(pint_results[m.id])
        np.testing.assert_allclose(result.single_year.magnitude[:len(sample)], sample[:, 0], rtol=1e-9, err_msg=m.id)
        np.testing.assert_allclose(result.lifetime.magnitude[:len(sample)], sample[:, 1], rtol=1e-9, err_msg=m.id)

    koken_total = koken["evaluate"] + koken["aggregate"]
    floor_total = floor_s + floor_agg_s
    print(f"koken benchmark — {rows:,} product lines, {len(work)} methodologies; "
          f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores; "
          f"median of {args.repeat}")
    print(f"  numpy floor (hand-written formulas)    {floor_s:8.4f} s")
    print(f"  koken kernel (compiled steps)          {koken['kernel']:8.4f} s   {koken['kernel'] / floor_s:6.2f}× floor")
    print(f"  koken evaluate (+ checks, units, Pint) {koken['evaluate']:8.4f} s   {koken['evaluate'] / floor_s:6.2f}× floor")
    print(f"  aggregation: koken {koken['aggregate']:.4f} s, floor (bincount) {floor_agg_s:.4f} s")
    print(f"  evaluate + aggregate: koken {koken_total:.4f} s, floor {floor_total:.4f} s "
          f"({koken_total / floor_total:.2f}×)")
    print(f"  per-row Pint (extrapolated from {pint_rows:,} rows) {pint_s:8.2f} s   "
          f"{pint_s / koken['evaluate']:8.0f}× slower than koken evaluate")
    goals = [("kernel ≤ 3× numpy floor", koken["kernel"] / floor_s <= 3),
             ("≥ 100× faster than per-row Pint", pint_s / koken["evaluate"] >= 100)]
    if args.end_to_end:
        wall, peak = end_to_end(path, args.repeat)
        print(f"  end to end: koken calculate {path.name} -o results.parquet   {wall:6.2f} s wall, "
              f"{peak:.2f} GB peak (start-up, read, validate, evaluate, attribute, aggregate, write)")
        if args.rows >= 1_000_000:
            goals += [("1M rows end to end ≤ 10 s", wall <= 10), ("peak memory ≤ 2 GB", peak <= 2)]
    for goal, met in goals:
        print(f"  [{'met' if met else 'NOT MET'}] {goal}")


if __name__ == "__main__":
    main()
