"""Avoided emissions by category and market as bar charts: single-year and lifetime in separate charts (two
timeframes, never stacked or added), the device share drawn inside each bar (内数), each chart with its table."""

from __future__ import annotations

from koken.base.i18n import _
from koken.base.vocabulary import MARKETS
from koken.reporting.action_plan import CATEGORY, DEVICES_HEADER, Report, sentences
from koken.reporting.html.blocks import (
    Cell,
    Chart,
    Context,
    Paragraph,
    Section,
    Table,
    figure_cell,
    figure_label,
    header,
    no_figure,
)
from koken.reporting.html.charts import COLOURS, Panel, Series, bar_chart
from koken.reporting.html.data import category_figures, market_name

ID = "charts"


def section(report: Report, context: Context) -> Section:
    """Two charts, single-year then lifetime, in 万t-CO2e by category (the total left out: it would dwarf the
    categories; the table above has it), a bar per market."""
    rows = [r for r in category_figures(report) if r[0] != "total"]
    names = [name for _id, name, _figures in rows]
    charts = []
    for timeframe, title in (("single_year", _("Single-year avoided emissions by category and market")),
                             ("lifetime", _("Lifetime avoided emissions by category and market"))):
        series = []
        for market in MARKETS:
            figures = [by_market[market.id] for _id, _name, by_market in rows]
            values = [getattr(f, timeframe) if f.lines else float("nan") for f in figures]
            inner = [getattr(f, f"device_{timeframe}") for f in figures] if report.device_shares else None
            series.append(Series(market_name(market.id), values, COLOURS[market.id], inner))
        axis = _("Single-year avoided emissions [万t-CO2e]") if timeframe == "single_year" \
            else _("Lifetime avoided emissions [万t-CO2e]")
        chart_id = f"{ID}-{timeframe.replace('_', '-')}"
        svg = bar_chart(chart_id, names, [Panel(series, axis)], inner_label=_("of which devices (内数)"),
                        value_text=lambda v: figure_label(v, context.decimals))
        charts.append(Chart(chart_id, title, svg, _table(rows, timeframe, title, report.device_shares, context)))
    lead = _("Single-year and lifetime figures are separate timeframes: each has its own chart and they are never "
             "stacked or added.")
    if report.device_shares:
        lead = sentences(lead, _("The hatched bar inside a bar is the part attributed to semiconductors and "
                                 "electronic components: included in (内数) that bar, not added to it."))
    return Section(ID, _("Charts by category and market"), (Paragraph(lead), *charts))


def _table(rows, timeframe: str, title: str, devices: bool, context: Context) -> Table:
    unit = " [万t-CO2e]"
    head = (tuple([header(_(CATEGORY))] + [cell for m in MARKETS for cell in (
        header(market_name(m.id) + unit), *([header(market_name(m.id) + " " + _(DEVICES_HEADER) + unit)]
                                            if devices else []))]),)
    body = []
    for _id, name, by_market in rows:
        row = [Cell(name, header=True)]
        for market in MARKETS:
            f = by_market[market.id]
            row.append(figure_cell(getattr(f, timeframe), context.decimals) if f.lines else no_figure())
            if devices:
                row.append(figure_cell(getattr(f, f"device_{timeframe}"), context.decimals, brackets=True)
                           if f.lines else no_figure())
        body.append(tuple(row))
    return Table(title + unit, head, tuple(body))
