"""Each methodology's figures per functional unit: its baseline and product side by side, from the result rows'
steps or inputs (``baseline_annual_energy`` and ``product_annual_energy`` in kWh/yr per unit, the transformer's
``baseline_loss`` and ``product_loss`` in W…); where a methodology names no such pair, the avoided emissions per
functional unit and year, and the section says so."""

from __future__ import annotations

import pandas as pd

from koken.base.i18n import N_, _, named, pick
from koken.base.vocabulary import BASELINE_TYPES, CATEGORY_IDS, CONTRIBUTION_ROLES
from koken.reporting.action_plan import Report, methodology_name, sentences
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
    shorten,
)
from koken.reporting.html.charts import COLOURS, Panel, Series, bar_chart
from koken.reporting.html.data import (
    Scenarios,
    avoided_per_unit_year,
    functional_unit_text,
    largest_lines,
    line_label,
    market_name,
    named_value,
    scenarios,
    scenarios_kind,
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


QUANTITIES = {"emissions": N_("Annual emissions"), "energy": N_("Annual energy use"), "power": N_("Power"),
              "loss": N_("Power loss")}
"""What the value axis of a baseline-and-product chart measures, by the pair's kind (:func:`_quantity`)."""

SOURCES = {"inputs": N_("input"), "steps": N_("calculation step")}
"""Where a result row names its baseline and product figures, as the page says it."""


def _quantity(pair: Scenarios) -> str:
    """The quantity a pair measures, in the current language: annual emissions (kg-CO2e/yr), annual energy use
    (kWh/yr), or power (W; a loss when the pair is named so, as the transformer's ``baseline_loss``)."""
    if scenarios_kind(pair) == 0:
        return _(QUANTITIES["emissions"])
    if "/yr" in pair.unit or "/a" in pair.unit:
        return _(QUANTITIES["energy"])
    return _(QUANTITIES["loss" if pair.baseline.endswith("_loss") else "power"])


def _named(name: str, source: str, described: dict | None) -> str:
    """A step or input as the page names it: its description in the current language with its name beside it
    (``ベースライン製品の年間消費電力量（入力 baseline_annual_energy）``), or the name alone where the methodology
    gives no description."""
    text = ((described or {}).get("descriptions") or {}).get(name)
    where = _(SOURCES[source])
    if isinstance(text, dict) and text.get("ja") and text.get("en"):
        return _("{description} ({source} {name})").format(description=pick(text["ja"], text["en"]), source=where,
                                                             name=name)
    return _("{source} {name}").format(source=where, name=name)


def _methodology(block_id: str, key: tuple[str, str], group, described: dict | None, context: Context) -> Subsection:
    methodology, version = key
    name = methodology_name(described) if described else f"{methodology} {version}".strip() \
        if version and version != "nan" else methodology
    top = largest_lines(group, context.lines_per_methodology)
    records = top.to_dict(orient="records")
    labels = [line_label(line) for line in records]
    functional_unit = str(records[0].get("functional_unit") or "?")
    per = functional_unit_text(functional_unit)
    pair = next((p for p in (scenarios(line) for line in records) if p is not None), None)
    avoided = [avoided_per_unit_year(line) for line in records]
    avoided_header = _("Avoided per {functional_unit} and year [{unit}]").format(
        functional_unit=per, unit=f"kg-CO2e/{functional_unit}/yr")
    chart_id = block_id + "-chart"
    blocks: list = []
    if described:
        blocks.append(Paragraph(_("Baseline: {baseline}; contribution role: {role}.").format(
            baseline=named(str(described.get("baseline_type")), BASELINE_TYPES),
            role=named(str(described.get("contribution_role")), CONTRIBUTION_ROLES))))
    if pair is not None:
        baseline = [named_value(line, pair.source, pair.baseline) for line in records]
        product = [named_value(line, pair.source, pair.product) for line in records]
        axis = _("{quantity} per {functional_unit} [{unit}]").format(quantity=_quantity(pair), functional_unit=per,
                                                                      unit=pair.unit)
        series = [Series(_("Baseline"), baseline, COLOURS["baseline"]), Series(_("Product"), product, COLOURS["product"])]
        title = _("{methodology}: baseline and product per {functional_unit}").format(methodology=name,
                                                                                      functional_unit=per)
        head = [header(_("Product line")), header(_("Market")),
                header(_("Baseline [{unit}]").format(unit=pair.unit)),
                header(_("Product [{unit}]").format(unit=pair.unit)), header(avoided_header)]
        body = [(Cell(label, header=True), Cell(market_name(line.get("market"))), measure_cell(b), measure_cell(p),
                 measure_cell(a)) for label, line, b, p, a in zip(labels, records, baseline, product, avoided)]
        note = _("Baseline: {baseline}. Product: {product}. Both per {functional_unit}.").format(
            baseline=_named(pair.baseline, pair.source, described), product=_named(pair.product, pair.source, described),
            functional_unit=per)
    else:
        axis = _("Avoided emissions per {functional_unit} and year [{unit}]").format(
            functional_unit=per, unit=f"kg-CO2e/{functional_unit}/yr")
        series = [Series(_("Avoided emissions"), avoided, COLOURS["avoided"])]
        title = _("{methodology}: avoided emissions per {functional_unit} and year").format(
            methodology=name, functional_unit=per)
        head = [header(_("Product line")), header(_("Market")), header(avoided_header)]
        body = [(Cell(label, header=True), Cell(market_name(line.get("market"))), measure_cell(a))
                for label, line, a in zip(labels, records, avoided)]
        note = _("This methodology does not name baseline and product figures per functional unit among its steps or "
                 "inputs: shown is the avoided emissions per functional unit and year.")
    if len(top) < len(group):
        note = sentences(note, _("{shown} of {count} product lines (the largest by lifetime avoided emissions).")
                         .format(shown=len(top), count=len(group)))
    svg = bar_chart(chart_id, [shorten(label) for label in labels], [Panel(series, axis)], value_text=measure_text)
    blocks.append(Chart(chart_id, title, svg, Table(title, (tuple(head),), tuple(body)), note))
    return Subsection(block_id, name, tuple(blocks))
