"""HTML pages (site pages and Word "save as web page" exports) as text.

Paragraphs become lines; every table row becomes ONE line of tab-separated
cells. ``rowspan``/``colspan`` are expanded on a grid: a cell's text sits at
its top-left position and every other position it covers is an empty cell, so
no number is ever printed twice. A table that holds another table is a layout
container: its cells are read as blocks and the inner tables as rows.

Charset: a BOM, else valid UTF-8, else the ``<meta charset>`` / http-equiv
declaration, else detection (``gkllm.ingest.text.decode``).

Some sites ship the report as HTML escaped inside a JavaScript string
(``document.write("<table>…")`` or ``var content = '…'``). Scripts are skipped,
except that such a payload is unescaped and read in the script's place.

The page is read as a stream of parser events (lxml's target interface), not
as a tree: a tree of a 50 MB page of small table cells takes 27 times the
file in memory, and libxml2 stops building a tree deeper than 256 elements
(unclosed ``<div>``/``<font>`` nest that deep), which read as "no text".
Memory follows the text kept, not the markup. Whether a table is a layout
container is only known at its end, so a page with one is read twice: the
first pass reads every table as data and notes the containers, the second
reads those as layout.
"""

from __future__ import annotations

import codecs
import html as _html
import re
import urllib.parse
from typing import Any

from ..errors import InputError
from .common import CJK as _CJK
from .common import RawText, glue_cell
from .text import decode

# GB2312/GBK are subsets of GB18030; decoding with the superset loses nothing.
_WIDEN = {"gb2312": "gb18030", "gbk": "gb18030", "cp936": "gb18030", "x-gbk": "gb18030", "hz-gb-2312": "gb18030"}
_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,300}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE
)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.IGNORECASE)

_BLOCK = frozenset(
    "p div h1 h2 h3 h4 h5 h6 li ul ol dl dt dd section article header footer main nav aside "
    "blockquote pre center form fieldset address figure figcaption hr tr caption body html "
    "details summary legend option".split()
)
_SKIP = frozenset("script style noscript template title meta link iframe frame object embed svg math select button "
                  "input textarea map area base".split())
_CELL = ("td", "th")

_WS = re.compile(r"[ \t\r\n\f\v\u00a0\u3000]+")


def read(data: bytes, name: str) -> RawText:
    text, encoding, warnings = _decode(data)
    del data
    # lxml refuses str input that still declares an encoding
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    layout: set[int] = set()
    subs: dict[int, str] = {}
    first = _run(text, layout, subs)
    if first.candidates:  # escaped HTML in scripts: read in place unless the page already shows it
        body = _body_compact(text)
        subs = {i: payload for i, (payload, probe) in first.candidates.items() if probe[:40] not in body}
        if subs:
            warnings.append(f"report text read from {len(subs)} JavaScript string(s) (escaped HTML)")
            first = _run(text, layout, subs)
    result = _run(text, first.layout, subs) if first.layout else first
    return RawText("\n".join(result.lines) + "\n", encoding, warnings)


# --- decoding ----------------------------------------------------------------


def _decode(data: bytes) -> tuple[str, str, list[str]]:
    for bom, enc in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(enc, errors="replace"), enc, []
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError:
        pass
    head = data[:8192]
    m = _META_CHARSET.search(head) or _XML_DECL.search(head)
    if m:
        label = m.group(1).decode("ascii", "replace").strip().lower()
        try:
            enc = codecs.lookup(_WIDEN.get(label, label)).name
        except LookupError:  # not an encoding Python knows: guessed below
            enc = ""
        if enc:
            enc = _WIDEN.get(enc, enc)
            text = data.decode(enc, errors="replace")
            if text.count("\ufffd") <= max(3, len(text) // 1000):
                return text, enc, []
    return decode(data)


# --- text helpers --------------------------------------------------------------


def _clean(text: str) -> str:
    """Collapse whitespace the way a browser does, but drop it where it only
    marks a source line wrap in Chinese text: between two CJK characters, and
    for a run with a newline, next to CJK text or punctuation ("2.\n没有" and
    "2\n." both read "2.", as Word's HTML export breaks lines anywhere)."""

    def sub(m: re.Match) -> str:
        a = text[m.start() - 1] if m.start() else ""
        b = text[m.end()] if m.end() < len(text) else ""
        if not a or not b:
            return ""
        if _CJK.match(a) and _CJK.match(b):
            return ""
        if ("\n" in m.group() or "\r" in m.group()) and (
            _CJK.match(a) or _CJK.match(b) or not a.isalnum() or not b.isalnum()
        ):
            return ""
        return " "

    return _WS.sub(sub, text).strip()


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --- the streaming walker ----------------------------------------------------------

_PRE = ("pre", "plaintext", "xmp")
_SECTIONS = ("thead", "tbody", "tfoot")
_CONTAINER_BLOCKS = frozenset(("p", "div", "br", "h1", "h2", "h3", "h4", "li"))
_FEED = 1 << 20  # characters per parser feed


class _Context:
    """What one pass shares: table modes decided by the pass before, what this pass learns."""

    def __init__(self, layout: set[int]) -> None:
        self.layout = layout  # ids of the tables to read as layout containers
        self.found_layout: set[int] = set()  # container tables seen in this pass
        self.table_id = -1  # id of the table whose start is being handled (document order)


class _CellStats:
    """What decides whether a cell makes its table a layout container."""

    __slots__ = ("has_table", "n_blocks", "n_chars")

    def __init__(self) -> None:
        self.has_table, self.n_blocks, self.n_chars = False, 0, 0

    def container(self) -> bool:
        return self.has_table or (self.n_blocks >= 3 and self.n_chars > 300)


# A handler may hand the element it just saw to another handler until that element ends:
# (the handler, what to call with the end tag, the stats of a table cell or None).
_Child = tuple  # (handler, Callable[[str], None], _CellStats | None)


class _Stream:
    """The walker as a state machine over start/data/end events.

    Paragraphs become lines; skipped and hidden elements are counted through;
    a preformatted block (outside a cell) keeps its lines; a table is handed
    to a ``_Table`` (returned from ``start``) until it ends.
    """

    __slots__ = ("ctx", "in_cell", "lines", "cur", "blocks", "skip", "pre", "pre_depth")

    def __init__(self, ctx: _Context, in_cell: bool = False) -> None:
        self.ctx, self.in_cell = ctx, in_cell
        self.lines: list[str] = []
        self.cur: list[str] = []
        self.blocks: list[bool] = []  # per open element: does it end a line?
        self.skip = 0  # depth inside a skipped element
        self.pre: list[str] | None = None  # text of an open preformatted block
        self.pre_depth = 0

    def flush(self) -> None:
        if self.cur:
            line = _clean("".join(self.cur))
            self.cur = []
            if line:
                self.lines.append(line)

    def start(self, tag: str, attrib: dict) -> _Child | None:
        if self.skip:
            self.skip += 1
        elif self.pre is not None:
            self.pre_depth += 1
        elif tag in _SKIP or attrib and _hidden(attrib):
            self.skip = 1
        elif tag == "br":
            self.flush()
            self.blocks.append(False)
        elif tag == "table":
            self.flush()
            table = _Table(self, self.ctx.table_id)
            return table, table.finish, None
        elif tag in _PRE and not self.in_cell:
            self.flush()  # preformatted: keep its lines; wide gaps are column breaks
            self.pre, self.pre_depth = [], 1
        else:
            block = tag in _BLOCK or tag in _CELL
            if block:
                self.flush()
            self.blocks.append(block)
        return None

    def data(self, text: str) -> None:
        if self.skip:
            return
        if self.pre is not None:
            self.pre.append(text)
        else:
            self.cur.append(text)

    def end(self, tag: str) -> None:
        if self.skip:
            self.skip -= 1
        elif self.pre is not None:
            self.pre_depth -= 1
            if not self.pre_depth:
                for line in "".join(self.pre).splitlines():
                    line = re.sub(r"[ \u3000\u00a0]{2,}|\t+", "\t", line.strip())
                    if line:
                        self.lines.append(line)
                self.pre = None
        elif self.blocks and self.blocks.pop():
            self.flush()


class _Table:
    """One table, fed the events inside it (its cells' content goes to their own walkers).

    As data (the default): each row is one line of tab-separated cells on a
    grid that expands ``rowspan``/``colspan`` (a cell's text at its top-left
    position, the positions it covers empty), padded to the table's width.
    As a layout container (a cell holds a table, or a long run of
    paragraphs): the cells are read as blocks, the inner tables as rows.
    Rows are the table's own (directly or through thead/tbody/tfoot);
    hidden cells take no place; the first caption comes first.
    """

    def __init__(self, outer: _Stream, table_id: int) -> None:
        self.outer, self.id = outer, table_id
        self.layout = table_id in outer.ctx.layout
        self.roles: list[str] = []  # per open element of the table's structure (not inside a cell)
        self.caption: _Stream | None = None
        self.body = _Stream(outer.ctx, outer.in_cell) if self.layout else None
        self.cell: _Stream | None = None
        self.stats = _CellStats()
        # the grid: finished rows as (line, cells in it), the open row's cells by column
        self.rows: list[tuple[str, int]] = []
        self.row: dict[int, str] = {}
        self.r, self.c, self.col, self.width = -1, 0, 0, 0
        self.taken: dict[int, set[int]] = {}  # columns that rowspans from above cover, by row
        self.covered: set[int] = set()

    def start(self, tag: str, attrib: dict) -> _Child | None:
        parent = self.roles[-1] if self.roles else "table"
        if tag == "tr" and parent in ("table", "section"):
            role = "tr"
            self.r += 1
            self.c = 0
            self.covered = self.taken.pop(self.r, set())
            self.row = {}
        elif parent == "table" and tag in _SECTIONS:
            role = "section"
        elif parent == "table" and tag == "caption" and self.caption is None:
            caption = self.caption = _Stream(self.outer.ctx, self.outer.in_cell)
            caption.start(tag, attrib)  # the caption is walked as an element of its own
            return caption, caption.end, None
        elif parent == "tr" and tag in _CELL and not (attrib and _hidden(attrib)):
            return self._cell_start(attrib)
        else:
            role = "other"  # not part of the table's rows (nor is anything inside it)
        self.roles.append(role)
        return None

    def data(self, text: str) -> None:
        pass  # text between rows and cells is not part of the table

    def end(self, tag: str) -> None:
        if self.roles and self.roles.pop() == "tr":
            if any(self.row.values()):
                n = max(self.row) + 1
                self.rows.append(("\t".join(self.row.get(c, "") for c in range(n)), n))
            self.row = {}

    def _cell_start(self, attrib: dict) -> _Child:
        self.stats = _CellStats()
        if self.layout:
            assert self.body is not None
            self.body.flush()
            self.cell = self.body
        else:
            while self.c in self.covered:
                self.c += 1
            rs, cs = (_span(attrib, "rowspan"), _span(attrib, "colspan")) if attrib else (1, 1)
            for dr in range(1, rs):
                self.taken.setdefault(self.r + dr, set()).update(range(self.c, self.c + cs))
            self.col = self.c
            self.c += cs
            self.width = max(self.width, self.c)
            self.cell = _Stream(self.outer.ctx, in_cell=True)
        return self.cell, self._cell_end, self.stats

    def _cell_end(self, tag: str) -> None:
        assert self.cell is not None
        if self.stats.container():
            self.outer.ctx.found_layout.add(self.id)
        self.cell.flush()
        if not self.layout:
            self.row[self.col] = glue_cell(self.cell.lines)
        self.cell = None

    def finish(self, tag: str) -> None:
        out = self.outer.lines
        if self.caption is not None:
            self.caption.flush()
            out.extend(self.caption.lines)
        if self.body is not None:
            self.body.flush()
            out.extend(self.body.lines)
        for line, n in self.rows:
            out.append(line + "\t" * (self.width - n))


class _Target:
    """lxml parser target: dispatches events to the innermost handler (an explicit stack, so
    tables nested thousands deep cost no recursion), counts tables and scripts in document
    order, and reads a script's escaped HTML in its place when ``subs`` says so."""

    def __init__(self, layout: set[int], subs: dict[int, str]) -> None:
        self.ctx = _Context(layout)
        self.walker = _Stream(self.ctx)
        self.stack: list[tuple[Any, int, Any, bool]] = [(self.walker, 0, None, False)]
        self.cells: list[_CellStats] = []  # the open table cells, innermost last
        self.depth = 0
        self.subs = subs
        self.candidates: dict[int, tuple[str, str]] = {}  # script index -> (payload, its compact text)
        self.scripts = -1
        self.script: list[str] | None = None  # text of the open script
        self.script_attrib: dict = {}
        self.events = 0

    # -- lxml's calls --
    def start(self, tag: str, attrib: dict) -> None:
        self.events += 1
        if self.script is not None:  # nothing nests in a script
            return
        if tag == "script":
            self.scripts += 1
            self.script, self.script_attrib = [], dict(attrib)
            return
        self._start(tag, attrib)

    def data(self, text: str) -> None:
        if self.script is not None:
            self.script.append(text)
        else:
            self._data(text)

    def end(self, tag: str) -> None:
        if self.script is None:
            self._end(tag)
        elif tag == "script":
            text, self.script = "".join(self.script), None
            payload = self.subs.get(self.scripts)
            if payload is not None:
                self._fragment(payload)
                return
            self._candidate(text)
            self._start("script", self.script_attrib)
            self._data(text)
            self._end("script")

    def close(self) -> "_Target":
        while len(self.stack) > 1:  # unbalanced input: close what is open
            self._end("")
        self.walker.flush()
        return self

    # -- dispatch --
    def _start(self, tag: str, attrib: dict) -> None:
        if tag == "table":
            self.ctx.table_id += 1
        self.depth += 1
        if self.cells:
            stats = self.cells[-1]
            if tag == "table":
                stats.has_table = True
            elif tag in _CONTAINER_BLOCKS:
                stats.n_blocks += 1
        child = self.stack[-1][0].start(tag, attrib)
        if child is not None:
            handler, on_end, stats = child
            self.stack.append((handler, self.depth, on_end, stats is not None))
            if stats is not None:
                self.cells.append(stats)

    def _data(self, text: str) -> None:
        if self.cells:
            stats = self.cells[-1]
            if stats.n_chars <= 300:  # past that, only the count of blocks can still change the answer
                stats.n_chars += len("".join(text.split()))  # str.split and the regex \s agree on what is a space
        self.stack[-1][0].data(text)

    def _end(self, tag: str) -> None:
        handler, base, on_end, is_cell = self.stack[-1]
        if base == self.depth and len(self.stack) > 1:
            self.stack.pop()
            if is_cell:
                self.cells.pop()
            on_end(tag)
        else:
            handler.end(tag)
        self.depth = max(self.depth - 1, 0)

    # -- scripts --
    def _candidate(self, script: str) -> None:
        import lxml.html

        payload = _script_html(script)
        if not payload:
            return
        try:
            frag = lxml.html.fragment_fromstring(payload, create_parent="div")
        except Exception:  # noqa: BLE001 - a broken payload is just not read
            return
        probe = _compact(_plain_text(frag))
        if len(_CJK.findall(probe)) >= 20:
            self.candidates[self.scripts] = (payload, probe)

    def _fragment(self, payload: str) -> None:
        """The payload's elements as events, in the script's place (the script's tail follows)."""
        import lxml.html
        from lxml import etree

        frag = lxml.html.fragment_fromstring(payload, create_parent="div")
        for action, el in etree.iterwalk(frag, events=("start", "end")):
            if action == "start":
                if isinstance(el.tag, str):
                    self._start(el.tag.lower(), dict(el.attrib))
                    if el.text:
                        self._data(el.text)
            else:
                if isinstance(el.tag, str):
                    self._end(el.tag.lower())
                if el.tail and el is not frag:
                    self._data(el.tail)


class _Result:
    def __init__(self, target: _Target) -> None:
        self.lines = target.walker.lines
        self.layout = target.ctx.found_layout
        self.candidates = target.candidates
        self.events = target.events


def _parse(text: str, target: object) -> None:
    from lxml import etree

    # huge_tree: no libxml2 limits on text node size; the target keeps no tree, so depth is free
    parser = etree.HTMLParser(target=target, huge_tree=True, no_network=True)
    for i in range(0, len(text), _FEED):
        parser.feed(text[i:i + _FEED])
    parser.close()


def _run(text: str, layout: set[int], subs: dict[int, str]) -> _Result:
    target = _Target(layout, subs)
    try:
        _parse(text, target)
    except Exception as err:  # noqa: BLE001 - lxml raises XMLSyntaxError and ParserError kinds
        if isinstance(err, (MemoryError, RecursionError)):
            raise
        if not target.events:
            raise InputError(f"HTML cannot be parsed: {err}") from None
    return _Result(target)


class _PlainTarget:
    """The page's text without scripts and styles, whitespace removed (to tell whether a
    script's payload is already on the page)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.tags: list[str] = []

    def start(self, tag: str, attrib: dict) -> None:
        self.tags.append(tag)

    def end(self, tag: str) -> None:
        if self.tags:
            self.tags.pop()

    def data(self, text: str) -> None:
        if not self.tags or self.tags[-1] not in ("script", "style"):
            self.parts.append(_compact(text))

    def close(self) -> str:
        return "".join(self.parts)


def _body_compact(text: str) -> str:
    target = _PlainTarget()
    try:
        _parse(text, target)
    except Exception:  # noqa: BLE001
        pass
    return "".join(target.parts)


def _plain_text(root) -> str:
    parts = []
    for el in root.iter():
        if not isinstance(el.tag, str) or el.tag.lower() in ("script", "style"):
            if el.tail:
                parts.append(el.tail)
            continue
        if el.text:
            parts.append(el.text)
        if el.tail:
            parts.append(el.tail)
    return "".join(parts)


def _hidden(attrib: dict) -> bool:
    style = (attrib.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or attrib.get("hidden") is not None


def _span(attrib: dict, attr: str) -> int:
    raw = (attrib.get(attr) or "1").strip()
    m = re.match(r"\d+", raw)
    n = int(m.group()) if m else 1
    return max(1, min(n, 200))


# --- JavaScript-escaped HTML -------------------------------------------------------

_JS_STRING = re.compile(r""""((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'|`((?:[^`\\]|\\.)*)`""", re.DOTALL)
_JOIN = re.compile(
    r"^(?:\+|;?[\w.$\[\]]+\+=|;?[\w.$\[\]]+=[\w.$\[\]]+\+|\);?document\.write(?:ln)?\(|,)$"
)
_JS_ESC = re.compile(r"\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|\r\n|[\s\S])")
_SIMPLE = {"n": "\n", "r": "\r", "t": "\t", "b": "", "f": "", "v": "", "0": "", "\n": "", "\r\n": "", "\r": ""}
_TAGLIKE = re.compile(r"<\s*(?:table|p|div|br|span|tr|td)\b", re.IGNORECASE)


def _js_unescape(s: str) -> str:
    def sub(m: re.Match) -> str:
        e = m.group(1)
        if e.startswith("u{"):
            return chr(int(e[2:-1], 16))
        if e[0] == "u" and len(e) == 5:
            return chr(int(e[1:], 16))
        if e[0] == "x" and len(e) == 3:
            return chr(int(e[1:], 16))
        return _SIMPLE.get(e, e)

    out = _JS_ESC.sub(sub, s)
    # surrogate pairs written as two \u escapes
    if not re.search("[\ud800-\udfff]", out):
        return out
    return out.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _script_html(script: str) -> str:
    """HTML carried in the script's string literals, or "" when there is none."""
    if ("<" not in script and "\\u003c" not in script.lower() and "\\x3c" not in script.lower()
            and "%3c" not in script.lower() and "&lt;" not in script):
        return ""
    chains: list[list[str]] = []
    prev_end = None
    for m in _JS_STRING.finditer(script):
        body = next(g for g in m.groups() if g is not None)
        between = re.sub(r"\s+", "", script[prev_end : m.start()]) if prev_end is not None else None
        if chains and between is not None and _JOIN.match(between):
            chains[-1].append(body)
        else:
            chains.append([body])
        prev_end = m.end()
    found = []
    for chain in chains:
        s = "".join(_js_unescape(b) for b in chain)
        if not _TAGLIKE.search(s):
            if re.search(r"%3c", s, re.IGNORECASE):
                s = urllib.parse.unquote(s)
            elif "&lt;" in s:
                s = _html.unescape(s)
        if _TAGLIKE.search(s) and len(_CJK.findall(s)) >= 20:
            found.append(s)
    return "\n".join(found)
