"""The report's figures beside avoided emissions: Scope 3 category 11 with the avoided share, the installed base, the
customer-reflection variants with their coverage, and the methodologies a reader must know about (fossil lock-in,
provisional). Shared by the HTML report and the workbook; figures unrounded (t-CO2e), rounded where shown.

Category 11 is an inventory figure (GHG Protocol Scope 3 Standard, use of sold products): shown beside avoided
emissions, never added to or netted with them; the device share applies to avoided emissions only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from koken.base.i18n import N_, _, language, pick
from koken.base.vocabulary import (
    BASELINE_LIFETIME_COLUMN,
    CATEGORIES,
    CATEGORY11_COLUMN,
    INSTALLED_BASE_COLUMN,
    MARKETS,
)
from koken.reporting.action_plan import (
    RANGES_NOTE,
    RANGES_TITLE,
    Report,
    methodology_flag_texts,
    range_headers,
    range_labels,
)
from koken.totals import MAN
from koken.variants import VARIANTS

CATEGORY11_NOTE = N_("Scope 3 category 11 (use of sold products, GHG Protocol) is an inventory figure: the products' "
                     "use-phase emissions over their lifetime. It stands beside avoided emissions and is never added to "
                     "or netted with them. The avoided share is lifetime avoided emissions ÷ the baseline's lifetime "
                     "emissions.")
STOCK_NOTE = N_("Installed base: one year of operation in FY{year}, at FY{year}'s factors, of every vintage in the results "
                "still in service. A third timeframe, never added to the single-year or lifetime figures.")
VARIANT_NOTE = N_("A variant replaces the electricity factor (or use) where customer data is given, in both scenarios "
                  "alike, and keeps the standard figure elsewhere; coverage is the share of units shipped with customer "
                  "data. The standard figures are the reported ones.")


@dataclass(frozen=True)
class InventoryRow:
    """One category and market: lifetime figures in t-CO2e, unrounded.

    Attributes:
        category, market: ids; name: the category's name in the current language.
        lines: product lines; uncounted: lines whose methodology counts no use phase (no category 11).
        category11, baseline, avoided: Scope 3 category 11, the baseline's emissions, avoided emissions (lifetime).
        share: avoided ÷ baseline (NaN where the baseline is 0).
    """

    category: str
    market: str
    name: str
    lines: int
    uncounted: int
    category11: float
    baseline: float
    avoided: float

    @property
    def share(self) -> float:
        return self.avoided / self.baseline if self.baseline else math.nan


def category11_rows(report: Report) -> list[InventoryRow]:
    """Category 11 beside avoided emissions, by category and market (rows with product lines only, the report's
    order); empty when the results hold no category 11 (results of koken before it)."""
    lines = report.lines
    if CATEGORY11_COLUMN not in lines or BASELINE_LIFETIME_COLUMN not in lines:
        return []
    out = []
    for category in CATEGORIES:
        for market in MARKETS:
            part = lines[(lines["category"] == category.id) & (lines["market"] == market.id)]
            if part.empty:
                continue
            counted = part[CATEGORY11_COLUMN].notna()
            out.append(InventoryRow(category.id, market.id, pick(category.ja, category.en), len(part),
                                    int((~counted).sum()), float(part.loc[counted, CATEGORY11_COLUMN].sum()),
                                    float(part[BASELINE_LIFETIME_COLUMN].sum()), float(part["lifetime[t-CO2e]"].sum())))
    return out


def stock_rows(report: Report) -> list[tuple[str, str, float, int]]:
    """The installed base of the reporting year: (category name, market id, t-CO2e, vintages) per category and
    market; empty when the results were not computed for it."""
    if report.stock.empty:
        return []
    names = {c.id: pick(c.ja, c.en) for c in CATEGORIES}
    return [(names.get(r["category"], r["category"]), r["market"], float(r[INSTALLED_BASE_COLUMN]), int(r["vintages"]))
            for r in report.stock.to_dict(orient="records")]


@dataclass(frozen=True)
class VariantRow:
    """One methodology and market under one variant: figures in t-CO2e, unrounded; units in its functional unit."""

    methodology: str
    market: str
    units: float
    covered: float
    lifetime: float
    variant_lifetime: float
    category11: float
    variant_category11: float

    @property
    def coverage(self) -> float:
        return self.covered / self.units if self.units else math.nan


def variants(report: Report) -> list[tuple[str, str, list[VariantRow]]]:
    """Each variant in the results: (id, name in the current language, rows by methodology and market)."""
    lines = report.lines
    out = []
    for term in VARIANTS:
        prefix = f"variant:{term.id}:"
        if f"{prefix}covered_units" not in lines:
            continue
        rows = []
        for (methodology, market), part in lines.groupby(["methodology", "market"], sort=True):
            rows.append(VariantRow(
                str(methodology), str(market), float(part["units_shipped"].sum()),
                float(part[f"{prefix}covered_units"].sum()), float(part["lifetime[t-CO2e]"].sum()),
                float(part[f"{prefix}lifetime[t-CO2e]"].sum()), float(part[CATEGORY11_COLUMN].fillna(0).sum()),
                float(part[f"{prefix}scope3_cat11_lifetime[t-CO2e]"].fillna(0).sum())))
        out.append((term.id, pick(term.ja, term.en), rows))
    return out


def flagged_methodologies(report: Report) -> list[tuple[str, str]]:
    """(methodology id, what to know) for methodologies of the report that carry a fossil lock-in flag or are
    provisional (from the result files' provenance)."""
    return methodology_flag_texts(report.disclosures.get("methodology_flags", []))


INVENTORY_SHEET = "カテゴリ11 Category 11"
"""The workbook's sheet of the figures beside avoided emissions (Japanese and English, ≤ 31 characters)."""


def inventory_sheet(wb, report: Report, decimals: int = 0) -> None:
    """Add :data:`INVENTORY_SHEET` to a report workbook: category 11 with the avoided share, the installed base and the
    variants (labels in Japanese and English, figures unrounded in 万t-CO2e or t-CO2e with number formats); nothing
    when the results hold none of them."""
    from openpyxl.styles import Alignment

    from koken.reporting.action_plan import both, merged_text, print_setup

    rows, stock, shown, flags = category11_rows(report), stock_rows(report), variants(report), flagged_methodologies(report)
    if not (rows or stock or shown or flags):
        return
    ws = wb.create_sheet(INVENTORY_SHEET)
    ws.column_dimensions["A"].width = 30
    for letter in "BCDEFG":
        ws.column_dimensions[letter].width = 20
    width = 30 + 6 * 20
    r = 1

    def note(text: str) -> None:
        """A note across the sheet's seven columns, wrapped (it prints one page wide)."""
        nonlocal r
        merged_text(ws, r, 7, text, width)
        r += 1

    def line(*values, bold: bool = False) -> None:
        nonlocal r
        from openpyxl.styles import Font

        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=col, value=value)
            if bold:
                cell.font = Font(bold=True)
            if isinstance(value, float):
                cell.number_format = "0.0%" if col == len(values) and getattr(line, "share", False) else "#,##0.000"
        r += 1

    if rows:
        line(both(lambda: _("Scope 3 category 11 beside avoided emissions, FY{year}").format(year=report.fiscal_year))
             + " [万t-CO2e]", bold=True)
        line(*(both(lambda text=text: _(text), "\n") for text in (
            N_("Category"), N_("Market"), N_("category 11 (use phase)"), N_("baseline"), N_("avoided (lifetime)"),
            N_("avoided share"))), bold=True)
        for item in rows:
            line(_both_names(CATEGORIES, item.category), _both_names(MARKETS, item.market), item.category11 / MAN,
                 item.baseline / MAN, item.avoided / MAN)
            if item.share == item.share:
                cell = ws.cell(row=r - 1, column=6, value=item.share)
                cell.number_format = "0.0%"
        note(both(lambda: _(CATEGORY11_NOTE)))
        r += 1
    if stock:
        line(both(lambda: _("Installed-base annual avoided emissions, FY{year}").format(year=report.fiscal_year))
             + " [万t-CO2e]", bold=True)
        for record in report.stock.to_dict(orient="records"):
            line(_both_names(CATEGORIES, record["category"]), _both_names(MARKETS, record["market"]),
                 float(record[INSTALLED_BASE_COLUMN]) / MAN, int(record["vintages"]))
        note(both(lambda: _(STOCK_NOTE).format(year=report.fiscal_year)))
        r += 1
    for variant, _name, variant_rows in shown:
        term = next(v for v in VARIANTS if v.id == variant)
        line(both(lambda term=term: _("Variant: {name} (beside the standard figures, t-CO2e)").format(
            name=pick(term.ja, term.en))), bold=True)
        line(*(both(lambda text=text: _(text), "\n") for text in (
            N_("Methodology"), N_("Market"), N_("coverage"), N_("lifetime"), N_("lifetime (variant)"), N_("category 11"),
            N_("category 11 (variant)"))), bold=True)
        for v in variant_rows:
            line(v.methodology, _both_names(MARKETS, v.market), v.coverage, v.lifetime, v.variant_lifetime,
                 v.category11, v.variant_category11)
            ws.cell(row=r - 1, column=3).number_format = "0.0%"
        note(both(lambda: _(VARIANT_NOTE)))
        r += 1
    if flags:
        line(both(lambda: _("Methodologies to note")), bold=True)
        for mid, text in flags:
            note(f"{mid}: {text}")
    for row in ws.iter_rows():
        for cell in row:
            if cell.value is not None and cell.alignment.wrap_text is not True:
                cell.alignment = Alignment(wrap_text=True, vertical="top",
                                           horizontal=cell.alignment.horizontal)
    print_setup(ws, "1:1", one_page=False)


RANGES_SHEET = N_("Uncertainty")
"""The workbook sheet of the totals' P5-P95 (Monte Carlo results only)."""


def ranges_sheet(wb, report: Report, decimals: int = 0) -> None:
    """Add the sheet ``不確実性 Uncertainty`` to a report workbook: the reporting year's totals with their central
    value, P5, P50 and P95 (:attr:`Report.ranges`, 万t-CO2e unrounded, number formats for display), labels in
    Japanese and English, and the draws and seed; nothing for a point result."""
    from openpyxl.styles import Alignment, Font

    from koken.reporting.action_plan import both, merged_text, number_format, print_setup

    if not report.ranges:
        return
    ws = wb.create_sheet(both(lambda: _(RANGES_SHEET), " ")[:31])
    for letter, width in zip("ABCDEFG", (30, 20, 20, 14, 14, 14, 14)):
        ws.column_dimensions[letter].width = width
    ws.cell(row=1, column=1, value=both(lambda: _(RANGES_TITLE)) + f", FY{report.fiscal_year} [万t-CO2e]").font = \
        Font(bold=True)
    for col, text in enumerate(range_headers_both(), start=1):
        cell = ws.cell(row=2, column=col, value=text)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    r = 3
    for record in report.ranges:
        with language("ja"):
            ja = range_labels(record)
        with language("en"):
            en = range_labels(record)
        for col, (a, b) in enumerate(zip(ja, en), start=1):
            ws.cell(row=r, column=col, value=a if a == b else f"{a} {b}")
        for col, key in enumerate(("central", "p5", "p50", "p95"), start=4):
            value = float(record[key]) / MAN
            cell = ws.cell(row=r, column=col, value=value)
            cell.number_format = number_format(value, decimals)
        r += 1
    first = report.ranges[0]
    merged_text(ws, r + 1, 7, both(lambda: _(RANGES_NOTE).format(draws=first["draws"], seed=first["seed"])), 126)
    print_setup(ws, "1:2", one_page=False)


def range_headers_both() -> list[str]:
    """The headers of the ranges block, each in Japanese and English (same text once: P5, P50, P95)."""
    with language("ja"):
        ja = range_headers()
    with language("en"):
        en = range_headers()
    return [a if a == b else f"{a}\n{b}" for a, b in zip(ja, en)]


def _both_names(terms, code: str) -> str:
    """A category's or market's name in Japanese and English (the workbook's labels), or the code as it is."""
    term = next((t for t in terms if t.id == code), None)
    return f"{term.ja} {term.en}" if term is not None else str(code)


def frame_of(rows: list[InventoryRow]) -> pd.DataFrame:
    """:func:`category11_rows` as a table (for the workbook and tests)."""
    return pd.DataFrame([{"category": r.category, "market": r.market, "lines": r.lines, "uncounted": r.uncounted,
                          CATEGORY11_COLUMN: r.category11, BASELINE_LIFETIME_COLUMN: r.baseline,
                          "lifetime[t-CO2e]": r.avoided, "avoided_share[fraction]": r.share} for r in rows])


__all__ = ["CATEGORY11_NOTE", "RANGES_SHEET", "STOCK_NOTE", "VARIANT_NOTE", "InventoryRow", "VariantRow",
           "category11_rows", "flagged_methodologies", "frame_of", "inventory_sheet", "range_headers_both", "ranges_sheet",
           "stock_rows", "variants"]
