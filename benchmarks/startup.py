"""koken's start-up and its Dask engine, each against a floor measured in the same run (issue 17 §4).

Run: python benchmarks/startup.py [--repeat 3] [--dask-rows 200000] [--no-dask] [--before ENGINE]

In one run, in new processes, interleaved so that a busy machine slows every figure alike:

1. the **floor**: ``python -c "import numpy, pandas, pyarrow"``, the imports no run of koken can avoid;
2. ``koken calculate`` of a 3-line portfolio (examples/portfolio_uncertain.csv) to JSON **cold**, without the
   start-up cache (``KOKEN_NO_CACHE=1``), and **warm** (the cache filled by a run before; a cache folder of this
   benchmark's own, never the user's);
   With ``--before ENGINE`` (another checkout's ``engine`` folder, e.g. ``git worktree add /tmp/old main``), the
   warm run of that engine too, in the same loop, with a cache folder of its own: before and after in one run;
3. **served**: the same command handed to a running ``koken server`` (started in this benchmark's cache folder
   before the loop, stopped at the end): the command's own process imports nothing heavy, and the server forks a
   process that has koken loaded (docs/performance.md § Start-up);
4. ``koken calculate`` of a synthetic portfolio of ``--dask-rows`` lines (benchmarks/generate.py, Parquet) with
   the **local** engine and with ``--engine dask --workers 2``, each in its own process (no server); the two results
   must be byte-identical.

Prints each timing's median with its spread (min–max), and each ratio with its goal: start-up ≤ 2× the
import floor (the issue asks for 0.5 s, about what the floor alone takes on the 2-core build machine), and Dask
≤ 1.3× the local engine on one machine. Asserts only that the results agree; timings are never asserted.
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

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

THREE_LINES = REPO / "examples" / "portfolio_uncertain.csv"
DATA = Path(os.environ.get("KOKEN_BENCH_DATA", Path(tempfile.gettempdir()) / "koken-bench"))
KOKEN = ["-c", "import sys; from koken.cli import run; sys.argv[0] = 'koken'; run()"]  # as the console script
FLOOR = ["-c", "import numpy, pandas, pyarrow"]
GOAL_WARM = 2.0
GOAL_DASK = 1.3


def timed(args: list[str], env: dict[str, str] | None = None) -> float:
    """Wall seconds of ``python ARGS`` in a new process (a failure ends the benchmark with its error)."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(args[-6:])}\n{done.stderr[-2000:]}")
    return wall


def summary(times: list[float]) -> str:
    return f"{statistics.median(times):7.2f} s (min {min(times):.2f}, max {max(times):.2f}, n={len(times)})"


def ratio_line(name: str, num: list[float], den: list[float], goal: float) -> str:
    ratio = statistics.median(num) / statistics.median(den)
    pairs = [a / b for a, b in zip(num, den, strict=True)]  # run i of each, taken one after the other
    verdict = "met" if ratio <= goal else "NOT met"
    return (f"{name:34s} {ratio:5.2f}x  (paired runs {min(pairs):.2f}-{max(pairs):.2f}x)   goal <= {goal}x: "
            f"{verdict}")


def dask_portfolio(rows: int) -> Path:
    """The synthetic portfolio of ``rows`` lines as Parquet (generated once per size, seed 0; as benchmarks/run.py)."""
    from generate import generate

    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"portfolio_{rows}.parquet"
    if not path.exists():
        generate(rows, seed=0).to_parquet(path, index=False)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dask-rows", type=int, default=200_000)
    parser.add_argument("--no-dask", dest="dask", action="store_false")
    parser.add_argument("--before", type=Path, metavar="ENGINE",
                        help="another checkout's engine folder, timed warm in the same loop (before and after)")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="koken-startup-") as folder:  # results and cache, removed at the end
        run(options, Path(folder))


def run(options: argparse.Namespace, work: Path) -> None:
    served_env = {**os.environ, "KOKEN_CACHE_DIR": str(work / "cache")}
    served_env.pop("KOKEN_NO_CACHE", None)
    served_env.pop("KOKEN_NO_SERVER", None)
    env = {**served_env, "KOKEN_NO_SERVER": "1"}  # each command in its own process
    cold_env = {**env, "KOKEN_NO_CACHE": "1"}
    calculate = [*KOKEN, "calculate", str(THREE_LINES), "-o"]
    # an engine from before koken server has only the command group
    calculate_before = ["-c", "import sys; from koken.cli import main; sys.argv[0] = 'koken'; main()", "calculate",
                        str(THREE_LINES), "-o"]
    before_env = None
    if options.before is not None:
        before_env = {**env, "KOKEN_CACHE_DIR": str(work / "cache-before"),
                      "PYTHONPATH": os.pathsep.join([str(options.before.resolve()), env.get("PYTHONPATH", "")])}
        timed([*calculate_before, str(work / "fill-before.json")], before_env)
    timed([*calculate, str(work / "fill.json")], env)  # fills the cache (and the file system's)
    timed([*KOKEN, "server", "start", "--idle", "900"], served_env)
    try:
        floor, cold, warm, served, before = [], [], [], [], []
        for i in range(options.repeat):
            floor.append(timed(FLOOR, env))
            cold.append(timed([*calculate, str(work / f"cold{i}.json")], cold_env))
            warm.append(timed([*calculate, str(work / f"warm{i}.json")], env))
            served.append(timed([*calculate, str(work / f"served{i}.json")], served_env))
            if before_env is not None:
                before.append(timed([*calculate_before, str(work / f"before{i}.json")], before_env))
    finally:
        timed([*KOKEN, "server", "stop"], served_env)
    from koken.results import without_created

    if len({without_created((work / f"{kind}0.json").read_bytes()) for kind in ("cold", "warm", "served")}) != 1:
        raise SystemExit("the served, warm and cold results differ")
    print(f"koken start-up, {sys.version.split()[0]} on {platform.machine()}, {os.cpu_count()} cores")
    print(f"  floor: python -c 'import numpy, pandas, pyarrow'  {summary(floor)}")
    print(f"  calculate 3 lines, cold (KOKEN_NO_CACHE=1)      {summary(cold)}")
    print(f"  calculate 3 lines, warm                         {summary(warm)}")
    print(f"  calculate 3 lines, handed to koken server       {summary(served)}")
    print("  " + ratio_line("served / floor", served, floor, GOAL_WARM))
    print("  " + ratio_line("warm / floor (no server)", warm, floor, GOAL_WARM))
    print(f"  {'cold / floor':34s} {statistics.median(cold) / statistics.median(floor):5.2f}x")
    print(f"  {'served, absolute':34s} {statistics.median(served):5.2f} s   (issue 17 §4: under 0.5 s on the build "
          "machine)")
    if before:
        print(f"  before: {options.before}, warm             {summary(before)}")
        print("  " + ratio_line("before, warm / floor", before, floor, GOAL_WARM))

    if not options.dask:
        return
    portfolio = dask_portfolio(options.dask_rows)
    local, dask = [], []
    for _ in range(options.repeat):
        local.append(timed([*KOKEN, "calculate", str(portfolio), "-o", str(work / "local.parquet")], env))
        dask.append(timed([*KOKEN, "calculate", str(portfolio), "-o", str(work / "dask.parquet"),
                           "--engine", "dask", "--workers", "2"], env))
        if without_created((work / "local.parquet").read_bytes()) != without_created((work / "dask.parquet").read_bytes()):
            raise SystemExit("the Dask engine's results differ from the local engine's")
    print(f"\nkoken calculate, {options.dask_rows:,} lines from Parquet (results byte-identical apart from their created time)")
    print(f"  local engine                                    {summary(local)}")
    print(f"  --engine dask --workers 2                       {summary(dask)}")
    print("  " + ratio_line("dask / local", dask, local, GOAL_DASK))


if __name__ == "__main__":
    main()
