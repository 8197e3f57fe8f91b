"""The ``koken`` command line (click): each command parses its options, makes one library call and renders.

Commands:
    koken calculate PORTFOLIO   avoided emissions of a portfolio (CSV, Parquet, XLSX or YAML)
    koken validate [PATH]       check methodology files: format, units, formulas, examples
    koken methodologies         list the available methodologies
    koken factors [TABLE]       the factor tables, or a table's entries with basis, status and source
    koken trace TARGET          how a figure was obtained (portfolio row, or a methodology with --set)
    koken verify RESULT PORT    recompute a result and explain every difference
    koken diff OLD NEW          what changed between two methodology versions, and its effect
    koken lock                  record released methodology versions (validate checks against it)
    koken report INPUTS         the action plan's table (万t-CO2e, devices in brackets): terminal, html, xlsx, md, csv
    koken ratios IO_TABLE       derive device contribution ratios from an input-output table
    koken sensitivity METHOD    tornado table and Sobol indices of a methodology around a worked example
    koken docs                  write one documentation page per methodology
    koken schema                write the methodology format's JSON Schema
    koken claim RESULT --gates  the claim statement of a figure, with its disclosure bundle
    koken server start|stop     a resident koken that runs later commands without starting again (status too)

``--methodologies DIR`` (repeatable) adds methodology files or folders to the bundled set; a methodology of
an id already there replaces it, with a note. ``--no-bundled`` leaves the bundled set out.

Exit status: 0 success; 1 the input has problems (every problem is listed, nothing is written);
2 wrong command-line usage.

The library is imported inside each command, so that ``koken --help`` starts without loading it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import click

from koken.base.i18n import ENVIRONMENT_VARIABLE, LANGUAGES, _, set_language
from koken.base.text import printable
from koken.base.version import __version__
from koken.base.vocabulary import CATEGORIES, MARKETS
from koken.cli import render
from koken.cli.helptext import TranslatedGroup, language_in


def _methodology_options(command):
    """``--methodologies DIR`` (repeatable, adds to the bundled set) and ``--no-bundled``."""
    command = click.option("--no-bundled", is_flag=True,
                           help="Leave the bundled methodologies out (use only --methodologies).")(command)
    return click.option("--methodologies", "methodology_paths", multiple=True,
                        type=click.Path(exists=True, path_type=Path),
                        help="Methodology file or folder added to the bundled set (repeatable); an id already "
                             "there is replaced, with a note.")(command)


_PRELOADED: dict[tuple[str, bool], object] = {}
"""In a ``koken server`` only: the bundled library by (language, lazy), loaded before any command is forked."""


def preload_libraries() -> None:
    """Load the bundled library (examples checked; eager and lazy, every methodology compiled) in the current
    language, for the commands a ``koken server`` forks (:mod:`koken.cli.server`, which checks before each command
    that no file changed since). Raises what :func:`koken.library.load_library` raises."""
    from koken.base.i18n import current_language
    from koken.library import load_library

    for lazy in (False, True):
        library = load_library(None, bundled=True, check_examples=True, lazy=lazy)
        for mid in library:  # compiled here once, kernels too, not in each command
            for step in library[mid].steps:
                compile_now = getattr(step.function, "compile", None)
                if compile_now is not None:
                    compile_now()
        _PRELOADED[(current_language(), lazy)] = library


def _library(paths: tuple[Path, ...] = (), no_bundled: bool = False, check_examples: bool = True,
             lazy: bool = False):
    """The library the options ask for, checked as ``koken validate`` checks it; its problems end the command.
    ``lazy``: every file's format is checked now, and a methodology is compiled and checked when it is used
    (``koken calculate``; :func:`koken.library.load_library`). In a ``koken server``, the bundled library it
    loaded (:func:`preload_libraries`)."""
    from koken.base.i18n import current_language
    from koken.library import load_library

    if no_bundled and not paths:
        raise click.UsageError(_("--no-bundled needs --methodologies DIR"))
    library = _PRELOADED.get((current_language(), lazy)) if not paths and check_examples else None
    if library is None:
        with render.reporting():
            library = load_library(list(paths) or None, bundled=not no_bundled, check_examples=check_examples,
                                   lazy=lazy)
    render.notices(library.notices)
    return library


def _choose_language(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """``--lang``: messages, tables and reports in that language from here on (Dask workers started by this
    command inherit it through ``KOKEN_LANG``)."""
    if value:
        os.environ[ENVIRONMENT_VARIABLE] = set_language(value)


def _language_option() -> click.Option:
    return click.Option(["--lang"], type=click.Choice(LANGUAGES, case_sensitive=False), is_eager=True,
                        expose_value=False,
                        callback=_choose_language,
                        help="Language of messages, tables and reports: ja or en (default: $KOKEN_LANG, else the "
                             "locale's language).")


class _Commands(TranslatedGroup):
    """koken's command group: help and usage errors in the chosen language (helptext, render.usage_error);
    ``--lang`` is read before click parses, which shows the help as soon as it meets ``--help``."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        chosen = language_in(sys.argv[1:] if args is None else list(args))
        if chosen:
            _choose_language(None, None, chosen)
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.UsageError as err:
            render.usage_error(err)
            sys.exit(err.exit_code)
        except click.ClickException as err:
            render.line(_("Error: {message}").format(message=err.format_message()), stderr=True)
            sys.exit(err.exit_code)
        except click.Abort:
            render.line(_("Aborted."), stderr=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="koken")
def main() -> None:
    """koken: avoided emissions (削減貢献量) of electric and electronic products, IEC 63372 aligned."""


@main.command()
@click.argument("portfolio", type=click.Path(dir_okay=False, path_type=Path))
@_methodology_options
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write per-row results to FILE (.csv, .json, .parquet or .xlsx).")
@click.option("--encoding", help="CSV text encoding (default: UTF-8, else cp932).")
@click.option("--sheet", "sheets", multiple=True,
              help="Workbook sheet to read (repeatable; default: every visible sheet holding a portfolio).")
@click.option("--header-row", type=click.IntRange(1, 1_048_576),
              help="The header's row in a CSV file or in each sheet (default: found below title and note rows).")
@click.option("--allow-stale-factors", is_flag=True,
              help="Where a factor table lacks the row's fiscal year, use its latest earlier year (recorded).")
@click.option("--gwp-rule", metavar="RULE",
              help="Which GWP set converts gases to CO2e, by fiscal year: ar4, ar5 or ar6 (factors/rules/gwp.yaml; "
                   "default ar5), or declared: gwp100_ar4,gwp100_ar5@2024 (AR4 before FY2024, AR5 from it).")
@click.option("--ratios", "ratio_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Device contribution-ratio file (default: the shipped FY2023-report-implied ratios).")
@click.option("--component-maker", is_flag=True,
              help="The portfolio lists set products containing your devices: report your attributed share "
                   "(role component) beside the enabled total (role enabling).")
@click.option("--installed-base", "installed_base_year", type=click.IntRange(1990, 2100), metavar="YEAR",
              help="Also compute the installed-base annual figure of reporting year YEAR: one year of operation of "
                   "every unit shipped in the portfolio's fiscal years up to YEAR still in service, at YEAR's factors.")
@click.option("--survival", metavar="RULE",
              help="With --installed-base: how long units stay in service, 'operating_years' (default: each row's) "
                   "or 'weibull:shape=K,scale=YEARS'.")
@click.option("--customer-data", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="FILE",
              help="Customer data (.csv, .xlsx: customer factor with supplier/menu/period, renewable share with the "
                   "residual-mix factor, metered energy and period) for the customer-reflection variants, printed "
                   "beside the standard figures with their coverage.")
@click.option("--factor-path", metavar="ID",
              help="A forward grid-factor path applied life-year by life-year as a variant (e.g. jp_plan_fy2030).")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="Compute partitions here, or on a Dask cluster (pip install 'koken[dask]').")
@click.option("--scheduler", metavar="ADDRESS",
              help="With --engine dask: a running scheduler (tcp://host:8786); default: start a local cluster.")
@click.option("--workers", type=click.IntRange(1, 1024),
              help="With --engine dask and no --scheduler: local workers (default: one per core).")
@click.option("--partition-rows", type=click.IntRange(100, 100_000_000), default=250_000, show_default=True,
              help="Rows per partition: memory grows with it, and each partition has a fixed cost of some "
                   "tens of milliseconds (below 10,000 rows a large file gets slow). Results do not depend on it.")
@click.option("--draws", type=click.IntRange(2, 1_000_000), metavar="N",
              help="Monte Carlo over the uncertain inputs (320 ± 20, low/high columns, distributions; "
                   "docs/uncertainty.md): P5, P50 and P95 per row and per total beside the central figures.")
@click.option("--seed", type=click.IntRange(0, None), metavar="S",
              help="With --draws: the random seed (default: a random one); recorded, and the same seed gives the same "
                   "numbers.")
@click.option("--samples", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="With --draws: write every row's draws to FILE (.parquet).")
def calculate(portfolio: Path, methodology_paths: tuple[Path, ...], no_bundled: bool, output: Path | None,
              encoding: str | None, sheets: tuple[str, ...], header_row: int | None, allow_stale_factors: bool,
              gwp_rule: str | None, ratio_file: Path | None,
              component_maker: bool, installed_base_year: int | None, survival: str | None,
              customer_data: Path | None, factor_path: str | None, engine: str, scheduler: str | None,
              workers: int | None, partition_rows: int, draws: int | None, seed: int | None,
              samples: Path | None) -> None:
    """Compute single-year and lifetime avoided emissions for every product line of PORTFOLIO
    (.csv, .parquet, .xlsx or .yaml), partition by partition."""
    from koken.api import run

    if (scheduler or workers) and engine != "dask":
        raise click.UsageError(_("--scheduler and --workers go with --engine dask"))
    if scheduler and workers:
        raise click.UsageError(_("--workers sizes a local cluster; with --scheduler the cluster's own workers are "
                                 "used"))
    suffix = portfolio.suffix.lower()
    if encoding and suffix != ".csv":
        raise click.UsageError(_("--encoding applies to CSV files, not {kind}").format(kind=suffix or portfolio.name))
    if sheets and suffix not in (".xlsx", ".xlsm"):
        raise click.UsageError(_("--sheet applies to workbooks (.xlsx), not {kind}").format(kind=suffix or portfolio.name))
    if survival and installed_base_year is None:
        raise click.UsageError(_("--survival goes with --installed-base YEAR"))
    if (seed is not None or samples is not None) and draws is None:
        raise click.UsageError(_("--seed and --samples go with --draws N"))
    if header_row and suffix not in (".csv", ".xlsx", ".xlsm"):
        raise click.UsageError(_("--header-row applies to CSV files and workbooks, not {kind}").format(
            kind=suffix or portfolio.name))
    _terminate_cleanly()
    _report_leftovers(output)
    if engine == "dask" and scheduler is None:  # the workers start and import koken while the library loads
        from koken.api import start_dask_cluster

        start_dask_cluster(workers)
    library = _library(methodology_paths, no_bundled, lazy=engine == "local")
    with render.reporting(), render.progress_bar() as (on_open, progress):
        result = run(portfolio, library, output=output, engine=engine, scheduler=scheduler, workers=workers,
                     partition_rows=partition_rows, encoding=encoding, sheet=sheets or None, header_row=header_row,
                     allow_stale_factors=allow_stale_factors, ratios=ratio_file, component_maker=component_maker,
                     installed_base_year=installed_base_year, survival=survival, customer_data=customer_data,
                     factor_path=factor_path, gwp_rule=gwp_rule, draws=draws, seed=seed, samples=samples,
                     progress=progress, on_open=on_open)
    render.notices([*result.notices, *([_(
        "--allow-stale-factors is on: where a factor table has no value for a row's fiscal year, its latest earlier "
        "year's value was used (marked \"stale: earlier year\" in factors_from_tables and recorded in the results)")]
        if allow_stale_factors else [])])
    render.run_summary(result, str(portfolio))
    if result.uncertainty is not None:
        render.uncertainty_summary(result.uncertainty)
    if component_maker:
        render.component_summary(result)
    if output:
        render.line(_("Results written to {output}").format(output=output))


def _report_leftovers(output: Path | None) -> None:
    """Say which temporary files of an earlier run are in the output's folder (a run killed with ``kill -9``
    cannot remove its own); they are not removed, since another run may be writing them now."""
    from koken.base.files import leftover_temporaries

    if output is None:
        return
    found = leftover_temporaries(output)
    if found:
        render.notices([_("{folder} holds {count} temporary file(s) of koken, {names}: left by a run that was killed "
                          "(kill -9, a power loss), or being written by another run now; delete them when no koken "
                          "run writes there").format(folder=found[0].parent, count=len(found),
                                                     names=", ".join(p.name for p in found[:5]) +
                                                     (" …" if len(found) > 5 else ""))])


def _terminate_cleanly() -> None:
    """On SIGTERM (a scheduler or ``timeout`` stopping the run), unwind like Ctrl-C does, so that the
    temporary result file is removed and nothing half-written is left behind."""
    import signal

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    with contextlib.suppress(ValueError):  # not the main thread (embedding): leave signals alone
        signal.signal(signal.SIGTERM, stop)


@main.command("report")
@click.argument("inputs", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--portfolio", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Calculate this portfolio and report it (instead of, or beside, result files); a portfolio may "
                   "also be given as an argument.")
@_methodology_options
@click.option("--device-shares", type=click.Choice(["on", "off"]), default="on", show_default=True,
              help="Give the part attributed to semiconductors and electronic components in brackets (内数), or "
                   "leave it out (the notes then say device shares are not reported).")
@click.option("--ratios", "ratio_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Device contribution-ratio file (default: the shipped FY2023-report-implied ratios, named as "
                   "such in every output).")
@click.option("--fiscal-year", type=int, help="The reporting year, when the results hold several.")
@click.option("--company", metavar="NAME",
              help="The reporting company's name, put into the report's title and disclosures (every output).")
@click.option("--decimals", type=click.IntRange(0, 3), default=0, show_default=True,
              help="Decimals of 万t-CO2e figures on screen, in Markdown and in the workbook's number formats; a "
                   "non-zero figure that would round to 0 gets more decimals (up to 3) or shows as <0.001; the HTML "
                   "report shows at least two significant digits. The workbook's cells and the CSV keep full "
                   "precision.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to FILE: .html (one self-contained page: the table, charts and their data, "
                   "the disclosures; opens offline), .xlsx (the workbook to submit: table, detail and disclosures "
                   "sheets), .md or .csv.")
def report_command(inputs: tuple[Path, ...], portfolio: Path | None, methodology_paths: tuple[Path, ...],
                   no_bundled: bool, device_shares: str, ratio_file: Path | None, fiscal_year: int | None,
                   company: str | None, decimals: int, output: Path | None) -> None:
    """The action plan's table (万t-CO2e, device share in brackets) from INPUTS: JSON or Parquet results of koken
    calculate, or portfolios (.csv, .xlsx, .parquet, .yaml), calculated first."""
    from koken.api import report
    from koken.reporting.action_plan import is_result_file

    if not inputs and portfolio is None:
        raise click.UsageError(_("give result files (koken calculate --output x.json) or a portfolio"))
    if device_shares == "off" and ratio_file is not None:
        raise click.UsageError(_("--ratios gives device shares: leave it out with --device-shares off"))
    calculates = portfolio is not None or not all(is_result_file(p) for p in inputs)
    _report_leftovers(output)
    library = _library(methodology_paths, no_bundled) if calculates else None
    with render.reporting(wrote_nothing=output is not None):
        built = report(inputs, portfolio, library, ratios=ratio_file, device_shares=device_shares == "on",
                       fiscal_year=fiscal_year, output=output, decimals=decimals, company=company)
    render.notices(built.notices)
    render.report_table(built, decimals)
    if output:
        render.line(_("Report written to {output}").format(output=output))


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
        render.line(_("Progress written to {output}").format(output=output))


@main.command()
@click.argument("subjects", nargs=-1)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The workbook to write (.xlsx).")
@click.option("--combined", is_flag=True,
              help="One sheet with a methodology column instead of a sheet per methodology.")
@click.option("--overwrite", is_flag=True, help="Replace the output file if it exists (by default it is kept).")
@_methodology_options
def template(subjects: tuple[str, ...], output: Path, combined: bool, overwrite: bool,
             methodology_paths: tuple[Path, ...], no_bundled: bool) -> None:
    """Write a template to fill in Excel: METHODOLOGY… (ids or titles such as 電気冷蔵庫; none: all) gives a
    portfolio sheet per methodology; `progress` gives the action-plan submission (提出 sheet and 説明)."""
    from koken.api import portfolio_template, submission_template

    if subjects == ("progress",):
        with render.reporting():
            submission_template(output)
        render.line(_("Template written to {output}: fill the 提出 submission sheet, then run koken progress "
                      "{output}").format(output=output))
        return
    if "progress" in subjects:
        raise click.UsageError(_("'progress' is a template of its own: ask for it alone"))
    library = _library(methodology_paths, no_bundled)
    with render.reporting():
        ids = portfolio_template(output, subjects, library, combined=combined, overwrite=overwrite)
    render.line(_("Template written to {output} ({count} methodologies: {ids}): fill it in, then run koken "
                  "calculate {output}").format(output=output, count=len(ids), ids=", ".join(ids)))


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
    render.line(_("{count} ratios written to {output}").format(count=len(document["entries"]), output=output))


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
def validate(paths: tuple[Path, ...]) -> None:
    """Check methodology files or folders (default: the bundled methodologies/): every problem in every file."""
    from koken.api import validate_methodologies
    from koken.base.paths import methodologies_dir

    scan = validate_methodologies(paths, bundled=not paths)  # the full work, whatever the start-up cache holds
    if scan.problems:
        render.problems(scan.problems, wrote_nothing=False)
        raise SystemExit(1)
    if not scan.files:
        render.line(_("No methodology files under {paths}").format(paths=", ".join(map(str, paths)) or methodologies_dir()),
                    stderr=True)
        raise SystemExit(1)
    render.validation(scan)


@main.command()
@click.argument("names", nargs=-1)
@_methodology_options
def methodologies(names: tuple[str, ...], methodology_paths: tuple[Path, ...], no_bundled: bool) -> None:
    """List the methodologies (or the NAMES given: ids or titles such as 電気冷蔵庫) with their functional units
    and portfolio columns."""
    from koken.api import find_methodologies

    library = _library(methodology_paths, no_bundled)
    with render.reporting(wrote_nothing=False):
        chosen = find_methodologies(names, library)
    render.methodology_tables(chosen)


@main.command("factors")
@click.argument("table", required=False)
@click.option("--region", help="Only entries of this region (ISO 3166-1 code, e.g. JP, US, CN).")
@click.option("--fiscal-year", type=int, help="Only entries of this fiscal year.")
def factors_command(table: str | None, region: str | None, fiscal_year: int | None) -> None:
    """List the factor tables (id, title, unit, regions, years), or the entries of TABLE with their value,
    unit, basis, status and source (title and url)."""
    from koken.api import factor_entries, factor_tables

    with render.reporting(wrote_nothing=False):
        if table is None and region is None and fiscal_year is None:
            render.factor_overview(factor_tables())
            return
        frame = factor_entries(table, region=region, fiscal_year=fiscal_year)
    render.factor_listing(frame)


@main.command()
@click.argument("result", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("portfolio", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_methodology_options
@click.option("--ratios", "ratio_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The device contribution-ratio file the result was computed with, when it is not the shipped one "
                   "(a path written in the result is never opened).")
@click.option("--customer-data", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="FILE",
              help="The customer-data file the result was computed with (--customer-data of calculate; a path "
                   "written in the result is never opened).")
def verify(result: Path, portfolio: Path, methodology_paths: tuple[Path, ...], no_bundled: bool,
           ratio_file: Path | None, customer_data: Path | None) -> None:
    """Recompute RESULT (a koken .json or .parquet result) from PORTFOLIO and explain every difference.

    Exit status 0: the result stands; 1: a figure, a total or a recorded provenance (input, methodology, factor
    table, engine, units, GWP set, ratio file) differs, or the inputs no longer compute.
    """
    from koken.audit.verify import report
    from koken.audit.verify import verify as run

    # worked examples are not run here: a changed factor table fails them, and verify must name it instead
    library = _library(methodology_paths, no_bundled, check_examples=False)
    with render.reporting(wrote_nothing=False):
        outcome = run(result, portfolio, library, ratios=ratio_file, customer_data=customer_data)
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
    render.line(_("{count} version(s) added to {lock_file}").format(count=added, lock_file=lock_file))


@main.command()
@click.argument("target")
@click.option("--row", "rows", type=int, multiple=True, help="File row to trace (repeatable; default: every row).")
@click.option("--set", "settings", multiple=True, metavar="NAME=VALUE UNIT",
              help="With a methodology id: an input, e.g. --set 'baseline_annual_energy=420 kWh/yr'.")
@click.option("--region", help="With a methodology id: region for factor-table lookups (e.g. JP).")
@click.option("--fiscal-year", type=int, help="With a methodology id: fiscal year for factor-table lookups.")
@click.option("--depth", type=click.IntRange(min=0), help="Levels of the tree to show (default: all).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True,
              help="How to print the trace: text, JSON or Markdown (formulas as LaTeX).")
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
        render.line(_("Trace of {count} line(s) written to {output}").format(count=len(traces), output=output))
    else:  # text from the portfolio (product names) is shown, never obeyed as terminal escapes
        click.echo("\n".join(printable(line) for line in text.split("\n")), nl=False)


@main.command()
@click.argument("methodology")
@click.option("--example", type=click.IntRange(min=1), default=1, show_default=True,
              help="The worked example whose inputs are the central case (1: the first).")
@click.option("--set", "settings", multiple=True, metavar="NAME=LOW..HIGH [UNIT]",
              help="Low and high values of a parameter, e.g. --set 'grid_emission_factor=0.3..0.5' (in its declared "
                   "unit unless one is given); others take their declared range (repeatable).")
@click.option("--samples", type=click.IntRange(min=0), default=1024, show_default=True,
              help="Base samples of the Sobol analysis, a power of 2 (0: no Sobol analysis).")
@click.option("--seed", type=click.IntRange(min=0), default=63372, show_default=True,
              help="Seed of the Sobol sampling (recorded in the output).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
              help="How to print the tables: on the console, as CSV or as JSON.")
@click.option("--chart", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE.svg",
              help="Also write the tornado chart (SVG).")
@_methodology_options
def sensitivity(methodology: str, example: int, settings: tuple[str, ...], samples: int, seed: int, fmt: str,
                chart: Path | None, methodology_paths: tuple[Path, ...], no_bundled: bool) -> None:
    """How METHODOLOGY's result depends on its parameters around a worked example: each parameter at its low and
    high value (tornado), Sobol indices, and a warning when the example sits at the favourable end of its range."""
    from koken.api import sensitivity as run

    library = _library(methodology_paths, no_bundled)
    with render.reporting(wrote_nothing=chart is not None):
        result = run(methodology, library, example=example, bounds=settings, samples=samples or None, seed=seed,
                     chart=chart)
    render.sensitivity(result, fmt)
    if chart is not None:
        render.line(_("Tornado chart written to {output}").format(output=chart), stderr=True)


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
    render.line(_("{count} pages written to {output}").format(count=len(written), output=output))


@main.command("claim")
@click.argument("result", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--gates", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The claim's gate assessment (YAML: the gate set, e.g. wbcsd_v2, and a status with evidence per "
                   "criterion; docs/claim.md).")
@click.option("--figure", type=click.Choice(["lifetime", "single_year"]), default="lifetime", show_default=True,
              help="The timeframe claimed.")
@click.option("--fiscal-year", type=int, help="The fiscal year claimed, when the result holds several.")
@click.option("--category", callback=lambda ctx, param, value: _term(value, CATEGORIES, param),
              help="Claim one category's lines only (e.g. home_appliances or 家電).")
@click.option("--market", callback=lambda ctx, param, value: _term(value, MARKETS, param),
              help="Claim one market's lines only (domestic or overseas, 国内 or 海外).")
@click.option("--statement", help="Your own claim text, added to the statement (refused if it uses offset, neutral, "
                                  "negative emissions, compensate, オフセット, 相殺, カーボンニュートラル …).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the claim and its disclosure bundle to FILE (.md or .json); default: print the statement.")
def claim_command(result: Path, gates: Path, figure: str, fiscal_year: int | None, category: str | None,
                  market: str | None, statement: str | None, output: Path | None) -> None:
    """The claim statement of a figure of RESULT (a koken JSON result), in Japanese and English, with its disclosure
    bundle; refused, with every missing item named, when a mandatory disclosure item is missing."""
    from koken.api import claim, claim_lines

    with render.reporting():
        bundle = claim(result, gates, timeframe=figure, fiscal_year=fiscal_year, category=category,
                            market=market, statement=statement, output=output)
    for text in claim_lines(bundle, statement):
        render.line(text)
    if output:
        render.line(_("Claim written to {output}").format(output=output))


def _term(value: str | None, terms, param) -> str | None:
    """A category or market given by its id or its Japanese or English name (家電, Home appliances) → its id."""
    if value is None:
        return None
    text = value.strip()
    for term in terms:
        if text.casefold() in (term.id.casefold(), term.ja.casefold(), term.en.casefold()):
            return term.id
    raise click.BadParameter(_("{value!r} is none of {names}").format(
        value=value, names=", ".join(f"{t.id} ({t.ja})" for t in terms)), param=param)


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
    else:  # text from the portfolio (product names) is shown, never obeyed as terminal escapes
        click.echo("\n".join(printable(line) for line in text.split("\n")), nl=False)


@main.group(cls=TranslatedGroup)
def server() -> None:
    """Keep koken loaded, so that commands start at once.

    For many koken commands in a row (a working group editing methodologies, a company re-running its files): koken
    stays loaded in the background (POSIX), and each later command of this user, with this koken and Python, runs in
    a copy of it, in about 0.4 s instead of 3 s, with identical results. A file of koken or of its bundled data that
    changes is read again; KOKEN_NO_SERVER=1 runs a command without the server (docs/performance.md).
    """


@server.command("start")
@click.option("--idle", type=click.IntRange(1, 7 * 24 * 3600), default=3600, show_default=True,
              help="Stop after this many seconds without a command.")
def server_start(idle: int) -> None:
    """Start the server in the background, or show the one running (which keeps its own --idle)."""
    from koken.cli import client

    try:
        state = client.start(idle, waiting=lambda: render.line(_("starting the koken server (loading koken takes a "
                                                                  "few seconds) …"), stderr=True))
    except RuntimeError as err:
        raise click.ClickException(str(err)) from None
    render.line(_("koken server already running: process {pid}, socket {socket}").format(
        pid=state["pid"], socket=state["socket"]) if state.get("already") else _server_state(state))


def _server_state(state: dict) -> str:
    """The line that says a server runs (or loads koken), with its process and socket."""
    text = _("koken server loading koken: process {pid}, socket {socket}") if state.get("starting") else \
        _("koken server running: process {pid}, socket {socket}")
    return text.format(pid=state["pid"], socket=state["socket"])


@server.command("stop")
def server_stop() -> None:
    """Stop the server (commands it is running finish first)."""
    from koken.cli import client

    state = client.stop()
    if state is None:
        render.line(_("no koken server was running"))
    elif state.get("starting"):
        render.line(_("koken server stopped while it was loading (process {pid})").format(pid=state["pid"]))
    else:
        render.line(_("koken server stopped (process {pid}, {count} commands run)").format(pid=state["pid"],
                                                                                          count=state["commands"]))


@server.command("status")
def server_status() -> None:
    """Whether a server runs for this koken and Python; exit status 0 if it does (or is loading), 1 if not."""
    from koken.cli import client

    state = client.status()
    if state is None:
        render.line(_("no koken server is running"))
        sys.exit(1)
    render.line(_server_state(state))
    if not state.get("starting"):
        render.line(_("{count} commands run since it started").format(count=state["commands"]))


main.params.append(_language_option())
for _command in [*main.commands.values(), *server.commands.values()]:  # every command takes --lang too (koken report --lang ja)
    _command.params.append(_language_option())


if __name__ == "__main__":  # pragma: no cover
    main()
