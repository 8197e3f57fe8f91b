"""Scope 3 category 11 beside avoided emissions with the avoided share, the installed base of the reporting year,
the customer-reflection variants with their coverage, and the methodologies a reader must know about: figures that
stand beside the action plan's table and are never added to it (koken.reporting.inventory)."""

from __future__ import annotations

from koken.base.i18n import _
from koken.reporting.action_plan import Report
from koken.reporting.html.blocks import Cell, Context, Notes, Paragraph, Section, Subsection, Table, figure_cell, header
from koken.reporting.html.data import market_name
from koken.reporting.inventory import (
    CATEGORY11_NOTE,
    STOCK_NOTE,
    VARIANT_NOTE,
    category11_rows,
    flagged_methodologies,
    stock_rows,
    variants,
)
from koken.totals import MAN

ID = "inventory"


def section(report: Report, context: Context) -> Section | None:
    """The section, or None when the results hold none of these figures (results of an older koken)."""
    rows = category11_rows(report)
    stock = stock_rows(report)
    shown = variants(report)
    flags = flagged_methodologies(report)
    if not (rows or stock or shown or flags):
        return None
    blocks: list = []
    unit = " [万t-CO2e]"
    if rows:
        head = ((header(_("Category")), header(_("Market")), header(_("category 11 (use phase)") + unit),
                 header(_("baseline") + unit), header(_("avoided (lifetime)") + unit), header(_("avoided share"))),)
        body = tuple((Cell(r.name, header=True), Cell(market_name(r.market)),
                      figure_cell(r.category11 / MAN, context.decimals), figure_cell(r.baseline / MAN, context.decimals),
                      figure_cell(r.avoided / MAN, context.decimals),
                      Cell(f"{r.share:.1%}" if r.share == r.share else "—", r.share if r.share == r.share else None))
                     for r in rows)
        notes = [_(CATEGORY11_NOTE)]
        uncounted = sum(r.uncounted for r in rows)
        if uncounted:
            notes.append(_("{count} product lines count no use phase of their own (category11_step: null) and are not "
                           "in category 11.").format(count=uncounted))
        blocks.append(Subsection(ID + "-category11", _("Scope 3 category 11 and the avoided share"), (
            Table(_("Scope 3 category 11 beside avoided emissions, FY{year}").format(year=report.fiscal_year) + unit,
                  head, body), Notes(tuple(notes)))))
    if stock:
        head = ((header(_("Category")), header(_("Market")), header(_("installed base") + unit), header(_("vintages"))),)
        body = tuple((Cell(name, header=True), Cell(market_name(market)), figure_cell(value / MAN, context.decimals),
                      Cell(str(vintages), vintages)) for name, market, value, vintages in stock)
        blocks.append(Subsection(ID + "-stock", _("Installed base"), (
            Table(_("Installed-base annual avoided emissions, FY{year}").format(year=report.fiscal_year) + unit,
                  head, body), Paragraph(_(STOCK_NOTE).format(year=report.fiscal_year)))))
    for variant, name, variant_rows in shown:
        t = " [t-CO2e]"
        head = ((header(_("Methodology")), header(_("Market")), header(_("coverage")), header(_("lifetime") + t),
                 header(_("lifetime (variant)") + t), header(_("category 11") + t),
                 header(_("category 11 (variant)") + t)),)
        body = tuple((Cell(r.methodology, header=True), Cell(market_name(r.market)),
                      Cell(f"{r.coverage:.1%}", r.coverage), figure_cell(r.lifetime, 1), figure_cell(r.variant_lifetime, 1),
                      figure_cell(r.category11, 1), figure_cell(r.variant_category11, 1)) for r in variant_rows)
        blocks.append(Subsection(f"{ID}-variant-{variant.replace('_', '-')}", _("Variant: {name}").format(name=name), (
            Table(_("Variant: {name} (beside the standard figures, t-CO2e)").format(name=name), head, body),
            Paragraph(_(VARIANT_NOTE)))))
    if flags:
        blocks.append(Subsection(ID + "-flags", _("Methodologies to note"),
                                 (Notes(tuple(f"{mid}: {text}" for mid, text in flags)),)))
    return Section(ID, _("Beside avoided emissions: category 11, installed base, variants"), tuple(blocks))
