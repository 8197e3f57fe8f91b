"""The sections of the HTML report, in the page's order: each a module with ``section(report, context)``
returning a :class:`koken.reporting.html.blocks.Section`, or None when it has nothing to show (the trend for one
fiscal year). Adding a section (Scope 3 category 11, progress against targets, uncertainty…) is one module here
and one entry in :data:`SECTIONS` (docs/html-report.md)."""

from __future__ import annotations

from collections.abc import Callable

from koken.reporting.action_plan import Report
from koken.reporting.html.blocks import Context, Section
from koken.reporting.html.sections import (
    categories,
    disclosures,
    inventory,
    methodologies,
    product_lines,
    sensitivity,
    summary,
    trend,
)

SectionFunction = Callable[[Report, Context], Section | None]

SECTIONS: tuple[SectionFunction, ...] = (
    summary.section,
    categories.section,
    inventory.section,
    sensitivity.ranges_section,
    sensitivity.portfolio_section,
    product_lines.section,
    trend.section,
    methodologies.section,
    disclosures.section,
)
"""The report's sections, in order."""
