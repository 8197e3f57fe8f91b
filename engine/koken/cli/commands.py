"""The ``koken`` command line (click): each command parses its options, makes one library call and renders.

Commands:
    koken calculate PORTFOLIO   avoided emissions of a portfolio (CSV, Parquet, XLSX or YAML)
    koken validate [PATH]       check methodology files: format, units, formulas, examples
    koken methodologies         list the available methodologies
    koken trace TARGET          how a figure was obtained (portfolio row, or a methodology with --set)
    koken verify RESULT PORT    recompute a result and explain every difference
    koken diff OLD NEW          what changed between two methodology versions, and its effect
    koken lock                  record released methodology versions (validate checks against it)
    koken report RESULTS        the action plan's table (万t-CO2, devices in brackets): terminal, xlsx, md, csv
    koken ratios IO_TABLE       derive device contribution ratios from an input-output table
    koken docs                  write one documentation page per methodology
    koken schema                write the methodology format's JSON Schema

``--methodologies DIR`` (repeatable) adds methodology files or folders to the bundled set; a methodology of
an id already there replaces it, with a note. ``--no-bundled`` leaves the bundled set out.

Exit status: 0 success; 1 the input has problems (every problem is listed, nothing is written);
2 wrong command-line usage.

The library is imported inside each command, so that ``koken --help`` starts without loading it.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import click

from koken.base.version import __version__
from koken.cli import render


def _methodology_options(command):
    """``--methodologies DIR`` (repeatable, adds to the bundled set) and ``--no-bundled``."""
    command = click.option("--no-bundled", is_flag=True,
                           help="Leave the bundled methodologies out (use only --methodologies).")(command)
    return click.option("--methodologies", "methodology_paths", multiple=True,
                        type=click.Path(exists=True, path_type=Path),
                        help="Methodology file or folder added to the bundled set (repeatable); an id already "
                             "there is replaced, with a note.")(command)


def _library(paths: tuple[Path, ...] = (), no_bundled: bool = False, check_examples: bool = True):
    """The library the options ask for, checked as ``koken validate`` checks it; its problems end the command."""
    from koken.library import load_library

    if no_bundled and not paths:
        raise click.UsageError("--no-bundled needs --methodologies DIR")
    with render.reporting():
        library = load_library(list(paths) or None, bundled=not no_bundled, check_examples=check_examples)
    render.notices(library.notices)
    return library


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="koken")
def main() -> None:
    """koken: avoided emissions (削減貢献量) of electric and electronic products, IEC 63372 aligned."""


@main.command()
@click.argument("portfolio", type=click.Path(dir_okay=False, path_type=Path))
@_methodology_options
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write per-row results to FILE (.csv, .json or .parquet).")
@click.option("--encoding", help="CSV text encoding (default: UTF-8, else cp932).")
@click.option("--sheet", help="XLSX sheet name (default: the first sheet).")
@click.option("--allow-stale-factors", is_flag=True,
              help="Where a factor table lacks the row's fiscal year, use its latest earlier year (recorded).")
@click.option("--ratios", "ratio_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Device contribution-ratio file (default: the shipped FY2023-report-implied ratios).")
@click.option("--component-maker", is_flag=True,
              help="The portfolio lists set products containing your devices: report your attributed share "
                   "(role component) beside the enabled total (role enabling).")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="Compute partitions here, or on a Dask cluster (pip install 'koken[dask]').")
@click.option("--scheduler", metavar="ADDRESS",
              help="With --engine dask: a running scheduler (tcp://host:8786); default: start a local cluster.")
@click.option("--workers", type=click.IntRange(1, 1024),
              help="With --engine dask and no --scheduler: local workers (default: one per core).")
@click.option("--partition-rows", type=click.IntRange(100, 100_000_000), default=250_000, show_default=True,
              help="Rows per partition: memory grows with it, and each partition has a fixed cost of some "
                   "tens of milliseconds (below 10,000 rows a large file gets slow). Results do not depend on it.")
def calculate(portfolio: Path, methodology_paths: tuple[Path, ...], no_bundled: bool, output: Path | None,
              encoding: str | None, sheet: str | None, allow_stale_factors: bool, ratio_file: Path | None,
              component_maker: bool, engine: str, scheduler: str | None, workers: int | None,
              partition_rows: int) -> None:
    """Compute single-year and lifetime avoided emissions for every product line of PORTFOLIO
    (.csv, .parquet, .xlsx or .yaml), partition by partition."""
    from koken.api import run

    if (scheduler or workers) and engine != "dask":
        raise click.UsageError("--scheduler and --workers go with --engine dask")
    if scheduler and workers:
        raise click.UsageError("--workers sizes a local cluster; with --scheduler the cluster's own workers are used")
    suffix = portfolio.suffix.lower()
    if encoding and suffix != ".csv":
        raise click.UsageError(f"--encoding applies to CSV files, not {suffix or 'this file'}")
    if sheet and suffix not in (".xlsx", ".xlsm"):
        raise click.UsageError(f"--sheet applies to workbooks (.xlsx), not {suffix or 'this file'}")
    _terminate_cleanly()
    library = _library(methodology_paths, no_bundled)
    with render.reporting(), render.progress_bar() as (on_open, progress):
        result = run(portfolio, library, output=output, engine=engine, scheduler=scheduler, workers=workers,
                     partition_rows=partition_rows, encoding=encoding, sheet=sheet,
                     allow_stale_factors=allow_stale_factors, ratios=ratio_file, component_maker=component_maker,
                     progress=progress, on_open=on_open)
    render.run_summary(result, str(portfolio))
    if component_maker:
        render.component_summary(result)
    if output:
        render.line(f"Results written to {output}")


def _terminate_cleanly() -> None:
    """On SIGTERM (a scheduler or ``timeout`` stopping the run), unwind like Ctrl-C does, so that the
    temporary result file is removed and nothing half-written is left behind."""
    import signal

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    with contextlib.suppress(ValueError):  # not the main thread (embedding): leave signals alone
        signal.signal(signal.SIGTERM, stop)


@main.command("report")
@click.argument("results", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--portfolio", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Calculate this portfolio and report it (instead of, or beside, result files).")
@_methodology_options
@click.option("--ratios", "ratio_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Device contribution-ratio file (default: the shipped FY2023-report-implied ratios).")
@click.option("--fiscal-year", type=int, help="The reporting year, when the results hold several.")
@click.option("--decimals", type=click.IntRange(0, 3), default=0, show_default=True,
              help="Decimals of 万t-CO2 figures on screen and in Markdown (files keep full precision).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to FILE: .xlsx (formatted sheet), .md or .csv.")
def report_command(results: tuple[Path, ...], portfolio: Path | None, methodology_paths: tuple[Path, ...],
                   no_bundled: bool, ratio_file: Path | None, fiscal_year: int | None, decimals: int,
                   output: Path | None) -> None:
    """The action plan's table (万t-CO2, device share in brackets) from RESULTS files or a --portfolio."""
    from koken.api import report

    if not results and portfolio is None:
        raise click.UsageError("give result files (koken calculate --output x.json) or --portfolio")
    library = _library(methodology_paths, no_bundled) if portfolio is not None else None
    with render.reporting(wrote_nothing=output is not None):
        built = report(results, portfolio, library, ratios=ratio_file, fiscal_year=fiscal_year, output=output,
                       decimals=decimals)
    render.report_table(built, decimals)
    if output:
        render.line(f"Report written to {output}")


@main.command("progress")
@click.argument("submissions", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--company", help="Show this company's figures beside the industry's, nothing of another company.")
@click.option("--fiscal-year", type=int, help="Reporting year of the investment table (default: the latest).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write .md, .xlsx or .json (definitions and sources included).")
def progress_command(submissions: tuple[Path, ...], company: str | None, fiscal_year: int | None,
                     output: Path | None) -> None:
    """Action-plan progress (生産プロセス): energy intensity against the commit target and CO2 against the
    challenge target, per company; with several SUBMISSIONS, the industry's tables."""
    from koken.api import progress

    with render.reporting(wrote_nothing=output is not None):
        view = progress(submissions, company=company, fiscal_year=fiscal_year, output=output)
    render.progress_view(view)
    if output:
        render.line(f"Progress written to {output}")


@main.command()
@click.argument("subject", type=click.Choice(["progress"]))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The workbook to write (.xlsx).")
def template(subject: str, output: Path) -> None:
    """Write a template to fill in Excel: `progress` is the action-plan submission (提出 sheet and 説明)."""
    from koken.api import submission_template

    with render.reporting():
        submission_template(output)
    render.line(f"Template written to {output}: fill the 提出 submission sheet, then run koken progress {output}")


@main.command()
@click.argument("io_table", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--edition-year", type=int, required=True, help="Year of the input-output table (e.g. 2015).")
@click.option("--device-sectors", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="YAML of device rows and classes (default: attribution/device_sectors.yaml).")
@click.option("--sector-map", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="YAML methodology → set-product column (default: attribution/sector_map.yaml).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The ratio file to write (.yaml), for --ratios.")
def ratios(io_table: Path, edition_year: int, device_sectors: Path | None, sector_map: Path | None,
           output: Path) -> None:
    """Derive contribution ratios (device input ÷ domestic production) from an input-output table."""
    from koken.attribution import write_ratio_file

    with render.reporting():
        document = write_ratio_file(io_table, edition_year, output, device_sectors, sector_map)
    render.line(f"{len(document['entries'])} ratios written to {output}")


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
def validate(paths: tuple[Path, ...]) -> None:
    """Check methodology files or folders (default: the bundled methodologies/): every problem in every file."""
    from koken.base.paths import methodologies_dir
    from koken.library import scan_library

    scan = scan_library(list(paths) or None, bundled=not paths)
    if scan.problems:
        render.problems(scan.problems, wrote_nothing=False)
        raise SystemExit(1)
    if not scan.files:
        render.line(f"No methodology files under {', '.join(map(str, paths)) or methodologies_dir()}", stderr=True)
        raise SystemExit(1)
    render.validation(scan)


@main.command()
@_methodology_options
def methodologies(methodology_paths: tuple[Path, ...], no_bundled: bool) -> None:
    """List the available methodologies with their functional units and parameters."""
    render.methodology_tables(_library(methodology_paths, no_bundled))


@main.command()
@click.argument("result", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("portfolio", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_methodology_options
def verify(result: Path, portfolio: Path, methodology_paths: tuple[Path, ...], no_bundled: bool) -> None:
    """Recompute RESULT (a koken JSON result) from PORTFOLIO and explain every difference.

    Exit status 0: the result stands; 1: a figure differs or the inputs no longer compute.
    """
    from koken.audit.verify import report
    from koken.audit.verify import verify as run

    # worked examples are not run here: a changed factor table fails them, and verify must name it instead
    library = _library(methodology_paths, no_bundled, check_examples=False)
    with render.reporting(wrote_nothing=False):
        outcome = run(result, portfolio, library)
    for text in report(outcome):
        render.line(text)
    raise SystemExit(0 if outcome.stands else 1)


@main.command()
@click.argument("old", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--portfolio", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Also show the change in this portfolio's totals.")
def diff(old: Path, new: Path, portfolio: Path | None) -> None:
    """What changed from methodology file OLD to NEW (formulas compared symbolically) and its effect."""
    from koken.audit.diff import compare

    library = _library() if portfolio else None
    with render.reporting(wrote_nothing=False):
        comparison = compare(old, new, portfolio, library)
    for text in comparison.lines(portfolio):
        render.line(text)


@main.command()
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
def lock(path: Path | None) -> None:
    """Record the current methodology versions and content hashes in methodologies/versions.lock."""
    from koken.library import lock_library

    with render.reporting():
        added, lock_file = lock_library(path)
    render.line(f"{added} version(s) added to {lock_file}")


@main.command()
@click.argument("target")
@click.option("--row", "rows", type=int, multiple=True, help="File row to trace (repeatable; default: every row).")
@click.option("--set", "settings", multiple=True, metavar="NAME=VALUE UNIT",
              help="With a methodology id: an input, e.g. --set 'baseline_annual_energy=420 kWh/yr'.")
@click.option("--region", help="With a methodology id: region for factor-table lookups (e.g. JP).")
@click.option("--fiscal-year", type=int, help="With a methodology id: fiscal year for factor-table lookups.")
@click.option("--depth", type=click.IntRange(min=0), help="Levels of the tree to show (default: all).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE.")
@_methodology_options
@click.option("--encoding", help="CSV text encoding of a portfolio.")
@click.option("--sheet", help="XLSX sheet of a portfolio.")
def trace(target: str, rows: tuple[int, ...], settings: tuple[str, ...], region: str | None,
          fiscal_year: int | None, depth: int | None, fmt: str, output: Path | None,
          methodology_paths: tuple[Path, ...], no_bundled: bool, encoding: str | None, sheet: str | None) -> None:
    """Show how figures were obtained: TARGET is a portfolio file (with --row) or a methodology id (with --set)."""
    from koken.api import refuse_overwrite, trace_target
    from koken.audit.trace import render as render_traces
    from koken.base.files import atomic_write

    library = _library(methodology_paths, no_bundled)
    with render.reporting(wrote_nothing=output is not None):
        traces = trace_target(target, library, rows=rows, settings=settings, region=region, fiscal_year=fiscal_year,
                              encoding=encoding, sheet=sheet)
        text = render_traces(traces, fmt, depth)
        if output:
            refuse_overwrite(output, [target])
            atomic_write(output, text.encode("utf-8"))
    if output:
        render.line(f"Trace of {len(traces)} line(s) written to {output}")
    else:
        click.echo(text, nl=False)


@main.command()
@click.option("--output", "-o", type=click.Path(file_okay=False, path_type=Path), default=Path("docs/methodologies"),
              show_default=True, help="Folder for the generated pages.")
@_methodology_options
def docs(output: Path, methodology_paths: tuple[Path, ...], no_bundled: bool) -> None:
    """Write one documentation page per methodology (formulas as MathML from their sympy trees), the index
    and the navigation of the pages by category (SUMMARY.md)."""
    from koken.reporting.methodology_pages import write_pages

    library = _library(methodology_paths, no_bundled)
    with render.reporting():
        written = write_pages(library, output)
    render.line(f"{len(written)} pages written to {output}")


@main.command()
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to FILE instead of standard output.")
def schema(output: Path | None) -> None:
    """Print the JSON Schema of the methodology format (for editor completion)."""
    from koken.base.files import atomic_write
    from koken.methodology.json_schema import schema_json

    text = schema_json()
    if output:
        with render.reporting():
            atomic_write(output, text.encode("utf-8"))
    else:
        click.echo(text, nl=False)


if __name__ == "__main__":  # pragma: no cover
    main()
