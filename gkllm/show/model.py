"""What the page shows about each key: its value, where it was read, and its state.

Everything here is computed from a ``Report`` (and the normalized text its
offsets point into); the HTML modules only lay it out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Sequence

from ..models import Provenance, Report, RuleResult
from ..template import (
    COLUMN_LABELS,
    NARRATIVE_KEYS,
    PART2,
    REVIEW_GROUP_LABELS,
    REVIEW_OUTCOME_LABELS,
    TemplateName,
    flat_keys,
    rows_for,
)

# One letter per method: colour is never the only signal.
METHOD_LETTERS: dict[str, str] = {"parser": "P", "parser+llm": "P+L", "llm": "L", "given": "G"}
METHOD_NAMES: dict[str, str] = {"parser": "parser", "parser+llm": "parser and LLM agree", "llm": "LLM",
                                "given": "given by the caller, checked"}
# One icon per state, in the order they are shown.
STATE_ICONS: dict[str, str] = {"failed": "✗", "ambiguous": "?", "flagged": "!", "approx": "≈"}
STATE_NAMES: dict[str, str] = {
    "failed": "in a failing rule",
    "ambiguous": "ambiguous: several readings fit every rule",
    "flagged": "null, with a diagnostic",
    "approx": "approximate (the prose says 'more than')",
}

# Part 2's column headers, as the template prints them (each is one of template.PART2_HEADER_LABELS).
PART2_COLUMN_LABELS: dict[str, str] = {
    "issued": "本年制发件数",
    "repealed": "本年废止件数",
    "in_force": "现行有效件数",
    "licensing": "本年处理决定数量",
    "punishment": "本年处理决定数量",
    "coercion": "本年处理决定数量",
    "fees": "本年收费金额(单位:万元)",
    "new_made": "本年新制作数量",
    "new_published": "本年新公开数量",
    "total_published": "对外公开总数量",
    "prev_year_items": "上一年项目数量",
    "change": "本年增/减",
    "decisions": "处理决定数量",
    "items": "采购项目数量",
    "amount": "采购总金额(元)",
}
# Part 3's group headings (template.PART3_GROUP_LABELS with the ordinals the template prints),
# each printed before the row named here.
PART3_HEADINGS: dict[str, str] = {
    "granted": "三、本年度办理结果",
    "denied_state_secret": "（三）不予公开",
    "unavailable_not_held": "（四）无法提供",
    "rejected_petition": "（五）不予处理",
    "other_no_correction": "（六）其他处理",
}
NARRATIVE_LABELS: dict[str, str] = {
    "narrative.active_items": "主动公开信息（条）",
    "narrative.requests_received": "收到政府信息公开申请（件）",
    "narrative.trainings": "政务公开培训（次）",
    "narrative.fee_yuan": "收取信息处理费（元）",
}

_PAGE_NOTE = re.compile(r"\bpage\s*(\d+)\b|第\s*(\d+)\s*页", re.IGNORECASE)


def part2_column_label(key: str, template: TemplateName) -> str:
    if template == "2019" and key in ("active.licensing", "active.punishment", "active.coercion"):
        return PART2_COLUMN_LABELS["decisions"]
    return PART2_COLUMN_LABELS[key.rsplit(".", 1)[1]]


def row_label(row_key: str, template: TemplateName) -> str:
    for r in rows_for(template):
        if r.key == row_key:
            if template == "2019" and r.key == "other_other":
                return "（六）其他处理"
            return r.label
    raise KeyError(row_key)


def key_label(key: str, template: TemplateName) -> str:
    """The key in the template's words: row · column."""
    parts = key.split(".")
    if parts[0] in ("active", "t2019"):
        for item in PART2[template]:
            if key in item.keys:
                return f"{item.label} · {part2_column_label(key, template)}"
    if parts[0] == "requests" and len(parts) == 3:
        return f"{row_label(parts[1], template)} · {COLUMN_LABELS[parts[2]]}"
    if parts[0] == "review" and len(parts) == 3:
        return f"{REVIEW_GROUP_LABELS[parts[1]]} · {REVIEW_OUTCOME_LABELS[parts[2]]}"
    return NARRATIVE_LABELS.get(key, key)


def page_of(prov: Provenance | None) -> int | None:
    """The page a value was read on, when its provenance says (a ``page`` field, or a note "page 3" / "第3页")."""
    if prov is None:
        return None
    page = getattr(prov, "page", None)
    if isinstance(page, int) and not isinstance(page, bool) and page > 0:
        return page
    for note in prov.notes or ():
        m = _PAGE_NOTE.search(note)
        if m:
            return int(m.group(1) or m.group(2))
    return None


def format_value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


@dataclass
class KeyView:
    key: str
    label: str
    value: Any
    prov: Provenance | None
    rules: list[int] = field(default_factory=list)  # indexes into View.rules
    diags: list[int] = field(default_factory=list)  # indexes into report.diagnostics
    candidates: list[Any] = field(default_factory=list)  # this key's values among the ambiguous readings
    states: list[str] = field(default_factory=list)  # keys of STATE_ICONS, plus "null" / "noted"
    page: int | None = None

    @property
    def method(self) -> str | None:
        return self.prov.method if self.prov is not None else None

    @property
    def span(self) -> tuple[int, int] | None:
        p = self.prov
        if p is None or p.start is None or p.end is None:
            return None
        return (p.start, p.end)

    def classes(self) -> list[str]:
        out = [f"m-{self.method.replace('+', '-')}"] if self.method else ["m-none"]
        return out + self.states

    def badge(self) -> str:
        """The letter of the method and the icons of the states (the non-colour signal)."""
        letter = METHOD_LETTERS.get(self.method or "", "")
        icons = "".join(STATE_ICONS[s] for s in STATE_ICONS if s in self.states)
        return letter + icons

    def source_badge(self) -> str:
        """In the source text the parser's letter is left out (most values; the text stays readable)."""
        letter = "" if self.method in (None, "parser") else METHOD_LETTERS.get(self.method, "")
        return letter + "".join(STATE_ICONS[s] for s in STATE_ICONS if s in self.states)


@dataclass
class View:
    report: Report
    text: str
    template: TemplateName
    keys: dict[str, KeyView]  # every flat key but meta.*, in output order
    rules: list[RuleResult]  # the report's verdicts, then any computed outside it (R6 across a folder)
    failed_rules: list[int]
    ambiguous: list[str]

    @property
    def found(self) -> int:
        return sum(1 for kv in self.keys.values() if kv.value is not None)

    @property
    def expected(self) -> int:
        return len(self.keys)

    @property
    def wrong_rule_keys(self) -> list[str]:
        return [k for k, kv in self.keys.items() if "failed" in kv.states]


def _candidate_value(cand: Any, key: str) -> Any:
    """A diagnostic's candidate is a whole reading ({key: value, …}) or one value for its single key."""
    if isinstance(cand, dict):
        return cand.get(key)
    return cand


def build_view(report: Report, text: str, extra_rules: Sequence[RuleResult] = ()) -> View:
    """``extra_rules``: verdicts computed outside the report (R6, from last year's report in the same folder);
    their keys must be this report's keys."""
    template = report.template
    rules = list(report.rules) + list(extra_rules)
    flat = report.to_flat()
    keys: dict[str, KeyView] = {}
    for k in flat_keys(template):
        if k.startswith("meta."):
            continue
        prov = report.provenance.get(k)
        keys[k] = KeyView(k, key_label(k, template), flat.get(k), prov, page=page_of(prov))
    failed: list[int] = []
    for i, rule in enumerate(rules):
        for k in rule.keys:
            if k in keys:
                keys[k].rules.append(i)
                if rule.status == "failed":
                    if "failed" not in keys[k].states:
                        keys[k].states.append("failed")
        if rule.status == "failed":
            failed.append(i)
    ambiguous: list[str] = []
    for i, d in enumerate(report.diagnostics):
        for k in d.keys:
            kv = keys.get(k)
            if kv is None:
                continue
            kv.diags.append(i)
            if d.kind == "ambiguous":
                if "ambiguous" not in kv.states:
                    kv.states.append("ambiguous")
                    ambiguous.append(k)
                for c in d.candidates:
                    v = _candidate_value(c, k)
                    if v not in kv.candidates:
                        kv.candidates.append(v)
            elif kv.value is None and "flagged" not in kv.states:
                kv.states.append("flagged")
    for kv in keys.values():
        if "ambiguous" in kv.states and "flagged" in kv.states:
            kv.states.remove("flagged")
        if kv.prov is not None and kv.prov.approx:
            kv.states.append("approx")
        if kv.value is None:
            kv.states.append("null")
        elif kv.diags:
            kv.states.append("noted")
    return View(report, text, template, keys, rules, failed, ambiguous)


__all__ = ["View", "KeyView", "build_view", "key_label", "page_of", "format_value", "METHOD_LETTERS",
           "STATE_ICONS", "NARRATIVE_KEYS"]
