"""Eval reports for people: a rich table on the terminal and report.md."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from .runner import PARTS

_COLS = ("accuracy", "exact", "part 2", "part 3", "part 4", "narrative", "rules", "broken found",
         "ungrounded", "ambiguous flagged", "errors", "LLM calls", "cache hits", "tokens in/out", "s/report")


def _pct(x: float) -> str:
    return f"{x * 100:.2f}%"


def _row(s: dict[str, Any]) -> list[str]:
    parts = [
        _pct(s["by_part"][p]["accuracy"]) + f" ({s['by_part'][p]['correct']}/{s['by_part'][p]['values']})"
        if p in s["by_part"] else "-"
        for p in PARTS
    ]
    return [
        _pct(s["accuracy"]) + f" ({s['correct']}/{s['values']})",
        f"{s['exact_reports']}/{s['reports']}",
        *parts,
        _pct(s["rule_agreement"]),
        f"{s['broken_rules_reported']}/{s['broken_rules_total']}",
        str(s["ungrounded"]),
        str(s.get("ambiguous_flagged", 0)),
        str(s["errors"]),
        str(s["llm_calls"]),
        str(s["cache_hits"]),
        f"{s['prompt_tokens']}/{s['completion_tokens']}",
        f"{s['seconds_per_report']:.3f}",
    ]


def terminal(report: dict[str, Any], console: Console) -> None:
    modes = report["modes"]
    # metrics as rows, modes as columns: the modes compare side by side and it fits 80 columns
    table = Table(title=f"gkllm eval · {report['cases']} cases · {report.get('model') or 'no model'}")
    table.add_column("")
    for mode in modes:
        table.add_column(mode, justify="right")
    rows = [_row(data["overall"]) for data in modes.values()]
    for i, name in enumerate(_COLS):
        table.add_row(name, *(r[i] for r in rows))
    console.print(table)
    tags = Table(title="by layout / format")
    tags.add_column("tag")
    tags.add_column("mode")
    for c in ("accuracy", "exact", "broken found", "ungrounded", "errors", "s/report"):
        tags.add_column(c, justify="right")
    for mode, data in modes.items():
        for tag, s in data["by_tag"].items():
            r = _row(s)
            tags.add_row(tag, mode, _pct(s["accuracy"]), r[1], r[7], r[8], r[10], r[14])
    console.print(tags)


def markdown(report: dict[str, Any], regressions: list[dict[str, Any]] | None = None, limit: int = 50) -> str:
    lines = [
        f"# gkllm eval — {report['date']}",
        "",
        f"gkllm {report['gkllm_version']} · {report['cases']} cases · cases dir `{report.get('cases_dir', '')}` · "
        f"model: {report.get('model') or 'none'}",
        "",
    ]
    for note in report.get("notes", []):
        lines.append(f"> {note}")
    modes = report["modes"]
    rows = [_row(data["overall"]) for data in modes.values()]
    lines += ["", "| | " + " | ".join(modes) + " |", "|---" * (len(modes) + 1) + "|"]
    for i, name in enumerate(_COLS):
        lines.append(f"| {name} | " + " | ".join(r[i] for r in rows) + " |")
    lines += ["", "## By layout / format", "", "| tag | mode | accuracy | exact | broken found | ungrounded | errors | s/report |",
              "|---|---|---|---|---|---|---|---|"]
    for mode, data in report["modes"].items():
        for tag, s in data["by_tag"].items():
            r = _row(s)
            lines.append(f"| {tag} | {mode} | {r[0]} | {r[1]} | {r[7]} | {r[8]} | {r[10]} | {r[14]} |")
    for mode, data in report["modes"].items():
        wrong = [(cid, w) for cid, rec in data["cases"].items() for w in rec["wrong"]]
        errors = [(cid, rec["error"]) for cid, rec in data["cases"].items() if rec["error"]]
        if wrong or errors:
            lines += ["", f"## Wrong values · {mode} ({len(wrong)}; first {min(limit, len(wrong))})", ""]
            for cid, w in wrong[:limit]:
                lines.append(f"- `{cid}` `{w['key']}`: gold {w['gold']!r}, got {w['got']!r}" + (" (missing)" if w.get("missing") else ""))
            for cid, e in errors[:limit]:
                lines.append(f"- `{cid}`: error {e}")
    if regressions is not None:
        lines += ["", f"## Regressions against the baseline: {len(regressions)}", ""]
        for r in regressions[:limit]:
            lines.append(f"- {r['mode']} `{r['case']}` `{r['key']}`: gold {r['gold']!r}, got {r['got']!r}")
    return "\n".join(lines) + "\n"
