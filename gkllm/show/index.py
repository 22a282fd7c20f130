"""The folder's ``index.html``: one row per report, sortable, linking to each page."""

from __future__ import annotations

from dataclasses import dataclass

from .. import __version__
from .model import View
from .page import asset, csp_hash
from .source import esc


@dataclass
class IndexRow:
    file: str
    href: str | None  # relative URL of the page; None when the report could not be read
    agency: str | None = None
    year: int | None = None
    format: str | None = None
    template: str | None = None
    found: int = 0
    expected: int = 0
    rules_failed: int = 0
    wrong_rule_keys: int = 0
    ambiguous_keys: int = 0
    llm_calls: int = 0
    warnings: int = 0
    error: str | None = None

    @classmethod
    def of(cls, file: str, href: str, view: View) -> "IndexRow":
        m = view.report.meta
        return cls(file=file, href=href, agency=m.agency, year=m.year, format=m.format, template=m.template,
                   found=view.found, expected=view.expected, rules_failed=len(view.failed_rules),
                   wrong_rule_keys=len(view.wrong_rule_keys), ambiguous_keys=len(view.ambiguous),
                   llm_calls=m.llm.calls if m.llm else 0, warnings=len(view.report.warnings))


COLUMNS = ("report", "agency", "year", "format", "template", "values found / expected", "rules failed",
           "wrong-rule keys", "ambiguous keys", "LLM calls", "warnings")


def _row(r: IndexRow) -> str:
    if r.href is None:
        return (f'<tr class="error"><td class="file" data-sort="{esc(r.file)}">{esc(r.file)}</td>'
                f'<td colspan="{len(COLUMNS) - 1}">error: {esc(r.error or "")}</td></tr>')
    cls = " ".join(c for c, on in (("bad", r.rules_failed), ("warn", r.ambiguous_keys)) if on)
    ratio = r.found / r.expected if r.expected else 0
    return (f'<tr class="{cls}"><td class="file" data-sort="{esc(r.file)}">'
            f'<a href="{esc(r.href)}">{esc(r.file)}</a></td>'
            f"<td class=\"agency\">{esc(r.agency or '—')}</td><td class=\"n\">{esc(r.year or '—')}</td>"
            f"<td>{esc(r.format or '')}</td>"
            f"<td>{esc(r.template or '')}</td>"
            f'<td class="n" data-sort="{ratio:.6f}">{r.found} / {r.expected}</td>'
            f'<td class="n failed">{r.rules_failed}</td><td class="n failed">{r.wrong_rule_keys}</td>'
            f'<td class="n amb">{r.ambiguous_keys}</td><td class="n">{r.llm_calls}</td>'
            f'<td class="n">{r.warnings}</td></tr>')


def render_index(rows: list[IndexRow], mode: str = "") -> str:
    css, js = asset("index.css"), asset("index.js")
    csp = (f"default-src 'none'; style-src {csp_hash(css)}; script-src {csp_hash(js)}; base-uri 'none'; "
           "form-action 'none'")
    head = "".join(f'<th scope="col"><button type="button">{esc(c)}</button></th>' for c in COLUMNS)
    errors = sum(1 for r in rows if r.href is None)
    failing = sum(1 for r in rows if r.rules_failed)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}"><meta name="referrer" content="no-referrer">'
        f"<title>gkllm show · {len(rows)} reports</title><style>{css}</style></head><body>"
        f"<h1>{len(rows)} reports</h1>"
        f"<p>{len(rows) - errors} shown, {errors} could not be read, {failing} with a failing rule · "
        f"mode {esc(mode)} · gkllm {esc(__version__)}. Click a column header to sort.</p>"
        f'<div class="wrap"><table id="reports"><thead><tr>{head}</tr></thead><tbody>'
        + "".join(_row(r) for r in rows)
        + f"</tbody></table></div><script>{js}</script></body></html>\n"
    )
