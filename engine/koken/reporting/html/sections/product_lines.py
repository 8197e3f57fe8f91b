"""The product lines with the largest lifetime avoided emissions: single-year and lifetime in two panels side by
side (each its own axis, in t-CO2e), the device share inside each bar, and the table of the same lines."""

from __future__ import annotations

from koken.base.i18n import _
from koken.reporting.action_plan import DEVICES_HEADER, LIFETIME_HEADER, SINGLE_YEAR_HEADER, Report
from koken.reporting.html.blocks import Cell, Chart, Context, Section, Table, figure_cell, figure_label, header, shorten
from koken.reporting.html.charts import COLOURS, Panel, Series, bar_chart
from koken.reporting.html.data import largest_lines, line_devices, line_label, market_name, methodology_titles

ID = "product-lines"
DECIMALS = 1
"""Decimals of a product line's t-CO2e figures (more where they would read 0)."""


def section(report: Report, context: Context) -> Section:
    """The ``context.top_lines`` largest lines (by lifetime avoided emissions), figures in t-CO2e."""
    lines = report.lines
    top = largest_lines(lines, context.top_lines)
    labels = [line_label(line) for line in top.to_dict(orient="records")]
    devices = {f: line_devices(top, f) for f in ("single_year", "lifetime")} if report.device_shares else None
    panels = [Panel([Series(_(name), list(top[f"{figure}[t-CO2e]"]), COLOURS[figure],
                            list(devices[figure]) if devices else None)],
                    _("{timeframe} [t-CO2e]").format(timeframe=_(name)), _(name))
              for figure, name in (("single_year", SINGLE_YEAR_HEADER), ("lifetime", LIFETIME_HEADER))]
    title = _("The {count} product lines with the largest lifetime avoided emissions").format(count=len(top))
    svg = bar_chart(ID + "-chart", [shorten(label) for label in labels], panels, width=9.5,
                    inner_label=_("of which devices (内数)"), value_text=lambda v: figure_label(v, DECIMALS))
    note = _("{shown} of {count} product lines; the result files and the workbook's detail sheet have every line.") \
        .format(shown=len(top), count=len(lines)) if len(top) < len(lines) else None
    return Section(ID, _("Largest product lines"), (
        Chart(ID + "-chart", title, svg, _table(top, labels, devices, title, methodology_titles(report)), note,
              wide=True),))


def _table(top, labels, devices, title: str, names: dict[tuple[str, str], str]) -> Table:
    unit = " [t-CO2e]"
    columns = [header(_("Product line")), header(_("Methodology")), header(_("Market")),
               header(_(SINGLE_YEAR_HEADER) + unit)]
    if devices:
        columns.append(header(_(DEVICES_HEADER) + unit))
    columns.append(header(_(LIFETIME_HEADER) + unit))
    if devices:
        columns.append(header(_(DEVICES_HEADER) + unit))
    body = []
    for i, (label, line) in enumerate(zip(labels, top.to_dict(orient="records"))):
        key = (str(line.get("methodology", "")), str(line.get("methodology_version", "")))
        row = [Cell(label, header=True), Cell(names.get(key, key[0])), Cell(market_name(line.get("market"))),
               figure_cell(line["single_year[t-CO2e]"], DECIMALS)]
        if devices:
            row.append(figure_cell(devices["single_year"].iloc[i], DECIMALS, brackets=True))
        row.append(figure_cell(line["lifetime[t-CO2e]"], DECIMALS))
        if devices:
            row.append(figure_cell(devices["lifetime"].iloc[i], DECIMALS, brackets=True))
        body.append(tuple(row))
    return Table(title + unit, (tuple(columns),), tuple(body))
