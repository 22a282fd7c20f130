"""The table's arithmetic rules (勾稽关系), evaluated on flat values.

Rules are data in ``template.rules_for``; this module only evaluates them. A
failing rule is reported with both sides, never repaired.
"""

from __future__ import annotations

from typing import Any, Mapping

from .models import RuleResult
from .template import Rule, TemplateName, is_signed_key, rules_for, table_keys

_EPS = 1e-6


def _side(values: Mapping[str, Any], keys: tuple[str, ...]) -> float | None:
    total = 0.0
    for k in keys:
        v = values.get(k)
        if v is None:
            return None
        total += v
    return total


def check_rule(rule: Rule, values: Mapping[str, Any]) -> RuleResult:
    lhs, rhs = _side(values, rule.lhs), _side(values, rule.rhs)
    keys = list(rule.lhs + rule.rhs)
    if lhs is None or rhs is None:
        missing = [k for k in keys if values.get(k) is None]
        return RuleResult(id=rule.id, scope=rule.scope, status="not_assessable", lhs=lhs, rhs=rhs, keys=keys,
                          detail=f"null operand: {', '.join(missing[:3])}{' …' if len(missing) > 3 else ''}")
    status = "passed" if abs(lhs - rhs) < _EPS else "failed"
    detail = None if status == "passed" else f"{' + '.join(rule.lhs)} = {lhs:g} but {_short(rule.rhs)} = {rhs:g}"
    return RuleResult(id=rule.id, scope=rule.scope, status=status, lhs=lhs, rhs=rhs, keys=keys, detail=detail)


def _short(keys: tuple[str, ...]) -> str:
    return " + ".join(keys) if len(keys) <= 3 else f"sum of {len(keys)} cells ({keys[0]} … {keys[-1]})"


def check_r5(values: Mapping[str, Any]) -> RuleResult:
    """Soft rule: the prose's count of requests against the table."""
    said = values.get("narrative.requests_received")
    new = values.get("requests.new.total")
    over = values.get("requests.carried_over.total")
    keys = ["narrative.requests_received", "requests.new.total", "requests.carried_over.total"]
    if said is None or new is None:
        return RuleResult(id="R5", scope="narrative", status="not_assessable", keys=keys,
                          detail="prose or table count missing")
    if said == new:
        return RuleResult(id="R5", scope="narrative", status="passed", lhs=said, rhs=new, keys=keys,
                          detail="matches requests.new.total")
    if over is not None and said == new + over:
        return RuleResult(id="R5", scope="narrative", status="passed", lhs=said, rhs=new + over, keys=keys,
                          detail="matches requests.new.total + requests.carried_over.total")
    return RuleResult(id="R5", scope="narrative", status="failed", lhs=said, rhs=new, keys=keys,
                      detail=f"prose says {said:g}; table new.total = {new:g}"
                      + (f", new + carried_over = {new + over:g}" if over is not None else ""))


def check_nonneg(values: Mapping[str, Any], template: TemplateName) -> list[RuleResult]:
    out = []
    for k in table_keys(template):
        v = values.get(k)
        if v is not None and v < 0 and not is_signed_key(k):
            out.append(RuleResult(id="NONNEG", scope=k, status="failed", lhs=v, rhs=0, keys=[k],
                                  detail=f"{k} = {v:g} is negative"))
    return out


def check_all(values: Mapping[str, Any], template: TemplateName = "2021") -> list[RuleResult]:
    """R1-R4 per column/row/group, R5, and non-negativity failures."""
    results = [check_rule(rule, values) for rule in rules_for(template)]
    results.append(check_r5(values))
    results.extend(check_nonneg(values, template))
    return results


def check_r6(last_year: Mapping[str, Any], this_year: Mapping[str, Any]) -> list[RuleResult]:
    """Across years: last year's carried_forward equals this year's carried_over."""
    from .template import COLUMNS

    out = []
    for c in COLUMNS:
        a, b = last_year.get(f"requests.carried_forward.{c}"), this_year.get(f"requests.carried_over.{c}")
        keys = [f"requests.carried_forward.{c}", f"requests.carried_over.{c}"]
        if a is None or b is None:
            out.append(RuleResult(id="R6", scope=c, status="not_assessable", lhs=a, rhs=b, keys=keys))
        else:
            out.append(RuleResult(id="R6", scope=c, status="passed" if a == b else "failed", lhs=a, rhs=b, keys=keys))
    return out
