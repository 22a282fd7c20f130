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
"""

from __future__ import annotations

import codecs
import html as _html
import re
import urllib.parse

from ..errors import InputError
from .common import CJK as _CJK, glue_cell
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
_SKIP = frozenset("script style noscript template title meta link iframe frame object embed svg math select button input textarea map area base".split())
_CELL = ("td", "th")

_WS = re.compile(r"[ \t\r\n\f\v\u00a0\u3000]+")


def read(data: bytes, name: str) -> tuple[str, str | None, list[str]]:
    import lxml.html
    from lxml import etree

    text, encoding, warnings = _decode(data)
    # lxml refuses str input that still declares an encoding
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError) as err:
        raise InputError(f"HTML cannot be parsed: {err}") from None
    unescaped = _inline_scripts(root)
    if unescaped:
        warnings.append(f"report text read from {unescaped} JavaScript string(s) (escaped HTML)")
    walker = _Walker()
    walker.walk(root)
    walker.flush()
    return "\n".join(walker.lines) + "\n", encoding, warnings


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
        except LookupError:
            enc = None
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


def _tag(el) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].lower()


def _hidden(el) -> bool:
    style = (el.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or el.get("hidden") is not None


def _span(el, attr: str) -> int:
    raw = (el.get(attr) or "1").strip()
    m = re.match(r"\d+", raw)
    n = int(m.group()) if m else 1
    return max(1, min(n, 200))


# --- the walker ----------------------------------------------------------------


class _Walker:
    def __init__(self, in_cell: bool = False) -> None:
        self.lines: list[str] = []
        self.cur: list[str] = []
        self.in_cell = in_cell

    def flush(self) -> None:
        line = _clean("".join(self.cur))
        self.cur = []
        if line:
            self.lines.append(line)

    def add(self, text: str | None) -> None:
        if text:
            self.cur.append(text)

    def walk(self, el) -> None:
        tag = _tag(el)
        if not tag:  # comment, processing instruction
            return
        if tag in _SKIP or _hidden(el):
            return
        if tag == "br":
            self.flush()
            return
        if tag == "table":
            self.flush()
            self._table(el)
            return
        if tag in ("pre", "plaintext", "xmp") and not self.in_cell:
            self.flush()  # preformatted: keep its lines; wide gaps are column breaks
            for line in el.text_content().splitlines():
                line = re.sub(r"[ \u3000\u00a0]{2,}|\t+", "\t", line.strip())
                if line:
                    self.lines.append(line)
            return
        block = tag in _BLOCK or tag in _CELL
        if block:
            self.flush()
        self.add(el.text)
        for child in el:
            self.walk(child)
            self.add(child.tail)
        if block:
            self.flush()

    def _child(self) -> "_Walker":
        return _Walker(in_cell=True)

    # -- tables --

    def _table(self, table) -> None:
        rows = list(_rows(table))
        nested = any(_is_container(td) for tr in rows for td in _cells(tr))
        caption = next((c for c in table if _tag(c) == "caption"), None)
        if caption is not None:
            self.walk(caption)
        if nested:  # layout table: read cells as blocks, inner tables as rows
            for tr in rows:
                for td in _cells(tr):
                    if _hidden(td):
                        continue
                    self.flush()
                    self.add(td.text)
                    for child in td:
                        self.walk(child)
                        self.add(child.tail)
                    self.flush()
            return
        grid: dict[tuple[int, int], str] = {}
        taken: set[tuple[int, int]] = set()
        width = 0
        for r, tr in enumerate(rows):
            c = 0
            for td in _cells(tr):
                if _hidden(td):
                    continue  # display:none takes no place in the grid
                while (r, c) in taken:
                    c += 1
                rs, cs = _span(td, "rowspan"), _span(td, "colspan")
                if rs > 1 and len(rows) - r < rs:
                    rs = len(rows) - r
                text = self._cell_text(td)
                grid[(r, c)] = text
                for dr in range(rs):
                    for dc in range(cs):
                        taken.add((r + dr, c + dc))
                c += cs
                width = max(width, c)
        for r in range(len(rows)):
            cells = [grid.get((r, c), "") for c in range(width)]
            if any(cells):
                self.lines.append("\t".join(cells))

    def _cell_text(self, td) -> str:
        w = self._child()
        w.add(td.text)
        for child in td:
            w.walk(child)
            w.add(child.tail)
        w.flush()
        return glue_cell(w.lines)


def _is_container(td) -> bool:
    """A cell that holds a table, or a long run of paragraphs: the table is for layout."""
    blocks = 0
    for d in td.iter():
        if d is td:
            continue
        tag = _tag(d)
        if tag == "table":
            return True
        if tag in ("p", "div", "br", "h1", "h2", "h3", "h4", "li"):
            blocks += 1
    return blocks >= 3 and len(_compact(td.text_content())) > 300


def _inline_scripts(root) -> int:
    """Replace each script that carries the report as escaped HTML by that HTML."""
    import lxml.html

    body_compact = _compact(_plain_text(root))
    count = 0
    for script in list(root.iter("script")):
        payload = _script_html(script.text or "")
        if not payload:
            continue
        try:
            frag = lxml.html.fragment_fromstring(payload, create_parent="div")
        except Exception:  # noqa: BLE001 - a broken payload is just not read
            continue
        probe = _compact(_plain_text(frag))
        if len(_CJK.findall(probe)) < 20:
            continue
        if probe[:40] in body_compact:
            continue  # the page already shows this text outside the script
        frag.tail = script.tail
        script.getparent().replace(script, frag)
        count += 1
    return count


def _rows(table):
    """The table's own rows (through thead/tbody/tfoot), not those of nested tables."""
    for child in table:
        tag = _tag(child)
        if tag == "tr":
            yield child
        elif tag in ("thead", "tbody", "tfoot"):
            for tr in child:
                if _tag(tr) == "tr":
                    yield tr


def _cells(tr):
    return [td for td in tr if _tag(td) in _CELL]


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
    return out.encode("utf-16", "surrogatepass").decode("utf-16", "replace") if re.search("[\ud800-\udfff]", out) else out


def _script_html(script: str) -> str:
    """HTML carried in the script's string literals, or "" when there is none."""
    if "<" not in script and "\\u003c" not in script.lower() and "\\x3c" not in script.lower() and "%3c" not in script.lower() and "&lt;" not in script:
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
