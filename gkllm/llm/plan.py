"""What to ask the LLM about one report, and what not to.

hybrid asks only where the parser could not settle a key, and only when an
answer could be accepted at all:

- a table key is unsettled when it is missing, left null by an ambiguous
  reading, or in a failing hard rule one of whose rows was placed by order
  (a rule that fails over rows printed beside their labels is the report's
  own inconsistency: the LLM would read the same printed numbers);
- it is asked only when its row has text of its own holding printed numbers
  (``regions``), and when every hard rule it takes part in could be checked
  once it is answered (its other keys are known or asked too): an answer
  that could never pass the acceptance gate (``accept``) is not worth a call;
- a narrative count is asked only when the parser's patterns found nothing
  although a sentence states such a count, or when they read it two ways;
- a run of digits the rules split several ways becomes a multiple-choice
  question among the parser's candidates.

llm mode asks every row that has text of its own, and every narrative count.
Part 3 travels in groups of a few rows, parts 2 and 4 on their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..extraction import Extraction
from ..parse.digit_runs import AmbiguousRun
from ..parse.narrative import PATTERNS
from ..rules import check_all
from ..template import NARRATIVE_CUES, NARRATIVE_KEYS, Rule, rules_for
from .ground import counts_in
from .regions import Region, regions

GROUP_ROWS = 5  # part-3 rows per question: a 1.5B model keeps five rows of seven cells apart
MAX_OPTIONS = 8  # a choice among more splits than this is no question for a small model
_SHORT_LINE = 16  # characters: shorter lines are menus and headings, not a sentence wrapped by the page width
_MAX_SENTENCE = 400
_HEADING = re.compile(r"[ \t]*(?:#|[(（][一二三四五六七八九十]+[)）]|[一二三四五六七八九十]+、|\d+[.、])")
# A sentence ends at its punctuation, a blank line or a heading; a single line break inside it is a wrap
# (PDF text: "共收到政府信息公开申请\n 1 件").
_SENTENCE_END = re.compile(r"[。;；!！?？]|\n[ \t]*\n"
                           r"|\n(?=[ \t]*(?:#|[(（][一二三四五六七八九十]|[一二三四五六七八九十]+、|\d+[.、]))")


@dataclass(frozen=True)
class RowGroup:
    part: int
    rows: tuple[Region, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(k for r in self.rows for k in r.keys)


@dataclass
class Plan:
    narrative: tuple[str, ...] = ()
    groups: list[RowGroup] = field(default_factory=list)
    choices: list[AmbiguousRun] = field(default_factory=list)
    unsettled: set[str] = field(default_factory=set)  # table keys the parser left open (asked or not)

    def __bool__(self) -> bool:
        return bool(self.narrative or self.groups or self.choices)


def hard_rules(ex: Extraction) -> list[Rule]:
    return rules_for(ex.template, absent=ex.absent)


def unsettled(ex: Extraction) -> set[str]:
    """Table keys the parser could not settle (see the module docstring)."""
    keys = set(ex.missing())
    for d in ex.diagnostics:
        if d.kind == "ambiguous":
            keys.update(k for k in d.keys if k in ex.values and ex.values[k].value is None or k not in ex.values)
    how = {k: r.how for t in ex.tables.values() for r in t.rows for k in r.keys}
    flat = {k: v.value for k, v in ex.values.items()}
    for r in check_all(flat, ex.template, absent=ex.absent):
        if r.status == "failed" and not r.id.startswith("R5") and any(how.get(k) == "order" for k in r.keys):
            keys.update(r.keys)
    return keys - ex.absent


def make_plan(ex: Extraction, mode: str) -> Plan:
    plan = Plan()
    plan.narrative = _narrative_keys(ex, mode)
    open_keys = unsettled(ex)
    plan.unsettled = open_keys
    run_keys = {k for a in ex.ambiguous for k in a.diagnostic.keys}
    rows_by_part = {p: _askable(ex, p) for p in (2, 3, 4)}
    if mode == "llm":
        wanted = {k for rs in rows_by_part.values() for r in rs for k in r.keys}
    else:
        wanted = _feasible(ex, {k for rs in rows_by_part.values() for r in rs for k in r.keys
                                if k in open_keys and k not in run_keys}, open_keys)
    for part in (2, 3, 4):
        rows = tuple(r for r in rows_by_part[part] if any(k in wanted for k in r.keys))
        if not rows:
            continue
        size = GROUP_ROWS if part == 3 else len(rows)
        plan.groups.extend(RowGroup(part, rows[i:i + size]) for i in range(0, len(rows), size))
    known = _known(ex, open_keys)
    for amb in ex.ambiguous:
        if len(amb.candidates) > MAX_OPTIONS or len(amb.candidates) < 2:
            continue
        if mode != "llm" and not _checkable(amb, known, hard_rules(ex)):
            continue
        plan.choices.append(amb)
    return plan


def _askable(ex: Extraction, part: int) -> list[Region]:
    """Rows whose own text holds printed numbers and still reads as a row."""
    out = []
    for r in regions(ex, part).values():
        if not r.cells:
            continue
        if len(r.cells) > 3 * len(r.keys):
            continue  # the numbers of many rows piled after one label: no row of its own to read
        out.append(r)
    return out


def _known(ex: Extraction, open_keys: set[str]) -> dict[str, float]:
    return {k: v.value for k, v in ex.values.items() if v.value is not None and k not in open_keys}


def _feasible(ex: Extraction, asked: set[str], open_keys: set[str]) -> set[str]:
    """The asked keys whose every hard rule could be assessed if the asked keys were answered."""
    known = _known(ex, open_keys)
    rules = hard_rules(ex)
    keep = set(asked)
    changed = True
    while changed:
        changed = False
        for k in sorted(keep):
            if k in ex.values and ex.values[k].value is not None:
                continue  # a parser value in a failing rule: reconciled, not gated
            for rule in rules:
                if k in rule.operands and any(o not in known and o not in keep for o in rule.lhs + rule.rhs):
                    keep.discard(k)
                    changed = True
                    break
    return keep


def _checkable(amb: AmbiguousRun, known: dict[str, float], rules: list[Rule]) -> bool:
    """Every hard rule over the run's keys is assessable once a candidate is chosen."""
    trial = dict(known)
    trial.update(zip(amb.task.keys, amb.candidates[0]))
    return all(rule.holds(trial) is not None for rule in rules if any(k in rule.operands for k in amb.task.keys))


# -- narrative ------------------------------------------------------------------------------------------------


def narrative_sentences(ex: Extraction, keys: tuple[str, ...] = NARRATIVE_KEYS) -> list[tuple[int, int]]:
    """Spans of the prose sentences (parts 1, 6, 5) that state a count of one of ``keys``."""
    out = []
    for part in (1, 6, 5):
        seg = ex.segments.get(part)
        if seg is None:
            continue
        for a, b in _sentences(ex.doc.text, seg.start, seg.end):
            sent = ex.doc.text[a:b]
            if "\t" in sent or "|" in sent or len(sent) > _MAX_SENTENCE:
                continue  # a table row or a page's furniture, not prose
            if any(_states(sent, k) for k in keys):
                out.append((a, b))
    return sorted(out)


def _sentences(text: str, lo: int, hi: int) -> list[tuple[int, int]]:
    out, start = [], lo
    for m in _SENTENCE_END.finditer(text, lo, hi):
        out.extend(_after_heading(text, start, m.end()))
        start = m.end()
    out.extend(_after_heading(text, start, hi))
    trimmed = []
    for a, b in out:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            trimmed.append((a, b))
    return trimmed


def _after_heading(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """A heading line ("(一)主动公开情况") or a short line (a page's menu, "首页\n政务公开") is no part of
    the sentence printed under it; a long line broken mid-sentence (PDF text) is."""
    out = []
    nl = text.find("\n", a, b)
    while nl != -1:
        line = nl - (text.rfind("\n", 0, nl) + 1)  # the whole printed line, not only this sentence's part of it
        if line < _SHORT_LINE or _HEADING.match(text, a, nl) and nl - a < 40:
            out.append((a, nl))
            a = nl + 1
        nl = text.find("\n", nl + 1, b)
    out.append((a, b))
    return out


def _states(sentence: str, key: str) -> bool:
    cue = NARRATIVE_CUES[key]
    sentence = re.sub(r"\s+", "", sentence)  # PDF text wraps inside words ("主\n动公开")
    if not cue.about(sentence):
        return False
    return bool(counts_in(sentence, cue)) or (cue.zero and bool(re.search(r"未|没有|无|不存在", sentence)))


def _narrative_keys(ex: Extraction, mode: str) -> tuple[str, ...]:
    if mode == "llm":
        return tuple(k for k in NARRATIVE_KEYS if narrative_sentences(ex, (k,)))
    out = []
    for key in NARRATIVE_KEYS:
        if key not in ex.values:
            if narrative_sentences(ex, (key,)):
                out.append(key)
        elif len(_pattern_reads(ex, key)) > 1:
            out.append(key)
    return tuple(out)


def _pattern_reads(ex: Extraction, key: str) -> set[float]:
    """The values the parser's patterns read for ``key``: the first hit of each pattern in each part.

    Two different counts mean the prose is read two ways. A "none" phrase
    counts only when no count is printed: "未收到…行政复议申请" beside "收到…申请19件"
    is about something else, and the count is the statement.
    """
    counts: set[float] = set()
    zero = False
    for part in (1, 6, 5):
        seg = ex.segments.get(part)
        if seg is None:
            continue
        text = ex.doc.text[seg.start:seg.end]
        for pat in PATTERNS:
            if pat.key != key:
                continue
            m = pat.regex.search(text)
            if m is None:
                continue
            if pat.zero:
                zero = True
                continue
            try:
                counts.add(float(m.group("num").replace(",", "")))
            except ValueError:
                continue
    return counts or ({0.0} if zero else set())


__all__ = ["Plan", "RowGroup", "make_plan", "unsettled", "narrative_sentences", "hard_rules"]
