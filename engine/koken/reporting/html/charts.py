"""Bar charts as inline SVG, drawn with matplotlib; no JavaScript, nothing loaded.

matplotlib writes SVG with its texts kept as ``<text>`` (``svg.fonttype: none``), so the browser draws them with
the page's fonts — Japanese with the system's CJK font — and they can be selected, searched and read aloud. The
SVG is made fit for a page that holds many charts: matplotlib's metadata and document type are dropped, every
id is prefixed with the chart's id (ids stay unique in the page), and the ``<svg>`` gets ``role="img"`` and the
id of its caption.

Rules kept here (docs/html-report.md): a timeframe is one panel, never stacked on another; a part (the device
share, 内数) is drawn inside its bar, from zero, never on top of it; every value axis names its unit.
"""

from __future__ import annotations

import io
import math
import re
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from koken.base.i18n import current_language

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"

FONTS = {
    "ja": ("Noto Sans CJK JP", "Source Han Sans JP", "IPAexGothic", "IPAGothic", "Hiragino Sans", "Yu Gothic",
           "Meiryo", "DejaVu Sans", "Verdana"),
    "en": ("DejaVu Sans", "Verdana", "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", "Meiryo"),
}
"""The charts' fonts by language, in order of choice. matplotlib lays a chart out with the first one installed
here and names the whole list in the SVG, so that a browser that has the same font draws the texts in the room
measured for them, and one that has not takes the next (Verdana is about as wide as DejaVu Sans; Japanese system
fonts about as wide as Noto Sans CJK). The SVG lets a text that comes out wider overflow its box rather than be
cut (the page's CSS)."""

COLOURS = {"domestic": "#0072B2", "overseas": "#E69F00", "baseline": "#8C8C8C", "product": "#009E73",
           "single_year": "#56B4E9", "lifetime": "#CC79A7", "avoided": "#009E73", "at_low": "#0072B2",
           "at_high": "#D55E00"}
"""Okabe-Ito colours (distinguishable with the common colour-vision deficiencies) by what a series shows."""

INNER_HATCH = "////"
INNER_COLOUR = (0.0, 0.0, 0.0, 0.38)


@dataclass(frozen=True)
class Series:
    """One series of bars.

    Attributes:
        label: its legend entry.
        values: one value per label of the chart (NaN: no bar).
        colour: the bars' colour.
        inner: the part of each value drawn inside its bar (e.g. the device share, 内数), NaN for none; or None.
    """

    label: str
    values: Sequence[float]
    colour: str
    inner: Sequence[float] | None = None


@dataclass(frozen=True)
class Panel:
    """One set of axes: its series, the value axis's label (with the unit), and a title over it (or None)."""

    series: Sequence[Series]
    axis_label: str
    title: str | None = None


def bar_chart(chart_id: str, labels: Sequence[str], panels: Sequence[Panel], *, horizontal: bool = True,
              inner_label: str | None = None, value_text: Callable[[float], str] | None = None,
              width: float = 7.6) -> Markup:
    """Grouped bars, one group per label, panels side by side (each its own value axis), as inline SVG.

    Args:
        chart_id: the id of the chart's figure in the page (letters, digits, hyphens); the SVG's own ids get it as
            a prefix and the SVG is labelled by ``<chart_id>-caption``.
        labels: one per group (categories, product lines, fiscal years), top to bottom (``horizontal``) or left to
            right.
        panels: side by side; a panel per timeframe, never two timeframes in one.
        horizontal: bars along x (labels on the y axis) or along y.
        inner_label: the legend entry of the inner bars (when a series has ``inner``).
        value_text: the text written at the end of each bar (e.g. ``figure_text``), or None for none.
        width: the figure's width in inches (the page scales it down to fit).
    Returns:
        Markup: the ``<svg>`` element, safe to put in the page (matplotlib escapes the texts it writes). Each bar
        is a group with the id ``<chart_id>-bar-<panel>-<series>-<label>``, its inner part
        ``<chart_id>-inner-<panel>-<series>-<label>`` (indices from 0). The legend names the series when a panel
        has several, and the inner bars.
    """
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    n_series = max(len(p.series) for p in panels)
    group = 0.8
    thick = group / max(n_series, 1)
    if horizontal:
        height = 1.1 + 0.26 * max(len(labels), 1) * max(n_series, 1) ** 0.85 + (0.35 if panels[0].title else 0)
    else:
        height = 3.4
    with matplotlib.rc_context(_style(chart_id)), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font")
        fig = Figure(figsize=(width, height), layout="constrained")
        axes = fig.subplots(1, len(panels), squeeze=False)[0]
        positions = list(range(len(labels)))
        for n, (ax, panel) in enumerate(zip(axes, panels)):
            for i, series in enumerate(panel.series):
                offset = -group / 2 + thick * (i + 0.5)
                at = [p + offset for p in positions]
                values = [_number(v) for v in series.values]
                drawn = [0.0 if math.isnan(v) else v for v in values]
                bar = ax.barh if horizontal else ax.bar
                bars = bar(at, drawn, thick * 0.92, color=series.colour, label=series.label, zorder=2)
                for j, patch in enumerate(bars.patches):
                    patch.set_gid(f"bar-{n}-{i}-{j}")       # the browser tests find each bar and its inner part
                if series.inner is not None:
                    inner = [0.0 if math.isnan(_number(v)) else _number(v) for v in series.inner]
                    parts = bar(at, inner, thick * 0.46, color=INNER_COLOUR, hatch=INNER_HATCH, edgecolor="white",
                                linewidth=0, zorder=3)
                    for j, patch in enumerate(parts.patches):
                        patch.set_gid(f"inner-{n}-{i}-{j}")
                if value_text is not None:
                    for p, v in zip(at, values):
                        if not math.isnan(v):
                            _value_label(ax, p, v, value_text(v), horizontal)
            (ax.xaxis if horizontal else ax.yaxis).set_major_locator(MaxNLocator(nbins=6 if len(panels) == 1 else 4))
            ticks = ax.set_yticks if horizontal else ax.set_xticks
            ticks(positions, labels if ax is axes[0] or not horizontal else [""] * len(labels))
            if horizontal:
                ax.invert_yaxis()
                ax.set_xlabel(panel.axis_label)
                ax.axvline(0, color="#444444", linewidth=0.8, zorder=4)
                ax.xaxis.set_major_formatter(FuncFormatter(_tick))
                ax.grid(axis="x", color="#DDDDDD", linewidth=0.6, zorder=0)
                ax.margins(x=0.16 if len(panels) == 1 else 0.3)
            else:
                ax.set_ylabel(panel.axis_label)
                ax.axhline(0, color="#444444", linewidth=0.8, zorder=4)
                ax.yaxis.set_major_formatter(FuncFormatter(_tick))
                ax.grid(axis="y", color="#DDDDDD", linewidth=0.6, zorder=0)
                ax.margins(y=0.14)
            if panel.title:
                ax.set_title(panel.title, fontsize=11, loc="left")
        handles = [Patch(facecolor=s.colour, label=s.label) for s in panels[0].series] if n_series > 1 else []
        if inner_label and any(s.inner is not None for p in panels for s in p.series):
            handles.append(Patch(facecolor=INNER_COLOUR, hatch=INNER_HATCH, edgecolor="white", linewidth=0,
                                 label=inner_label))
        if handles:
            fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return Markup(inline_svg(buffer.getvalue(), chart_id))


def tornado_svg(chart_id: str, labels: Sequence[str], at_low: Sequence[float], at_high: Sequence[float],
                central: float, axis_label: str, legend: tuple[str, str, str], width: float = 7.6) -> str:
    """A tornado chart as an SVG document: one row per parameter (top: the largest swing, as given), a bar from the
    central result to the result at the parameter's low value and one to the result at its high value, a vertical
    line at the central result.

    Args:
        chart_id: the chart's id (the salt of matplotlib's clip-path ids; :func:`inline_svg` prefixes ids with it).
        labels: one per parameter, top to bottom (e.g. ``grid_emission_factor (0.3–0.5 kg-CO2/kWh)``).
        at_low, at_high: the result with the parameter at its low and at its high value.
        central: the result with every parameter central.
        axis_label: the value axis's label, with the unit (``Avoided emissions [kg-CO2e/台/yr]``).
        legend: the entries for the low bars, the high bars and the central line.
        width: the figure's width in inches.
    Returns:
        The SVG document (texts kept as ``<text>``); each bar a group with the id ``low-<i>`` or ``high-<i>``.
    """
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    height = 1.3 + 0.42 * max(len(labels), 1)
    with matplotlib.rc_context(_style(chart_id)), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font")
        fig = Figure(figsize=(width, height), layout="constrained")
        ax = fig.subplots()
        positions = list(range(len(labels)))
        for gid, values, colour in (("low", at_low, COLOURS["at_low"]), ("high", at_high, COLOURS["at_high"])):
            lefts = [min(central, _number(v)) for v in values]
            widths = [abs(_number(v) - central) for v in values]
            bars = ax.barh(positions, widths, 0.6, left=lefts, color=colour, zorder=2)
            for j, patch in enumerate(bars.patches):
                patch.set_gid(f"{gid}-{j}")
        ax.axvline(central, color="#222222", linewidth=1.0, zorder=4)
        ax.set_yticks(positions, list(labels))
        ax.invert_yaxis()
        ax.set_xlabel(axis_label)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6))
        ax.xaxis.set_major_formatter(FuncFormatter(_tick))
        ax.grid(axis="x", color="#DDDDDD", linewidth=0.6, zorder=0)
        ax.margins(x=0.08)
        handles = [Patch(facecolor=COLOURS["at_low"], label=legend[0]), Patch(facecolor=COLOURS["at_high"], label=legend[1]),
                   Line2D([0], [0], color="#222222", linewidth=1.0, label=legend[2])]
        fig.legend(handles=handles, loc="outside lower center", ncols=3, frameon=False)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return buffer.getvalue()


def _style(chart_id: str) -> dict:
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    fonts = FONTS["ja" if current_language() == "ja" else "en"]
    first = [name for name in fonts if name in installed][:1] or ["DejaVu Sans"]   # matplotlib ships DejaVu Sans
    return {
        "svg.fonttype": "none",            # texts stay text: the browser draws them with its fonts
        "svg.hashsalt": chart_id,          # clip-path ids: the same for the same chart, unique in the page
        "font.family": ["sans-serif"],
        "font.sans-serif": first + [name for name in fonts if name not in first],
        "font.size": 10,
        "text.parse_math": False,          # a $ in a product line is a dollar sign, not mathematics
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 11,
        "hatch.linewidth": 0.8,
        "svg.image_inline": True,
    }


def _number(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return number if math.isfinite(number) else math.nan


def _tick(value: float, position: int) -> str:
    """A value axis's tick: thousands separators, no needless decimals (``27,128``, ``0.05``)."""
    return f"{value:,.0f}" if value == int(value) else f"{value:,.6g}"


def _value_label(ax, position: float, value: float, text: str, horizontal: bool) -> None:
    if horizontal:
        ax.annotate(text, (value, position), xytext=(3 if value >= 0 else -3, 0), textcoords="offset points",
                    ha="left" if value >= 0 else "right", va="center", fontsize=8, color="#222222", zorder=5)
    else:
        ax.annotate(text, (position, value), xytext=(0, 2 if value >= 0 else -2), textcoords="offset points",
                    ha="center", va="bottom" if value >= 0 else "top", fontsize=8, color="#222222", zorder=5)


_PROLOGUE = re.compile(r"\A.*?(?=<svg[\s>])", re.S)


def inline_svg(svg: str, chart_id: str) -> str:
    """matplotlib's SVG document made fit to put inline in a page of many charts.

    Drops the XML declaration, the document type and the metadata; prefixes every id with ``chart_id`` and
    rewrites the references to it (``url(#…)``, ``xlink:href="#…"``); adds ``role="img"``,
    ``aria-labelledby="<chart_id>-caption"`` and ``class="chart-svg"`` to the ``<svg>``. Texts are parsed and
    written back escaped by ElementTree.

    >>> out = inline_svg('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><metadata/>'
    ...                  '<clipPath id="p1"/><g clip-path="url(#p1)"><text>a &lt; b</text></g></svg>', "c1")
    >>> 'id="c1-p1"' in out and 'url(#c1-p1)' in out and "a &lt; b" in out and "metadata" not in out
    True
    """
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    root = ET.fromstring(_PROLOGUE.sub("", svg, count=1))
    for metadata in root.findall(f"{{{SVG_NS}}}metadata"):
        root.remove(metadata)
    href = f"{{{XLINK_NS}}}href"
    for element in root.iter():
        if "id" in element.attrib:
            element.set("id", f"{chart_id}-{element.get('id')}")
        for name, value in list(element.attrib.items()):
            if "url(#" in value:
                element.set(name, value.replace("url(#", f"url(#{chart_id}-"))
        if element.get(href, "").startswith("#"):
            element.set(href, f"#{chart_id}-{element.get(href)[1:]}")
    root.set("role", "img")
    root.set("aria-labelledby", f"{chart_id}-caption")
    root.set("class", "chart-svg")
    return ET.tostring(root, encoding="unicode")


__all__ = ["COLOURS", "Panel", "Series", "bar_chart", "inline_svg", "tornado_svg"]
