"""The ``koken`` command line (click + rich).

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

Exit status: 0 success; 1 the input has problems (every problem is listed, nothing is written);
2 wrong command-line usage.
"""

from __future__ import annotations

import collections
import contextlib
import sys
from pathlib import Path

import click

from koken.base.version import __version__


def _console(stderr: bool = False):
    """A rich console; when not attached to a terminal (pipes, CI logs) tables get 200 columns, not 80."""
    from rich.console import Console

    console = Console(stderr=stderr, highlight=False, soft_wrap=True)
    if not console.is_terminal:
        console = Console(stderr=stderr, highlight=False, soft_wrap=True, width=200)
    return console


def _report_problems(errors, wrote_nothing: bool = True) -> None:
    console = _console(stderr=True)
    tail = "; nothing was written." if wrote_nothing else "."
    console.print(f"[bold red]{len(errors)} problem(s) found{tail}[/]")
    for err in errors[:MAX_LISTED_PROBLEMS]:
        console.print(f"  - {_printable(str(err))}", markup=False)
    if len(errors) > MAX_LISTED_PROBLEMS:
        kinds = collections.Counter(_kind(err) for err in errors[MAX_LISTED_PROBLEMS:])
        console.print(f"  … and {len(errors) - MAX_LISTED_PROBLEMS:,} more, not listed; by kind:", markup=False)
        for kind, count in kinds.most_common(20):
            console.print(f"    {count:,} × {_printable(kind)}", markup=False)


MAX_LISTED_PROBLEMS = 500
"""Problems listed one by one; the rest are counted by kind (a 30,000-row file with one bad column)."""


def _kind(err) -> str:
    """A problem's message without its numbers and quoted values, to count problems of one kind."""
    import re

    column = f" (column {err.location.column})" if getattr(err.location, "column", None) else ""
    return re.sub(r"'[^']*'|\d[\d.,e+-]*", "…", err.message)[:160] + column


def _printable(text: str) -> str:
    """Control characters from input files (terminal escapes) shown as \\x.. instead of being obeyed."""
    return "".join(ch if ch in "\t" or not (ord(ch) < 32 or 127 <= ord(ch) < 160) else f"\\x{ord(ch):02x}"
                   for ch in text)


@contextlib.contextmanager
def _reporting(wrote_nothing: bool = True):
    """Turn koken's input errors into the listed problems and exit status 1 (never a traceback)."""
    from koken.base.errors import KokenError, KokenErrors

    try:
        yield
    except KokenErrors as errs:
        _report_problems(errs.errors, wrote_nothing=wrote_nothing)
        sys.exit(1)
    except KokenError as err:
        _report_problems([err], wrote_nothing=wrote_nothing)
        sys.exit(1)


def _library(root: Path | None, check_examples: bool = True):
    """Load methodologies, run their worked examples (a file failing its own examples is not used) and
    check the version lock (a released version whose content changed is not used)."""
    from koken.methodology.lock import check_lock, lock_path
    from koken.methodology.compile import load_library
    from koken.base.paths import methodologies_dir

    library, problems = load_library(root, check_examples=check_examples)
    lock_errors, _warnings = check_lock(library, lock_path(root or methodologies_dir()))
    problems = problems + lock_errors
    if problems:
        _report_problems(problems)
        sys.exit(1)
    return library


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="koken")
def main() -> None:
    """koken: avoided emissions (削減貢献量) of electric and electronic products, IEC 63372 aligned."""


@main.command()
@click.argument("portfolio", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--methodologies", "methodology_root", type=click.Path(exists=True, path_type=Path),
              help="Methodology folder or file (default: the bundled methodologies/).")
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
def calculate(portfolio: Path, methodology_root: Path | None, output: Path | None, encoding: str | None,
              sheet: str | None, allow_stale_factors: bool, ratio_file: Path | None, component_maker: bool,
              engine: str, scheduler: str | None, workers: int | None, partition_rows: int) -> None:
    """Compute single-year and lifetime avoided emissions for every product line of PORTFOLIO
    (.csv, .parquet, .xlsx or .yaml), partition by partition."""
    from koken.attribution import load_ratio_file
    from koken.base.errors import KokenError, Location
    from koken.run.pipeline import run
    from koken.portfolio.readers import open_portfolio

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
    library = _library(methodology_root)
    with _reporting():
        if output is not None and output.exists() and output.resolve() == portfolio.resolve():
            raise KokenError("the output would overwrite the portfolio: choose another --output file",
                             Location(file=str(output)))
        ratios = load_ratio_file(ratio_file)
        source = open_portfolio(portfolio, library, encoding=encoding, sheet=sheet, partition_rows=partition_rows)
        options = {"encoding": encoding, "sheet": sheet,
                   "methodologies": str(methodology_root) if methodology_root else "bundled",
                   "allow_stale_factors": allow_stale_factors or None,
                   "device_ratios": f"{ratios.id} ({ratios.path}, {ratios.content_hash})",
                   "mode": "component_maker" if component_maker else None}
        with _progress(source) as progress:
            result = run(source, library, ratios, options, output=output, engine=engine, scheduler=scheduler,
                         workers=workers, progress=progress)
    _print_summary(result, source.path)
    if component_maker:
        _print_component_summary(result)
    if output:
        _console().print(f"Results written to {output}", markup=False)


def _terminate_cleanly() -> None:
    """On SIGTERM (a scheduler or ``timeout`` stopping the run), unwind like Ctrl-C does, so that the
    temporary result file is removed and nothing half-written is left behind."""
    import signal

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    with contextlib.suppress(ValueError):  # not the main thread (embedding): leave signals alone
        signal.signal(signal.SIGTERM, stop)


@contextlib.contextmanager
def _progress(source):
    """A progress bar on stderr for long runs (by input bytes read); nothing when stderr is not a terminal."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    console = _console(stderr=True)
    if not console.is_terminal:
        yield None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TextColumn("{task.fields[rows]}"),
                  TimeRemainingColumn(), console=console, transient=True) as bar:
        task = bar.add_task(Path(source.path).name, total=source.total_bytes, rows="")
        yield lambda rows, read: bar.update(task, completed=read, rows=f"{rows:,} lines")


def _print_summary(result, path: str) -> None:
    """Tables by methodology (t-CO2e) and by category (万t-CO2e), and totals, per fiscal year."""
    from rich.table import Table

    console = _console()
    totals = result.totals
    years = [str(y) for y in totals.summarise(["fiscal_year"])["fiscal_year"]]
    console.print(f"[bold]koken {__version__}[/] — {_printable(path)}: {result.rows} product lines, "
                  f"fiscal year(s) {', '.join(years)}")
    by_m = totals.summarise(["fiscal_year", "category", "methodology", "market"])
    t = Table(title="Avoided emissions by methodology (t-CO2e)")
    for col, justify in (("FY", "left"), ("category", "left"), ("methodology", "left"), ("version", "left"),
                         ("market", "left"), ("lines", "right"), ("single-year", "right"), ("lifetime", "right")):
        t.add_column(col, justify=justify)
    for r in by_m.to_dict(orient="records"):
        t.add_row(str(r["fiscal_year"]), r["category"], r["methodology"], result.methodologies[r["methodology"]].version,
                  r["market"], str(r["product_lines"]), f"{r['single_year[t-CO2e]']:,.1f}",
                  f"{r['lifetime[t-CO2e]']:,.1f}")
    console.print(t)
    by_c = totals.summarise(["fiscal_year", "category", "market"])
    t = Table(title="Avoided emissions by category (万t-CO2e)")
    for col, justify in (("FY", "left"), ("category", "left"), ("market", "left"), ("single-year", "right"),
                         ("lifetime", "right")):
        t.add_column(col, justify=justify)
    for r in by_c.to_dict(orient="records"):
        t.add_row(str(r["fiscal_year"]), r["category"], r["market"], f"{r['single_year[万t-CO2e]']:,.2f}",
                  f"{r['lifetime[万t-CO2e]']:,.2f}")
    console.print(t)
    for r in totals.summarise(["fiscal_year"]).to_dict(orient="records"):
        console.print(f"FY{r['fiscal_year']} total single-year: {r['single_year[t-CO2e]']:,.1f} t-CO2e "
                      f"({r['single_year[万t-CO2e]']:,.2f} 万t-CO2e); lifetime: {r['lifetime[t-CO2e]']:,.1f} t-CO2e "
                      f"({r['lifetime[万t-CO2e]']:,.2f} 万t-CO2e).")
    console.print("Single-year and lifetime are separate timeframes, and fiscal years are kept apart: they are "
                  "never added together. Avoided emissions are reported apart from Scope 1-3 and never netted "
                  "against them.")


def _print_component_summary(result) -> None:
    """Component-maker view: the attributed device share beside the enabled set-product total."""
    from rich.table import Table

    totals = result.totals
    single = tuple(totals.columns("device_single_year:"))
    lifetime = tuple(totals.columns("device_lifetime:"))
    by_market = totals.summarise(["fiscal_year", "market"], figures=("single_year[t-CO2e]", "lifetime[t-CO2e]",
                                                                      *single, *lifetime))
    t = Table(title="Component maker: attributed share (role: component) beside the enabled total "
                    "(role: enabling), t-CO2e")
    for col in ("FY", "market", "enabled single-year", "attributed single-year", "enabled lifetime",
                "attributed lifetime"):
        t.add_column(col, justify="right" if "single" in col or "lifetime" in col else "left")
    for r in by_market.to_dict(orient="records"):
        t.add_row(str(r["fiscal_year"]), r["market"], f"{r['single_year[t-CO2e]']:,.1f}",
                  f"{sum(r[c] for c in single):,.1f}", f"{r['lifetime[t-CO2e]']:,.1f}",
                  f"{sum(r[c] for c in lifetime):,.1f}")
    _console().print(t)
    _console().print("The attributed share is part of the enabled total (内数); the two are never added.")


@main.command("report")
@click.argument("results", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--portfolio", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Calculate this portfolio and report it (instead of, or beside, result files).")
@click.option("--ratios", "ratio_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Device contribution-ratio file (default: the shipped FY2023-report-implied ratios).")
@click.option("--fiscal-year", type=int, help="The reporting year, when the results hold several.")
@click.option("--decimals", type=click.IntRange(0, 3), default=0, show_default=True,
              help="Decimals of 万t-CO2 figures on screen and in Markdown (files keep full precision).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to FILE: .xlsx (formatted sheet), .md or .csv.")
def report_command(results: tuple[Path, ...], portfolio: Path | None, ratio_file: Path | None,
                   fiscal_year: int | None, decimals: int, output: Path | None) -> None:
    """The action plan's table (万t-CO2, device share in brackets) from RESULTS files or a --portfolio."""
    from rich.table import Table

    from koken.attribution import load_ratio_file
    from koken.results import atomic_write, result_document
    from koken.report.action_plan import build_report, load_result_documents, notes_lines, presentation, to_csv, to_markdown, to_xlsx

    if not results and portfolio is None:
        raise click.UsageError("give result files (koken calculate --output x.json) or --portfolio")
    with _reporting(wrote_nothing=output is not None):
        ratios = load_ratio_file(ratio_file)
        documents = load_result_documents(results)
        if portfolio is not None:
            from koken.calculate import calculate as run
            from koken.portfolio.build import read_portfolio

            library = _library(None)
            documents.append({**result_document(run(read_portfolio(portfolio, library, collect=True), library)),
                              "_path": str(portfolio)})
        report = build_report(documents, ratios, fiscal_year)
        if output:
            suffix = output.suffix.lower()
            if suffix == ".xlsx":
                data = to_xlsx(report)
            elif suffix == ".md":
                data = to_markdown(report, decimals).encode("utf-8")
            elif suffix == ".csv":
                data = to_csv(report).encode("utf-8-sig")
            else:
                from koken.base.errors import KokenError

                raise KokenError(f"unsupported report type {suffix!r}: use .xlsx, .md or .csv")
            atomic_write(output, data)
    console = _console()
    shown = presentation(report, decimals)
    t = Table(title=f"削減貢献量 / Avoided emissions, FY{report.fiscal_year} (万t-CO2; devices in brackets)")
    for col in shown.columns:
        t.add_column(col, justify="left" if col in ("分野", "category") else "right")
    for row in shown.itertuples(index=False):
        t.add_row(*[str(v) for v in row])
    console.print(t)
    for line in notes_lines(report):
        console.print(f"- {line}", markup=False)
    if output:
        console.print(f"Report written to {output}", markup=False)


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
    import yaml

    from koken.attribution import derive_ratios, load_ratio_file
    from koken.results import atomic_write

    with _reporting():
        document = derive_ratios(io_table, edition_year, device_sectors, sector_map)
        header = (f"# Contribution ratios derived by `koken ratios` from {io_table.name} ({edition_year} table):\n"
                  "# direct input coefficients r = X[device -> sector] / X[sector], per methodology.\n")
        atomic_write(output, (header + yaml.safe_dump(document, allow_unicode=True, sort_keys=False)).encode("utf-8"))
        load_ratio_file(output)  # what was written must read back as a ratio file
    _console().print(f"{len(document['entries'])} ratios written to {output}", markup=False)


@main.command()
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
def validate(path: Path | None) -> None:
    """Check methodology files (default: the bundled methodologies/): every problem in every file."""
    from koken.methodology.compile import find_methodology_files, load_library
    from koken.base.paths import methodologies_dir

    root = path or methodologies_dir()
    files = find_methodology_files(root)
    library, problems = load_library(root, check_examples=True)
    from koken.methodology.lock import check_lock, lock_path

    unchecked, _ = load_library(root, check_examples=False)  # files failing examples still face the lock
    lock_errors, lock_warnings = check_lock(unchecked, lock_path(root))
    problems = problems + lock_errors
    if problems:
        _report_problems(problems, wrote_nothing=False)
        sys.exit(1)
    if not files:
        _console(stderr=True).print(f"No methodology files under {root}", markup=False)
        sys.exit(1)
    console = _console()
    for m in sorted(library.values(), key=lambda m: (m.category, m.id)):
        checks = " and its checks" if m.spec.checks else ""
        console.print(f"ok  {m.category}/{m.id} {m.version}  ({len(m.spec.examples)} examples{checks} pass)",
                      markup=False)
    warnings = [w for m in library.values() for w in m.warnings] + lock_warnings
    for w in warnings:
        console.print(f"warning: {w}", markup=False)
    console.print(f"{len(library)} methodologies valid" + (f", {len(warnings)} warning(s)." if warnings else "."))


@main.command()
@click.option("--methodologies", "methodology_root", type=click.Path(exists=True, path_type=Path),
              help="Methodology folder (default: the bundled methodologies/).")
def methodologies(methodology_root: Path | None) -> None:
    """List the available methodologies with their functional units and parameters."""
    from rich.table import Table

    library = _library(methodology_root)
    console = _console()
    t = Table(title="Methodologies")
    for col in ("id", "version", "category", "functional unit", "baseline", "title"):
        t.add_column(col)
    for m in sorted(library.values(), key=lambda m: (m.category, m.id)):
        t.add_row(m.id, m.version, m.category, m.spec.functional_unit.unit, m.spec.baseline.type,
                  f"{m.spec.title.en} / {m.spec.title.ja}")
    console.print(t)
    for m in sorted(library.values(), key=lambda m: (m.category, m.id)):
        t = Table(title=f"{m.id}: portfolio columns")
        for col in ("column", "unit", "default", "aliases"):
            t.add_column(col)
        for p in m.parameters.values():
            if p.default is not None:
                default = f"{p.default:g} ({p.default_source})"
            elif p.factor_table is not None:
                default = f"factor table {p.factor_table.id} (a portfolio value overrides)"
            else:
                default = "required"
            t.add_row(p.name, p.unit_text, default, ", ".join(p.aliases))
        console.print(t)


@main.command()
@click.argument("result", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("portfolio", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--methodologies", "methodology_root", type=click.Path(exists=True, path_type=Path),
              help="Methodology folder (default: the bundled methodologies/).")
def verify(result: Path, portfolio: Path, methodology_root: Path | None) -> None:
    """Recompute RESULT (a koken JSON result) from PORTFOLIO and explain every difference.

    Exit status 0: the result stands; 1: a figure differs or the inputs no longer compute.
    """
    from koken.audit.verify import report, verify as run

    # worked examples are not run here: a changed factor table fails them, and verify must name it instead
    library = _library(methodology_root, check_examples=False)
    with _reporting(wrote_nothing=False):
        outcome = run(result, portfolio, library)
    for line in report(outcome):
        _console().print(line, markup=False)
    sys.exit(0 if outcome.stands else 1)


@main.command()
@click.argument("old", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--portfolio", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Also show the change in this portfolio's totals.")
def diff(old: Path, new: Path, portfolio: Path | None) -> None:
    """What changed from methodology file OLD to NEW (formulas compared symbolically) and its effect."""
    from koken.audit.diff import diff_methodologies, example_effects, load_pair, portfolio_effect

    with _reporting(wrote_nothing=False):
        a, b = load_pair(old, new)
        changes = diff_methodologies(a, b)
        effects = example_effects(a, b)
        totals = portfolio_effect(a, b, portfolio, _library(None)) if portfolio else []
    console = _console()
    console.print(f"{a.id} {a.version} → {b.id} {b.version}", markup=False)
    for line in changes or ["no change in content"]:
        console.print(f"  {line}", markup=False)
    if effects:
        console.print("Effect on the old file's examples:", markup=False)
        for line in effects:
            console.print(f"  {line}", markup=False)
    if totals:
        console.print(f"Effect on {portfolio} ({a.id} rows):", markup=False)
        for line in totals:
            console.print(f"  {line}", markup=False)


@main.command()
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
def lock(path: Path | None) -> None:
    """Record the current methodology versions and content hashes in methodologies/versions.lock."""
    from koken.methodology.lock import lock_path, write_lock
    from koken.methodology.compile import load_library
    from koken.base.paths import methodologies_dir

    root = path or methodologies_dir()
    library, problems = load_library(root, check_examples=True)
    if problems:
        _report_problems(problems, wrote_nothing=True)
        sys.exit(1)
    with _reporting():
        added = write_lock(library, lock_path(root))
    _console().print(f"{added} version(s) added to {lock_path(root)}", markup=False)


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
@click.option("--methodologies", "methodology_root", type=click.Path(exists=True, path_type=Path),
              help="Methodology folder (default: the bundled methodologies/).")
@click.option("--encoding", help="CSV text encoding of a portfolio.")
@click.option("--sheet", help="XLSX sheet of a portfolio.")
def trace(target: str, rows: tuple[int, ...], settings: tuple[str, ...], region: str | None,
          fiscal_year: int | None, depth: int | None, fmt: str, output: Path | None,
          methodology_root: Path | None, encoding: str | None, sheet: str | None) -> None:
    """Show how figures were obtained: TARGET is a portfolio file (with --row) or a methodology id (with --set)."""
    import json

    from koken.base.errors import KokenError
    from koken.audit.trace import render_markdown, render_text

    library = _library(methodology_root)
    with _reporting(wrote_nothing=output is not None):
        if Path(target).is_file():
            if settings or region or fiscal_year:
                raise KokenError("--set, --region and --fiscal-year go with a methodology id, not a portfolio")
            from koken.calculate import calculate as run
            from koken.portfolio.build import read_portfolio
            from koken.audit.trace import trace_portfolio

            calc = run(read_portfolio(target, library, encoding=encoding, sheet=sheet, collect=True), library)
            traces = trace_portfolio(calc, list(rows) or None)
        elif target in library:
            traces = [_trace_settings(library[target], list(settings), region, fiscal_year)]
        else:
            import difflib

            hint = difflib.get_close_matches(target, list(library), n=1)
            raise KokenError(f"{target!r} is neither a portfolio file nor a methodology id"
                             + (f"; did you mean {hint[0]!r}?" if hint else ""))
    if fmt == "json":
        text = json.dumps([t.to_dict(depth) for t in traces], ensure_ascii=False, indent=2) + "\n"
    elif fmt == "markdown":
        text = render_markdown(traces)
    else:
        text = "\n\n".join("\n".join(render_text(t, depth)) for t in traces) + "\n"
    if output:
        from koken.results import atomic_write

        with _reporting():
            atomic_write(output, text.encode("utf-8"))
        _console().print(f"Trace of {len(traces)} line(s) written to {output}", markup=False)
    else:
        click.echo(text, nl=False)


def _trace_settings(m, settings: list[str], region: str | None, fiscal_year: int | None):
    """One calculation from --set values (factor tables fill what is not set, by --region/--fiscal-year)."""
    import numpy as np

    from koken.base.errors import KokenErrors
    from koken.factors import fill_from_tables
    from koken.audit.trace import TraceInput, parse_settings, trace_calculation
    from koken.base.units import registry

    inputs, shipped = parse_settings(m, settings)
    arrays = {k: registry().Quantity(np.array([float(v.quantity.magnitude)]), v.quantity.units)
              for k, v in inputs.items()}
    filled, origins, problems, _ = fill_from_tables(m.parameters, arrays, np.array([region or ""], dtype=object),
                                                    np.array([fiscal_year or 0]), 1, lambda i: None)
    for name, origin in origins.items():
        if origin.from_table[0]:
            table = m.parameters[name].factor_table
            entry = next(e for k, e in table.index.items() if " ".join(str(x) for x in k) == origin.keys[0])
            inputs[name] = TraceInput(registry().Quantity(entry.value, table.unit), {
                "source": "factor table", "table": table.id,
                "key": dict(zip(table.spec.keys, str(origin.keys[0]).split(" "))), "source_id": entry.source,
                "title": next(s.title for s in table.spec.sources if s.id == entry.source),
                "publisher": next(s.publisher for s in table.spec.sources if s.id == entry.source),
                "year": next(s.year for s in table.spec.sources if s.id == entry.source)})
    missing_factor = [p for p in problems if "has no region" not in str(p) or region]
    if missing_factor and any(n not in inputs for n, p in m.parameters.items() if p.factor_table is not None):
        raise KokenErrors(missing_factor)
    context = {"source": "command line", "region": region, "fiscal_year": fiscal_year}
    return trace_calculation(m, inputs, shipped, context)


@main.command()
@click.option("--output", "-o", type=click.Path(file_okay=False, path_type=Path), default=Path("docs/methodologies"),
              show_default=True, help="Folder for the generated pages.")
@click.option("--methodologies", "methodology_root", type=click.Path(exists=True, path_type=Path),
              help="Methodology folder (default: the bundled methodologies/).")
def docs(output: Path, methodology_root: Path | None) -> None:
    """Write one documentation page per methodology (formulas as LaTeX from their sympy trees)."""
    from koken.report.methodology_pages import write_pages

    library = _library(methodology_root)
    with _reporting():
        written = write_pages(library, output)
    _console().print(f"{len(written)} pages written to {output}", markup=False)


@main.command()
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to FILE instead of standard output.")
def schema(output: Path | None) -> None:
    """Print the JSON Schema of the methodology format (for editor completion)."""
    from koken.methodology.json_schema import schema_json

    text = schema_json()
    if output:
        from koken.results import atomic_write

        with _reporting():
            atomic_write(output, text.encode("utf-8"))
    else:
        click.echo(text, nl=False)


if __name__ == "__main__":  # pragma: no cover
    main()
