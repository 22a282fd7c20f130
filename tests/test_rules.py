"""Rules R1-R5 on built inputs with non-zero numbers."""

from __future__ import annotations

import random

import pytest

from gkllm.rules import check_all, check_r6
from gkllm.template import APPLICANT_COLUMNS, COLUMNS, RESULT_ROWS, REVIEW_GROUPS, ROW_KEYS, rules_for


def consistent(seed: int = 7) -> dict:
    """A part 3/4 table where every rule holds and most cells are non-zero."""
    rng = random.Random(seed)
    v: dict = {}
    for r in ROW_KEYS:
        if r in ("new", "results_total"):
            continue
        for c in APPLICANT_COLUMNS:
            v[f"requests.{r}.{c}"] = rng.randint(1, 40)
    for c in APPLICANT_COLUMNS:
        v[f"requests.results_total.{c}"] = sum(v[f"requests.{r}.{c}"] for r in RESULT_ROWS)
        v[f"requests.new.{c}"] = (
            v[f"requests.results_total.{c}"] + v[f"requests.carried_forward.{c}"] - v[f"requests.carried_over.{c}"]
        )
    for r in ROW_KEYS:
        v[f"requests.{r}.total"] = sum(v[f"requests.{r}.{c}"] for c in APPLICANT_COLUMNS)
    for g in REVIEW_GROUPS:
        parts = [rng.randint(1, 9) for _ in range(4)]
        for o, n in zip(("upheld", "corrected", "other", "pending"), parts):
            v[f"review.{g}.{o}"] = n
        v[f"review.{g}.total"] = sum(parts)
    v["narrative.requests_received"] = v["requests.new.total"] + v["requests.carried_over.total"]
    return v


def by_id(results, rid, scope=None):
    return [r for r in results if r.id == rid and (scope is None or r.scope == scope)]


def test_consistent_table_passes_every_rule():
    v = consistent()
    assert sum(1 for x in v.values() if x) > 150
    results = check_all(v)
    assert {r.status for r in results} == {"passed"}
    assert len(by_id(results, "R1")) == 7 and len(by_id(results, "R2")) == 7
    assert len(by_id(results, "R3")) == 25 and len(by_id(results, "R4")) == 3
    assert by_id(results, "R5")[0].detail == "matches requests.new.total + requests.carried_over.total"


def test_r1_fails_with_both_sides():
    v = consistent()
    v["requests.carried_forward.research"] += 5
    v["requests.carried_forward.total"] += 5  # keep R3 true: only R1 breaks, in two columns
    failed = [r for r in check_all(v) if r.status == "failed"]
    assert [(r.id, r.scope) for r in failed] == [("R1", "research"), ("R1", "total")]
    assert failed[0].rhs - failed[0].lhs == 5


def test_r2_and_r3_fail_on_one_changed_cell():
    v = consistent()
    v["requests.denied_third_party.commercial"] += 2
    failed = {(r.id, r.scope) for r in check_all(v) if r.status == "failed"}
    assert failed == {("R2", "commercial"), ("R3", "denied_third_party")}


def test_r4_fails():
    v = consistent()
    v["review.litigation_after.pending"] += 1
    failed = [r for r in check_all(v) if r.status == "failed"]
    assert [(r.id, r.scope) for r in failed] == [("R4", "litigation_after")]
    assert failed[0].lhs == failed[0].rhs - 1


def test_null_operand_is_not_assessable_never_passed():
    v = consistent()
    v["requests.granted.social_org"] = None
    res = check_all(v)
    assert by_id(res, "R2", "social_org")[0].status == "not_assessable"
    assert by_id(res, "R3", "granted")[0].status == "not_assessable"
    assert by_id(res, "R1", "social_org")[0].status == "passed"


def test_r5_forms():
    v = consistent()
    v["narrative.requests_received"] = v["requests.new.total"]
    assert by_id(check_all(v), "R5")[0].detail == "matches requests.new.total"
    v["narrative.requests_received"] = v["requests.new.total"] + 1000
    assert by_id(check_all(v), "R5")[0].status == "failed"
    v["narrative.requests_received"] = None
    assert by_id(check_all(v), "R5")[0].status == "not_assessable"


def test_negative_count_fails():
    v = consistent()
    v["active.licensing"] = -3
    assert [r.scope for r in check_all(v) if r.id == "NONNEG"] == ["active.licensing"]


def test_r6_across_years():
    last, this = consistent(1), consistent(2)
    for c in COLUMNS:
        this[f"requests.carried_over.{c}"] = last[f"requests.carried_forward.{c}"]
    assert {r.status for r in check_r6(last, this)} == {"passed"}
    this["requests.carried_over.total"] += 1
    assert [r.scope for r in check_r6(last, this) if r.status == "failed"] == ["total"]


@pytest.mark.parametrize("template,count", [("2021", 42), ("2019", 40)])
def test_rule_count_per_template(template, count):
    assert len(rules_for(template)) == count
