"""Turn a run of lines into cells: the common ground of every layout.

Tabs, pipes and newlines all separate cells, so one-cell-per-line dumps,
pipe-flattened HTML and tab/markdown tables reduce to the same sequence. A
short cell that ends in numbers separated by spaces ("…数量 3 0 0 0 0 0 3", as
PDF text prints a row) is split into its label and its numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator, Literal

from ..document import Document
from ..template import compact

CellKind = Literal["number", "null", "empty", "label"]

_NUMBER = re.compile(
    r"^(?P<num>[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)"
    r"(?P<unit>件|条|个|项|次|人次|元|万元)?"
    r"(?P<note>\s*\([^()]*\))?$"
)
NULL_MARKERS = frozenset({"/", "-", "--", "—", "——", "–", "无", "空", "\\", "-/-", "—/—", "/ /"})
_SPLIT = re.compile(r"[\t|]")
_MD_RULE = re.compile(r"^:?-{3,}:?$")
_MAX_LABEL = 40
_INNER_SPACE = re.compile(r"\s")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True, slots=True)
class Cell:
    kind: CellKind
    text: str
    start: int  # offset in Document.text
    end: int
    line: int  # 1-based
    value: int | float | None = None
    note: str | None = None

    @property
    def compact(self) -> str:
        return compact(self.text)

    @property
    def is_value(self) -> bool:
        return self.kind in ("number", "null")


def parse_number(text: str) -> tuple[int | float, str | None] | None:
    """The value of a numeric cell, or None; "22(其中修订16件)" is 22."""
    m = _NUMBER.match(text.strip())
    if not m:
        return None
    raw = m.group("num").replace(",", "")
    value: int | float = float(raw) if "." in raw else int(raw)
    note = m.group("note").strip() if m.group("note") else None
    return value, note


def _classify(text: str, start: int, line: int) -> Cell:
    stripped = text.strip().strip("*")
    if not stripped:
        return Cell("empty", "", start, start, line)
    lead = text.index(stripped[0])
    s, e = start + lead, start + lead + len(stripped)
    if stripped in NULL_MARKERS:
        return Cell("null", stripped, s, e, line)
    num = parse_number(stripped)
    if num is not None:
        return Cell("number", stripped, s, e, line, num[0], num[1])
    return Cell("label", stripped, s, e, line)


def _split_words(piece: str, start: int, line: int) -> Iterator[Cell]:
    """Split "label 3 0 0" into a label cell and number cells, keeping offsets."""
    if not _INNER_SPACE.search(piece.strip()):
        yield _classify(piece, start, line)
        return
    words = [(m.group(), m.start()) for m in _WORD.finditer(piece)]
    numeric = [parse_number(w) is not None or w in NULL_MARKERS for w, _ in words]
    label_len = sum(len(w) for (w, _), n in zip(words, numeric) if not n)
    if len(words) < 2 or not any(numeric) or label_len > _MAX_LABEL:
        yield _classify(piece, start, line)
        return
    i = 0
    while i < len(words):
        if numeric[i]:
            w, off = words[i]
            yield _classify(w, start + off, line)
            i += 1
            continue
        j = i
        while j < len(words) and not numeric[j]:
            j += 1
        a = words[i][1]
        b = words[j - 1][1] + len(words[j - 1][0])
        yield _classify(piece[a:b], start + a, line)
        i = j


def cells(doc: Document, first_line: int, end_line: int) -> list[Cell]:
    """Cells of lines [first_line, end_line) (0-based, end exclusive)."""
    out: list[Cell] = []
    starts = doc.line_starts
    for idx in range(first_line, min(end_line, len(doc.lines))):
        line = doc.lines[idx]
        base = starts[idx]
        pos = 0
        pieces = _SPLIT.split(line)
        # a pipe that opens or closes a line delimits a cell; it does not start an empty one
        if len(pieces) > 1 and line.endswith("|") and not pieces[-1].strip():
            pieces.pop()
        if len(pieces) > 1 and line[0] in "|\t" and not pieces[0]:
            pieces.pop(0)
            pos = 1
        for piece in pieces:
            if not piece or piece.isspace():
                out.append(Cell("empty", "", base + pos, base + pos, idx + 1))
            elif not _MD_RULE.match(piece.strip()):
                out.extend(_split_words(piece, base + pos, idx + 1))
            pos += len(piece) + 1
    return out
