"""Parts 2, 3 and 4: the template's tables read from the stream.

Parts 2 and 3 are tables of labelled rows (``read_rows``): labels found in the
stream, the numbers between them tokenized, each row's numbers placed beside
its label or by order (``parse.rows``). Part 4 has no row labels: two header
rows, then its 15 numbers in the template's order (``read_part4``). What a
table cannot settle alone (runs of digits whose cell boundaries are lost) is
handed on as ``RunTask``s, split later against the rules of the whole report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from itertools import permutations
from typing import Literal, NamedTuple, Sequence

from ..document import Document
from ..models import Diagnostic
from ..segment import Segment, Stream
from ..template import (
    COLUMN_LABELS,
    COLUMNS,
    PART2,
    PART2_HEADER_LABELS,
    PART3_GROUP_LABELS,
    PART3_HEADER_LABELS,
    PART4_HEADER_LABELS,
    REVIEW_GROUP_LABELS,
    TEMPLATE_2019_MARKERS,
    Rule,
    TemplateName,
    key_kind,
    part4_keys,
    rows_for,
    rules_for,
)
from ..text import compact, fold
from ..values import Value
from .digit_runs import RunTask
from .labels import LabelHit, RowSpec, find_labels, fuzzy_row, make_spec
from .rows import Block, Break, Item, LabelItem, Placement, assign, build_items, is_run, leading_zero, positional
from .stream import COUNT_LIMIT, Cell, Text, silence_prose, tokenize, value_of

RowHow = Literal["beside", "order", "run", "missing"]


class RowRead(NamedTuple):
    """Where one row was printed: for the LLM's questions and for people checking the output."""

    name: str
    keys: tuple[str, ...]
    label: tuple[int, int] | None  # document offsets of its label
    numbers: tuple[int, int] | None  # of its numbers
    how: RowHow


@dataclass
class TableRead:
    part: int
    values: dict[str, Value] = field(default_factory=dict)
    runs: list[RunTask] = field(default_factory=list)
    rows: list[RowRead] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    found: bool = False  # any of the table's labels (or part 4's numbers) was found
    cells: list[Cell] = field(default_factory=list)  # every number printed in the table, placed or not
    single_other: bool = False  # a 2021 report printing （六）其他处理 as one row


# -- the template, as the reader needs it --------------------------------------------------------


@lru_cache(maxsize=None)
def part2_specs(template: TemplateName) -> tuple[RowSpec, ...]:
    return tuple(make_spec(item.label, item.keys, item.label, item.anchors or (item.label,), ())
                 for item in PART2[template])


@lru_cache(maxsize=None)
def part3_specs(template: TemplateName) -> tuple[RowSpec, ...]:
    specs = []
    for row in rows_for(template):
        exact = row.exact + (row.exact_2019 if template == "2019" else ())
        # 2021: （六）其他处理 is a heading, unless a report prints it as the one row of its group
        group = ("其他处理",) if row.key == "other_other" and template == "2021" else ()
        specs.append(make_spec(row.key, [f"requests.{row.key}.{c}" for c in COLUMNS], row.label, row.anchors, exact,
                               row.ordinal, group))
    return tuple(specs)


@lru_cache(maxsize=None)
def _vocabulary(part: int, template: TemplateName) -> str:
    """Everything printed in a table that is not a value: labels, headers, headings (compact, NUL-joined)."""
    if part == 2:
        words = [i.label for i in PART2[template]] + list(PART2_HEADER_LABELS)
    elif part == 3:
        words = [r.label for r in rows_for(template)] + list(PART3_GROUP_LABELS) + list(PART3_HEADER_LABELS) \
            + list(COLUMN_LABELS.values()) + ["商业", "企业", "科研", "机构", "三、本年度办理结果"]
    else:
        words = list(PART4_HEADER_LABELS) + ["结果", "维持", "纠正", "其他", "尚未", "审结"]
    return "\x00".join(compact(w) for w in words)


@lru_cache(maxsize=None)
def _header_words(part: int) -> tuple[str, ...]:
    if part == 3:
        words = [*COLUMN_LABELS.values(), "法人或其他组织", "申请人情况", "企业", "机构"]
    else:
        words = []
    return tuple(fold(w) for w in words)


@lru_cache(maxsize=None)
def _headings(part: int) -> tuple[str, ...]:
    """Group headings and their pieces (a heading wrapped over lines), longest first."""
    if part != 3:
        return ()
    words = {compact(w) for w in (*PART3_GROUP_LABELS, "本年度办理结果")}
    pieces = {w[a:b] for w in words for a in range(len(w)) for b in range(a + 2, len(w) + 1)}
    return tuple(sorted(pieces, key=len, reverse=True))


def detect_template(stream: Stream, segs: dict[int, Segment]) -> TemplateName:
    """2019 when part 2 prints a label only the 2019 template has."""
    seg = segs.get(2)
    if seg is None:
        return "2021"
    lo = stream.view.index(seg.start)
    hi = stream.view.index(segs[3].start) if 3 in segs else stream.view.index(seg.end)
    region = stream.view.s[lo:hi]
    return "2019" if any(fold(m) in region for m in TEMPLATE_2019_MARKERS) else "2021"


# -- parts 2 and 3 -------------------------------------------------------------------------------


def read_part2(stream: Stream, seg: Segment | None, template: TemplateName) -> TableRead:
    return read_rows(stream, seg, 2, part2_specs(template), template)


def read_part3(stream: Stream, seg: Segment | None, template: TemplateName) -> TableRead:
    return read_rows(stream, seg, 3, part3_specs(template), template)


def read_rows(stream: Stream, seg: Segment | None, part: int, specs: Sequence[RowSpec],
              template: TemplateName) -> TableRead:
    res = TableRead(part)
    if seg is None:
        res.warnings.append(f"part {part} not found")
        return res
    doc, folded = stream.doc, stream.folded
    lo, hi = seg.start, seg.end
    hits = find_labels(stream.view, folded, lo, hi, specs, _header_words(part), _headings(part))
    if not hits:
        res.warnings.append(f"part {part}: none of its row labels was found")
        return res
    res.found = True
    tokens = tokenize(doc, folded, lo, hi, _vocabulary(part, template))
    pieces = silence_prose(
        _overlay(tokens, [LabelHit(h.row, h.start, h.end, h.kind, h.weight, doc.line_of(h.start)) for h in hits]))
    pieces = [Text("label", folded[p.start:p.end], p.start, p.end) if isinstance(p, LabelHit) and p.kind == "displaced"
              else p for p in pieces]
    res.cells = [p for p in pieces if isinstance(p, Cell) and p.kind == "number"]
    items = build_items(pieces)
    _fuzzy_labels(items, specs, doc)
    res.single_other = _resolve_group_row(items, specs, res)
    placed, orphans = assign(items, specs)
    _place(res, placed, specs, template)
    stray = sum(b.count for b in orphans)
    if stray:
        res.warnings.append(f"part {part}: {stray} printed number(s) belong to no row; not read")
    return res


def _overlay(tokens: list[Cell | Text], hits: list[LabelHit]) -> list[LabelHit | Cell | Text]:
    """Labels and tokens in printed order. A label's own text goes; numbers printed inside a
    label's span (a label wrapped around its row's numbers) stay, after the label."""
    out: list[LabelHit | Cell | Text] = []
    k = 0
    for t in tokens:
        while k < len(hits) and hits[k].start <= t.start:
            out.append(hits[k])
            k += 1
        if t.__class__ is Cell and k < len(hits) and t.start < hits[k].start < t.end:
            # "…00000002.其他法律…": the label starts at its ordinal, the last digit of the run
            cut = hits[k].start
            head = t.text[: cut - t.start]
            if not any(ch.isdigit() for ch in head):
                continue  # a sign before the ordinal: nothing of a number is left
            t = t._replace(text=head, end=cut, value=value_of(head))
        inside = k > 0 and t.start < hits[k - 1].end
        if inside and (isinstance(t, Text) or (t.kind == "null" and not t.text.isascii())):
            continue  # the label's own text ("无" of a letter-spaced "无 正 当 理 由" is not a blank)
        out.append(t)
    out.extend(hits[k:])
    return out


def _fuzzy_labels(items: list[Item], specs: Sequence[RowSpec], doc: Document) -> None:
    """Unknown text between two found labels may be a missing row's label, misprinted or cut."""
    found = {it.row for it in items if isinstance(it, LabelItem)}
    prev_row = -1
    for k, it in enumerate(items):
        if isinstance(it, LabelItem):
            prev_row = it.row
            continue
        if not isinstance(it, Break) or it.text.kind != "unknown":
            continue
        nxt = next((x.row for x in items[k + 1 :] if isinstance(x, LabelItem)), len(specs))
        missing = [r for r in range(prev_row + 1, nxt) if r not in found]
        row = fuzzy_row(it.text.text, missing, specs) if missing else None
        if row is not None:
            t = it.text
            items[k] = LabelItem(row, LabelHit(row, t.start, t.end, "fuzzy", 2, doc.line_of(t.start)))
            found.add(row)
            prev_row = row


def _resolve_group_row(items: list[Item], specs: Sequence[RowSpec], res: TableRead) -> bool:
    """（六）其他处理 read as a row: the 2021 report prints it as the 2019 template does."""
    group = [it for it in items if isinstance(it, LabelItem) and it.hit.kind == "group"]
    if not group:
        return False
    row = specs[group[0].row]
    res.diagnostics.append(Diagnostic(
        kind="template_variant", keys=list(row.keys),
        message="（六）其他处理 is printed as one row, as in the 2019 template: read as requests.other_other "
                "(the spec's 2019 rule); its sub-rows other_no_correction and other_no_fee are not printed"))
    return True


def _place(res: TableRead, placed: dict[int, Placement], specs: Sequence[RowSpec], template: TemplateName) -> None:
    rules = rules_for(template)
    windows: dict[int, list[Placement]] = {}
    for q in placed.values():
        if q.how == "order" and q.cells is not None:
            windows.setdefault(q.window, []).append(q)
    doubtful = {w for w, ps in windows.items() if not _window_holds(ps, specs, rules)}
    in_group = {x for q in placed.values() for x in q.rows[1:]}
    for r, spec in enumerate(specs):
        why: str | None = None
        if r in in_group:
            continue  # read with the first row of its group
        p = placed.get(r)
        label = (p.label.start, p.label.end) if p is not None and p.label is not None else None
        if p is None or (p.cells is None and p.run is None):
            if p is not None and p.problem:
                res.warnings.append(f"row {spec.name}: {p.problem}; left null")
            res.rows.append(RowRead(spec.name, spec.keys, label, None, "missing"))
            continue
        if p.run is not None:
            group = [specs[x] for x in p.rows] if p.rows else [spec]
            keys = tuple(k for g in group for k in g.keys)
            res.runs.append(RunTask(" + ".join(g.name for g in group), keys, p.run))
            for g in group:
                res.rows.append(RowRead(g.name, g.keys, label if g is spec else None,
                                        (p.run[0].start, p.run[-1].end), "run"))
            continue
        cells = p.cells
        assert cells is not None
        printed = [c for c in cells if c is not None]
        span = (printed[0].start, printed[-1].end) if printed else None
        if leading_zero(printed):
            # "00" is no printed count: the separators around it are not where the cells end
            res.rows.append(RowRead(spec.name, spec.keys, label, span, "missing"))
            res.warnings.append(f"row {spec.name}: a number with a leading zero among its cells; left null")
            continue
        if p.how == "order" and p.window in doubtful:
            res.rows.append(RowRead(spec.name, spec.keys, label, span, "missing"))
            continue
        if p.how == "beside":
            cells, why = _line_order(cells, spec, template)
            if cells is None:
                res.rows.append(RowRead(spec.name, spec.keys, label, span, "missing"))
                res.warnings.append(f"row {spec.name}: {why}; left null")
                res.diagnostics.append(
                    Diagnostic(kind="ambiguous", keys=list(spec.keys), message=f"row {spec.name}: {why}"))
                continue
        res.rows.append(RowRead(spec.name, spec.keys, label, span, p.how))
        values = res.values
        plain = p.how == "beside" and not why
        for key, cell in zip(spec.keys, cells):
            if plain and cell is not None and cell.value.__class__ is int and cell.value >= 0 and not cell.note \
                    and len(cell.text) <= COUNT_LIMIT and key_kind(key) == "count":
                # the common cell, a plain count beside its label
                values[key] = Value(cell.value, cell.start, cell.end, cell.line, text=cell.text)
                continue
            v = cell_value(key, cell, res.warnings)
            if p.how == "order":
                v.notes.append("placed by the order of the rows: its label is not printed beside it")
            if p.how == "beside" and why:
                v.notes.append(why)
            values[key] = v
    for w in sorted(doubtful):
        window_keys = [k for q in windows[w] for k in specs[q.row].keys]
        rows = ", ".join(specs[q.row].name for q in windows[w])
        res.diagnostics.append(Diagnostic(
            kind="ambiguous", keys=window_keys,
            message=f"rows {rows}: their numbers are not printed beside their labels and, placed by order, "
                    "break a rule of their rows; left null"))
        res.warnings.append(f"rows {rows}: numbers not beside their labels and not placeable by order; left null")


@lru_cache(maxsize=512)
def _rules_within(template: TemplateName, keys: tuple[str, ...]) -> tuple[Rule, ...]:
    """The rules whose every operand is one of ``keys`` (R3 for a part-3 row)."""
    inside = set(keys)
    return tuple(r for r in rules_for(template) if inside.issuperset(r.operands))


def _line_order(cells: list[Cell | None], spec: RowSpec, template: TemplateName
                ) -> tuple[list[Cell | None] | None, str | None]:
    """A row printed over several lines (PDF text puts a cell a line above the others when
    its box is taller) is read in printed order only if its own rules hold so; else in the one
    order of its lines that they allow; else not at all."""
    if len({c.line for c in cells if c is not None}) in (1, len(cells)):
        return cells, None  # one line, or one cell per line: the order is as printed; a failing rule is the report's
    inside = _rules_within(template, spec.keys)
    if not inside or any(c is None or c.kind != "number" for c in cells):
        return cells, None

    def holds(order: Sequence[Cell]) -> bool:
        values = {k: c.value for k, c in zip(spec.keys, order)}
        return all(r.holds(values) is not False for r in inside)

    printed = [c for c in cells if c is not None]
    if holds(printed):
        return cells, None
    groups: list[list[Cell]] = []
    for c in printed:
        if groups and groups[-1][-1].line == c.line:
            groups[-1].append(c)
        else:
            groups.append([c])
    if len(groups) < 2 or all(len(g) == 1 for g in groups):
        return cells, None
    fits = [order for order in permutations(groups) if list(order) != groups and len(groups) <= 4
            and holds([c for g in order for c in g])]
    if len(fits) == 1:
        return [c for g in fits[0] for c in g], (f"printed over {len(groups)} lines out of column order; read in the "
                                                 "only order of its lines under which its rules hold")
    return None, (f"printed over {len(groups)} lines, and its rules fail as read"
                  + (f" and hold in {len(fits)} other orders of its lines" if fits else ""))


def _window_holds(ps: list[Placement], specs: Sequence[RowSpec], rules: Sequence[Rule]) -> bool:
    """Rows placed by order must satisfy every rule that lies within them, unless
    each row's numbers are exactly one printed line (stacked labels, then one
    line of numbers per label): then the lines themselves say where rows end,
    and a rule that fails is the report's, reported as such."""
    lines = [{c.line for c in p.cells or () if c is not None} for p in ps]
    if all(len(ls) == 1 for ls in lines) and len({min(ls) for ls in lines}) == len(ps) \
            and _lines_whole(ps):
        return True
    values: dict[str, float | None] = {}
    for p in ps:
        for key, cell in zip(specs[p.row].keys, p.cells or ()):
            values[key] = cell.value if cell is not None else None
    inside = [r for r in rules if all(k in values for k in r.operands)]
    return all(r.holds(values) is not False for r in inside)


def _lines_whole(ps: list[Placement]) -> bool:
    """No row shares its line with numbers of another row."""
    seen: dict[int, int] = {}
    for i, p in enumerate(ps):
        for c in p.cells or ():
            if c is not None and seen.setdefault(c.line, i) != i:
                return False
    return True


def cell_value(key: str, cell: Cell | None, warnings: list[str]) -> Value:
    """The value of one printed cell, as the key's kind allows."""
    if cell is None:
        warnings.append(f"{key}: printed blank, read as null")
        return Value(None)
    v = cell.value
    if v.__class__ is int and v >= 0 and not cell.note and len(cell.text) <= COUNT_LIMIT and key_kind(key) == "count":
        return Value(v, cell.start, cell.end, cell.line, text=cell.text)  # the common cell: a plain count
    if cell.kind != "number":
        warnings.append(f"{key}: printed {cell.text!r}, read as null")
        return Value(None, cell.start, cell.end, cell.line, text=cell.text)
    v = cell.value
    kind = key_kind(key)
    if len(cell.text) - cell.text.count(",") - cell.text.count(".") > COUNT_LIMIT:
        warnings.append(f"{key}: {cell.text[:20]}… ({len(cell.text)} digits) is too long to be a count, read as null")
        return Value(None, cell.start, cell.end, cell.line, text=cell.text[:40])
    notes = [f"annotation {cell.note}"] if cell.note else []
    if isinstance(v, float) and kind != "amount":
        if v.is_integer():
            v = int(v)
        else:
            warnings.append(f"{key}: {cell.text!r} is not a whole count, read as null")
            return Value(None, cell.start, cell.end, cell.line, text=cell.text)
    if kind == "amount" and isinstance(v, int):
        v = float(v)
    if v is not None and v < 0 and kind != "signed":
        warnings.append(f"{key}: negative count {cell.text!r} kept as printed")
    return Value(v, cell.start, cell.end, cell.line, text=cell.text, notes=notes)


# -- part 4 ----------------------------------------------------------------------------------------


def read_part4(stream: Stream, seg: Segment | None) -> TableRead:
    """The 15 review numbers: two header rows, then one printed row, groups side by side."""
    res = TableRead(4)
    if seg is None:
        res.warnings.append("part 4 not found")
        return res
    keys = tuple(part4_keys())
    tokens = tokenize(stream.doc, stream.folded, seg.table_start if seg.table_start is not None else seg.start,
                      seg.end, _vocabulary(4, "2021"))
    tokens = silence_prose(tokens)
    res.cells = [t for t in tokens if isinstance(t, Cell) and t.kind == "number"]
    items = build_items(tokens)
    blocks = [it for it in items if isinstance(it, Block) and it.count]
    if not blocks:
        res.warnings.append("part 4: no numbers printed")
        return res
    until_prose: list[Cell] = []
    for it in items:
        if isinstance(it, Break) and it.text.kind == "prose" and until_prose:
            break
        if isinstance(it, Block):
            until_prose.extend(it.filled)
    blanks = positional(blocks[0], len(keys), blocks[0].filled[0].line)
    if blanks is not None:
        res.found = True
        for key, cell in zip(keys, blanks):
            res.values[key] = cell_value(key, cell, res.warnings)
        printed = [c for c in blanks if c is not None]
        res.rows.append(RowRead("part 4", keys, None, (printed[0].start, printed[-1].end), "beside"))
        return res
    for cells in (blocks[0].filled, until_prose):
        if len(cells) == len(keys):
            res.found = True
            for key, cell in zip(keys, cells):
                res.values[key] = cell_value(key, cell, res.warnings)
            res.rows.append(RowRead("part 4", keys, None, (cells[0].start, cells[-1].end), "beside"))
            return res
        if is_run(cells, len(keys)):
            res.found = True
            res.runs.append(RunTask("part 4", keys, list(cells)))
            res.rows.append(RowRead("part 4", keys, None, (cells[0].start, cells[-1].end), "run"))
            return res
    whole = _whole_lines(stream.doc, tokens, len(keys))
    if len(whole) == 1:
        # a line of exactly the 15 numbers and nothing else, among stray digits of a header OCR misread
        # ("结果纠正" read as "4+用 口"): that line is the row; the strays are said, not read
        cells = whole[0]
        res.found = True
        for key, cell in zip(keys, cells):
            res.values[key] = cell_value(key, cell, res.warnings)
        res.rows.append(RowRead("part 4", keys, None, (cells[0].start, cells[-1].end), "beside"))
        res.warnings.append(f"part 4: {len(until_prose) - len(keys)} printed number(s) outside its row's line; "
                            "not read")
        return res
    res.warnings.append(f"part 4: {len(until_prose)} numbers where {len(keys)} were expected; left null")
    return res


def _whole_lines(doc: Document, tokens: Sequence[Cell | Text], n: int) -> list[list[Cell]]:
    """The lines that print exactly ``n`` number cells and nothing else."""
    lines: dict[int, list[Cell | Text]] = {}
    for t in tokens:
        if isinstance(t, Text) and t.kind == "ignore":
            continue
        lines.setdefault(t.line if isinstance(t, Cell) else doc.line_of(t.start), []).append(t)
    out: list[list[Cell]] = []
    for toks in lines.values():
        cells = [t for t in toks if isinstance(t, Cell) and t.kind == "number"]
        if len(cells) == n == len(toks):
            out.append(cells)
    return out


__all__ = ["TableRead", "RowRead", "read_part2", "read_part3", "read_part4", "detect_template", "part2_specs",
           "part3_specs", "cell_value", "REVIEW_GROUP_LABELS"]
