"""Split a document into the template's six parts.

Headings are found by phrase, not by numbering: reports drop "五、", renumber
parts, or put the applicant table under "四、". Part 1 often repeats the part
names as its own sub-headings ("（一）主动公开政府信息情况"), so a table part
starts at the *last* heading before its table's first label, and at that label
when no heading precedes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .document import Document
from .template import PART_HEADINGS, TABLE_ANCHORS, compact, fold

_HEADINGS = {p: tuple(fold(h) for h in hs) for p, hs in PART_HEADINGS.items()}
_ANCHORS = {p: tuple(fold(a) for a in anchors) for p, anchors in TABLE_ANCHORS.items()}

_MAX_CELL = 40  # compact characters; longer cells are prose that merely mentions a phrase


@dataclass(frozen=True)
class Segment:
    part: int
    start_line: int  # 0-based index into Document.lines, inclusive
    end_line: int  # exclusive
    heading_found: bool


def _short_cells(line: str) -> tuple[str, ...]:
    if "\t" not in line and "|" not in line:
        # one cell: a prose paragraph is far longer than any heading, skip compacting it
        if len(line) - line.count(" ") > 3 * _MAX_CELL:
            return ()
        c = compact(line) if line.strip() else ""
        return (c,) if c and len(c) <= _MAX_CELL else ()
    cells = (compact(c) for c in line.replace("|", "\t").split("\t") if c.strip())
    return tuple(c for c in cells if c and len(c) <= _MAX_CELL)


def _is_heading(cells: tuple[str, ...], part: int) -> bool:
    for c in cells:
        if part == 4 and ("复议" not in c or "诉讼" not in c):
            continue
        if any(p in c for p in _HEADINGS[part]):
            return True
    return False


_GLUED_HEAD = 100  # a table printed as one long line: its first labels open it


def _has_anchor(cells: tuple[str, ...], part: int, line: str = "") -> bool:
    if any(a in c for c in cells for a in _ANCHORS[part]):
        return True
    if len(line) <= _MAX_CELL:
        return False
    head = compact(line[: _GLUED_HEAD * 2])[:_GLUED_HEAD]
    head = head.split("。", 1)[0]  # prose mentioning a label is not a table
    return any(a in head for a in _ANCHORS[part])


def segment(doc: Document) -> dict[int, Segment]:
    """Map part number (1-6) to its line range; parts not found are absent."""
    lines = [_short_cells(line) for line in doc.lines]
    starts: dict[int, tuple[int, bool]] = {}
    cursor = 0
    for part in (2, 3, 4):
        anchor = next((i for i in range(cursor, len(lines)) if _has_anchor(lines[i], part, doc.lines[i])), None)
        stop = anchor if anchor is not None else len(lines)
        heads = [i for i in range(cursor, stop) if _is_heading(lines[i], part)]
        if anchor is not None:
            starts[part] = (heads[-1], True) if heads else (anchor, False)
        elif heads:
            starts[part] = (heads[0], True)
        if part in starts:
            cursor = starts[part][0] + 1
    for part in (5, 6):
        head = next((i for i in range(cursor, len(lines)) if _is_heading(lines[i], part)), None)
        if head is not None:
            starts[part] = (head, True)
            cursor = head + 1
    ordered = sorted(starts.items(), key=lambda kv: kv[1][0])
    segs = {1: Segment(1, 0, ordered[0][1][0] if ordered else len(lines), False)}
    for idx, (part, (start, heading)) in enumerate(ordered):
        end = ordered[idx + 1][1][0] if idx + 1 < len(ordered) else len(lines)
        segs[part] = Segment(part, start, end, heading)
    return segs
