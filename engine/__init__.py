"""koken: avoided-emissions (削減貢献量) methodology engine for electric and electronic products.

The import package is ``engine``; the distribution and command are ``koken``.
Aligned with IEC 63372:2026 (avoided emissions of EE products and systems) and the
Japanese electrical and electronics industry's Carbon Neutral Action Plan methodologies.
"""

__version__ = "0.1.0"
