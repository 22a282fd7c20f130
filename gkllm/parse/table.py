"""Label-anchored reading of the template's tables.

A row is found by its label (template anchors), never by counting positions;
its values are the value cells that follow, up to the next row label. This is
what lets one routine read one-cell-per-line dumps, pipe-flattened HTML and
tab tables alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from ..template import compact, fold
from ..values import Value
from .cells import Cell

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
class TableResult:
    values: dict[str, Value] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    found_rows: list[str] = field(default_factory=list)
    # value cells not claimed by any row: useful for diagnostics and for the LLM
    orphans: list[Cell] = field(default_factory=list)


def _match(label: str, specs: Sequence[RowSpec], idx: int) -> int | None:
    for j in range(idx, len(specs)):
        if specs[j].matches(label):
            return j
        if j - idx < _EXACT_WINDOW and specs[j].matches_exact(label):
            return j
    return None


def _take(cells: list[Cell], n: int) -> tuple[list[Cell | None], str | None]:
    """Choose n cells from what followed a label; None marks a printed blank."""
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
            if len(window) == n and all(c.kind != "label" for c in window):
                return [c if c.is_value else None for c in window], None
        cells = cells[lo:hi]
    if len(filled) > n:
        return filled[:n], f"{len(filled)} value cells where {n} were expected; extra cells ignored"
    return [], f"{len(filled)} value cells where {n} were expected"


def read_rows(cells: Sequence[Cell], specs: Sequence[RowSpec], *, decimal_keys: frozenset[str] = frozenset(),
              signed_keys: frozenset[str] = frozenset()) -> TableResult:
    res = TableResult()
    idx = 0
    current: int | None = None
    pending: list[Cell] = []

    def close() -> None:
        nonlocal pending
        if current is None:
            res.orphans.extend(c for c in pending if c.is_value)
            pending = []
            return
        spec = specs[current]
        chosen, problem = _take(pending, len(spec.keys))
        if problem:
            res.warnings.append(f"row {spec.name}: {problem}")
        for key, cell in zip(spec.keys, chosen):
            res.values[key] = _to_value(key, cell, res.warnings, key in decimal_keys, key in signed_keys)
        pending = []

    for cell in cells:
        if cell.kind == "label":
            label = compact(cell.text)
            j = _match(label, specs, idx)
            if j is not None:
                close()
                current, idx = j, j + 1
                res.found_rows.append(specs[j].name)
                continue
            n_vals = sum(1 for c in pending if c.is_value)
            if current is not None and n_vals >= len(specs[current].keys):
                close()
                current = None
            continue
        pending.append(cell)
    close()
    return res


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
