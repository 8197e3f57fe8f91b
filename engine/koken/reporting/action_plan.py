"""``koken report``: the action plan's table of avoided emissions, with device shares in brackets.

Layout of the industry's Carbon Neutral Action Plan results (FY2023 progress report): rows power
generation, home appliances, industrial equipment, IT products, solutions; columns domestic and
overseas, each single-year and lifetime; unit 万t-CO2e; the part attributed to semiconductors and
electronic components in brackets inside the lifetime figure, e.g. ``1,512 (552)``.

Rules kept (GHG Protocol Scope 3 Standard ch. 9 and Box 9.4: avoided emissions reported separately,
with their method and assumptions; WBCSD Guidance on Avoided Emissions, 2023: one timeframe per
claim; 電機・電子温暖化対策連絡会: device shares reported as a part (内数) of the set-product figures):

* single-year and lifetime figures are separate timeframes: :class:`Figure` refuses to add them;
* one reporting (fiscal) year per table;
* device shares are inside the set-product figures, never added to them; they can be left out
  (``device_shares=False``), and the notes say which ratios were used;
* avoided emissions stand apart from Scope 1-3 inventories and are never netted;
* rounding happens only here, at presentation, with a note that rows may not add up to the total; a
  non-zero figure is never shown as 0 (:func:`shown_decimals`).

Every sentence is written once in English inside ``_()`` and translated in the catalogue (docs/i18n.md):
Markdown, the console and the CSV follow the chosen language; the workbook has its labels and notes in
Japanese and English both (:func:`both`).
"""

from __future__ import annotations

import io
import json
import math
import re
import unicodedata
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from koken.attribution import RatioFile, attribute, device_columns, load_ratio_file
from koken.base.errors import KokenError, KokenErrors, Location, TimeframeError
from koken.base.i18n import N_, _, current_language, language, named, pick
from koken.base.text import printable
from koken.base.vocabulary import (
    BASELINE_TYPES,
    CATEGORIES,
    CONTRIBUTION_ROLES,
    FACTOR_BASES,
    FACTOR_STATUSES,
    FIGURES,
    LEGITIMACY_FLAGS,
    MARKETS,
    PROVENANCE_SHEET,
)
from koken.results import DETAIL_KEYS as RESULT_DETAIL_COLUMNS
from koken.results import (
    FORMULA_TRIGGERS,
    GRID_FACTOR_COLUMNS,
    GRID_FACTOR_INPUT,
    RESULT_FORMAT,
    is_parquet,
    read_parquet_details,
    read_parquet_lines,
    read_result_hashed,
)
from koken.totals import MAN

CATEGORY_ROWS = tuple(tuple(c) for c in CATEGORIES)
"""The table's rows: (category id, Japanese, English), in the report's order."""

MAX_DECIMALS = 3
"""The most decimals a 万t-CO2e figure of the table is shown with; a non-zero figure smaller than half of
10⁻³ 万t (5 t-CO2e) is shown as ``<0.001``."""

DETAIL_LINES_LIMIT = 20_000
"""Product lines the workbook's detail sheet lists one by one (about 1 s per 1,000 lines to write); beyond it the
sheet says where the lines are (the result files), so that a report of a very large portfolio stays quick to
write and a workbook a spreadsheet opens."""

LINES_SHOWN_PER_METHODOLOGY = 100
"""From a Parquet result or a portfolio, the product lines of each methodology and version whose inputs and steps
:attr:`Report.lines` carries whole: its largest by lifetime figure (ties: the first in the results), at least as
many as the HTML report shows one by one (its largest lines and each methodology's). The other lines of a reporting
year of up to :data:`DETAIL_LINES_LIMIT` lines carry the inputs the detail sheet lists (those not taken from the
portfolio) and no steps; beyond it, nothing but their figures (their inputs and steps stay in the result file)."""

# ------------------------------------------------------------------------------------------ the texts
# Written once in English, translated in engine/koken/locale/ja/LC_MESSAGES/koken.po, shown with _(…).

TITLE = N_("Avoided emissions, FY{year}")
UNIT_LINE = N_("Unit: 万t-CO2e (1万t = 10,000 t-CO2e)")
CATEGORY = N_("Category")
TOTAL = N_("Total")
SINGLE_YEAR = N_("{market} single-year")
LIFETIME = N_("{market} lifetime")
LIFETIME_DEVICES = N_("{market} lifetime (devices)")
SINGLE_YEAR_HEADER = N_("Single-year")
LIFETIME_HEADER = N_("Lifetime")
DEVICES_HEADER = N_("of which devices")
NOTES = N_("Notes")
TABLE_SHEET = N_("Avoided emissions")
DETAIL_SHEET = N_("Detail")
DISCLOSURES_SHEET = N_("Disclosures")

YEAR_NOTE = N_("Reporting year: FY{year}. Unit: 万t-CO2e (1万t = 10,000 t-CO2e).")
TITLE_COMPANY = N_("{company}: avoided emissions, FY{year}")
TIMEFRAMES = N_("Single-year figures (products shipped in the year, over one year of use) and lifetime figures (the "
                "same products over their operating years) are separate timeframes and are never added together.")
BRACKETS = N_("Figures in brackets are the part attributed to semiconductors and electronic components: they are "
              "included in (内数) the lifetime figure before them, never added to it.")
SHIPPED_RATIOS = N_("Device shares use the ratios implied by the industry's FY2023 table ({id}: category and market "
                    "averages shipped with koken), not ratios of your own products; a ratio file of your own replaces "
                    "them (--ratios FILE).")
RATIO_FILE = N_("Device shares use the ratio file {id} ({path}; basis {basis}; source: {source}; {hash}).")
DEVICES_OFF = N_("Device shares (semiconductors and electronic components) are not reported in this report.")
NO_RATIO = N_("A lifetime figure without a bracket: the ratio file gives no device share for that category and "
              "market.")
NO_LINES = N_("—: no product lines in that category and market.")
COMPLETENESS_NOTE = N_("Completeness: {text}")
COMPLETENESS = N_("All {lines} product lines of FY{year} are counted ({files} file(s) read).")
NO_NEGATIVES = N_("No product line has a negative figure (a product worse than its baseline); such a line would be "
                  "counted as it is, not set to 0.")
NEGATIVES = N_("{negatives} product line(s) have a negative figure (the product is worse than its baseline): counted "
               "as they are, not set to 0.")
OTHER_YEARS = N_("The files also hold {lines} product lines of other fiscal years ({years}): they are not counted in "
                 "the FY{year} figures.")
SEPARATION = N_("Avoided emissions (削減貢献量) are reported apart from Scope 1-3 inventories and are never netted "
                "against them.")
GWP = N_("GWP set: {gwp}.")
RANGES_WITHHELD = N_("P5-P95 ranges are not shown: the reporting year's lines come from several files, and percentiles "
                     "do not add. Calculate all the lines in one run with --draws to get the totals' ranges.")
RANGES_TITLE = N_("Uncertainty of the totals (P5-P95)")
RANGES_NOTE = N_("Monte Carlo, {draws} draws, seed {seed}: each total's own percentiles (percentiles do not add, so a "
                 "total's P5 is not the sum of its parts' P5).")
ALL_CATEGORIES = N_("All categories")
ALL_MARKETS = N_("All markets")
TIMEFRAME = N_("Timeframe")
CENTRAL = N_("Central")
FLAG_NOTE = N_("Methodology to note, {id}: {text}.")
ROUNDING = N_("Figures are rounded for presentation only, so rows may not add up to the totals; a non-zero figure "
              "that would round to 0 is shown with more decimals (up to 3) or as <0.001.")
ROUNDING_SIGNIFICANT = N_("Figures are rounded for presentation only, so rows may not add up to the totals; each "
                          "figure is shown with at least {digits} significant digits (with at most 3 decimals), a "
                          "smaller one as <0.001.")
METHODOLOGIES = N_("Methodologies: {items}.")
METHODOLOGY_NAME = N_("{title} ({id} {version})")
METHODOLOGY_ITEM = N_("{methodology}: baseline {baseline}, role {role}")
GRID_FACTORS = N_("Grid emission factors: {items}.")
GRID_FACTOR = N_("FY{year}, {region}: {value} {unit} — {origin}")
GRID_FACTORS_GIVEN = N_("FY{year}, {region}: {count} values from {low} to {high} {unit} in {lines} product lines — "
                        "{origin}")
SEE_SHEETS = N_("Methodologies and their versions, emission factors, the ratio file and the result files are on the "
                "sheet {disclosures}; the unrounded figures of every product line are on the sheet {detail}.")
DETAIL_TOO_LONG = N_("{lines} product lines: more than a sheet lists here ({limit}). Every line, with its unrounded "
                     "figures and origins, is in the result files (koken calculate -o result.csv).")
DEVICES_NOT_REPORTED = N_("not reported")
SHIPPED_SHORT = N_("{id}: industry averages implied by the FY2023 table (shipped default)")
RESULT_FILE = N_("{name}: result of koken calculate ({hash}), created {created} from the portfolio {input} ({input_hash})")
PORTFOLIO_FILE = N_("{name}: portfolio, calculated for this report ({hash})")

DISCLOSURE_LABELS = {
    "company": N_("Company"),
    "reporting_year": N_("Reporting year"),
    "unit": N_("Unit"),
    "timeframes": N_("Timeframes"),
    "methodologies": N_("Methodology"),
    "grid_emission_factors": N_("Grid emission factor"),
    "other_years_grid_emission_factors": N_("Grid emission factor, other fiscal years (trend)"),
    "gwp_sets": N_("GWP set"),
    "device_shares": N_("Device shares"),
    "device_ratios": N_("Ratio file"),
    "completeness": N_("Completeness"),
    "separation": N_("Separation from inventories"),
    "devices": N_("Devices (内数)"),
    "rounding": N_("Rounding"),
    "result_files": N_("Input file"),
    "created": N_("Report created"),
    "methodology_flags": N_("Methodologies to note"),
}
"""Label of each item of :attr:`Report.disclosures`, for the workbook's disclosures sheet."""

DETAIL_COLUMNS = (
    ("result_file", N_("Result file")), ("row", N_("Row")), ("sheet", N_("Sheet")), ("product_line", N_("Product line")),
    ("methodology", N_("Methodology")), ("methodology_version", N_("Version")), ("category", N_("Category")),
    ("fiscal_year", N_("FY")), ("market", N_("Market")), ("region", N_("Region")),
    ("units_shipped_as_entered", N_("Units shipped as entered")), ("units_shipped", N_("Units shipped")),
    ("functional_unit", N_("Functional unit")), ("operating_years[yr]", N_("Operating years [yr]")),
    ("single_year[t-CO2e]", N_("Single-year [t-CO2e]")), ("lifetime[t-CO2e]", N_("Lifetime [t-CO2e]")),
    ("single_year[万t-CO2e]", N_("Single-year [万t-CO2e]")), ("lifetime[万t-CO2e]", N_("Lifetime [万t-CO2e]")),
    ("device_ratio", N_("Device ratio")), ("device_single_year[t-CO2e]", N_("Devices, single-year [t-CO2e]")),
    ("device_lifetime[t-CO2e]", N_("Devices, lifetime [t-CO2e]")), ("device_ratio_basis", N_("Ratio basis")),
    ("origins", N_("Values not from the portfolio")),
)
"""The detail sheet's columns: (key, label); figures carry their unit in the label. ``origins``: each input
that did not come from the portfolio, with its value, unit and origin (factor table and source, or the
methodology's default)."""

_DEVICE_DETAIL = {"device_ratio", "device_single_year[t-CO2e]", "device_lifetime[t-CO2e]", "device_ratio_basis"}


@dataclass(frozen=True)
class Figure:
    """An avoided-emissions figure in t-CO2e with its timeframe; only same-timeframe figures add up.

    Raises:
        TimeframeError: on adding a figure of another timeframe (or anything that is not a Figure).
    """

    value: float
    timeframe: str  # "single_year" or "lifetime"

    def __add__(self, other: Figure) -> Figure:
        if not isinstance(other, Figure) or other.timeframe != self.timeframe:
            raise TimeframeError(_("cannot add a {other} figure to a {this} figure: single-year (flow) and lifetime "
                                   "figures are never added").format(
                other=getattr(other, "timeframe", type(other).__name__), this=self.timeframe))
        return Figure(self.value + other.value, self.timeframe)


@dataclass(frozen=True)
class Report:
    """The aggregated table (t-CO2e, unrounded), the product lines behind it and the disclosures that go with it.

    Attributes:
        table: one row per category and market (5 × 2 rows, the report's order): ``category``, ``category_ja``,
            ``category_en``, ``market``, ``product_lines``, ``single_year[t-CO2e]``, ``lifetime[t-CO2e]``,
            ``device_single_year[t-CO2e]``, ``device_lifetime[t-CO2e]`` (NaN where no device share is reported)
            and ``device_reported``.
        fiscal_year: the reporting year.
        disclosures: what the standards ask a report to disclose (keys in :data:`DISCLOSURE_LABELS`).
        lines: the product lines of the reporting year, one row each as in the result files (``result_file``
            added; ``inputs`` and ``steps`` as the JSON result has them, each name → ``{"value", "unit"}``;
            ``device_*`` columns of ``ratios`` when device shares are reported, none otherwise). Lines from a
            Parquet result or a portfolio carry their ``inputs`` and ``steps`` whole only for each methodology's
            :data:`LINES_SHOWN_PER_METHODOLOGY` largest; the others carry the inputs not taken from the portfolio
            (up to :data:`DETAIL_LINES_LIMIT` lines) or None, and no steps.
        ratios: the ratio file of the device shares; None when device shares are not reported.
        years: every fiscal year of the results, not only the reporting year: one row per fiscal year, category
            and market with product lines, ``fiscal_year``, ``category``, ``market``, ``product_lines``,
            ``single_year[t-CO2e]`` and ``lifetime[t-CO2e]`` (set-product figures, unrounded; for a trend).
    """

    table: pd.DataFrame
    fiscal_year: int
    disclosures: dict
    lines: pd.DataFrame = field(default_factory=pd.DataFrame)
    ratios: RatioFile | None = None
    years: pd.DataFrame = field(default_factory=pd.DataFrame)
    stock: pd.DataFrame = field(default_factory=pd.DataFrame)
    tornado: list[dict] = field(default_factory=list)
    ranges: list[dict] = field(default_factory=list)
    ranges_withheld: bool = False
    notices: tuple[str, ...] = ()
    """What reading the portfolios calculated for the report said that a person should know (e.g. inputs with
    ranges reported at their central case)."""
    """The reporting year's portfolio-total tornado of Monte Carlo results (``uncertainty.tornado`` of each document,
    summed over documents by input and timeframe; koken.montecarlo.portfolio_tornado); empty for point results."""
    """``ranges``: the reporting year's P5/P50/P95 of each total of a Monte Carlo result (:func:`range_records`);
    ``ranges_withheld``: ranges exist but cannot be shown for the report's totals (several files)."""
    """The installed-base annual figure of the reporting year (when the results were computed with
    ``--installed-base`` of that year): every vintage's part, by ``category`` and ``market``
    (``installed_base_annual[t-CO2e]``, ``vintages``); empty otherwise (:mod:`koken.reporting.inventory`)."""

    @property
    def device_shares(self) -> bool:
        """Whether the report gives the part attributed to devices (in brackets)."""
        return self.ratios is not None

    @property
    def shipped_ratios(self) -> bool:
        """Whether the device shares are the shipped ratios implied by the FY2023 industry table."""
        return bool(self.disclosures.get("device_ratios") and self.disclosures["device_ratios"]["shipped_default"])


RESULT_MARK = "single_year[t-CO2e]"
"""A column every koken result table has (JSON rows, CSV and Parquet results); portfolios never have it."""

PORTFOLIO_SUFFIXES = (".csv", ".parquet", ".xlsx", ".xlsm", ".yaml", ".yml")
"""File types a portfolio comes in (koken.portfolio.readers)."""


def is_result_file(path: str | Path) -> bool:
    """Whether ``path`` is a koken result (``koken calculate -o r.json``, ``r.csv`` or ``r.parquet``) rather than
    a portfolio to calculate: a ``.json`` file is a result unless it is JSON of another kind (its ``format`` is
    not ``koken-result``); a ``.csv`` or ``.parquet`` file is a result when its header has
    ``single_year[t-CO2e]``; an ``.xlsx`` file is a result workbook when it has koken's provenance sheet; other
    ``.xlsx`` and ``.yaml`` files are portfolios.

    Unreadable files count as results, so that :func:`load_result_documents` says what is wrong with them.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    try:
        if suffix == ".json":
            with p.open("rb") as f:
                head = f.read(4096).decode("utf-8", errors="replace")
            if re.search(r'"format"\s*:\s*"' + re.escape(RESULT_FORMAT) + '"', head):
                return True   # koken writes the format first: a result file is not read twice
            try:
                doc = json.loads(p.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                return True
            return isinstance(doc, dict) and doc.get("format") == RESULT_FORMAT
        if suffix == ".csv":
            with p.open("rb") as f:
                first = f.readline(1 << 16).decode("utf-8", errors="replace")
            return RESULT_MARK in first
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            return RESULT_MARK in pq.read_schema(p).names
        if suffix in (".xlsx", ".xlsm"):  # a results workbook (koken calculate -o r.xlsx) has a provenance sheet
            with zipfile.ZipFile(p) as book:
                return PROVENANCE_SHEET in book.read("xl/workbook.xml").decode("utf-8", errors="replace")
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return True
    return suffix not in PORTFOLIO_SUFFIXES


def load_result_documents(paths: Sequence[str | Path]) -> list[dict]:
    """Read koken results, JSON or Parquet, each checked as :func:`koken.results.read_result` checks it (strict
    JSON, finite figures, known categories and markets, totals equal to the sums of the rows; a Parquet result by
    :func:`koken.results.read_parquet_lines`).

    Returns:
        One dict per file (the JSON document; ``_path``, ``_kind`` (``result``) and ``_sha256``, the file's hash,
        added). A Parquet result's has no ``rows`` but ``_frame`` (its rows as a table, their grid emission factor
        in :data:`koken.results.GRID_FACTOR_COLUMNS`, without inputs and steps) and ``_details`` (a function of row
        positions to their inputs and steps).
    Raises:
        KokenErrors: every problem of every file: unreadable files, files that are not koken results, malformed
            ones.
    """
    docs, errors = [], []
    for path in paths:
        parquet = Path(path).suffix.lower() == ".parquet" and is_parquet(path)
        if Path(path).suffix.lower() in (".csv", ".parquet", ".xlsx", ".xlsm") and not parquet:
            errors.append(KokenError(_(
                "report reads the JSON or Parquet result of koken calculate (-o result.json, -o result.parquet), "
                "which record the methodologies and factor tables behind each row; for a portfolio, give the "
                "portfolio itself (koken report PORTFOLIO, or --portfolio)"), Location(file=str(path))))
            continue
        try:
            if parquet:  # the rows' figures as a table, their inputs read for the lines shown (build_report)
                head, lines, digest = read_parquet_lines(path)
                doc = {**head, "_frame": lines, "_details": lambda rows, path=path: read_parquet_details(path, rows)}
            else:
                doc, digest = read_result_hashed(path)
        except (KokenError, KokenErrors) as errs:
            errors += errs.errors if isinstance(errs, KokenErrors) else [errs]
            continue
        doc["_path"] = str(path)
        doc["_kind"] = "result"
        doc["_sha256"] = digest
        docs.append(doc)
    if errors:
        raise KokenErrors(errors)
    return docs


def counted_twice(documents: Sequence[dict]) -> list[KokenError]:
    """Results computed from the same input (by its sha256: the same result file given twice, or a result beside
    the portfolio it came from): their product lines would be counted twice."""
    first: dict[str, dict] = {}
    problems = []
    for doc in documents:
        digest = (doc.get("input") or {}).get("sha256")
        name = doc.get("_path", (doc.get("input") or {}).get("file", ""))
        if not isinstance(digest, str):
            continue  # a document made in memory without its input's hash
        if digest in first:
            problems.append(KokenError(_(
                "computed from the same input as {other} ({file}, {hash}): its product lines would be counted "
                "twice; give each result or portfolio once").format(
                other=first[digest].get("_path", ""), file=(doc.get("input") or {}).get("file", ""),
                hash=str(digest)[:19] + "…"), Location(file=str(name))))
        else:
            first[digest] = doc
    return problems


def shipped_ratio_hash() -> str:
    """Content hash of the shipped ratio file (the FY2023-report-implied ratios)."""
    return load_ratio_file(None).content_hash


def build_report(documents: Sequence[dict], ratios: RatioFile | None, fiscal_year: int | None = None, *,
                 device_shares: bool = True, company: str | None = None) -> Report:
    """Aggregate result documents into the action-plan table, device shares by ``ratios``.

    Args:
        documents: koken JSON results (:func:`load_result_documents`, or ``Calculation.document()``); a document's
            ``_path`` names its file, ``_kind`` says whether it was a ``result`` file or a ``portfolio`` calculated
            for the report, ``_sha256`` is the result file's hash.
        ratios: the ratio file of the device shares (ignored, and may be None, when ``device_shares`` is False).
        fiscal_year: the reporting year; needed when the documents hold several.
        device_shares: give the part attributed to devices (in brackets), or leave it out.
        company: the reporting company's name, for the title (None: no name).
    Returns:
        Report (figures in t-CO2e, unrounded).
    Raises:
        KokenErrors: two documents computed from the same input (:func:`counted_twice`), several fiscal years
            without a choice, a requested year absent, no rows.
        KokenError: device shares asked for without a ratio file.
    """
    if device_shares and ratios is None:
        raise KokenError(_("device shares need a ratio file"))
    if twice := counted_twice(documents):
        raise KokenErrors(twice)
    frames = []
    for doc in documents:
        frame = table_of(doc)
        frame["result_file"] = doc.get("_path", doc.get("input", {}).get("file", ""))
        frames.append(frame)
    rows = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0] if frames else pd.DataFrame()
    if rows.empty:
        raise KokenErrors([KokenError(_("no product lines to report"))])
    years = sorted(set(int(y) for y in rows["fiscal_year"]))
    if fiscal_year is None and len(years) > 1:
        raise KokenErrors([KokenError(_("the results hold fiscal years {years}: a report is for one reporting year; "
                                        "choose one with --fiscal-year").format(years=years))])
    year = fiscal_year if fiscal_year is not None else years[0]
    by_year = _by_year(rows)
    stock = installed_base_rows(documents, rows, year)
    others = rows[rows["fiscal_year"] != year]
    rows = rows[rows["fiscal_year"] == year]
    if rows.empty:
        raise KokenErrors([KokenError(_("no product lines for fiscal year {year} (the results hold {years})").format(
            year=year, years=years))])
    rows = rows.drop(columns=[c for c in rows.columns if c.startswith("device_")])
    used = ratios if device_shares else None
    if used is not None:
        rows = attribute(rows, used)
    records = []
    for category, ja, en in CATEGORY_ROWS:
        for market, _mja, _men in MARKETS:
            part = rows[(rows["category"] == category) & (rows["market"] == market)]
            single = sum((Figure(v, "single_year") for v in part["single_year[t-CO2e]"]), Figure(0.0, "single_year"))
            life = sum((Figure(v, "lifetime") for v in part["lifetime[t-CO2e]"]), Figure(0.0, "lifetime"))
            ratio_columns = [c for c in part.columns if c.startswith("device_ratio:")]
            reported = used is not None and bool(len(part)) and bool(part[ratio_columns].notna().to_numpy().any())
            records.append({"category": category, "category_ja": ja, "category_en": en, "market": market,
                            "product_lines": len(part), "single_year[t-CO2e]": single.value,
                            "lifetime[t-CO2e]": life.value,
                            "device_single_year[t-CO2e]": _device_sum(part, "single_year") if reported else math.nan,
                            "device_lifetime[t-CO2e]": _device_sum(part, "lifetime") if reported else math.nan,
                            "device_reported": reported})
    table = pd.DataFrame(records)
    disclosures = _disclosures(documents, rows, used, year)
    if len(others):  # lines of the result files left out of the year's figures: said, and their factors disclosed
        disclosures["other_years"] = {"lines": len(others), "years": [y for y in years if y != year],
                                      "grid_emission_factors": _grid_factors(others)}
        disclosures["completeness"] = _completeness(disclosures)
    rows = _with_details(documents, frames, rows)
    if company is not None and printable(company).strip():
        disclosures["company"] = printable(company).strip()
    ranges, withheld = range_records(documents, year)
    return Report(table=table, fiscal_year=year, disclosures=disclosures,
                  lines=rows.reset_index(drop=True), ratios=used, years=by_year, stock=stock,
                  tornado=tornado_records(documents, year), ranges=ranges, ranges_withheld=withheld)


def table_of(doc: dict) -> pd.DataFrame:
    """A result document's rows as a table: ``pandas.DataFrame(doc["rows"])``, or a Parquet result's ``_frame``
    (:func:`load_result_documents`) with empty ``inputs`` and ``steps`` in their place (:func:`_with_details` fills
    those of the lines shown)."""
    if "_frame" not in doc:
        return pd.DataFrame(doc["rows"])
    frame = doc["_frame"]
    table = [c for c in frame.columns if c not in GRID_FACTOR_COLUMNS]
    out = frame[table].copy(deep=False)
    for key in RESULT_DETAIL_COLUMNS:
        out[key] = None
    for key in GRID_FACTOR_COLUMNS:
        out[key] = frame[key]
    return out


def _with_details(documents: Sequence[dict], frames: Sequence[pd.DataFrame], rows: pd.DataFrame) -> pd.DataFrame:
    """The reporting year's lines (``rows``, indexed by their place in the documents' tables ``frames`` one after
    another) with the inputs and steps of the lines shown read from their Parquet results (or a portfolio's
    calculation): whole for each methodology's :data:`LINES_SHOWN_PER_METHODOLOGY` largest, the inputs not taken
    from the portfolio (the detail sheet's) for the others up to :data:`DETAIL_LINES_LIMIT` lines; the grid factor
    columns dropped (they are in the disclosures)."""
    if not any("_details" in doc for doc in documents):
        return rows
    versions = rows["methodology_version"].astype(str) if "methodology_version" in rows else ""
    rank = rows.assign(_v=versions).groupby(["methodology", "_v"], sort=False)["lifetime[t-CO2e]"] \
        .rank(method="first", ascending=False)
    whole = set(rows.index[(rank <= LINES_SHOWN_PER_METHODOLOGY).to_numpy()].tolist())
    shown = rows.index if len(rows) <= DETAIL_LINES_LIMIT else rows.index[rows.index.isin(whole)]
    rows = rows.drop(columns=[c for c in GRID_FACTOR_COLUMNS if c in rows])
    cells = {key: rows[key].to_numpy(dtype=object).copy() for key in RESULT_DETAIL_COLUMNS}
    start = 0
    for doc, frame in zip(documents, frames):
        ours = shown[(shown >= start) & (shown < start + len(frame))]
        for first in range(0, len(ours) if "_details" in doc else 0, DETAILS_READ):  # a few thousand at a time
            mine = ours[first:first + DETAILS_READ]
            found = doc["_details"]((mine - start).tolist())
            at = rows.index.get_indexer(mine)
            for key, column in cells.items():
                column[at] = [found[p - start].get(key) if p in whole else _not_given(found[p - start].get(key), key)
                              for p in mine.tolist()]
        start += len(frame)
    for key, column in cells.items():
        rows[key] = column
    return rows


DETAILS_READ = 4_096
"""Lines whose inputs and steps are read at once from their result (each read whole, then cut to what is kept)."""


def _not_given(items: dict | None, key: str) -> dict | None:
    """Of a line's ``inputs``, those not taken from the portfolio (what :func:`_origins` lists); no ``steps``."""
    if key != "inputs" or not isinstance(items, dict):
        return None
    return {name: item for name, item in items.items() if not isinstance(item, dict) or item.get("origin") != "portfolio"}


def tornado_records(documents: Sequence[dict], year: int) -> list[dict]:
    """The portfolio-total tornado of ``year`` over the documents (their ``uncertainty.tornado``): per timeframe and
    input, the central total and the totals at the input's P5 and P95, summed over documents (each document's change
    adds to the others' central totals), sorted by swing; empty when no document carries one."""
    central: dict[str, float] = {}
    moved: dict[tuple, list[float]] = {}
    for doc in documents:
        records = [r for r in ((doc.get("uncertainty") or {}).get("tornado") or []) if r.get("fiscal_year") == year]
        for figure in {r["figure"] for r in records}:
            central[figure] = central.get(figure, 0.0) + next(r["central"] for r in records if r["figure"] == figure)
        for r in records:
            key = (r["figure"], r["variable"], r["parameter"], r["source"])
            low, high = r["result_at_low"] - r["central"], r["result_at_high"] - r["central"]
            previous = moved.get(key, [0.0, 0.0])
            moved[key] = [previous[0] + low, previous[1] + high]
    out = [{"fiscal_year": year, "figure": figure, "variable": variable, "parameter": parameter, "source": source,
            "central": central[figure], "result_at_low": central[figure] + low, "result_at_high": central[figure] + high,
            "swing": abs(high - low)} for (figure, variable, parameter, source), (low, high) in moved.items()]
    return sorted(out, key=lambda r: (r["figure"], -r["swing"], str(r["variable"]), r["parameter"]))


def range_records(documents: Sequence[dict], year: int) -> tuple[list[dict], bool]:
    """The P5/P50/P95 of the reporting year's totals, from the ``uncertainty.totals`` of a Monte Carlo result.

    Percentiles do not add (the P95 of a sum is not the sum of the P95s; issue 16): ranges are given only when one
    document holds every line of ``year`` and carries them; each record is one total as the result stores it
    (``category`` and ``market`` None for all), with ``method``, ``draws`` and ``seed`` added.

    Returns:
        (records in t-CO2e, unrounded; withheld): withheld is True when a document of ``year`` carries ranges but
        other documents add lines to that year, so no range is given.
    """
    holding = [doc for doc in documents if (year in set(doc["_frame"]["fiscal_year"].tolist()) if "_frame" in doc
                                            else any(int(r.get("fiscal_year", -1)) == year for r in doc.get("rows", [])))]
    carrying = [doc for doc in holding if any(t.get("fiscal_year") == year
                                              for t in ((doc.get("uncertainty") or {}).get("totals") or []))]
    if not carrying:
        return [], False
    if len(holding) > 1:
        return [], True
    block = carrying[0]["uncertainty"]
    return [{**t, "method": block.get("method"), "draws": block.get("draws"), "seed": block.get("seed")}
            for t in block["totals"] if t.get("fiscal_year") == year], False


def installed_base_rows(documents: Sequence[dict], rows: pd.DataFrame, year: int) -> pd.DataFrame:
    """Every vintage's part of the installed base of ``year``, by category and market, when the documents were
    computed for that reporting year (``options.installed_base_year``); else an empty frame."""
    column = "installed_base_annual[t-CO2e]"
    asked = {doc.get("options", {}).get("installed_base_year") for doc in documents}
    if column not in rows or asked != {year}:
        return pd.DataFrame()
    part = rows[rows[column].notna()]
    grouped = part.groupby(["category", "market"], sort=True)
    return pd.DataFrame({column: grouped[column].sum(), "vintages": grouped["fiscal_year"].nunique()}).reset_index()


def report_title(report: Report) -> str:
    """The report's title in the current language: ``Avoided emissions, FY2023``, or with the company's name
    (``--company``) ``Example Denki: avoided emissions, FY2023``."""
    company = report.disclosures.get("company")
    if company:
        return _(TITLE_COMPANY).format(company=company, year=report.fiscal_year)
    return _(TITLE).format(year=report.fiscal_year)


def sentences(*texts: str) -> str:
    """Sentences joined as each language writes them: with a space after English text, with nothing after a
    Japanese full stop or closing bracket (。）」).

    >>> sentences("Single-year.", "Lifetime."), sentences("単年度です。", "稼働年数です。")
    ('Single-year. Lifetime.', '単年度です。稼働年数です。')
    """
    out = ""
    for text in texts:
        if out and text:
            out += "" if out.endswith(("。", "）", "」")) else " "
        out += text
    return out


def _completeness(disclosures: dict) -> str:
    """The completeness sentences, in the current language: the reporting year's lines, all counted; those with a
    negative figure; the lines of other fiscal years the files hold, not counted in the year's figures."""
    counts = disclosures["counts"]
    negatives = counts["negatives"]
    parts = [_(COMPLETENESS).format(lines=counts["lines"], year=disclosures["reporting_year"], files=counts["files"]),
             _(NEGATIVES).format(negatives=negatives) if negatives else _(NO_NEGATIVES)]
    other = disclosures.get("other_years")
    if other:
        parts.append(_(OTHER_YEARS).format(lines=other["lines"], years=", ".join(map(str, other["years"])),
                                           year=disclosures["reporting_year"]))
    return sentences(*parts)


def _by_year(rows: pd.DataFrame) -> pd.DataFrame:
    """Every fiscal year's set-product sums by category and market (:attr:`Report.years`); timeframes stay in
    separate columns."""
    grouped = rows.groupby(["fiscal_year", "category", "market"], sort=True)
    out = grouped[["single_year[t-CO2e]", "lifetime[t-CO2e]"]].sum()
    out.insert(0, "product_lines", grouped.size())
    return out.reset_index().astype({"fiscal_year": int})


def _device_sum(part: pd.DataFrame, figure: str) -> float:
    """The device share of ``figure`` (``single_year`` or ``lifetime``) over a table's lines and device classes."""
    return float(part[device_columns(part, figure)].to_numpy().sum())


def _grid_factors(rows: pd.DataFrame) -> list[dict]:
    """Each distinct grid emission factor the rows used: ``fiscal_year``, ``region``, ``value``, ``unit``,
    ``origin`` (sorted by year, region and value). Where the portfolio gave several values for one fiscal year,
    region and unit (one a line: thousands on a large portfolio), they are one entry, with ``value`` None and
    ``values`` (how many distinct), ``low``, ``high`` and ``lines`` (how many product lines) instead (issue 17 §4);
    factor-table entries are listed one by one."""
    found = set()
    given: dict[tuple, list] = {}  # (year, region, unit) → [distinct values, lines] of values from the portfolio
    columns = [rows.get(c, pd.Series(None, index=rows.index, dtype=object))
               for c in ("inputs", "region", "fiscal_year", *GRID_FACTOR_COLUMNS)]
    for inputs, region, year, value, unit, origin in zip(*columns):
        g = None
        if isinstance(origin, str):  # a Parquet result's line: its factor in columns (koken.results.read_parquet_lines)
            g = {"value": value, "unit": unit, "origin": origin}
        elif isinstance(inputs, dict) and GRID_FACTOR_INPUT in inputs:
            g = inputs[GRID_FACTOR_INPUT]
        if g is not None:
            key = (int(year), region or "", g["value"], g["unit"], g["origin"])
            found.add(key)
            if g["origin"] == "portfolio":
                group = given.setdefault((key[0], key[1], key[3]), [set(), 0])
                group[0].add(g["value"])
                group[1] += 1
    many = {group for group, (values, _lines) in given.items() if len(values) > 1}
    out = [{"fiscal_year": y, "region": r, "value": v, "unit": u, "origin": o} for y, r, v, u, o in found
           if o != "portfolio" or (y, r, u) not in many]
    out += [{"fiscal_year": y, "region": r, "value": None, "unit": u, "origin": "portfolio",
             "values": len(given[(y, r, u)][0]), "low": min(given[(y, r, u)][0]), "high": max(given[(y, r, u)][0]),
             "lines": given[(y, r, u)][1]} for y, r, u in many]
    return sorted(out, key=lambda g: str((g["fiscal_year"], g["region"], g["low"] if g["value"] is None
                                          else g["value"], g["unit"], g["origin"])))


def _file(doc: dict) -> dict:
    """What the disclosures say of one file reported: its name (not its folder: the report is meant to be sent),
    whether it was a result file or a portfolio calculated for the report, and the hashes and time it records."""
    name = Path(str(doc.get("_path") or (doc.get("input") or {}).get("file") or "")).name
    source = doc.get("input") or {}
    return {"name": name, "kind": doc.get("_kind", "result"), "sha256": doc.get("_sha256"),
            "created": doc.get("created"), "input_file": Path(str(source.get("file") or "")).name,
            "input_sha256": source.get("sha256")}


def _disclosures(documents: Sequence[dict], rows: pd.DataFrame, ratios: RatioFile | None, year: int) -> dict:
    from datetime import UTC, datetime

    methodologies = {}
    for doc in documents:
        for mid, info in doc.get("methodologies", {}).items():
            title = info.get("title") if isinstance(info.get("title"), dict) else {}
            methodologies.setdefault(mid, {})[(info.get("version"), info.get("baseline_type"),
                                               info.get("contribution_role"), info.get("result_type"))] = \
                (title.get("ja"), title.get("en"), info.get("descriptions") or {})
    negatives = int((rows["lifetime[t-CO2e]"] < 0).sum())
    reported = set(rows["methodology"].unique())  # once (it was built per methodology of every document)
    device_ratios = None if ratios is None else {
        "id": ratios.id, "path": ratios.path, "content_hash": ratios.content_hash, "basis": ratios.spec.basis,
        "source": ratios.spec.source.title, "shipped_default": ratios.content_hash == shipped_ratio_hash()}
    disclosures = {
        "reporting_year": year,
        "unit": "万t-CO2e (10,000 t-CO2e)",
        "timeframes": _(TIMEFRAMES),
        "methodologies": [{"id": mid, "version": v, "baseline_type": b, "contribution_role": r, "result_type": t,
                           "title": {"ja": ja, "en": en} if ja and en else None, "descriptions": described}
                          for mid, infos in sorted(methodologies.items())
                          for (v, b, r, t), (ja, en, described) in sorted(infos.items(), key=lambda i: str(i[0]))],
        "grid_emission_factors": _grid_factors(rows),
        "gwp_sets": sorted({doc.get("gwp_set", "") for doc in documents}),
        "device_ratios": device_ratios,
        "counts": {"lines": len(rows), "files": len(documents), "negatives": negatives},
        "separation": _(SEPARATION),
        "rounding": _(ROUNDING),
        "result_files": [_file(doc) for doc in documents],
        "methodology_flags": sorted(({"id": mid, **{flag.id: bool(info.get(flag.id)) for flag in LEGITIMACY_FLAGS},
                                      "status": info.get("status")}
                                     for doc in documents for mid, info in doc.get("methodologies", {}).items()
                                     if mid in reported), key=lambda e: e["id"]),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    disclosures["completeness"] = _completeness(disclosures)
    disclosures["device_shares"] = _device_sentence(disclosures)
    disclosures["devices"] = _(BRACKETS) if ratios is not None else None   # off: device_shares says so
    return disclosures


def methodology_name(item: dict) -> str:
    """A methodology as the report names it: its title in the current language with its id and version beside it
    (``Household refrigerator (refrigerator 1.0.0)``, ``電気冷蔵庫（refrigerator 1.0.0）``), or its id and version
    when the result does not record its title. ``item``: an entry of the disclosures' ``methodologies``."""
    version = "" if item.get("version") in (None, "", "nan") else str(item["version"])
    title = item.get("title")
    if not title:
        return f"{item['id']} {version}".strip()
    return _(METHODOLOGY_NAME).format(title=pick(title["ja"], title["en"]), id=item["id"], version=version) \
        .replace(" )", ")").replace(" ）", "）")


def grid_factor_text(g: dict) -> str:
    """One grid emission factor as the report shows it, in the current language (the values the portfolio gave for
    a year and region, summarised: :func:`_grid_factors`)."""
    if g.get("values") is not None:
        return _(GRID_FACTORS_GIVEN).format(year=g["fiscal_year"], region=g["region"] or "-", count=g["values"],
                                            low=f"{g['low']:g}", high=f"{g['high']:g}", unit=g["unit"],
                                            lines=g["lines"], origin=shown_origin(g["origin"]))
    return _(GRID_FACTOR).format(year=g["fiscal_year"], region=g["region"] or "-", value=f"{g['value']:g}",
                                 unit=g["unit"], origin=shown_origin(g["origin"]))


def file_text(f: dict) -> str:
    """One file reported, as the disclosures show it: its name, what it is, its hashes and creation time."""
    if f["kind"] == "portfolio":
        return _(PORTFOLIO_FILE).format(name=f["name"], hash=f.get("input_sha256") or "-")
    return _(RESULT_FILE).format(name=f["name"], hash=f.get("sha256") or "-", created=created_text(f.get("created")),
                                 input=f.get("input_file") or "-", input_hash=f.get("input_sha256") or "-")


def created_text(stamp: str | None) -> str:
    """An ISO time (``2024-05-01T09:30:00+00:00``, UTC) as ``2024-05-01 09:30 UTC``; ``-`` when unknown.

    >>> created_text("2024-05-01T09:30:00+00:00"), created_text(None)
    ('2024-05-01 09:30 UTC', '-')
    """
    if not stamp:
        return "-"
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2})?(?:\+00:00|Z)?", str(stamp))
    return f"{match.group(1)} {match.group(2)} UTC" if match else str(stamp)


def _device_sentence(disclosures: dict) -> str:
    """Which device shares the report gives, in the current language."""
    d = disclosures["device_ratios"]
    if d is None:
        return _(DEVICES_OFF)
    if d["shipped_default"]:
        return _(SHIPPED_RATIOS).format(id=d["id"])
    return _(RATIO_FILE).format(id=d["id"], path=d["path"], basis=d["basis"], source=d["source"], hash=d["content_hash"])


# ------------------------------------------------------------------------------------- numbers shown

def shown_decimals(value: float, decimals: int, most: int = MAX_DECIMALS, significant: int = 0) -> int | None:
    """How many decimals to show ``value`` with so that a non-zero figure never shows as 0.

    Args:
        value: the figure (any unit; the table's are 万t-CO2e).
        decimals: the decimals asked for.
        most: the most decimals to use.
        significant: show at least this many significant digits where ``decimals`` would show fewer (still at
            most ``most`` decimals); 0: only ``decimals``, more only where the figure would read 0. The HTML
            report uses 2, so that a bar of 0.83 is labelled 0.83, not 1.
    Returns:
        ``decimals``, or more (up to ``most``) when ``decimals`` would round a non-zero ``value`` to 0 (or show
        fewer than ``significant`` digits); None when even ``most`` would round it to 0 (the figure is then shown
        as ``<0.001``, :func:`figure_text`).

    >>> shown_decimals(1512.3, 0), shown_decimals(0.061887, 0), shown_decimals(0.0061887, 0), shown_decimals(0.74, 0)
    (0, 1, 2, 0)
    >>> shown_decimals(0.0, 0), shown_decimals(0.061887, 2)
    (0, 2)
    >>> shown_decimals(0.0000061887, 0) is None
    True
    >>> shown_decimals(0.83, 0, significant=2), shown_decimals(9.6, 0, significant=2), shown_decimals(12.4, 0, significant=2)
    (2, 1, 0)
    """
    if value == 0 or not math.isfinite(value):
        return decimals
    ceiling = max(decimals, most)
    first = decimals
    if significant:
        first = min(max(decimals, significant - 1 - math.floor(math.log10(abs(value)))), ceiling)
    for places in range(first, ceiling + 1):
        if float(f"{abs(value):.{places}f}") != 0:
            return places
    return None


def _below(value: float, most: int) -> str:
    """``<0.001`` for a tiny positive figure, ``>-0.001`` for a tiny negative one."""
    limit = f"{10 ** -most:.{most}f}"
    return f"<{limit}" if value > 0 else f">-{limit}"


def figure_text(value: float, decimals: int = 0, most: int = MAX_DECIMALS, significant: int = 0) -> str:
    """``value`` with thousands separators and :func:`shown_decimals` decimals, or ``<0.001``.

    >>> figure_text(1512.3), figure_text(0.061887), figure_text(0.0000061887), figure_text(-0.3)
    ('1,512', '0.1', '<0.001', '-0.3')
    >>> figure_text(0.8255, significant=2), figure_text(0.0061887, significant=2), figure_text(27128.4, significant=2)
    ('0.83', '0.006', '27,128')
    """
    places = shown_decimals(value, decimals, most, significant)
    return _below(value, most) if places is None else f"{value:,.{places}f}"


def number_format(value: float, decimals: int = 0, most: int = MAX_DECIMALS, brackets: bool = False) -> str:
    """The spreadsheet number format that shows ``value`` as :func:`figure_text` does (the cell keeps the
    unrounded value); ``brackets``: inside ``( )``, a negative figure as ``(-5)``.

    >>> number_format(1512.3), number_format(0.0061887), number_format(552.0, brackets=True)
    ('#,##0', '#,##0.00', '"("#,##0")";"(-"#,##0")"')
    >>> number_format(0.0000061887)
    '"<0.001";">-0.001"'
    """
    places = shown_decimals(value, decimals, most)
    if places is None:
        below, above = _below(1.0, most), _below(-1.0, most)
        return f'"({below})";"({above})"' if brackets else f'"{below}";"{above}"'
    digits = "#,##0" + ("." + "0" * places if places else "")
    return f'"("{digits}")";"(-"{digits}")"' if brackets else digits


_TABLE_ORIGIN = re.compile(r"^factor table (?P<table>\S+) \[(?P<key>[^\]]*)\] \(source (?P<source>[^;)]+)"
                           r"(?:; (?P<described>[^)]*))?\)(?P<rest>.*)$")


def shown_origin(origin: str) -> str:
    """An input's recorded origin (a code, the same in every language: ``portfolio``, ``default (src)``,
    ``factor table grid_emission_factor [JP 2023] (source argus_fy2023; adjusted, preliminary)``) as a reader
    of the report reads it, in the current language."""
    if origin == "portfolio":
        return _("the company's value (portfolio)")
    if origin.startswith("default (") and origin.endswith(")"):
        return _("the methodology's default ({source})").format(source=origin[len("default ("):-1])
    match = _TABLE_ORIGIN.match(origin)
    if not match:
        return origin
    described = ("、" if current_language() == "ja" else ", ").join(
        named(part, FACTOR_BASES + FACTOR_STATUSES) for part in (match.group("described") or "").split(", ") if part)
    return _("factor table {table} [{key}] (source {source}; {described})").format(
        table=match.group("table"), key=match.group("key"), source=match.group("source"),
        described=described) + match.group("rest")


def formatted(value_t: float, device_t: float | None, decimals: int = 0) -> str:
    """``1,512 (552)`` in 万t-CO2e from t-CO2e; no bracket when ``device_t`` is None or NaN; a non-zero figure
    that would round to 0 gets more decimals, or shows as ``<0.001`` (:func:`figure_text`)."""
    main = figure_text(value_t / MAN, decimals)
    if device_t is None or (isinstance(device_t, float) and math.isnan(device_t)):
        return main
    return f"{main} ({figure_text(device_t / MAN, decimals)})"


# --------------------------------------------------------------------------------- the table as shown

def _in(code: str, make: Callable[[], str]) -> str:
    """``make()`` in the language ``code``."""
    with language(code):
        return make()


def both(make: Callable[[], str], separator: str = " / ") -> str:
    """A text in Japanese and English: ``make()`` called in each language, ``日本語 / English`` (once when the
    two are the same).

    >>> both(lambda: _(TOTAL))
    '合計 / Total'
    """
    ja, en = _in("ja", make), _in("en", make)
    return ja if ja == en else f"{ja}{separator}{en}"


def _title(report: Report) -> str:
    return both(lambda: report_title(report))


def _part(report: Report, category: str, market: str) -> pd.DataFrame:
    t = report.table
    return t[t["market"] == market] if category == "total" else t[(t["market"] == market) & (t["category"] == category)]


def _rows(report: Report) -> tuple[tuple[str, str, str], ...]:
    """(category id, Japanese, English) of every row of the table, the total last."""
    return CATEGORY_ROWS + (("total", _in("ja", lambda: _(TOTAL)), _in("en", lambda: _(TOTAL))),)


def presentation(report: Report, decimals: int = 0) -> pd.DataFrame:
    """The table as people read it: one row per category and the total, strings in 万t-CO2e.

    Returns:
        DataFrame: ``分野``, ``category``, then per market ``国内 単年度 / Domestic single-year`` and
        ``国内 稼働年数 (デバイス) / Domestic lifetime (devices)`` (``… lifetime`` without device shares);
        ``—`` where there are no product lines.
    """
    out = []
    for category, ja, en in _rows(report):
        row = {"分野": ja, "category": en}
        for market, mja, men in MARKETS:
            part = _part(report, category, market)
            lines = int(part["product_lines"].sum())
            reported = bool(part["device_reported"].any())
            row[both(lambda m=(mja, men): _(SINGLE_YEAR).format(market=pick(*m)))] = (
                formatted(part["single_year[t-CO2e]"].sum(), None, decimals) if lines else "—")
            label = LIFETIME_DEVICES if report.device_shares else LIFETIME
            row[both(lambda m=(mja, men), label=label: _(label).format(market=pick(*m)))] = (
                formatted(part["lifetime[t-CO2e]"].sum(), part["device_lifetime[t-CO2e]"].sum() if reported else None,
                          decimals) if lines else "—")
        out.append(row)
    return pd.DataFrame(out)


def ratio_note(report: Report) -> str:
    """Which device shares the report gives, short, in the current language: ``not reported``, the shipped
    default named as such, or the ratio file's id and path."""
    d = report.disclosures.get("device_ratios")
    if d is None:
        return _(DEVICES_NOT_REPORTED)
    if d["shipped_default"]:
        return _(SHIPPED_SHORT).format(id=d["id"])
    return f"{d['id']} ({d['path']}, {d['content_hash']})"


def notes_lines(report: Report, *, full: bool = True, significant: int = 0) -> list[str]:
    """The notes under the table, as sentences in the current language (``with language("ja")`` for Japanese).

    Args:
        report: the report.
        full: all of them; False leaves out what the workbook shows elsewhere (reporting year and unit: its
            title and unit line; GWP set, methodologies and grid emission factors: its disclosures sheet).
        significant: the figures are shown with at least this many significant digits (the HTML report's 2;
            :func:`shown_decimals`): the rounding note says so.
    Returns:
        Sentences: reporting year and unit, timeframes, device shares (brackets and which ratios, or not
        reported), completeness, separation from inventories, GWP set, rounding, methodologies, grid emission
        factors, flagged methodologies (fossil lock-in, provisional).
    """
    d = report.disclosures
    t = report.table
    lines = [_(YEAR_NOTE).format(year=d["reporting_year"])] if full else []
    lines.append(_(TIMEFRAMES))
    if report.device_shares:
        lines.append(_(BRACKETS))
    lines.append(_device_sentence(d))
    if report.device_shares and ((t["product_lines"] > 0) & ~t["device_reported"]).any():
        lines.append(_(NO_RATIO))
    if (t["product_lines"] == 0).any():
        lines.append(_(NO_LINES))
    lines += [_(COMPLETENESS_NOTE).format(text=_completeness(d)), _(SEPARATION)]
    if report.ranges_withheld:
        lines.append(_(RANGES_WITHHELD))
    if full:
        lines.append(_(GWP).format(gwp=", ".join(d["gwp_sets"])))
    lines.append(rounding_text(significant))
    if full:
        lines.append(_(METHODOLOGIES).format(items="; ".join(methodology_item(m) for m in d["methodologies"])))
        lines.append(_(GRID_FACTORS).format(items="; ".join(grid_factor_text(g) for g in d["grid_emission_factors"])))
    if full:  # the workbook and the HTML page show them in their disclosures
        lines += [_(FLAG_NOTE).format(id=mid, text=text) for mid, text in methodology_flag_texts(d.get("methodology_flags"))]
    return [printable(line) for line in lines]


def rounding_text(significant: int = 0) -> str:
    """The rounding note in the current language (:func:`shown_decimals`'s ``significant``)."""
    return _(ROUNDING_SIGNIFICANT).format(digits=significant) if significant else _(ROUNDING)


def methodology_item(m: dict) -> str:
    """A methodology with its baseline and role, in the current language (the notes and the disclosures)."""
    return _(METHODOLOGY_ITEM).format(methodology=methodology_name(m),
                                      baseline=named(m["baseline_type"], BASELINE_TYPES),
                                      role=named(m["contribution_role"], CONTRIBUTION_ROLES))


def to_markdown(report: Report, decimals: int = 0) -> str:
    """Markdown: the title, the table (万t-CO2e, ``decimals`` places) and the notes in the current language."""
    table = presentation(report, decimals)
    header = "| " + " | ".join(table.columns) + " |"
    rule = "|" + "---|" * len(table.columns)
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join([f"# {_title(report)} (万t-CO2e)", "", header, rule, *body, "", *_ranges_markdown(report, decimals),
                      f"## {_(NOTES)}", "", *[f"- {line}" for line in notes_lines(report)]]) + "\n"


def range_labels(record: dict) -> tuple[str, str, str]:
    """A range record's category, market and timeframe in the current language (None: all of them)."""
    category = next((pick(c.ja, c.en) for c in CATEGORIES if c.id == record.get("category")), None)
    market = next((pick(m.ja, m.en) for m in MARKETS if m.id == record.get("market")), None)
    timeframe = _(SINGLE_YEAR_HEADER) if record["figure"] == FIGURES[0] else _(LIFETIME_HEADER)
    return (category or record.get("category") or _(ALL_CATEGORIES), market or record.get("market") or _(ALL_MARKETS),
            timeframe)


def range_headers() -> tuple[str, ...]:
    """The headers of a table of range records, in the current language (figures in 万t-CO2e)."""
    return (_(CATEGORY), _("Market"), _(TIMEFRAME), _(CENTRAL), "P5", "P50", "P95")


def _ranges_markdown(report: Report, decimals: int) -> list[str]:
    """The totals' P5-P95 table (万t-CO2e) and its note; nothing for a point result."""
    if not report.ranges:
        return []
    first = report.ranges[0]
    body = ["| " + " | ".join([*range_labels(r), *(figure_text(r[k] / MAN, decimals)
                                                   for k in ("central", "p5", "p50", "p95"))]) + " |"
            for r in report.ranges]
    return [f"## {_(RANGES_TITLE)} (万t-CO2e)", "", "| " + " | ".join(range_headers()) + " |", "|" + "---|" * 7,
            *body, "", _(RANGES_NOTE).format(draws=first["draws"], seed=first["seed"]), ""]


def to_csv(report: Report, decimals: int = 0) -> str:
    """CSV: per category and market, unrounded figures in t-CO2e and 万t-CO2e, the lifetime cell as shown
    (``decimals`` places), and ``device_shares``: which ratios gave the device figures (or not reported)."""
    t = report.table.copy()
    for col in ("single_year", "lifetime", "device_single_year", "device_lifetime"):
        t[f"{col}[万t-CO2e]"] = t[f"{col}[t-CO2e]"] / MAN
    t["lifetime_formatted[万t-CO2e]"] = [formatted(a, b if r else None, decimals) for a, b, r in
                                        zip(t["lifetime[t-CO2e]"], t["device_lifetime[t-CO2e]"], t["device_reported"])]
    t["device_shares"] = ratio_note(report)
    return t.to_csv(index=False, lineterminator="\n")


# ------------------------------------------------------------------------------------------ the workbook

def _width(text: str) -> float:
    """Display width of one line in column-width units (the width of a digit): a full-width character takes
    about two, a Latin letter or space a little less than one (Calibri)."""
    return sum(2.1 if unicodedata.east_asian_width(ch) in "WF" else 0.8 for ch in text)


def _lines_needed(text: str, width: float) -> int:
    """Lines a wrapped cell ``width`` units wide needs for ``text`` (each ``\\n`` starts a line; a margin for
    words moved whole to the next line). openpyxl cannot fit rows to their text, so heights are set from this."""
    usable = max(width - 1.0, 1.0)
    return sum(max(1, math.ceil(_width(part) * 1.08 / usable)) for part in str(text).split("\n"))


def _cell_text(cell, value: object) -> None:
    """Put ``value`` in ``cell``; text from input files is made printable and never becomes a formula."""
    if isinstance(value, str):
        value = printable(value)
        cell.value = value
        if value.startswith(FORMULA_TRIGGERS):
            cell.data_type = "s"
    else:
        cell.value = value


def _sheet_name(text: str) -> str:
    return both(lambda: _(text), " ")[:31]


def to_xlsx(report: Report, decimals: int = 0, extra_sheets: Sequence[Callable] = ()) -> bytes:
    """The report as a workbook to submit, labels and notes in Japanese and English.

    Sheets:
        ``削減貢献量 Avoided emissions``: title, unit line, the table (categories and the bold total; per market
        single-year, lifetime and, when reported, the device share in a bracket-formatted cell), notes in
        Japanese then English. Cells hold the unrounded 万t-CO2e figures; number formats show ``decimals``
        places, more (up to 3) where that would show a non-zero figure as 0, or ``<0.001``.
        ``明細 Detail``: one row per product line (:data:`DETAIL_COLUMNS`), figures in t-CO2e and 万t-CO2e.
        ``開示事項 Disclosures``: :attr:`Report.disclosures`, one label/value row per item.
    Every sheet prints on A4 landscape, one page wide, its header rows repeated; the table fits one page.
    ``extra_sheets``: functions ``(workbook, report, decimals)`` that add sheets of the formats above this module
    (:func:`koken.reporting.inventory.inventory_sheet`), after the table.

    Returns:
        The ``.xlsx`` file's bytes.
    """
    from openpyxl import Workbook
    from openpyxl.styles import NamedStyle

    wb = Workbook()
    styles = _styles()
    wb.add_named_style(NamedStyle(name=CELL_STYLE, font=styles["plain"], border=styles["border"],
                                  alignment=styles["wrap"]))
    _table_sheet(wb.active, report, decimals)
    for add in extra_sheets:
        add(wb, report, decimals)
    _detail_sheet(wb.create_sheet(_sheet_name(DETAIL_SHEET)), report)
    _disclosures_sheet(wb.create_sheet(_sheet_name(DISCLOSURES_SHEET)), report)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


_LINE_HEIGHT = 15.0  # points per line of 11 pt text
_FONT = "Calibri"  # the workbook's default font (openpyxl's), named in every font set here
CELL_STYLE = "koken cell"  # the named style of the detail and disclosures cells: thin borders, wrapped, top


def _styles():
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    thin = Side(style="thin")
    return {
        "border": Border(left=thin, right=thin, top=thin, bottom=thin),
        "total_border": Border(left=thin, right=thin, top=Side(style="double"), bottom=thin),
        "bold": Font(name=_FONT, bold=True), "title": Font(name=_FONT, bold=True, size=14),
        "note": Font(name=_FONT, size=10), "plain": Font(name=_FONT, size=11),
        "header_fill": PatternFill("solid", fgColor="DDEBF7"),
        "wrap": Alignment(wrap_text=True, vertical="top"),
        "header": Alignment(wrap_text=True, vertical="center", horizontal="center"),
        "right": Alignment(horizontal="right", vertical="center"),
        "center": Alignment(horizontal="center", vertical="center"),
        "left": Alignment(horizontal="left", vertical="center", wrap_text=True),
    }


def print_setup(ws, title_rows: str, one_page: bool) -> None:
    """A4 landscape, one page wide (and tall: ``one_page``), ``title_rows`` repeated, margins, page footer."""
    from openpyxl.worksheet.page import PageMargins

    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1 if one_page else 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = title_rows
    ws.page_margins = PageMargins(left=0.5, right=0.5, top=0.6, bottom=0.6, header=0.25, footer=0.25)
    ws.print_options.horizontalCentered = True
    ws.oddFooter.center.text = "&A — &P / &N"


def merged_text(ws, row: int, last_column: int, text: str, width: float, font=None) -> None:
    """``text`` across columns 1..``last_column`` of ``row``, wrapped, the row tall enough for it."""
    styles = _styles()
    cell = ws.cell(row=row, column=1)
    _cell_text(cell, text)
    cell.alignment = styles["wrap"]
    if font is not None:
        cell.font = font
    if last_column > 1:
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=last_column)
    size = (font.sz if font is not None and font.sz else 11) / 11
    ws.row_dimensions[row].height = _lines_needed(text, width / size) * _LINE_HEIGHT * size + 2


def _table_sheet(ws, report: Report, decimals: int) -> None:
    from openpyxl.utils import get_column_letter

    styles = _styles()
    ws.title = _sheet_name(TABLE_SHEET)
    devices = report.device_shares
    per_market = 3 if devices else 2
    last = 1 + per_market * len(MARKETS)
    widths = [38.0] + [16.0] * (last - 1)
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    total_width = sum(widths)
    merged_text(ws, 1, last, _title(report), total_width, styles["title"])
    unit = both(lambda: _(UNIT_LINE))
    if devices:
        unit += "　" + both(lambda: _("in brackets: devices, included (内数)"))
    merged_text(ws, 2, last, unit, total_width)
    market_row, header_row = 4, 5
    headers = [both(lambda: _(CATEGORY), "\n")]
    for i, (_market, mja, men) in enumerate(MARKETS):
        first = 2 + i * per_market
        cell = ws.cell(row=market_row, column=first, value=f"{mja} / {men}")
        ws.merge_cells(start_row=market_row, start_column=first, end_row=market_row, end_column=first + per_market - 1)
        headers += [both(lambda: _(SINGLE_YEAR_HEADER), "\n") + "\n[万t-CO2e]",
                    both(lambda: _(LIFETIME_HEADER), "\n") + "\n[万t-CO2e]"]
        if devices:
            headers.append(both(lambda: _(DEVICES_HEADER), "\n") + "\n[万t-CO2e]")
    ws.cell(row=market_row, column=1, value=headers[0])
    ws.merge_cells(start_row=market_row, start_column=1, end_row=header_row, end_column=1)
    for col, text in enumerate(headers[1:], start=2):
        ws.cell(row=header_row, column=col, value=text)
    for r in (market_row, header_row):
        for col in range(1, last + 1):
            cell = ws.cell(row=r, column=col)
            cell.font, cell.alignment, cell.border, cell.fill = (styles["bold"], styles["header"], styles["border"],
                                                                 styles["header_fill"])
    ws.row_dimensions[market_row].height = _LINE_HEIGHT + 6
    ws.row_dimensions[header_row].height = max(_lines_needed(h, w) for h, w in zip(headers[1:], widths[1:])) \
        * _LINE_HEIGHT + 6
    row = header_row
    for category, ja, en in _rows(report):
        row += 1
        is_total = category == "total"
        values: list = [f"{ja} / {en}"]
        formats: list = [None]
        for market, _mja, _men in MARKETS:
            part = _part(report, category, market)
            if not int(part["product_lines"].sum()):
                values += ["—"] * per_market
                formats += [None] * per_market
                continue
            single = part["single_year[t-CO2e]"].sum() / MAN
            life = part["lifetime[t-CO2e]"].sum() / MAN
            values += [single, life]
            formats += [number_format(single, decimals), number_format(life, decimals)]
            if devices:
                reported = bool(part["device_reported"].any())
                device = part["device_lifetime[t-CO2e]"].sum() / MAN if reported else None
                values.append(device)
                formats.append(number_format(device, decimals, brackets=True) if reported else None)
        for col, (value, fmt) in enumerate(zip(values, formats), start=1):
            cell = ws.cell(row=row, column=col, value=value)
            cell.border = styles["total_border"] if is_total else styles["border"]
            cell.alignment = styles["left"] if col == 1 else styles["center"] if value == "—" else styles["right"]
            if fmt:
                cell.number_format = fmt
            if is_total:
                cell.font = styles["bold"]
        ws.row_dimensions[row].height = _lines_needed(values[0], widths[0]) * _LINE_HEIGHT + 4
    row += 2
    merged_text(ws, row, last, both(lambda: _(NOTES)), total_width, styles["bold"])
    sheets = {"disclosures": _sheet_name(DISCLOSURES_SHEET), "detail": _sheet_name(DETAIL_SHEET)}
    for code in ("ja", "en"):
        with language(code):
            notes = notes_lines(report, full=False) + [_(SEE_SHEETS).format(**sheets)]
        for note in notes:
            row += 1
            merged_text(ws, row, last, f"・{note}" if code == "ja" else f"• {note}", total_width, styles["note"])
        row += 1
    ws.print_area = f"A1:{get_column_letter(last)}{row - 1}"
    print_setup(ws, f"{market_row}:{header_row}", one_page=True)
    ws.freeze_panes = ws.cell(row=header_row + 1, column=2)


def _detail_values(report: Report) -> pd.DataFrame:
    """The detail sheet's values, one row per product line (keys of :data:`DETAIL_COLUMNS`)."""
    lines = report.lines
    out = pd.DataFrame(index=lines.index)
    for key, _label in DETAIL_COLUMNS:
        if key in lines:
            out[key] = lines[key]
    if "result_file" in lines:   # the file's name (the disclosures name each file and its hashes)
        out["result_file"] = [Path(str(f)).name for f in lines["result_file"]]
    out["single_year[万t-CO2e]"] = lines["single_year[t-CO2e]"] / MAN
    out["lifetime[万t-CO2e]"] = lines["lifetime[t-CO2e]"] / MAN
    out["category"] = [next((pick(c.ja, c.en) for c in CATEGORIES if c.id == v), v) for v in lines["category"]]
    out["market"] = [next((pick(m.ja, m.en) for m in MARKETS if m.id == v), v) for v in lines["market"]]
    if report.device_shares:
        ratios = [c for c in lines.columns if c.startswith("device_ratio:")]
        out["device_ratio"] = lines[ratios].sum(axis=1, min_count=1)
        out["device_single_year[t-CO2e]"] = lines[device_columns(lines, "single_year")].sum(axis=1)
        out["device_lifetime[t-CO2e]"] = lines[device_columns(lines, "lifetime")].sum(axis=1)
        out["device_single_year[t-CO2e]"] = out["device_single_year[t-CO2e]"].where(out["device_ratio"].notna())
        out["device_lifetime[t-CO2e]"] = out["device_lifetime[t-CO2e]"].where(out["device_ratio"].notna())
        out["device_ratio_basis"] = lines["device_ratio_basis"].astype(str)
    out["origins"] = [_origins(record) for record in lines.to_dict(orient="records")]
    return out


def _origins(line: dict) -> str:
    """The inputs of a result row that did not come from the portfolio: ``name = value unit (origin)``; for a row
    without its inputs, the result's ``factors_from_tables`` and ``defaults_used``."""
    inputs = line.get("inputs")
    if isinstance(inputs, dict):
        return "; ".join(f"{name} = {item['value']:g} {item.get('unit', '')} ({item.get('origin')})"
                         for name, item in inputs.items()
                         if isinstance(item, dict) and item.get("origin") not in (None, "portfolio")
                         and isinstance(item.get("value"), (int, float)))
    return "; ".join(str(line[k]) for k in ("factors_from_tables", "defaults_used")
                     if isinstance(line.get(k), str) and line[k])


def _header(label: str) -> str:
    """A column header in three lines: Japanese, English, then the unit both end with (``単年度`` /
    ``Single-year`` / ``[t-CO2e]``)."""
    ja, en = _in("ja", lambda: _(label)), _in("en", lambda: _(label))
    unit = re.search(r" (\[[^\]]+\])$", en)
    if unit and ja.endswith(unit.group(0)):
        return f"{ja.removesuffix(unit.group(0))}\n{en.removesuffix(unit.group(0))}\n{unit.group(1)}"
    return ja if ja == en else f"{ja}\n{en}"


def _detail_sheet(ws, report: Report) -> None:
    from openpyxl.utils import get_column_letter

    styles = _styles()
    columns = [(k, label) for k, label in DETAIL_COLUMNS if (report.device_shares or k not in _DEVICE_DETAIL)
               and (k != "sheet" or "sheet" in report.lines)]  # a sheet column for a workbook's lines only
    widths = {"result_file": 14, "row": 5, "product_line": 20, "methodology": 14, "methodology_version": 7,
              "sheet": 12, "category": 11, "fiscal_year": 6, "market": 9, "region": 7, "units_shipped_as_entered": 11,
              "units_shipped": 10, "functional_unit": 9, "operating_years[yr]": 9, "device_ratio": 8,
              "device_ratio_basis": 22, "origins": 34}
    width_of = [float(widths.get(k, 11)) for k, _label in columns]
    for i, w in enumerate(width_of, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    merged_text(ws, 1, min(len(columns), 8), both(lambda: _(DETAIL_SHEET)) + " — " + _title(report),
                 sum(width_of[:8]), styles["title"])
    header_row = 2
    headers = [_header(label) for _key, label in columns]
    for col, text in enumerate(headers, start=1):
        cell = ws.cell(row=header_row, column=col, value=text)
        cell.font, cell.alignment, cell.border, cell.fill = (styles["bold"], styles["header"], styles["border"],
                                                             styles["header_fill"])
    ws.row_dimensions[header_row].height = max(_lines_needed(h, w) for h, w in zip(headers, width_of)) * _LINE_HEIGHT + 4
    print_setup(ws, f"{header_row}:{header_row}", one_page=False)
    ws.freeze_panes = ws.cell(row=header_row + 1, column=4)
    if len(report.lines) > DETAIL_LINES_LIMIT:
        merged_text(ws, header_row + 1, len(columns), _(DETAIL_TOO_LONG).format(
            lines=f"{len(report.lines):,}", limit=f"{DETAIL_LINES_LIMIT:,}"), sum(width_of))
        return
    values = _detail_values(report)
    formats = {"single_year[t-CO2e]": (1, 3), "lifetime[t-CO2e]": (1, 3), "device_single_year[t-CO2e]": (1, 3),
               "device_lifetime[t-CO2e]": (1, 3), "single_year[万t-CO2e]": (4, 6), "lifetime[万t-CO2e]": (4, 6),
               "units_shipped": (0, 6), "operating_years[yr]": (0, 3)}
    for r, record in enumerate(values.to_dict(orient="records"), start=header_row + 1):
        height = 1
        for col, ((key, _label), w) in enumerate(zip(columns, width_of), start=1):
            value = record.get(key)
            if isinstance(value, float) and math.isnan(value):
                value = None
            if hasattr(value, "item"):
                value = value.item()
            cell = ws.cell(row=r, column=col)
            _cell_text(cell, value)
            cell.style = CELL_STYLE                           # one named style: thousands of cells stay fast
            if key == "device_ratio" and value is not None:
                cell.number_format = "0.0%"
            elif key == "operating_years[yr]" and isinstance(value, float) and not value.is_integer():
                cell.number_format = "0.00"  # 40,000 h ÷ 3,000 h/yr = 13.33 years, not 13
            elif key in formats and isinstance(value, (int, float)):
                cell.number_format = number_format(float(value), *formats[key])
            if isinstance(value, str):
                height = max(height, _lines_needed(value, w))
        ws.row_dimensions[r].height = height * _LINE_HEIGHT + 2
    ws.auto_filter.ref = f"A{header_row}:{get_column_letter(len(columns))}{header_row + len(values)}"


def methodology_flag_texts(entries: Sequence[dict]) -> list[tuple[str, str]]:
    """(methodology id, what a reader must know) for each flagged methodology of the report: a fossil lock-in
    (WBCSD's legitimacy test), a provisional status (not confirmed as one of the industry's methodologies)."""
    out = []
    for entry in entries or ():
        out += [(entry["id"], pick(flag.ja, flag.en)) for flag in LEGITIMACY_FLAGS if entry.get(flag.id)]
        if entry.get("status") == "provisional":
            out.append((entry["id"], _("provisional: not confirmed as one of the industry's methodologies")))
    return out


def disclosure_rows(report: Report, *, bilingual: bool = True, significant: int = 0,
                    trend: bool = False) -> list[tuple[str, str]]:
    """:attr:`Report.disclosures` as (label, value) rows: labels in Japanese and English (``bilingual``, the
    workbook) or in the current language only (the HTML report), one row per item of a list (each methodology,
    grid factor and file); values in the current language.

    Args:
        report: the report.
        bilingual: labels in both languages.
        significant: as :func:`notes_lines` (the rounding row says how figures are shown).
        trend: the report shows other fiscal years too (the HTML report's trend): their grid emission factors are
            listed as well.
    """
    d = report.disclosures
    rows: list[tuple[str, str]] = []
    for key, label in DISCLOSURE_LABELS.items():
        name = both(lambda label=label: _(label)) if bilingual else _(label)
        value = d.get(key)
        if key == "methodologies":
            rows += [(name, methodology_item(m)) for m in value]
        elif key == "grid_emission_factors":
            rows += [(name, grid_factor_text(g)) for g in value]
        elif key == "other_years_grid_emission_factors":
            if trend and d.get("other_years"):
                rows += [(name, grid_factor_text(g)) for g in d["other_years"]["grid_emission_factors"]]
        elif key == "methodology_flags":
            rows += [(name, f"{mid}: {text}") for mid, text in methodology_flag_texts(value)]
        elif key == "device_ratios":
            rows.append((name, ratio_note(report) if value is None else   # the file's name: its folder is not the reader's
                         f"{value['id']} ({Path(str(value['path'])).name}; {value['basis']}; {value['source']}; "
                         f"{value['content_hash']})"))
        elif key == "completeness":
            rows.append((name, _completeness(d)))
        elif key == "rounding":
            rows.append((name, rounding_text(significant)))
        elif key == "result_files":
            rows += [(name, file_text(f) if isinstance(f, dict) else str(f)) for f in value]
        elif key == "created":
            rows.append((name, created_text(value)))
        elif isinstance(value, list):
            rows += [(name, str(v)) for v in value]
        elif value is not None:
            rows.append((name, str(value)))
    return rows


def _disclosures_sheet(ws, report: Report) -> None:
    styles = _styles()
    widths = (34.0, 110.0)
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width = widths
    merged_text(ws, 1, 2, both(lambda: _(DISCLOSURES_SHEET)) + " — " + _title(report), sum(widths), styles["title"])
    headers = (both(lambda: _("Item"), "\n"), both(lambda: _("Disclosure"), "\n"))
    for col, text in enumerate(headers, start=1):
        cell = ws.cell(row=2, column=col, value=text)
        cell.font, cell.alignment, cell.border, cell.fill = (styles["bold"], styles["header"], styles["border"],
                                                             styles["header_fill"])
    ws.row_dimensions[2].height = 2 * _LINE_HEIGHT + 4
    for r, (label, value) in enumerate(disclosure_rows(report), start=3):
        for col, text in enumerate((label, value), start=1):
            cell = ws.cell(row=r, column=col)
            _cell_text(cell, text)
            cell.style = CELL_STYLE
        ws.row_dimensions[r].height = max(_lines_needed(label, widths[0]), _lines_needed(value, widths[1])) \
            * _LINE_HEIGHT + 2
    print_setup(ws, "2:2", one_page=False)


__all__ = [
    "DETAIL_COLUMNS",
    "DISCLOSURE_LABELS",
    "MAX_DECIMALS",
    "Figure",
    "Report",
    "TimeframeError",
    "both",
    "build_report",
    "disclosure_rows",
    "figure_text",
    "formatted",
    "load_result_documents",
    "merged_text",
    "methodology_item",
    "methodology_name",
    "notes_lines",
    "number_format",
    "presentation",
    "print_setup",
    "ratio_note",
    "report_title",
    "rounding_text",
    "sentences",
    "shown_decimals",
    "to_csv",
    "to_markdown",
    "to_xlsx",
    "tornado_records",
]

