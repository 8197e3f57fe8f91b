"""What the standards ask a report to disclose: reporting year, unit, timeframes, methodologies with their
versions, baselines and roles, grid emission factors and their origins, GWP set, device shares and the ratio
file, completeness, separation from inventories, rounding, result files — labels and values in the chosen
language (the workbook has them in both)."""

from __future__ import annotations

from koken.base.i18n import _
from koken.reporting.action_plan import Report, disclosure_rows
from koken.reporting.html.blocks import SIGNIFICANT, Cell, Context, Section, Table, header
from koken.reporting.html.data import fiscal_years

ID = "disclosures"


def section(report: Report, context: Context) -> Section:
    """The disclosures as a two-column table (item, disclosure); with the grid emission factors of the other fiscal
    years the trend shows."""
    shown = disclosure_rows(report, bilingual=False, significant=SIGNIFICANT, trend=len(fiscal_years(report)) > 1)
    rows = tuple((Cell(label, header=True), Cell(value)) for label, value in shown)
    title = _("Disclosures")
    return Section(ID, title, (Table(title, ((header(_("Item")), header(_("Disclosure"))),), rows),))
