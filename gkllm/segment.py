"""Find the template's six parts in the character stream.

Headings are found by phrase, not by numbering (reports drop "五、",
renumber parts, or put the applicant table under "四、"), and not by line:
a crawler's text holds the whole report on one line. Part 1 often names the
other parts ("本报告包括总体情况、主动公开政府信息情况、…") or repeats them as
sub-headings, so a table part starts at the *last* heading before its table's
first label, and at that label when no heading precedes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .document import Document
from .parse.stream import Squeezed
from .template import PART_HEADINGS, TABLE_ANCHORS
from .text import fold, fold_text

_HEADINGS = {p: tuple(fold(h).replace(" ", "") for h in hs) for p, hs in PART_HEADINGS.items()}
_ANCHORS = {p: tuple(fold(a).replace(" ", "") for a in anchors) for p, anchors in TABLE_ANCHORS.items()}


@dataclass(frozen=True)
class Segment:
    """One part: offsets into the document's normalized text."""

    part: int
    start: int
    end: int
    table_start: int | None = None  # where the part's table (its first label or header) begins


@dataclass
class Stream:
    """The document as the parser reads it: folded text (same length, same offsets) and its squeezed view."""

    doc: Document
    folded: str
    view: Squeezed

    @classmethod
    def of(cls, doc: Document) -> "Stream":
        folded = fold_text(doc.text)
        return cls(doc, folded, Squeezed(folded, 0, len(folded)))


def _find_all(s: str, words: tuple[str, ...], lo: int, hi: int) -> list[int]:
    out = []
    for w in words:
        i = s.find(w, lo, hi)
        while i != -1:
            out.append(i)
            i = s.find(w, i + 1, hi)
    return sorted(out)


_ORDINAL_BEFORE = re.compile(r"(?:[一二三四五六七八九十][、.．]|[(（][一二三四五六七八九十][)）])$")


def _heading_like(stream: Stream, i: int) -> bool:
    """A heading opens its line or follows its ordinal ("二、"); a phrase in a sentence does neither."""
    s = stream.view.s
    if _ORDINAL_BEFORE.search(s, max(0, i - 3), i):
        return True
    a = stream.view.orig(i)
    j = a - 1
    text = stream.doc.text
    while j >= 0 and text[j] in " \t\u3000":
        j -= 1
    return j < 0 or text[j] in "\n|#*"


def _pick_heading(stream: Stream, heads: list[int], last: bool) -> int | None:
    if not heads:
        return None
    good = [i for i in heads if _heading_like(stream, i)]
    pool = good or heads
    return pool[-1] if last else pool[0]


def segment(stream: Stream) -> dict[int, Segment]:
    """Part number (1-6) → its segment; parts not found are absent."""
    s = stream.view.s
    starts: dict[int, tuple[int, int | None]] = {}  # part -> (start, table start) in squeezed indices
    cursor = 0
    for part in (2, 3, 4):
        anchors = _find_all(s, _ANCHORS[part], cursor, len(s))
        anchor = anchors[0] if anchors else None
        heads = _find_all(s, _HEADINGS[part], cursor, anchor if anchor is not None else len(s))
        head = _pick_heading(stream, heads, last=anchor is not None)
        if anchor is not None:
            starts[part] = (head if head is not None else anchor, anchor)
            cursor = anchor + 1
        elif head is not None:
            starts[part] = (head, None)
            cursor = head + 1
    for part in (5, 6):
        head = _pick_heading(stream, _find_all(s, _HEADINGS[part], cursor, len(s)), last=False)
        if head is not None:
            starts[part] = (head, None)
            cursor = head + 1
    ordered = sorted(starts.items(), key=lambda kv: kv[1][0])
    orig = stream.view.orig
    n = len(stream.doc.text)
    segs = {1: Segment(1, 0, orig(ordered[0][1][0]) if ordered else n)}
    for idx, (part, (start, table)) in enumerate(ordered):
        end = orig(ordered[idx + 1][1][0]) if idx + 1 < len(ordered) else n
        segs[part] = Segment(part, orig(start), end, orig(table) if table is not None else None)
    return segs
