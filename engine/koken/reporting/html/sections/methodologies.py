"""Each methodology's figures per functional unit: its baseline and product side by side, from the result rows'
steps or inputs (``baseline_annual_energy`` and ``product_annual_energy`` in kWh/yr per unit, the transformer's
``baseline_loss`` and ``product_loss`` in W…); where a methodology names no such pair, the avoided emissions per
functional unit and year, and the section says so."""

from __future__ import annotations

import pandas as pd

from koken.base.i18n import _, named
from koken.base.vocabulary import BASELINE_TYPES, CATEGORY_IDS, CONTRIBUTION_ROLES
from koken.reporting.action_plan import Report
from koken.reporting.html.blocks import (
    Cell,
    Chart,
    Context,
    Paragraph,
    Section,
    Subsection,
    Table,
    header,
    measure_cell,
    measure_text,
    sentences,
    shorten,
)
from koken.reporting.html.charts import COLOURS, Panel, Series, bar_chart
from koken.reporting.html.data import (
    avoided_per_unit_year,
    largest_lines,
    line_label,
    market_name,
    named_value,
    scenarios,
)

ID = "methodologies"


def section(report: Report, context: Context) -> Section | None:
    """One subsection per methodology and version, in category order, each a chart and its table of the
    ``context.lines_per_methodology`` largest lines (by lifetime avoided emissions)."""
    lines = report.lines
    if lines.empty or "methodology" not in lines:
        return None
    versions = lines["methodology_version"].astype(str) if "methodology_version" in lines \
        else pd.Series("", index=lines.index)
    keys = list(zip(lines["methodology"].astype(str), versions))
    groups: dict[tuple[str, str], list[int]] = {}
    for position, key in enumerate(keys):
        groups.setdefault(key, []).append(position)
    order = sorted(groups, key=lambda key: (_category_rank(lines.iloc[groups[key][0]]), key))
    described = {(m["id"], str(m["version"])): m for m in report.disclosures.get("methodologies", [])}
    parts = [_methodology(f"{ID}-{n}", key, lines.iloc[groups[key]], described.get(key), context)
             for n, key in enumerate(order, start=1)]
    lead = _("Per functional unit and year, for the largest product lines of each methodology: the baseline and the "
             "product where the methodology's steps or inputs name them (energy or emissions per year), otherwise "
             "the avoided emissions per functional unit and year.")
    return Section(ID, _("Methodologies: baseline and product per functional unit"), (Paragraph(lead), *parts))


def _category_rank(line) -> int:
    category = line.get("category")
    return CATEGORY_IDS.index(category) if category in CATEGORY_IDS else len(CATEGORY_IDS)


def _methodology(block_id: str, key: tuple[str, str], group, described: dict | None, context: Context) -> Subsection:
    methodology, version = key
    top = largest_lines(group, context.lines_per_methodology)
    records = top.to_dict(orient="records")
    labels = [line_label(line) for line in records]
    functional_unit = str(records[0].get("functional_unit") or "?")
    pair = next((p for p in (scenarios(line) for line in records) if p is not None), None)
    avoided = [avoided_per_unit_year(line) for line in records]
    avoided_unit = f"kg-CO2e/{functional_unit}/yr"
    chart_id = block_id + "-chart"
    blocks: list = []
    if described:
        blocks.append(Paragraph(_("Baseline: {baseline}; contribution role: {role}.").format(
            baseline=named(str(described.get("baseline_type")), BASELINE_TYPES),
            role=named(str(described.get("contribution_role")), CONTRIBUTION_ROLES))))
    if pair is not None:
        baseline = [named_value(line, pair.source, pair.baseline) for line in records]
        product = [named_value(line, pair.source, pair.product) for line in records]
        stem = pair.baseline.removeprefix("baseline_")
        axis = _("{quantity} per functional unit ({functional_unit}) [{unit}]").format(
            quantity=stem, functional_unit=functional_unit, unit=pair.unit)
        series = [Series(_("Baseline"), baseline, COLOURS["baseline"]), Series(_("Product"), product, COLOURS["product"])]
        title = _("{methodology}: baseline and product per functional unit ({functional_unit})").format(
            methodology=methodology, functional_unit=functional_unit)
        head = [header(_("Product line")), header(_("Market")),
                header(_("Baseline ({name}) [{unit}]").format(name=pair.baseline, unit=pair.unit)),
                header(_("Product ({name}) [{unit}]").format(name=pair.product, unit=pair.unit)),
                header(_("Avoided per functional unit and year") + f" [{avoided_unit}]")]
        body = [(Cell(label, header=True), Cell(market_name(line.get("market"))), measure_cell(b), measure_cell(p),
                 measure_cell(a)) for label, line, b, p, a in zip(labels, records, baseline, product, avoided)]
        note = _("Baseline and product as the methodology names them: {baseline} and {product} ({source}), per "
                 "functional unit.").format(baseline=pair.baseline, product=pair.product, source=pair.source)
    else:
        axis = _("Avoided emissions per functional unit and year [{unit}]").format(unit=avoided_unit)
        series = [Series(_("Avoided per functional unit and year"), avoided, COLOURS["avoided"])]
        title = _("{methodology}: avoided emissions per functional unit ({functional_unit}) and year").format(
            methodology=methodology, functional_unit=functional_unit)
        head = [header(_("Product line")), header(_("Market")),
                header(_("Avoided per functional unit and year") + f" [{avoided_unit}]")]
        body = [(Cell(label, header=True), Cell(market_name(line.get("market"))), measure_cell(a))
                for label, line, a in zip(labels, records, avoided)]
        note = _("This methodology does not name baseline and product figures per functional unit among its steps or "
                 "inputs: shown is the avoided emissions per functional unit and year.")
    if len(top) < len(group):
        note = sentences(note, _("{shown} of {count} product lines (the largest by lifetime avoided emissions).")
                         .format(shown=len(top), count=len(group)))
    svg = bar_chart(chart_id, [shorten(label) for label in labels], [Panel(series, axis)], value_text=measure_text)
    blocks.append(Chart(chart_id, title, svg, Table(title, (tuple(head),), tuple(body)), note))
    heading = f"{methodology} {version}".strip() if version and version != "nan" else methodology
    return Subsection(block_id, heading, tuple(blocks))
