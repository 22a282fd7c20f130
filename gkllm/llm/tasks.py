"""What gkllm asks the LLM, and how each answer is checked before it counts.

Only short segments travel: the prose sentences that can hold a narrative
count, or the text of one table part with the rows still unsettled. Every
number that comes back must be printed in the segment it was sent
(grounding); every table answer must satisfy the rules it can be checked
against, or it is re-asked with the failing rule named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Sequence

from ..document import Document
from ..grounding import grounded, numbers_in, zero_phrase
from ..models import Diagnostic
from ..parse.labels import RowSpec, make_spec
from ..parse.parts import RowRead, part2_specs, part3_specs
from ..rules import check_rule
from ..segment import Segment
from ..template import (
    COLUMN_LABELS,
    COLUMNS,
    NARRATIVE_KEYS,
    REVIEW_GROUP_LABELS,
    REVIEW_GROUPS,
    REVIEW_OUTCOMES,
    TemplateName,
    is_decimal_key,
    rows_for,
    rules_for,
)
from ..text import compact
from ..values import Value
from .client import LLMClient
from .prompts import load
from .schemas import NarrativeAnswer, TableAnswer

_SENTENCE = re.compile(r"[^。;；!！?\n]+[。;；!！?]?")
_NARRATIVE_WORDS = ("主动公开", "申请", "培训", "处理费", "收费", "费用", "信息公开")
_MAX_NARRATIVE_CHARS = 900
_MAX_TABLE_CHARS = 6000


@dataclass
class LLMResult:
    values: dict[str, Value] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)


# -- narrative ----------------------------------------------------------------------


def narrative_segment(doc: Document, segs: dict[int, Segment]) -> tuple[str, list[tuple[int, str]]]:
    """The prose sentences that can state a narrative count, with their offsets."""
    picked: list[tuple[int, str]] = []
    size = 0
    for part in (1, 6, 5):
        if part not in segs:
            continue
        lo, hi = segs[part].start, segs[part].end
        for m in _SENTENCE.finditer(doc.text, lo, hi):
            sent = m.group().strip()
            if not sent or not any(w in sent for w in _NARRATIVE_WORDS):
                continue
            if not (re.search(r"\d", sent) or zero_phrase(sent)) or "\t" in sent or "|" in sent:
                continue
            if size + len(sent) > _MAX_NARRATIVE_CHARS:
                break
            picked.append((m.start() + m.group().index(sent[0]), sent))
            size += len(sent)
    picked.sort()
    return "\n".join(s for _, s in picked), picked


def ask_narrative(client: LLMClient, doc: Document, segs: dict[int, Segment]) -> LLMResult:
    text, sentences = narrative_segment(doc, segs)
    res = LLMResult()
    if not text:
        return res
    answer = client.ask(load("narrative"), {"text": text}, NarrativeAnswer)
    for key in NARRATIVE_KEYS:
        item = getattr(answer, key.split(".", 1)[1])
        if item.value is None:
            continue
        value = float(item.value) if key == "narrative.fee_yuan" else int(item.value)
        v = _ground_narrative(key, value, item.sentence, text, sentences, doc)
        if v is None:
            res.diagnostics.append(Diagnostic(kind="ungrounded", keys=[key],
                                              message=f"LLM said {value!r} ({item.sentence!r}), not printed in the text sent; rejected",
                                              candidates=[value]))
            continue
        res.values[key] = v
    return res


# A count is only grounded in a sentence about its subject: "10" in a sentence
# about requests does not ground a number of trainings.
TOPICS: dict[str, tuple[str, ...]] = {
    "narrative.active_items": ("主动公开",),
    "narrative.requests_received": ("申请", "依申请"),
    "narrative.trainings": ("培训",),
    "narrative.fee_yuan": ("费",),
}
_NON_WORD = re.compile(r"[^\w]+")


def _loose(text: str) -> str:
    """Letters and digits only: models re-punctuate the sentences they quote."""
    return _NON_WORD.sub("", compact(text))


def _ground_narrative(key: str, value: float, sentence: str | None, text: str,
                      sentences: list[tuple[int, str]], doc: Document) -> Value | None:
    """A Value pointing at the sentence that prints ``value``, or None."""
    cands = sentences
    want = _loose(sentence or "")
    quoted = [(o, s) for o, s in sentences if want and (want in _loose(s) or _loose(s) in want)]
    if sentence:
        cands = quoted + [c for c in sentences if c not in quoted]
    cands = [(o, s) for o, s in cands if any(t in s for t in TOPICS[key])]
    for off, sent in cands:
        if value != 0 and grounded(value, sent):
            span = _locate(sent, value)
            if span:
                a, b = span
                return Value(value, off + a, off + b, doc.line_of(off + a), method="llm", text=sent)
        if value == 0 and (grounded(0, sent) or zero_phrase(sent)) and (off, sent) in quoted:
            return Value(0 if key != "narrative.fee_yuan" else 0.0, off, off + len(sent), doc.line_of(off),
                         method="llm", text=sent)
    return None


def _locate(text: str, value: float, start: int = 0) -> tuple[int, int] | None:
    """Span of ``value`` printed as a number in ``text`` (not inside a longer number)."""
    for m in re.finditer(r"(?<![\d.])\d[\d,]*(?:\.\d+)?(?![\d.])", text[start:]):
        try:
            if abs(float(m.group().replace(",", "")) - value) < 1e-6:
                return start + m.start(), start + m.end()
        except ValueError:
            continue
    return None


# -- tables ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PartTask:
    part: int
    specs: tuple[RowSpec, ...]
    labels: tuple[str, ...]
    columns: str
    note: str


def part_task(part: int, template: TemplateName) -> PartTask:
    if part == 2:
        specs = part2_specs(template)
        return PartTask(2, specs, tuple(s.name for s in specs), "as printed, left to right",
                        "Part 2 (主动公开): small tables; each row label is followed by its cells.")
    if part == 3:
        specs = part3_specs(template)
        # long labels cost output tokens on a slow model; these still match the anchors
        labels = tuple(r.label.split("、行政机关")[0] for r in rows_for(template))
        return PartTask(3, specs, labels, ", ".join(COLUMN_LABELS[c] for c in COLUMNS),
                        "Part 3 (收到和处理政府信息公开申请): 7 columns per row.")
    specs = tuple(make_spec(g, [f"review.{g}.{o}" for o in REVIEW_OUTCOMES], REVIEW_GROUP_LABELS[g],
                            (REVIEW_GROUP_LABELS[g],)) for g in REVIEW_GROUPS)
    labels = ("行政复议", "行政诉讼·未经复议直接起诉", "行政诉讼·复议后起诉")
    return PartTask(4, specs, labels, "结果维持, 结果纠正, 其他结果, 尚未审结, 总计",
                    "Part 4 (行政复议、行政诉讼): the 15 numbers are usually printed as one row: "
                    "行政复议 (5 cells), then 未经复议直接起诉 (5), then 复议后起诉 (5).")


def table_text(doc: Document, seg: Segment) -> str:
    lines = [ln.strip() for ln in doc.text[seg.start:seg.end].split("\n")]
    text = "\n".join(ln for ln in lines if ln and ln != "|")
    return text[:_MAX_TABLE_CHARS]


def _match_row(label: str, task: PartTask, wanted: Sequence[int]) -> int | None:
    c = compact(label)
    for i in wanted:
        if compact(task.labels[i]) == c:
            return i
    for i in wanted:
        s = task.specs[i]
        if s.matches(c) or (c and c in compact(task.labels[i])):
            return i
    return None


def answer_values(answer: TableAnswer, task: PartTask, wanted: Sequence[int]) -> tuple[dict[str, Any], list[str]]:
    """Flat values from an answer, and what is wrong with its shape."""
    out: dict[str, Any] = {}
    problems: list[str] = []
    seen: set[int] = set()
    for row in answer.rows:
        i = _match_row(row.label, task, wanted)
        if i is None or i in seen:
            continue  # group headings ("（六）其他处理") and repeats carry no values we asked for
        spec = task.specs[i]
        if len(row.values) != len(spec.keys):
            problems.append(f"row {task.labels[i]!r} has {len(row.values)} values; it must have exactly {len(spec.keys)}")
            continue
        seen.add(i)
        for key, v in zip(spec.keys, row.values):
            if v is not None and not is_decimal_key(key):
                if float(v).is_integer():
                    v = int(v)
                else:
                    problems.append(f"row {task.labels[i]!r}: {v} is not a whole count")
                    continue
            out[key] = v
    missing = [task.labels[i] for i in wanted if i not in seen]
    if missing:
        problems.append("rows missing from the answer: " + ", ".join(missing[:5]))
    return out, problems


def rule_problems(values: dict[str, Any], known: dict[str, Any], template: TemplateName,
                  labels: dict[str, str]) -> list[str]:
    """Rules R1-R4 that the answer (with the known values) can be checked against and breaks."""
    merged = {**known, **values}
    problems = []
    for rule in rules_for(template):
        keys = rule.lhs + rule.rhs
        if not any(k in values for k in keys) or any(merged.get(k) is None for k in keys):
            continue
        r = check_rule(rule, merged)
        if r.status == "failed":
            where = labels.get(rule.scope, rule.scope)
            what = {
                "R1": f"column {where}: 本年新收 + 上年结转 ({r.lhs:g}) must equal 总计 + 结转下年度 ({r.rhs:g})",
                "R2": f"column {where}: （七）总计 ({r.lhs:g}) must equal the sum of the result rows ({r.rhs:g})",
                "R3": f"row {where}: 总计 ({r.lhs:g}) must equal the sum of the six applicant columns ({r.rhs:g})",
                "R4": f"{where}: 总计 ({r.lhs:g}) must equal 维持 + 纠正 + 其他 + 尚未审结 ({r.rhs:g})",
            }[rule.id]
            problems.append(f"rule {rule.id} fails for {what}; re-read these cells")
    return problems


def _label_offsets(task: PartTask, rows: Sequence[RowRead]) -> dict[int, int]:
    """Where each row's label is printed, so an LLM value can point at its own row."""
    by_name = {r.name: r for r in rows}
    out: dict[int, int] = {}
    for i, spec in enumerate(task.specs):
        r = by_name.get(spec.name)
        if r is not None and r.label is not None:
            out[i] = r.label[1]
    return out


def ask_part(client: LLMClient, doc: Document, seg: Segment, part: int, template: TemplateName,
             wanted_keys: set[str], known: dict[str, Any], rows: Sequence[RowRead] = ()) -> LLMResult:
    """Ask for the rows of one part that hold any of ``wanted_keys``; check, ground, place."""
    task = part_task(part, template)
    wanted = [i for i, s in enumerate(task.specs) if any(k in wanted_keys for k in s.keys)]
    res = LLMResult()
    if not wanted:
        return res
    text = table_text(doc, seg)
    labels = {**{s.name: task.labels[i] for i, s in enumerate(task.specs)}, **COLUMN_LABELS,
              **REVIEW_GROUP_LABELS}

    def check(answer: TableAnswer) -> list[str]:
        vals, problems = answer_values(answer, task, wanted)
        return problems + rule_problems(vals, known, template, labels)

    n = len(task.specs[wanted[0]].keys)
    answer = client.ask(
        load("table"),
        {
            "text": text,
            "rows": "\n".join(f"- {task.labels[i]} ({len(task.specs[i].keys)} values)" for i in wanted),
            "columns": task.columns,
            "n_values": str(n) if all(len(task.specs[i].keys) == n for i in wanted) else "the listed number of",
            "table_note": task.note,
        },
        TableAnswer,
        check=check,
        key_extra={"part": part, "template": template, "known": {k: known[k] for k in sorted(known)}},
    )
    values, _ = answer_values(answer, task, wanted)
    printed = numbers_in(text)
    base, seg_end = seg.start, seg.end
    seg_text = doc.text[base:seg_end]
    row_of = {k: i for i, s in enumerate(task.specs) for k in s.keys}
    label_at = _label_offsets(task, rows)
    for key, v in values.items():
        if v is None:
            res.values[key] = Value(None, method="llm", notes=["LLM read the cell as blank"])
            continue
        if not any(abs(x - v) < 1e-6 for x in printed):
            res.diagnostics.append(Diagnostic(kind="ungrounded", keys=[key],
                                              message=f"LLM said {v!r}, not printed in part {part}; rejected",
                                              candidates=[v]))
            continue
        after = label_at.get(row_of[key], base) - base
        span = _locate(seg_text, v, max(after, 0)) or _locate(seg_text, v)
        a, b = span if span else (0, 0)
        res.values[key] = Value(v, base + a, base + b, doc.line_of(base + a), method="llm", text=seg_text[a:b] or None)
    return res
