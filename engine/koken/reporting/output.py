"""Writing a report to a file, by its extension, whole or not at all.

This module sits above the report's formats (``action_plan``: the workbook, Markdown, CSV; ``html``: the
self-contained web page), so that each format stays independent of the others.
"""

from __future__ import annotations

from pathlib import Path

from koken.base.errors import KokenError
from koken.base.files import atomic_write
from koken.base.i18n import _
from koken.reporting.action_plan import Report, to_csv, to_markdown, to_xlsx
from koken.reporting.html.document import to_html
from koken.reporting.inventory import inventory_sheet, ranges_sheet

REPORT_SUFFIXES = (".html", ".xlsx", ".md", ".csv")
"""The report types :func:`write_report` writes."""


def report_bytes(report: Report, suffix: str, decimals: int = 0) -> bytes:
    """The report as the file type ``suffix`` (``.html``, ``.xlsx``, ``.md`` or ``.csv``, any case) would hold it.

    Raises:
        KokenError: another type.
    """
    suffix = suffix.lower()
    if suffix == ".html":
        return to_html(report, decimals).encode("utf-8")
    if suffix == ".xlsx":
        return to_xlsx(report, decimals, extra_sheets=(inventory_sheet, ranges_sheet))
    if suffix == ".md":
        return to_markdown(report, decimals).encode("utf-8")
    if suffix == ".csv":
        return to_csv(report, decimals).encode("utf-8-sig")
    raise KokenError(_("unsupported report type {suffix!r}: use {suffixes}").format(
        suffix=suffix, suffixes=", ".join(REPORT_SUFFIXES)))


def write_report(report: Report, path: str | Path, decimals: int = 0) -> None:
    """Write ``report`` by the file's extension, whole or not at all: ``.html`` (one self-contained page: the
    table, charts as inline SVG with their data tables, the disclosures; :func:`koken.reporting.html.document.to_html`),
    ``.xlsx`` (the workbook to submit), ``.md`` (the table with ``decimals`` places and the notes) or ``.csv``
    (UTF-8 with BOM, full precision). Texts follow the current language (the workbook has both).

    Args:
        report: the report (:func:`koken.reporting.action_plan.build_report`).
        path: the file to write; its folder must exist.
        decimals: decimals of the 万t-CO2e figures shown (0 to 3; a non-zero figure is never shown as 0).
    Raises:
        KokenError: another extension, or the file cannot be written (nothing is left behind).
    """
    try:
        data = report_bytes(report, Path(path).suffix, decimals)
    except KokenError as err:
        raise err.at(file=str(path)) from None
    atomic_write(path, data)


__all__ = ["REPORT_SUFFIXES", "report_bytes", "write_report"]
