"""Text layouts of a report, and the CLI that writes the layout eval corpus.

Each renderer turns a ``grid.Report`` into the text that a real source looks
like after extraction (see ``seeds/``): a docx dump with one cell per line, a
pipe-flattened HTML dump, tab/markdown tables with page breaks, crawler text
with glued digits, PDF text, OCR'd markdown, Word-exported HTML, label
variants, the 2019 template and blank cells.

    python -m eval.gen.layouts --out eval/cases/layouts --n 320 --seed 1

writes ``<layout>_<nnn>.txt`` (``.html`` for the html layout) and
``<layout>_<nnn>.gold.json``: the flat gold keys, ``meta.template``, and

    "_case": {
      "layout": "digits",              # one of LAYOUTS
      "variant": "glued+spaces",       # renderer options used, "+"-joined
      "encoding": "utf-8",             # bytes encoding of the case file
      "inconsistent_rules": ["R3:granted", ...],  # rules failing on the printed numbers
      "ambiguous": false,              # several splits of glued runs satisfy all rules
      "ambiguous_keys": [],            # keys whose value differs between those splits
      "tricky_keys": [...]             # keys printed in a deliberately hard way
    }

Everything derives from ``--seed``: the same arguments give the same bytes.
"""

from __future__ import annotations

import argparse
import html
import json
import random
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from eval.gen.gold import Gold, random_gold, rule_id
from eval.gen.grid import GridCell, Report, Table, build_report
from eval.gen.splits import SplitSearchTooLarge, ambiguous_keys
from gkllm.template import APPLICANT_COLUMNS, COLUMN_LABELS, Rule, TemplateName, rules_for

LAYOUTS: tuple[str, ...] = (
    "cells", "pipes", "tabs", "markdown", "digits", "pdf", "ocr", "html", "variants", "t2019", "blanks",
)
PLAIN_LAYOUTS: tuple[str, ...] = ("cells", "pipes", "tabs", "markdown")
INCONSISTENT_EVERY = 10  # every 10th case of each layout breaks some rules


@dataclass
class Rendering:
    """A rendered case: the text plus what the labeller needs to know."""

    text: str
    variant: str
    ext: str = ".txt"
    encoding: str = "utf-8"
    runs: list[tuple[list[str], str]] = field(default_factory=list)  # glued digit runs (digits layout)
    tricky_keys: list[str] = field(default_factory=list)

    def data(self) -> bytes:
        return self.text.encode(self.encoding, errors="xmlcharrefreplace")


Renderer = Callable[[Report, Gold, random.Random], Rendering]

# --- shared helpers ------------------------------------------------------------------


def _fields(table: Table) -> list[list[str]]:
    """Full-width rows: origin cells print their text, covered positions ""."""
    return [[s.cell.text if s.origin else "" for s in row] for row in table.matrix()]


def _row_labels(table: Table, r: int) -> list[GridCell]:
    return [c for c in table.rows[r] if c.role != "value"]


def _row_values(table: Table, r: int) -> list[GridCell]:
    return [c for c in table.rows[r] if c.role == "value"]


def _wrap_cell(text: str, rng: random.Random, p: float) -> str:
    """Break a header like 商业企业 into 商业\\n企业 (a cell with two lines)."""
    if 4 <= len(text) <= 8 and rng.random() < p:
        cut = len(text) // 2
        return text[:cut] + "\n" + text[cut:]
    return text


_ASCII = str.maketrans({"（": "(", "）": ")", "，": ",", "：": ":", "；": ";", "！": "!", "？": "?"})


def _ascii_punct(text: str) -> str:
    return text.translate(_ASCII)


def _space_ordinal(text: str) -> str:
    """"1.属于国家秘密" -> "1. 属于国家秘密", "（三）不予公开" -> "(三) 不予公开" (pandoc style)."""
    text = re.sub(r"^(\d+\.)(?=\S)", r"\1 ", text)
    return re.sub(r"^[（(]([一二三四五六七八九十]+)[）)](?=\S)", r"(\1) ", text)


def _map_labels(report: Report, fn: Callable[[GridCell], GridCell]) -> Report:
    parts = [replace(p, table=p.table.map_cells(fn)) if p.table else p for p in report.parts]
    return replace(report, parts=parts)


def _split_paragraph(text: str, rng: random.Random) -> tuple[str, str]:
    """A paragraph cut by a page break (never inside a number)."""
    cut = rng.randint(len(text) // 3, max(len(text) // 3 + 1, 2 * len(text) // 3))
    while 0 < cut < len(text) and text[cut - 1].isdigit() and text[cut].isdigit():
        cut += 1
    return text[:cut], text[cut:]


def _title_lines(report: Report, gold: Gold, rng: random.Random) -> list[str]:
    agency = str(gold["meta.agency"])
    if report.title.startswith(agency) and rng.random() < 0.5:
        return [agency, report.title[len(agency):]]
    return [report.title]


def _bold_lead(p: str) -> str:
    m = re.match(r"^(（[一二三四五六七八九十]+）[^。]{2,16}。)(.*)$", p)
    return f"**{m.group(1)}**{m.group(2)}" if m else p


# --- cells: one cell per line (docx dump, seeds 000/003/004) ---------------------------


def cells_table(table: Table, rng: random.Random | None = None, wrap_p: float = 0.0) -> list[str]:
    """One tab-indented line per printed cell, a blank line after each row.

    A cell spanning several rows prints an empty line in each later row (as a
    docx dump does); a cell spanning several columns prints once.
    """
    rng = rng or random.Random(0)
    lines: list[str] = []
    for r, row in enumerate(table.matrix()):
        for c, slot in enumerate(row):
            if slot.origin:
                text = slot.cell.text
                if slot.cell.role == "header":
                    text = _wrap_cell(text, rng, wrap_p)
                lines.append("\t" + text)
            elif slot.col0 == c and slot.row0 < r:
                lines.append("\t")
        lines.append("")
    return lines


def render_cells(report: Report, gold: Gold, rng: random.Random) -> Rendering:
    flags = []
    if rng.random() < 0.3:
        flags.append("nocorner")
        report = _map_labels(report, lambda c: c.with_text("") if c.role == "corner" else c)
    if rng.random() < 0.3:
        flags.append("spaced-sections")
        report = _map_labels(
            report, lambda c: c.with_text(c.text.replace("第二十条", "第二十条  ")) if c.role == "section" else c)
    wrap_p = 0.5 if rng.random() < 0.4 else 0.0
    if wrap_p:
        flags.append("wrapped")
    lines = _title_lines(report, gold, rng)
    if rng.random() < 0.3:
        flags.append("bookmark")
        lines[0] = "[bookmark: _GoBack]" + lines[0]
    lines.append("")
    lines += report.intro
    for part in report.parts:
        lines.append(part.heading)
        lines += part.paragraphs
        if part.table:
            lines += cells_table(part.table, rng, wrap_p)
            lines.append("")
        if part.number in (1, 4):
            lines.append("")
    return Rendering("\n".join(lines) + "\n", "+".join(flags) or "plain")


# --- pipes: pipe-flattened HTML dump (seed 001) --------------------------------------


def pipes_table(table: Table) -> list[str]:
    """``|`` opens a row, each printed cell is ``text |``, and a closing line
    holds one ``|`` per grid column not printed in that row."""
    lines: list[str] = []
    width = table.width
    for row in table.rows:
        lines.append("|")
        for cell in row:
            lines.append(cell.text.replace("\n", " ") + " |")
        if width - len(row) > 0:
            lines.append("|" * (width - len(row)))
    return lines


def _truncate_part4(table: Table) -> Table:
    rows = [list(r) for r in table.rows]
    rows[1] = [c.with_text(c.text[:2]) if i and c.text in ("结果纠正", "其他结果", "尚未审结") else c
               for i, c in enumerate(rows[1])]
    rows[2] = [c.with_text(c.text[:2]) for c in rows[2]]
    return Table(rows, table.header_rows, table.name)


def render_pipes(report: Report, gold: Gold, rng: random.Random) -> Rendering:
    flags = []
    ascii_ = rng.random() < 0.6
    truncated = rng.random() < 0.4
    if ascii_:
        flags.append("ascii")
    if truncated:
        flags.append("truncated")
    lines: list[str] = []
    if rng.random() < 0.5:
        lines += _title_lines(report, gold, rng)
    lines += report.intro
    for part in report.parts:
        lines.append(part.heading)
        lines += part.paragraphs
        if part.table:
            t = _truncate_part4(part.table) if truncated and part.number == 4 else part.table
            lines += pipes_table(t)
    text = "\n".join(lines) + "\n"
    return Rendering(_ascii_punct(text) if ascii_ else text, "+".join(flags) or "plain")


# --- tabs / markdown: tables with page breaks (seed 002) -------------------------------


def _drop_first_empty(fields: list[str], upto: int = 3) -> list[str]:
    """After a page break the re-extracted table lost one label column."""
    for i in range(min(upto, len(fields))):
        if fields[i] == "":
            return fields[:i] + fields[i + 1:]
    return fields


def _table_field_rows(table: Table, ragged: bool, spaced: bool) -> list[list[str]]:
    """Tab-table fields per row. ``ragged``: in part 3 the padding behind a
    label that spans several columns moves to the end of the row, so values no
    longer sit in the same columns in every row (as in seed 002)."""
    rows = _fields(table)
    if spaced:
        matrix = table.matrix()
        rows = [
            [f if slot.cell.role == "value" else _space_ordinal(f) for f, slot in zip(row, mrow)]
            for row, mrow in zip(rows, matrix)
        ]
    if ragged and table.name == "part3":
        out = []
        for row in rows[: table.header_rows]:
            out.append(row)
        for row in rows[table.header_rows :]:
            first = next((i for i, f in enumerate(row[:3]) if f), 3)
            head = row[:first] + [f for f in row[first:3] if f]
            body = head + row[3:]
            out.append(body + [""] * (len(row) - len(body)))
        rows = out
    return rows


def _break_row(table: Table, rng: random.Random) -> int | None:
    if table.name != "part3":
        return None
    lo, hi = table.header_rows + 6, len(table.rows) - 3
    return rng.randint(lo, hi) if hi > lo else None


def _md_prose(report: Report, gold: Gold, rng: random.Random, md_heads: bool) -> tuple[list[str], list[str]]:
    """(title lines, intro lines) for the markdown-ish documents."""
    title = ["", "", f"# {report.title}", ""] if md_heads else [report.title, ""]
    intro = []
    for p in report.intro:
        intro += [p, ""]
    return title, intro


def _prose_block(paragraphs: Sequence[str], rng: random.Random, bold: bool, page_break_p: float) -> list[str]:
    out: list[str] = []
    for p in paragraphs:
        p = _bold_lead(p) if bold else p
        if len(p) > 40 and rng.random() < page_break_p:
            a, b = _split_paragraph(p, rng)
            out += [a, "", b, ""]
        else:
            out += [p, ""]
    return out


def render_tabs(report: Report, gold: Gold, rng: random.Random) -> Rendering:
    flags = []
    ragged = rng.random() < 0.5
    spaced = rng.random() < 0.5
    formfeed = rng.random() < 0.3
    md_heads = rng.random() < 0.7
    for name, on in (("ragged", ragged), ("spaced", spaced), ("formfeed", formfeed), ("md-headings", md_heads)):
        if on:
            flags.append(name)
    title, lines = _md_prose(report, gold, rng, md_heads)
    lines = title + lines
    for part in report.parts:
        hashes = "#" * rng.choice((2, 2, 3, 4)) + " " if md_heads else ""
        lines += [f"{hashes}{part.heading}", ""]
        lines += _prose_block(part.paragraphs, rng, md_heads, 0.15)
        if part.table:
            rows = _table_field_rows(part.table, ragged, spaced)
            brk = _break_row(part.table, rng)
            for r, row in enumerate(rows):
                if brk is not None and r == brk:
                    lines += ["\f", ""] if formfeed else [""]
                if brk is not None and r >= brk:
                    row = _drop_first_empty(row)
                lines.append("\t".join(row))
            lines.append("")
    return Rendering("\n".join(lines) + "\n", "+".join(flags) or "plain")


def _md_row(fields: Sequence[str]) -> str:
    return "| " + " | ".join(f.replace("\n", "<br>") for f in fields) + " |"


def render_markdown(report: Report, gold: Gold, rng: random.Random) -> Rendering:
    flags = []
    spaced = rng.random() < 0.4
    if spaced:
        flags.append("spaced")
    title, lines = _md_prose(report, gold, rng, True)
    lines = title + lines
    for part in report.parts:
        lines += [f"## {part.heading}", ""]
        lines += _prose_block(part.paragraphs, rng, True, 0.1)
        if not part.table:
            continue
        rows = _table_field_rows(part.table, False, spaced)
        brk = _break_row(part.table, rng)
        table_rows: list[list[str]] = []
        for r, row in enumerate(rows):
            if brk is not None and r == brk:
                # the page break ends the table; the rest is a new table (one column short)
                footer = rng.choice(("", "- {} -", "— {} —")).format(rng.randint(2, 6))
                lines += _md_table(table_rows) + ["", footer, ""]
                table_rows = []
                flags.append("page-break")
            table_rows.append(_drop_first_empty(row) if brk is not None and r >= brk else row)
        lines += _md_table(table_rows) + [""]
    return Rendering("\n".join(lines) + "\n", "+".join(flags) or "plain")


def _md_table(rows: Sequence[Sequence[str]]) -> list[str]:
    """A pipe table; the first row becomes the header (as pandoc does)."""
    if not rows:
        return []
    return [_md_row(rows[0]), "|" + "|".join("---" for _ in rows[0]) + "|"] + [_md_row(r) for r in rows[1:]]


# --- digits: crawler text with glued digit runs ------------------------------------------


def _stray_spaces(run: str, rng: random.Random) -> str:
    """Insert 1-3 spaces at random places inside a digit run ("2000121" -> "20 0 00 0 121")."""
    if len(run) < 3:
        return run
    cuts = sorted(rng.sample(range(1, len(run)), min(len(run) - 1, rng.randint(1, 3))))
    out, prev = [], 0
    for c in cuts:
        out.append(run[prev:c])
        prev = c
    out.append(run[prev:])
    return " ".join(out)


def _keys_cut_by_spaces(vals: Sequence[GridCell], spaced: str) -> list[str]:
    """Keys of the values that a stray space cuts in two."""
    cuts, pos = set(), 0
    for ch in spaced:
        if ch == " ":
            cuts.add(pos)
        else:
            pos += 1
    out, start = [], 0
    for c in vals:
        end = start + len(c.text)
        if any(start < x < end for x in cuts) and c.key:
            out.append(c.key)
        start = end
    return out


def render_digits(report: Report, gold: Gold, rng: random.Random) -> Rendering:
    glued = rng.random() < 0.5
    spaces = rng.random() < 0.4
    flags = [f for f, on in (("glued", glued), ("spaces", spaces)) if on]
    year = int(gold["meta.year"])  # type: ignore[arg-type]
    lines = [
        "首页 > 政务公开 > 政府信息公开年报",
        report.title,
        f"发布时间：{year + 1}-01-{rng.randint(10, 31):02d}　来源：{gold['meta.agency']}"
        f"　浏览次数：{rng.randint(20, 3000)}",
        "【字体：大 中 小】",
    ]
    indent = "\u3000\u3000" if rng.random() < 0.5 else ""
    lines += [indent + p for p in report.intro]
    runs: list[tuple[list[str], str]] = []
    tricky: list[str] = []
    for part in report.parts:
        lines.append(part.heading)
        lines += [indent + p for p in part.paragraphs]
        if not part.table:
            continue
        table = part.table
        row_texts: list[str] = []
        for r, row in enumerate(table.rows):
            labels = "".join(c.text for c in row if c.role != "value")
            vals = _row_values(table, r)
            ints = [c for c in vals if not (c.key and ("fees" in c.key or "amount" in c.key))]
            run = "".join(c.text for c in vals)
            if len(ints) >= 2 and len(ints) == len(vals):
                runs.append(([c.key for c in vals if c.key], run))  # type: ignore[misc]
                if spaces and rng.random() < 0.35:
                    run = _stray_spaces(run, rng)
                    tricky += _keys_cut_by_spaces(vals, run)
            row_texts.append(labels + run)
        if glued:
            # the next row's ordinal ("6.属于…") sticks to this row's digits:
            # the last value of the row is the one a reader may over-read
            for r in range(len(table.rows) - 1):
                vals = _row_values(table, r)
                if vals and vals[-1].key and re.match(r"^\d+\.", row_texts[r + 1]):
                    tricky.append(vals[-1].key)
            lines.append("".join(row_texts))
        else:
            lines += row_texts
    lines.append("【打印本页】【关闭窗口】")
    return Rendering("\n".join(lines) + "\n", "+".join(flags) or "plain", runs=runs, tricky_keys=tricky)


# --- pdf: PDF text (labels floating above numbers, page footers, wrapped labels) ----------


class _Pages:
    """Collects PDF text lines and inserts a page footer every ``per_page`` lines."""

    def __init__(self, rng: random.Random, start: int = 1) -> None:
        self.rng = rng
        self.lines: list[str] = []
        self.page = start
        self.style = rng.choice(("— {n} —", "- {n} -", "—{n}—", "第 {n} 页"))
        self.per_page = rng.randint(30, 42)
        self.since = 0

    def add(self, line: str) -> None:
        self.lines.append(line)
        self.since += 1
        if self.since >= self.per_page:
            self.footer()

    def footer(self) -> None:
        self.lines += ["", self.style.format(n=self.page), ""]
        self.page += 1
        self.since = 0


def _wrap(text: str, width: int) -> list[str]:
    """Fixed-width lines (PDF/OCR line breaks); a number is never cut in two."""
    lines, i = [], 0
    while i < len(text):
        j = min(i + width, len(text))
        while 0 < j < len(text) and text[j - 1].isdigit() and text[j].isdigit():
            j += 1
        lines.append(text[i:j])
        i = j
    return lines or [""]


def _wrap_label(text: str, rng: random.Random) -> list[str]:
    if len(text) > 15:
        cut = rng.randint(8, len(text) - 4)
        return [text[:cut], text[cut:]]
    return [text]


def _numbers_line(texts: Sequence[str], pipe: bool) -> str:
    texts = [t if t else "/" for t in texts]
    return "| " + " | ".join(texts) + " |" if pipe else " ".join(texts)


def _unique_merge(texts: list[str], j: int, cut: int) -> bool:
    """Would merging back the number split at position j be unique under R3?"""
    tokens = texts[:j] + [texts[j][:cut], texts[j][cut:]] + texts[j + 1:]
    ok = 0
    for i in range(len(tokens) - 1):
        a, b = tokens[i], tokens[i + 1]
        if a == "0" or not (a.isdigit() and b.isdigit()):
            continue
        vals = [int(t) for t in tokens[:i] + [a + b] + tokens[i + 2:]]
        if sum(vals[:6]) == vals[6]:
            ok += 1
    return ok == 1


_NOTES = {
    "rules": ("（其中修订{k}件）", "（含修订{k}件）"),
    "normative_docs": ("（其中修订{k}件）", "（含修订{k}件）"),
    "licensing": ("（其中网上办理{k}件）",),
    "punishment": ("（其中简易程序{k}件）",),
    "coercion": ("（其中查封扣押{k}件）",),
}


def render_pdf(report: Report, gold: Gold, rng: random.Random) -> Rendering:
    pg = _Pages(rng)
    tricky: list[str] = []
    width = rng.randint(30, 38)
    for line in _wrap(report.title, 20):
        pg.add(line)
    for p in report.intro:
        for line in _wrap(p, width):
            pg.add(line)
    pipe_p = rng.choice((0.0, 0.5, 1.0))
    for part in report.parts:
        pg.add(part.heading)
        for p in part.paragraphs:
            for line in _wrap(p, width):
                pg.add(line)
        if not part.table:
            continue
        t = part.table
        if part.number == 2:
            annotated = 0
            for r in range(len(t.rows)):
                labels = _row_labels(t, r)
                vals = _row_values(t, r)
                if not vals:
                    if rng.random() < 0.5:
                        pg.add(" ".join(c.text for c in labels))
                    else:
                        for c in labels:
                            pg.add(c.text)
                    continue
                texts = [c.text for c in vals]
                for i, c in enumerate(vals):
                    v = gold.get(c.key or "")
                    if (annotated < 2 and isinstance(v, int) and v >= 3 and rng.random() < 0.35 and c.key
                            and "change" not in c.key):
                        note = rng.choice(_NOTES.get(c.key.split(".")[1], ("（其中{k}件已公开）",)))
                        texts[i] = f"{texts[i]}{note.format(k=rng.randint(1, v - 1))}"
                        tricky.append(c.key)
                        annotated += 1
                label = labels[0].text
                style = rng.random()
                if style < 0.4:
                    pg.add(label + " " + " ".join(x or "/" for x in texts))
                else:
                    pg.add(label)
                    pg.add(_numbers_line(texts, rng.random() < pipe_p))
            continue
        # parts 3 and 4: header cells one per line (some wrapped), then body rows
        header_lines: list[str] = []
        for r in range(t.header_rows):
            for c in t.rows[r]:
                if c.role == "corner":
                    header_lines += _wrap(c.text, rng.randint(14, 22)) if c.text else []
                elif len(c.text) >= 4 and rng.random() < 0.3:
                    header_lines += [c.text[: len(c.text) // 2], c.text[len(c.text) // 2 :]]
                else:
                    header_lines.append(c.text)
        for line in header_lines:
            pg.add(line)
        body = list(range(t.header_rows, len(t.rows)))
        # group labels (rowspan) float to the middle of the rows they span
        floating: dict[int, list[str]] = {}
        for r in body:
            for c in t.rows[r]:
                if c.role == "group":
                    at = r + (c.rowspan // 2 if rng.random() < 0.6 else 0)
                    floating.setdefault(at, []).append(c.text)
        split_done = part.number == 4
        break_at = rng.choice(body[3:-2]) if part.number == 3 and len(body) > 6 else None
        i = 0
        while i < len(body):
            r = body[i]
            if r == break_at:
                pg.footer()
                if rng.random() < 0.7:
                    for line in header_lines:
                        pg.add(line)
            for g in floating.get(r, []):
                pg.add(g)
            vals = _row_values(t, r)
            texts = [c.text for c in vals]
            # a number split by spacing ("1 2" for 12), only where R3 makes the merge unique
            if not split_done and rng.random() < 0.25 and all(x.isdigit() for x in texts):
                for j, x in enumerate(texts[:7]):
                    if len(x) >= 2:
                        cut = rng.randint(1, len(x) - 1)
                        if x[cut] != "0" and _unique_merge(texts, j, cut):
                            texts = texts[:j] + [x[:cut] + " " + x[cut:]] + texts[j + 1:]
                            tricky.append(vals[j].key or "")
                            split_done = True
                            break
            labels = [c.text for c in t.rows[r] if c.role == "label"]
            stack = (
                i + 1 < len(body)
                and rng.random() < 0.2
                and not floating.get(body[i + 1])
                and body[i + 1] != break_at
                and labels
            )
            if stack:
                r2 = body[i + 1]
                labels2 = [c.text for c in t.rows[r2] if c.role == "label"]
                texts2 = [c.text for c in _row_values(t, r2)]
                for lab in labels + labels2:
                    for line in _wrap_label(lab, rng):
                        pg.add(line)
                pg.add(_numbers_line(texts, False))
                pg.add(_numbers_line(texts2, False))
                i += 2
                continue
            for lab in labels:
                for line in _wrap_label(lab, rng):
                    pg.add(line)
            pg.add(_numbers_line(texts, rng.random() < pipe_p and " " not in "".join(texts)))
            i += 1
    tricky = [k for k in tricky if k]
    return Rendering("\n".join(pg.lines) + "\n", f"pipes={pipe_p}", tricky_keys=tricky)


# --- ocr: OCR'd markdown ----------------------------------------------------------------

_OCR_CONFUSIONS = {
    "开": "幵", "秘": "袐", "审": "宙", "复": "夏", "理": "埋", "申": "甲", "结": "洁", "处": "外", "予": "子",
}


def _misread(text: str, rng: random.Random, p: float) -> str:
    return "".join(_OCR_CONFUSIONS[ch] if ch in _OCR_CONFUSIONS and rng.random() < p else ch for ch in text)


def _ocr_groups(table: Table) -> list[list[int]]:
    """Row groups, one small OCR table each: part 2 per 第二十条 section; part 3
    the header, 一/二, （一）/（二）, each of （三）-（六）, （七）/四; part 4 header, values."""
    if table.name == "part4":
        return [list(range(table.header_rows)), list(range(table.header_rows, len(table.rows)))]
    groups: list[list[int]] = []
    h = table.header_rows
    for r, row in enumerate(table.rows):
        if table.name == "part2":
            starts = row[0].role == "section" or r == 0
        else:
            label = next((c.text for c in row if c.role == "label"), "")
            starts = r in (0, h) or any(c.role == "group" for c in row) or label.startswith(("（六）", "（七）"))
        if starts or not groups:
            groups.append([])
        groups[-1].append(r)
    return groups


def render_ocr(report: Report, gold: Gold, rng: random.Random) -> Rendering:
    p = rng.uniform(0.04, 0.14)
    width = rng.randint(26, 36)
    lines = [f"# {_misread(report.title, rng, p / 2)}", ""]
    for para in report.intro:
        lines += [_misread(x, rng, p / 3) for x in _wrap(para, width)] + [""]
    stray_done = False
    for part in report.parts:
        lines += [f"## {_misread(part.heading, rng, p)}", ""]
        for para in part.paragraphs:
            lines += [_misread(x, rng, p / 3) for x in _wrap(para, width)] + [""]
        if not part.table:
            continue
        t = part.table
        for group in _ocr_groups(t):
            rows: list[list[str]] = []
            caption = None
            for r in group:
                row = t.rows[r]
                if row[0].role == "section":
                    caption = row[0].text
                    continue
                fields = [
                    c.text if c.role == "value" else _misread(c.text.replace("\n", ""), rng, p)
                    for c in row
                ]
                rows.append(fields)
            if caption:
                lines += [_misread(caption, rng, p), ""]
            if not rows:
                continue
            n = max(len(f) for f in rows)
            heads = {i for i, r in enumerate(group) if all(c.role in ("header", "corner") for c in t.rows[r])}
            heads = {i - (1 if caption else 0) for i in heads}
            rows = [f + [""] * (n - len(f)) if i in heads else [""] * (n - len(f)) + f for i, f in enumerate(rows)]
            if not stray_done and len(rows) >= 3 and rng.random() < 0.5:
                at = rng.randint(1, len(rows) - 1)
                stray = [f"数据{i + 1}" for i in range(n)] if rng.random() < 0.5 else (
                    [""] * (n - 7) + ["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]
                    if n >= 7 else [f"数据{i + 1}" for i in range(n)]
                )
                rows.insert(at, stray)
                stray_done = True
            lines.append(_md_row([f"数据{i + 1}" for i in range(n)]))
            lines.append("|" + "|".join([" --- "] * n) + "|")
            lines += [_md_row(f) for f in rows]
            lines.append("")
    text = "\n".join(lines) + "\n"
    forced = ""
    if "幵" not in text and "袐" not in text:
        text = (text.replace("予以公开", "予以公幵", 1) if "予以公开" in text
                else text.replace("国家秘密", "国家袐密", 1))
        forced = "+forced-misread"
    return Rendering(text, f"misread={p:.2f}" + ("+stray-header" if stray_done else "") + forced)


# --- html: Word-exported HTML ------------------------------------------------------------

_WORD_HEAD = (
    "<html xmlns:v=\"urn:schemas-microsoft-com:vml\" xmlns:o=\"urn:schemas-microsoft-com:office:office\" "
    "xmlns:w=\"urn:schemas-microsoft-com:office:word\" xmlns=\"http://www.w3.org/TR/REC-html40\">\n<head>\n"
    "<meta http-equiv=Content-Type content=\"text/html; charset={charset}\">\n"
    "<meta name=Generator content=\"Microsoft Word 15 (filtered)\">\n<title>{title}</title>\n"
    "<style>\n<!-- p.MsoNormal, li.MsoNormal {{margin:0cm;text-align:justify;font-size:10.5pt;font-family:等线;}}\n"
    ".MsoChpDefault {{font-family:等线;}} div.WordSection1 {{page:WordSection1;}} -->\n</style>\n</head>\n"
)


def _spans(text: str, rng: random.Random, split: bool) -> str:
    """Word splits text into runs: ASCII (digits, ordinals) in lang=EN-US spans,
    and label text sometimes in several spans."""
    out = []
    for m in re.finditer(r"[0-9./\-]+|[^0-9./\-]+", text):
        s = m.group(0)
        if s[0].isdigit() or s[0] in "./-":
            out.append(f"<span lang=EN-US>{html.escape(s, quote=False)}</span>")
            continue
        pieces = [s]
        if split and len(s) >= 4 and rng.random() < 0.6:
            a = rng.randint(1, len(s) - 1)
            pieces = [s[:a], s[a:]]
        out += [f"<span style='font-family:宋体'>{html.escape(x, quote=False)}</span>" for x in pieces]
    return "".join(out)


def _html_table(table: Table, rng: random.Random, lang_spans: bool = True) -> list[str]:
    out = ["<table class=MsoNormalTable border=1 cellspacing=0 cellpadding=0 "
           "style='border-collapse:collapse;border:none'>"]
    for row in table.rows:
        out.append("<tr>")
        for c in row:
            attrs = ""
            if c.rowspan > 1:
                attrs += f" rowspan={c.rowspan}"
            if c.colspan > 1:
                attrs += f" colspan={c.colspan}"
            if c.text == "":
                inner = rng.choice((
                    "<p class=MsoNormal align=center><span lang=EN-US><o:p>&nbsp;</o:p></span></p>",
                    "<p class=MsoNormal><o:p></o:p></p>",
                    "<p class=MsoNormal align=center>&nbsp;</p>",
                ))
            elif c.role == "value" and not lang_spans:
                inner = f"<p class=MsoNormal align=center>{html.escape(c.text)}</p>"
            else:
                spans = _spans(c.text.replace(chr(10), ""), rng, c.role != "value")
                inner = f"<p class=MsoNormal align=center>{spans}</p>"
            out.append(f"<td{attrs}>{inner}</td>")
        out.append("</tr>")
    out.append("</table>")
    return out


def render_html(report: Report, gold: Gold, rng: random.Random) -> Rendering:
    enc = rng.choice(("utf-8", "utf-8", "gbk", "gb2312"))
    wrapper = rng.choices(("page", "docwrite", "jsonvar"), weights=(6, 2, 2))[0]
    lang_spans = rng.random() < 0.5
    if rng.random() < 0.3:  # the part-3 corner cell left empty: <o:p>&nbsp;</o:p>
        report = _map_labels(report, lambda c: c.with_text("") if c.role == "corner" else c)
    year = int(gold["meta.year"])  # type: ignore[arg-type]
    body: list[str] = [
        "<table class=\"xxgk_table\" width=\"100%\">",
        f"<tr><td class=\"t1\">名　　称：</td><td colspan=3>{html.escape(report.title)}</td></tr>",
        "<tr><td class=\"t1\">索 引 号：</td>"
        f"<td>{rng.randint(10**8, 10**9 - 1)}/{year + 1}-{rng.randint(1, 99999):05d}</td>"
        f"<td class=\"t1\">发布机构：</td><td>{html.escape(str(gold['meta.agency']))}</td></tr>",
        f"<tr><td class=\"t1\">发文日期：</td><td>{year + 1}-01-{rng.randint(10, 31):02d}</td>"
        "<td class=\"t1\">主题分类：</td><td>政务公开</td></tr>",
        "</table>",
        "<div class=WordSection1 style='layout-grid:15.6pt'>",
        "<p class=MsoNormal align=center style='text-align:center'>"
        f"<b><span style='font-size:18.0pt;font-family:方正小标宋简体'>{html.escape(report.title)}</span></b></p>",
    ]
    para = "<p class=MsoNormal style='text-indent:32.0pt;line-height:28.0pt'>{}</p>"
    for p in report.intro:
        body.append(para.format(_spans(p, rng, False)))
    for part in report.parts:
        body.append(f"<p class=MsoNormal style='text-indent:32.0pt'><span style='font-family:黑体'>"
                    f"{html.escape(part.heading)}</span></p>")
        for p in part.paragraphs:
            body.append(para.format(_spans(p, rng, False)))
        if part.table:
            body += _html_table(part.table, rng, lang_spans)
            body.append("<p class=MsoNormal><span lang=EN-US><o:p>&nbsp;</o:p></span></p>")
    body.append("</div>")
    charset = {"utf-8": "utf-8", "gbk": "gbk", "gb2312": "gb2312"}[enc]
    head = _WORD_HEAD.format(charset=charset, title=html.escape(report.title))
    content = "\n".join(body)
    if wrapper == "page":
        doc = head + "<body lang=ZH-CN style='text-justify-trim:punctuation'>\n" + content + "\n</body>\n</html>\n"
    elif wrapper == "docwrite":
        js = content.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        doc = head + (f"<body>\n<div id=\"zoom\">\n<script type=\"text/javascript\">\ndocument.write(\"{js}\");\n"
                      "</script>\n</div>\n</body>\n</html>\n")
    else:
        payload = json.dumps({"title": report.title, "content": content}, ensure_ascii=rng.random() < 0.5)
        doc = head + (
            "<body>\n<div id=\"content\"></div>\n<script>\nvar pageData = " + payload + ";\n"
            "document.getElementById(\"content\").innerHTML = pageData.content;\n</script>\n</body>\n</html>\n"
        )
    python_enc = "gbk" if enc in ("gbk", "gb2312") else "utf-8"
    return Rendering(doc, f"{enc}+{wrapper}", ext=".html", encoding=python_enc)


# --- variants: label variants in a plain layout --------------------------------------------

_TRAD = dict(zip(
    "开请数处结转办国规务关机构审复议诉维纠总计项属类过执询现无补确获费缴应书单与为体会业组织险级门资产见际统报认选标据讲该预说学实长边东话网时问场电开发给员样号",
    "開請數處結轉辦國規務關機構審復議訴維糾總計項屬類過執詢現無補確獲費繳應書單與為體會業組織險級門資產見際統報認選標據講該預說學實長邊東話網時問場電開發給員樣號",
))
_ORD = re.compile(r"^(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)]|\d+\.)")


def _traditional(text: str) -> str:
    return "".join(_TRAD.get(ch, ch) for ch in text)


def _flatten_applicant_header(table: Table, style: str) -> Table:
    """One header row: 自然人 | 法人或其他组织（商业企业） | ... | 总计."""
    if table.name != "part3":
        return table
    corner = table.rows[0][0]
    heads = [GridCell("自然人", role="header")]
    for c in APPLICANT_COLUMNS[1:]:
        heads.append(GridCell(style.format(COLUMN_LABELS[c]), role="header"))
    heads.append(GridCell(table.rows[1][-1].text, role="header"))
    new_rows = [[replace(corner, rowspan=1)] + heads] + [list(r) for r in table.rows[table.header_rows:]]
    return Table(new_rows, 1, table.name)


def render_variants(report: Report, gold: Gold, rng: random.Random) -> Rendering:
    options = ["normative", "heji", "no-ordinals", "traditional", "legal-person-headers"]
    chosen = [o for o in options if rng.random() < 0.5] or [rng.choice(options)]
    trad_rows = rng.random() < 0.5  # traditional in every label or only some

    def fix(c: GridCell) -> GridCell:
        t = c.text
        if c.role == "value":
            return c
        if "normative" in chosen and t == "行政规范性文件":
            t = "规范性文件"
        if "heji" in chosen:
            t = t.replace("总计", "合计")
        if "no-ordinals" in chosen and c.role in ("label", "group"):
            t = _ORD.sub("", t)
        if "traditional" in chosen and (not trad_rows or rng.random() < 0.5):
            t = _traditional(t)
        return c.with_text(t)

    rep = _map_labels(report, fix)
    if "legal-person-headers" in chosen:
        style = rng.choice(("法人或其他组织（{}）", "法人或其他组织-{}", "法人或其他组织{}"))
        rep = replace(rep, parts=[replace(p, table=_flatten_applicant_header(p.table, style)) if p.table else p
                                  for p in rep.parts])
    base = rng.choice(PLAIN_LAYOUTS)
    out = RENDERERS[base](rep, gold, rng)
    out.variant = f"{base}:" + "+".join(chosen)
    return out


def render_t2019(report: Report, gold: Gold, rng: random.Random) -> Rendering:
    base = rng.choice(PLAIN_LAYOUTS)
    out = RENDERERS[base](report, gold, rng)
    out.variant = f"{base}:{out.variant}"
    return out


render_blanks = render_t2019  # a plain layout; the blanks come from the gold

RENDERERS: dict[str, Renderer] = {
    "cells": render_cells,
    "pipes": render_pipes,
    "tabs": render_tabs,
    "markdown": render_markdown,
    "digits": render_digits,
    "pdf": render_pdf,
    "ocr": render_ocr,
    "html": render_html,
    "variants": render_variants,
    "t2019": render_t2019,
    "blanks": render_blanks,
}

# --- cases -------------------------------------------------------------------------------


def _blank_text(layout: str, rng: random.Random) -> str:
    if layout == "blanks":
        return rng.choice(("", "/", "—", "无"))
    if layout in ("pdf", "digits"):
        return rng.choice(("/", "—"))
    if layout == "ocr":
        return rng.choice(("", "—"))
    return rng.choice(("", "", "/"))


def label_ambiguity(rendering: Rendering, template: TemplateName, broken: Sequence[str]) -> tuple[bool, list[str]]:
    """``ambiguous`` and ``ambiguous_keys`` for the glued runs of a rendering.

    Rules that the printed numbers break on purpose are left out: the question
    is whether the rules that do hold pin the split down.
    """
    if not rendering.runs:
        return False, []
    rules: list[Rule] = [r for r in rules_for(template) if rule_id(r) not in set(broken)]
    try:
        keys = ambiguous_keys(rendering.runs, rules)
    except SplitSearchTooLarge:
        return True, sorted({k for ks, _ in rendering.runs for k in ks})
    if keys is None:  # cannot happen for generated cases: the true split is consistent
        raise AssertionError("no consistent split for a generated case")
    return bool(keys), keys


def make_case(layout: str, index: int, seed: int) -> tuple[str, Rendering, dict]:
    """One case: (file stem, rendering, gold dict with ``_case``)."""
    rng = random.Random(f"gkllm-layouts:{seed}:{layout}:{index}")
    inconsistent = index % INCONSISTENT_EVERY == INCONSISTENT_EVERY // 2
    template: TemplateName = "2019" if layout == "t2019" else "2021"
    blanks = 0 if layout == "digits" else rng.randint(2, 8) if layout == "blanks" else None
    gold, broken = random_gold(rng, template, inconsistent=inconsistent, blanks=blanks)
    report = build_report(gold, rng, blank=_blank_text(layout, rng))
    rendering = RENDERERS[layout](report, gold, rng)
    ambiguous, amb_keys = label_ambiguity(rendering, template, broken)
    out = dict(gold)
    out["_case"] = {
        "layout": layout,
        "variant": rendering.variant,
        "encoding": rendering.encoding,
        "inconsistent_rules": broken,
        "ambiguous": ambiguous,
        "ambiguous_keys": amb_keys,
        "tricky_keys": sorted(set(rendering.tricky_keys), key=list(gold).index),
    }
    return f"{layout}_{index:03d}", rendering, out


# Relative case counts; html files are 4-5x larger than the others, so fewer.
LAYOUT_WEIGHTS: dict[str, float] = {layout: 1.0 for layout in LAYOUTS} | {"html": 0.6}


def plan(n: int) -> list[tuple[str, int]]:
    """(layout, per-layout index) for ``n`` cases, interleaved over LAYOUTS by weight."""
    total = sum(LAYOUT_WEIGHTS.values())
    quota = {layout: int(n * w / total) for layout, w in LAYOUT_WEIGHTS.items()}
    for layout in LAYOUTS:  # hand out the remainder in LAYOUTS order
        if sum(quota.values()) >= n:
            break
        quota[layout] += 1
    counts = {layout: 0 for layout in LAYOUTS}
    out: list[tuple[str, int]] = []
    while len(out) < n:
        for layout in LAYOUTS:
            if counts[layout] < quota[layout]:
                out.append((layout, counts[layout]))
                counts[layout] += 1
    return out


def write_corpus(out_dir: Path, n: int, seed: int) -> dict[str, int]:
    out_dir.mkdir(parents=True, exist_ok=True)
    pattern = re.compile(rf"^(?:{'|'.join(LAYOUTS)})_\d{{3}}(?:\.gold\.json|\.txt|\.html)$")
    for old in out_dir.iterdir():
        if pattern.match(old.name):
            old.unlink()
    counts: dict[str, int] = {}
    for layout, idx in plan(n):
        stem, rendering, gold = make_case(layout, idx, seed)
        (out_dir / f"{stem}{rendering.ext}").write_bytes(rendering.data())
        (out_dir / f"{stem}.gold.json").write_text(
            json.dumps(gold, ensure_ascii=False, indent=0, separators=(",", ":")) + "\n", encoding="utf-8")
        counts[layout] = counts.get(layout, 0) + 1
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval.gen.layouts", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("eval/cases/layouts"))
    ap.add_argument("--n", type=int, default=320)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    counts = write_corpus(args.out, args.n, args.seed)
    print(json.dumps(counts, ensure_ascii=False), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
