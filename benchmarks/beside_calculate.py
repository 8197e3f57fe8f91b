"""koken verify, report and trace --row beside koken calculate, on the same generated portfolio, in one run.

Run: python benchmarks/beside_calculate.py [--rows 100000] [--repeat 3] [--small 10]

On one synthetic portfolio (benchmarks/generate.py, written as Parquet), each command in a fresh process, the
commands taking turns in each repeat (so the machine's noise falls on all of them alike):

1. ``koken calculate P.parquet -o R.parquet`` (the floor the others are measured against);
2. ``koken verify R.parquet P.parquet`` (recompute and compare every row, the totals and the provenance);
3. ``koken report R.parquet --fiscal-year 2023`` (the action plan's table from the Parquet result of 1., which
   carries each line's inputs and their origins: read a column and a row group at a time);
4. ``koken report --portfolio P.parquet --fiscal-year 2023`` (calculate, then the table);
5. ``koken trace P.parquet --row 5`` (one row's trace);

and, for the memory of report, ``koken report`` of a Parquet result ``--small`` times smaller (same generator and
seed), whose peak is set beside the full one's; with ``--json-report``, also ``koken report R.json`` of the same lines
(the JSON result written once before the timings: the whole document is held in memory).

Printed: each command's median wall time with its spread (lowest–highest) and its largest peak memory, and each
ratio with its goal (issue 17 §4): verify ≤ 2× calculate; trace --row ≤ 0.5× calculate, both in one process with
the methodologies loaded once (it reads and checks the file whole, then computes the one row; the same ratio less
start-up, ``koken calculate`` of a 100-line portfolio that every command pays alike, is printed too); report's peak
memory bounded: at most 1.5× the peak of a result ``--small`` times smaller, and at most calculate's peak. Every
command's start-up (methodologies loaded) is in its time, as a user sees it.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate, write
from run import KOKEN_WITH_PEAK

DATA = Path(os.environ.get("KOKEN_BENCH_DATA", Path(tempfile.gettempdir()) / "koken-bench"))

CHILD = KOKEN_WITH_PEAK  # the koken command in a new process, its peak memory on standard error


def portfolio(rows: int) -> Path:
    """The generated portfolio of ``rows`` lines (seed 0), written once and kept in :data:`DATA`."""
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"portfolio_{rows}.parquet"
    if not path.exists():
        write(generate(rows), path)
    return path


def koken(*args: str) -> tuple[float, float]:
    """Wall seconds and peak memory (GB) of ``koken ARGS`` in a new process; stops the benchmark if it fails."""
    start = time.perf_counter()
    child = subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if child.returncode != 0:
        raise SystemExit(f"koken {' '.join(args)} failed ({child.returncode}):\n{child.stdout[-1500:]}\n"
                         f"{child.stderr[-2000:]}")
    kb = next(int(line.split()[1]) for line in child.stderr.splitlines() if line.startswith("KOKEN_PEAK_KB"))
    return wall, kb / 1024 / 1024


def in_process(path: Path, result: Path, repeat: int) -> tuple[float, float, float]:
    """trace --row 5 over calculate, both in this process with the methodologies loaded once (start-up, the same
    for both, left out): median, lowest and highest of the ratio taken within each repeat."""
    from koken.api import run, trace_rows
    from koken.library import load_library

    library = load_library(check_examples=False)
    each = []
    for _ in range(repeat):
        start = time.perf_counter()
        run(path, library, output=result)
        calculated = time.perf_counter() - start
        start = time.perf_counter()
        trace_rows(path, [5], library)
        each.append((time.perf_counter() - start) / calculated)
    return statistics.median(each), min(each), max(each)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--small", type=int, default=10, help="report's memory is compared with a result this many "
                                                               "times smaller")
    parser.add_argument("--no-portfolio-report", dest="portfolio_report", action="store_false",
                        help="leave out koken report --portfolio (it calculates too)")
    parser.add_argument("--json-report", action="store_true",
                        help="also time koken report of the JSON result of the same lines (written once, slowly)")
    args = parser.parse_args()

    path = portfolio(args.rows)
    small = portfolio(max(args.rows // args.small, 100))
    tiny = portfolio(100)
    result = DATA / f"result_{args.rows}.parquet"
    small_result, json_result = DATA / f"result_small_{args.rows}.parquet", DATA / f"result_{args.rows}.json"
    koken("calculate", str(small), "-o", str(small_result))
    if args.json_report:
        koken("calculate", str(path), "-o", str(json_result))
    year = ("--fiscal-year", "2023")  # the generated lines hold the years of the methodologies' worked examples
    commands = {
        "calculate (100 lines)": ("calculate", str(tiny), "-o", str(DATA / "result_100.parquet")),
        "calculate": ("calculate", str(path), "-o", str(result)),
        "verify": ("verify", str(result), str(path)),
        "report": ("report", str(result), *year),
        "report (small)": ("report", str(small_result), *year),
        **({"report R.json": ("report", str(json_result), *year)} if args.json_report else {}),
        **({"report --portfolio": ("report", "--portfolio", str(path), *year)} if args.portfolio_report else {}),
        "trace --row 5": ("trace", str(path), "--row", "5"),
    }
    walls: dict[str, list[float]] = {name: [] for name in commands}
    peaks: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.repeat):
        for name, command in commands.items():  # calculate first: the others read its result
            wall, peak = koken(*command)
            walls[name].append(wall)
            peaks[name].append(peak)

    median = {name: statistics.median(times) for name, times in walls.items()}
    peak = {name: max(p) for name, p in peaks.items()}
    print(f"koken beside calculate — {args.rows:,} product lines ({path.name}); {platform.python_implementation()} "
          f"{platform.python_version()}, {os.cpu_count()} cores; median of {args.repeat} (lowest–highest), each "
          f"command in a new process, start-up included")
    for name, times in walls.items():
        rows = max(args.rows // args.small, 100) if name == "report (small)" else 100 if "100 lines" in name \
            else args.rows
        print(f"  koken {name:<22} {median[name]:7.2f} s ({min(times):.2f}–{max(times):.2f})  "
              f"{peak[name]:5.2f} GB peak   {rows:>9,} lines")

    def ratio(top, bottom) -> tuple[float, float, float]:
        """Median, lowest and highest over the repeats of a ratio taken within each repeat (the commands of one
        repeat run one after another, so the machine's drift from one repeat to the next cancels out)."""
        each = [top(i) / bottom(i) for i in range(args.repeat)]
        return statistics.median(each), min(each), max(each)

    def wall(name):
        return lambda i: walls[name][i]

    def above_start(name):  # the part above start-up: the command less calculate of 100 lines in the same repeat
        return lambda i: walls[name][i] - walls["calculate (100 lines)"][i]

    checks = [
        ("verify ≤ 2× calculate", ratio(wall("verify"), wall("calculate")), 2.0),
        (f"report peak ≤ 1.5× report peak at {args.small}× fewer lines",
         (peak["report"] / peak["report (small)"],) * 3, 1.5),
        ("report peak ≤ calculate peak", (peak["report"] / peak["calculate"],) * 3, 1.0),
    ]
    print("  ratios, each taken within a repeat: median (lowest–highest) [goal]; start-up = calculate of 100 lines:")
    for label, top, bottom in [("trace --row whole / calculate whole (start-up in both)", "trace --row 5", "calculate"),
                               ("start-up / calculate", "calculate (100 lines)", "calculate"),
                               ("report R.parquet / calculate (no goal)", "report", "calculate"),
                               *([("report --portfolio / calculate (no goal: it calculates)", "report --portfolio",
                                   "calculate")] if args.portfolio_report else []),
                               *([("report R.json / report R.parquet (no goal)", "report R.json", "report")]
                                 if args.json_report else [])]:
        middle, low, high = ratio(wall(top), wall(bottom))
        print(f"    {label:<56} {middle:6.2f}× ({low:.2f}–{high:.2f})")
    middle, low, high = ratio(above_start("trace --row 5"), above_start("calculate"))
    print(f"    {'trace --row / calculate, each less start-up (no goal)':<56} {middle:6.2f}× ({low:.2f}–{high:.2f})  "
          f"(a difference of two noisy times: the goal is the ratio in one process, below)")
    checks.append(("trace --row ≤ 0.5× calculate, in one process (no start-up)", in_process(path, result, args.repeat),
                   0.5))
    failed = []
    for label, (middle, low, high), goal in checks:
        held = middle <= goal
        print(f"    {label:<56} {middle:6.2f}× ({low:.2f}–{high:.2f})  [≤ {goal:g}×: {'holds' if held else 'MISSED'}]")
        if not held:
            failed.append(label)
    if failed:
        print("  goals missed: " + "; ".join(failed))


if __name__ == "__main__":
    main()
