"""Eligibility gates as data: the shipped WBCSD v2.0 set, gate-set and assessment files, located problems."""

import pytest

from koken.base.errors import KokenErrors
from koken.base.vocabulary import GATE_STATUS_IDS
from koken.claim.gates import load_assessment, load_gate_set

from conftest import REPO

DATA = REPO / "tests" / "data" / "claim"


def test_the_shipped_wbcsd_v2_set_has_three_gates_each_criterion_in_both_languages_with_a_source():
    gates = load_gate_set("wbcsd_v2")
    assert [g.id for g in gates.spec.gates] == ["company_credibility", "solution_legitimacy", "contribution_legitimacy"]
    sources = {s.id for s in gates.spec.sources}
    criteria = gates.criteria()
    assert len(criteria) == 8
    assert all(c.text.ja and c.text.en and c.source in sources for _g, c in criteria)
    # the two mandatory criteria of gate 1 the summaries name (round2.md §2.2): inventory and near-term targets
    assert [c.id for g, c in criteria if g.id == "company_credibility" and c.mandatory] == [
        "public_verified_inventory", "near_term_targets"]
    assert next(c for _g, c in criteria if c.id == "no_fossil_lock_in").contradicted_by == ("fossil_lock_in",)


def test_a_gate_set_with_problems_names_each_by_field_all_at_once(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("""id: mine
title: {ja: 自社, en: Own}
sources: [{id: s1, title: A source}]
gates:
  - id: g1
    title: {ja: ゲート, en: Gate}
    criteria:
      - {id: c1, mandatory: true, text: {ja: 基準}, source: s1}
      - {id: c2, mandatory: yes, text: {ja: 基準, en: Criterion}, source: s1, weight: 2}
""", encoding="utf-8")
    with pytest.raises(KokenErrors) as err:
        load_gate_set(path)
    found = {(e.location.field, e.message) for e in err.value}
    fields = {f for f, _m in found}
    assert fields == {"gates.0.criteria.0.text.en", "gates.0.criteria.1.mandatory", "gates.0.criteria.1.weight"}
    assert all(e.location.file == str(path) for e in err.value)


def test_a_criterion_naming_an_unknown_source_or_a_repeated_id_is_refused(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("""id: mine
title: {ja: 自社, en: Own}
sources: [{id: s1, title: A source}]
gates:
  - id: g1
    title: {ja: ゲート, en: Gate}
    criteria:
      - {id: c1, mandatory: true, text: {ja: 基準, en: Criterion}, source: s2}
      - {id: c1, mandatory: false, text: {ja: 基準, en: Criterion}, source: s1}
""", encoding="utf-8")
    with pytest.raises(KokenErrors) as err:
        load_gate_set(path)
    assert [(e.location.field, "s2" in e.message or "twice" in e.message) for e in err.value] == [
        ("gates.0.criteria.0.source", True), ("gates.0.criteria.1.id", True)]


def test_an_unknown_shipped_set_is_refused_naming_the_shipped_ones():
    with pytest.raises(KokenErrors, match="wbcsd_v2"):
        load_gate_set("wbcsd_v9")


def test_an_assessment_lists_every_status_and_is_met_when_every_mandatory_criterion_is_met_or_justified():
    a = load_assessment(DATA / "gates_met.yaml", {"fossil_lock_in": ["gas_combined_cycle"]})
    assert [r.status for r in a.results] == ["met", "met", "met", "not_met", "justified", "met", "met", "met"]
    assert a.met  # transition_plan is recommended: not met does not fail the gates
    b = load_assessment(DATA / "gates_not_met.yaml", {"fossil_lock_in": []})
    assert not b.met and [r.criterion.id for r in b.unmet] == ["near_term_targets"]
    assert set(GATE_STATUS_IDS) == {"met", "not_met", "justified"}


def test_an_assessment_with_problems_names_each_by_field(tmp_path):
    path = tmp_path / "gates.yaml"
    path.write_text("""gate_set: wbcsd_v2
criteria:
  public_verified_inventory: {status: met}
  near_term_targets: {status: justified, evidence: " "}
  emissions_kpis: {status: not_met}
  transition_plan: {status: partly}
  no_fossil_lock_in: {status: met, evidence: "efficient turbine"}
  no_significant_harm: {status: met, evidence: EIA}
  role_stated: {status: met, evidence: provenance}
  essential_contribution_x: {status: met, evidence: set products}
""", encoding="utf-8")
    with pytest.raises(KokenErrors) as err:  # the format first: 'partly' is no status
        load_assessment(path)
    assert [e.location.field for e in err.value] == ["criteria.transition_plan.status"]
    path.write_text(path.read_text(encoding="utf-8").replace("partly", "not_met"), encoding="utf-8")
    with pytest.raises(KokenErrors) as err:
        load_assessment(path, {"fossil_lock_in": ["coal_fired_power"]})
    fields = [e.location.field for e in err.value]
    assert fields == ["criteria.essential_contribution_x",            # not a criterion of the set
                      "criteria.public_verified_inventory.evidence",  # met without evidence
                      "criteria.near_term_targets.evidence",          # justified with blank evidence
                      "criteria.no_fossil_lock_in.status",            # met, but coal_fired_power is flagged
                      "criteria.essential_contribution"]              # no status
    assert "coal_fired_power" in err.value[3].message and "fossil_lock_in" in err.value[3].message


@pytest.mark.parametrize("named", ["/proc/self/environ", "../outside.yaml", "../../mkdocs.yml", "sub/../../outside.yaml"])
def test_an_assessment_naming_a_gate_set_outside_its_folder_is_refused_without_opening_it(tmp_path, named):
    """Found by the adversarial pass of issue 16: an assessment naming any path made koken open it and echo its keys
    (another YAML file's ``site_name``) or its bytes; only a shipped id or a .yaml file in the assessment's folder."""
    folder = tmp_path / "claims"
    folder.mkdir()
    (tmp_path / "outside.yaml").write_text("site_name: secret\n", encoding="utf-8")
    path = folder / "assessment.yaml"
    path.write_text(f"gate_set: {named}\nassessed_by: x\ndate: '2026-12-01'\ncriteria: {{}}\n", encoding="utf-8")
    with pytest.raises(KokenErrors) as err:
        load_assessment(path)
    assert [e.message for e in err.value.errors] == [
        f"the gate set {named!r} is neither a shipped set nor a .yaml file in the assessment's folder or below it"]


def test_an_assessment_may_name_a_gate_set_file_beside_it(tmp_path):
    (tmp_path / "own.yaml").write_text((REPO / "claims" / "gates" / "wbcsd_v2.yaml").read_text(encoding="utf-8"),
                                       encoding="utf-8")
    text = (REPO / "examples" / "claim_gates.yaml").read_text(encoding="utf-8").replace("gate_set: wbcsd_v2",
                                                                                        "gate_set: own.yaml")
    (tmp_path / "assessment.yaml").write_text(text, encoding="utf-8")
    assert load_assessment(tmp_path / "assessment.yaml").gate_set.spec.id == "wbcsd_v2"
