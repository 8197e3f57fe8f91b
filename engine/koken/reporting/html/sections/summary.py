"""The action plan's table: categories × domestic/overseas × single-year/lifetime in 万t-CO2e, the device share in
brackets (内数), and the notes that go with it — the table of the workbook, in the chosen language."""

from __future__ import annotations

from koken.base.i18n import _
from koken.base.vocabulary import MARKETS
from koken.reporting.action_plan import (
    CATEGORY,
    DEVICES_HEADER,
    LIFETIME_HEADER,
    NOTES,
    SINGLE_YEAR_HEADER,
    TITLE,
    UNIT_LINE,
    Report,
    notes_lines,
)
from koken.reporting.html.blocks import (
    SIGNIFICANT,
    Cell,
    Context,
    Notes,
    Paragraph,
    Section,
    Table,
    figure_cell,
    header,
    no_figure,
)
from koken.reporting.html.data import category_figures, market_name

ID = "table"


def section(report: Report, context: Context) -> Section:
    """The table (figures in 万t-CO2e with ``context.decimals`` places, or more for two significant digits; never
    shown as 0) and the notes."""
    devices = report.device_shares
    per_market = 3 if devices else 2
    unit = " [万t-CO2e]"
    per_market_headers = [header(_(SINGLE_YEAR_HEADER) + unit), header(_(LIFETIME_HEADER) + unit)]
    if devices:
        per_market_headers.append(header(_(DEVICES_HEADER) + unit))
    head = ((header(_(CATEGORY), rowspan=2), *[header(market_name(m.id), colspan=per_market) for m in MARKETS]),
            tuple(per_market_headers * len(MARKETS)))
    body = []
    for _category, name, by_market in category_figures(report):
        row = [Cell(name, header=True)]
        for market in MARKETS:
            f = by_market[market.id]
            if not f.lines:
                row += [no_figure() for _cell in range(per_market)]
                continue
            row += [figure_cell(f.single_year, context.decimals), figure_cell(f.lifetime, context.decimals)]
            if devices:
                row.append(figure_cell(f.device_lifetime, context.decimals, brackets=True))
        body.append(tuple(row))
    caption = _(TITLE).format(year=report.fiscal_year) + unit
    lead = [Paragraph(_(UNIT_LINE))]
    if devices:
        lead.append(Paragraph(_("In brackets: the part attributed to semiconductors and electronic components, "
                                "included in (内数) the lifetime figure before it.")))
    return Section(ID, _("Avoided emissions by category and market"), (
        *lead,
        Table(caption, head, tuple(body), totals=1),
        Notes(tuple(notes_lines(report, full=False, significant=SIGNIFICANT)), _(NOTES)),
    ))
