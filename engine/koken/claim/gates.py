"""Eligibility gates as data: gate sets (the criteria) and a claim's assessment of them (a status per criterion).

A **gate set** (``claims/gates/<id>.yaml``; koken ships ``wbcsd_v2``, the gates of the WBCSD Guidance on Avoided
Emissions v2.0, 2025) lists gates, each with criteria: an id, whether it is mandatory, its text in Japanese and
English and the source it rests on. A **gate assessment** (the file given to ``koken claim --gates``) names a gate
set and gives every criterion a status — ``met``, ``not_met`` or ``justified`` (the guidance's flexibility route) —
with the evidence for it. Both are read with koken's safe YAML loader and validated with pydantic; every problem
is reported at once, located by file and field (docs/claim.md).

A claim meets the gates when every mandatory criterion is met or justified. A criterion may name legitimacy flags
that contradict it (``contradicted_by: [fossil_lock_in]``): it cannot be ``met`` for a figure that includes a
methodology carrying such a flag.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import pydantic
from pydantic import AfterValidator, Field

from koken.base.errors import KokenError, KokenErrors, Location
from koken.base.i18n import _, pick
from koken.base.models import StrictModel, validation_problems
from koken.base.paths import display_path, gate_sets_dir
from koken.base.safe_yaml import load_yaml_file
from koken.base.vocabulary import GATE_STATUS_IDS, LEGITIMACY_FLAGS

Text = Annotated[str, Field(min_length=1)]


def _not_empty(items: tuple) -> tuple:
    """A list that must hold at least one item (checked after its items, so that a bad item is not also
    reported as an empty list)."""
    if not items:
        raise ValueError(_("the list must not be empty"))
    return items


Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]


class GateError(KokenError):
    """A gate set or gate assessment breaks its format, or a status contradicts the figure."""


class Bilingual(StrictModel):
    """A text in Japanese and in English."""

    ja: Text
    en: Text

    def shown(self) -> str:
        """The text in the current language."""
        return pick(self.ja, self.en)


class Source(StrictModel):
    """Where a criterion comes from."""

    id: Identifier
    title: Text
    url: Text | None = None


class Criterion(StrictModel):
    """One criterion of a gate."""

    id: Identifier
    mandatory: Annotated[bool, Field(strict=True)]
    text: Bilingual
    source: Identifier
    contradicted_by: tuple[Literal[tuple(f.id for f in LEGITIMACY_FLAGS)], ...] = ()  # type: ignore[misc]


class Gate(StrictModel):
    """A gate: a title and its criteria."""

    id: Identifier
    title: Bilingual
    criteria: Annotated[tuple[Criterion, ...], AfterValidator(_not_empty)]


class GateSetSpec(StrictModel):
    """A gate-set file (``claims/gates/<id>.yaml``)."""

    id: Identifier
    title: Bilingual
    sources: Annotated[tuple[Source, ...], AfterValidator(_not_empty)]
    gates: Annotated[tuple[Gate, ...], AfterValidator(_not_empty)]


class Status(StrictModel):
    """A criterion's status for one claim, with its evidence (required unless the status is ``not_met``)."""

    status: Literal[GATE_STATUS_IDS]  # type: ignore[valid-type]
    evidence: str | None = None


class AssessmentSpec(StrictModel):
    """A gate-assessment file: the gate set it answers and a status per criterion id."""

    gate_set: Text
    assessed_by: str | None = None
    date: str | None = None
    criteria: dict[str, Status]


@dataclass(frozen=True)
class GateSet:
    """A gate set read and checked: its spec and where it was read from."""

    spec: GateSetSpec
    path: str

    def criteria(self) -> list[tuple[Gate, Criterion]]:
        """Every criterion with its gate, in the file's order."""
        return [(g, c) for g in self.spec.gates for c in g.criteria]


@dataclass(frozen=True)
class CriterionResult:
    """A criterion of the set with the claim's status and evidence."""

    gate: Gate
    criterion: Criterion
    status: str
    evidence: str | None


@dataclass(frozen=True)
class Assessment:
    """A claim's gate assessment, checked against its gate set.

    Attributes:
        gate_set: the set it answers.
        results: every criterion with its status, in the set's order.
        path: the assessment file.
    """

    gate_set: GateSet
    results: tuple[CriterionResult, ...]
    path: str
    assessed_by: str | None = None
    date: str | None = None

    @property
    def unmet(self) -> list[CriterionResult]:
        """Mandatory criteria that are neither met nor justified."""
        return [r for r in self.results if r.criterion.mandatory and r.status == "not_met"]

    @property
    def met(self) -> bool:
        """Whether the claim meets the gates: every mandatory criterion met or justified."""
        return not self.unmet

    def record(self) -> dict:
        """The assessment as JSON-ready data (the disclosure bundle's ``gates`` item): texts in both languages."""
        return {
            "gate_set": self.gate_set.spec.id, "gate_set_file": self.gate_set.path,
            "title": self.gate_set.spec.title.model_dump(), "assessment_file": self.path,
            "assessed_by": self.assessed_by, "date": self.date, "met": self.met,
            "sources": [s.model_dump(exclude_none=True) for s in self.gate_set.spec.sources],
            "criteria": [{"gate": r.gate.id, "id": r.criterion.id, "mandatory": r.criterion.mandatory,
                          "text": r.criterion.text.model_dump(), "source": r.criterion.source, "status": r.status,
                          "evidence": r.evidence} for r in self.results],
        }


def _located(err: pydantic.ValidationError, source: str) -> KokenErrors:
    return KokenErrors([GateError(message, Location(file=source, field=where or None))
                        for where, message, _kind in validation_problems(err)])


def load_gate_set(name_or_path: str | Path, relative_to: Path | None = None) -> GateSet:
    """Read a gate set: a shipped set by id (``wbcsd_v2``) or a file (absolute, or relative to ``relative_to``).

    Raises:
        KokenErrors: no such set or file; format problems (unknown keys, missing texts, a criterion naming an
            unknown source, a criterion or gate id used twice), all at once, located by file and field.
    """
    text = str(name_or_path)
    shipped = gate_sets_dir() / f"{text}.yaml"
    if "/" not in text and "\\" not in text and not text.endswith((".yaml", ".yml")):
        if not shipped.is_file():
            known = sorted(p.stem for p in gate_sets_dir().glob("*.yaml"))
            raise KokenErrors([GateError(_("no gate set {name!r} is shipped (shipped: {known}); give a file path "
                                           "instead").format(name=text, known=", ".join(known)))])
        path = shipped
    else:
        path = Path(text)
        if relative_to is not None:
            # named inside an assessment file: a shipped id or a .yaml file beside it, never a path out of its folder
            # (an assessment must not make koken open and echo /proc/self/environ or another YAML file's keys)
            inside = (relative_to / path).resolve()
            if (path.is_absolute() or not text.endswith((".yaml", ".yml"))
                    or not inside.is_relative_to(relative_to.resolve())):
                raise KokenErrors([GateError(_("the gate set {name!r} is neither a shipped set nor a .yaml file in the "
                                               "assessment's folder or below it").format(name=text))])
            path = relative_to / path
    source = display_path(path)
    data = load_yaml_file(path)
    try:
        spec = GateSetSpec.model_validate(data)
    except pydantic.ValidationError as err:
        raise _located(err, source) from None
    problems = []
    sources = {s.id for s in spec.sources}
    seen: dict[str, str] = {}
    for g, gate in enumerate(spec.gates):
        if gate.id in seen:
            problems.append(GateError(_("gate id {id!r} is used twice").format(id=gate.id),
                                      Location(file=source, field=f"gates.{g}.id")))
        seen[gate.id] = "gate"
        for c, criterion in enumerate(gate.criteria):
            where = f"gates.{g}.criteria.{c}"
            if criterion.id in seen:
                problems.append(GateError(_("criterion id {id!r} is used twice").format(id=criterion.id),
                                          Location(file=source, field=f"{where}.id")))
            seen[criterion.id] = "criterion"
            if criterion.source not in sources:
                problems.append(GateError(_("source {id!r} is not in the file's sources ({known})").format(
                    id=criterion.source, known=", ".join(sorted(sources))), Location(file=source, field=f"{where}.source")))
    if problems:
        raise KokenErrors(problems)
    return GateSet(spec, source)


def load_assessment(path: str | Path, flags: dict[str, list[str]] | None = None) -> Assessment:
    """Read a claim's gate assessment and check it against its gate set and the figure's legitimacy flags.

    Args:
        path: the assessment file (YAML).
        flags: legitimacy flag id → the methodologies of the figure that carry it (``fossil_lock_in`` →
            ``["coal_fired_power"]``).
    Raises:
        KokenErrors: every problem at once, located by file and field: the format, a criterion of the set
            without a status, a status for a criterion the set does not have, ``met`` or ``justified`` without
            evidence, ``met`` for a criterion that a flag of the figure contradicts.
    """
    source = display_path(path)
    data = load_yaml_file(path)
    try:
        spec = AssessmentSpec.model_validate(data)
    except pydantic.ValidationError as err:
        raise _located(err, source) from None
    try:
        gate_set = load_gate_set(spec.gate_set, Path(path).parent)
    except KokenErrors as err:
        raise KokenErrors([e if e.location.file else e.at(file=source, field="gate_set") for e in err.errors]) from None
    problems: list[KokenError] = []
    known = {c.id for _g, c in gate_set.criteria()}
    for cid in spec.criteria:
        if cid not in known:
            problems.append(GateError(_("criterion {id!r} is not in gate set {set} (its criteria: {known})").format(
                id=cid, set=gate_set.spec.id, known=", ".join(c.id for _g, c in gate_set.criteria())),
                Location(file=source, field=f"criteria.{cid}")))
    results = []
    for gate, criterion in gate_set.criteria():
        given = spec.criteria.get(criterion.id)
        where = Location(file=source, field=f"criteria.{criterion.id}")
        if given is None:
            problems.append(GateError(_("criterion {id!r} of gate set {set} has no status: give met, not_met or "
                                        "justified").format(id=criterion.id, set=gate_set.spec.id), where))
            continue
        if given.status in ("met", "justified") and not (given.evidence or "").strip():
            problems.append(GateError(_("status {status} needs evidence (a document, its page or address; for "
                                        "justified, why the criterion is not met as written and which framework "
                                        "is followed instead)").format(status=given.status),
                                      Location(file=source, field=f"criteria.{criterion.id}.evidence")))
        for flag in criterion.contradicted_by:
            carriers = (flags or {}).get(flag) or []
            if carriers and given.status == "met":
                problems.append(GateError(_("criterion {id!r} cannot be met: methodology {methodologies} carries the "
                                            "flag {flag} (write not_met, or justified with the evidence)").format(
                    id=criterion.id, methodologies=", ".join(carriers), flag=flag),
                    Location(file=source, field=f"criteria.{criterion.id}.status")))
        results.append(CriterionResult(gate, criterion, given.status, (given.evidence or "").strip() or None))
    if problems:
        raise KokenErrors(problems)
    return Assessment(gate_set, tuple(results), source, spec.assessed_by, spec.date)


__all__ = ["Assessment", "CriterionResult", "GateError", "GateSet", "load_assessment", "load_gate_set"]
