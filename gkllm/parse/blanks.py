"""Printed blanks against the rules: say when reading them as 0 would make a rule hold.

A blank cell stays ``null`` (the contract never invents 0), so a rule with a
blank operand is "not assessable". Many reports mean 0 by a blank; when
reading exactly the printed blanks of a rule as 0 makes it hold, a
``blank_as_zero`` diagnostic says so, and the values stay null.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from ..models import Diagnostic
from ..template import Rule
from ..values import Value


def blank_as_zero(values: Mapping[str, Value], rules: Sequence[Rule]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    if not any(v.value is None for v in values.values()):
        return out  # no printed blank: nothing to say (most reports)
    for rule in rules:
        ops = rule.lhs + rule.rhs
        if any(k not in values for k in ops):
            continue
        blanks = [k for k in ops if values[k].value is None]
        if not blanks or any(values[k].ambiguous for k in blanks):
            continue
        as_zero = {k: (0 if values[k].value is None else values[k].value) for k in ops}
        if rule.holds(as_zero):
            out.append(Diagnostic(
                kind="blank_as_zero",
                keys=blanks,
                message=f"{rule.id} ({rule.scope}) holds if the printed blank(s) {', '.join(blanks)} are read as 0; "
                        "they are left null",
            ))
    return out
