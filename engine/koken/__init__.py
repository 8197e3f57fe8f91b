"""koken (貢献): avoided emissions (削減貢献量) of electric and electronic products against a baseline, as Japan's
electrical and electronics industry reports them in its Carbon Neutral Action Plan, aligned with IEC 63372:2026.

The public API (everything in ``__all__``; documented in docs/api.md)::

    import koken
    lib = koken.load_library()                       # bundled methodologies, checked as `koken validate` does
    calc = koken.calculate(df)                       # a DataFrame, a file or a Portfolio → Calculation
    calc.table                                       # one row per product line, units in the column names
    calc.totals.summarise(["fiscal_year", "market"])
    calc.trace(9)                                    # how row 9's figures were obtained
    calc.to_file("result.json")
    koken.run("lines.parquet", output="results.parquet", engine="dask")   # files of any size
    koken.report(["result.json"], output="report.xlsx")
    koken.progress(["a.yaml", "b.xlsx"], output="progress.xlsx")     # action-plan targets, industry roll-up
    koken.set_language("ja")                         # messages, tables and reports in Japanese (or "en")
    koken.factor_entries("grid_emission_factor", region="JP")          # sourced factors: basis, status, source
    lib["transformer"].evaluate_one({...}, units_shipped="1 台")

Names are imported on first use (``koken --help`` does not load pandas or sympy). Everything else stays
importable from its module but is not promised.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from koken.base.version import __version__

_EXPORTS = {
    "load_library": "koken.library", "Library": "koken.library", "scan_library": "koken.library",
    "calculate": "koken.api", "Calculation": "koken.api", "run": "koken.api", "report": "koken.api",
    "trace": "koken.api", "progress": "koken.api", "Progress": "koken.api", "read_submission": "koken.api",
    "submission_template": "koken.api", "portfolio_template": "koken.api",
    "factor_tables": "koken.api", "factor_entries": "koken.api",
    "RunResult": "koken.scale.pipeline", "Report": "koken.reporting.action_plan", "TraceNode": "koken.audit.trace",
    "Totals": "koken.totals", "Methodology": "koken.methodology", "LineResult": "koken.methodology",
    "Portfolio": "koken.portfolio",
    "KokenError": "koken.base.errors", "KokenErrors": "koken.base.errors", "Location": "koken.base.errors",
    "UnitError": "koken.base.errors", "FormulaError": "koken.base.errors", "MethodologyError": "koken.base.errors",
    "PortfolioError": "koken.base.errors", "EvaluationError": "koken.base.errors",
    "TimeframeError": "koken.base.errors",
    "registry": "koken.base.units",
    "set_language": "koken.base.i18n", "language": "koken.base.i18n",
}

__all__ = [
    "Calculation",
    "EvaluationError",
    "FormulaError",
    "KokenError",
    "KokenErrors",
    "Library",
    "LineResult",
    "Location",
    "Methodology",
    "MethodologyError",
    "Portfolio",
    "PortfolioError",
    "Progress",
    "Report",
    "RunResult",
    "TimeframeError",
    "Totals",
    "TraceNode",
    "UnitError",
    "__version__",
    "calculate",
    "factor_entries",
    "factor_tables",
    "language",
    "load_library",
    "portfolio_template",
    "progress",
    "read_submission",
    "registry",
    "report",
    "run",
    "scan_library",
    "set_language",
    "submission_template",
    "trace",
]
"""The promised names; every one but ``__version__`` is imported from its module on first use."""


def __getattr__(name: str):
    """Import a public name from its module on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'koken' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # for editors and type checkers: the same names, imported eagerly
    from koken.api import Calculation, calculate, factor_entries, factor_tables, report, run, trace
    from koken.audit.trace import TraceNode
    from koken.base.errors import (
        EvaluationError,
        FormulaError,
        KokenError,
        KokenErrors,
        Location,
        MethodologyError,
        PortfolioError,
        TimeframeError,
        UnitError,
    )
    from koken.base.i18n import language, set_language
    from koken.base.units import registry
    from koken.library import Library, load_library, scan_library
    from koken.methodology import LineResult, Methodology
    from koken.portfolio import Portfolio
    from koken.reporting.action_plan import Report
    from koken.scale.pipeline import RunResult
    from koken.totals import Totals
