"""The report page: one self-contained HTML file (CSS and JS inline, no network).

Everything taken from the report (its text, its file name, the agency, the
messages that quote it) is escaped: the page is built from strings, every
one of them through ``esc``; the data the script reads sits in a JSON block
with ``<``, ``>`` and ``&`` escaped, and the script writes it with
``textContent`` only. A Content-Security-Policy meta tag allows the page's own
style and script (by hash) and nothing else: no request leaves the page.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import lru_cache
from importlib import resources
from typing import Any, Sequence

from .. import __version__
from ..models import Report, RuleResult
from .model import METHOD_LETTERS, METHOD_NAMES, STATE_ICONS, STATE_NAMES, View, build_view, format_value
from .source import clean, esc, render_source
from .tables import render_tables

RULE_TITLES: dict[str, str] = {
    "R1": "新收 + 结转 = 办理结果总计 + 结转下年 (per column)",
    "R2": "办理结果总计 = sum of the result rows (per column)",
    "R3": "总计 = sum of the six applicant columns (per row)",
    "R4": "总计 = 维持 + 纠正 + 其他 + 尚未审结 (per group)",
    "R5": "prose's requests received = 本年新收 总计 (or + 上年结转); soft: prose against the table",
    "R6": "last year's 结转下年度 = this year's 上年结转 (across years)",
    "NONNEG": "counts are not negative",
}


@lru_cache(maxsize=None)
def asset(name: str) -> str:
    return resources.files("gkllm.show").joinpath("static", name).read_text(encoding="utf-8")


def csp_hash(content: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(content.encode("utf-8")).digest()).decode() + "'"


def page_csp() -> str:
    """The policy of a report page: its own style and script, no network, no forms, no base."""
    return (f"default-src 'none'; style-src {csp_hash(asset('show.css'))}; "
            f"script-src {csp_hash(asset('show.js'))}; img-src data:; base-uri 'none'; form-action 'none'")


def json_for_script(data: Any) -> str:
    """JSON that can sit inside <script type="application/json">: no '<', '>' or '&' (so no '</script>'),
    ASCII only (so a lone surrogate from a broken file name stays an escape, not an encoding error)."""
    s = json.dumps(data, ensure_ascii=True, separators=(",", ":"), allow_nan=False, default=str)
    return s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _num(v: float | None) -> str:
    return "—" if v is None else format_value(v)


def _key_link(key: str) -> str:
    k = esc(key)
    return f'<a class="goto" href="#cell-{k}" data-goto="{k}">{k}</a>'


def _rules_section(view: View) -> str:
    rules = view.rules
    ids = ["R1", "R2", "R3", "R4", "R5", "R6"] + sorted({r.id for r in rules} - {"R1", "R2", "R3", "R4", "R5", "R6"})
    rows = []
    for rid in ids:
        mine = [r for r in rules if r.id == rid]
        counts = {s: sum(1 for r in mine if r.status == s) for s in ("passed", "failed", "not_assessable")}
        title = esc(RULE_TITLES.get(rid, ""))
        if not mine:
            verdict = ('<td colspan="3" class="na">not evaluated</td>'
                       f'<td class="rt" title="{title}">needs last year\'s report of the same agency</td>'
                       if rid == "R6"
                       else f'<td colspan="3" class="na">—</td><td class="rt" title="{title}">{title}</td>')
        else:
            verdict = (f'<td class="{"bad" if counts["failed"] else "ok"}">✗ {counts["failed"]}</td>'
                       f'<td>✓ {counts["passed"]}</td><td>∅ {counts["not_assessable"]}</td>'
                       f'<td class="rt" title="{title}">{title}</td>')
        cls = ' class="has-failed"' if counts["failed"] else ""
        rows.append(f'<tr{cls}><th scope="row" title="{title}">{esc(rid)}</th>{verdict}</tr>')
    failed = [r for r in rules if r.status == "failed"]
    fl = []
    for r in failed:
        keys = " ".join(_key_link(k) for k in r.keys)
        fl.append(f'<li class="failed-rule"><span class="icon" aria-hidden="true">✗</span> <b>{esc(r.id)}</b> '
                  f"<code>{esc(r.scope)}</code>: {_num(r.lhs)} ≠ {_num(r.rhs)}"
                  f'<div class="detail">{esc(r.detail or "")}</div><div class="keys">{keys}</div></li>')
    every = "".join(
        f'<tr class="st-{esc(r.status)}"><td>{esc(r.id)}</td><td><code>{esc(r.scope)}</code></td>'
        f'<td>{"✓ passed" if r.status == "passed" else "✗ failed" if r.status == "failed" else "∅ not assessable"}</td>'
        f"<td>{_num(r.lhs)}</td><td>{_num(r.rhs)}</td><td>{esc(r.detail or '')}</td></tr>"
        for r in rules)
    return (f'<section id="rules" aria-labelledby="h-rules"><h2 id="h-rules">Rules (勾稽关系)</h2>'
            f'<table class="rules-sum"><thead><tr><th scope="col">rule</th><th scope="col">failed</th>'
            f'<th scope="col">passed</th><th scope="col">not assessable</th><th scope="col">what it checks</th>'
            f'</tr></thead><tbody>{"".join(rows)}</tbody></table>'
            + (f'<ul class="failed-list">{"".join(fl)}</ul>' if fl else '<p class="allgood">No rule fails.</p>')
            + f'<details><summary>Every verdict ({len(rules)})</summary><table class="verdicts"><thead><tr>'
              f"<th>rule</th><th>scope</th><th>verdict</th><th>lhs</th><th>rhs</th><th>detail</th></tr></thead>"
              f"<tbody>{every}</tbody></table></details></section>")


def _cand_text(c: Any) -> str:
    if isinstance(c, dict):
        return ", ".join(f"{k.rsplit('.', 1)[-1]}={format_value(v)}" for k, v in c.items())
    return format_value(c)


def _notes_section(view: View) -> str:
    rep = view.report
    out = []
    w = rep.warnings
    out.append(f'<section id="warnings" aria-labelledby="h-warn"><h2 id="h-warn">Warnings ({len(w)})</h2>'
               + (f'<ul class="msgs">{"".join(f"<li>{esc(x)}</li>" for x in w)}</ul>' if w else "<p>None.</p>")
               + "</section>")
    items = []
    for i, d in enumerate(rep.diagnostics):
        keys = " ".join(_key_link(k) for k in d.keys)
        cands = ""
        if d.candidates:
            cands = ('<ol class="cands">' + "".join(f"<li>{esc(_cand_text(c))}</li>" for c in d.candidates)
                     + "</ol>")
        items.append(f'<li class="diag kind-{esc(d.kind)}" id="diag-{i}"><b>{esc(d.kind)}</b>: {esc(d.message)}'
                     f'<div class="keys">{keys}</div>{cands}</li>')
    out.append(f'<section id="diagnostics" aria-labelledby="h-diag"><h2 id="h-diag">Diagnostics '
               f"({len(rep.diagnostics)})</h2>"
               + (f'<ul class="msgs">{"".join(items)}</ul>' if items else "<p>None.</p>") + "</section>")
    return "".join(out)


def _legend() -> str:
    methods = "".join(f'<li><span class="sw m-{m.replace("+", "-")}">{esc(METHOD_LETTERS[m])}</span> '
                      f"{esc(METHOD_NAMES[m])}</li>" for m in METHOD_LETTERS)
    states = "".join(f'<li><span class="sw {s}">{esc(STATE_ICONS[s])}</span> {esc(STATE_NAMES[s])}</li>'
                     for s in STATE_ICONS)
    return (f'<details class="legend"><summary>Legend</summary><ul>{methods}{states}'
            '<li><span class="sw null">—</span> not found or printed blank (null)</li></ul>'
            "<p>Click a cell to see its number in the source, or a number in the source to find its cell. "
            "Arrow keys move between cells, Enter shows the source, Esc closes the details.</p></details>")


def _meta(view: View) -> str:
    m = view.report.meta
    llm = m.llm
    items = [("format", m.format), ("template", m.template), ("encoding", m.encoding), ("mode", m.mode),
             ("gkllm", m.gkllm_version or __version__),
             ("LLM calls", f"{llm.calls} ({llm.cache_hits} cached, {llm.model or '?'})" if llm else "0")]
    return '<dl class="meta">' + "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v if v is not None else '—')}</dd></div>"
                                         for k, v in items) + "</dl>"


def _data(view: View) -> dict[str, Any]:
    keys = {}
    for k, kv in view.keys.items():
        p = kv.prov
        keys[k] = {
            "l": kv.label, "v": format_value(kv.value), "m": kv.method, "ln": p.line if p else None, "p": kv.page,
            "t": clean(p.text)[:300] if p and p.text else None, "n": [clean(n) for n in p.notes] if p else [],
            "r": kv.rules, "d": kv.diags, "c": [format_value(c) for c in kv.candidates], "s": kv.states,
        }
    rules = [[r.id, r.scope, r.status, r.lhs, r.rhs, clean(r.detail or "")] for r in view.rules]
    diags = [[d.kind, clean(d.message)] for d in view.report.diagnostics]
    return {"keys": keys, "rules": rules, "diags": diags, "methods": METHOD_NAMES, "letters": METHOD_LETTERS,
            "icons": STATE_ICONS, "stateNames": STATE_NAMES}


def render_view(view: View, *, back: str | None = None) -> str:
    """The page for one report; ``back``: a relative link to the folder's index."""
    rep = view.report
    m = rep.meta
    failed = len(view.failed_rules)
    title_agency = m.agency or "(agency not found)"
    source_name = m.source or "<text>"
    chips = [
        ("values", f"{view.found} / {view.expected} values found", ""),
        ("failed", f"{failed} rule(s) failed", "bad" if failed else "ok"),
        ("ambiguous", f"{len(view.ambiguous)} ambiguous key(s)", "warn" if view.ambiguous else "ok"),
        ("warnings", f"{len(rep.warnings)} warning(s)", "warn" if rep.warnings else "ok"),
        ("diagnostics", f"{len(rep.diagnostics)} diagnostic(s)", "warn" if rep.diagnostics else "ok"),
    ]
    chip_html = "".join(f'<li class="chip {c}" data-chip="{n}">{esc(t)}</li>' for n, t, c in chips)
    nav = f'<a class="back" href="{esc(back)}">← all reports</a>' if back else ""
    css, js = asset("show.css"), asset("show.js")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{page_csp()}">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{esc(title_agency)} {esc(m.year or '')} · {esc(source_name)} · gkllm show</title>"
        f"<style>{css}</style></head><body>"
        '<a class="skip" href="#tables">Skip to the tables</a>'
        f'<header id="top">{nav}<h1>{esc(title_agency)} <span class="year">{esc(m.year or "year ?")}</span></h1>'
        f'<p class="file" title="{esc(source_name)}">{esc(source_name)}</p>'
        f'<ul class="chips">{chip_html}</ul>{_meta(view)}{_legend()}</header>'
        f'<div class="summary">{_rules_section(view)}{_notes_section(view)}</div>'
        '<main class="panes">'
        '<section class="pane" aria-labelledby="h-src"><h2 id="h-src">Source <small>(normalized text)</small></h2>'
        f'<pre id="source" tabindex="0" aria-labelledby="h-src">{render_source(view)}</pre></section>'
        '<section class="pane" aria-labelledby="h-tab"><h2 id="h-tab">Tables <small>(the template\'s parts 2–4)'
        f'</small></h2><div id="tables" tabindex="-1">{render_tables(view)}</div></section>'
        "</main>"
        '<div id="gk-tip" role="tooltip" hidden></div><div id="gk-status" class="sr" aria-live="polite"></div>'
        f'<script type="application/json" id="gk-data">{json_for_script(_data(view))}</script>'
        f"<script>{js}</script></body></html>\n"
    )


def render_report(report: Report, text: str, *, extra_rules: Sequence[RuleResult] = (), back: str | None = None) -> str:
    """The page for ``report``, whose offsets point into ``text`` (the Document's normalized text)."""
    return render_view(build_view(report, text, extra_rules), back=back)
