"""Printed blanks against the rules: say when reading them as 0 would make a rule hold.

A blank cell stays ``null`` (the contract never invents 0), so a rule with a
blank operand is "not assessable". Many reports mean 0 by a blank; when
reading exactly the printed blanks of a rule as 0 makes it hold, a
``blank_as_zero`` diagnostic says so, and the values stay null.
"""

from __future__ import annotations

from typing import Mapping

from ..models import Diagnostic
from ..template import TemplateName, rules_for
from ..values import Value


def blank_as_zero(values: Mapping[str, Value], template: TemplateName) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for rule in rules_for(template):
        ops = rule.lhs + rule.rhs
        blanks = [k for k in ops if k in values and values[k].value is None and not _ambiguous(values[k])]
        if not blanks or any(k not in values for k in ops):
            continue
        if any(values[k].value is None and k not in blanks for k in ops):
            continue

        def side(keys: tuple[str, ...]) -> float:
            return sum(float(values[k].value or 0) for k in keys)

        if abs(side(rule.lhs) - side(rule.rhs)) < 1e-6:
            out.append(Diagnostic(
                kind="blank_as_zero",
                keys=blanks,
                message=f"{rule.id} ({rule.scope}) holds if the printed blank(s) {', '.join(blanks)} are read as 0; "
                        "they are left null",
            ))
    return out


def _ambiguous(v: Value) -> bool:
    return any("ambiguous" in n for n in v.notes)
