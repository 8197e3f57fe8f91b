"""The claim of a reported figure (issue 16 §4): eligibility gates as data (:mod:`koken.claim.gates`), the
disclosure bundle with data quality and legitimacy flags (:mod:`koken.claim.disclosure`) and the claim statement
(:mod:`koken.claim.statement`); ``koken claim`` on the command line, docs/claim.md.
"""

from __future__ import annotations

from pathlib import Path

from koken.claim.disclosure import build_bundle, choose_scope, legitimacy_carriers
from koken.claim.gates import load_assessment
from koken.claim.statement import check_statement, write_claim
from koken.reporting.action_plan import load_result_documents


def make_claim(result: str | Path, gates: str | Path, *, timeframe: str = "lifetime", fiscal_year: int | None = None,
               category: str | None = None, market: str | None = None, statement: str | None = None,
               output: str | Path | None = None) -> dict:
    """The disclosure bundle of a figure of ``result`` (a koken JSON result) with the gate assessment ``gates``;
    written with its claim statement to ``output`` (``.md`` or ``.json``) when given.

    Returns:
        The bundle (:func:`koken.claim.disclosure.build_bundle`).
    Raises:
        KokenErrors: a statement with forbidden wording, an unreadable result or gate file, a missing mandatory
            item (each named), a gate status the figure contradicts. Nothing is written then.
    """
    check_statement(statement)
    document = load_result_documents([result])[0]
    scope = choose_scope(document, timeframe, fiscal_year, category, market)
    assessment = load_assessment(gates, legitimacy_carriers(document, scope))
    bundle = build_bundle(document, scope, assessment)
    if output is not None:
        write_claim(bundle, output, statement)
    return bundle


__all__ = ["make_claim"]
