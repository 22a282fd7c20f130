"""Merge parser and LLM candidates per value; the rules decide disagreements.

Both candidates are printed numbers (the LLM's are grounded before they get
here), so whichever wins, nothing printed is replaced by a computed total.
"""

from __future__ import annotations

from typing import Any

from .models import Diagnostic
from .template import TemplateName, rules_for, soft_rules
from .values import Value


def rule_failures(key: str, candidate: Any, values: dict[str, Any], template: TemplateName) -> int:
    """How many rules (hard and soft) fail with ``key`` set to ``candidate``."""
    trial = dict(values)
    trial[key] = candidate
    return sum(rule.holds(trial) is False for rule in [*rules_for(template), *soft_rules()] if key in rule.operands)


def reconcile(parser: dict[str, Value], llm: dict[str, Value], template: TemplateName,
              diagnostics: list[Diagnostic]) -> dict[str, Value]:
    """Per key: agree → parser+llm; one side only → that side; disagree → fewer rule failures wins, parser on a tie."""
    merged = dict(parser)
    current = {k: v.value for k, v in parser.items()}
    current.update({k: v.value for k, v in llm.items() if k not in parser})
    for key, lv in llm.items():
        pv = parser.get(key)
        if pv is None or (pv.value is None and lv.value is not None):
            merged[key] = lv
            current[key] = lv.value
            continue
        if pv.value == lv.value or (pv.value is not None and lv.value is not None and abs(pv.value - lv.value) < 1e-6):
            pv.method = "parser+llm"
            continue
        if lv.value is None:
            diagnostics.append(Diagnostic(kind="llm_disagrees", keys=[key],
                                          message=f"LLM read a blank where the parser read {pv.value!r}; parser kept",
                                          candidates=[pv.value, None]))
            continue
        fp = rule_failures(key, pv.value, current, template)
        fl = rule_failures(key, lv.value, current, template)
        winner, loser = (lv, pv) if fl < fp else (pv, lv)
        merged[key] = winner
        current[key] = winner.value
        diagnostics.append(Diagnostic(
            kind="llm_disagrees", keys=[key],
            message=(f"parser read {pv.value!r} (rule failures {fp}), LLM read {lv.value!r} (rule failures {fl}); "
                     f"kept the {winner.method} value"),
            candidates=[pv.value, lv.value]))
        winner.notes.append(f"{loser.method} read {loser.value!r}")
    return merged
