"""``-o results.xlsx``: an Excel workbook (openpyxl).

Sheets:

- ``reports``: one row per report over the flat keys, after ``file``,
  ``sha256``, ``status``, the error, ``agency``, ``year``, ``template``,
  ``rules_failed`` and ``duplicates``; the cells of a failing rule are filled red.
- ``rules failed``: every failing rule of every report (rule, scope, both
  sides, detail, the cells involved), and R6's failures across years.
- ``across years``: each pair of one agency's consecutive reports and R6's
  verdict; ``agencies``: which printed names were taken as one agency.
- For a workbook holding a single report, a sheet per part in the template's
  own row and column labels (``gkllm.template``): 二、主动公开 (PART2),
  三、申请 (``rows_for()`` × ``COLUMN_LABELS``), 四、复议诉讼
  (``REVIEW_GROUP_LABELS`` × ``REVIEW_OUTCOME_LABELS``) and 概况 (agency,
  year, narrative counts); a failing rule's cells are filled red and carry
  the rule as a comment.

Written whole at the end of the batch (write-only mode: rows stream to the
file, so a big batch does not hold every cell as an object); resumable through
the journal (``gkllm.outputs.rows``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from ..template import (
    COLUMN_LABELS,
    COLUMNS,
    NARRATIVE_DESCRIPTIONS,
    NARRATIVE_KEYS,
    PART2,
    PART2_HEADER_LABELS,
    PART3_GROUP_LABELS,
    REVIEW_GROUP_LABELS,
    REVIEW_GROUPS,
    REVIEW_OUTCOME_LABELS,
    REVIEW_OUTCOMES,
    TemplateName,
    rows_for,
)
from . import OutputError, needs
from .rows import HEAD, JournaledSink, columns

REPORTS, RULES, ACROSS, AGENCIES = "reports", "rules failed", "across years", "agencies"
RULE_HEAD = ("file", "sha256", "rule", "scope", "status", "lhs", "rhs", "detail", "cells")
PART_SHEETS = ("二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
               "四、政府信息公开行政复议、行政诉讼情况", "概况")
LIST_SEP = "; "
RED, RED_TEXT = "FFC7CE", "9C0006"

# Part 2's column header for each key, in the template's words (all of them are PART2_HEADER_LABELS).
_PART2_COLUMN = {
    "issued": "本年制发件数", "repealed": "本年废止件数", "in_force": "现行有效件数",
    "new_made": "本年新制作数量", "new_published": "本年新公开数量", "total_published": "对外公开总数量",
    "prev_year_items": "上一年项目数量", "change": "本年增/减", "decisions": "处理决定数量",
    "items": "采购项目数量", "amount": "采购总金额(元)",
}
_PART2_SINGLE = {"2021": "本年处理决定数量", "2019": "处理决定数量"}
_FEES_2021 = "本年收费金额(单位:万元)"
# Part 3's group headings: the rows after each key sit under it in the template.
_PART3_GROUPS = {
    "granted": "三、" + PART3_GROUP_LABELS[0],
    "denied_state_secret": "（三）" + PART3_GROUP_LABELS[1],
    "unavailable_not_held": "（四）" + PART3_GROUP_LABELS[2],
    "rejected_petition": "（五）" + PART3_GROUP_LABELS[3],
    "other_no_correction": "（六）" + PART3_GROUP_LABELS[4],
}


def part2_column(key: str, template: TemplateName) -> str:
    """The template's column header of a part-2 key."""
    if key == "active.fees":
        label = _FEES_2021
    elif key in ("active.licensing", "active.punishment", "active.coercion"):
        label = _PART2_SINGLE[template]
    else:
        label = _PART2_COLUMN[key.rsplit(".", 1)[1]]
    assert label in PART2_HEADER_LABELS, label  # the template's words, not new ones
    return label


def _join(v: Any) -> Any:
    return LIST_SEP.join(v) if isinstance(v, list) else v


def _split(v: Any) -> list[str]:
    return [s for s in str(v).split(LIST_SEP) if s] if v not in (None, "") else []


class XlsxSink(JournaledSink):
    kind = "Excel"

    def read_rows(self) -> list[dict[str, Any]]:
        openpyxl = needs("openpyxl", "outputs", "-o *.xlsx")
        try:
            wb = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        except Exception as err:  # openpyxl raises zipfile/KeyError/InvalidFileException for a non-workbook
            raise OutputError(f"is not an Excel workbook ({type(err).__name__}); give another -o to start a new "
                              "batch", source=str(self.path)) from None
        try:
            if REPORTS not in wb.sheetnames:
                raise OutputError(f"is not a gkllm batch output (no '{REPORTS}' sheet); give another -o to start a "
                                  "new batch", source=str(self.path))
            rows = _records(wb[REPORTS].iter_rows(values_only=True))
            if rows is None:
                raise OutputError("is not a gkllm batch output (no file/status columns); give another -o to start "
                                  "a new batch", source=str(self.path))
            failed: dict[str, list[dict[str, Any]]] = {}
            if RULES in wb.sheetnames:
                for rule in _records(wb[RULES].iter_rows(values_only=True)) or []:
                    if rule.get("rule") != "R6":  # R6 is redone over the whole batch each run
                        rule["keys"] = _split(rule.pop("cells", None))
                        failed.setdefault(rule.get("sha256") or f"file:{rule.get('file')}", []).append(rule)
        finally:
            wb.close()
        for row in rows:
            row["rules_failed"] = _split(row.get("rules_failed"))
            row["duplicates"] = _split(row.get("duplicates"))
            row["_failed"] = failed.get(row.get("sha256") or f"file:{row.get('file')}", [])
        return rows

    def write_file(self, tmp: Path, rows: list[dict[str, Any]]) -> None:
        openpyxl = needs("openpyxl", "outputs", "-o *.xlsx")
        write_workbook(openpyxl, tmp, rows, self.across)


def _records(it: Iterable[tuple[Any, ...]]) -> list[dict[str, Any]] | None:
    rows = iter(it)
    header = next(rows, None)
    if not header or "file" not in header or "status" not in header:
        return None
    names = [str(h) if h is not None else "" for h in header]
    return [dict(zip(names, r)) for r in rows if any(v is not None for v in r)]


class _Styles:
    def __init__(self, openpyxl: Any) -> None:
        from openpyxl.styles import Font, PatternFill

        self.fail = PatternFill("solid", start_color=RED, end_color=RED)
        self.fail_font = Font(color=RED_TEXT)
        self.bold = Font(bold=True)
        self.grey = Font(color="808080")


def _widths(ws: Any, first: float, rest: float = 12, n: int = 0) -> None:
    """Column widths (set before rows are written: write-only sheets take them then)."""
    from openpyxl.utils import get_column_letter

    ws.column_dimensions["A"].width = first
    for i in range(2, n + 1):
        ws.column_dimensions[get_column_letter(i)].width = rest


def write_workbook(openpyxl: Any, path: Path, rows: list[dict[str, Any]], across: Any) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.comments import Comment

    wb = openpyxl.Workbook(write_only=True)
    st = _Styles(openpyxl)

    def cell(ws: Any, value: Any, *, bold: bool = False, failing: list[dict[str, Any]] | None = None,
             grey: bool = False) -> Any:
        c = WriteOnlyCell(ws, value=_join(value))
        if bold:
            c.font = st.bold
        if grey:
            c.font = st.grey
        if failing:
            c.fill, c.font = st.fail, st.fail_font
            c.comment = Comment("\n".join(f"{f['rule']} {f['scope']}: {f.get('detail') or ''}" for f in failing),
                                "gkllm", width=320, height=90)
        return c

    # reports: one row per report
    names = columns()
    ws = wb.create_sheet(REPORTS)
    _widths(ws, 40, 14, 11)
    ws.freeze_panes = "B2"
    ws.append([cell(ws, n, bold=True) for n in names])
    for r in rows:
        bad = {k for f in r.get("_failed") or [] for k in f.get("keys") or []}
        out = []
        for n in names:
            c = WriteOnlyCell(ws, value=_join(r.get(n)))
            if n in bad:
                c.fill, c.font = st.fail, st.fail_font
            out.append(c)
        ws.append(out)

    # rules failed: per report, then R6 across years
    ws = wb.create_sheet(RULES)
    _widths(ws, 40, 14, 9)
    ws.freeze_panes = "A2"
    ws.append([cell(ws, n, bold=True) for n in RULE_HEAD])
    for r in rows:
        for f in r.get("_failed") or []:
            ws.append([r["file"], r.get("sha256"), f["rule"], f["scope"], "failed", f.get("lhs"), f.get("rhs"),
                       f.get("detail"), LIST_SEP.join(f.get("keys") or [])])
    pairs = across.pairs if across is not None else []
    for p in pairs:
        for res in p.failed:
            ws.append([p.later.file, p.later.key, "R6", p.scope(res.scope), res.status, res.lhs, res.rhs, res.detail,
                       LIST_SEP.join(res.keys)])

    # across years
    ws = wb.create_sheet(ACROSS)
    _widths(ws, 32, 28, 7)
    ws.append([cell(ws, n, bold=True) for n in ("agency", "earlier file", "earlier year", "later file", "later year",
                                                "R6", "failing columns")])
    for p in pairs:
        statuses = {res.status for res in p.results}
        verdict = "fails" if p.failed else ("holds" if statuses == {"passed"} else "not assessable")
        ws.append([p.later.agency, p.earlier.file, p.earlier.year, p.later.file, p.later.year,
                   cell(ws, verdict, failing=[{"rule": "R6", "scope": p.scope(x.scope), "detail": x.detail}
                                              for x in p.failed]),
                   LIST_SEP.join(COLUMN_LABELS[x.scope] for x in p.failed)])
    ws = wb.create_sheet(AGENCIES)
    _widths(ws, 40, 40, 2)
    ws.append([cell(ws, n, bold=True) for n in ("printed name", "taken as")])
    if across is not None:
        for canonical, printed in across.grouping.merged.items():
            for name in printed:
                ws.append([name, canonical])
        for note in across.grouping.unmatched:
            ws.append([note, None])

    ok = [r for r in rows if r.get("status") == "ok"]
    if len(ok) == 1 and len(rows) == 1:
        _part_sheets(wb, ok[0], cell)
    wb.save(path)


def _part_sheets(wb: Any, row: dict[str, Any], cell: Any) -> None:
    """The single report in the template's own labels; a failing rule's cells red, the rule as a comment."""
    template: TemplateName = row.get("template") or "2021"
    failing: dict[str, list[dict[str, Any]]] = {}
    for f in row.get("_failed") or []:
        for k in f.get("keys") or []:
            failing.setdefault(k, []).append(f)

    def value(ws: Any, key: str) -> Any:
        return cell(ws, row.get(key), failing=failing.get(key))

    # 二、主动公开政府信息情况: the template's sub-tables, a header row wherever the columns change
    ws = wb.create_sheet(PART_SHEETS[0])
    _widths(ws, 24, 16, 4)
    ws.append([cell(ws, PART_SHEETS[0], bold=True)])
    last: tuple[str, ...] = ()
    for item in PART2[template]:
        head = tuple(part2_column(k, template) for k in item.keys)
        if head != last:
            ws.append([cell(ws, "信息内容", bold=True), *[cell(ws, h, bold=True) for h in head]])
            last = head
        ws.append([item.label, *[value(ws, k) for k in item.keys]])

    # 三、收到和处理政府信息公开申请情况: the template's rows × applicant columns
    ws = wb.create_sheet(PART_SHEETS[1])
    _widths(ws, 60, 12, 9)
    ws.append([cell(ws, PART_SHEETS[1], bold=True)])
    ws.append([None, cell(ws, "申请人情况", bold=True)])
    ws.append([None, *[cell(ws, COLUMN_LABELS[c], bold=True) for c in COLUMNS], cell(ws, "key", grey=True)])
    for r in rows_for(template):
        group = _PART3_GROUPS.get(r.key)
        if group and not (template == "2019" and r.key == "other_no_correction"):
            ws.append([cell(ws, group, bold=True)])
        label = "（六）" + PART3_GROUP_LABELS[4] if template == "2019" and r.key == "other_other" else r.label
        ws.append([label, *[value(ws, f"requests.{r.key}.{c}") for c in COLUMNS],
                   cell(ws, f"requests.{r.key}", grey=True)])

    # 四、政府信息公开行政复议、行政诉讼情况: review groups × outcomes
    ws = wb.create_sheet(PART_SHEETS[2])
    _widths(ws, 30, 10, 6)
    ws.append([cell(ws, PART_SHEETS[2], bold=True)])
    ws.append([None, *[cell(ws, REVIEW_OUTCOME_LABELS[o], bold=True) for o in REVIEW_OUTCOMES]])
    for g in REVIEW_GROUPS:
        label = REVIEW_GROUP_LABELS[g] if g == "reconsideration" else f"行政诉讼 · {REVIEW_GROUP_LABELS[g]}"
        ws.append([label, *[value(ws, f"review.{g}.{o}") for o in REVIEW_OUTCOMES]])

    # 概况: who, when, and the counts the prose states
    ws = wb.create_sheet(PART_SHEETS[3])
    _widths(ws, 48, 40, 3)
    for name in ("agency", "year", "template", "file", "sha256"):
        ws.append([cell(ws, name, bold=True), row.get(name)])
    ws.append([cell(ws, "rules_failed", bold=True),
               cell(ws, LIST_SEP.join(row.get("rules_failed") or []) or "none", failing=row.get("_failed") or None)])
    ws.append([])
    for k in NARRATIVE_KEYS:
        ws.append([cell(ws, NARRATIVE_DESCRIPTIONS[k], bold=True), value(ws, k), cell(ws, k, grey=True)])


__all__ = ["XlsxSink", "HEAD", "part2_column"]
