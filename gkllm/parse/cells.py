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

# "run": digits glued to a label with no separator ("…数量530010357"), stray
# spaces allowed inside; its split into cell values is decided later, by the rules.
CellKind = Literal["number", "null", "empty", "label", "run"]

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


GLUED = "glued"  # Cell.note of a label whose digits follow it with no separator

# A digit glued to a preceding label character ("数量5300…", "规章012"): the
# printed row lost its cell separators.
_GLUED = re.compile(r"(?<=[^\W\d_)\]”\"])(?=\d)|(?<=[)\]”\"])(?=\d)")
# digits (with stray single spaces inside) and an optional decimal part
_RUN = re.compile(r"\d+(?:\.\d+)?(?: {1,2}\d+)*")
_ORDINAL_AFTER = re.compile(r"[.、](?!\d)")
# Page furniture that PDF text puts in the middle of a table.
PAGE_FOOTER = re.compile(
    r"^\s*(?:[-—–─]+\s*\d{1,3}\s*[-—–─]+|第\s*\d{1,3}\s*页(?:\s*[,，/]?\s*共\s*\d{1,3}\s*页)?|\d{1,3}\s*/\s*\d{1,3})\s*$"
)


# Generic column headers that OCR and converters print ("数据1" … "数据6", "列3"):
# labels, not a label glued to a number.
GENERIC_HEADER = re.compile(r"^(?:数据|列|栏|字段|[Cc]olumn|[Cc]ol|[Ff]ield)\s*\d{1,2}$")


def _glued_word(word: str) -> bool:
    return parse_number(word) is None and _GLUED.search(word) is not None and not GENERIC_HEADER.match(word)


def _split_glued(piece: str, start: int, line: int) -> Iterator[Cell]:
    """"…数量24231918 19 11114二、上年结转…" → label, run, label, …

    A digit run glued to a label is one "run" cell, stray spaces included; a
    digit right before "." or "、" and a non-digit is the next row's ordinal
    ("…11067.属于…": the run is "1106", "7." opens the next label).
    """
    label_from = 0
    for m in _RUN.finditer(piece):
        a, b = m.start(), m.end()
        if a > 0 and not _GLUED.match(piece, a):
            # digits after whitespace or punctuation: an ordinal or label text, unless glued
            if not (piece[a - 1] == " " and label_from < a and piece[label_from:a].strip() == ""):
                continue
        if _ORDINAL_AFTER.match(piece, b):
            if " " in piece[a:b] or "." in piece[a:b]:
                b_run = b - 1
                while b_run > a and piece[b_run - 1] == " ":
                    b_run -= 1
            else:
                b_run = b - 1
            if b_run <= a:
                continue  # the whole match is an ordinal
            b = b_run
        if a > label_from and piece[label_from:a].strip():
            yield from _label_cell(piece, label_from, a, start, line, glued=True)
        text = piece[a:b].rstrip()
        if " " in text or not text.replace(".", "").isdigit() or len(text) > 1:
            yield Cell("run", text, start + a, start + a + len(text), line)
        else:
            yield _classify(text, start + a, line)
        label_from = b
    if label_from < len(piece) and piece[label_from:].strip():
        yield from _label_cell(piece, label_from, len(piece), start, line)


def _label_cell(piece: str, a: int, b: int, start: int, line: int, glued: bool = False) -> Iterator[Cell]:
    """A label cell; ``glued``: its row's digits follow it directly, so the row's
    own label is the end of the text (a header may be glued before it)."""
    text = piece[a:b]
    stripped = text.strip()
    lead = text.index(stripped[0])
    if stripped in NULL_MARKERS:
        yield Cell("null", stripped, start + a + lead, start + a + lead + len(stripped), line)
        return
    yield Cell("label", stripped, start + a + lead, start + a + lead + len(stripped), line,
               note=GLUED if glued else None)


def _split_words(piece: str, start: int, line: int) -> Iterator[Cell]:
    """Split "label 3 0 0" into a label cell and number cells, keeping offsets."""
    if _GLUED.search(piece) is not None and any(_glued_word(w) for w in piece.split()):
        yield from _split_glued(piece, start, line)
        return
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
        if not line or PAGE_FOOTER.match(line):
            continue  # blank lines and page footers are not cells
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
                pos += len(piece) + 1
                continue
            bare = piece.strip()
            if bare.isdigit() and bare.isascii():
                # the common cell, a plain count: no regex needed
                a = base + pos + piece.index(bare)
                out.append(Cell("number", bare, a, a + len(bare), idx + 1, int(bare)))
            elif not _MD_RULE.match(bare):
                out.extend(_split_words(piece, base + pos, idx + 1))
            pos += len(piece) + 1
    return out
