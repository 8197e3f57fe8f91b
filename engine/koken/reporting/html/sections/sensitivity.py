"""The tornado chart of a result's one-at-a-time sensitivity (:func:`koken.sensitivity.tornado`): each parameter at
its low and high value, the others central, the largest swing on top; beside it, the same numbers as a table.

:func:`portfolio_section` is one of the report's :data:`koken.reporting.html.sections.SECTIONS`: the portfolio-total
tornado of Monte Carlo results (``--draws``); :func:`tornado_section` draws a methodology's tornado
(:func:`koken.sensitivity.tornado`), and :func:`tornado_document` is the chart ``koken sensitivity --chart`` writes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from markupsafe import Markup

from koken.base.i18n import _
from koken.reporting.action_plan import RANGES_NOTE, RANGES_TITLE, range_headers, range_labels
from koken.reporting.html.blocks import (
    Cell,
    Chart,
    Context,
    Paragraph,
    Section,
    Table,
    figure_cell,
    header,
    measure_cell,
    measure_text,
)
from koken.reporting.html.charts import inline_svg, tornado_svg

if TYPE_CHECKING:
    import pandas as pd

ID = "sensitivity"


def parameter_label(row: dict) -> str:
    """A parameter with its low and high values: ``grid_emission_factor (0.3–0.5 kg-CO2/kWh)``."""
    return _("{parameter} ({low}–{high} {unit})").format(parameter=row["parameter"], low=measure_text(row["low"]),
                                                         high=measure_text(row["high"]), unit=row["unit"])


def axis_label(unit: str) -> str:
    """The tornado's value axis: the avoided emissions per functional unit and year, with the unit."""
    return _("Avoided emissions per unit and year [{unit}]").format(unit=unit)


def tornado_document(table: pd.DataFrame, chart_id: str = f"{ID}-tornado") -> str:
    """The tornado chart of ``table`` (:func:`koken.sensitivity.tornado`'s frame, with ``attrs["result_unit"]`` and
    ``attrs["central_result"]``) as an SVG document, texts in the current language."""
    rows = table.to_dict(orient="records")
    return tornado_svg(chart_id, [parameter_label(r) for r in rows], [r["result_at_low"] for r in rows],
                       [r["result_at_high"] for r in rows], float(table.attrs["central_result"]),
                       axis_label(table.attrs["result_unit"]),
                       (_("parameter at its low value"), _("parameter at its high value"), _("central case")))


def tornado_section(table: pd.DataFrame, title: str | None = None) -> Section:
    """A section with the tornado chart of ``table`` and its data table (units in the headers).

    Args:
        table: :func:`koken.sensitivity.tornado`'s frame (``attrs``: ``result_unit``, ``central_result``).
        title: the chart's caption (default: "One-at-a-time sensitivity").
    """
    unit = table.attrs["result_unit"]
    chart_id = f"{ID}-tornado"
    caption = title or _("One-at-a-time sensitivity")
    head = ((header(_("Parameter")), header(_("Low")), header(_("High")), header(_("Unit")),
             header(_("Result at low [{unit}]").format(unit=unit)), header(_("Result at high [{unit}]").format(unit=unit)),
             header(_("Swing [{unit}]").format(unit=unit))),)
    body = tuple((Cell(str(r["parameter"]), header=True), measure_cell(r["low"]), measure_cell(r["high"]),
                  Cell(str(r["unit"])), measure_cell(r["result_at_low"]), measure_cell(r["result_at_high"]),
                  measure_cell(r["swing"])) for r in table.to_dict(orient="records"))
    svg = Markup(inline_svg(tornado_document(table, chart_id), chart_id))
    lead = _("Each parameter at its low and at its high value, the others at their central values; the largest swing "
             "is on top. The central result is {central} {unit}.").format(
        central=measure_text(float(table.attrs["central_result"])), unit=unit)
    return Section(ID, _("Sensitivity"), (Paragraph(lead), Chart(chart_id, caption, svg, Table(caption, head, body))))


RANGES_ID = "uncertainty"


def ranges_section(report, context: Context) -> Section | None:
    """The reporting year's totals with their central value, P5, P50 and P95 in 万t-CO2e
    (:attr:`koken.reporting.action_plan.Report.ranges`, each total's own percentiles), and the draws and seed;
    None for a point result or when the ranges cannot be given for the report's totals."""
    if not report.ranges:
        return None
    from koken.totals import MAN

    caption = _(RANGES_TITLE) + f", FY{report.fiscal_year} [万t-CO2e]"
    head = (tuple(header(text) for text in range_headers()),)
    body = tuple((*(Cell(text, header=i == 0) for i, text in enumerate(range_labels(r))),
                  *(figure_cell(r[k] / MAN, context.decimals) for k in ("central", "p5", "p50", "p95")))
                 for r in report.ranges)
    first = report.ranges[0]
    return Section(RANGES_ID, _(RANGES_TITLE), (Table(caption, head, body),
                                                Paragraph(_(RANGES_NOTE).format(draws=first["draws"],
                                                                                seed=first["seed"]))))


TORNADO_BARS = 10
"""The inputs a portfolio-total tornado chart shows (the largest swings; the result file has them all)."""


def portfolio_section(report, context: Context) -> Section | None:
    """What moves the reporting year's lifetime total: the portfolio-total tornado of Monte Carlo results
    (:attr:`koken.reporting.action_plan.Report.tornado`), each uncertain input at its P5 and P95 with the others
    central, the largest swings on top, and its data table; None for point results."""
    from koken.base.vocabulary import FIGURES

    rows = [r for r in report.tornado if r["figure"] == FIGURES[1]][:TORNADO_BARS]
    if not rows:
        return None
    from koken.totals import MAN

    chart_id = f"{ID}-portfolio-tornado"
    unit = "万t-CO2e"   # the page's unit for totals: 7-digit t-CO2e tick labels ran together
    rows = [{**r, **{k: r[k] / MAN for k in ("central", "result_at_low", "result_at_high", "swing")}} for r in rows]
    labels = [_("{parameter} ({variable}, {source})").format(parameter=r["parameter"], variable=r["variable"],
                                                            source=r["source"]) for r in rows]
    central = float(rows[0]["central"])
    svg_text = tornado_svg(chart_id, labels, [r["result_at_low"] for r in rows], [r["result_at_high"] for r in rows],
                           central, _("Lifetime avoided emissions, FY{year} total [{unit}]").format(
                               year=report.fiscal_year, unit=unit),
                           (_("input at its P5"), _("input at its P95"), _("central total")))
    caption = _("What moves the FY{year} lifetime total").format(year=report.fiscal_year)
    head = ((header(_("Input")), header(_("Total at P5 [{unit}]").format(unit=unit)),
             header(_("Total at P95 [{unit}]").format(unit=unit)), header(_("Swing [{unit}]").format(unit=unit))),)
    body = tuple((Cell(label, header=True), measure_cell(r["result_at_low"]), measure_cell(r["result_at_high"]),
                  measure_cell(r["swing"])) for label, r in zip(labels, rows))
    lead = _("Each uncertain input of the Monte Carlo run at its P5 and at its P95 on every line that uses it, the "
             "others at their central values (a factor or default shared by many lines moves them all); the largest "
             "swing is on top. The central lifetime total is {central} {unit}.").format(
        central=measure_text(central), unit=unit)
    return Section(ID, _("Sensitivity"), (Paragraph(lead), Chart(chart_id, caption, Markup(inline_svg(svg_text, chart_id)),
                                                                   Table(caption, head, body))))


def section(report, context: Context) -> Section | None:
    """The tornado of a report that carries one (a ``tornado`` attribute: :func:`koken.sensitivity.tornado`'s frame);
    None for a report without per-parameter low and high values (every report before issue 16's Monte Carlo)."""
    table = getattr(report, "tornado", None)
    if table is None or len(table) == 0:
        return None
    return tornado_section(table)
