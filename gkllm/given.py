"""Fill the gaps: check another tool's partial result against the source.

Another extractor passes the values it already has (flat keys → numbers). Each
is checked before it counts:

- grounded: for a cell the parser found, the given value must be what that
  cell prints; for a cell the parser could not place, the value must be printed
  as a number cell of the same table part (narrative counts: in the text);
- consistent: a given value that only the other tool had, and that sits in a
  failing rule R1-R4 (and in no rule that passes), is dropped.

Good values are kept, so the LLM stage (hybrid mode) re-reads only what is
still missing, ungrounded or breaking a rule. ``settle`` then says per key what
happened: ``kept``, ``corrected``, ``filled`` or ``rejected``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import InputError
from .extraction import Extraction
from .grounding import grounded
from .models import GivenResult
from .reconcile import rule_failures
from .rules import check_all
from .template import NARRATIVE_KEYS, is_decimal_key, is_signed_key, part2_keys, part3_keys, table_keys
from .values import Value

_INVALID = object()


@dataclass
class GivenPlan:
    """The checked ``given`` values and the reasons for what was done with them."""

    given: dict[str, Any] = field(default_factory=dict)  # key → given value (numbers only; valid keys)
    results: dict[str, GivenResult] = field(default_factory=dict)  # settled early (unknown keys, not numbers)
    reasons: dict[str, str] = field(default_factory=dict)  # why a given value was not kept as is
    from_given: set[str] = field(default_factory=set)  # keys whose value only the given tool had
    invalid: dict[str, Any] = field(default_factory=dict)  # valid keys whose given value is not a number


def normalize_given(given: Any) -> dict[str, Any]:
    """A flat ``{key: value}`` dict from a flat or nested mapping, or another Report; meta.* is ignored."""
    if hasattr(given, "to_flat") and callable(given.to_flat):
        given = given.to_flat()
    if not isinstance(given, Mapping):
        raise InputError(f"given must be an object of flat keys → numbers, not {type(given).__name__}")
    flat: dict[str, Any] = {}

    def walk(prefix: str, node: Mapping[str, Any]) -> None:
        for k, v in node.items():
            key = f"{prefix}.{k}" if prefix else str(k)
            if isinstance(v, Mapping):
                walk(key, v)
            else:
                flat[key] = v

    walk("", given)
    return {k: v for k, v in flat.items() if not k.startswith("meta.")}


def _coerce(key: str, v: Any) -> Any:
    """int for counts, float for amounts, None for null; _INVALID otherwise."""
    if v is None:
        return None
    if isinstance(v, bool):
        return _INVALID
    if isinstance(v, str):
        s = v.strip().replace(",", "")
        if not s:
            return None
        try:
            v = float(s)
        except ValueError:
            return _INVALID
    if not isinstance(v, (int, float)) or (isinstance(v, float) and not math.isfinite(v)):
        return _INVALID
    if is_decimal_key(key):
        return float(v)
    if float(v).is_integer():
        return int(v)
    return _INVALID


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) < 1e-6


def _part_of(key: str, template: str) -> int | None:
    if key in NARRATIVE_KEYS:
        return None
    if key.startswith("review."):
        return 4
    if key in part3_keys(template):  # type: ignore[arg-type]
        return 3
    if key in part2_keys(template):  # type: ignore[arg-type]
        return 2
    return None


def _locate(ex: Extraction, key: str, value: Any) -> Value | None:
    """Where ``value`` is printed for a key the parser could not place: a number cell of its part."""
    part = _part_of(key, ex.template)
    doc = ex.doc
    table = ex.tables.get(part) if part is not None else None
    if table is not None and table.cells:
        hits = [c for c in table.cells if _same(c.value, value)]
        if not hits:
            return None
        note = f"given; printed as a cell of part {part}, but the parser could not place the cell"
        if len(hits) == 1:
            c = hits[0]
            return Value(value, c.start, c.end, c.line, method="given", text=c.text, notes=[note])
        return Value(value, method="given", text=hits[0].text,
                     notes=[f"{note}; {len(hits)} cells of the part print {hits[0].text}"])
    if part is not None and part in ex.segments:  # no cells read: the part's text
        seg = ex.segments[part]
        text = doc.text[seg.start:seg.end]
    else:
        text = doc.text
    if not grounded(value, text):
        return None
    return Value(value, method="given", text=None,
                 notes=[f"given; printed in {'part ' + str(part) if part else 'the text'}, not located by gkllm"])


def merge_given(ex: Extraction, given: Any) -> GivenPlan:
    """Check ``given`` against the parser's reading; keep the good values in ``ex.values``."""
    plan = GivenPlan()
    valid = set(table_keys(ex.template)) | set(NARRATIVE_KEYS)
    for key, raw in normalize_given(given).items():
        if key not in valid:
            plan.results[key] = GivenResult(status="rejected", given=raw,
                                            reason=f"not a key of the {ex.template} template")
            continue
        v = _coerce(key, raw)
        if v is _INVALID:
            plan.invalid[key] = raw
            plan.reasons[key] = f"{raw!r} is not a {'number' if is_decimal_key(key) else 'whole count'}"
            continue
        if v is None:
            continue  # a given null is a gap to fill
        if v < 0 and not is_signed_key(key):
            plan.given[key] = v
            plan.reasons[key] = f"{v:g} is negative; counts are non-negative"
            continue
        plan.given[key] = v

    # 1. values only the other tool has: must be printed where they belong
    for key, g in plan.given.items():
        if key in plan.reasons or key in ex.values:
            continue
        loc = _locate(ex, key, g)
        part = _part_of(key, ex.template)
        if loc is None:
            plan.reasons[key] = f"{g:g} is not printed in {'part ' + str(part) if part else 'the text'}"
            continue
        ex.values[key] = loc
        plan.from_given.add(key)

    # 2. disagreements with the parser: the cell it found decides, unless the rules say otherwise
    current = {k: v.value for k, v in ex.values.items()}
    for key, g in plan.given.items():
        p = ex.values.get(key)
        if key in plan.reasons or p is None or key in plan.from_given or _same(p.value, g):
            continue
        where = f"line {p.line}" if p.line else "the cell"
        if p.value is None:
            plan.reasons[key] = f"the source prints a blank ({p.text!r}) at {where}; a blank is null, not {g:g}"
            continue
        fp, fg = rule_failures(key, p.value, current, ex.template), rule_failures(key, g, current, ex.template)
        at_cell = p.start is not None and grounded(g, ex.doc.text[p.start:p.end])
        if fg < fp and (at_cell or _locate(ex, key, g) is not None):
            ex.values[key] = Value(g, p.start, p.end, p.line, method="given", text=p.text,
                                   notes=[f"given; the parser read {p.value!r} here, which breaks {fp} rule(s)"])
            plan.from_given.add(key)
            current[key] = g
            continue
        why = f"the source prints {p.text or p.value!r} at {where}, not {g:g}"
        if not at_cell and _locate(ex, key, g) is None:
            part = _part_of(key, ex.template)
            why += f" ({g:g} is printed nowhere in {'part ' + str(part) if part else 'the text'})"
        plan.reasons[key] = why

    # 3. values only the other tool had that break a rule: drop them for a re-read
    flat = {k: v.value for k, v in ex.values.items()}
    results = [r for r in check_all(flat, ex.template) if r.id in ("R1", "R2", "R3", "R4", "NONNEG")]
    passed = {k for r in results if r.status == "passed" for k in r.keys}
    for r in results:
        if r.status != "failed":
            continue
        for key in r.keys:
            if key in plan.from_given and key not in passed and key in ex.values:
                del ex.values[key]
                plan.from_given.discard(key)
                plan.reasons[key] = f"breaks {r.id} ({r.scope}): {r.detail}"

    # the parse stage's count of missing values is stale now
    missing = ex.missing()
    ex.warnings = [w for w in ex.warnings if "table values not found" not in w]
    if missing:
        ex.warnings.append(f"{len(missing)} table values not found: {ex.missing_summary()}")
    return plan


def settle(plan: GivenPlan, ex: Extraction) -> dict[str, GivenResult]:
    """Per key: kept, corrected, filled or rejected, comparing the final values with what was given."""
    out: dict[str, GivenResult] = dict(plan.results)
    for key in plan.from_given:  # the LLM may have confirmed a value only the given tool had
        v = ex.values.get(key)
        if v is not None and v.method == "parser+llm":
            v.method = "llm"
            v.notes.append("given value confirmed by the LLM")
    for key, g in plan.given.items():
        v = ex.values.get(key)
        final = v.value if v is not None else None
        reason = plan.reasons.get(key)
        if v is not None and _same(final, g):
            out[key] = GivenResult(status="kept", given=g, value=final, reason=_kept_reason(v))
        elif v is not None and (final is not None or v.method == "parser"):
            why = reason or f"the rules favour {final!r}"
            by = {"llm": "; re-read by the LLM", "parser+llm": "; the parser and the LLM agree"}.get(v.method, "")
            out[key] = GivenResult(status="corrected", given=g, value=final, reason=why + by)
        else:
            out[key] = GivenResult(status="rejected", given=g, value=None,
                                   reason=(reason or "not confirmed by the source") + "; nothing could replace it")
    for key, raw in plan.invalid.items():
        v = ex.values.get(key)
        if v is not None and v.value is not None:
            out[key] = GivenResult(status="corrected", given=raw, value=v.value,
                                   reason=f"{plan.reasons[key]}; read by {v.method}")
        else:
            out[key] = GivenResult(status="rejected", given=raw, value=None,
                                   reason=f"{plan.reasons[key]}; nothing could replace it")
    for key, v in ex.values.items():
        if key in plan.given or key in out:
            continue
        out[key] = GivenResult(status="filled", given=None, value=v.value,
                               reason=f"read by {v.method}" + (" (printed blank)" if v.value is None else ""))
    order = {k: i for i, k in enumerate(table_keys(ex.template) + list(NARRATIVE_KEYS))}
    return dict(sorted(out.items(), key=lambda kv: order.get(kv[0], len(order))))


def _kept_reason(v: Value) -> str:
    if v.method == "given":
        return "printed in the source; gkllm could not read this cell itself"
    return {"parser": "the parser reads the same value", "parser+llm": "the parser and the LLM read the same value",
            "llm": "the LLM reads the same value"}.get(v.method, v.method)
