"""The HTML report: one self-contained page — the table, the charts (inline SVG) each with its data table, the
disclosures — in the chosen language, that opens offline: no script, no style sheet, font or image to load (a
Content-Security-Policy in the page forbids loading anything), and prints on A4.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from koken.base.i18n import _, current_language
from koken.base.version import __version__
from koken.reporting.action_plan import UNIT_LINE, Report, report_title
from koken.reporting.html.blocks import Context, Section
from koken.reporting.html.sections import SECTIONS, SectionFunction

CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
"""The page may load nothing and run no script; its own <style> and the SVGs' style attributes are allowed."""


def sections_of(report: Report, context: Context, functions: Sequence[SectionFunction] = SECTIONS) -> list[Section]:
    """The sections the report has (a function returning None has nothing to show and is left out).

    Raises:
        ValueError: two sections with the same id (a programming error: ids are anchors of the page).
    """
    found = [s for s in (f(report, context) for f in functions) if s is not None]
    ids = [s.id for s in found]
    if len(ids) != len(set(ids)):
        raise ValueError(f"sections share an id: {ids}")
    return found


def unit_split(text: str) -> tuple[str, str]:
    """A header's text and the unit it ends with, apart (the unit is kept on one line in the page).

    >>> unit_split("Single-year [万t-CO2e]"), unit_split("Category")
    (('Single-year', '[万t-CO2e]'), ('Category', ''))
    """
    found = re.fullmatch(r"(.*\S)\s+(\[[^\[\]]+\])", text, flags=re.S)
    return (found.group(1), found.group(2)) if found else (text, "")


def to_html(report: Report, decimals: int = 0, *, context: Context | None = None,
            sections: Sequence[SectionFunction] = SECTIONS) -> str:
    """The report as one HTML page in the current language (``with language("ja")`` for Japanese).

    Args:
        report: the report (:func:`koken.reporting.action_plan.build_report`).
        decimals: decimals of the 万t-CO2e figures shown (0 to 3; a non-zero figure is never shown as 0).
        context: what the sections are given (default: ``Context(decimals)``).
        sections: the section functions, in order (default: :data:`koken.reporting.html.sections.SECTIONS`).
    Returns:
        The page as text (UTF-8 when written): ``<html lang="ja">`` or ``"en"``, a contents list, one ``<section>``
        per section with an ``<h2>``, every chart an inline ``<svg>`` beside a ``<table>`` of its numbers; every
        text from an input file escaped.
    """
    from jinja2 import Environment, PackageLoader, StrictUndefined

    context = context or Context(decimals=decimals)
    env = Environment(loader=PackageLoader("koken.reporting.html", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.globals["kind"] = lambda block: type(block).__name__.lower()
    env.filters["unit_split"] = unit_split
    title = report_title(report)
    labels = {
        "contents": _("Contents"),
        "unit": _(UNIT_LINE),
        "made_by": _("Made by koken {version}. Avoided emissions (削減貢献量) are reported apart from Scope 1-3 "
                     "inventories and are never netted against them.").format(version=__version__),
    }
    return env.get_template("report.html").render(
        lang=current_language(), title=title, labels=labels, sections=sections_of(report, context, sections),
        csp=CONTENT_SECURITY_POLICY, generator=f"koken {__version__}")


__all__ = ["CONTENT_SECURITY_POLICY", "sections_of", "to_html"]
