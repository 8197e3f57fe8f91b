"""The action plan's report as one self-contained HTML page (``koken report … -o report.html``).

``document.to_html`` renders the sections listed in ``sections.SECTIONS``; each section is one module of
``sections/`` with a function ``section(report, context) -> Section | None`` (docs/html-report.md: adding a
section). Charts are inline SVG drawn by matplotlib (``charts``); the page loads nothing and runs no script.
"""
