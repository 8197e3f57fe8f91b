"""Avoided emissions per fiscal year and market, when the results hold several fiscal years: single-year and
lifetime in separate charts, set-product figures (the reporting year's table is above)."""

from __future__ import annotations

from koken.base.i18n import _
from koken.base.vocabulary import MARKETS
from koken.reporting.action_plan import Report
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
from koken.reporting.html.data import by_year, fiscal_years, market_name

ID = "trend"


def section(report: Report, context: Context) -> Section | None:
    """Two charts (single-year, lifetime) of every fiscal year in 万t-CO2e; None for results of one year."""
    years = by_year(report)
    shown = fiscal_years(report)
    if len(shown) < 2:
        return None
    labels = [_("FY{year}").format(year=y) for y in shown]
    charts = []
    for timeframe, title, axis in (
            ("single_year", _("Single-year avoided emissions by fiscal year"), _("Single-year [万t-CO2e]")),
            ("lifetime", _("Lifetime avoided emissions by fiscal year"), _("Lifetime [万t-CO2e]"))):
        values = {(int(r["fiscal_year"]), r["market"]): r[f"{timeframe}[万t-CO2e]"] for r in years.to_dict("records")}
        series = [Series(market_name(m.id), [values.get((y, m.id), float("nan")) for y in shown],
                         COLOURS[m.id]) for m in MARKETS]
        chart_id = f"{ID}-{timeframe.replace('_', '-')}"
        svg = bar_chart(chart_id, labels, [Panel(series, axis)], horizontal=False,
                        value_text=lambda v: figure_label(v, context.decimals))
        head = ((header(_("Fiscal year")), *[header(market_name(m.id) + " [万t-CO2e]") for m in MARKETS]),)
        body = tuple((Cell(label, header=True), *[
            figure_cell(values[(y, m.id)], context.decimals) if (y, m.id) in values else no_figure() for m in MARKETS])
            for y, label in zip(shown, labels))
        charts.append(Chart(chart_id, title, svg, Table(title + " [万t-CO2e]", head, body)))
    lead = _("The table above is for the reporting year FY{year}; these charts show every fiscal year of the "
             "results, set-product figures without device shares.").format(year=report.fiscal_year)
    return Section(ID, _("Trend by fiscal year"), (Paragraph(lead), *charts))
