"""The gate an LLM value passes before it fills a key the parser left null.

Grounding (a printed cell of its own row) says the number is on the page; it
does not say it is this key's number: a small model readily copies the
neighbouring row. So a value for an empty key is kept only when every hard
rule it takes part in can be checked, with the parser's values and the other
kept LLM values, and holds. A rule that cannot be checked (an operand still
null) or that fails drops every LLM value in it; dropping one can make
another rule uncheckable, so this runs to a fixed point. What the parser read
is never touched here: replacing it goes through ``reconcile``.
"""

from __future__ import annotations

from typing import Callable, Sequence

from ..models import Diagnostic
from ..template import Rule
from ..values import Value


def gate(parser: dict[str, Value], llm: dict[str, Value], rules: Sequence[Rule],
         must_check: Callable[[Rule], bool] | None = None) -> tuple[dict[str, Value], list[Diagnostic]]:
    """(the LLM values kept for keys the parser left null, diagnostics for those dropped).

    ``must_check``: which rules must be checkable for their LLM values to stay (default: every rule);
    a failing rule always drops them."""
    fill = {k: v for k, v in llm.items() if v.value is not None and (k not in parser or parser[k].value is None)}
    base = {k: v.value for k, v in parser.items() if v.value is not None}
    why: dict[str, str] = {}
    while True:
        merged = {**base, **{k: v.value for k, v in fill.items()}}
        drop: dict[str, str] = {}
        for rule in rules:
            mine = [k for k in rule.operands if k in fill]
            if not mine:
                continue
            verdict = rule.holds(merged)
            if verdict is True or (verdict is None and must_check is not None and not must_check(rule)):
                continue
            reason = (f"rule {rule.id} ({rule.scope}) cannot be checked: an operand is still null" if verdict is None
                      else f"rule {rule.id} ({rule.scope}) fails with it")
            for k in mine:
                drop.setdefault(k, reason)
        if not drop:
            break
        for k, reason in drop.items():
            fill.pop(k)
            why[k] = reason
    diagnostics = [
        Diagnostic(kind="llm_unchecked", keys=[k], candidates=[llm[k].value],
                   message=f"LLM read {llm[k].value!r} for {k}, printed in its row, but {reason}; not used")
        for k, reason in why.items()
    ]
    return fill, diagnostics


def within_one_row(rule: Rule) -> bool:
    """A rule over the cells of one row (R3 of a row, R4 of a review group): the row's own arithmetic."""
    return len({k.rsplit(".", 1)[0] for k in rule.operands}) == 1


__all__ = ["gate", "within_one_row"]
