"""What a section of the HTML report is made of: paragraphs, notes, tables and charts, as plain data.

A section never writes HTML: it returns a :class:`Section` of these blocks and the page's template
(``templates/report.html``, Jinja2 with autoescaping) renders them, so that every text — product line names and
file names come from input files — is escaped in one place. The one exception is a chart's SVG, which
:mod:`koken.reporting.html.charts` makes (matplotlib's SVG writer escapes the texts it draws).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from markupsafe import Markup

from koken.reporting.action_plan import figure_text

SIGNIFICANT = 2
"""Significant digits a figure of the HTML report shows at least (with at most 3 decimals): a bar of 0.83 万t-CO2e
is labelled 0.83, not 1, in its chart and its table alike (:func:`koken.reporting.action_plan.shown_decimals`)."""


@dataclass(frozen=True)
class Cell:
    """One table cell.

    Attributes:
        text: what the cell shows (a figure already formatted, e.g. ``1,512`` or ``(552)``).
        value: the unrounded number behind ``text`` (written as ``data-value``, for copying and checks), or None.
        header: a header cell (``<th>``: a column header in a table's head, a row header in its body).
        colspan, rowspan: cells spanned.
        figure: the cell is in a column of figures: right-aligned like them even without a value (``—``).
    """

    text: str
    value: float | None = None
    header: bool = False
    colspan: int = 1
    rowspan: int = 1
    figure: bool = False

    @property
    def numeric(self) -> bool:
        """Whether the cell is aligned as a figure (right): it holds one, or stands in a column of them."""
        return self.value is not None or self.figure

    @property
    def data_value(self) -> str:
        """:attr:`value` with 15 significant digits (what a double holds exactly in decimal; the binary noise of
        the last places dropped), for the cell's ``data-value``; empty for a cell without a figure.

        >>> Cell("2,784.9", 2784.914999999999).data_value
        '2784.915'
        """
        return "" if self.value is None else f"{self.value:.15g}"


NONE = "—"
"""What a figure cell shows where there are no product lines."""


def no_figure() -> Cell:
    """A cell of a figure column without a figure (no product lines there): ``—``, aligned as the figures are."""
    return Cell(NONE, None, figure=True)


@dataclass(frozen=True)
class Table:
    """A data table: a ``<table>`` with its caption (which names the unit), header rows and body rows.

    Attributes:
        caption: the table's caption; name the unit here or in every figure column's header.
        head: header rows (``<thead>``), each a tuple of cells (``header=True``).
        body: body rows; a first cell with ``header=True`` is the row's header.
        totals: how many of the last body rows are totals (bold, under a double rule).
    """

    caption: str
    head: tuple[tuple[Cell, ...], ...]
    body: tuple[tuple[Cell, ...], ...]
    totals: int = 0


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of text."""

    text: str


@dataclass(frozen=True)
class Notes:
    """A list of notes (sentences), with an optional heading."""

    items: tuple[str, ...]
    title: str | None = None


@dataclass(frozen=True)
class Chart:
    """A chart and its data.

    Attributes:
        id: the figure's id in the page (letters, digits and hyphens; unique in the page).
        title: the figure's caption.
        svg: the chart as inline SVG (:func:`koken.reporting.html.charts.bar_chart`), its texts kept as text.
        table: the same numbers as a table, beside the chart (for screen readers and copying).
        note: a sentence under the caption (what is shown, what is left out), or None.
        wide: the chart takes the page's width and its table goes under it (a chart of several panels, or a table
            too wide to stand beside it); otherwise the table stands beside the chart where the page has room.
    """

    id: str
    title: str
    svg: Markup
    table: Table
    note: str | None = None
    wide: bool = False


@dataclass(frozen=True)
class Subsection:
    """A titled group of blocks inside a section (an ``<h3>``)."""

    id: str
    title: str
    blocks: tuple[Block, ...]


Block = Paragraph | Notes | Table | Chart | Subsection


@dataclass(frozen=True)
class Section:
    """A section of the report: an ``<h2>`` heading, its blocks, and an entry in the contents.

    Attributes:
        id: the section's anchor (letters, digits and hyphens; unique in the page).
        title: its heading.
        blocks: what it shows, in order.
    """

    id: str
    title: str
    blocks: tuple[Block, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Context:
    """What every section is given besides the report.

    Attributes:
        decimals: decimals of 万t-CO2e figures (0 to 3; a non-zero figure is never shown as 0).
        top_lines: product lines in the chart of the largest lines.
        lines_per_methodology: product lines per methodology in the per-methodology view.
    """

    decimals: int = 0
    top_lines: int = 10
    lines_per_methodology: int = 8


def figure_cell(value: float | None, decimals: int, *, brackets: bool = False) -> Cell:
    """A cell for a figure: thousands separators, ``decimals`` places, more where it would show fewer than
    :data:`SIGNIFICANT` significant digits (at most 3 decimals), ``<0.001`` when smaller still
    (:func:`figure_label`); ``(…)`` with ``brackets`` (a device share, inside the figure before it); an empty cell
    for None or NaN.

    >>> figure_cell(0.2784915, 0).text, figure_cell(552.2, 0, brackets=True).text, figure_cell(None, 0).text
    ('0.28', '(552)', '')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return Cell("", None, figure=True)
    text = figure_label(float(value), decimals)
    return Cell(f"({text})" if brackets else text, float(value))


def figure_label(value: float, decimals: int) -> str:
    """A figure as the HTML report shows it, in its tables and at the end of its bars alike: ``decimals`` places,
    more where they would show fewer than :data:`SIGNIFICANT` significant digits (at most 3 decimals).

    >>> figure_label(0.8255, 0), figure_label(9.6, 0), figure_label(1512.3, 0), figure_label(33418.98, 1)
    ('0.83', '9.6', '1,512', '33,419.0')
    """
    return figure_text(value, decimals, significant=SIGNIFICANT)


def header(text: str, *, colspan: int = 1, rowspan: int = 1) -> Cell:
    """A header cell."""
    return Cell(text, None, True, colspan, rowspan)


def shorten(text: str, most: int = 38) -> str:
    """``text`` cut to ``most`` characters with an ellipsis (for a chart's axis; its table has the whole text).

    >>> shorten("Oil-immersed transformer 1000 kVA (US)", 20)
    'Oil-immersed transf…'
    """
    return text if len(text) <= most else text[: most - 1] + "…"


def measure_text(value: float) -> str:
    """A per-unit figure (energy, power, emissions per functional unit) with up to 3 decimals, trailing zeros
    dropped; a non-zero figure that would read 0 with 3 significant digits instead.

    >>> measure_text(61.887), measure_text(420.0), measure_text(2150.08), measure_text(0.00002)
    ('61.887', '420', '2,150.08', '2e-05')
    """
    if value != 0 and abs(value) < 0.0005:
        return f"{value:.3g}"
    text = f"{value:,.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def measure_cell(value: float | None) -> Cell:
    """A cell for a per-unit figure (:func:`measure_text`); empty for None or NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return Cell("", None)
    return Cell(measure_text(float(value)), float(value))
