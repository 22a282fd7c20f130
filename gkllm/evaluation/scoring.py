"""Scoring one prediction against one gold: pure functions, no I/O.

A value is right only when it equals the gold exactly (decimals within 1e-6);
``null`` matches only ``null``, and a key missing from the prediction is wrong
whatever the gold says. These are what keep the harness from a false 100%.

A value that is not right is one of three kinds, counted apart because they
are not equally bad:

- ``wrong_number``: the prediction holds a value (not ``null``) that is not the
  gold's: a wrong number, or a number where the gold is ``null``. The worst
  outcome: a consumer would take it for a fact.
- ``missed``: the prediction is ``null`` (or lacks the key) where the gold has a
  number. Honest: nothing was claimed.
- ``missing_key``: the key is absent from the prediction and the gold is
  ``null`` (the prediction broke the contract of printing every key).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ..rules import check_all
from ..template import NARRATIVE_KEYS, TemplateName, part_of, table_keys

_MISSING = object()


def scored_keys(gold: Mapping[str, Any]) -> list[str]:
    """The gold's table keys (all of its template) and its narrative keys."""
    template: TemplateName = gold.get("meta.template") or "2021"
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


WRONG_NUMBER = "wrong_number"
MISSED = "missed"
MISSING_KEY = "missing_key"
KINDS = (WRONG_NUMBER, MISSED, MISSING_KEY)


def kind_of(w: Mapping[str, Any]) -> str:
    """The kind of a value that is not right, from its ``{key, gold, got, missing}`` record.

    Works on records of older report.json files too (they have no ``kind``).
    """
    if w.get("kind") in KINDS:
        return w["kind"]
    if not w.get("missing") and w.get("got") is not None:
        return WRONG_NUMBER
    return MISSED if w.get("gold") is not None else MISSING_KEY


@dataclass
class CaseScore:
    total: int = 0
    correct: int = 0
    wrong: list[dict[str, Any]] = field(default_factory=list)  # {key, gold, got, missing, kind}
    by_part: dict[str, list[int]] = field(default_factory=dict)  # part -> [correct, total]
    rules_agree: int = 0
    rules_total: int = 0
    broken_rules_reported: int = 0  # of the gold's failing rules, how many the prediction reports failed
    broken_rules_total: int = 0
    ambiguous_flagged: int = 0  # keys left null, flagged ambiguous with the gold among the candidates (counted right)

    @property
    def exact(self) -> bool:
        return self.total > 0 and self.correct == self.total

    def count(self, kind: str, part: str | None = None) -> int:
        return sum(1 for w in self.wrong if w["kind"] == kind and (part is None or part_of(w["key"]) == part))

    @property
    def wrong_numbers(self) -> int:
        """Values predicted (not null) and not the gold's: the worst outcome."""
        return self.count(WRONG_NUMBER)

    @property
    def missed(self) -> int:
        """Null (or absent) where the gold has a number."""
        return self.count(MISSED)

    @property
    def missing_keys(self) -> int:
        """Absent from the prediction where the gold is null."""
        return self.count(MISSING_KEY)


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
            w = {"key": key, "gold": want, "got": None if got is _MISSING else got, "missing": got is _MISSING}
            w["kind"] = kind_of(w)
            s.wrong.append(w)
    return s


def gold_verdicts(gold: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    template: TemplateName = gold.get("meta.template") or "2021"
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


def credit_ambiguous(s: CaseScore, ambiguous_keys: list[str] | None, diagnostics: list[Any]) -> None:
    """A value left null and flagged ambiguous, with the gold among the candidates, is right.

    Choosing one of several rule-consistent splits would be a guess; the
    contract asks for null plus the candidates, so that is what scores (counted
    apart in ``ambiguous_flagged``). The evidence is the report's own
    ``ambiguous`` diagnostics: the key must be named by one of them, and one of
    that diagnostic's candidates must give the key the gold's value.

    ``ambiguous_keys`` is the case's declared list (generated cases know which
    keys their glued runs leave ambiguous): when it is a list, only those keys
    can be credited, so flagging a key that is not ambiguous stays a miss. When
    the case declares nothing (``None``: hand-written golds such as the real
    cases), any key the report flags is creditable on the same evidence.
    A key absent from the prediction, or holding a number, is never credited.
    """
    if ambiguous_keys is not None and not ambiguous_keys:
        return
    flagged: dict[str, list[Any]] = {}
    for d in diagnostics:
        if getattr(d, "kind", None) != "ambiguous":
            continue
        for key in d.keys:
            flagged.setdefault(key, []).extend(
                c.get(key, _MISSING) if isinstance(c, dict) else c for c in d.candidates)
    if not flagged:
        return
    allowed = None if ambiguous_keys is None else set(ambiguous_keys)
    keep = []
    for w in s.wrong:
        key = w["key"]
        if (allowed is None or key in allowed) and w["got"] is None and not w.get("missing") and any(
                same(c, w["gold"]) for c in flagged.get(key, [])):
            s.correct += 1
            s.ambiguous_flagged += 1
            s.by_part[part_of(key)][0] += 1
        else:
            keep.append(w)
    s.wrong = keep
