"""Eval reports for people: rich tables on the terminal and report.md.

Both lead with the real cases (reports as agencies published them), and put
the wrong numbers right after accuracy: a wrong number (a value printed that is
not the gold's) is the worst outcome; a ``null`` where the gold has a number is
a miss, counted apart.
"""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console
from rich.table import Table

from .runner import PARTS, REAL
from .scoring import KINDS, MISSED, MISSING_KEY, WRONG_NUMBER, kind_of

_COLS = ("accuracy", "wrong numbers", "missed (null)", "ambiguous flagged", "exact", "part 2", "part 3", "part 4",
         "narrative", "rules", "broken found", "ungrounded", "missing keys", "errors", "LLM calls", "cache hits",
         "tokens in/out", "s/report")
# the per-tag and per-case tables
_TAG_COLS = ("accuracy", "wrong", "missed", "ambig.", "exact", "broken found", "ungrounded", "errors", "s/report")
_CASE_COLS = ("accuracy", "wrong", "missed", "ambig.", "exact", "error")


def _pct(x: float) -> str:
    return f"{x * 100:.2f}%"


def _part(s: dict[str, Any], p: str) -> str:
    b = s["by_part"].get(p)
    if not b:
        return "-"
    return (f"{_pct(b['accuracy'])} ({b['correct']}/{b['values']}), "
            f"{b.get('wrong_numbers', 0)} wrong, {b.get('missed', 0)} missed")


def _row(s: dict[str, Any]) -> list[str]:
    return [
        _pct(s["accuracy"]) + f" ({s['correct']}/{s['values']})",
        str(s.get("wrong_numbers", 0)),
        str(s.get("missed", 0)),
        str(s.get("ambiguous_flagged", 0)),
        f"{s['exact_reports']}/{s['reports']}",
        *(_part(s, p) for p in PARTS),
        _pct(s["rule_agreement"]),
        f"{s['broken_rules_reported']}/{s['broken_rules_total']}",
        str(s["ungrounded"]),
        str(s.get("missing_keys", 0)),
        str(s["errors"]),
        str(s["llm_calls"]),
        str(s["cache_hits"]),
        f"{s['prompt_tokens']}/{s['completion_tokens']}",
        f"{s['seconds_per_report']:.3f}",
    ]


def _tag_row(s: dict[str, Any]) -> list[str]:
    return [
        _pct(s["accuracy"]) + f" ({s['correct']}/{s['values']})",
        str(s.get("wrong_numbers", 0)),
        str(s.get("missed", 0)),
        str(s.get("ambiguous_flagged", 0)),
        f"{s['exact_reports']}/{s['reports']}",
        f"{s['broken_rules_reported']}/{s['broken_rules_total']}",
        str(s["ungrounded"]),
        str(s["errors"]),
        f"{s['seconds_per_report']:.3f}",
    ]


def _case_row(rec: dict[str, Any]) -> list[str]:
    wrong = [kind_of(w) for w in rec["wrong"]]
    acc = rec["correct"] / rec["total"] if rec["total"] else 0.0
    return [
        _pct(acc) + f" ({rec['correct']}/{rec['total']})",
        str(wrong.count(WRONG_NUMBER)),
        str(wrong.count(MISSED)),
        str(rec.get("ambiguous_flagged", 0)),
        "yes" if rec["total"] and rec["correct"] == rec["total"] else "no",
        _short_error(rec["error"]),
    ]


def _short_error(error: str | None, width: int = 90) -> str:
    """The error without the case's file path (the row names the case), cut to ``width``."""
    if not error:
        return ""
    error = re.sub(r"(?<=: )\S+\.\w+: ", "", error, count=1)
    return error if len(error) <= width else error[: width - 1] + "…"


def overall_columns(report: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(column title, summary): per mode, the real cases first, then all cases when they differ."""
    cols = []
    for mode, data in report["modes"].items():
        real = data.get(REAL)
        if real and real["reports"] < data["overall"]["reports"]:
            cols += [(f"real · {mode}", real), (f"all · {mode}", data["overall"])]
        elif real:
            cols.append((f"real · {mode}", real))
        else:
            cols.append((mode, data["overall"]))
    return cols


def _tag_rows(report: dict[str, Any]) -> list[tuple[bool, str, str, dict[str, Any]]]:
    """(real tag?, tag, mode, summary), the real cases' tags first."""
    rows = []
    for mode, data in report["modes"].items():
        real_tags = set(data.get("real_tags", []))
        for tag, s in data["by_tag"].items():
            rows.append((tag in real_tags, tag, mode, s))
    rows.sort(key=lambda r: not r[0])  # stable: keeps each mode's tag order
    return rows


def _real_cases(report: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(cid, mode, rec) for mode, data in report["modes"].items()
            for cid, rec in data["cases"].items() if rec.get("real")]


def terminal(report: dict[str, Any], console: Console) -> None:
    modes = report["modes"]
    several = len(modes) > 1
    real_cases = _real_cases(report)
    if real_cases:
        t = Table(title=f"real cases · {len({c for c, _, _ in real_cases})}")
        t.add_column("case", no_wrap=True)
        t.add_column("tag", no_wrap=True)
        if several:
            t.add_column("mode")
        for c in _CASE_COLS:
            t.add_column(c, justify="right" if c != "error" else "left")
        for cid, mode, rec in real_cases:
            t.add_row(cid, rec["tag"], *([mode] if several else []), *_case_row(rec))
        console.print(t)
    # metrics as rows, modes as columns: the modes compare side by side
    cols = overall_columns(report)
    table = Table(title=f"gkllm eval · {report['cases']} cases · {report.get('model') or 'no model'}")
    table.add_column("")
    for title, _ in cols:
        table.add_column(title, justify="right")
    rows = [_row(s) for _, s in cols]
    for i, name in enumerate(_COLS):
        table.add_row(name, *(r[i] for r in rows))
    console.print(table)
    tags = Table(title="by layout / format (real cases' tags first)")
    tags.add_column("tag", no_wrap=True)
    if several:
        tags.add_column("mode")
    for c in _TAG_COLS:
        tags.add_column(c, justify="right")
    previous_real = None
    for real, tag, mode, s in _tag_rows(report):
        if previous_real is not None and real != previous_real:
            tags.add_section()
        previous_real = real
        tags.add_row(("real · " if real else "") + tag, *([mode] if several else []), *_tag_row(s))
    console.print(tags)


def _md_table(head: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head), *("| " + " | ".join(r) + " |" for r in rows)]


def markdown(report: dict[str, Any], regressions: list[dict[str, Any]] | None = None, limit: int = 50) -> str:
    lines = [
        f"# gkllm eval — {report['date']}",
        "",
        f"gkllm {report['gkllm_version']} · {report['cases']} cases · cases dir `{report.get('cases_dir', '')}` · "
        f"model: {report.get('model') or 'none'}",
        "",
        "A *wrong number* is a value printed that is not the gold's (the worst outcome); *missed* is a null "
        "where the gold has a number; *ambiguous flagged* values were left null with the gold among the "
        "report's own candidates and count as right.",
        "",
    ]
    for note in report.get("notes", []):
        lines.append(f"> {note}")
    modes = report["modes"]
    several = len(modes) > 1
    real_cases = _real_cases(report)
    if real_cases:
        lines += ["", "## Real cases", ""]
        real_tag_rows = [r for r in _tag_rows(report) if r[0]]
        lines += _md_table(["tag", *(["mode"] if several else []), *_TAG_COLS],
                           [[tag, *([mode] if several else []), *_tag_row(s)] for _, tag, mode, s in real_tag_rows])
        lines += [""]
        lines += _md_table(["case", "tag", *(["mode"] if several else []), *_CASE_COLS],
                           [[f"`{cid}`", rec["tag"], *([mode] if several else []), *_case_row(rec)]
                            for cid, mode, rec in real_cases])
    cols = overall_columns(report)
    rows = [_row(s) for _, s in cols]
    lines += ["", "## Overall", ""]
    lines += _md_table(["", *(t for t, _ in cols)], [[name, *(r[i] for r in rows)] for i, name in enumerate(_COLS)])
    lines += ["", "## By layout / format", ""]
    lines += _md_table(["tag", *(["mode"] if several else []), *_TAG_COLS],
                       [[("real · " if real else "") + tag, *([mode] if several else []), *_tag_row(s)]
                        for real, tag, mode, s in _tag_rows(report)])
    titles = {WRONG_NUMBER: "Wrong numbers", MISSED: "Missed (null where the gold has a number)",
              MISSING_KEY: "Keys missing from the prediction (gold null)"}
    for mode, data in modes.items():
        # the records are in run order: real cases first
        found = [(cid, w) for cid, rec in data["cases"].items() for w in rec["wrong"]]
        for kind in KINDS:
            of_kind = [(cid, w) for cid, w in found if kind_of(w) == kind]
            if not of_kind:
                continue
            lines += ["", f"## {titles[kind]} · {mode} ({len(of_kind)}; first {min(limit, len(of_kind))})", ""]
            for cid, w in of_kind[:limit]:
                lines.append(f"- `{cid}` `{w['key']}`: gold {w['gold']!r}, got {w['got']!r}"
                             + (" (missing)" if w.get("missing") else ""))
        errors = [(cid, rec["error"]) for cid, rec in data["cases"].items() if rec["error"]]
        if errors:
            lines += ["", f"## Errors · {mode} ({len(errors)})", ""]
            for cid, e in errors[:limit]:
                lines.append(f"- `{cid}`: error {e}")
    if regressions is not None:
        lines += ["", f"## Regressions against the baseline: {len(regressions)}", ""]
        for r in regressions[:limit]:
            lines.append(f"- {r['mode']} `{r['case']}` `{r['key']}` ({kind_of(r)}): "
                         f"gold {r['gold']!r}, got {r['got']!r}")
    return "\n".join(lines) + "\n"
