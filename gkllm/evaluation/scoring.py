"""Scoring one prediction against one gold: pure functions, no I/O.

A value is right only when it equals the gold exactly (decimals within 1e-6);
``null`` matches only ``null``, and a key missing from the prediction is wrong
whatever the gold says. These are what keep the harness from a false 100%.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ..rules import check_all
from ..template import NARRATIVE_KEYS, part_of, table_keys

_MISSING = object()


def scored_keys(gold: Mapping[str, Any]) -> list[str]:
    """The gold's table keys (all of its template) and its narrative keys."""
    template = gold.get("meta.template") or "2021"
    return table_keys(template) + [k for k in NARRATIVE_KEYS if k in gold]


def same(got: Any, want: Any) -> bool:
    if got is _MISSING:
        return False
    if want is None or got is None:
        return want is None and got is None
    if not isinstance(got, (int, float)) or isinstance(got, bool) or isinstance(want, bool):
        return False
    try:
        return abs(float(got) - float(want)) < 1e-6
    except (TypeError, ValueError):
        return False


@dataclass
class CaseScore:
    total: int = 0
    correct: int = 0
    wrong: list[dict[str, Any]] = field(default_factory=list)  # {key, gold, got}
    by_part: dict[str, list[int]] = field(default_factory=dict)  # part -> [correct, total]
    rules_agree: int = 0
    rules_total: int = 0
    broken_rules_reported: int = 0  # of the gold's failing rules, how many the prediction reports failed
    broken_rules_total: int = 0
    ambiguous_flagged: int = 0  # keys the gold marks ambiguous, left null with the gold among the candidates

    @property
    def exact(self) -> bool:
        return self.total > 0 and self.correct == self.total


def score_values(pred: Mapping[str, Any], gold: Mapping[str, Any]) -> CaseScore:
    s = CaseScore()
    for key in scored_keys(gold):
        got = pred.get(key, _MISSING)
        want = gold.get(key)
        ok = same(got, want)
        part = part_of(key)
        cell = s.by_part.setdefault(part, [0, 0])
        cell[1] += 1
        s.total += 1
        if ok:
            s.correct += 1
            cell[0] += 1
        else:
            s.wrong.append({"key": key, "gold": want, "got": None if got is _MISSING else got,
                            "missing": got is _MISSING})
    return s


def gold_verdicts(gold: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    template = gold.get("meta.template") or "2021"
    return {(r.id, r.scope): r.status for r in check_all(gold, template)}


def score_rules(s: CaseScore, predicted: list[Any], gold: Mapping[str, Any]) -> None:
    """Compare the prediction's rule verdicts with the gold's own."""
    want = gold_verdicts(gold)
    got = {(r.id, r.scope): r.status for r in predicted}
    for ident, status in want.items():
        s.rules_total += 1
        if got.get(ident) == status:
            s.rules_agree += 1
        if status == "failed":
            s.broken_rules_total += 1
            if got.get(ident) == "failed":
                s.broken_rules_reported += 1


def credit_ambiguous(s: CaseScore, ambiguous_keys: list[str], diagnostics: list[Any]) -> None:
    """A key the case marks ambiguous is right when it is null and flagged with the gold among the candidates.

    Choosing one of several rule-consistent splits would be a guess; the
    contract asks for null plus the candidates, so that is what scores.
    """
    if not ambiguous_keys:
        return
    flagged: dict[str, list[Any]] = {}
    for d in diagnostics:
        if getattr(d, "kind", None) != "ambiguous":
            continue
        for key in d.keys:
            flagged.setdefault(key, []).extend(
                c.get(key) if isinstance(c, dict) else c for c in d.candidates)
    keep = []
    for w in s.wrong:
        key = w["key"]
        if key in ambiguous_keys and w["got"] is None and not w.get("missing") and any(
                same(c, w["gold"]) for c in flagged.get(key, [])):
            s.correct += 1
            s.ambiguous_flagged += 1
            s.by_part[part_of(key)][0] += 1
        else:
            keep.append(w)
    s.wrong = keep
