"""Label-anchored reading of the template's tables.

A row is found by its label (template anchors), never by counting positions;
its values are the value cells that follow, up to the next row label. This is
what lets one routine read one-cell-per-line dumps, pipe-flattened HTML and
tab tables alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

from ..template import compact, fold
from ..values import Value
from .cells import GLUED, Cell, parse_number

# Generic labels ("其他", "总计") may only match a row this close to the one
# expected next; otherwise the column header "其他" would be read as row 3.其他.
_EXACT_WINDOW = 3


@dataclass(frozen=True)
class RowSpec:
    name: str  # for messages
    keys: tuple[str, ...]
    anchors: tuple[str, ...] = ()
    exact: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # labels are compared folded (traditional, OCR misreads, 合计), so anchors are too
        object.__setattr__(self, "anchors", tuple(fold(a) for a in self.anchors))
        object.__setattr__(self, "exact", tuple(fold(a) for a in self.exact))

    def matches(self, text: str) -> bool:
        return any(a in text for a in self.anchors)

    def matches_exact(self, text: str) -> bool:
        return text in self.exact


@dataclass
class PendingRun:
    """A row printed as one glued digit run; split later, against the rules."""

    name: str
    keys: tuple[str, ...]
    cell: Cell


@dataclass
class TableResult:
    values: dict[str, Value] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    found_rows: list[str] = field(default_factory=list)
    # value cells not claimed by any row: useful for diagnostics and for the LLM
    orphans: list[Cell] = field(default_factory=list)
    runs: list[PendingRun] = field(default_factory=list)


def _match(label: str, specs: Sequence[RowSpec], idx: int, glued: bool = False) -> int | None:
    for j in range(idx, len(specs)):
        if specs[j].matches(label):
            return j
        if j - idx < _EXACT_WINDOW and specs[j].matches_exact(label):
            return j
    if glued:
        # "…现行有效件数规章012": a header glued before the row's own label
        for j in range(idx, min(idx + _EXACT_WINDOW, len(specs))):
            if any(label.endswith(e) for e in specs[j].exact):
                return j
    return None


def _sums(values: list[int | float], row_sum: bool) -> bool:
    """R3 on one printed row: the last cell is the sum of the others."""
    return row_sum and len(values) > 1 and sum(values[:-1]) == values[-1]


def _merge_split_number(filled: list[Cell], n: int, row_sum: bool) -> list[Cell] | None:
    """"1 2" where the column needs 12 (PDF spacing): merge two neighbouring
    numbers only when exactly one such merge makes the row add up (R3)."""
    if not row_sum or len(filled) != n + 1 or any(c.kind != "number" or not isinstance(c.value, int) for c in filled):
        return None
    found: list[list[Cell]] = []
    for i in range(n):
        a, b = filled[i], filled[i + 1]
        if a.text == "0" or a.line != b.line or b.start - a.end != 1 or not (a.text + b.text).isdigit():
            continue
        merged = Cell("number", f"{a.text} {b.text}", a.start, b.end, a.line, int(a.text + b.text))
        cand = filled[:i] + [merged] + filled[i + 2 :]
        if _sums([c.value for c in cand], True):  # type: ignore[misc]
            found.append(cand)
    return found[0] if len(found) == 1 else None


def _take(cells: list[Cell], n: int, *, row_sum: bool = False, label_line: int | None = None) -> tuple[list[Cell | None], str | None]:
    """Choose n cells from what followed a label; None marks a printed blank."""
    if label_line is not None:
        # a row printed on its label's line ends with that line
        same = [c for c in cells if c.line == label_line]
        if any(c.is_value for c in same) and all(c.line == label_line for c in cells if c.is_value):
            cells = same
    lo, hi = 0, len(cells)
    while hi > lo and cells[hi - 1].kind == "empty":
        hi -= 1
    while lo < hi and cells[lo].kind == "empty":
        lo += 1
    filled = [c for c in cells[lo:hi] if c.is_value]
    if len(filled) == n:
        return list(filled), None
    if len(filled) < n:
        # empty cells are printed blanks when exactly n cells remain, positions intact;
        # a blank may also be the first or last cell of the row
        for a, b in ((lo, hi), (lo, lo + n), (hi - n, hi)):
            window = cells[max(a, 0):b]
            if len(window) == n and all(c.kind in ("empty", "number", "null") for c in window):
                return [c if c.is_value else None for c in window], None
        return [], f"{len(filled)} value cells where {n} were expected"
    merged = _merge_split_number(filled, n, row_sum)
    if merged is not None:
        return list(merged), None
    if row_sum:
        return [], f"{len(filled)} value cells where {n} were expected; no single reading adds up, left null"
    return filled[:n], f"{len(filled)} value cells where {n} were expected; extra cells ignored"


_ORDINAL_START = re.compile(r"^\s*(?:[一二三四五六七八九十]+[、.]|[(（][一二三四五六七八九十\d]+[)）]|\d+[.、])")


def _headerish(label: str, header_words: tuple[str, ...]) -> bool:
    """The label is a column header word, or a piece of one wrapped over lines."""
    return bool(label) and any(label in w for w in header_words)


def _n_values(block: list[Cell], n: int) -> int:
    return sum(n if c.kind == "run" else 1 for c in block if c.is_value or c.kind == "run")


def read_rows(cells: Sequence[Cell], specs: Sequence[RowSpec], *, decimal_keys: frozenset[str] = frozenset(),
              signed_keys: frozenset[str] = frozenset(), row_sum: bool = False,
              header_words: tuple[str, ...] = ()) -> TableResult:
    """Rows found by label; each row's values are the cells up to the next row label.

    Labels stacked above their numbers (PDF text: two labels, then two rows of
    numbers) share the numbers in order. ``header_words``: the column header's
    words (folded); a run of them is a header repeated after a page break, not
    row labels ("其他", "总计" are both). ``row_sum``: the last key of a row is
    the sum of the others (R3), used to tell a number split by a space.
    """
    res = TableResult()
    idx = 0
    current: int | None = None
    label_cell: Cell | None = None
    block: list[Cell] = []
    hits: list[tuple[int, Cell, list[Cell]]] = []
    prev_label: Cell | None = None  # an unmatched label just before: a label wrapped over two lines

    header_run = False  # the last label was part of a (repeated) column header, no values since

    for cell in cells:
        if cell.kind == "label":
            label = compact(cell.text)
            if header_words and _headerish(label, header_words) and not _ORDINAL_START.match(cell.text):
                # a column header repeated after a page break: "…法律服务机构 / 其他 / 3.其他"
                was, header_run = header_run, True
                if was or label not in header_words:
                    prev_label = None
                    continue
            else:
                header_run = False
            j = _match(label, specs, idx, cell.note == GLUED)
            if j is None and prev_label is not None and prev_label.line == cell.line - 1:
                j = _match(compact(prev_label.text + cell.text), specs, idx)
            if j is not None:
                if current is not None:
                    hits.append((current, label_cell, block))  # type: ignore[arg-type]
                else:
                    res.orphans.extend(c for c in block if c.is_value)
                current, idx, label_cell, block, prev_label = j, j + 1, cell, [], None
                res.found_rows.append(specs[j].name)
                continue
            prev_label = cell
            if current is not None and _n_values(block, len(specs[current].keys)) >= len(specs[current].keys):
                hits.append((current, label_cell, block))  # type: ignore[arg-type]
                current, block = None, []
            continue
        if cell.kind != "empty":
            prev_label = None
            header_run = False
        block.append(cell)
    if current is not None:
        hits.append((current, label_cell, block))  # type: ignore[arg-type]
    else:
        res.orphans.extend(c for c in block if c.is_value)

    _unstack(hits, specs)
    for j, lab, blk in hits:
        spec = specs[j]
        n = len(spec.keys)
        runs = [c for c in blk if c.kind == "run"]
        if runs and not any(c.is_value for c in blk):
            if len(runs) == 1:
                run = runs[0]
                if n == 1 and " " not in run.text:
                    num = parse_number(run.text)
                    if num is not None:
                        res.values[spec.keys[0]] = _to_value(
                            spec.keys[0], Cell("number", run.text, run.start, run.end, run.line, num[0]), res.warnings,
                            spec.keys[0] in decimal_keys, spec.keys[0] in signed_keys)
                        continue
                res.runs.append(PendingRun(spec.name, spec.keys, run))
                continue
            res.warnings.append(f"row {spec.name}: {len(runs)} digit runs where one was expected")
            continue
        chosen, problem = _take(blk, n, row_sum=row_sum and n > 2, label_line=lab.line)
        run = as_run(blk, n) if problem else None
        if run is not None:
            res.runs.append(PendingRun(spec.name, spec.keys, run))
            continue
        if problem:
            res.warnings.append(f"row {spec.name}: {problem}")
        for key, c in zip(spec.keys, chosen):
            res.values[key] = _to_value(key, c, res.warnings, key in decimal_keys, key in signed_keys)
    return res


def as_run(block: Sequence[Cell], n: int) -> Cell | None:
    """Fewer whole numbers than cells, all on one line: the digits of a row whose
    separators were lost ("20000201403775801427", "2000 0 2014037"), to be split by the rules."""
    vals = [c for c in block if c.kind != "empty"]
    if not vals or len(vals) >= n or any(c.kind != "number" or not c.text.isdigit() for c in vals):
        return None
    if len({c.line for c in vals}) != 1 or any(c.kind == "empty" and vals[0].start < c.start < vals[-1].end for c in block):
        return None
    text = vals[0].text
    for a, b in zip(vals, vals[1:]):
        text += " " * (b.start - a.end) + b.text
    return Cell("run", text, vals[0].start, vals[-1].end, vals[0].line)


def _unstack(hits: list[tuple[int, Cell, list[Cell]]], specs: Sequence[RowSpec]) -> None:
    """Labels printed one after another, then their rows of numbers: give each
    label its share, in order, when the counts match exactly."""
    i = 0
    while i < len(hits):
        if any(c.is_value or c.kind == "run" for c in hits[i][2]):
            i += 1
            continue
        k = i
        while k < len(hits) and not any(c.is_value or c.kind == "run" for c in hits[k][2]):
            k += 1
        if k == len(hits):
            break
        vals = [c for c in hits[k][2] if c.is_value]
        need = [len(specs[hits[m][0]].keys) for m in range(i, k + 1)]
        lines = sorted({c.line for c in vals})
        if any(c.kind == "run" for c in hits[k][2]):
            pass
        elif len(lines) == k + 1 - i:
            # one printed line of numbers per stacked label
            for m, ln in zip(range(i, k + 1), lines):
                j, lab, _ = hits[m]
                hits[m] = (j, lab, [c for c in vals if c.line == ln])
        elif len(vals) == sum(need):
            pos = 0
            for m, size in zip(range(i, k + 1), need):
                j, lab, _ = hits[m]
                hits[m] = (j, lab, vals[pos : pos + size])
                pos += size
        i = k + 1


def _to_value(key: str, cell: Cell | None, warnings: list[str], decimal: bool, signed: bool) -> Value:
    if cell is None:
        warnings.append(f"{key}: printed blank, read as null")
        return Value(None)
    if cell.kind == "null":
        warnings.append(f"{key}: printed {cell.text!r}, read as null")
        return Value(None, cell.start, cell.end, cell.line, text=cell.text)
    v = cell.value
    notes = [f"annotation {cell.note}"] if cell.note else []
    if isinstance(v, float) and not decimal:
        if v.is_integer():
            v = int(v)
        else:
            warnings.append(f"{key}: {cell.text!r} is not a whole count, read as null")
            return Value(None, cell.start, cell.end, cell.line, text=cell.text)
    if v is not None and v < 0 and not signed:
        warnings.append(f"{key}: negative count {cell.text!r} kept as printed")
    return Value(v, cell.start, cell.end, cell.line, text=cell.text, notes=notes)
