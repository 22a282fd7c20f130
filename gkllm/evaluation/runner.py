"""Run extraction modes over cases and aggregate the scores."""

from __future__ import annotations

import datetime as _dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from .. import __version__
from ..grounding import provenance_grounded
from ..pipeline import Mode, extract_document, load
from ..template import part_of
from .cases import Case
from .scoring import KINDS, MISSED, WRONG_NUMBER, CaseScore, credit_ambiguous, kind_of, score_rules, score_values

PARTS = ("2", "3", "4", "narrative")
REAL = "real"  # the key of the real cases' summary in a mode's results


@dataclass
class Agg:
    values: int = 0
    correct: int = 0
    wrong_numbers: int = 0
    missed: int = 0
    missing_keys: int = 0
    reports: int = 0
    exact_reports: int = 0
    errors: int = 0
    ungrounded: int = 0
    rules_agree: int = 0
    rules_total: int = 0
    broken_reported: int = 0
    broken_total: int = 0
    ambiguous_flagged: int = 0
    llm_calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    parts: dict[str, list[int]] = field(default_factory=dict)  # part -> [correct, values, wrong numbers, missed]

    def add(self, rec: dict[str, Any]) -> None:
        self.reports += 1
        self.values += rec["total"]
        self.correct += rec["correct"]
        for w in rec["wrong"]:
            kind = kind_of(w)
            if kind == WRONG_NUMBER:
                self.wrong_numbers += 1
            elif kind == MISSED:
                self.missed += 1
            else:
                self.missing_keys += 1
            if kind in (WRONG_NUMBER, MISSED):
                self.parts.setdefault(part_of(w["key"]), [0, 0, 0, 0])[2 if kind == WRONG_NUMBER else 3] += 1
        self.exact_reports += int(rec["total"] > 0 and rec["correct"] == rec["total"])
        self.errors += int(rec["error"] is not None)
        self.ungrounded += len(rec["ungrounded"])
        self.rules_agree += rec["rules_agree"]
        self.rules_total += rec["rules_total"]
        self.broken_reported += rec["broken_reported"]
        self.broken_total += rec["broken_total"]
        self.ambiguous_flagged += rec.get("ambiguous_flagged", 0)
        for k in ("llm_calls", "cache_hits", "prompt_tokens", "completion_tokens"):
            setattr(self, k, getattr(self, k) + rec["llm"].get(k, 0))
        self.seconds += rec["seconds"]
        for part, (c, t) in rec["by_part"].items():
            cell = self.parts.setdefault(part, [0, 0, 0, 0])
            cell[0] += c
            cell[1] += t

    def summary(self) -> dict[str, Any]:
        return {
            "reports": self.reports,
            "values": self.values,
            "correct": self.correct,
            "accuracy": self.correct / self.values if self.values else 0.0,
            "wrong_numbers": self.wrong_numbers,
            "missed": self.missed,
            "missing_keys": self.missing_keys,
            "exact_reports": self.exact_reports,
            "exact_share": self.exact_reports / self.reports if self.reports else 0.0,
            "errors": self.errors,
            "ungrounded": self.ungrounded,
            "rule_agreement": self.rules_agree / self.rules_total if self.rules_total else 0.0,
            "broken_rules_reported": self.broken_reported,
            "broken_rules_total": self.broken_total,
            "ambiguous_flagged": self.ambiguous_flagged,
            "llm_calls": self.llm_calls,
            "cache_hits": self.cache_hits,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "seconds_per_report": self.seconds / self.reports if self.reports else 0.0,
            "by_part": {p: {"correct": c, "values": t, "accuracy": c / t if t else 0.0, "wrong_numbers": wn,
                            "missed": m} for p, (c, t, wn, m) in sorted(self.parts.items())},
        }


def run_case(case: Case, mode: Mode, extractor: Callable[..., Any] | None = None) -> dict[str, Any]:
    """Extract one case in one mode and score it; never raises."""
    t0 = time.perf_counter()
    error = None
    llm: dict[str, Any] = {}
    ungrounded: list[str] = []
    try:
        doc = load(case.path)
        report = (extractor or extract_document)(doc, mode=mode)
        pred = report.to_flat()
        s = score_values(pred, case.gold)
        credit_ambiguous(s, case.ambiguous_keys, report.diagnostics)
        score_rules(s, report.rules, case.gold)
        for key, value in pred.items():
            if key.startswith("meta.") or value is None:
                continue
            if not provenance_grounded(value, report.provenance.get(key), doc.text):
                ungrounded.append(key)
        if report.meta.llm is not None:
            m = report.meta.llm
            llm = {"llm_calls": m.calls, "cache_hits": m.cache_hits, "prompt_tokens": m.prompt_tokens,
                   "completion_tokens": m.completion_tokens}
    except Exception as err:  # a case that fails scores zero, the run goes on
        error = f"{type(err).__name__}: {err}"
        s = score_values({}, case.gold)
        score_rules(s, [], case.gold)
    return _record(case, s, error, llm, ungrounded, time.perf_counter() - t0)


def _record(case: Case, s: CaseScore, error: str | None, llm: dict[str, Any], ungrounded: list[str],
            seconds: float) -> dict[str, Any]:
    return {
        "tag": case.tag,
        "real": case.real,
        "total": s.total,
        "correct": s.correct,
        "exact": s.exact,
        "wrong_numbers": s.wrong_numbers,
        "missed": s.missed,
        "missing_keys": s.missing_keys,
        # wrong numbers first: they are what a reader of the report must see
        "wrong": sorted(s.wrong, key=lambda w: KINDS.index(w["kind"])),
        "by_part": s.by_part,
        "rules_agree": s.rules_agree,
        "rules_total": s.rules_total,
        "broken_reported": s.broken_rules_reported,
        "broken_total": s.broken_rules_total,
        "ambiguous_flagged": s.ambiguous_flagged,
        "ungrounded": ungrounded,
        "llm": llm,
        "error": error,
        "seconds": round(seconds, 4),
    }


def run(cases: Iterable[Case], modes: Sequence[Mode], *, progress: Callable[[str, Case], None] | None = None,
        extractor: Callable[..., Any] | None = None, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    cases = list(cases)
    out: dict[str, Any] = {
        "gkllm_version": __version__,
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "cases": len(cases),
        **(meta or {}),
        "modes": {},
    }
    # the real cases lead: their records, and their tags, come first
    cases.sort(key=lambda c: not c.real)
    for mode in modes:
        overall, real = Agg(), Agg()
        tags: dict[str, Agg] = {}
        real_tags: set[str] = set()
        records = {}
        for case in cases:
            if progress:
                progress(mode, case)
            rec = run_case(case, mode, extractor)
            records[case.id] = rec
            overall.add(rec)
            if case.real:
                real.add(rec)
                real_tags.add(case.tag)
            tags.setdefault(case.tag, Agg()).add(rec)
        out["modes"][mode] = {
            "overall": overall.summary(),
            REAL: real.summary() if real.reports else None,
            "by_tag": {t: tags[t].summary() for t in sorted(tags, key=lambda t: (t not in real_tags, t))},
            "real_tags": sorted(real_tags),
            "cases": records,
        }
    return out


def regressions(current: dict[str, Any], baseline: dict[str, Any]) -> list[dict[str, Any]]:
    """Every value right in the baseline and not right now (same mode, same case), with its kind:
    ``wrong_number`` (right → wrong), ``missed`` (right → null) or ``missing_key``."""
    found = []
    for mode, now in current["modes"].items():
        before = baseline.get("modes", {}).get(mode)
        if not before:
            continue
        for cid, rec in now["cases"].items():
            old = before["cases"].get(cid)
            if old is None:
                continue
            was_wrong = {w["key"] for w in old["wrong"]}
            for w in rec["wrong"]:
                if w["key"] not in was_wrong:
                    found.append({"mode": mode, "case": cid, **w, "kind": kind_of(w)})
    return found


def default_cases_dir() -> Path:
    """``eval/cases`` of a source checkout (the harness ships no cases of its own)."""
    here = Path(__file__).resolve().parents[2] / "eval" / "cases"
    return here if here.is_dir() else Path("eval/cases")
