"""koken's input and output against the plain readers and writers of the same files (issue 17 §4).

Run: python benchmarks/io.py [--rows 1000000] [--write-rows 200000] [--xlsx-rows 20000] [--repeat 3]

On one synthetic portfolio (benchmarks/generate.py, written as CSV, as cp932 CSV, as Parquet and as a workbook),
in one run:

1. CSV input: koken's reader (``open_portfolio`` and every partition of cells, the file's encoding found and its
   bytes hashed) against ``pyarrow.csv.open_csv`` (Arrow's streaming reader) and ``pyarrow.csv.read_csv`` of the
   same file; then koken's whole read (cells interpreted as numbers and units, ``read_portfolio``) and the same
   from Parquet; and the peak memory of the whole read from CSV and from Parquet, each in a new process;
2. output: koken's result files (``write_results``: CSV with each row's inputs, the JSON document, Parquet) against
   ``pyarrow.csv.write_csv`` of the same result table, and the two parts of the CSV's time: its inputs column
   (``koken.results.input_texts``) and the writer given it;
3. XLSX input: koken's read of a workbook (``read_portfolio``: hidden rows and columns, sizes and number formats
   checked) against openpyxl's read-only iteration over every cell's value and number format.

Timings are medians of ``--repeat`` runs, with their spread (fastest to slowest). Goals (issue 17 §4): CSV input
within 2× Arrow's streaming reader; CSV output within 1.5× Arrow's CSV writer; XLSX input within 1.5× openpyxl's
read-only mode. Figures only: nothing is asserted.
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

from generate import generate
from koken.calculation import calculate
from koken.library import load_library
from koken.portfolio.build import read_portfolio
from koken.portfolio.readers import open_portfolio

DATA = Path(os.environ.get("KOKEN_BENCH_DATA", Path(tempfile.gettempdir()) / "koken-bench"))


def timed(action, repeat: int) -> tuple[float, float, float]:
    """(median, fastest, slowest) seconds of ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times)


def files(rows: int, xlsx_rows: int) -> dict[str, Path]:
    """The synthetic portfolio as CSV (UTF-8 and cp932), Parquet and XLSX (generated once per size, seed 0)."""
    DATA.mkdir(parents=True, exist_ok=True)
    paths = {"csv": DATA / f"portfolio_{rows}.csv", "cp932": DATA / f"portfolio_{rows}_cp932.csv",
             "parquet": DATA / f"portfolio_{rows}.parquet", "xlsx": DATA / f"portfolio_{xlsx_rows}.xlsx"}
    if not all(p.exists() for p in paths.values()):
        frame = generate(rows, seed=0)
        if not paths["csv"].exists():
            frame.to_csv(paths["csv"], index=False)
        if not paths["cp932"].exists():
            frame.to_csv(paths["cp932"], index=False, encoding="cp932")
        if not paths["parquet"].exists():
            frame.to_parquet(paths["parquet"], index=False)
        if not paths["xlsx"].exists():
            frame.head(xlsx_rows).to_excel(paths["xlsx"], index=False)
    return paths


_PEAK = """
import sys
from koken.library import load_library
from koken.portfolio.build import read_portfolio
library = load_library(check_examples=False)
read_portfolio(sys.argv[1], library)
kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(kb)
"""


def peak_gb(path: Path) -> float:
    """Peak resident memory (GB) of a new process that reads ``path`` whole (``read_portfolio``)."""
    done = subprocess.run([sys.executable, "-c", _PEAK, str(path)], capture_output=True, text=True, check=True)
    return int(done.stdout.split()[-1]) / 1024 / 1024


def line(name: str, figure: tuple[float, float, float], rows: int, against: tuple[float, float, float] | None = None,
         goal: float | None = None) -> str:
    median, low, high = figure
    text = f"  {name:<52} {median:8.3f} s  ({low:.3f}–{high:.3f})  {median / rows * 1e6:7.2f} µs/row"
    if against is not None:
        ratio = median / against[0]
        text += f"  {ratio:5.2f}×"
        if goal is not None:
            text += f" (goal ≤ {goal:g}×: {'met' if ratio <= goal else 'not met'})"
    return text


def bench_csv_input(paths, library, rows: int, repeat: int) -> None:
    import pyarrow.csv as pcsv

    def koken_reader(path):
        def read():
            source = open_portfolio(path, library, partition_rows=250_000)
            for _part in source.partitions():
                pass
        return read

    def arrow_stream():
        for _batch in pcsv.open_csv(paths["csv"]):
            pass

    stream = timed(arrow_stream, repeat)
    print(f"CSV input — {rows:,} rows, {paths['csv'].stat().st_size / 1e6:,.0f} MB")
    print(line("pyarrow.csv.open_csv (streaming, types inferred)", stream, rows))
    print(line("pyarrow.csv.read_csv (whole, types inferred)", timed(lambda: pcsv.read_csv(paths["csv"]), repeat),
               rows, stream))
    print(line("koken reader, UTF-8 (cells of every partition)", timed(koken_reader(paths["csv"]), repeat), rows,
               stream, goal=2))
    print(line("koken reader, cp932", timed(koken_reader(paths["cp932"]), repeat), rows, stream, goal=2))
    parquet = timed(lambda: read_portfolio(paths["parquet"], library), repeat)
    print(line("koken read_portfolio, Parquet (cells interpreted)", parquet, rows))
    print(line("koken read_portfolio, CSV (cells interpreted)", timed(lambda: read_portfolio(paths["csv"], library),
                                                                      repeat), rows, parquet))
    csv_peak, parquet_peak = peak_gb(paths["csv"]), peak_gb(paths["parquet"])
    print(f"  peak memory of read_portfolio: CSV {csv_peak:.2f} GB, Parquet {parquet_peak:.2f} GB "
          f"({csv_peak / parquet_peak:.2f}×; goal: as Parquet's)")


def bench_output(library, rows: int, repeat: int) -> None:
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    from koken.results import input_texts, row_details
    from koken.scale.sinks import CsvSink, write_results
    from koken.totals import Totals

    path = DATA / f"portfolio_{rows}.parquet"
    if not path.exists():
        generate(rows, seed=0).to_parquet(path, index=False)
    calc = calculate(read_portfolio(path, library), library)
    n = len(calc.table)
    out = DATA / "out"
    out.mkdir(exist_ok=True)
    table = pa.Table.from_pandas(calc.table, preserve_index=False)
    arrow_csv = timed(lambda: pcsv.write_csv(table, out / "arrow.csv"), repeat)
    print(f"Output — {n:,} result rows")
    print(line("pyarrow.csv.write_csv (the result table)", arrow_csv, n))
    print(line("pyarrow.parquet.write_table (the result table)", timed(
        lambda: pq.write_table(table, out / "arrow.parquet"), repeat), n, arrow_csv))
    for suffix, goal in ((".csv", 1.5), (".json", None), (".parquet", None)):
        figure = timed(lambda suffix=suffix: write_results(calc, out / f"results{suffix}"), repeat)
        print(line(f"koken write_results {suffix}", figure, n, arrow_csv, goal))
    # where the CSV result's time goes: its inputs column (koken.results.input_texts) and the writer given it
    inputs = input_texts(calc)
    provenance, totals = calc.provenance(), Totals.from_table(calc.table)

    def csv_sink():
        sink = CsvSink(out / "sink.csv")
        sink.write(calc.table, inputs)
        sink.close(provenance, totals)

    print(line("  of which input_texts (each row's inputs as text)", timed(lambda: input_texts(calc), repeat), n,
               arrow_csv))
    print(line("  of which the CSV writer, inputs given", timed(csv_sink, repeat), n, arrow_csv, 1.5))
    print(line("  JSON: of which row_details (each row's inputs and steps)", timed(lambda: row_details(calc), repeat), n,
               arrow_csv))


def bench_xlsx(paths, library, rows: int, repeat: int) -> None:
    import openpyxl

    def openpyxl_read_only():
        book = openpyxl.load_workbook(paths["xlsx"], read_only=True)
        for ws in book.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    _value, _format = cell.value, cell.number_format
        book.close()

    # the two alternate, run after run, so that a load on a shared machine slows both alike
    times: list[tuple[float, float]] = []
    for _ in range(repeat):
        times.append((timed(openpyxl_read_only, 1)[0], timed(lambda: read_portfolio(paths["xlsx"], library), 1)[0]))
    plain, koken = ((statistics.median(t), min(t), max(t)) for t in zip(*times))
    print(f"XLSX input — {rows:,} rows, {paths['xlsx'].stat().st_size / 1e6:,.1f} MB (runs alternated)")
    print(line("openpyxl read-only (every cell's value and number format)", plain, rows))
    print(line("koken read_portfolio, XLSX", koken, rows, plain, goal=1.5)
          + f"; run by run {', '.join(f'{k / o:.2f}×' for o, k in times)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the CSV and Parquet files")
    parser.add_argument("--write-rows", type=int, default=200_000, help="result rows written")
    parser.add_argument("--xlsx-rows", type=int, default=20_000, help="rows of the workbook")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=("csv", "output", "xlsx"), action="append")
    args = parser.parse_args()
    library = load_library(check_examples=False)
    paths = files(args.rows, args.xlsx_rows)
    print(f"koken input/output benchmark — {platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} cores; median of {args.repeat} (fastest–slowest)")
    only = set(args.only or ("csv", "output", "xlsx"))
    if "csv" in only:
        bench_csv_input(paths, library, args.rows, args.repeat)
    if "output" in only:
        bench_output(library, args.write_rows, args.repeat)
    if "xlsx" in only:
        bench_xlsx(paths, library, args.xlsx_rows, args.repeat)


if __name__ == "__main__":
    main()
