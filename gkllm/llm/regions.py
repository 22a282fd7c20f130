"""Where each table row is printed: the text an LLM question about it carries, and
the printed cells an answer about it may cite.

A row's own text runs from its label to the next row's label (whatever row
that is), plus the span where the parser placed its numbers when that lies
elsewhere. Its cells are the table's number cells (``TableRead.cells``) in
that text: the tokenizer has already set aside row ordinals ("1.", "（三）"),
numbers inside labels ("三安全一稳定"), dates and page numbers, so none of
them can ground an answer. Part 4 has no row labels: its 15 numbers are one
printed row, the table itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..extraction import Extraction
from ..parse.stream import Cell
from ..template import PART2, REVIEW_GROUP_LABELS, part4_keys, rows_for

_SPACE = re.compile(r"\s+")
# a table's borders and empty cells around what a row prints ("| 0 | … | 0 | || |"): a small model shown them
# reads the row as blank and answers nulls (seen on the seeds' pipe tables); a "/" or "—" is kept
_BORDERS = re.compile(r"^[\s|｜]+|[\s|｜]+$")
MAX_ROW_CHARS = 600  # a row whose text runs longer is not printed as a row any more
MAX_HEADER_CHARS = 240


@dataclass(frozen=True)
class Region:
    """One row as printed: its template label, keys, document spans and the number cells inside them."""

    part: int
    name: str  # the row key (part 3), the part-2 label, or "part 4"
    label: str  # the template's label, for the question
    keys: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]
    cells: tuple[Cell, ...]
    label_end: int | None = None  # where its printed label ends

    @property
    def id(self) -> str:
        """A name for the row in an answer: words from its keys ("granted", "normative_docs", "review")."""
        if self.part == 4:
            return "review"
        parts = self.keys[0].split(".")
        return parts[-2] if len(self.keys) > 1 or self.part == 3 else parts[-1]

    def text(self, doc_text: str) -> str:
        """What the row prints after its label, whitespace squeezed. The label is left out (the question
        names it): a small model copies its ordinal ("1.属于国家秘密") as the first value. A label
        wrapped around numbers is kept whole. The table's borders around it are left out."""
        spans = list(self.spans)
        if self.label_end is not None and spans and not any(spans[0][0] <= c.start < self.label_end
                                                             for c in self.cells):
            spans[0] = (self.label_end, spans[0][1])
        pieces = [_BORDERS.sub("", _SPACE.sub(" ", doc_text[a:b])) for a, b in spans]
        return " … ".join(p for p in pieces if p)[:MAX_ROW_CHARS]


def template_labels(ex: Extraction, part: int) -> dict[str, str]:
    """Row name → the template's label as printed in a report."""
    if part == 2:
        return {item.label: item.label for item in PART2[ex.template]}
    if part == 3:
        # without its arabic ordinal ("1.属于国家秘密" → "属于国家秘密"): a small model copies it as a value
        return {row.key: row.label.split(".", 1)[1] if row.ordinal else row.label for row in rows_for(ex.template)}
    return {"part 4": "、".join(REVIEW_GROUP_LABELS.values())}


def regions(ex: Extraction, part: int) -> dict[str, Region]:
    """Every row of a part the LLM can be asked about (rows with no printed text are left out)."""
    table = ex.tables.get(part)
    seg = ex.segments.get(part)
    if table is None or seg is None:
        return {}
    if part == 4:
        lo = seg.table_start if seg.table_start is not None else seg.start
        keys = tuple(part4_keys())
        cells = tuple(c for c in table.cells if lo <= c.start and c.end <= seg.end)
        if not cells:
            return {}
        return {"part 4": Region(4, "part 4", template_labels(ex, 4)["part 4"], keys, ((lo, seg.end),), cells)}
    labels = template_labels(ex, part)
    starts = sorted(r.label[0] for r in table.rows if r.label is not None)
    out: dict[str, Region] = {}
    for row in table.rows:
        spans: list[tuple[int, int]] = []
        if row.label is not None:
            nxt = next((s for s in starts if s > row.label[0]), seg.end)
            spans.append((row.label[0], nxt))
        if row.numbers is not None and not any(a <= row.numbers[0] and row.numbers[1] <= b for a, b in spans):
            spans.append(row.numbers)
        if not spans:
            continue
        cells = tuple(c for c in table.cells if any(a <= c.start and c.end <= b for a, b in spans))
        out[row.name] = Region(part, row.name, labels.get(row.name, row.name), row.keys, tuple(spans), cells,
                               row.label[1] if row.label is not None else None)
    return out


def header(ex: Extraction, part: int) -> str:
    """The table's header (its column titles): from where the table starts to its first row label."""
    table, seg = ex.tables.get(part), ex.segments.get(part)
    if table is None or seg is None:
        return ""
    lo = seg.table_start if seg.table_start is not None else seg.start
    firsts = [r.label[0] for r in table.rows if r.label is not None]
    hi = min(firsts) if firsts else lo
    return _SPACE.sub(" ", ex.doc.text[lo:hi]).strip()[:MAX_HEADER_CHARS]


__all__ = ["Region", "regions", "header", "template_labels", "MAX_ROW_CHARS"]
