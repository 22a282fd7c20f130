"""The character stream: the common ground of every layout.

Crawler text puts a whole report on one line, PDF text wraps a label over
three lines, HTML dumps write one cell per line or a row per line between
pipes. None of that line structure is trusted here: newlines, tabs and pipes
are separators like any other, and labels are searched in the stream with the
whitespace squeezed out (``Squeezed``), so "本年新\\n收" is still "本年新收".
Between two labels, ``tokenize`` reads what is printed: numbers (with the
separator printed before each, which later tells a glued run from a row of
cells), null markers, empty cells and text. Text is either ignorable (header
words, group headings, pieces of a wrapped label), unknown (a break between
blocks of numbers) or prose, whose numbers are never cells.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import lru_cache
from typing import Iterator, Literal, NamedTuple

from ..document import Document
from ..text import compact

# A Latin letter or two, or a lone stop or comma, alone in a tab-separated cell: a number OCR could not read
# ("Q", "。" for 0); a null cell with a warning, never a label and never a guess.
_UNREADABLE = re.compile(r"[A-Za-z]{1,2}|[。.,，、·]")
NULL_MARKERS = frozenset({"/", "-", "--", "—", "——", "–", "无", "空", "\\", "-/-", "—/—", "/ /", "／"})

# What the label view keeps: text, and a single digit that is an ordinal ("2." of "2.重复申请").
# Numbers are dropped, so a label wrapped around its own numbers ("1.本机关不掌 / 1 0 0 0 0 0 1 /
# 握相关政府信息") reads whole.
_KEPT = re.compile(r"(?:[^\d\s]|[1-9](?=[.．、](?!\d)))+")


class Squeezed:
    """The folded text of a region with whitespace and numbers removed, and the way back.

    ``s`` is what labels and headings are searched in; ``orig(i)`` maps an
    index of ``s`` to the document offset of that character.
    """

    __slots__ = ("s", "_cum", "_orig")

    def __init__(self, folded: str, start: int, end: int) -> None:
        pieces = _KEPT.findall(folded, start, end)
        cum: list[int] = []
        orig = [m.start() for m in _KEPT.finditer(folded, start, end)]
        n = 0
        for piece in pieces:
            cum.append(n)
            n += len(piece)
        self.s = "".join(pieces)
        self._cum = cum
        self._orig = orig

    def orig(self, i: int) -> int:
        """Document offset of character ``i`` of ``s`` (``len(s)`` maps past the last one)."""
        if not self._cum:
            return 0
        if i >= len(self.s):
            j = len(self._cum) - 1
            return self._orig[j] + (len(self.s) - self._cum[j])
        j = bisect_right(self._cum, i) - 1
        return self._orig[j] + (i - self._cum[j])

    def end(self, i: int) -> int:
        """Document offset just after character ``i - 1`` (the end of a span ``[.., i)``)."""
        return self.orig(i - 1) + 1 if i > 0 else self.orig(0)

    def index(self, offset: int) -> int:
        """Index in ``s`` of the first character at or after document ``offset``."""
        j = bisect_right(self._orig, offset) - 1
        if j < 0:
            return 0
        inside = offset - self._orig[j]
        width = (self._cum[j + 1] if j + 1 < len(self._cum) else len(self.s)) - self._cum[j]
        return self._cum[j] + min(inside, width)


Sep = Literal["", " ", "strong"]


class Cell(NamedTuple):
    """One printed cell: a number, a null marker, or an empty cell between separators."""

    kind: Literal["number", "null", "empty"]
    text: str
    start: int  # document offsets
    end: int
    line: int  # 1-based
    value: int | float | None = None
    sep: Sep = "strong"  # separator printed before it: none (glued digits), spaces, or tab/pipe/newline
    note: str | None = None  # "(其中修订16件)" printed after the number
    unit: str = ""  # "件" of "3件"

    @property
    def digits_only(self) -> bool:
        return self.kind == "number" and self.text.isdigit()


class Text(NamedTuple):
    """A printed piece of text that is not a row label."""

    kind: Literal["ignore", "unknown", "prose", "label"]  # label: a row label printed away from its row
    text: str
    start: int
    end: int


Token = Cell | Text

# Text that holds digits but no cell: generic headers of OCR tables ("数据3"),
# dates, page numbers, article references and parenthesised ordinals.
_JUNK = (
    r"(?:数据|列|栏|字段|[Cc]olumn|[Cc]ol|[Ff]ield)\s*\d{1,2}(?!\d)"
    r"|(?:19|20)\d{2}\s*年度?"
    r"|\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?"
    r"|第\s*\d{1,3}\s*页(?:\s*[,，/]?\s*共\s*\d{1,3}\s*页)?"
    r"|共\s*\d{1,3}\s*页"
    r"|第\s*[(（]?\s*\d{1,3}\s*[)）]?\s*[条款项]"
    r"|[(（]\s*\d{1,2}\s*[)）]"
    # an arabic ordinal ("2.", "2 、"); not across a tab or a line break: "…\t2\n、上年结转" is a row's last
    # cell, then a label whose "二" OCR lost
    r"|(?<![\d.])[1-9][ \u3000]*[.．、](?![\d.．、])"
)
# Whitespace first (the commonest token in one-cell-per-line dumps), then text with digits that is
# no cell (tried before numbers: "2024年" is a year), then numbers, then other text.
_TOKEN = re.compile(
    r"(?P<nl>[\n\r][\s\u3000]*)"
    r"|(?P<sep>[\t|])"
    r"|(?P<space>[ \u3000]+)"
    r"|(?P<junk>" + _JUNK + r")"
    r"|(?P<num>(?:(?<![^\s|\d])[-+−](?=\d))?\d+(?:,\d{3})*(?:\.\d+)?)"
    r"(?P<unit>\s?(?:人次|万元|件|条|个|项|次|元))?"
    r"(?P<note>\s*\((?:其中|含|包括|注)[^()]{0,30}\))?"
    r"|(?P<text>[^\s|\d-]+|-)"
)
# Page furniture that PDF text prints alone on a line in the middle of a table.
PAGE_FOOTER = re.compile(
    r"^[ \t]*(?:[-—–─]+[ \t]*\d{1,3}[ \t]*[-—–─]+"
    r"|第[ \t]*\d{1,3}[ \t]*页(?:[ \t]*[,，/]?[ \t]*共[ \t]*\d{1,3}[ \t]*页)?"
    r"|\d{1,3}[ \t]*/[ \t]*\d{1,3})[ \t]*$",
    re.MULTILINE,
)
_PROSE_MARK = re.compile(r"[。；;]")
_SOFT_PROSE = re.compile(r"[，,：:！？!?]")
_MAX_LABEL_TEXT = 40  # compact characters: more than any label, header or heading
RUN_LIMIT = 200  # digits: 15 glued cells of 7 digits fit many times over; a longer run is not a table's
COUNT_LIMIT = 15  # digits: no count or amount in these reports comes near it


def value_of(raw: str) -> int | float:
    raw = raw.replace(",", "").replace("−", "-")
    return float(raw) if "." in raw else int(raw)


def tokenize(doc: Document, folded: str, start: int, end: int, vocabulary: str) -> list[Token]:
    """What is printed in ``[start, end)``: cells and text, in order.

    ``vocabulary``: the table's labels, headers and headings (compact, joined
    by NUL); a text piece found in it is a header word or a piece of a wrapped
    label, and is ignored.
    """
    footers = ([(m.start(), m.end()) for m in PAGE_FOOTER.finditer(folded, start, end)]
               if "\n" in folded[start:end] else [])
    # a page number glued into a row's text ("行政强制第1页94") is furniture wherever it is printed
    footers += [(m.start(), m.end()) for m in _PAGE_NUMBER.finditer(folded, start, end)]
    footers.sort()
    out: list[Token] = []
    append = out.append
    line_of = doc.line_of
    line = line_of(start)  # counted along, at each line break: cheaper than a lookup per cell
    skipped = False  # an ignorable text piece since the last token kept
    sep: Sep = "strong"
    after_cell_sep = False  # the last separator was a tab or pipe inside a line: an empty cell may follow
    line_cells = 0  # tabs/pipes on the current line while nothing else is on it (-1: something is)
    for m in (_spans(folded, start, end, footers) if footers else _TOKEN.finditer(folded, start, end)):
        if m.__class__ is tuple:
            fa, fb = m
            append(Text("ignore", folded[fa:fb], fa, fb))
            line += folded.count("\n", fa, fb)
            sep = "strong"
            continue
        kind = m.lastgroup  # type: ignore[union-attr]
        a = m.start()  # type: ignore[union-attr]
        if kind == "num":  # the common token: a plain number, no unit or note
            skipped = False
            raw = m.group()  # type: ignore[union-attr]
            if len(raw) > RUN_LIMIT and len(raw) - raw.count(",") - raw.count(".") > RUN_LIMIT:
                append(Text("unknown", raw, a, a + len(raw)))  # too long for any row: text, not cells
            else:
                append(Cell("number", raw, a, a + len(raw), line, int(raw) if raw.isdigit() else value_of(raw), sep))
            sep = ""
            line_cells = -1
            after_cell_sep = False
            continue
        if kind == "space":
            if sep == "":
                sep = " "
            continue
        if kind == "nl":
            ws = m.group()  # type: ignore[union-attr]
            if line_cells > 0:
                # a line of nothing but a tab or pipes: one empty cell (one-cell-per-line dumps print blanks so)
                append(Cell("empty", "", a, a, line))
            breaks = ws.count("\n") if "\r" not in ws else ws.count("\n") + ws.count("\r") - ws.count("\r\n")
            line += breaks
            if breaks == 1:  # one line break, then the next line's indentation
                line_cells = ws.count("\t")
            else:
                lines = ws.replace("\r", "\n").split("\n")
                for k, inner in enumerate(lines[1:-1], 1):
                    if "\t" in inner:  # a line of nothing but a tab, inside the run of blank lines
                        at = a + sum(len(x) + 1 for x in lines[:k])
                        append(Cell("empty", "", at, at, line_of(at)))
                line_cells = lines[-1].count("\t")
            after_cell_sep = False
            sep = "strong"
            continue
        if kind == "sep":
            b = m.end()  # type: ignore[union-attr]
            if after_cell_sep and not _closes_line(folded, b, end):
                # two tabs/pipes with only spaces between: an empty cell (not a pipe table's last border)
                append(Cell("empty", "", a, a, line))
            after_cell_sep = line_cells != 0
            if line_cells >= 0:
                line_cells += 1
            sep = "strong"
            continue
        line_cells = -1
        b = m.end()  # type: ignore[union-attr]
        after_cell_sep = False
        if kind == "junk":
            append(Text("ignore", m.group(), a, b))  # type: ignore[union-attr]
            line += folded.count("\n", a, b)
            sep = ""
            continue
        if kind == "text":
            text = m.group()  # type: ignore[union-attr]
            if (text in NULL_MARKERS and _bounded(folded, a, b, start, end)) \
                    or (_UNREADABLE.fullmatch(text) and _tab_cell(folded, a, b, end)):
                append(Cell("null", text, a, b, line, None, sep))
            else:
                t_kind = _classify(text, vocabulary)
                prev = out[-1] if out else None
                if t_kind == "ignore":
                    # header words and pieces of labels carry nothing downstream: not even a token
                    skipped = True
                elif t_kind == "unknown" and not skipped and prev is not None and prev.__class__ is Text \
                        and prev[0] == "unknown":
                    # a label split by a space or a line break: one unknown piece
                    out[-1] = Text("unknown", prev.text + text, prev.start, b)
                else:
                    append(Text(t_kind, text, a, b))
                    skipped = False
            sep = ""
            continue
        # a number with its unit or note
        raw = m.group("num")  # type: ignore[union-attr]
        nb = m.end("num")  # type: ignore[union-attr]
        if len(raw) - raw.count(",") - raw.count(".") > RUN_LIMIT:
            append(Text("unknown", raw, a, nb))  # too long for any row: text, not cells
            sep = ""
            continue
        note = m.group("note")  # type: ignore[union-attr]
        append(Cell("number", raw, a, nb, line, value_of(raw), sep, note.strip() if note else None,
                    m.group("unit") or ""))  # type: ignore[union-attr]
        line += folded.count("\n", a, b)
        sep = ""
    return out


_PAGE_NUMBER = re.compile(r"第\s*\d{1,3}\s*页(?:\s*[,，/]?\s*共\s*\d{1,3}\s*页)?|共\s*\d{1,3}\s*页")


def _spans(text: str, start: int, end: int, skip: list[tuple[int, int]]) -> Iterator["re.Match[str] | tuple[int, int]"]:
    """Token matches of ``[start, end)``, with the ``skip`` spans (page furniture) yielded whole."""
    pos = start
    for fa, fb in skip:
        if fb <= pos:
            continue
        fa = max(fa, pos)
        yield from _TOKEN.finditer(text, pos, fa)
        yield (fa, fb)
        pos = fb
    yield from _TOKEN.finditer(text, pos, end)


def _bounded(text: str, a: int, b: int, lo: int, hi: int) -> bool:
    """A null marker is a cell only when printed alone between separators (or, glued, between
    numbers); a hyphen between two numbers is a minus sign ("12-4395": a change of -4…), not a blank."""
    before = text[a - 1] if a > lo else " "
    after = text[b] if b < hi else " "
    if text[a:b] in ("-", "−") and (before.isdigit() or after.isdigit()):
        return False
    return ((before.isspace() or before == "|" or before.isdigit())
            and (after.isspace() or after == "|" or after.isdigit()))


def _tab_cell(text: str, a: int, b: int, end: int) -> bool:
    """A piece printed alone in a tab-separated cell (OCR read a "0" as "Q")."""
    return a > 0 and text[a - 1] == "\t" and (b >= end or text[b] in "\t\r\n")


def _closes_line(text: str, i: int, end: int) -> bool:
    j = text.find("\n", i, end)
    return not text[i : (j if j != -1 else end)].strip()


_MD_RULE = re.compile(r":?-{3,}:?")


def _classify(text: str, vocabulary: str) -> Literal["ignore", "unknown", "prose"]:
    c = compact(text)
    if not c or _MD_RULE.fullmatch(c):
        return "ignore"
    bare = c.strip("()（）,，、.．:：“”\"")
    if len(c) <= _MAX_LABEL_TEXT and (c in vocabulary or (bare and bare in vocabulary)):
        return "ignore"
    if len(c) <= 3 * _MAX_LABEL_TEXT and _covered(c, vocabulary):
        return "ignore"
    if _PROSE_MARK.search(c) or _SOFT_PROSE.search(c) or len(c) > _MAX_LABEL_TEXT:
        return "prose"
    return "unknown"


def _covered(text: str, vocabulary: str) -> bool:
    """Header words printed without separators ("信息内容本年制发件数本年废止件数…"): every
    piece, cut greedily from the left, is a word of the table's vocabulary."""
    words = _words(vocabulary)
    i = 0
    while i < len(text):
        for w in words:
            if text.startswith(w, i):
                i += len(w)
                break
        else:
            return False
    return True


@lru_cache(maxsize=16)
def _words(vocabulary: str) -> tuple[str, ...]:
    return tuple(sorted({w for w in vocabulary.split("\x00") if len(w) >= 2}, key=len, reverse=True))


def silence_prose(pieces: list) -> list:
    """Numbers in a sentence are the sentence's, not cells.

    A sentence runs from its first prose-like piece to the last sentence end
    (。；) before the next row label, and back over what is glued to it
    ("总数397条，其中…"). ``pieces`` may hold labels (anything not a Cell or
    Text): a sentence never crosses one.
    """
    if not any(t.__class__ is Text and t[0] == "prose" for t in pieces):
        return pieces
    out: list = []
    i = 0
    n = len(pieces)
    while i < n:
        t = pieces[i]
        if not (isinstance(t, Text) and t.kind == "prose"):
            out.append(t)
            i += 1
            continue
        start = t.start
        while out and isinstance(out[-1], (Cell, Text)) and _glued(out[-1], start) and \
                not (isinstance(out[-1], Text) and out[-1].kind == "ignore" and out[-1].text.strip() in ("|",)):
            start = out.pop().start
        last = i
        for j in range(i + 1, n):
            u = pieces[j]
            if not isinstance(u, (Cell, Text)):
                break
            if isinstance(u, Text) and u.kind != "ignore" and _PROSE_MARK.search(u.text):
                last = j
        end = pieces[last].end
        out.append(Text("prose", "", start, end))
        i = last + 1
    return out


def _glued(t: "Cell | Text", nxt: int) -> bool:
    """Nothing but a unit between ``t`` and what starts at ``nxt``: printed as one phrase."""
    if isinstance(t, Cell):
        return t.kind == "number" and nxt == t.end + len(t.unit)
    return t.end == nxt and t.kind != "prose"
