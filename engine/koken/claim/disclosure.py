"""The disclosure bundle of a reported figure, built from a koken JSON result and a gate assessment.

One figure is one timeframe (``single_year`` or ``lifetime``) of one fiscal year, over every product line of the
result or over one category and/or market. Its bundle holds the items of :data:`MANDATORY_ITEMS` (the WBCSD
Guidance on Avoided Emissions' reporting items and the GHG Protocol Scope 3 Standard's Box 9.4 list, as
docs/claim.md maps them) and, beside them, Scope 3 category 11 of the same lines (never subtracted). When a
mandatory item is missing (a result of an older koken, a point run without Monte Carlo draws, no gate
assessment) the bundle is refused and every missing item is named.

Data quality is aggregated per figure from each input's level (:func:`koken.results.data_quality`): each line
counts with the absolute value of its figure (t-CO2e), so that a negative line weighs as much as a positive one
of the same size; units shipped are not used because they are in different functional units (台, kW, 件) that do
not add across methodologies. A line's level is the weakest level among its inputs (a figure is no more specific
than its least specific input); ``by_input`` gives each parameter's own shares.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from koken.base.errors import KokenError, KokenErrors, Location
from koken.base.i18n import N_, _
from koken.base.vocabulary import CATEGORY11_COLUMN, DATA_QUALITY_IDS, LEGITIMACY_FLAGS, RESULT_UNIT
from koken.claim.gates import Assessment

TIMEFRAMES = ("single_year", "lifetime")
"""The figures a claim may be made for (the result's two flow timeframes; the installed-base figure has no
uncertainty range in results yet)."""

MANDATORY_ITEMS = {
    "methodologies": N_("methodologies and their versions"),
    "baseline_types": N_("baseline types"),
    "timeframe": N_("timeframe"),
    "factors": N_("emission factors and their sources"),
    "gwp_set": N_("GWP set"),
    "contribution_roles": N_("contribution roles"),
    "completeness": N_("completeness (all lines, negatives included)"),
    "uncertainty": N_("uncertainty range (P5-P95)"),
    "gates": N_("eligibility gates"),
    "data_quality": N_("data quality"),
    "legitimacy": N_("legitimacy flags"),
}
"""The items every disclosure bundle must hold, in the order written: item key → its name (the one list)."""


class ClaimError(KokenError):
    """A claim or its disclosure bundle cannot be written (a missing item, wording a claim must not use)."""


@dataclass(frozen=True)
class Scope:
    """Which figure of a result is claimed: a timeframe, a fiscal year, optionally one category and one market."""

    timeframe: str
    fiscal_year: int
    category: str | None = None
    market: str | None = None

    @property
    def column(self) -> str:
        """The result column of the figure (``lifetime[t-CO2e]``)."""
        return f"{self.timeframe}[{RESULT_UNIT}]"


def choose_scope(document: Mapping, timeframe: str = "lifetime", fiscal_year: int | None = None,
                 category: str | None = None, market: str | None = None) -> Scope:
    """The claimed figure of ``document`` (a koken JSON result).

    Raises:
        KokenErrors: an unknown timeframe; several fiscal years and none chosen; no line in the scope.
    """
    source = Location(file=str(document.get("_path") or "<result>"))
    if timeframe not in TIMEFRAMES:
        raise KokenErrors([ClaimError(_("a claim is made for one timeframe: {allowed}, got {value!r}").format(
            allowed=", ".join(TIMEFRAMES), value=timeframe), source)])
    years = sorted({r.get("fiscal_year") for r in document.get("rows", [])}, key=str)
    if fiscal_year is None:
        if len(years) != 1:
            raise KokenErrors([ClaimError(_("the result holds fiscal years {years}: choose one (--fiscal-year); a "
                                            "claim never adds fiscal years").format(years=", ".join(map(str, years))),
                                          source)])
        fiscal_year = int(years[0])
    scope = Scope(timeframe, int(fiscal_year), category, market)
    if not lines_in(document, scope):
        raise KokenErrors([ClaimError(_("no product line of the result is in FY{year}{category}{market}").format(
            year=scope.fiscal_year, category=f", {category}" if category else "", market=f", {market}" if market else ""),
            source)])
    return scope


def lines_in(document: Mapping, scope: Scope) -> list[dict]:
    """The result rows of the scope (every one, zero and negative lines included)."""
    return [r for r in document.get("rows", []) if r.get("fiscal_year") == scope.fiscal_year
            and (scope.category is None or r.get("category") == scope.category)
            and (scope.market is None or r.get("market") == scope.market)]


def aggregate_quality(rows: Sequence[Mapping], column: str) -> dict | None:
    """Data-quality shares of a figure (rule: the module's docstring).

    Args:
        rows: result rows, each with ``inputs`` (``{name: {"data_quality": level or None}}``) and ``column``.
        column: the figure (``lifetime[t-CO2e]``).
    Returns:
        ``{"weighting": "absolute_figure" | "lines", "by_line": {level: share}, "by_input": {parameter: {level:
        share}}}`` with shares in [0, 1] over :data:`DATA_QUALITY_IDS` (``by_line`` adds ``none`` when a line has
        no rated input); weighting by lines only when every line's figure is 0. None when a row's inputs carry
        no level (a result written before data quality was recorded).
    """
    weights = [abs(float(r.get(column) or 0.0)) for r in rows]
    weighting = "absolute_figure"
    if not any(weights):
        weights, weighting = [1.0] * len(rows), "lines"
    total = sum(weights)
    by_line = dict.fromkeys(DATA_QUALITY_IDS, 0.0)
    inputs: dict[str, dict[str, float]] = {}
    for row, weight in zip(rows, weights):
        levels = []
        for name, given in (row.get("inputs") or {}).items():
            if not isinstance(given, Mapping) or "data_quality" not in given:
                return None
            level = given["data_quality"]
            if level is None:
                continue  # a neutral default: a term that does not apply carries no data
            levels.append(level)
            inputs.setdefault(name, dict.fromkeys(DATA_QUALITY_IDS, 0.0))[level] += weight
        if not row.get("inputs"):
            return None
        weakest = max(levels, key=DATA_QUALITY_IDS.index) if levels else "none"
        by_line[weakest] = by_line.get(weakest, 0.0) + weight
    return {"weighting": weighting,
            "by_line": {k: v / total for k, v in by_line.items()},
            "by_input": {name: {k: v / sum(shares.values()) for k, v in shares.items()}
                         for name, shares in sorted(inputs.items())}}


def _uncertainty(document: Mapping, scope: Scope, rows: Sequence[Mapping]) -> tuple[dict | None, str]:
    """The figure's P5/P50/P95 from the result's ``uncertainty`` key (issue 16 contract item 3), or why not."""
    block = document.get("uncertainty")
    if not isinstance(block, Mapping):
        return None, _("the result has no uncertainty range: run koken calculate with Monte Carlo draws")
    categories = {r.get("category") for r in rows}
    markets = {r.get("market") for r in rows}
    category = scope.category or (next(iter(categories)) if len(categories) == 1 else None)
    market = scope.market or (next(iter(markets)) if len(markets) == 1 else None)
    for entry in block.get("totals") or ():
        if (entry.get("fiscal_year") == scope.fiscal_year and entry.get("figure") == scope.column
                and (entry.get("category") or None) == category and (entry.get("market") or None) == market):
            return {"method": block.get("method"), "draws": block.get("draws"), "seed": block.get("seed"),
                    "central": entry.get("central"), "p5": entry.get("p5"), "p50": entry.get("p50"),
                    "p95": entry.get("p95"), "unit": RESULT_UNIT, "favourable_end": list(block.get("favourable_end") or ())
                    }, ""
    return None, _("the result's uncertainty totals have no entry for {figure} of FY{year} over {category} and {market} "
                   "(percentiles do not add: the range must be computed for the claimed figure itself)").format(
        figure=scope.column, year=scope.fiscal_year, category=category or _("all categories"),
        market=market or _("all markets"))


def _factors(rows: Sequence[Mapping]) -> list[dict]:
    """Each factor-table value the lines used, once: parameter, value, unit and origin (table, key, source)."""
    seen = {}
    for row in rows:
        for name, given in (row.get("inputs") or {}).items():
            origin = str(given.get("origin", ""))
            if origin.startswith("factor table"):
                seen[(name, origin, given.get("value"))] = {"parameter": name, "value": given.get("value"),
                                                             "unit": given.get("unit"), "origin": origin}
    return [seen[k] for k in sorted(seen, key=str)]


def build_bundle(document: Mapping, scope: Scope, assessment: Assessment | None) -> dict:
    """The disclosure bundle of the scope's figure.

    Args:
        document: a koken JSON result (``koken calculate -o result.json``), with ``_path`` where it was read.
        scope: the figure (:func:`choose_scope`).
        assessment: the claim's gate assessment (:func:`koken.claim.gates.load_assessment`).
    Returns:
        A JSON-ready dict: ``figure`` (value in t-CO2e and its scope), every key of :data:`MANDATORY_ITEMS`, and
        ``inventory_beside`` (Scope 3 category 11 of the same lines, never subtracted from the figure).
    Raises:
        KokenErrors: one :class:`ClaimError` per missing mandatory item, each named with what would supply it.
    """
    source = Location(file=str(document.get("_path") or "<result>"))
    rows = lines_in(document, scope)
    info = document.get("methodologies") or {}
    used = sorted({str(r.get("methodology")) for r in rows})
    missing: dict[str, str] = {}
    methodologies = []
    for mid in used:
        m = info.get(mid) or {}
        if not m.get("version"):
            missing.setdefault("methodologies", _("the result does not record methodology {id}'s version").format(id=mid))
        methodologies.append({"id": mid, "version": m.get("version"), "content_hash": m.get("content_hash"),
                              "status": m.get("status")})
    baselines = {mid: (info.get(mid) or {}).get("baseline_type") for mid in used}
    if not all(baselines.values()):
        missing["baseline_types"] = _("the result does not record the baseline type of {ids}").format(
            ids=", ".join(k for k, v in baselines.items() if not v))
    roles = {mid: (info.get(mid) or {}).get("contribution_role") for mid in used}
    if not all(roles.values()):
        missing["contribution_roles"] = _("the result does not record the contribution role of {ids}").format(
            ids=", ".join(k for k, v in roles.items() if not v))
    if "factor_tables" not in document or any("inputs" not in r for r in rows):
        missing["factors"] = _("the result does not record each line's inputs and the factor tables (write it with "
                               "koken calculate -o result.json)")
    gwp = document.get("gwp_set")
    if not gwp:
        missing["gwp_set"] = _("the result does not name its GWP set")
    uncertainty, why = _uncertainty(document, scope, rows)
    if uncertainty is None:
        missing["uncertainty"] = why
    if assessment is None:
        missing["gates"] = _("no gate assessment was given (--gates FILE.yaml)")
    quality = aggregate_quality(rows, scope.column)
    if quality is None:
        missing["data_quality"] = _("the result's inputs carry no data-quality level (a result of an older koken: "
                                    "calculate again)")
    if not all(isinstance(info.get(mid), Mapping) and all(f.id in info[mid] for f in LEGITIMACY_FLAGS) for mid in used):
        missing["legitimacy"] = _("the result does not record the methodologies' legitimacy flags (calculate again)")
    if missing:
        raise KokenErrors([ClaimError(_("the disclosure bundle cannot be written: the mandatory item {item!r} is "
                                        "missing: {why}").format(item=_(MANDATORY_ITEMS[key]), why=why), source)
                           for key, why in sorted(missing.items(), key=lambda kv: list(MANDATORY_ITEMS).index(kv[0]))])
    values = [float(r.get(scope.column) or 0.0) for r in rows]
    negatives = [v for v in values if v < 0]
    cat11 = [r.get(CATEGORY11_COLUMN) for r in rows]
    return {
        "figure": {"value": sum(values), "unit": RESULT_UNIT, "timeframe": scope.timeframe,
                   "fiscal_year": scope.fiscal_year, "category": scope.category, "market": scope.market,
                   "result_file": document.get("_path"), "koken_version": document.get("koken_version")},
        "methodologies": methodologies,
        "baseline_types": [{"methodology": k, "baseline_type": v} for k, v in baselines.items()],
        "timeframe": {"timeframe": scope.timeframe, "fiscal_year": scope.fiscal_year},
        "factors": _factors(rows),
        "gwp_set": gwp,
        "contribution_roles": [{"methodology": k, "contribution_role": v} for k, v in roles.items()],
        "completeness": {"lines": len(rows), "negative_lines": len(negatives), "negative_sum": sum(negatives),
                         "positive_sum": sum(v for v in values if v > 0), "all_lines_included": True},
        "uncertainty": uncertainty,
        "gates": assessment.record() if assessment is not None else None,
        "data_quality": quality,
        "legitimacy": [{"methodology": mid, "flag": f.id, "ja": f.ja, "en": f.en}
                       for mid in used for f in LEGITIMACY_FLAGS if info[mid].get(f.id)],
        "inventory_beside": {"scope3_cat11_lifetime": sum(float(v) for v in cat11 if v is not None),
                             "unit": RESULT_UNIT, "lines_without_category11": sum(v is None for v in cat11)},
    }


def legitimacy_carriers(document: Mapping, scope: Scope) -> dict[str, list[str]]:
    """Legitimacy flag id → the methodologies of the scope's lines that carry it (for the gate assessment)."""
    info = document.get("methodologies") or {}
    used = sorted({str(r.get("methodology")) for r in lines_in(document, scope)})
    return {f.id: [mid for mid in used if (info.get(mid) or {}).get(f.id)] for f in LEGITIMACY_FLAGS}


__all__ = ["MANDATORY_ITEMS", "TIMEFRAMES", "ClaimError", "Scope", "aggregate_quality", "build_bundle",
           "choose_scope", "legitimacy_carriers", "lines_in"]
