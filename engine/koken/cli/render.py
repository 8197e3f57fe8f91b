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

from rich.markup import escape

from koken.base.errors import KokenError, KokenErrors
from koken.base.i18n import _, named, pick
from koken.base.text import printable
from koken.base.version import __version__
from koken.base.vocabulary import (
    BASELINE_LIFETIME_COLUMN,
    BASELINE_TYPES,
    CATEGORIES,
    CATEGORY11_COLUMN,
    FACTOR_BASES,
    FACTOR_STATUSES,
    INSTALLED_BASE_COLUMN,
    MARKETS,
)

MAX_LISTED_PROBLEMS = 500
"""Problems listed one by one; the rest are counted by kind (a 30,000-row file with one bad column)."""


def console(stderr: bool = False):
    """A rich console; when not attached to a terminal (pipes, CI logs) tables get 200 columns, not 80."""
    from rich.console import Console

    out = Console(stderr=stderr, highlight=False, soft_wrap=True, emoji=False)
    if not out.is_terminal:
        out = Console(stderr=stderr, highlight=False, soft_wrap=True, width=200, emoji=False)
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
                                                                 err.param.name, detail=_parameter_detail(err))
    else:
        message = err.format_message()
    out = console(stderr=True)
    if ctx is not None:
        usage = " ".join([ctx.command_path, *ctx.command.collect_usage_pieces(ctx)])
        out.print(_("Usage: {usage}").format(usage=usage), markup=False)
        out.print(_("Try '{command} -h' for help.").format(command=ctx.command_path), markup=False)
    out.print(_("Error: {message}").format(message=printable(message)), markup=False)


def _parameter_detail(err) -> str:
    """What is wrong with an option's value, in the chosen language, for the kinds of value koken's options take
    (click's own sentence, in English, for any other)."""
    import click

    kind = err.param.type
    quoted = re.search(r"'(.*?)'", err.message or "")
    value = quoted.group(1) if quoted else ""
    if isinstance(kind, click.IntRange):
        low = "−∞" if kind.min is None else kind.min
        high = "∞" if kind.max is None else kind.max
        return _("a whole number from {low} to {high} is expected").format(low=low, high=high)
    if isinstance(kind, click.Choice):
        return _("{value!r} is not one of {choices}").format(value=value, choices=", ".join(map(str, kind.choices)))
    if isinstance(kind, click.Path):
        return _("{value}: no such file or folder, or it cannot be read").format(value=value)
    if kind is click.INT or isinstance(kind, click.types.IntParamType):
        return _("{value!r} is not a whole number").format(value=value)
    return err.message


def problems(errors: list[KokenError], wrote_nothing: bool = True) -> None:
    """The problems of an input, one per line (at most :data:`MAX_LISTED_PROBLEMS`, the rest counted by kind)."""
    err_console = console(stderr=True)
    head = (_("{count} problem(s) found; nothing was written.") if wrote_nothing else
            _("{count} problem(s) found.")).format(count=len(errors))
    err_console.print(f"[bold red]{escape(head)}[/]")
    for err in errors[:MAX_LISTED_PROBLEMS]:
        err_console.print(f"  - {printable(str(err))}", markup=False)
    if len(errors) > MAX_LISTED_PROBLEMS:
        kinds = collections.Counter(_kind(err) for err in errors[MAX_LISTED_PROBLEMS:])
        err_console.print("  " + _("… and {count:,} more, not listed; by kind:").format(
            count=len(errors) - MAX_LISTED_PROBLEMS), markup=False)
        for kind, count in kinds.most_common(20):
            err_console.print(f"    {count:,} × {printable(kind)}", markup=False)


def _kind(err: KokenError) -> str:
    """A problem's message without its numbers and quoted values, to count problems of one kind."""
    column = " (" + _("column {column!r}").format(column=err.location.column) + ")" \
        if getattr(err.location, "column", None) else ""
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
        line(_("note: {text}").format(text=text), stderr=True)


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


def _man(value: float) -> str:
    """A figure in 万t-CO2e with two decimals, or two significant digits where two decimals would show a
    non-zero figure as 0 (40 t-CO2e is 0.004 万t-CO2e, not 0.00)."""
    return f"{value:.2g}" if value and round(value, 2) == 0 else f"{value:,.2f}"


def uncertainty_summary(document: dict) -> None:
    """The Monte Carlo totals (t-CO2e): per fiscal year, category, market and timeframe, the central figure and its
    P5–P95 range; the draws and the seed that reproduce them."""
    from rich.table import Table

    out = console()
    t = Table(title=_("Uncertainty of the totals (t-CO2e): {draws:,} draws, seed {seed}").format(
        draws=document["draws"], seed=document["seed"]))
    for col, justify in ((_("FY"), "left"), (_("category"), "left"), (_("market"), "left"), (_("timeframe"), "left"),
                         (_("central"), "right"), (_("P5"), "right"), (_("P50"), "right"), (_("P95"), "right")):
        t.add_column(col, justify=justify)
    for r in document["totals"]:
        figure = _("single-year") if r["figure"].startswith("single_year") else _("lifetime")
        category = named(r["category"], CATEGORIES) if r["category"] else _("all categories")
        market = named(r["market"], MARKETS) if r["market"] else _("all markets")
        t.add_row(str(r["fiscal_year"]), category, market, figure,
                  f"{r['central']:,.1f}", f"{r['p5']:,.1f}", f"{r['p50']:,.1f}", f"{r['p95']:,.1f}")
    out.print(t)
    for note in document.get("favourable_end", ()):
        out.print(note, markup=False)
    tornado_summary(document.get("tornado") or [])


TORNADO_ROWS = 10
"""The uncertain inputs a portfolio-total tornado table shows per fiscal year and timeframe (the largest swings)."""


def tornado_summary(records: list[dict]) -> None:
    """The portfolio-total tornado (koken.montecarlo.portfolio_tornado): per fiscal year and timeframe, the inputs
    with the largest swings (t-CO2e), each at its P5 and P95 with the others central."""
    from rich.table import Table

    if not records:
        return
    out = console()
    groups: dict[tuple, list[dict]] = {}
    for r in records:
        groups.setdefault((r["fiscal_year"], r["figure"]), []).append(r)
    for (year, figure), rows in groups.items():
        timeframe = _("single-year") if figure.startswith("single_year") else _("lifetime")
        t = Table(title=_("What moves the FY{year} total, {timeframe} (t-CO2e): each uncertain input at its P5 and "
                          "P95, the others central").format(year=year, timeframe=timeframe))
        for col, justify in ((_("input"), "left"), (_("of"), "left"), (_("source"), "left"), (_("at P5"), "right"),
                             (_("at P95"), "right"), (_("swing"), "right")):
            t.add_column(col, justify=justify)
        for r in rows[:TORNADO_ROWS]:
            t.add_row(escape(r["parameter"]), escape(str(r["variable"])), escape(r["source"]),
                      f"{r['result_at_low']:,.1f}", f"{r['result_at_high']:,.1f}", f"{r['swing']:,.1f}")
        out.print(t)
        if len(rows) > TORNADO_ROWS:
            out.print(_("{count} more input(s) with smaller swings are in the result file (uncertainty.tornado).").format(
                count=len(rows) - TORNADO_ROWS), markup=False)


def run_summary(result, path: str) -> None:
    """Tables by methodology (t-CO2e) and by category (万t-CO2e), and totals, per fiscal year."""
    from rich.table import Table

    out = console()
    totals = result.totals
    years = [str(y) for y in totals.summarise(["fiscal_year"])["fiscal_year"]]
    out.print(f"[bold]koken {__version__}[/] — " + escape(_("{path}: {count} product lines, fiscal year(s) {years}").format(
        path=printable(path), count=result.rows, years=", ".join(years))))
    by_m = totals.summarise(["fiscal_year", "category", "methodology", "market"])
    t = Table(title=_("Avoided emissions by methodology (t-CO2e)"))
    for col, justify in ((_("FY"), "left"), (_("category"), "left"), (_("methodology"), "left"), (_("version"), "left"),
                         (_("market"), "left"), (_("lines"), "right"), (_("single-year"), "right"),
                         (_("lifetime"), "right")):
        t.add_column(col, justify=justify)
    for r in by_m.to_dict(orient="records"):
        t.add_row(str(r["fiscal_year"]), named(r["category"], CATEGORIES), r["methodology"],
                  result.methodologies[r["methodology"]].version, named(r["market"], MARKETS),
                  str(r["product_lines"]), f"{r['single_year[t-CO2e]']:,.1f}", f"{r['lifetime[t-CO2e]']:,.1f}")
    out.print(t)
    by_c = totals.summarise(["fiscal_year", "category", "market"])
    t = Table(title=_("Avoided emissions by category (万t-CO2e)"))
    for col, justify in ((_("FY"), "left"), (_("category"), "left"), (_("market"), "left"), (_("single-year"), "right"),
                         (_("lifetime"), "right")):
        t.add_column(col, justify=justify)
    for r in by_c.to_dict(orient="records"):
        t.add_row(str(r["fiscal_year"]), named(r["category"], CATEGORIES), named(r["market"], MARKETS),
                  _man(r["single_year[万t-CO2e]"]), _man(r["lifetime[万t-CO2e]"]))
    out.print(t)
    inventory_table(out, by_c)
    installed_base_table(out, result)
    variants_table(out, result)
    for r in totals.summarise(["fiscal_year"]).to_dict(orient="records"):
        out.print(_("FY{year} total single-year: {single:,.1f} t-CO2e ({single_man} 万t-CO2e); lifetime: "
                    "{lifetime:,.1f} t-CO2e ({lifetime_man} 万t-CO2e).").format(
            year=r["fiscal_year"], single=r["single_year[t-CO2e]"], single_man=_man(r["single_year[万t-CO2e]"]),
            lifetime=r["lifetime[t-CO2e]"], lifetime_man=_man(r["lifetime[万t-CO2e]"])), markup=False)
    out.print(_("Single-year and lifetime are separate timeframes, and fiscal years are kept apart: they are never "
                "added together. Avoided emissions are reported apart from Scope 1-3 and never netted against them."),
              markup=False)
    flags = result.provenance.get("legitimacy", [])
    if flags:  # the report's module only when there is a note to print (docs/performance.md § Start-up)
        from koken.reporting.action_plan import FLAG_NOTE
    for flag in flags:
        out.print(_(FLAG_NOTE).format(id=flag["methodology"], text=pick(flag["ja"], flag["en"])),
                  markup=False)


def installed_base_table(out, result) -> None:
    """The installed-base annual figure of the reporting year by category and market (万t-CO2e), with its survival
    rule: a third timeframe, printed on its own."""
    from rich.table import Table

    from koken.api import installed_base

    options = result.provenance.get("options", {})
    year = options.get("installed_base_year")
    if year is None:
        return
    by_c = installed_base(result.totals, ["category", "market"])
    t = Table(title=_("Installed-base annual avoided emissions, FY{year} (万t-CO2e)").format(year=year))
    for col, justify in ((_("category"), "left"), (_("market"), "left"), (_("installed base"), "right")):
        t.add_column(col, justify=justify)
    for r in by_c.to_dict(orient="records"):
        t.add_row(named(r["category"], CATEGORIES), named(r["market"], MARKETS), _man(r[_in_man(INSTALLED_BASE_COLUMN)]))
    out.print(t)
    survival = options.get("survival") or {"rule": "operating_years"}
    rule = (_("each line's operating years") if survival["rule"] == "operating_years" else
            _("a Weibull survival curve, shape {shape:g}, scale {scale:g} years").format(
                shape=survival["shape"], scale=survival["scale_years"]))
    out.print(_("Installed base: one year of operation, in FY{year} and at FY{year}'s factors, of the units of every "
                "fiscal year in the portfolio up to FY{year} still in service ({rule}). A third timeframe: never added "
                "to the single-year or lifetime figures.").format(year=year, rule=rule), markup=False)


def variants_table(out, result) -> None:
    """Each customer-reflection variant beside the standard figures, by methodology and market, with its coverage
    (share of units with customer data) and what it is (koken.variants)."""
    from rich.table import Table

    from koken.api import VARIANTS

    totals = result.totals
    names = {v.id: v for v in VARIANTS}
    for variant in totals.variants():
        frame = totals.coverage(variant, ["fiscal_year", "methodology", "market"])
        standard = totals.summarise(["fiscal_year", "methodology", "market"])
        t = Table(title=_("Variant: {name} (beside the standard figures, t-CO2e)").format(
            name=pick(names[variant].ja, names[variant].en)))
        for col, justify in ((_("FY"), "left"), (_("methodology"), "left"), (_("market"), "left"),
                             (_("coverage"), "right"), (_("lifetime"), "right"), (_("lifetime (variant)"), "right"),
                             (_("category 11"), "right"), (_("category 11 (variant)"), "right")):
            t.add_column(col, justify=justify)
        for r, s in zip(frame.to_dict(orient="records"), standard.to_dict(orient="records")):
            t.add_row(str(r["fiscal_year"]), r["methodology"], named(r["market"], MARKETS), f"{r['coverage']:.1%}",
                      f"{s['lifetime[t-CO2e]']:,.1f}", f"{r[f'variant:{variant}:lifetime[t-CO2e]']:,.1f}",
                      f"{s.get(CATEGORY11_COLUMN, 0.0):,.1f}",
                      f"{r[f'variant:{variant}:scope3_cat11_lifetime[t-CO2e]']:,.1f}")
        out.print(t)
    if totals.variants():
        path = result.provenance.get("options", {}).get("factor_path")
        out.print(_("A variant replaces the standard figure's electricity factor (or use) where customer data is "
                    "given, in both scenarios alike; elsewhere it keeps the standard figure. Coverage is the share of "
                    "units with customer data. The standard figures stay the reported ones.") +
                  (" " + _("Factor path: {path}.").format(path=path) if path else ""), markup=False)


def _in_man(column: str) -> str:
    """The 万t-CO2e twin of a t-CO2e figure column of :meth:`koken.totals.Totals.summarise`."""
    return column.replace("[t-CO2e]", "[万t-CO2e]")


def inventory_table(out, by_c) -> None:
    """Scope 3 category 11 beside the lifetime avoided emissions and the avoided share, by category and market
    (万t-CO2e): an inventory figure shown next to avoided emissions, never added to or netted with them."""
    from rich.table import Table

    if CATEGORY11_COLUMN not in by_c or BASELINE_LIFETIME_COLUMN not in by_c:
        return
    t = Table(title=_("Scope 3 category 11 beside avoided emissions, lifetime of the products sold (万t-CO2e)"))
    for col, justify in ((_("FY"), "left"), (_("category"), "left"), (_("market"), "left"),
                         (_("category 11 (use phase)"), "right"), (_("baseline"), "right"),
                         (_("avoided (lifetime)"), "right"), (_("avoided share"), "right")):
        t.add_column(col, justify=justify)
    for r in by_c.to_dict(orient="records"):
        baseline = r[BASELINE_LIFETIME_COLUMN]
        share = f"{r['lifetime[t-CO2e]'] / baseline:.1%}" if baseline else "—"
        t.add_row(str(r["fiscal_year"]), named(r["category"], CATEGORIES), named(r["market"], MARKETS),
                  _man(r[_in_man(CATEGORY11_COLUMN)]), _man(r[_in_man(BASELINE_LIFETIME_COLUMN)]),
                  _man(r["lifetime[万t-CO2e]"]), share)
    out.print(t)
    out.print(_("Scope 3 category 11 is an inventory figure: the use-phase emissions of the products sold over their "
                "lifetime (GHG Protocol Scope 3 Standard). It stands beside avoided emissions and is never added to or "
                "netted with them; the avoided share is avoided ÷ baseline emissions."), markup=False)


def component_summary(result) -> None:
    """Component-maker view: the attributed device share beside the enabled set-product total."""
    from rich.table import Table

    totals = result.totals
    single = tuple(totals.columns("device_single_year:"))
    lifetime = tuple(totals.columns("device_lifetime:"))
    by_market = totals.summarise(["fiscal_year", "market"], figures=("single_year[t-CO2e]", "lifetime[t-CO2e]",
                                                                      *single, *lifetime))
    t = Table(title=_("Component maker: attributed share (role: component) beside the enabled total (role: "
                      "enabling), t-CO2e"))
    for col, right in ((_("FY"), False), (_("market"), False), (_("enabled single-year"), True),
                       (_("attributed single-year"), True), (_("enabled lifetime"), True),
                       (_("attributed lifetime"), True)):
        t.add_column(col, justify="right" if right else "left")
    for r in by_market.to_dict(orient="records"):
        t.add_row(str(r["fiscal_year"]), named(r["market"], MARKETS), f"{r['single_year[t-CO2e]']:,.1f}",
                  f"{sum(r[c] for c in single):,.1f}", f"{r['lifetime[t-CO2e]']:,.1f}",
                  f"{sum(r[c] for c in lifetime):,.1f}")
    console().print(t)
    console().print(_("The attributed share is part of the enabled total (内数); the two are never added."), markup=False)


def report_table(report, decimals: int) -> None:
    """The action plan's table (万t-CO2e, devices in brackets when reported) and its notes in the chosen language;
    the notes say which device shares were used (the shipped FY2023-report-implied ratios named as such)."""
    from rich.markup import escape
    from rich.table import Table

    from koken.reporting.action_plan import both, notes_lines, presentation, report_title

    out = console()
    shown = presentation(report, decimals)
    title = both(lambda: report_title(report))
    unit = (_("{title} (万t-CO2e; devices in brackets)") if report.device_shares
            else _("{title} (万t-CO2e; device shares not reported)")).format(title=title)
    t = Table(title=escape(unit))   # a company's name is text, never console markup
    for col in shown.columns:
        t.add_column(col, justify="left" if col in ("分野", "category") else "right")
    for row in shown.itertuples(index=False):
        t.add_row(*[str(v) for v in row])
    out.print(t)
    for note in notes_lines(report):
        out.print(f"- {note}", markup=False)


def progress_view(view) -> None:
    """The tables of a :class:`koken.api.Progress` (each company's, then the industry's) and its notes, titled
    in the chosen language."""
    from rich.table import Table

    out = console()
    for title, frame in view.titled_tables():
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
        text = (_("ok  {path} {version}  ({count} examples and its checks pass)") if m.spec.checks else
                _("ok  {path} {version}  ({count} examples pass)"))
        out.print(text.format(path=f"{m.category}/{m.id}", version=m.version, count=len(m.spec.examples)),
                  markup=False)
    for w in scan.warnings:
        out.print(_("warning: {text}").format(text=w), markup=False)
    n = len(scan.library)
    out.print((_("{count} methodologies valid, {warnings} warning(s).") if scan.warnings else
               _("{count} methodologies valid.")).format(count=n, warnings=len(scan.warnings)), markup=False)


def methodology_tables(methodologies) -> None:
    """The methodologies with their functional units, then each one's portfolio columns (name, Japanese
    header, unit, default or factor table, aliases)."""
    from rich.table import Table

    out = console()
    t = Table(title=_("Methodologies"))
    for col in (_("id"), _("version"), _("category"), _("functional unit"), _("baseline"), _("title")):
        t.add_column(col)
    ordered = sorted(methodologies, key=lambda m: (m.category, m.id))
    for m in ordered:
        t.add_row(m.id, m.version, named(m.category, CATEGORIES), m.spec.functional_unit.unit,
                  named(m.spec.baseline.type, BASELINE_TYPES),
                  pick(f"{m.spec.title.ja} / {m.spec.title.en}", f"{m.spec.title.en} / {m.spec.title.ja}"))
    out.print(t)
    for m in ordered:
        t = Table(title=_("{id}: portfolio columns").format(id=m.id))
        for col in (_("column"), _("unit"), _("default"), _("aliases")):
            t.add_column(col)
        for p in m.parameters.values():
            if p.default is not None:
                default = f"{p.default:g} ({p.default_source})"
            elif p.factor_table is not None:
                default = _("factor table {table} (a portfolio value overrides)").format(table=p.factor_table.id)
            else:
                default = _("required")
            t.add_row(p.name, p.unit_text, default, ", ".join(p.aliases))
        out.print(t)


def factor_overview(frame) -> None:
    """The factor tables, one row each (a :func:`koken.factor_tables` frame)."""
    from rich.table import Table

    t = Table(title=_("Factor tables (koken factors TABLE lists a table's entries and their sources)"))
    headers = {"table": _("table"), "title": _("title"), "unit": _("unit"), "keys": _("keys"),
               "regions": _("regions"), "fiscal_years": _("fiscal years"), "entries": _("entries")}
    for col, header in headers.items():
        t.add_column(header, justify="right" if col == "entries" else "left")
    for r in frame.to_dict(orient="records"):
        t.add_row(*[printable(str(r[c])) for c in ("table", "title", "unit", "keys", "regions", "fiscal_years")],
                  str(r["entries"]))
    console().print(t)


def factor_listing(frame) -> None:
    """Factor-table entries (a :func:`koken.factor_entries` frame): keys, value, unit, basis, status, whether
    a lookup returns it, and the source's title, publisher, year and url."""
    from rich.table import Table

    out = console()
    if frame.empty:
        line(_("No factor-table entries match."))
        return
    tables = list(dict.fromkeys(frame["table"]))
    keys = [k for k in ("region", "fiscal_year", "fuel", "gas") if k in frame]
    title = _("{tables} — entries: {count}").format(tables=", ".join(tables), count=len(frame))
    t = Table(title=printable(title), title_justify="left")
    columns = (["table"] if len(tables) > 1 else []) + keys + ["value", "unit", "basis", "status", "lookup",
                                                              "source"]
    headers = {"table": _("table"), "region": _("region"), "fiscal_year": _("FY"), "fuel": _("fuel"), "gas": _("gas"),
               "value": _("value"), "unit": _("unit"), "basis": _("basis"), "status": _("status"),
               "lookup": _("lookup"), "source": _("source")}
    for col in columns:
        t.add_column(headers[col], justify="right" if col == "value" else "left", overflow="fold")
    for r in frame.to_dict(orient="records"):
        source = f"{r['source_title']} ({r['publisher']}, {r['source_year']}) {r['url']}".strip()
        cells = {"value": f"{r['value']:g}", "lookup": "✓" if r["default"] else "", "source": source,
                 "basis": named(r["basis"], FACTOR_BASES), "status": named(r["status"], FACTOR_STATUSES)}
        t.add_row(*[printable(str(cells.get(c, r.get(c, "")))) for c in columns])
    out.print(t)
    line(_("✓: the value a lookup by the table's keys returns; the other rows are other bases or releases of the same "
           "key, listed for reference. Status: final (確報), preliminary (速報, may be revised), published (the source "
           "does not say which), derived (computed from the source; see the note in the table file)."))


def sensitivity(result, fmt: str = "table") -> None:
    """A :class:`koken.sensitivity.Sensitivity`: the tornado table, the Sobol indices, the parameters not varied and
    the favourable-end check (``table``, in the chosen language), or one table per parameter (``csv``: the result
    columns name their unit) or the whole document (``json``)."""
    import json

    from rich.table import Table

    from koken.base.vocabulary import BOUND_ORIGINS, CENTRAL_ORIGINS, NOT_VARIED_REASONS

    def measure_text(value: float) -> str:  # six significant digits, thousands separated (kg-CO2e/台/yr, kWh/yr)
        return f"{value:,.6g}"

    def cells(*texts: str) -> list[str]:  # names and units from methodology files: shown, never read as markup
        return [escape(printable(str(text))) for text in texts]

    unit = result.result_unit
    if fmt in ("json", "csv"):  # the data on stdout; the warnings (also in the JSON) on stderr
        if fmt == "json":
            sys.stdout.write(json.dumps(result.document(), ensure_ascii=False, indent=2, default=float) + "\n")
        else:
            frame = result.table().rename(columns={c: f"{c}[{unit}]" for c in ("result_at_low", "result_at_high",
                                                                                "swing")})
            sys.stdout.write(frame.to_csv(index=False, lineterminator="\n"))
        for text in result.warnings:
            line(_("warning: {text}").format(text=text), stderr=True)
        return
    out = console()
    out.print(_("{id} {version}, around worked example {number} ({example}): {step} = {central} {unit}").format(
        id=result.methodology, version=result.version, number=result.example_number, example=result.example,
        step="avoided_per_unit_year", central=measure_text(result.central_result), unit=unit), markup=False)
    centre = dict(zip(result.central["parameter"], result.central["value"]))
    origin = dict(zip(result.central["parameter"], result.central["origin"]))
    t = Table(title=escape(_("One-at-a-time sensitivity (largest swing first)")), title_justify="left")
    for col in (_("parameter"), _("unit"), _("central"), _("low"), _("high"), _("bounds from"),
                _("result at low [{unit}]").format(unit=unit), _("result at high [{unit}]").format(unit=unit),
                _("swing [{unit}]").format(unit=unit)):
        t.add_column(escape(printable(col)), justify="left" if col in (_("parameter"), _("unit"), _("bounds from")) else "right")
    for r in result.tornado.to_dict(orient="records"):
        t.add_row(*cells(r["parameter"], r["unit"], measure_text(centre[r["parameter"]]), measure_text(r["low"]),
                         measure_text(r["high"]), named(r["bound_source"], BOUND_ORIGINS),
                         measure_text(r["result_at_low"]), measure_text(r["result_at_high"]), measure_text(r["swing"])))
    out.print(t)
    if result.sobol is not None:
        attrs = result.sobol.attrs
        t = Table(title=escape(_("Sobol indices ({samples} base samples, {evaluations} evaluations, seed {seed}; uniform "
                          "between the bounds)").format(samples=attrs["samples"], evaluations=attrs["evaluations"],
                                                        seed=attrs["seed"])), title_justify="left")
        for col in (_("parameter"), _("first-order S1 [-]"), "± (95 %)", _("total ST [-]"), "± (95 %)"):
            t.add_column(escape(col), justify="left" if col == _("parameter") else "right")
        for r in result.sobol.to_dict(orient="records"):
            t.add_row(*cells(r["parameter"], *[f"{r[k]:.3f}" for k in ("S1", "S1_conf", "ST", "ST_conf")]))
        out.print(t)
    if len(result.not_varied):
        t = Table(title=escape(_("Not varied (at their central values)")), title_justify="left")
        for col in (_("parameter"), _("unit"), _("central"), _("central from"), _("reason")):
            t.add_column(escape(col), justify="right" if col == _("central") else "left")
        for r in result.not_varied.to_dict(orient="records"):
            value = r["value"]
            shown = "—" if value != value else measure_text(value)
            t.add_row(*cells(r["parameter"], r["unit"], shown, named(origin.get(r["parameter"], ""), CENTRAL_ORIGINS) or "—",
                             named(r["reason"], NOT_VARIED_REASONS)))
        out.print(t)
    line(_("Central values: the worked example's inputs, else a factor table (the example's region and fiscal year), "
           "else the default. Low and high values: --set, else the parameter's declared range."))
    line(_("Range of the result over these cases: [{low}, {high}] {unit}; the example's result is {where}.").format(
        low=measure_text(result.result_low), high=measure_text(result.result_high), unit=unit,
        where=_("at the favourable end (top 10 %)") if result.favourable else _("not at the favourable end (top 10 %)")))
    for text in result.warnings:
        line(_("warning: {text}").format(text=text), stderr=True)
