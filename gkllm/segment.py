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


def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """Any of ``words``, whitespace allowed between their characters (PDF text wraps headings)."""
    alts = sorted({fold(w).replace(" ", "") for w in words}, key=len, reverse=True)
    return re.compile("|".join(r"\s*".join(re.escape(ch) for ch in w) for w in alts))


_HEADINGS = {p: _pattern(hs) for p, hs in PART_HEADINGS.items()}
_ANCHORS = {p: _pattern(anchors) for p, anchors in TABLE_ANCHORS.items()}


@dataclass(frozen=True)
class Segment:
    """One part: offsets into the document's normalized text."""

    part: int
    start: int
    end: int
    table_start: int | None = None  # where the part's table (its first label or header) begins


@dataclass
class Stream:
    """The document as the parser reads it: folded text (same length, same offsets as the
    document's), and the squeezed view of the part of it that holds the tables."""

    doc: Document
    folded: str
    view: Squeezed

    @classmethod
    def of(cls, doc: Document) -> "Stream":
        folded = fold_text(doc.text)
        return cls(doc, folded, Squeezed(folded, 0, 0))

    def view_over(self, lo: int, hi: int) -> None:
        """Build the squeezed view of ``[lo, hi)``: the text the tables' labels are searched in."""
        self.view = Squeezed(self.folded, lo, hi)


def _find_all(pattern: re.Pattern[str], text: str, lo: int, hi: int) -> list[int]:
    return [m.start() for m in pattern.finditer(text, lo, hi)]


_ORDINAL_BEFORE = re.compile(r"(?:[一二三四五六七八九十][、.．]|[(（][一二三四五六七八九十][)）])\s*$")


def _heading_like(text: str, i: int) -> bool:
    """A heading opens its line or follows its ordinal ("二、"); a phrase in a sentence does neither."""
    if _ORDINAL_BEFORE.search(text, max(0, i - 8), i):
        return True
    j = i - 1
    while j >= 0 and text[j] in " \t\u3000":
        j -= 1
    return j < 0 or text[j] in "\n|#*"


def _pick_heading(text: str, heads: list[int], last: bool) -> int | None:
    if not heads:
        return None
    good = [i for i in heads if _heading_like(text, i)]
    pool = good or heads
    return pool[-1] if last else pool[0]


def segment(stream: Stream) -> dict[int, Segment]:
    """Part number (1-6) → its segment; parts not found are absent. Builds the stream's view
    over the table parts."""
    text = stream.folded
    n = len(text)
    starts: dict[int, tuple[int, int | None]] = {}  # part -> (start, table start), document offsets
    cursor = 0
    for part in (2, 3, 4):
        m = _ANCHORS[part].search(text, cursor)
        anchor = m.start() if m else None
        heads = _find_all(_HEADINGS[part], text, cursor, anchor if anchor is not None else n)
        head = _pick_heading(text, heads, last=anchor is not None)
        if anchor is not None:
            starts[part] = (head if head is not None else anchor, anchor)
            cursor = anchor + 1
        elif head is not None:
            starts[part] = (head, None)
            cursor = head + 1
    for part in (5, 6):
        head = _pick_heading(text, _find_all(_HEADINGS[part], text, cursor, n), last=False)
        if head is not None:
            starts[part] = (head, None)
            cursor = head + 1
    ordered = sorted(starts.items(), key=lambda kv: kv[1][0])
    segs = {1: Segment(1, 0, ordered[0][1][0] if ordered else n)}
    for idx, (part, (start, table)) in enumerate(ordered):
        end = ordered[idx + 1][1][0] if idx + 1 < len(ordered) else n
        segs[part] = Segment(part, start, end, table)
    tables = [segs[p] for p in (2, 3, 4) if p in segs]
    if tables:
        stream.view_over(min(t.start for t in tables), max(t.end for t in tables))
    return segs
