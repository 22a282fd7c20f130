"""The right pane: parts 2, 3 and 4 rebuilt as the template's tables, plus the prose counts.

Every key of the report's template gets one cell with ``data-key``; row and
column labels come from ``gkllm.template``. Cells carry their grid position
(``data-r``/``data-c`` within their table) for keyboard navigation.
"""

from __future__ import annotations

from itertools import groupby

from ..template import (
    APPLICANT_COLUMNS,
    COLUMN_LABELS,
    COLUMNS,
    NARRATIVE_KEYS,
    PART2,
    PART3_HEADER_LABELS,
    REVIEW_GROUP_LABELS,
    REVIEW_GROUPS,
    REVIEW_OUTCOME_LABELS,
    REVIEW_OUTCOMES,
    rows_for,
)
from .model import NARRATIVE_LABELS, PART3_HEADINGS, KeyView, View, format_value, part2_column_label, row_label
from .source import esc


def _cell(kv: KeyView, table: str, r: int, c: int) -> str:
    cls = " ".join(["cell", *kv.classes()])
    attrs = (f'class="{cls}" data-key="{esc(kv.key)}" id="cell-{esc(kv.key)}" data-t="{table}" data-r="{r}" '
             f'data-c="{c}" tabindex="-1" role="gridcell" aria-selected="false"')
    if kv.candidates:
        attrs += f' data-candidates="{esc(" | ".join(format_value(c) for c in kv.candidates))}"'
    if kv.page is not None:
        attrs += f' data-page="{kv.page}"'
    inner = f'<span class="val">{esc(format_value(kv.value))}</span>'
    if kv.candidates:
        inner += f'<span class="cands">{esc(" / ".join(format_value(c) for c in kv.candidates))}</span>'
    badge = kv.badge()
    if badge:
        inner += f'<span class="badge">{esc(badge)}</span>'
    if kv.page is not None:
        inner += f'<span class="page">p.{kv.page}</span>'
    return f"<td {attrs}>{inner}</td>"


def _table(tid: str, caption: str, head: str, body: str) -> str:
    return (f'<table class="grid" id="{tid}" role="grid" aria-label="{esc(caption)}">'
            f"<caption>{esc(caption)}</caption><thead>{head}</thead><tbody>{body}</tbody></table>")


def part2_table(view: View) -> str:
    t = view.template
    items = PART2[t]
    body: list[str] = []
    r = 0
    widest = max(len(i.keys) for i in items)
    for cols, group in groupby(items, key=lambda i: tuple(part2_column_label(k, t) for k in i.keys)):
        body.append('<tr class="subhead"><th scope="col">信息内容</th>'
                    + "".join(f'<th scope="col">{esc(c)}</th>' for c in cols)
                    + "".join("<td></td>" for _ in range(widest - len(cols))) + "</tr>")
        for item in group:
            cells = "".join(_cell(view.keys[k], "t2", r, c) for c, k in enumerate(item.keys))
            pad = "".join('<td class="pad"></td>' for _ in range(widest - len(item.keys)))
            body.append(f'<tr><th scope="row">{esc(item.label)}</th>{cells}{pad}</tr>')
            r += 1
    return _table("t2", "二、主动公开政府信息情况", "", "".join(body))


def part3_table(view: View) -> str:
    t = view.template
    rows = rows_for(t)
    legal = "".join(f'<th scope="col">{esc(COLUMN_LABELS[c])}</th>' for c in APPLICANT_COLUMNS[1:])
    head = (f'<tr><th rowspan="3" scope="col"></th><th colspan="{len(COLUMNS)}" scope="colgroup">申请人情况</th></tr>'
            f'<tr><th rowspan="2" scope="col">{esc(COLUMN_LABELS["natural_person"])}</th>'
            f'<th colspan="{len(APPLICANT_COLUMNS) - 1}" scope="colgroup">{esc(PART3_HEADER_LABELS[1])}</th>'
            f'<th rowspan="2" scope="col">{esc(COLUMN_LABELS["total"])}</th></tr>'
            f"<tr>{legal}</tr>")
    body: list[str] = []
    for r, row in enumerate(rows):
        heading = PART3_HEADINGS.get(row.key)
        if heading and not (t == "2019" and row.key == "other_no_correction"):
            level = 0 if row.key == "granted" else 1
            body.append(f'<tr class="group"><th scope="rowgroup" colspan="{len(COLUMNS) + 1}" '
                        f'class="lv{level}">{esc(heading)}</th></tr>')
        cells = "".join(_cell(view.keys[f"requests.{row.key}.{c}"], "t3", r, i) for i, c in enumerate(COLUMNS))
        body.append(f'<tr><th scope="row" class="lv{_indent(row.key, t)}">{esc(row_label(row.key, t))}</th>'
                    f"{cells}</tr>")
    return _table("t3", "三、收到和处理政府信息公开申请情况", head, "".join(body))


def _indent(row_key: str, template: str) -> int:
    """How deep a part-3 row sits under the template's group headings."""
    if row_key in ("new", "carried_over", "carried_forward"):
        return 0
    if row_key in ("granted", "partial", "results_total") or (template == "2019" and row_key == "other_other"):
        return 1
    return 2


def part4_table(view: View) -> str:
    head = ('<tr><th scope="col"></th>'
            + "".join(f'<th scope="col">{esc(REVIEW_OUTCOME_LABELS[o])}</th>' for o in REVIEW_OUTCOMES) + "</tr>")
    body = []
    for r, g in enumerate(REVIEW_GROUPS):
        label = REVIEW_GROUP_LABELS[g] if g == "reconsideration" else f"行政诉讼 · {REVIEW_GROUP_LABELS[g]}"
        cells = "".join(_cell(view.keys[f"review.{g}.{o}"], "t4", r, i) for i, o in enumerate(REVIEW_OUTCOMES))
        body.append(f'<tr><th scope="row">{esc(label)}</th>{cells}</tr>')
    return _table("t4", "四、政府信息公开行政复议、行政诉讼情况", head, "".join(body))


def narrative_table(view: View) -> str:
    body = []
    for r, k in enumerate(NARRATIVE_KEYS):
        body.append(f'<tr><th scope="row">{esc(NARRATIVE_LABELS[k])}</th>{_cell(view.keys[k], "tn", r, 0)}</tr>')
    return _table("tn", "正文中的数字 (narrative counts)", "", "".join(body))


def render_tables(view: View) -> str:
    return part2_table(view) + part3_table(view) + part4_table(view) + narrative_table(view)
