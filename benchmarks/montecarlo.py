"""The Monte Carlo's cost against the point evaluation of the same lines, in the same run (issue 16 §2).

Run: python benchmarks/montecarlo.py [--rows 100000] [--draws 1000] [--uncertain 2] [--repeat 3]

On the synthetic portfolio of benchmarks/generate.py (all 24 methodologies, domestic and overseas; grid factors from
the tables on half the domestic lines), read and calculated once (untimed), then:

1. the *point evaluation*: ``koken.methodology.evaluate.evaluate`` of every methodology batch (what
   ``koken calculate`` runs per batch: range checks, defaults, unit conversion, kernels, figures);
2. the *Monte Carlo*: ``koken.montecarlo.simulate`` with ``--draws`` draws, after giving ``--uncertain`` inputs of
   every line (the first parameters each row gives itself) a triangular ±10 % around its value, as a portfolio's
   ``value ± 10 %`` cells would: per-row variables, each with its own stream; the kernels on (rows × draws) chunks,
   P5/P50/P95 per line, totals per fiscal year, category and market per draw.

Prints both medians, their ratio, and the process's peak memory (VmHWM) before and after the Monte Carlo. Goal
(issue 16, the 2-core build machine): 1,000 draws over 100,000 lines within 10 s and 2 GB. Not a test: nothing
is asserted but that the Monte Carlo's central totals equal the point run's.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate
from koken.base.vocabulary import DISTRIBUTION_KINDS
from koken.calculation import UncertainInputs, calculate
from koken.library import load_library
from koken.methodology.evaluate import evaluate
from koken.montecarlo import simulate
from koken.portfolio.build import read_portfolio

DATA = Path(__file__).resolve().parent / "data"


def peak_gb() -> float:
    """This process's high-water mark of resident memory (Linux VmHWM), GB."""
    with open("/proc/self/status") as status:
        kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    return kb / 1024 / 1024


def with_ranges(calc, uncertain: int):
    """``calc`` with a triangular ±10 % on the first ``uncertain`` inputs each batch's rows give themselves."""
    triangular = DISTRIBUTION_KINDS.index("triangular")
    batches = []
    for b in calc.batches:
        ranges = {}
        for name, q in list(b.inputs.items()):
            values = np.asarray(q.to(b.methodology.parameters[name].unit).magnitude, dtype=float)
            p = b.methodology.parameters[name]
            if len(ranges) == uncertain or np.isnan(values).any() or (p.high is not None and p.high <= 1):
                continue
            low, high = values * 0.9, values * 1.1
            if p.low is not None:
                low = np.maximum(low, p.low)
            ranges[name] = UncertainInputs(np.full(len(values), triangular, dtype=np.int8), low, high)
        batches.append(dataclasses.replace(b, uncertain=ranges))
    return dataclasses.replace(calc, batches=batches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--uncertain", type=int, default=2, help="uncertain inputs per line")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    library = load_library(check_examples=False)
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"portfolio_{args.rows}.parquet"
    if not path.exists():
        generate(args.rows, seed=0).to_parquet(path, index=False)
    calc = with_ranges(calculate(read_portfolio(path, library), library), args.uncertain)
    lines = sum(len(b.index) for b in calc.batches)
    variables = sum(int((u.kind >= 0).sum()) for b in calc.batches for u in b.uncertain.values())

    def point() -> None:
        for b in calc.batches:
            evaluate(b.methodology, b.inputs, b.result.units_shipped)

    point_times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        point()
        point_times.append(time.perf_counter() - start)
    before = peak_gb()
    mc_times = []
    sim = None
    for _ in range(args.repeat):
        start = time.perf_counter()
        sim = simulate(calc, args.draws, seed=1)
        mc_times.append(time.perf_counter() - start)
    after = peak_gb()
    central = sum(float(v[0]) for v in sim.central.values())
    assert np.isclose(central, float(calc.table["single_year[t-CO2e]"].sum()), rtol=1e-9)

    p, mc = statistics.median(point_times), statistics.median(mc_times)
    print(f"lines: {lines:,}; draws: {args.draws:,}; per-row uncertain variables: {variables:,} "
          f"({args.uncertain} per line where the line gives them)")
    print(f"point evaluation (all batches): {p:8.3f} s")
    print(f"Monte Carlo ({args.draws:,} draws):   {mc:8.3f} s   = {mc / p:,.0f}× the point evaluation; "
          f"{mc / args.draws * 1000:.2f} ms per draw")
    print(f"peak memory: {before:.2f} GB before the Monte Carlo, {after:.2f} GB after "
          f"(goal: 10 s and 2 GB for 1,000 draws over 100,000 lines)")


if __name__ == "__main__":
    main()
