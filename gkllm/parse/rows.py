"""Which printed numbers belong to which row.

The stream between two labels is a *block* of cells. In most layouts a row
is its label followed by exactly its cells: the label is beside its numbers.
PDF and OCR conversions break that: two labels printed one after the other
and then their two rows of numbers, the numbers of a row printed before its
label or between the halves of a wrapped label, a row cut by a page break.
What they keep is the order. So a row that is not read beside its label is
placed by order inside the smallest *window* of labels and blocks whose cells
are exactly the cells of its rows (the running balance of cells printed minus
cells expected returns to zero), and only if that window closes; a window
whose rows break a rule is not placed at all (``parts`` checks that). Nothing
is ever placed by counting positions from the top of the table.

Orientation: when numbers come before their labels (the first label has
numbers before it, the last has none after it), the same reading runs on the
mirrored sequence.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal, Sequence, Union

from .labels import LabelHit, RowSpec
from .stream import Cell, Text

MAX_WINDOW = 30  # labels in one window: a whole table whose label column was printed apart from its numbers
MAX_MERGES = 2  # a row printed with a few more numbers than cells: numbers split by a stray space


@dataclass(slots=True)
class Block:
    """Consecutive cells between two labels, or between a label and text."""

    cells: list[Cell] = field(default_factory=list)

    @property
    def filled(self) -> list[Cell]:
        return [c for c in self.cells if c.kind != "empty"]

    @property
    def count(self) -> int:
        return sum(1 for c in self.cells if c.kind != "empty")


@dataclass(slots=True)
class LabelItem:
    row: int
    hit: LabelHit


@dataclass(slots=True)
class Break:
    """Unknown text or prose: it ends a block."""

    text: Text


Item = Union[LabelItem, Block, Break]
How = Literal["beside", "order"]


@dataclass
class Placement:
    """What was printed for one row."""

    row: int
    cells: list[Cell | None] | None = None  # exactly the row's cells; None: a printed blank
    run: list[Cell] | None = None  # numbers whose digits hold the row's cells (glued or split): for the rules
    how: How = "beside"
    label: LabelHit | None = None
    window: int = 0  # placements made together by order share a window number
    problem: str | None = None
    rows: list[int] = field(default_factory=list)  # a run that holds several rows: all of them, in order


def build_items(pieces: Sequence[LabelHit | Cell | Text]) -> list[Item]:
    """Labels, blocks and breaks from the stream's pieces in order; ignorable text is skipped."""
    items: list[Item] = []
    for p in pieces:
        if isinstance(p, LabelHit):
            items.append(LabelItem(p.row, p))
        elif isinstance(p, Cell):
            if items and isinstance(items[-1], Block):
                items[-1].cells.append(p)
            else:
                items.append(Block([p]))
        elif p.kind != "ignore":
            items.append(Break(p))
    return items


def assign(items: list[Item], specs: Sequence[RowSpec]) -> tuple[dict[int, Placement], list[Block]]:
    """Placements per row index, and the blocks no row took."""
    labels = [k for k, it in enumerate(items) if isinstance(it, LabelItem)]
    if not labels:
        return {}, [it for it in items if isinstance(it, Block) and it.count]
    lead = sum(b.count for b in _adjacent_blocks(items, labels[0], -1))
    trail = sum(b.count for b in _adjacent_blocks(items, labels[-1], +1))
    if lead and not trail:
        placed, orphans = _scan(_mirror(items), specs, mirrored=True)
        return {r: _unmirror(p) for r, p in placed.items()}, orphans
    return _scan(items, specs, mirrored=False)


def _adjacent_blocks(items: list[Item], k: int, step: int) -> list[Block]:
    out: list[Block] = []
    j = k + step
    while 0 <= j < len(items):
        it = items[j]
        if not isinstance(it, Block):
            break
        out.append(it)
        j += step
    return out


def _mirror(items: list[Item]) -> list[Item]:
    return [Block(it.cells[::-1]) if isinstance(it, Block) else it for it in reversed(items)]


def _unmirror(p: Placement) -> Placement:
    return replace(p, cells=p.cells[::-1] if p.cells is not None else None,
                   run=p.run[::-1] if p.run is not None else None)


def _scan(items: list[Item], specs: Sequence[RowSpec], mirrored: bool) -> tuple[dict[int, Placement], list[Block]]:
    placed: dict[int, Placement] = {}
    orphans: list[Block] = []
    first_label = next(k for k, it in enumerate(items) if isinstance(it, LabelItem))
    window = 0
    k = first_label
    if not _lead_rows(items, first_label, specs, placed, mirrored):
        lead = _lead_window(items, first_label, specs, mirrored)
        if lead is not None:
            rows, cells, labels, k = lead
            window += 1
            pos = 0
            for r in rows:
                size = specs[r].size
                placed[r] = Placement(r, list(cells[pos : pos + size]), how="order", label=labels.get(r),
                                      window=window)
                pos += size
        else:
            orphans.extend(b for b in _adjacent_blocks(items, first_label, -1) if b.count)
    while k < len(items):
        it = items[k]
        if not isinstance(it, LabelItem):
            if isinstance(it, Block) and it.count:
                orphans.append(it)
            k += 1
            continue
        window += 1
        single = _beside(items, k, specs[it.row])
        if single is not None:
            p, k = single
            p.window = window
            placed[it.row] = p
            continue
        stacked = _stacked_lines(items, k, specs)
        if stacked is not None:
            ps, k = stacked
            for p in ps:
                p.window = window
                placed[p.row] = p
            continue
        grouped = _stacked_run(items, k, specs)
        if grouped is not None:
            p, k = grouped
            p.window = window
            placed[p.row] = p
            continue
        win = _window(items, k, specs, mirrored)
        if win is not None:
            rows, cells, labels, k = win
            pos = 0
            for r in rows:
                size = specs[r].size
                placed[r] = Placement(r, list(cells[pos : pos + size]), how="order" if len(rows) > 1 else "beside",
                                      label=labels.get(r), window=window)
                pos += size
            continue
        placed[it.row] = Placement(it.row, label=it.hit, window=window, problem=_why(items, k, specs[it.row]))
        k += 1
    return placed, orphans


def _lead_rows(items: list[Item], first_label: int, specs: Sequence[RowSpec], placed: dict[int, Placement],
               mirrored: bool) -> bool:
    """Numbers printed before the first label found: the rows before it whose labels were not found,
    when their cells are exactly those numbers. True when there is nothing left to place."""
    blocks = _adjacent_blocks(items, first_label, -1)
    cells = [c for b in reversed(blocks) for c in b.filled]
    if not cells:
        return True
    first_row = items[first_label].row  # type: ignore[union-attr]
    rows = list(range(len(specs) - 1, first_row, -1)) if mirrored else list(range(first_row))
    if rows and sum(specs[r].size for r in rows) == len(cells):
        pos = 0
        for r in rows:
            size = specs[r].size
            placed[r] = Placement(r, list(cells[pos : pos + size]), how="order", window=-1)
            pos += size
        return True
    return False


def _lead_window(items: list[Item], first_label: int, specs: Sequence[RowSpec], mirrored: bool
                 ) -> tuple[list[int], list[Cell], dict[int, LabelHit], int] | None:
    """Numbers printed before the first labels, which follow one another with no numbers of their own
    (a PDF's number columns printed before its label column): theirs, when they are exactly theirs."""
    if _exactly_beside(items, first_label, specs[items[first_label].row]):  # type: ignore[union-attr]
        return None  # numbers before a label that has its own beside it are not its (a header's junk)
    start = first_label
    while start > 0 and isinstance(items[start - 1], Block):
        start -= 1
    cells = [c for b in items[start:first_label] for c in b.filled]  # type: ignore[union-attr]
    if any(c.kind == "empty" for b in items[start:first_label] for c in b.cells):  # type: ignore[union-attr]
        return None
    balance = len(cells)
    labels: list[LabelItem] = []
    j = first_label
    while j < len(items):
        it = items[j]
        if isinstance(it, Block):
            break
        j += 1
        if isinstance(it, Break):
            continue
        if labels and not _follows(labels[-1].row, it.row, mirrored):
            return None
        labels.append(it)
        balance -= specs[it.row].size
        if balance == 0:
            rows = [lab.row for lab in labels]
            if _gap_rows(rows) or _straddles(rows, cells, labels, specs):
                return None
            return rows, cells, {lab.row: lab.hit for lab in labels}, j
        if balance < 0:
            return None
    return None


def _next_block(items: list[Item], k: int) -> tuple[Block | None, int]:
    """The first block after the label at ``k`` (text between them skipped), and the index after it."""
    j = k + 1
    while j < len(items) and isinstance(items[j], Break):
        j += 1
    if j < len(items) and isinstance(items[j], Block):
        return items[j], j + 1  # type: ignore[return-value]
    return None, k + 1


def _beside(items: list[Item], k: int, spec: RowSpec) -> tuple[Placement, int] | None:
    """The label's own block is its row: exactly its cells, its cells with printed blanks, or one run of digits."""
    it = items[k]
    assert isinstance(it, LabelItem)
    block, after = _next_block(items, k)
    if block is None:
        return None
    n = spec.size
    filled = block.filled
    if len(filled) == n and not leading_zero(filled):
        return Placement(it.row, list(filled), label=it.hit), after
    blanks = positional(block, n, it.hit.line)
    if blanks is not None:
        return Placement(it.row, blanks, label=it.hit), after
    if is_run(filled, n):
        return Placement(it.row, run=list(filled), label=it.hit), after
    return None


def _exactly_beside(items: list[Item], k: int, spec: RowSpec) -> bool:
    block, after = _next_block(items, k)
    return block is not None and not any(c.kind == "empty" for c in block.cells) and len(block.filled) == spec.size \
        and (after >= len(items) or not isinstance(items[after], Block))


def is_run(filled: Sequence[Cell], n: int) -> bool:
    """Numbers that can only be this row's cells once their digits are re-split.

    Only where the separators are weak (none, or spaces): a number between
    tabs or pipes is one printed cell, whatever the count.
    """
    if not filled or not all(c.digits_only for c in filled) or any(c.sep == "strong" for c in filled[1:]):
        return False
    digits = sum(len(c.text) for c in filled)
    if len(filled) < n <= digits or (len(filled) == n and leading_zero(filled)):
        return True
    return n >= 3 and n < len(filled) <= n + MAX_MERGES


def leading_zero(cells: Sequence[Cell]) -> bool:
    """"04" is not a printed count: the digits around it were cut in the wrong places."""
    for c in cells:
        t = c.text
        if t[:1] == "0" and len(t) > 1 and t.isdigit():
            return True
    return False


def positional(block: Block, n: int, label_line: int) -> list[Cell | None] | None:
    """A row with printed blanks: empty cells between tabs or pipes keep the others' positions."""
    cells = block.cells
    if not any(c.kind == "empty" for c in cells):
        return None
    same = [c for c in cells if c.line == label_line]
    if any(c.kind != "empty" for c in same) and all(c.line == label_line for c in cells if c.kind != "empty"):
        cells = same
    lo, hi = 0, len(cells)
    while hi > lo and cells[hi - 1].kind == "empty":
        hi -= 1
    while lo < hi and cells[lo].kind == "empty":
        lo += 1
    if sum(1 for c in cells[lo:hi] if c.kind != "empty") >= n:
        return None
    for a, b in ((lo, hi), (lo, lo + n), (hi - n, hi)):
        window = cells[max(a, 0) : b]
        if len(window) == n and a >= 0:
            return [c if c.kind != "empty" else None for c in window]
    return None


def _stacked_run(items: list[Item], k: int, specs: Sequence[RowSpec]) -> tuple[Placement, int] | None:
    """Labels printed one after another, then one run of digits holding all their rows (a crawler
    glued the rows of stacked labels together): the rows are split together, by their rules."""
    rows: list[int] = []
    j = k
    while j < len(items) and isinstance(items[j], (LabelItem, Break)):
        if isinstance(items[j], LabelItem):
            rows.append(items[j].row)  # type: ignore[union-attr]
        j += 1
    if len(rows) < 2 or j >= len(items) or not isinstance(items[j], Block):
        return None
    filled = items[j].filled  # type: ignore[union-attr]
    if (any(rows[m] >= rows[m + 1] for m in range(len(rows) - 1))
            or not is_run(filled, sum(specs[r].size for r in rows))):
        return None
    first = items[k]
    assert isinstance(first, LabelItem)
    return Placement(rows[0], run=list(filled), how="order", label=first.hit, rows=rows), j + 1


def _stacked_lines(items: list[Item], k: int, specs: Sequence[RowSpec]) -> tuple[list[Placement], int] | None:
    """Labels printed one after another, then one printed line of numbers per label: each
    line is its label's row, even when a line's count is off (a number cut by a space)."""
    labels: list[LabelItem] = []
    j = k
    while j < len(items) and isinstance(items[j], (LabelItem, Break)):
        if isinstance(items[j], LabelItem):
            labels.append(items[j])  # type: ignore[arg-type]
        j += 1
    if len(labels) < 2 or j >= len(items) or not isinstance(items[j], Block):
        return None
    block: Block = items[j]  # type: ignore[assignment]
    after = j + 1
    if any(c.kind == "empty" for c in block.cells):
        return None
    lines: dict[int, list[Cell]] = {}
    for c in block.filled:
        lines.setdefault(c.line, []).append(c)
    if len(lines) != len(labels) or any(labels[m].row >= labels[m + 1].row for m in range(len(labels) - 1)):
        return None
    out = []
    for lab, (_, cells) in zip(labels, sorted(lines.items())):
        n = specs[lab.row].size
        if len(cells) == n:
            out.append(Placement(lab.row, list(cells), how="order", label=lab.hit))
        elif is_run(cells, n):
            out.append(Placement(lab.row, run=list(cells), how="order", label=lab.hit))
        else:
            return None
    return out, after


def _window(items: list[Item], k: int, specs: Sequence[RowSpec], mirrored: bool
            ) -> tuple[list[int], list[Cell], dict[int, LabelHit], int] | None:
    """The smallest run of labels and blocks from ``k`` whose cells are exactly its rows' cells."""
    balance = 0
    labels: list[LabelItem] = []
    cells: list[Cell] = []
    j = k
    while j < len(items) and len(labels) <= MAX_WINDOW:
        it = items[j]
        j += 1
        if isinstance(it, LabelItem):
            if labels and not _follows(labels[-1].row, it.row, mirrored):
                return None
            if labels and _exactly_beside(items, j - 1, specs[it.row]):
                return None  # a label with exactly its own numbers beside it ends any window before it
            labels.append(it)
            balance -= specs[it.row].size
            if balance == 0 and len(labels) > 1 and cells and not _gap_rows([lab.row for lab in labels]):
                # labels printed after their numbers (a PDF's label column flowed after the number columns)
                rows = [lab.row for lab in labels]
                if _straddles(rows, cells, labels, specs):
                    return None
                return rows, cells, {lab.row: lab.hit for lab in labels}, j
            continue
        if isinstance(it, Break) or not it.count:
            continue
        if not labels:
            return None
        filled_at = [i for i, c in enumerate(it.cells) if c.kind != "empty"]
        if any(c.kind == "empty" for c in it.cells[filled_at[0] : filled_at[-1]]):
            return None  # printed blanks among the numbers: positions matter, and order cannot tell them
        cells.extend(it.filled)
        balance += it.count
        if balance == 0 and len(labels) > 1:
            rows = [lab.row for lab in labels]
            if _straddles(rows, cells, labels, specs):
                return None
            return rows, cells, {lab.row: lab.hit for lab in labels}, j
        gap_rows = _gap_rows([lab.row for lab in labels])
        if not gap_rows and balance > 0:
            # rows after the window's last label whose labels were not found, up to the next label found
            nxt = next((x.row for x in items[j:] if isinstance(x, LabelItem)), None)
            last = labels[-1].row
            if nxt is not None and _follows(last, nxt, mirrored):
                step = -1 if mirrored else 1
                gap_rows = list(range(last + step, nxt, step))
        if gap_rows and balance == sum(specs[r].size for r in gap_rows):
            rows = sorted({lab.row for lab in labels} | set(gap_rows), reverse=mirrored)
            if _straddles(rows, cells, labels, specs):
                return None
            return rows, cells, {lab.row: lab.hit for lab in labels}, j
    return None


def _straddles(rows: list[int], cells: list[Cell], labels: list[LabelItem], specs: Sequence[RowSpec]) -> bool:
    """Does a label sit among one row's numbers? Then the numbers were printed column by
    column around the labels (part of a row before its label, part after), and order cannot
    tell which row each belongs to."""
    pos = 0
    for r in rows:
        size = specs[r].size
        mine = cells[pos : pos + size]
        pos += size
        if not mine:
            continue
        lo, hi = min(c.start for c in mine), max(c.start for c in mine)
        if any(lo < lab.hit.start < hi for lab in labels):
            return True
    return False


def _follows(a: int, b: int, mirrored: bool) -> bool:
    return b < a if mirrored else b > a


def _gap_rows(rows: list[int]) -> list[int]:
    """Rows between the window's labels whose labels were not found."""
    lo, hi = (min(rows), max(rows))
    present = set(rows)
    return [r for r in range(lo + 1, hi) if r not in present]


def _why(items: list[Item], k: int, spec: RowSpec) -> str:
    block, _ = _next_block(items, k)
    if block is None:
        return "no numbers beside its label, and no window of labels and numbers adds up"
    return f"{block.count} cells where {spec.size} were expected"
