"""The table's arithmetic rules (勾稽关系), evaluated on flat values.

Rules are data in ``template`` (``Rule.holds`` is the one check of whether a
rule holds); this module turns them into the report's verdicts. A failing
rule is reported with both sides, never repaired.
"""

from __future__ import annotations

from typing import Any, Mapping

from .models import RuleResult
from .template import COLUMNS, R5, Rule, TemplateName, is_signed_key, rules_for, table_keys


def _side(values: Mapping[str, Any], keys: tuple[str, ...]) -> float | None:
    if any(values.get(k) is None for k in keys):
        return None
    return float(sum(values[k] for k in keys))


def _result(*, id: str, scope: str, status: str, lhs: float | None, rhs: float | None, keys: list[str],
            detail: str | None) -> RuleResult:
    # built from gkllm's own values; a report has ~60, and validating each was a fifth of the parser's time
    return RuleResult.trusted(id, scope, status, lhs, rhs, keys, detail)


def check_rule(rule: Rule, values: Mapping[str, Any]) -> RuleResult:
    """One rule's verdict: passed, failed (with both sides) or not_assessable (a null operand)."""
    holds, lhs, rhs = rule.evaluate(values)
    keys = list(rule.operands)
    if holds is None:
        missing = [k for k in rule.lhs + rule.rhs if values.get(k) is None]
        return _result(id=rule.id, scope=rule.scope, status="not_assessable", lhs=lhs, rhs=rhs, keys=keys,
                       detail=f"null operand: {', '.join(missing[:3])}{' …' if len(missing) > 3 else ''}")
    if holds:
        return _result(id=rule.id, scope=rule.scope, status="passed", lhs=lhs, rhs=rhs, keys=keys,
                       detail=_which_form(rule, values))
    detail = f"{' + '.join(rule.lhs)} = {lhs:g} but {_short(rule.rhs)} = {rhs:g}"
    for alt in rule.alt_rhs:
        other = _side(values, alt)
        if other is not None:
            detail += f"; {_short(alt)} = {other:g}"
    return _result(id=rule.id, scope=rule.scope, status="failed", lhs=lhs, rhs=rhs, keys=keys, detail=detail)


def _which_form(rule: Rule, values: Mapping[str, Any]) -> str | None:
    """For a rule with alternatives (R5), which form matched."""
    if not rule.alt_rhs:
        return None
    lhs, rhs = _side(values, rule.lhs), _side(values, rule.rhs)
    if lhs is not None and rhs is not None and abs(lhs - rhs) < 1e-6:
        return f"matches {' + '.join(rule.rhs)}"
    for alt in rule.alt_rhs:
        other = _side(values, alt)
        if other is not None and lhs is not None and abs(lhs - other) < 1e-6:
            return f"matches {' + '.join(alt)}"
    return None


def _short(keys: tuple[str, ...]) -> str:
    return " + ".join(keys) if len(keys) <= 3 else f"sum of {len(keys)} cells ({keys[0]} … {keys[-1]})"


def check_r5(values: Mapping[str, Any]) -> RuleResult:
    """Soft rule: the prose's count of requests against the table."""
    return check_rule(R5, values)


def check_nonneg(values: Mapping[str, Any], template: TemplateName) -> list[RuleResult]:
    negative = [k for k, v in values.items() if isinstance(v, (int, float)) and v < 0]
    if not negative:
        return []
    keys = set(table_keys(template))
    out = []
    for k in negative:
        v = values[k]
        if k in keys and not is_signed_key(k):
            out.append(RuleResult(id="NONNEG", scope=k, status="failed", lhs=v, rhs=0, keys=[k],
                                  detail=f"{k} = {v:g} is negative"))
    return out


def check_all(values: Mapping[str, Any], template: TemplateName = "2021",
              absent: frozenset[str] = frozenset()) -> list[RuleResult]:
    """R1-R4 per column/row/group, R5, and non-negativity failures (R6 needs two reports: check_r6)."""
    results = [check_rule(rule, values) for rule in rules_for(template, absent)]
    results.append(check_r5(values))
    results.extend(check_nonneg(values, template))
    return results


def check_r6(last_year: Mapping[str, Any], this_year: Mapping[str, Any]) -> list[RuleResult]:
    """Across years: last year's carried_forward equals this year's carried_over.

    Used by ``gkllm.compare``: ``gkllm compare A B``, and R6 over each pair of an agency's
    consecutive reports in a batch.
    """
    out = []
    for c in COLUMNS:
        a, b = last_year.get(f"requests.carried_forward.{c}"), this_year.get(f"requests.carried_over.{c}")
        keys = [f"requests.carried_forward.{c}", f"requests.carried_over.{c}"]
        if a is None or b is None:
            out.append(RuleResult(id="R6", scope=c, status="not_assessable", lhs=a, rhs=b, keys=keys))
        else:
            out.append(RuleResult(id="R6", scope=c, status="passed" if a == b else "failed", lhs=a, rhs=b, keys=keys))
    return out
