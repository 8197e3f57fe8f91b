"""The claim statement of a figure (``koken claim``), in Japanese and English, with its disclosure bundle.

What a claim says (docs/claim.md; GHG Protocol Scope 3 Standard p. 114, WBCSD Guidance on Avoided Emissions 2023
and v2.0): the figure is avoided emissions relative to a baseline (reference scenario), over a named timeframe and
fiscal year; it is reported beside the company's Scope 1-3 inventory, never subtracted from or added to it
(Scope 3 category 11 of the same lines is stated beside it); it never uses the words of
:data:`~koken.base.vocabulary.CLAIM_FORBIDDEN_WORDS` (offset, neutral, negative emissions, compensate, オフセット,
相殺, カーボンニュートラル …), and a statement given by the user that does is refused, naming the word. When the gates
are not met, the first line of every output says so.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path

from koken.base.errors import KokenErrors, Location
from koken.base.files import atomic_write
from koken.base.i18n import N_, _, language, named, pick
from koken.base.vocabulary import (
    BASELINE_TYPES,
    CLAIM_FORBIDDEN_WORDS,
    CONTRIBUTION_ROLES,
    DATA_QUALITY_IDS,
    DATA_QUALITY_LEVELS,
)
from koken.claim.disclosure import MANDATORY_ITEMS, ClaimError
from koken.montecarlo import favourable_end

CLAIM_FORMAT = "koken-claim"
"""The ``format`` of a claim written as JSON."""

GATES_NOT_MET = N_("Eligibility gates not met ({set}): {criteria}. This figure does not meet the gates of a claim.")
GATES_MET = N_("Eligibility gates met ({set}): every mandatory criterion is met or justified.")
LIFETIME_CLAIM = N_("In FY{year}, the products shipped{scope} are estimated to avoid {value} t-CO2e of emissions over "
                    "their operating lifetime (lifetime timeframe: every year of use of the units shipped in FY{year}).")
SINGLE_YEAR_CLAIM = N_("In FY{year}, the products shipped{scope} are estimated to avoid {value} t-CO2e of emissions in "
                       "one year of use (single-year timeframe).")
RELATIVE = N_("This figure is avoided emissions relative to a baseline (reference scenario: {baselines}); it is not a "
              "reduction of the company's own emissions.")
BESIDE = N_("It is reported beside the company's Scope 1-3 inventory, never subtracted from it nor added to it. Scope 3 "
            "category 11 of the same products (lifetime use-phase emissions), stated separately: {cat11} t-CO2e.")
RANGE = N_("Uncertainty range (P5-P95): {p5} to {p95} t-CO2e (median {p50}; {method}, {draws} draws, seed {seed}).")
FAVOURABLE = N_("The claimed figure is at the favourable end of its own range (in its top 10 %): the GHG Protocol and "
                "WBCSD ask that the reported case not be the most favourable one; report a central case or say why.")
ROLES = N_("Contribution role: {roles}.")
QUALITY = N_("Data quality (share of the figure by each line's weakest input, weighted by {weighting}): {shares}.")
WEIGHTING = {"absolute_figure": N_("the absolute value of each line's figure"), "lines": N_("lines (every figure is 0)")}
FLAG = N_("Methodology {id} carries a legitimacy flag: {text}.")
COMPANY = N_("Company statement: {text}")
BUNDLE = N_("Disclosure bundle")
MANDATORY = N_("mandatory")
RECOMMENDED = N_("recommended")


def forbidden_words(text: str) -> list[str]:
    """The words of :data:`CLAIM_FORBIDDEN_WORDS` that ``text`` uses (each named once, case ignored).

    >>> forbidden_words("Our products offset 5% of Scope 3 and make us carbon-neutral; 相殺します")
    ['offset', 'neutral', '相殺']
    """
    # invisible format characters (soft hyphen, zero-width space and joiners) would split a word unseen
    folded = "".join(c for c in unicodedata.normalize("NFKC", text) if unicodedata.category(c) != "Cf")
    # カーボン・ニュートラル, カーボン ニュートラル: separators between Japanese letters removed before matching
    joined = re.sub(r"(?<=[\u3040-\u30ff\u4e00-\u9fff])[\s・･\-‐ー]*[\s・･\-‐](?=[\u3040-\u30ff\u4e00-\u9fff])", "", folded)
    return [word for word, pattern in CLAIM_FORBIDDEN_WORDS
            if re.search(pattern, folded, flags=re.IGNORECASE) or re.search(pattern, joined, flags=re.IGNORECASE)]


def check_statement(text: str | None) -> None:
    """Refuse a user's claim text that uses a forbidden word.

    Raises:
        KokenErrors: one problem naming every forbidden word used.
    """
    found = forbidden_words(text or "")
    if found:
        raise KokenErrors([ClaimError(_("the claim statement uses wording a claim of avoided emissions never uses: "
                                        "{words}. Avoided emissions are reported beside the inventory; they are not "
                                        "subtracted from it and make nothing climate-free").format(
            words=", ".join(repr(w) for w in found)), Location(field="--statement"))])


def _number(value: float) -> str:
    return f"{value:,.1f}"


def statement_lines(bundle: Mapping, user_statement: str | None = None) -> list[str]:
    """The claim's sentences in the current language; the first says whether the gates are met."""
    figure = bundle["figure"]
    gates = bundle["gates"]
    unmet = [c["id"] for c in gates["criteria"] if c["mandatory"] and c["status"] == "not_met"]
    lines = [_(GATES_NOT_MET).format(set=gates["gate_set"], criteria=", ".join(unmet)) if unmet
             else _(GATES_MET).format(set=gates["gate_set"])]
    parts = [p for p in (figure.get("category"), figure.get("market")) if p]
    scope = f" ({', '.join(parts)})" if parts else ""
    claim = LIFETIME_CLAIM if figure["timeframe"] == "lifetime" else SINGLE_YEAR_CLAIM
    lines.append(_(claim).format(year=figure["fiscal_year"], scope=scope, value=_number(figure["value"])))
    baselines = sorted({named(b["baseline_type"], BASELINE_TYPES) for b in bundle["baseline_types"]})
    lines.append(_(RELATIVE).format(baselines=pick("、", ", ").join(baselines)))
    u = bundle["uncertainty"]
    lines.append(_(RANGE).format(p5=_number(u["p5"]), p95=_number(u["p95"]), p50=_number(u["p50"]), method=u["method"],
                                 draws=u["draws"], seed=u["seed"]))
    if favourable_end(float(u["central"]), float(u["p5"]), float(u["p95"])):
        lines.append(_(FAVOURABLE))
    lines.append(_(BESIDE).format(cat11=_number(bundle["inventory_beside"]["scope3_cat11_lifetime"])))
    roles = sorted({named(r["contribution_role"], CONTRIBUTION_ROLES) for r in bundle["contribution_roles"]})
    lines.append(_(ROLES).format(roles=pick("、", ", ").join(roles)))
    q = bundle["data_quality"]
    shares = pick("、", ", ").join(f"{named(level, DATA_QUALITY_LEVELS)} {q['by_line'].get(level, 0.0):.0%}"
                                   for level in DATA_QUALITY_IDS)
    lines.append(_(QUALITY).format(weighting=_(WEIGHTING[q["weighting"]]), shares=shares))
    lines += [_(FLAG).format(id=f["methodology"], text=pick(f["ja"], f["en"])) for f in bundle["legitimacy"]]
    if user_statement:
        lines.append(_(COMPANY).format(text=user_statement.strip()))
    return lines


def _plain(value) -> str:
    """A value of the bundle as Markdown text: numbers as they are, text as it is, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _bundle_markdown(bundle: Mapping) -> list[str]:
    """The bundle's items as a Markdown list (labels in the current language; values as data, one sub-item per
    entry of a list or key of a mapping; gate criteria with their status and evidence)."""
    out = []
    labels = {"figure": N_("figure"), **MANDATORY_ITEMS, "inventory_beside": N_("inventory beside (never subtracted)")}
    for key, label in labels.items():
        value = bundle[key]
        out.append(f"- **{_(label)}** (`{key}`)" + (f": {_plain(value)}" if not isinstance(value, (dict, list)) else ""))
        if key == "gates":
            out.append(f"    - {value['gate_set']} ({value['gate_set_file']}), {value['assessment_file']}: met = "
                       f"{_plain(value['met'])}")
            out += [f"    - {c['gate']} / {c['id']} ({_(MANDATORY) if c['mandatory'] else _(RECOMMENDED)}): "
                    f"**{c['status']}** — {c['evidence'] or '-'}" for c in value["criteria"]]
        elif isinstance(value, dict):
            out += [f"    - {k}: {_plain(v)}" for k, v in value.items()]
        elif isinstance(value, list):
            out += ["    - " + ", ".join(f"{k}: {_plain(v)}" for k, v in entry.items()) if isinstance(entry, dict)
                    else f"    - {_plain(entry)}" for entry in value] or ["    - -"]
    return out


def claim_markdown(bundle: Mapping, user_statement: str | None = None) -> str:
    """The claim as Markdown: the gates line first (Japanese / English), then the statement in Japanese and in
    English, then the disclosure bundle."""
    with language("ja"):
        ja = statement_lines(bundle, user_statement)
    with language("en"):
        en = statement_lines(bundle, user_statement)
    out = [f"{ja[0]} / {en[0]}", "", "## 日本語", "", "\n\n".join(ja[1:]), "", "## English", "", "\n\n".join(en[1:]),
           "", f"## {_(BUNDLE)}", "", *_bundle_markdown(bundle)]
    return "\n".join(out) + "\n"


def claim_document(bundle: Mapping, user_statement: str | None = None) -> dict:
    """The claim as JSON-ready data: ``format``, ``gates_met``, the statement's lines per language (the first says
    whether the gates are met) and the disclosure bundle."""
    with language("ja"):
        ja = statement_lines(bundle, user_statement)
    with language("en"):
        en = statement_lines(bundle, user_statement)
    return {"format": CLAIM_FORMAT, "format_version": 1, "gates_met": bool(bundle["gates"]["met"]),
            "statement": {"ja": ja, "en": en}, "disclosure_bundle": dict(bundle)}


def write_claim(bundle: Mapping, path: str | Path, user_statement: str | None = None) -> None:
    """Write the claim to ``path``: Markdown (``.md``) or JSON (``.json``), atomically (no partial file).

    Raises:
        KokenErrors: another file type; a statement with forbidden wording (nothing written).
    """
    check_statement(user_statement)
    suffix = Path(path).suffix.lower()
    if suffix == ".json":
        text = json.dumps(claim_document(bundle, user_statement), ensure_ascii=False, indent=2) + "\n"
    elif suffix == ".md":
        text = claim_markdown(bundle, user_statement)
    else:
        raise KokenErrors([ClaimError(_("a claim is written as .md or .json, not {kind}").format(kind=suffix or path),
                                      Location(file=str(path)))])
    atomic_write(path, text.encode("utf-8"))


__all__ = ["CLAIM_FORMAT", "check_statement", "claim_document", "claim_markdown", "forbidden_words",
           "statement_lines", "write_claim"]
