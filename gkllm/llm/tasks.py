"""The questions put to the LLM, and how each answer is checked before it counts.

Three kinds, each short enough for a small model:

- rows: a few rows of one table, each with its template label and its own
  printed text (``regions``); every value must be printed in a distinct number
  cell of its own row (``ground.match_cells``), and the rules the rows close
  must hold: a problem is re-asked with the cell or the rule named
  (``template.RULE_DESCRIPTIONS``);
- choice: a run of digits the rules split several ways, as a multiple-choice
  question among the parser's candidates, asked twice with the options in two
  orders; a pick counts only when it is the same both times and the report's
  own sentences about the row support it more than any other candidate
  (every candidate passes every rule, so only the report can confirm it);
- narrative: the prose sentences that state a count; every value must be
  printed in the sentence the LLM quotes, and the quote must be in the report.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from pydantic import BaseModel

from ..extraction import Extraction
from ..models import Diagnostic
from ..parse.digit_runs import AmbiguousRun, spans
from ..template import (
    COLUMN_LABELS,
    COLUMNS,
    NARRATIVE_CUES,
    NARRATIVE_DESCRIPTIONS,
    PART2,
    REVIEW_GROUP_LABELS,
    REVIEW_OUTCOME_LABELS,
    REVIEW_OUTCOMES,
    Rule,
    key_kind,
    part_of,
    rows_for,
)
from ..values import Value
from .client import LLMClient
from .ground import ground_quote, match_cells
from .plan import RowGroup, narrative_sentences
from .prompts import load
from .regions import Region, header, regions, template_labels
from .schemas import choice_model, narrative_model, row_values, rows_model

_MAX_NARRATIVE_CHARS = 900
# the version of ``ask_rows``' check: an answer cached under another check was re-asked (or not) by other
# criteria, so it is asked again
ROWS_CHECK = 2
_EPS = 1e-6


@dataclass
class LLMResult:
    values: dict[str, Value] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def update(self, other: "LLMResult") -> None:
        self.values.update(other.values)
        self.diagnostics.extend(other.diagnostics)


# -- words for keys and rules ------------------------------------------------------------------


def _part_note(part: int) -> str:
    if part == 2:
        return "Part 2 (主动公开政府信息情况): each row label is followed by its cells."
    if part == 3:
        cols = ", ".join(COLUMN_LABELS[c] for c in COLUMNS)
        return (f"Part 3 (收到和处理政府信息公开申请情况): every row has 7 columns: {cols} "
                "(the last is the row's total).")
    outcomes = ", ".join(REVIEW_OUTCOME_LABELS[o] for o in REVIEW_OUTCOMES)
    groups = list(REVIEW_GROUP_LABELS.values())
    return (f"Part 4 (行政复议、行政诉讼): its numbers are one printed row, after the headers: first {groups[0]} "
            f"({outcomes}), then 行政诉讼·{groups[1]} (the same columns), "
            f"then 行政诉讼·{groups[2]} (the same columns).")


def key_words(key: str) -> str:
    """A key in the template's words: 自然人 of a part-3 row, 行政复议·结果维持, or the part-2 column."""
    last = key.rsplit(".", 1)[-1]
    if key.startswith("requests."):
        return COLUMN_LABELS.get(last, last)
    if key.startswith("review."):
        group = key.split(".")[1]
        return f"{REVIEW_GROUP_LABELS.get(group, group)}·{REVIEW_OUTCOME_LABELS.get(last, last)}"
    return last


def _scope_words(rule: Rule, labels: Mapping[str, str]) -> str:
    if rule.id in ("R1", "R2"):
        return COLUMN_LABELS.get(rule.scope, rule.scope)
    if rule.id == "R4":
        return REVIEW_GROUP_LABELS.get(rule.scope, rule.scope)
    return labels.get(rule.scope, rule.scope)


def _sum(values: Mapping[str, Any], keys: Sequence[str]) -> float:
    return float(sum(values[k] for k in keys))


def rule_problems(answer: Mapping[str, Any], known: Mapping[str, Any], rules: Sequence[Rule],
                  labels: Mapping[str, str]) -> list[str]:
    """The rules the answer closes (with the known values) and breaks, in the template's words."""
    merged = {**known, **{k: v for k, v in answer.items() if v is not None}}
    out = []
    for rule in rules:
        if not any(k in answer for k in rule.operands) or rule.holds(merged) is not False:
            continue
        where = _scope_words(rule, labels)
        out.append(f"rule {rule.id} fails: {rule.describe(where)} (here {_sum(merged, rule.lhs):g} vs "
                   f"{_sum(merged, rule.rhs):g}); re-read these cells")
    return out


# -- rows ----------------------------------------------------------------------------------------


def ask_rows(client: LLMClient, ex: Extraction, group: RowGroup, known: Mapping[str, float],
             rules: Sequence[Rule]) -> LLMResult:
    """Ask for the cells of a few rows; keep each value printed in its own row."""
    rows = group.rows
    text = ex.doc.text
    labels = {r.name: r.label for r in rows} | template_labels(ex, group.part)
    ids = tuple(r.id for r in rows)
    model = rows_model(ids, tuple(len(r.keys) for r in rows),
                       tuple(any(key_kind(k) == "amount" for k in r.keys) for r in rows))
    relevant = {k for rule in rules if any(k2 in rule.operands for k2 in group.keys) for k in rule.operands}
    known_here = {k: known[k] for k in sorted(relevant) if k in known}

    def check(answer: BaseModel) -> list[str]:
        values = row_values(answer, ids)
        problems: list[str] = []
        flat: dict[str, Any] = {}
        for row, vs in zip(rows, values):
            # a row printing fewer numbers than it has cells cannot be read whole: re-asking costs calls for nothing
            fixable = sum(c.kind == "number" for c in row.cells) >= len(row.keys)
            for key, v, cell in zip(row.keys, vs, match_cells(vs, row.cells)):
                if v is not None and cell is None and fixable:
                    problems.append(f"{row.id} ({row.label}): {v:g} is not printed in this row's own text")
                flat[key] = v
            if fixable and None in vs:
                # the row prints a number for every cell (a blank mark "/" or "-" is no number): a null is a
                # cell skipped
                problems.append(f"{row.id} ({row.label}): every cell of this row is printed as a number; "
                                "give each one, null only for a cell printed blank")
        return problems + rule_problems(flat, known_here, rules, labels)

    answer = client.ask(
        load("rows"),
        {
            "table_note": _part_note(group.part),
            "header": header(ex, group.part) or "(none printed)",
            "rows": "\n\n".join(_row_block(r, text) for r in rows),
            "shape": _shape(rows),
        },
        model,
        check=check,
        key_extra={"part": group.part, "rows": [r.name for r in rows], "known": known_here, "check": ROWS_CHECK},
    )
    res = LLMResult()
    for row, vs in zip(rows, row_values(answer, ids)):
        for key, v, cell in zip(row.keys, vs, match_cells(vs, row.cells)):
            if v is None:
                res.values[key] = Value(None, method="llm", notes=["LLM read the cell as blank"])
            elif cell is None or (key_kind(key) != "amount" and abs(v - round(v)) > _EPS):
                res.diagnostics.append(Diagnostic(
                    kind="ungrounded", keys=[key], candidates=[v],
                    message=f"LLM said {v:g} for {key}, not printed in its own row ({row.label}); rejected"))
            else:
                res.values[key] = _cell_value(key, v, cell, ex)
    return res


def _shape(rows: Sequence[Region]) -> str:
    """{"granted": [a, b, c, d, e, f, g], …}: one placeholder per cell (a count here is copied as a value)."""
    def cells(n: int) -> str:
        return ", ".join(string.ascii_lowercase[i % 26] for i in range(n))
    return "{" + ", ".join(f'"{r.id}": [{cells(len(r.keys))}]' for r in rows) + "}" + \
        " where each letter is the number printed in that cell, in column order (null for a blank cell)"


def _row_block(row: Region, doc_text: str) -> str:
    # no digits here: a small model copies any number it is shown ("15 values" came back as fifteen 15s)
    what = f" ({', '.join(key_words(k) for k in row.keys)})" if row.part == 2 else ""
    return (f'"{row.id}" is the row {row.label}{what}; printed after its label:\n'
            f"<report>\n{row.text(doc_text)}\n</report>")


def _cell_value(key: str, v: float, cell: Any, ex: Extraction) -> Value:
    value: float | int = float(v) if key_kind(key) == "amount" else int(round(v))
    return Value(value, cell.start, cell.end, ex.doc.line_of(cell.start), method="llm", text=cell.text)


# -- choices -------------------------------------------------------------------------------------


def _choice_text(ex: Extraction, amb: AmbiguousRun) -> tuple[str, str, list[str]]:
    """(the row's name in the template's words, its printed text plus the prose that speaks of it, that prose)."""
    text = ex.doc.text
    head = part_of(amb.task.keys[0])
    part = int(head) if head.isdigit() else 3
    region = regions(ex, part).get(amb.task.name)
    printed = region.text(text) if region is not None else text[amb.task.cells[0].start:amb.task.cells[-1].end]
    name = region.label if region is not None else amb.task.name
    words = _topic_words(ex, part, amb.task.name)
    prose: list[str] = []
    for a, b in _sentences_about(ex, words):
        s = re.sub(r"\s+", " ", text[a:b]).strip()
        if s not in prose:
            prose.append(s)
    return name, "\n".join([header(ex, part), printed, *prose[:3]]).strip(), prose[:3]


def _topic_words(ex: Extraction, part: int, name: str) -> tuple[str, ...]:
    """The words that name a row in prose: its anchors in the template."""
    if part == 2:
        item = next((i for i in PART2[ex.template] if i.label == name), None)
        return item.anchors if item is not None else (name,)
    row = next((r for r in rows_for(ex.template) if r.key == name), None)
    return row.anchors if row is not None and row.anchors else (name,)


def _sentences_about(ex: Extraction, words: tuple[str, ...]) -> list[tuple[int, int]]:
    """Prose sentences (parts 1, 6, 5) naming one of ``words`` next to a number."""
    out = []
    for part in (1, 6, 5):
        seg = ex.segments.get(part)
        if seg is None:
            continue
        for m in re.finditer(r"[^。;；\n]+", ex.doc.text[seg.start:seg.end]):
            if any(w in m.group() for w in words) and re.search(r"\d", m.group()):
                out.append((seg.start + m.start(), seg.start + m.end()))
    return out


_STATED = re.compile(r"(?<![\d.])(\d+)\s*(?:条|件|个|份|部|项)")


def _support(amb: AmbiguousRun, prose: Sequence[str]) -> list[int]:
    """Per candidate, how many of its values for the ambiguous keys the prose states as counts."""
    stated = {int(n) for sent in prose for n in _STATED.findall(sent)}
    idx = [i for i, k in enumerate(amb.task.keys) if k in amb.diagnostic.keys]
    return [sum(c[i] in stated for i in idx) for c in amb.candidates]


def ask_choice(client: LLMClient, ex: Extraction, amb: AmbiguousRun) -> LLMResult:
    """Which of the parser's splits is printed? Asked in two orders; only a consistent pick counts."""
    keys = amb.task.keys
    name, text, prose = _choice_text(ex, amb)
    digits = "".join(c.text for c in amb.task.cells)
    picks = []
    for order in (list(range(len(amb.candidates))), list(reversed(range(len(amb.candidates))))):
        letters = tuple(string.ascii_uppercase[: len(order)])
        options = "\n".join(
            f"{letters[i]}: " + ", ".join(f"{key_words(k)}={v}" for k, v in zip(keys, amb.candidates[c]))
            for i, c in enumerate(order))
        answer = client.ask(load("choice"), {"digits": digits, "row": name,
                                             "columns": ", ".join(key_words(k) for k in keys),
                                             "text": text, "options": options},
                            choice_model(letters), key_extra={"candidates": [list(c) for c in amb.candidates]})
        picks.append(order[letters.index(answer.choice)])  # type: ignore[attr-defined]
    res = LLMResult()
    if picks[0] != picks[1]:
        res.diagnostics.append(Diagnostic(
            kind="llm_undecided", keys=list(amb.diagnostic.keys),
            message=f"row {name}: the LLM picked different splits of {digits!r} when the options were reordered "
                    f"({amb.candidates[picks[0]]} and {amb.candidates[picks[1]]}); left null"))
        return res
    cand = amb.candidates[picks[0]]
    assert cand in amb.candidates  # a choice is one of the parser's candidates, by construction
    support = _support(amb, prose)
    if support[picks[0]] == 0 or sum(s == support[picks[0]] for s in support) > 1:
        # every candidate passes every rule, so nothing but the report can confirm the model's pick; measured on
        # the real cases, a consistent pick with no support in the prose was wrong (24/3/3 for 2/4/33)
        res.diagnostics.append(Diagnostic(
            kind="llm_unconfirmed", keys=list(amb.diagnostic.keys),
            message=f"row {name}: the LLM picked {cand} for {digits!r} in both orders, but the report's sentences "
                    "about the row do not single it out; left null"))
        return res
    for k, (a, b), v in zip(keys, spans(amb.task, cand), cand):
        if k in amb.diagnostic.keys:
            res.values[k] = Value(v, a, b, ex.doc.line_of(a), method="llm", text=ex.doc.text[a:b],
                                  notes=[f"split from a run of digits: the LLM chose this among {len(amb.candidates)} "
                                         "splits the rules allow, the same way with the options in two orders"])
    return res


# -- narrative -----------------------------------------------------------------------------------


def ask_narrative(client: LLMClient, ex: Extraction, keys: Sequence[str]) -> LLMResult:
    res = LLMResult()
    picked, size = [], 0
    for a, b in narrative_sentences(ex, tuple(keys)):
        s = ex.doc.text[a:b].strip()
        if size + len(s) > _MAX_NARRATIVE_CHARS:
            break
        picked.append(s)
        size += len(s)
    if not picked:
        return res
    fields = tuple(k.split(".", 1)[1] for k in keys)
    items = "\n".join(f"- {f}: {NARRATIVE_DESCRIPTIONS[k]}" for f, k in zip(fields, keys))
    answer = client.ask(load("narrative", "v2"), {"items": items, "text": "\n".join(picked)}, narrative_model(fields))
    prose = [(s.start, s.end) for p, s in sorted(ex.segments.items()) if p in (1, 5, 6)]
    for key, f in zip(keys, fields):
        item = getattr(answer, f)
        if item.value is None:
            continue
        value: float | int = float(item.value) if key_kind(key) == "amount" else int(round(item.value))
        if key_kind(key) != "amount" and abs(item.value - round(item.value)) > _EPS:
            continue
        where = ground_quote(ex.doc.text, item.sentence, float(value), NARRATIVE_CUES[key], prose)
        if where is None:
            res.diagnostics.append(Diagnostic(
                kind="ungrounded", keys=[key], candidates=[value],
                message=f"LLM said {value!r} for {key} quoting {item.sentence!r}: that sentence is not in the report "
                        "or does not print the value; rejected"))
            continue
        res.values[key] = Value(value, where.start, where.end, ex.doc.line_of(where.start), method="llm",
                                text=ex.doc.text[where.start:where.end])
    return res


__all__ = ["LLMResult", "ask_rows", "ask_choice", "ask_narrative", "rule_problems", "key_words"]
