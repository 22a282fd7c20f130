"""DOCX (Word 2007+, also what WPS and LibreOffice write) as text.

python-docx opens the package; the body is then read at the XML level, in
document order (paragraphs and tables interleaved), because python-docx's
convenience views lose what this tool needs:

- merged cells: ``row.cells`` repeats a merged cell at every grid position it
  covers. Here the grid is built from ``w:gridSpan`` / ``w:vMerge`` (and
  ``w:gridBefore`` / ``w:hMerge``): the text sits at the cell's top-left
  position and the covered positions are empty cells, so a number is never
  printed twice (the same as de-duplicating on ``cell._tc``);
- automatic list numbering ("一、", "（一）", "1.") that ``paragraph.text``
  drops is rebuilt from ``w:numPr`` (direct or through the paragraph style)
  and the numbering part, glued to the paragraph text;
- deleted revisions, field instructions and hidden runs are left out; content
  controls (``w:sdt``), insertions and hyperlinks are read through;
- a table that holds another table is a layout container: its cells are read
  as blocks and the inner tables as rows (flattened).

Each paragraph is a line; each table row is one line of tab-separated cells;
inside a cell, paragraphs are joined with nothing next to CJK text, a space
between Latin words.
"""

from __future__ import annotations

import io
import re
import zipfile

from ..errors import InputError
from .common import RawText, glue_cell, one_line
from .limits import check_zip

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _q(tag: str) -> str:
    return f"{{{W}}}{tag}"


P, TBL, TR, TC, R_, T = _q("p"), _q("tbl"), _q("tr"), _q("tc"), _q("r"), _q("t")
SDT, SDT_CONTENT, CUSTOM_XML = _q("sdt"), _q("sdtContent"), _q("customXml")
VAL = _q("val")
_ALT = f"{{{MC}}}AlternateContent"
_CHOICE = f"{{{MC}}}Choice"

# Containers whose runs are read through as if they were direct children.
_PASS = {_q(t) for t in ("hyperlink", "ins", "smartTag", "customXml", "fldSimple", "moveTo", "sdt", "sdtContent",
                         "dir", "bdo")}
_PASS.add(_CHOICE)
_DOCX_TYPES = (
    "application/vnd.ms-word.document.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
    "application/vnd.ms-word.template.macroEnabledTemplate.main+xml",
)
_MAIN_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


def read(data: bytes, name: str) -> RawText:
    check_zip(data, "DOCX")  # python-docx inflates every part it reads: bound them first
    document = _open(data)
    warnings: list[str] = []
    reader = _Reader(document, warnings)
    lines: list[str] = []
    reader.blocks(document.element.body, lines)
    return RawText("\n".join(lines) + "\n", None, warnings)


def _open(data: bytes):
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        return docx.Document(io.BytesIO(data))
    except ValueError as err:
        if "content type" in str(err) and any(t in str(err) for t in _DOCX_TYPES):
            # .docm / .dotx: same body; python-docx only refuses the label
            return _open(_relabel(data))
        raise InputError(f"DOCX cannot be opened: {one_line(err)}") from None
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, EOFError) as err:
        raise InputError(f"DOCX is corrupt or not a Word document ({type(err).__name__}: {one_line(err)})") from None
    except Exception as err:  # noqa: BLE001 - lxml errors on a damaged part, zlib errors, …
        raise InputError(f"DOCX is corrupt ({type(err).__name__}: {one_line(err)})") from None


def _relabel(data: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            blob = src.read(item.filename)
            if item.filename == "[Content_Types].xml":
                text = blob.decode("utf-8")
                for t in _DOCX_TYPES:
                    text = text.replace(t, _MAIN_TYPE)
                blob = text.encode("utf-8")
            dst.writestr(item, blob)
    return out.getvalue()


class _Reader:
    def __init__(self, document, warnings: list[str]) -> None:
        self.document = document
        self.warnings = warnings
        self.numbering = _Numbering(document, warnings)

    # -- blocks (body, cell, sdtContent) --

    def blocks(self, parent, lines: list[str], in_cell: bool = False) -> None:
        for el in parent:
            tag = el.tag
            if tag == P:
                text = self.paragraph(el)
                if in_cell:
                    lines.append(text)
                else:
                    lines.extend(t.strip(" ") for t in text.split("\n") if t.strip())
            elif tag == TBL:
                self.table(el, lines)
            elif tag in (SDT, SDT_CONTENT, CUSTOM_XML, _CHOICE):
                self.blocks(el, lines, in_cell)
            elif tag == _ALT:
                choice = el.find(_CHOICE)
                if choice is not None:
                    self.blocks(choice, lines, in_cell)
            elif tag == _q("altChunk"):
                self.alt_chunk(el, lines)

    def alt_chunk(self, el, lines: list[str]) -> None:
        """An embedded HTML/DOCX chunk (WPS and some generators use these)."""
        rid = el.get(f"{{{R}}}id")
        try:
            part = self.document.part.related_parts[rid]
        except KeyError:
            return
        ctype = getattr(part, "content_type", "")
        blob = getattr(part, "blob", b"")
        if "html" in ctype:
            from . import html

            text, _, _ = html.read(blob, "altChunk")
        elif "wordprocessingml" in ctype:
            text, _, _ = read(blob, "altChunk")
        else:
            return
        lines.extend(t for t in text.split("\n") if t.strip())
        self.warnings.append(f"read an embedded {ctype.split('/')[-1]} chunk")

    # -- paragraphs --

    def paragraph(self, p) -> str:
        pieces: list[str] = []
        self._runs(p, pieces)
        text = "".join(pieces)
        if text.strip():
            prefix = self.numbering.label(p)
            if prefix:
                text = prefix + text.lstrip()
        return text

    def _runs(self, parent, out: list[str]) -> None:
        for el in parent:
            tag = el.tag
            if tag == R_:
                self._run(el, out)
            elif tag in _PASS:
                self._runs(el, out)
            elif tag == _ALT:
                choice = el.find(_CHOICE)
                if choice is not None:
                    self._runs(choice, out)

    def _run(self, r, out: list[str]) -> None:
        rpr = r.find(_q("rPr"))
        if rpr is not None:
            v = rpr.find(_q("vanish"))
            if v is not None and v.get(VAL, "true") not in ("0", "false", "off"):
                return
        for el in r:
            tag = el.tag
            if tag == T:
                out.append(el.text or "")
            elif tag == _q("tab") or tag == _q("ptab"):
                out.append("\t")
            elif tag in (_q("br"), _q("cr")):
                out.append("\n")
            elif tag == _q("noBreakHyphen"):
                out.append("-")

    # -- tables --

    def table(self, tbl, lines: list[str]) -> None:
        rows = list(_children(tbl, TR))
        cells_by_row = [list(_children(tr, TC)) for tr in rows]
        nested = any(tc.find(f".//{TBL}") is not None for row in cells_by_row for tc in row)
        if nested:  # layout table: cells as blocks, inner tables as rows
            for row in cells_by_row:
                for tc in row:
                    inner: list[str] = []
                    self.blocks(tc, inner)
                    lines.extend(inner)
            return
        for tr, tcs in zip(rows, cells_by_row):
            cells: list[str] = [""] * _trpr_int(tr, "gridBefore")
            for tc in tcs:
                tcpr = tc.find(_q("tcPr"))
                span, covered = 1, False
                if tcpr is not None:
                    gs = tcpr.find(_q("gridSpan"))
                    if gs is not None and (gs.get(VAL) or "1").isdigit():
                        span = max(1, min(int(gs.get(VAL)), 200))
                    vm = tcpr.find(_q("vMerge"))
                    if vm is not None and vm.get(VAL, "continue") != "restart":
                        covered = True
                    hm = tcpr.find(_q("hMerge"))
                    if hm is not None and hm.get(VAL, "continue") != "restart":
                        covered = True
                text = "" if covered else self.cell_text(tc)
                cells.append(text)
                cells.extend([""] * (span - 1))
            if any(cells):
                lines.append("\t".join(cells))

    def cell_text(self, tc) -> str:
        paras: list[str] = []
        self.blocks(tc, paras, in_cell=True)
        return glue_cell(paras)


def _children(el, tag):
    """Direct children with ``tag``, looking through content controls and customXml."""
    for child in el:
        if child.tag == tag:
            yield child
        elif child.tag in (SDT, SDT_CONTENT, CUSTOM_XML):
            yield from _children(child, tag)


def _trpr_int(tr, name: str) -> int:
    trpr = tr.find(_q("trPr"))
    if trpr is None:
        return 0
    el = trpr.find(_q(name))
    if el is None or not (el.get(VAL) or "").isdigit():
        return 0
    return min(int(el.get(VAL)), 200)


# --- automatic numbering ---------------------------------------------------------


class _Numbering:
    """Rebuilds list labels ("一、", "（二）", "3.") that Word computes at render time."""

    def __init__(self, document, warnings: list[str]) -> None:
        # numId -> (abstractNumId, {ilvl: startOverride}); a damaged part may lack an abstractNumId (None)
        self.nums: dict[str, tuple[str | None, dict[int, int]]] = {}
        # abstract -> ilvl -> (fmt, lvlText, start, isLgl)
        self.levels: dict[str | None, dict[int, tuple[str, str, int, bool]]] = {}
        self.style_num: dict[str, tuple[str | None, int | None]] = {}
        self.counters: dict[str | None, dict[int, int]] = {}
        self.started: set[str] = set()
        try:
            self._load(document)
        except Exception as err:  # noqa: BLE001 - a damaged numbering part must not lose the body
            self.nums, self.levels = {}, {}
            # without it headings lose "一、" and part detection may suffer: say so
            warnings.append(f"DOCX list numbering could not be read ({type(err).__name__}: {one_line(err)}); "
                            "automatic labels such as 一、 are missing")

    def _load(self, document) -> None:
        part = None
        try:
            rel = document.part.part_related_by(
                "http://schemas.openxmlformats.org/officeDocument/2006/relationships/numbering"
            )
            part = rel
        except KeyError:
            part = None
        if part is not None:
            root = part.element
            for an in root.findall(_q("abstractNum")):
                aid = an.get(_q("abstractNumId"))
                lvls: dict[int, tuple[str, str, int, bool]] = {}
                for lvl in an.findall(_q("lvl")):
                    ilvl = int(lvl.get(_q("ilvl"), "0"))
                    fmt = _val(lvl, "numFmt") or "decimal"
                    text = _val(lvl, "lvlText")
                    start = _val(lvl, "start")
                    lvls[ilvl] = (
                        fmt,
                        text if text is not None else f"%{ilvl + 1}.",
                        int(start) if start and start.lstrip("-").isdigit() else 1,
                        lvl.find(_q("isLgl")) is not None,
                    )
                self.levels[aid] = lvls
            for num in root.findall(_q("num")):
                nid = num.get(_q("numId"))
                aid = _val(num, "abstractNumId")
                overrides = {}
                for ov in num.findall(_q("lvlOverride")):
                    so = ov.find(_q("startOverride"))
                    if so is not None and (so.get(VAL) or "").isdigit():
                        overrides[int(ov.get(_q("ilvl"), "0"))] = int(so.get(VAL))
                self.nums[nid] = (aid, overrides)
        styles = document.styles.element
        based: dict[str, str] = {}
        for st in styles.findall(_q("style")):
            sid = st.get(_q("styleId"))
            b = _val(st, "basedOn")
            if b:
                based[sid] = b
            ppr = st.find(_q("pPr"))
            numpr = ppr.find(_q("numPr")) if ppr is not None else None
            if numpr is not None:
                lv = _val(numpr, "ilvl")
                self.style_num[sid] = (_val(numpr, "numId"), int(lv) if lv and lv.isdigit() else None)
        for sid in list(based):  # inherit through basedOn
            seen, cur = set(), sid
            while cur in based and cur not in self.style_num and cur not in seen:
                seen.add(cur)
                cur = based[cur]
            if sid not in self.style_num and cur in self.style_num:
                self.style_num[sid] = self.style_num[cur]

    def label(self, p) -> str:
        if not self.nums:
            return ""
        ppr = p.find(_q("pPr"))
        num_id: str | None = None
        ilvl: int | None = None
        if ppr is not None:
            sid = _val(ppr, "pStyle")
            if sid and sid in self.style_num:
                num_id, ilvl = self.style_num[sid]
            numpr = ppr.find(_q("numPr"))
            if numpr is not None:
                n = _val(numpr, "numId")
                lv = _val(numpr, "ilvl")
                if n is not None:
                    num_id = n
                if lv is not None and lv.isdigit():
                    ilvl = int(lv)
        if not num_id or num_id == "0" or num_id not in self.nums:
            return ""
        ilvl = ilvl or 0
        aid, overrides = self.nums[num_id]
        levels = self.levels.get(aid)
        if not levels or ilvl not in levels:
            return ""
        counters = self.counters.setdefault(aid, {})
        if num_id not in self.started:
            self.started.add(num_id)
            for level, start in overrides.items():
                counters[level] = start - 1
                for deeper in [k for k in counters if k > level]:
                    del counters[deeper]
        fmt, text, start, _ = levels[ilvl]
        counters[ilvl] = counters[ilvl] + 1 if ilvl in counters else start
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]
        if fmt in ("bullet", "none"):
            return ""
        is_lgl = levels[ilvl][3]

        def sub(m: re.Match) -> str:
            k = int(m.group(1)) - 1
            if k not in levels:
                return ""
            n = counters.get(k, levels[k][2])
            return _format(n, "decimal" if is_lgl and k < ilvl else levels[k][0])

        return re.sub(r"%(\d)", sub, text)


def _val(el, child: str) -> str | None:
    c = el.find(_q(child))
    return None if c is None else c.get(VAL)


_DIGITS = "〇一二三四五六七八九"
_LEGAL = "零壹贰叁肆伍陆柒捌玖"
_TIANGAN = "甲乙丙丁戊己庚辛壬癸"
_DIZHI = "子丑寅卯辰巳午未申酉戌亥"


def _chinese(n: int, digits: str = _DIGITS, ten: str = "十") -> str:
    if n <= 0:
        return str(n)
    if n < 10:
        return digits[n]
    if n < 20:
        return ten + (digits[n % 10] if n % 10 else "")
    if n < 100:
        return digits[n // 10] + ten + (digits[n % 10] if n % 10 else "")
    return str(n)


def _roman(n: int) -> str:
    out = ""
    for v, s in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"),
                 (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= v:
            out += s
            n -= v
    return out


def _letters(n: int) -> str:
    n = max(n, 1)
    return chr(ord("A") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def _format(n: int, fmt: str) -> str:
    if fmt in ("chineseCounting", "chineseCountingThousand", "japaneseCounting", "taiwaneseCounting",
               "taiwaneseCountingThousand", "ideographLegalTraditional"):
        return _chinese(n)
    if fmt == "chineseLegalSimplified":
        return _chinese(n, _LEGAL, "拾")
    if fmt in ("ideographDigital", "taiwaneseDigital", "japaneseDigitalTenThousand"):
        return "".join(_DIGITS[int(d)] for d in str(n))
    if fmt == "ideographTraditional":
        return _TIANGAN[(n - 1) % 10]
    if fmt == "ideographZodiac":
        return _DIZHI[(n - 1) % 12]
    if fmt == "upperLetter":
        return _letters(n)
    if fmt == "lowerLetter":
        return _letters(n).lower()
    if fmt == "upperRoman":
        return _roman(n)
    if fmt == "lowerRoman":
        return _roman(n).lower()
    if fmt in ("decimalEnclosedCircle", "decimalEnclosedCircleChinese") and 1 <= n <= 20:
        return chr(0x2460 + n - 1)
    if fmt == "decimalEnclosedParen" and 1 <= n <= 20:
        return chr(0x2474 + n - 1)
    if fmt == "decimalEnclosedFullstop" and 1 <= n <= 20:
        return chr(0x2488 + n - 1)
    if fmt == "decimalFullWidth" or fmt == "decimalFullWidth2":
        return "".join(chr(0xFF10 + int(d)) for d in str(n))
    if fmt == "decimalZero":
        return f"{n:02d}"
    return str(n)
