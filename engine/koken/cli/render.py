"""What the command line prints: problem lists, tables and notes (rich), never computed here.

Every function takes what a library call returned and renders it; none of them reads files or computes
figures.
"""

from __future__ import annotations

import collections
import contextlib
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from koken.base.errors import KokenError, KokenErrors
from koken.base.i18n import _
from koken.base.text import printable
from koken.base.version import __version__

MAX_LISTED_PROBLEMS = 500
"""Problems listed one by one; the rest are counted by kind (a 30,000-row file with one bad column)."""


def console(stderr: bool = False):
    """A rich console; when not attached to a terminal (pipes, CI logs) tables get 200 columns, not 80."""
    from rich.console import Console

    out = Console(stderr=stderr, highlight=False, soft_wrap=True)
    if not out.is_terminal:
        out = Console(stderr=stderr, highlight=False, soft_wrap=True, width=200)
    return out


def line(text: str, stderr: bool = False) -> None:
    """One line of plain text (no rich markup is interpreted)."""
    console(stderr).print(printable(text), markup=False)


def usage_error(err) -> None:
    """A command-line usage error (click's ``UsageError``) in the chosen language, the command's usage line
    and where to find its help; click's own texts are replaced by koken's for the kinds people meet."""
    import click

    ctx = err.ctx
    if isinstance(err, click.MissingParameter) and err.param is not None:
        names = err.param.opts[0] if isinstance(err.param, click.Option) else err.param.human_readable_name
        message = _("missing {name}").format(name=names)
    elif isinstance(err, click.NoSuchOption):
        message = _("no such option: {option}").format(option=err.option_name)
        if err.possibilities:
            message += " " + _("(did you mean {options}?)").format(options=", ".join(sorted(err.possibilities)))
    elif isinstance(err, click.BadParameter) and err.param is not None:
        message = _("invalid value for {name}: {detail}").format(name=err.param.get_error_hint(ctx) if ctx else
                                                                 err.param.name, detail=err.message)
    else:
        message = err.format_message()
    out = console(stderr=True)
    if ctx is not None:
        usage = " ".join([ctx.command_path, *ctx.command.collect_usage_pieces(ctx)])
        out.print(_("Usage: {usage}").format(usage=usage), markup=False)
        out.print(_("Try '{command} -h' for help.").format(command=ctx.command_path), markup=False)
    out.print(_("Error: {message}").format(message=printable(message)), markup=False)


def problems(errors: list[KokenError], wrote_nothing: bool = True) -> None:
    """The problems of an input, one per line (at most :data:`MAX_LISTED_PROBLEMS`, the rest counted by kind)."""
    err_console = console(stderr=True)
    tail = "; nothing was written." if wrote_nothing else "."
    err_console.print(f"[bold red]{len(errors)} problem(s) found{tail}[/]")
    for err in errors[:MAX_LISTED_PROBLEMS]:
        err_console.print(f"  - {printable(str(err))}", markup=False)
    if len(errors) > MAX_LISTED_PROBLEMS:
        kinds = collections.Counter(_kind(err) for err in errors[MAX_LISTED_PROBLEMS:])
        err_console.print(f"  … and {len(errors) - MAX_LISTED_PROBLEMS:,} more, not listed; by kind:", markup=False)
        for kind, count in kinds.most_common(20):
            err_console.print(f"    {count:,} × {printable(kind)}", markup=False)


def _kind(err: KokenError) -> str:
    """A problem's message without its numbers and quoted values, to count problems of one kind."""
    column = f" (column {err.location.column})" if getattr(err.location, "column", None) else ""
    return re.sub(r"'[^']*'|\d[\d.,e+-]*", "…", err.message)[:160] + column


@contextlib.contextmanager
def reporting(wrote_nothing: bool = True) -> Iterator[None]:
    """Turn koken's input errors into the listed problems and exit status 1 (never a traceback)."""
    try:
        yield
    except KokenErrors as errs:
        problems(errs.errors, wrote_nothing=wrote_nothing)
        sys.exit(1)
    except KokenError as err:
        problems([err], wrote_nothing=wrote_nothing)
        sys.exit(1)


def notices(lines: Iterable[str]) -> None:
    """Notices of the library (a methodology replaced by a later source), on stderr."""
    for text in lines:
        line(f"note: {text}", stderr=True)


@contextlib.contextmanager
def progress_bar():
    """A progress bar on stderr for long runs (by input bytes read); nothing when stderr is not a terminal.

    Yields:
        (on_open, progress): ``on_open(source)`` sizes the bar, ``progress(rows, bytes_read)`` moves it; both
        None when there is no terminal.
    """
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    err_console = console(stderr=True)
    if not err_console.is_terminal:
        yield None, None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TextColumn("{task.fields[rows]}"),
                  TimeRemainingColumn(), console=err_console, transient=True) as bar:
        task: list = []

        def on_open(source) -> None:
            task.append(bar.add_task(Path(source.path).name, total=source.total_bytes, rows=""))

        def progress(rows: int, read: int) -> None:
            if task:
                bar.update(task[0], completed=read, rows=f"{rows:,} lines")

        yield on_open, progress


def run_summary(result, path: str) -> None:
    """Tables by methodology (t-CO2e) and by category (万t-CO2e), and totals, per fiscal year."""
    from rich.table import Table

    out = console()
    totals = result.totals
    years = [str(y) for y in totals.summarise(["fiscal_year"])["fiscal_year"]]
    out.print(f"[bold]koken {__version__}[/] — {printable(path)}: {result.rows} product lines, "
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
    out.print(t)
    by_c = totals.summarise(["fiscal_year", "category", "market"])
    t = Table(title="Avoided emissions by category (万t-CO2e)")
    for col, justify in (("FY", "left"), ("category", "left"), ("market", "left"), ("single-year", "right"),
                         ("lifetime", "right")):
        t.add_column(col, justify=justify)
    for r in by_c.to_dict(orient="records"):
        t.add_row(str(r["fiscal_year"]), r["category"], r["market"], f"{r['single_year[万t-CO2e]']:,.2f}",
                  f"{r['lifetime[万t-CO2e]']:,.2f}")
    out.print(t)
    for r in totals.summarise(["fiscal_year"]).to_dict(orient="records"):
        out.print(f"FY{r['fiscal_year']} total single-year: {r['single_year[t-CO2e]']:,.1f} t-CO2e "
                  f"({r['single_year[万t-CO2e]']:,.2f} 万t-CO2e); lifetime: {r['lifetime[t-CO2e]']:,.1f} t-CO2e "
                  f"({r['lifetime[万t-CO2e]']:,.2f} 万t-CO2e).")
    out.print("Single-year and lifetime are separate timeframes, and fiscal years are kept apart: they are "
              "never added together. Avoided emissions are reported apart from Scope 1-3 and never netted "
              "against them.")


def component_summary(result) -> None:
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
    console().print(t)
    console().print("The attributed share is part of the enabled total (内数); the two are never added.")


def report_table(report, decimals: int) -> None:
    """The action plan's table (万t-CO2e, devices in brackets when reported) and its notes in the chosen language;
    the notes say which device shares were used (the shipped FY2023-report-implied ratios named as such)."""
    from rich.table import Table

    from koken.reporting.action_plan import TITLE, both, notes_lines, presentation

    out = console()
    shown = presentation(report, decimals)
    title = both(lambda: _(TITLE).format(year=report.fiscal_year))
    unit = (_("{title} (万t-CO2e; devices in brackets)") if report.device_shares
            else _("{title} (万t-CO2e; device shares not reported)")).format(title=title)
    t = Table(title=unit)
    for col in shown.columns:
        t.add_column(col, justify="left" if col in ("分野", "category") else "right")
    for row in shown.itertuples(index=False):
        t.add_row(*[str(v) for v in row])
    out.print(t)
    for note in notes_lines(report):
        out.print(f"- {note}", markup=False)


def progress_view(view) -> None:
    """The tables of a :class:`koken.api.Progress` (each company's, then the industry's) and its notes."""
    from rich.table import Table

    out = console()
    for title, frame in view.tables().items():
        t = Table(title=printable(title), title_justify="left")
        for i, col in enumerate(frame.columns):
            t.add_column(printable(str(col)), justify="left" if i == 0 else "right")
        for row in frame.itertuples(index=False):
            t.add_row(*[printable(str(v)) for v in row])
        out.print(t)
    for note in view.notes():
        out.print(f"- {printable(note)}", markup=False)


def validation(scan) -> None:
    """``ok`` per valid methodology, then the warnings and a count."""
    out = console()
    for m in sorted(scan.library.values(), key=lambda m: (m.category, m.id)):
        checks = " and its checks" if m.spec.checks else ""
        out.print(f"ok  {m.category}/{m.id} {m.version}  ({len(m.spec.examples)} examples{checks} pass)", markup=False)
    for w in scan.warnings:
        out.print(f"warning: {w}", markup=False)
    n = len(scan.library)
    out.print(f"{n} methodologies valid" + (f", {len(scan.warnings)} warning(s)." if scan.warnings else "."))


def methodology_tables(library) -> None:
    """The methodologies with their functional units, then each one's portfolio columns."""
    from rich.table import Table

    out = console()
    t = Table(title="Methodologies")
    for col in ("id", "version", "category", "functional unit", "baseline", "title"):
        t.add_column(col)
    ordered = sorted(library.values(), key=lambda m: (m.category, m.id))
    for m in ordered:
        t.add_row(m.id, m.version, m.category, m.spec.functional_unit.unit, m.spec.baseline.type,
                  f"{m.spec.title.en} / {m.spec.title.ja}")
    out.print(t)
    for m in ordered:
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
        out.print(t)
