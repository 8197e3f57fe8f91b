"""koken's public API: what ``import koken`` promises (``koken.__all__``), and what the command line calls.

A notebook user computes from a pandas DataFrame, a file or a :class:`koken.portfolio.Portfolio`:

>>> import koken, pandas as pd
>>> df = pd.DataFrame({"methodology": ["refrigerator"], "fiscal_year": [2023], "market": ["domestic"],
...                    "units_shipped[万台]": [4.5], "baseline_annual_energy[kWh/yr]": [420],
...                    "product_annual_energy[kWh/yr]": [273], "grid_emission_factor[kg-CO2/kWh]": [0.421],
...                    "operating_years[yr]": [12]})
>>> calc = koken.calculate(df)
>>> row = calc.table.iloc[0]
>>> round(float(row["single_year[t-CO2e]"]), 1), round(float(row["lifetime[t-CO2e]"]))
(2784.9, 33419)

Every function names its units (result columns carry them: ``single_year[t-CO2e]``), raises
:class:`koken.KokenErrors` listing every problem of the input (file, row, column and what was expected),
and never writes a partial file. Single-year and lifetime figures are separate timeframes, never added;
avoided emissions are never netted against an inventory.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from koken.attribution import RatioFile, attribute, load_ratio_file
from koken.base.errors import KokenError, KokenErrors, Location
from koken.base.i18n import _
from koken.calculation import Calculation as _CoreCalculation
from koken.calculation import calculate as _calculate
from koken.factors import FactorTable, listing, load_factor_tables, overview
from koken.factors import gwp_rule as read_gwp_rule
from koken.library import Library, LibraryScan, load_library, scan_library
from koken.portfolio import Portfolio, PortfolioSource, build_portfolio, open_portfolio
from koken.portfolio.readers import DEFAULT_PARTITION_ROWS, FrameSource
from koken.results import RESULT_FORMAT, frame_document, result_document
from koken.scale.pipeline import RunResult
from koken.scale.pipeline import run as _run
from koken.scale.sinks import open_sink, sink_extra
from koken.sensitivity import DEFAULT_SAMPLES, DEFAULT_SEED, Sensitivity, methodology_sensitivity, parse_bounds
from koken.survival import Survival
from koken.totals import Totals, installed_base  # noqa: F401  (the command line's installed-base table)
from koken.uncertainty import ranged_values, ranges_notice
from koken.variants import (
    VARIANTS,  # noqa: F401  (the command line's variant names)
    read_customer_data,
    unmatched_problems,
)
from koken.variants import factor_path as variant_path

if TYPE_CHECKING:
    import pandas as pd

    from koken.audit.trace import TraceNode
    from koken.production.metrics import CompanyProgress
    from koken.production.rollup import Rollup
    from koken.production.submission import Submission
    from koken.reporting.action_plan import Report

_LAZY = {"claim": ("koken.claim", "make_claim"),  # koken claim (docs/claim.md)
         "claim_lines": ("koken.claim.statement", "statement_lines"),  # the command line's claim text
         "read_submission": ("koken.production.submission", "read_submission")}  # koken progress
"""Names imported on first use: a command that does not claim, report or read action-plan submissions does not load
those modules (docs/performance.md § Start-up)."""


def __getattr__(name: str):
    """The names of :data:`_LAZY`, imported on first use (PEP 562)."""
    if name not in _LAZY:
        raise AttributeError(f"module 'koken.api' has no attribute {name!r}")
    import importlib

    module, attribute = _LAZY[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value

_BUNDLED: Library | None = None


def bundled_library() -> Library:
    """The bundled library, loaded and checked once per process (what ``library=None`` means)."""
    global _BUNDLED
    if _BUNDLED is None:
        _BUNDLED = load_library()
    return _BUNDLED


def _library(library: Library | Mapping | str | Path | None) -> Library | Mapping:
    """``None``: the bundled library; a path: the bundled library plus that folder or file; else as given."""
    if library is None:
        return bundled_library()
    if isinstance(library, (str, Path)):
        return load_library(library)
    if not isinstance(library, Mapping):
        raise KokenError(_("library must be a koken.Library (koken.load_library(...)) or a path, not {kind}").format(
            kind=type(library).__name__))
    return library


def validate_methodologies(paths: Sequence[str | Path] = (), *, bundled: bool = True) -> LibraryScan:
    """Every problem of methodology files or folders, for ``koken validate``: the full work, whatever the start-up
    cache holds or this process compiled before (every file parsed and compiled, every worked example run;
    docs/performance.md § Start-up).

    Args:
        paths: files or folders read after the bundled ``methodologies/`` (or alone with ``bundled=False``).
        bundled: start from the bundled ``methodologies/``.

    Returns:
        The :class:`koken.library.LibraryScan` (files read, problems found); nothing is raised for a bad file.
    """
    from koken.base.cache import bypassed
    from koken.methodology.compile import forget_compiled

    forget_compiled()  # nor what this process compiled before (a `koken server` compiled the bundled files)
    with bypassed():
        return scan_library(list(paths) or None, bundled=bundled)


def start_dask_cluster(workers: int | None = None) -> None:
    """Start ``--engine dask``'s local cluster (``workers`` processes, default one per core) in the background, so
    that its workers start while the methodologies load; the next :func:`run` with ``engine="dask"`` and no
    scheduler takes it, and it is closed at exit otherwise. Nothing is raised here: a cluster that cannot start is
    reported by the run."""
    from koken.scale.dask_engine import start_local_cluster

    start_local_cluster(workers)


def refuse_overwrite(output: str | Path, inputs: Iterable[str | Path]) -> None:
    """An output that is one of the inputs would destroy it: refused before anything is written."""
    for source in inputs:
        if isinstance(source, (str, Path)) and Path(output).exists() and Path(source).exists() \
                and Path(output).resolve() == Path(source).resolve():
            raise KokenError(_("the output would overwrite an input file: choose another output file"),
                             Location(file=str(output)))


def _ratios(ratios: RatioFile | str | Path | None) -> RatioFile:
    return ratios if isinstance(ratios, RatioFile) else load_ratio_file(ratios)


def run_options(library: Library | Mapping, ratios: RatioFile, encoding: str | None = None,
                sheet: str | Sequence[str] | None = None, allow_stale_factors: bool = False,
                component_maker: bool = False, header_row: int | None = None,
                installed_base_year: int | None = None, survival: Survival | str | None = None,
                customer_data: str | Path | None = None, factor_path: str | None = None,
                gwp_rule: str | None = None) -> dict:
    """The options a run records in its results (None values are left out when recorded).

    Returns:
        ``{"encoding", "sheet", "header_row", "methodologies", "allow_stale_factors", "gwp_rule", "device_ratios",
        "mode", "installed_base_year", "survival", "customer_data", "factor_path"}``; ``gwp_rule`` as
        :func:`koken.factors.gwp_rule` reads it (``gwp100_ar4,gwp100_ar5@2024``).
    Raises:
        KokenError: a survival rule without an installed-base year, or one that cannot be read; an unknown factor
            path; an unknown GWP rule or set, or periods out of order.
        KokenErrors: every problem of the customer-data file.
    """
    customer = read_customer_data(customer_data).record() if customer_data is not None else None
    if factor_path is not None:
        variant_path(factor_path)  # an unknown id is refused before anything is computed
    if survival is not None and installed_base_year is None:
        raise KokenError(_("a survival rule applies to the installed-base figure: give its reporting year too "
                           "(--installed-base YEAR, installed_base_year=)"))
    if isinstance(survival, str):
        try:
            survival = Survival.parse(survival)
        except ValueError as err:
            raise KokenError(_("survival rule: {problem}").format(problem=err)) from None
    if installed_base_year is not None and survival is None:
        survival = Survival()
    return {"encoding": encoding, "sheet": ([sheet] if isinstance(sheet, str) else list(sheet)) if sheet else None,
            "header_row": header_row,
            "methodologies": getattr(library, "description", "custom"),
            "allow_stale_factors": allow_stale_factors or None,
            "gwp_rule": read_gwp_rule(gwp_rule).name if gwp_rule else None,
            "device_ratios": f"{ratios.id} ({ratios.path}, {ratios.content_hash})",
            "mode": "component_maker" if component_maker else None,
            "installed_base_year": installed_base_year,
            "survival": survival.record() if survival is not None else None,
            "customer_data": customer, "factor_path": factor_path}


@dataclasses.dataclass(frozen=True)
class Calculation(_CoreCalculation):
    """The results of :func:`calculate`: one row per product line, and what produced them.

    Attributes:
        table: pandas DataFrame, one row per product line in input order; columns name their units
            (``single_year[t-CO2e]``, ``lifetime[t-CO2e]``, ``avoided_per_unit_year[kg-CO2e/functional_unit/yr]``)
            and, per device class, the share attributed to devices (``device_single_year:<class>[t-CO2e]``),
            which is inside the figure (内数), never an addition.
        portfolio: the input, as read.
        methodologies: the methodologies used, by id.
        batches: per methodology, the inputs and every step's values (for traces).
        options: how the run was asked for (recorded in result files).
        ratios: the device contribution-ratio file used.
        notices: what the reader did that a person should know.
    """

    ratios: RatioFile | None = None
    notices: tuple[str, ...] = ()
    """What the reader did that a person should know (rows above the header skipped, a sheet without a portfolio
    skipped, columns carried through), in the language of the run."""

    @property
    def totals(self) -> Totals:
        """Sums by fiscal year, category, methodology and market; ``.summarise(["fiscal_year", "market"])``
        gives a DataFrame in t-CO2e and 万t-CO2e (timeframes in separate columns, never added)."""
        return Totals.from_table(self.table)

    def trace(self, row: int, sheet: str | None = None) -> TraceNode:
        """How row ``row``'s figures were obtained (the ``row`` column of :attr:`table`): every step, input,
        origin and unit conversion, recomputed with Pint independently of the vectorised kernel. In a workbook
        read from several sheets, ``sheet`` names the sheet when the row number is on more than one.

        Raises:
            KokenError: ``row`` is not an integer.
            KokenErrors: ``row`` is not a product line of the input (the message gives the rows there are).
        """
        if isinstance(row, bool) or not isinstance(row, numbers.Integral):
            raise KokenError(_("row must be an integer, the table's 'row' column (got {row!r})").format(row=row),
                             Location(file=self.portfolio.path))
        from koken.audit.trace import trace_portfolio

        return trace_portfolio(self, [int(row)], sheet=sheet)[0]

    def to_file(self, path: str | Path) -> Path:
        """Write the results to ``.json`` (provenance, every row with inputs and steps, totals), ``.csv`` or
        ``.parquet``, as ``koken calculate --output`` does (the same bytes apart from ``created``).

        Raises:
            KokenError: another extension, or the file cannot be written (nothing is left behind).
        """
        refuse_overwrite(path, [self.portfolio.path])
        sink = open_sink(path)
        try:
            sink.write(self.table, sink_extra(self, sink.needs))
            sink.close(self.provenance(), self.totals)
        except BaseException:
            sink.abort()
            raise
        return Path(path)

    def document(self) -> dict:
        """The JSON result document (what ``to_file("r.json")`` writes), as a dict."""
        return result_document(self)

    def report(self, fiscal_year: int | None = None, *, device_shares: bool = True,
               ratios: RatioFile | str | Path | None = None, output: str | Path | None = None,
               decimals: int = 0, company: str | None = None) -> Report:
        """The action plan's table of these results (万t-CO2e, device shares in brackets), as :func:`report` makes it.

        Args:
            fiscal_year: the reporting year, when the results hold several.
            device_shares: give the part attributed to devices (in brackets, 内数), or leave it out.
            ratios: the device ratio file (default: the one of this calculation).
            output: also write it: ``.html``, ``.xlsx``, ``.md`` or ``.csv`` (see :func:`report`).
            decimals: decimals of 万t-CO2e figures shown (0 to 3).
            company: the reporting company's name, put into the title (see :func:`report`).
        Returns:
            Report: ``table`` (t-CO2e, unrounded), ``lines``, ``fiscal_year``, ``disclosures``.
        Raises:
            KokenError / KokenErrors: as :func:`report`.
        """
        from koken.reporting.action_plan import build_report
        from koken.reporting.output import write_report

        _report_options(device_shares, ratios, decimals, company)
        chosen = _ratios(ratios) if ratios is not None else self.ratios or load_ratio_file(None)
        built = build_report([{**frame_document(self), "_path": self.portfolio.path, "_kind": "portfolio"}],
                             chosen if device_shares else None, fiscal_year, device_shares=device_shares,
                             company=company)
        if output is not None:
            refuse_overwrite(output, [self.portfolio.path])
            write_report(built, output, decimals)
        return built


def calculate(data: pd.DataFrame | str | Path | Portfolio, library: Library | Mapping | None = None, *,
              units: Mapping[str, str] | None = None, encoding: str | None = None,
              sheet: str | Sequence[str] | None = None, header_row: int | None = None,
              allow_stale_factors: bool = False, ratios: RatioFile | str | Path | None = None,
              component_maker: bool = False, installed_base_year: int | None = None,
              survival: Survival | str | None = None, customer_data: str | Path | None = None,
              factor_path: str | None = None, gwp_rule: str | None = None) -> Calculation:
    """Avoided emissions of every product line of ``data``, in memory (for files of any size, :func:`run`).

    Args:
        data: a pandas DataFrame (column names as file headers, units in them: ``出荷台数[万台]``,
            ``baseline_annual_energy[kWh/yr]``, or given by ``units``; cells may carry their own unit,
            ``"4.5 万台"``), a portfolio file (``.csv``, ``.xlsx``, ``.parquet``, ``.yaml``), or a Portfolio.
        library: the methodologies (default: the bundled library, checked as ``koken validate`` checks it).
        units: column name → unit, for a DataFrame whose names carry none (``{"units_shipped": "台"}``).
        encoding: a CSV file's encoding (default: UTF-8, else cp932).
        sheet: a workbook's sheet or sheets (default: every visible sheet holding a portfolio, i.e. a row that
            names koken's columns; a sheet named after a methodology needs no methodology column).
        header_row: the header's row in a CSV file or each sheet (default: the first row naming at least two of
            koken's columns, among the first 30; rows above it, a title or notes, are not read).
        allow_stale_factors: where a factor table lacks the row's fiscal year, use its latest earlier year
            (recorded in the results).
        ratios: the device contribution-ratio file (default: the shipped FY2023-report-implied ratios).
        component_maker: record the run as a component maker's (its attributed share beside the enabled total).
        installed_base_year: also compute the installed-base annual figure (stock view) of this reporting year:
            each row is a vintage (units shipped in its fiscal year), counted while in service, at this year's
            factors (``installed_base_annual[t-CO2e]``; :func:`koken.calculation.installed_base`).
        survival: how long units stay in service for the installed base: :class:`koken.survival.Survival`, or
            text (``"operating_years"``, the default: each row's operating years; ``"weibull:shape=2.5,scale=14"``).
        customer_data: a customer-data file (.csv, .xlsx): the customer-reflection variants beside the standard
            figures, each with its coverage (:mod:`koken.variants`, docs/variants.md).
        factor_path: the id of a forward grid-factor path (``factors/paths/``), a variant applied life-year by
            life-year (``jp_plan_fy2030``).
        gwp_rule: which GWP set converts gases to CO2e, by fiscal year: a rule of ``factors/rules/gwp.yaml``
            (``ar4``, ``ar5``, ``ar6``; default ``ar5``) or a declared one, ``gwp100_ar4,gwp100_ar5@2024`` (AR4 before
            FY2024, AR5 from it); recorded in the results (``gwp_set``, ``gwp``).
    Returns:
        Calculation.
    Raises:
        KokenErrors: every problem of the input at once, each with its file (``<DataFrame>``), row (the
            frame's index), column and what was expected; nothing is computed in part.
    """
    lib = _library(library)
    ratio_file = _ratios(ratios)
    options = run_options(lib, ratio_file, encoding, sheet, allow_stale_factors, component_maker, header_row,
                          installed_base_year, survival, customer_data, factor_path, gwp_rule)
    notices: list[str] = []
    portfolio = data if isinstance(data, Portfolio) else _read_whole(data, lib, units, encoding, sheet, header_row,
                                                                     notices)
    core = _calculate(portfolio, lib, options)
    if customer_data is not None:
        problems = unmatched_problems(read_customer_data(customer_data), set(core.customer_matched))
        if problems:
            raise KokenErrors(problems)
    if ranged_values(core.batches):  # point figures from ranges: said, so that they are not taken for the whole story
        notices.append(ranges_notice(ranged_values(core.batches)))
    return Calculation(table=attribute(core.table, ratio_file), portfolio=core.portfolio,
                       methodologies=core.methodologies, batches=core.batches, options=core.options, ratios=ratio_file,
                       notices=tuple(notices))


def _read_whole(data, library, units, encoding, sheet, header_row, notices: list[str]) -> Portfolio:
    """A DataFrame or a file as one partition, its cell problems collected (reported with the others)."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        source: PortfolioSource = FrameSource(data, library, units, partition_rows=None)
    else:
        if units is not None:
            raise KokenError(_("units= applies to a DataFrame; a file gives its units in its headers or units row"),
                             Location(file=str(data)))
        from koken.portfolio.build import read_source

        source = open_portfolio(data, library, encoding=encoding, sheet=sheet, partition_rows=None,
                                header_row=header_row)
        try:
            return read_source(source, library, collect=True)
        finally:
            notices.extend(source.notices)
    part = next(source.partitions())
    if part.problems:
        raise KokenErrors(list(part.problems))
    return build_portfolio(part.layout, source.sha256, part.block, library, first=True,
                           had_units_row=part.had_units_row)


def monte_carlo_options(draws: int | None, seed: int | None, samples: str | Path | None,
                        output: str | Path | None = None) -> dict | None:
    """The run option of a Monte Carlo run, ``{"draws", "seed", "samples"}`` (None for a point run).

    Raises:
        KokenError: a seed or samples file without draws, draws outside 2 … 1,000,000, a negative seed, a samples
            file that is not ``.parquet`` or is the result file.
    """
    import secrets

    from koken.montecarlo import MAX_DRAWS

    if draws is None:
        if seed is not None or samples is not None:
            raise KokenError(_("a seed and a samples file go with draws (--draws N)"))
        return None
    if not 2 <= int(draws) <= MAX_DRAWS or int(seed if seed is not None else 0) < 0:
        raise KokenError(_("draws must be 2 to {most:,} and the seed a whole number ≥ 0").format(most=MAX_DRAWS))
    if samples is not None and (Path(samples).suffix.lower() != ".parquet"
                                or (output is not None and Path(samples).resolve() == Path(output).resolve())):
        raise KokenError(_("the samples file must be a .parquet file other than the result file"),
                         Location(file=str(samples)))
    return {"draws": int(draws), "seed": int(seed) if seed is not None else secrets.randbits(32),
            "samples": str(samples) if samples is not None else None}


def run(data: str | Path | pd.DataFrame, library: Library | Mapping | None = None, *, output: str | Path | None = None,
        engine: str = "local", scheduler: str | None = None, workers: int | None = None,
        partition_rows: int = DEFAULT_PARTITION_ROWS, units: Mapping[str, str] | None = None,
        encoding: str | None = None, sheet: str | Sequence[str] | None = None, header_row: int | None = None,
        allow_stale_factors: bool = False, ratios: RatioFile | str | Path | None = None, component_maker: bool = False,
        installed_base_year: int | None = None, survival: Survival | str | None = None,
        customer_data: str | Path | None = None, factor_path: str | None = None, gwp_rule: str | None = None,
        draws: int | None = None, seed: int | None = None, samples: str | Path | None = None,
        progress: Callable[[int, int], None] | None = None,
        on_open: Callable[[PortfolioSource], None] | None = None) -> RunResult:
    """The main job for a portfolio of any size: read in partitions, compute, write ``output`` (``.json``,
    ``.csv``, ``.parquet``) only when no partition has a problem, and return the totals.

    Args:
        data: a portfolio file or a DataFrame.
        library: the methodologies (default: the bundled library).
        output: result file (optional).
        engine: ``local`` or ``dask`` (``scheduler``: a running cluster; ``workers``: a local cluster's size).
        partition_rows: rows per partition (results do not depend on it).
        units: as for :func:`calculate`.
        encoding: as for :func:`calculate`.
        sheet: as for :func:`calculate`.
        header_row: as for :func:`calculate`.
        allow_stale_factors: as for :func:`calculate`.
        ratios: as for :func:`calculate`.
        component_maker: as for :func:`calculate`.
        installed_base_year: as for :func:`calculate`.
        survival: as for :func:`calculate`.
        customer_data: as for :func:`calculate`.
        factor_path: as for :func:`calculate`.
        gwp_rule: as for :func:`calculate`.
        draws: Monte Carlo draws (docs/uncertainty.md): the result gains P5/P50/P95 per row and per total and its
            ``uncertainty`` record (:attr:`RunResult.uncertainty`); None: a point run.
        seed: the Monte Carlo seed (an int ≥ 0; default: a random one, recorded); the same seed gives the same
            numbers bit for bit, on either engine.
        samples: with draws, write every row's draws to this Parquet file.
        progress: called after each partition with (rows done, input bytes read).
        on_open: called with the opened source before computing (the command line sizes its progress bar).
    Returns:
        RunResult: ``totals`` (:class:`koken.totals.Totals`), ``provenance``, ``methodologies``, ``rows``.
    Raises:
        KokenErrors: every problem of the input (nothing is written).
        KokenError: unsupported output type, an output that would overwrite the input, Dask unavailable.
    """
    import pandas as pd

    lib = _library(library)
    ratio_file = _ratios(ratios)
    if isinstance(data, pd.DataFrame):
        source: PortfolioSource = FrameSource(data, lib, units, partition_rows=partition_rows)
    else:
        if output is not None and Path(output).exists() and Path(output).resolve() == Path(data).resolve():
            raise KokenError(_("the output would overwrite an input file: choose another output file"),
                             Location(file=str(output)))
        source = open_portfolio(data, lib, encoding=encoding, sheet=sheet, partition_rows=partition_rows,
                                header_row=header_row)
    if on_open is not None:
        on_open(source)
    options = run_options(lib, ratio_file, encoding, sheet, allow_stale_factors, component_maker, header_row,
                          installed_base_year, survival, customer_data, factor_path, gwp_rule)
    options["uncertainty"] = monte_carlo_options(draws, seed, samples, output)
    return _run(source, lib, ratio_file, options, output=output, engine=engine, scheduler=scheduler,
                workers=workers, progress=progress)


COMPANY_LENGTH = 200
"""The longest company name a report's title takes (characters)."""


def _report_options(device_shares: bool, ratios: object, decimals: int, company: object = None) -> None:
    """The report's switches, checked before anything is read.

    Raises:
        KokenError: ``device_shares`` not a bool, a ratio file with device shares off, ``decimals`` not 0 to 3, a
            company name that is not one line of text of at most :data:`COMPANY_LENGTH` characters.
    """
    from koken.reporting.action_plan import MAX_DECIMALS

    if company is not None and (not isinstance(company, str) or not company.strip() or "\n" in company
                                or len(company) > COMPANY_LENGTH):
        raise KokenError(_("the company name must be one line of text of 1 to {most} characters (got {value!r})")
                         .format(most=COMPANY_LENGTH, value=company if not isinstance(company, str) else company[:40]))
    if not isinstance(device_shares, bool):
        raise KokenError(_("device_shares must be True or False (got {value!r})").format(value=device_shares))
    if not device_shares and ratios is not None:
        raise KokenError(_("a ratio file gives device shares: leave it out when device shares are off"))
    if isinstance(decimals, bool) or not isinstance(decimals, numbers.Integral) or not 0 <= decimals <= MAX_DECIMALS:
        raise KokenError(_("decimals must be a whole number from 0 to {most} (got {value!r})").format(
            most=MAX_DECIMALS, value=decimals))


def report(results: Sequence[str | Path] = (), portfolio: str | Path | pd.DataFrame | None = None,
           library: Library | Mapping | None = None, *, ratios: RatioFile | str | Path | None = None,
           device_shares: bool = True, fiscal_year: int | None = None, output: str | Path | None = None,
           decimals: int = 0, company: str | None = None) -> Report:
    """The action plan's table: avoided emissions by category and market in 万t-CO2e, single-year and lifetime
    apart, the device share in brackets (内数), with the disclosures the standards ask for.

    ``report(["examples/portfolio_fy2023.csv"], output="report.html")`` calculates the portfolio and writes the
    HTML report; ``report(["r2022.json", "r2023.json"], fiscal_year=2023)`` reports FY2023 from two results.

    Args:
        results: JSON or Parquet result files (``koken calculate --output r.json`` or ``r.parquet``: a Parquet
            result is read a column and a row group at a time, each line's inputs and steps only for the lines the
            report shows; docs/performance.md), or portfolio files (``.csv``, ``.xlsx``, ``.parquet``, ``.yaml``:
            calculated here with ``library``); a ``.parquet`` file whose header has ``single_year[t-CO2e]`` is a
            result; a ``.csv`` or workbook result of ``koken calculate`` is refused (it does not record each
            line's origins as a report discloses them).
        portfolio: a portfolio (file or DataFrame) to calculate and report, beside or instead of results.
        library: the methodologies for ``portfolio`` (default: bundled).
        ratios: the device ratio file (default: the shipped FY2023-report-implied ratios, which every output
            then names as such).
        device_shares: give the part attributed to devices (in brackets), or leave it out (no brackets; the
            notes say device shares are not reported).
        fiscal_year: the reporting year, when the results hold several.
        output: also write it: ``.html`` (one self-contained page in the current language: the table, charts as
            inline SVG each with its data table, the disclosures; docs/html-report.md), ``.xlsx`` (the workbook to
            submit: table, detail and disclosures sheets), ``.md`` or ``.csv`` (full precision).
        decimals: decimals of 万t-CO2e figures in the workbook's number formats and in Markdown (0 to 3); a
            non-zero figure that would round to 0 gets more decimals (up to 3) or shows as ``<0.001``.
        company: the reporting company's name, put into the title of every output (``Example Denki: avoided
            emissions, FY2023``) and the disclosures; None for none.
    Returns:
        Report: ``table`` (one row per category and market, t-CO2e, unrounded), ``lines`` (the product lines;
        beyond :data:`koken.reporting.action_plan.DETAIL_LINES_LIMIT` lines from a Parquet result or a portfolio,
        only each methodology's largest carry their ``inputs`` and ``steps``),
        ``fiscal_year``, ``disclosures``, ``ratios`` (None when device shares are off).
    Raises:
        KokenError / KokenErrors: unreadable results, a portfolio's problems (every one, located), mixed years
            without ``fiscal_year``, an unsupported output type, ``ratios`` with ``device_shares=False``,
            ``decimals`` outside 0 to 3 (nothing is written).
    """
    from koken.reporting.action_plan import PORTFOLIO_SUFFIXES, build_report, is_result_file, load_result_documents
    from koken.reporting.output import write_report

    _report_options(device_shares, ratios, decimals, company)
    ratio_file = _ratios(ratios) if device_shares else None
    results = [results] if isinstance(results, (str, Path)) else list(results)
    kinds = [is_result_file(p) for p in results]
    portfolios = [p for p, result in zip(results, kinds) if not result]
    documents = load_result_documents([p for p, result in zip(results, kinds) if result])
    refused = [KokenError(_("neither a koken JSON result (format {format!r}) nor a portfolio (.csv, .xlsx, .parquet or "
                            ".yaml)").format(format=RESULT_FORMAT), Location(file=str(p)))
               for p in portfolios if Path(p).suffix.lower() not in PORTFOLIO_SUFFIXES]
    if refused:
        raise KokenErrors(refused)
    notices: list[str] = []
    for source in [*portfolios, *([portfolio] if portfolio is not None else [])]:
        calc = calculate(source, library)
        notices.extend(calc.notices)
        name = "<DataFrame>" if not isinstance(source, (str, Path)) else str(source)
        documents.append({**frame_document(calc), "_path": name, "_kind": "portfolio"})
    if not documents:
        raise KokenError(_("give result files (koken calculate --output x.json) or a portfolio"))
    built = build_report(documents, ratio_file, fiscal_year, device_shares=device_shares, company=company)
    built = dataclasses.replace(built, notices=tuple(notices))
    if output is not None:
        refuse_overwrite(output, [*results, portfolio])
        write_report(built, output, decimals)
    return built


@dataclasses.dataclass
class Progress:
    """Action-plan progress: ``companies`` (each a :class:`koken.production.metrics.CompanyProgress` with
    ``years``, ``carriers``, ``measures``, ``renewables`` as DataFrames, units in the column names) and
    ``rollup`` (the industry's tables when several submissions were combined); ``company_only``: one company's
    view (the fields of :class:`koken.production.export.ProgressView`, whose functions it calls; that module is
    imported on first use)."""

    companies: list[CompanyProgress]
    rollup: Rollup | None
    company_only: bool = False

    def to_markdown(self) -> str:
        """The tables and notes as Markdown (Japanese and English headers)."""
        from koken.production.export import to_markdown

        return to_markdown(self)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables as displayed (strings), keyed ``"<company>: intensity"`` … and ``"industry: totals"`` …;
        a company's view has the industry's totals and targets only."""
        from koken.production.export import company_tables, industry_tables

        out = {f"{c.company}: {key}": frame for c in self.companies for key, frame in company_tables(c).items()}
        if self.rollup is not None:
            shown = industry_tables(self.rollup)
            for key in ("totals", "targets") if self.company_only else shown:
                out[f"industry: {key}"] = shown[key]
        return out

    def titled_tables(self) -> list[tuple[str, pd.DataFrame]]:
        """The same tables, each with its title in the chosen language (what ``koken progress`` prints)."""
        from koken.production.export import titled_tables

        return titled_tables(self)

    def notes(self) -> list[str]:
        """The definitions, rules and sources behind the figures, as sentences (in the chosen language)."""
        from koken.production.export import notes

        return notes(self)

    def document(self) -> dict:
        """JSON-ready data: unrounded figures, definitions, origins and hashes."""
        from koken.production.export import to_document

        return to_document(self)

    def to_file(self, path: str | Path) -> None:
        """Write ``.md``, ``.xlsx`` or ``.json``, whole or not at all."""
        from koken.production.export import write_progress

        write_progress(self, path)


def progress(submissions: str | Path | Submission | Sequence[str | Path | Submission], *, company: str | None = None,
             fiscal_year: int | None = None, output: str | Path | None = None) -> Progress:
    """Action-plan progress of the production process: each company's energy intensity against the commit
    target (1 % a year) and CO2 against the challenge target (−46 % by FY2030 against FY2013), and, from
    several submissions, the industry's totals, investment and renewables tables.

    Args:
        submissions: submission files (``.yaml``, ``.csv``, ``.xlsx`` of ``koken template progress``) or read
            :class:`Submission` objects.
        company: show this company's figures and the industry's totals only (never another company's).
        fiscal_year: the reporting year of the investment table (default: the latest submitted).
        output: also write it (``.md``, ``.xlsx``, ``.json``).
    Returns:
        :class:`Progress`.
    Raises:
        KokenErrors: every problem of every submission (located), submissions that cannot be combined
            (different intensity definitions or base years, a company twice), an unknown company.
    """
    from koken.production.metrics import company_progress
    from koken.production.rollup import company_view, rollup
    from koken.production.submission import Submission, read_submission

    items = [submissions] if isinstance(submissions, (str, Path, Submission)) else list(submissions)
    if not items:
        raise KokenErrors([KokenError(_("give at least one submission file"))])
    problems: list[KokenError] = []
    companies: list[CompanyProgress] = []
    for item in items:
        try:
            companies.append(company_progress(item if isinstance(item, Submission) else read_submission(item)))
        except KokenErrors as errs:
            problems.extend(errs)
    if problems:
        raise KokenErrors(problems)
    combined = rollup(companies, fiscal_year) if len(companies) > 1 or company is None else None
    if company is not None:
        view = company_view(company, combined or rollup(companies, fiscal_year))
        result = Progress(companies=[view["company"]], rollup=combined if len(companies) > 1 else None, company_only=True)
    else:
        result = Progress(companies=companies, rollup=combined if len(companies) > 1 else None)
    if output is not None:
        refuse_overwrite(output, [i for i in items if isinstance(i, (str, Path))])
        result.to_file(output)
    return result


def submission_template(path: str | Path) -> None:
    """Write the action-plan submission template (XLSX: the 提出 submission sheet and 説明 instructions).

    Raises:
        KokenError: ``path`` is not an ``.xlsx`` file.
    """
    from koken.base.files import atomic_write
    from koken.production.export import template_xlsx

    if Path(path).suffix.lower() != ".xlsx":
        raise KokenError(_("a template is an .xlsx workbook"), Location(file=str(path)))
    atomic_write(path, template_xlsx())


def find_methodologies(names: Sequence[str] = (), library: Library | Mapping | None = None) -> list:
    """The methodologies ``names`` name (ids, titles such as ``電気冷蔵庫``, aliases), or all, in category order.

    Raises:
        KokenErrors: a name no methodology answers to (with the closest one).
    """
    from koken.portfolio.template import resolve_methodologies

    return resolve_methodologies(list(names), _library(library))


def portfolio_template(path: str | Path, methodologies: Sequence[str] = (),
                       library: Library | Mapping | None = None, *, combined: bool = False,
                       overwrite: bool = False) -> list[str]:
    """Write a portfolio template to fill in Excel: a sheet per methodology (or one ``combined`` sheet), with
    headers in Japanese and English, the units row, lists for market, fiscal year and region, a comment on each
    header (description, unit, range, default, sources) and instructions (説明). A filled template is read back
    by :func:`calculate` and ``koken calculate`` as it is (every sheet at once).

    Args:
        path: the workbook to write (``.xlsx``).
        methodologies: ids, titles (``電気冷蔵庫``) or aliases; none: every methodology of the library.
        library: the methodologies (default: bundled).
        combined: one sheet with a methodology column instead of a sheet per methodology.
        overwrite: replace ``path`` if it exists (by default an existing file, perhaps a filled template, is kept).
    Returns:
        The ids of the methodologies in the template.
    Raises:
        KokenError: ``path`` is not an ``.xlsx`` file, or it exists and ``overwrite`` is not given.
        KokenErrors: a name no methodology answers to (with the closest one).
    """
    from koken.base.files import atomic_write
    from koken.portfolio.template import resolve_methodologies, template_workbook

    if Path(path).suffix.lower() != ".xlsx":
        raise KokenError(_("a template is an .xlsx workbook"), Location(file=str(path)))
    if Path(path).exists() and not overwrite:
        raise KokenError(_("the file exists (perhaps a filled template): choose another name, or replace it with "
                           "--overwrite"), Location(file=str(path)))
    chosen = resolve_methodologies(list(methodologies), _library(library))
    atomic_write(path, template_workbook(chosen, combined=combined))
    return [m.id for m in chosen]
def _factor_tables(root: str | Path | None) -> dict[str, FactorTable]:
    tables, problems = load_factor_tables(root)
    if problems:
        raise KokenErrors(problems)
    return tables


def factor_tables(root: str | Path | None = None) -> pd.DataFrame:
    """What the factor tables hold: one row per table (what ``koken factors`` prints).

    Args:
        root: a folder of factor tables (default: the bundled ``factors/``).
    Returns:
        DataFrame ``table, title, unit, keys, regions, fiscal_years, entries, sources`` (regions and years as
        text, e.g. ``JP, US`` and ``2013-2023``), sorted by table id.
    Raises:
        KokenErrors: a table file breaks the format (every problem, each naming its file and field).
    """
    return overview(_factor_tables(root))


def factor_entries(table: str | None = None, *, region: str | None = None, fiscal_year: int | None = None,
                   root: str | Path | None = None) -> pd.DataFrame:
    """The entries of a factor table (or of every table), each with its value, unit, basis, status and source
    (what ``koken factors TABLE`` prints).

    >>> grid = factor_entries("grid_emission_factor", region="JP", fiscal_year=2023)
    >>> grid.loc[grid["default"], ["value", "unit", "basis", "status"]].values.tolist()
    [[0.421, 'kg-CO2/kWh', 'adjusted', 'preliminary']]

    Args:
        table: a table id (``grid_emission_factor``); None: every table.
        region: only this region (``JP``; case-insensitive); tables without a region key drop out.
        fiscal_year: only this fiscal year; tables without a fiscal-year key drop out.
        root: a folder of factor tables (default: the bundled ``factors/``).
    Returns:
        DataFrame, one row per entry: ``table``, its key columns, ``value`` (in ``unit``), ``unit``, ``basis``,
        ``status`` (final, preliminary, published, derived), ``default`` (True: the value a lookup returns),
        ``source``, ``source_title``, ``publisher``, ``source_year``, ``url``, ``note`` (docs/factors.md).
    Raises:
        KokenError: ``table`` is not a table id (the message lists them).
        KokenErrors: a table file breaks the format.
    """
    return listing(_factor_tables(root), table, region=region, fiscal_year=fiscal_year)


def trace(calc: Calculation, row: int, sheet: str | None = None) -> TraceNode:
    """How one product line's figures were obtained (see :meth:`Calculation.trace`)."""
    return calc.trace(row, sheet)


def trace_rows(data: str | Path | pd.DataFrame, rows: Iterable[int] | None = None,
               library: Library | Mapping | None = None, *, encoding: str | None = None,
               sheet: str | None = None) -> list[TraceNode]:
    """Traces of a portfolio's product lines (all, or the given rows), for ``koken trace PORTFOLIO``.

    Rows asked for are computed alone (issue 17 §4): the file is read and its cells checked whole (a cell that
    cannot be read anywhere stops the trace, as it stops ``koken calculate``), then only those product lines are
    evaluated; each row's trace is the one a trace of every row gives it.

    Raises:
        KokenErrors: the portfolio's problems (with ``rows``: the file's cell problems and the rows' own).
    """
    if not rows:
        from koken.audit.trace import trace_portfolio

        calc = calculate(data, library, encoding=encoding, sheet=sheet)
        return trace_portfolio(calc, None, sheet=sheet)
    import numpy as np

    from koken.audit.trace import trace_portfolio, traced_positions
    from koken.portfolio.build import take_rows

    lib = _library(library)
    options = run_options(lib, _ratios(None), encoding, sheet)
    portfolio = data if isinstance(data, Portfolio) else _read_whole(data, lib, None, encoding, sheet, None, [])
    asked = list(rows)
    part = take_rows(portfolio, np.unique(traced_positions(portfolio, asked, sheet)))
    problems = list(portfolio.problems)
    try:  # the rows' own problems are named with the file's, all at once
        calc = _calculate(part, lib, options)
    except KokenErrors as errs:
        problems += [e for e in errs.errors if e not in problems]
    if problems:
        raise KokenErrors(sorted(problems, key=lambda e: (e.location.sheet or "", e.location.row or 0,
                                                          e.location.column or "")))
    return trace_portfolio(calc, asked, sheet=sheet)


def trace_target(target: str | Path, library: Library | Mapping | None = None, *, rows: Iterable[int] = (),
                 settings: Sequence[str] = (), region: str | None = None, fiscal_year: int | None = None,
                 encoding: str | None = None, sheet: str | None = None) -> list[TraceNode]:
    """What ``koken trace TARGET`` traces: a portfolio file's rows (all, or ``rows``), or one calculation of the
    methodology ``TARGET`` from ``name=value unit`` settings (factor tables by ``region``/``fiscal_year``).

    Raises:
        KokenError: settings given with a portfolio, or a target that is neither a file nor a methodology id.
        KokenErrors: the portfolio's or the settings' problems.
    """
    lib = _library(library)
    if Path(target).is_file():
        if settings or region or fiscal_year:
            raise KokenError(_("--set, --region and --fiscal-year go with a methodology id, not a portfolio"))
        return trace_rows(target, rows, lib, encoding=encoding, sheet=sheet)
    if str(target) in lib:
        from koken.audit.trace import trace_settings

        return [trace_settings(lib[str(target)], list(settings), region, fiscal_year)]
    import difflib

    hint = difflib.get_close_matches(str(target), list(lib), n=1)
    if hint:
        raise KokenError(_("{target!r} is neither a portfolio file nor a methodology id; did you mean {hint!r}?").format(
            target=str(target), hint=hint[0]))
    raise KokenError(_("{target!r} is neither a portfolio file nor a methodology id").format(target=str(target)))


def sensitivity(methodology: str, library: Library | Mapping | None = None, *, example: int = 1,
                bounds: Mapping[str, tuple[float, float]] | Sequence[str] | None = None,
                samples: int | None = DEFAULT_SAMPLES, seed: int = DEFAULT_SEED,
                chart: str | Path | None = None) -> Sensitivity:
    """How a methodology's result depends on its parameters, around a worked example (``koken sensitivity``):
    a tornado table (each parameter at its low and high value, the others central), Sobol indices (SALib) and
    whether the example's result sits at the favourable end of its range (docs/sensitivity.md).

    >>> s = sensitivity("refrigerator", samples=None)   # its first example: 420 → 273 kWh/yr
    >>> top = s.tornado.iloc[0]                         # the grid factor over its declared [0, 2] kg-CO2/kWh
    >>> top["parameter"], top["bound_source"], round(float(top["swing"]), 6)   # (420 − 273) × (2 − 0) kg-CO2e/台/yr
    ('grid_emission_factor', 'declared_range', 294.0)

    Args:
        methodology: a methodology id, title (``電気冷蔵庫``) or alias.
        library: the methodologies (default: bundled).
        example: the worked example used as the central case (1: the first).
        bounds: low and high values in each parameter's declared unit, ``{"grid_emission_factor": (0.3, 0.5)}``,
            or texts ``"grid_emission_factor=0.3..0.5"`` (a unit may follow: ``"...=300..500 g-CO2/kWh"``); other
            parameters take their declared range, or are listed as not varied.
        samples: base samples of the Sobol analysis (a power of 2), or None to skip it.
        seed: the Sobol sampling's seed (recorded in the result).
        chart: also write the tornado chart to this ``.svg`` file (in the current language).
    Returns:
        :class:`koken.sensitivity.Sensitivity`: ``tornado``, ``sobol``, ``not_varied``, ``central``, ``favourable``,
        ``warnings``; ``document()`` for JSON.
    Raises:
        KokenError: an unknown methodology, no such example, a chart file that is not ``.svg``.
        KokenErrors: every bad bound and every case whose evaluation fails (each named by its parameter and bound).
    """
    from koken.base.files import atomic_write
    from koken.portfolio.template import resolve_methodologies
    from koken.reporting.html.sections.sensitivity import tornado_document

    if chart is not None and Path(chart).suffix.lower() != ".svg":
        raise KokenError(_("the chart is an .svg file"), Location(file=str(chart)))
    (m,) = resolve_methodologies([methodology], _library(library))
    given = parse_bounds(m, list(bounds)) if bounds is not None and not isinstance(bounds, Mapping) else bounds
    result = methodology_sensitivity(m, example, given, samples, seed)
    if chart is not None:
        if result.tornado.empty:
            raise KokenError(_("no parameter is varied: there is no tornado to draw (give bounds with --set)"),
                             Location(file=str(chart)))
        atomic_write(chart, tornado_document(result.tornado).encode("utf-8"))
    return result
