"""Build and calculate of a Parquet portfolio's partitions, timed in process (library compiled before timing).

Run: PYTHONPATH=engine python benchmarks/partition_stages.py PORTFOLIO.parquet [PARTITIONS] [RUNS]

Opens the file as ``koken calculate`` does (``open_portfolio``, 250,000 lines per partition), takes its first
PARTITIONS partitions (default 4), runs ``build_portfolio`` and ``calculate`` on each once untimed (formula kernels
compiled) and then RUNS times (default 2), and prints the median seconds, with min and max, of each stage summed over
the partitions. Run it alternately with two ``PYTHONPATH`` values to compare two versions (docs/performance.md,
"Building and calculating a partition").
"""

import statistics
import sys
import time

from koken.calculation import calculate
from koken.library import load_library
from koken.portfolio.build import build_portfolio
from koken.portfolio.readers import open_portfolio


def main(path: str, partitions: int = 4, runs: int = 2) -> None:
    library = load_library(None, lazy=True)
    source = open_portfolio(path, library, partition_rows=250_000)
    parts = []
    for part in source.partitions():
        parts.append(part)
        if len(parts) >= partitions:
            break
    for mid in list(library):  # every methodology compiled before timing
        library[mid]
    for part in parts:  # formula kernels compiled before timing
        calculate(build_portfolio(part.layout, source.sha256, part.block, library, first=False), library, {})
    build, calc = [], []
    for _ in range(runs):
        b = c = 0.0
        for part in parts:
            t0 = time.perf_counter()
            portfolio = build_portfolio(part.layout, source.sha256, part.block, library, first=False)
            t1 = time.perf_counter()
            calculate(portfolio, library, {})
            t2 = time.perf_counter()
            b, c = b + t1 - t0, c + t2 - t1
        build.append(b)
        calc.append(c)
    print(f"build {statistics.median(build):.3f} ({min(build):.3f}-{max(build):.3f})  "
          f"calculate {statistics.median(calc):.3f} ({min(calc):.3f}-{max(calc):.3f})")


if __name__ == "__main__":
    main(sys.argv[1], *(int(a) for a in sys.argv[2:4]))
