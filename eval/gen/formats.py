"""Render gold reports into real HTML, DOCX, PDF and DOC/WPS files (reader fixtures).

    python -m eval.gen.formats --out eval/cases/formats

Writes ``<name>.<ext>`` + ``<name>.gold.json`` (the flat gold plus
``"_case": {"format", "quirks", "source"}``) for

- each seed's gold (``eval/cases/seeds/<seed>.gold.json``) as HTML, DOCX and PDF;
- ten generated reports (``eval.gen.gold.random_gold``) spread over the formats;
- unreadable inputs under ``bad/`` (corrupt DOCX/PDF, image-only PDF,
  encrypted PDF, a real ``.doc`` for the converter-missing test).

The report structure (title, prose, the template tables with their merged
cells) comes from ``eval.gen.grid.build_report``; this module only prints it.
PDF and DOC go through LibreOffice headless (DOCX → PDF; DOCX → ODT → DOC,
because LibreOffice's direct DOCX → DOC export drops python-docx tables), so
regenerating needs ``soffice`` and a CJK font (fonts-wqy-zenhei); the HTML and
DOCX writers need only python-docx.
"""

from __future__ import annotations

import argparse
import atexit
import html
import io
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from eval.gen.gold import random_gold
from eval.gen.grid import GridCell, Report, Table, build_report

ROOT = Path(__file__).resolve().parents[2]
SEED_GOLD = ROOT / "eval" / "cases" / "seeds"
CJK_FONT = "WenQuanYi Zen Hei"


# --- HTML ------------------------------------------------------------------------------


@dataclass
class HtmlStyle:
    charset: str = "utf-8"  # the bytes' encoding
    meta: str | None = "charset"  # "charset" | "http-equiv" | None (no declaration)
    word: bool = False  # Word "save as web page" markup: MsoNormal, spans, <o:p>, &nbsp;
    split_spans: bool = False  # labels split over several <span>s with source newlines
    js: str | None = None  # "write" (document.write) | "var" (JS variable + innerHTML)
    layout: bool = False  # whole page inside a layout table (nested tables)
    meta_table: bool = False  # 名称/索引号/发布机构 table before the report
    blank: str = "&nbsp;"  # markup of a null value cell


def _span_split(text: str, rng: random.Random) -> str:
    """Escape ``text``; maybe split it into <span>s the way Word exports do."""
    if len(text) < 4:
        return html.escape(text)
    cuts = sorted(rng.sample(range(1, len(text)), min(2, len(text) - 1)))
    parts = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)])]
    return "\n".join(f"<span style='font-family:仿宋_GB2312'>{html.escape(p)}</span>" for p in parts)


def _html_cell_inner(cell: GridCell, st: HtmlStyle, rng: random.Random) -> str:
    text = cell.text
    if not text.strip():
        inner = st.blank
        return f"<p class=MsoNormal align=center><span>{inner}<o:p></o:p></span></p>" if st.word else inner
    if cell.role == "value":
        if st.split_spans and len(text) >= 2:  # digits split over spans, no whitespace between
            k = len(text) // 2
            inner = f"<span>{html.escape(text[:k])}</span><span>{html.escape(text[k:])}</span>"
        else:
            inner = html.escape(text)
    elif st.split_spans:
        inner = _span_split(text, rng)
    elif cell.role in ("header", "group") and len(text) >= 4 and rng.random() < 0.5:
        k = len(text) // 2  # a label broken over two lines
        inner = f"{html.escape(text[:k])}<br>{html.escape(text[k:])}"
    else:
        inner = html.escape(text)
    if st.word:
        return (f"<p class=MsoNormal align=center style='text-align:center'><span lang=EN-US>{inner}"
                "<o:p></o:p></span></p>")
    return inner


def _html_table(table: Table, st: HtmlStyle, rng: random.Random) -> str:
    out = ["<table border=1 cellspacing=0 cellpadding=0 class=MsoNormalTable style='border-collapse:collapse'>",
           "<tbody>"]
    for row in table.rows:
        out.append("<tr>")
        for cell in row:
            attrs = ""
            if cell.rowspan > 1:
                attrs += f" rowspan={cell.rowspan}" if rng.random() < 0.5 else f' rowspan="{cell.rowspan}"'
            if cell.colspan > 1:
                attrs += f' colspan="{cell.colspan}"'
            if st.word:
                attrs += " valign=middle style='border:solid windowtext 1.0pt;padding:0cm 5.4pt 0cm 5.4pt'"
            out.append(f"<td{attrs}>{_html_cell_inner(cell, st, rng)}</td>")
        out.append("</tr>")
    out += ["</tbody>", "</table>"]
    return "\n".join(out)


def _html_para(text: str, st: HtmlStyle, cls: str = "") -> str:
    if st.word:
        return (f"<p class=MsoNormal{cls} style='text-indent:32.0pt'><span style='font-family:仿宋_GB2312'>"
                f"{html.escape(text)}</span><o:p></o:p></p>")
    return f"<p{cls}>{html.escape(text)}</p>"


def render_html(report: Report, gold: dict, st: HtmlStyle, rng: random.Random) -> bytes:
    body: list[str] = []
    if st.meta_table:
        body.append(
            "<table class=meta border=0><tr><td>名　　称：</td><td>" + html.escape(report.title) + "</td>"
            "<td>索 引 号：</td><td>"
            + f"{rng.randint(10**8, 10**9 - 1)}/{gold.get('meta.year') or 2021}-{rng.randint(1, 99999):05d}"
            + "</td></tr>"
            "<tr><td>发布机构：</td><td>" + html.escape(str(gold.get("meta.agency") or "办公室")) + "</td>"
            "<td>发文日期：</td><td>" + f"{(gold.get('meta.year') or 2021) + 1}年01月{rng.randint(10, 28)}日"
            + "</td></tr></table>"
        )
    body.append(f"<h1 style='text-align:center'>{html.escape(report.title)}</h1>" if not st.word else
                f"<p class=MsoTitle align=center><b><span style='font-size:22.0pt'>{html.escape(report.title)}"
                "</span></b></p>")
    for p in report.intro:
        body.append(_html_para(p, st))
    for part in report.parts:
        body.append(f"<h2>{html.escape(part.heading)}</h2>" if not st.word else
                    f"<p class=MsoNormal><b><span style='font-family:黑体'>{html.escape(part.heading)}</span></b>"
                    "<o:p></o:p></p>")
        for p in part.paragraphs:
            body.append(_html_para(p, st))
        if part.table is not None:
            body.append(_html_table(part.table, st, rng))
    content = "\n".join(body)
    if st.js:
        content = _js_wrap(content, st.js)
    if st.layout:
        content = (
            "<table width=1000 border=0 class=layout><tr><td class=nav>首页 &gt; 政府信息公开 &gt; 年度报告</td></tr>"
            f"<tr><td class=main>\n{content}\n</td></tr>"
            f"<tr><td class=foot>主办单位：办公室　网站标识码：{rng.randint(10**9, 10**10 - 1)}</td></tr></table>"
        )
    head = ""
    if st.meta == "charset":
        head += f'<meta charset="{st.charset}">\n'
    elif st.meta == "http-equiv":
        head += f'<meta http-equiv="Content-Type" content="text/html; charset={st.charset}">\n'
    if st.word:
        head += ('<meta name=Generator content="Microsoft Word 15 (filtered)">\n'
                 "<style>\n<!-- p.MsoNormal {margin:0cm; font-size:10.5pt;} -->\n</style>\n")
    head += "<script>var _hmt = _hmt || []; function nav(){ return '首页'; }</script>\n"
    page = (
        ("<html xmlns:o=\"urn:schemas-microsoft-com:office:office\">" if st.word else "<!DOCTYPE html>\n<html>")
        + f"\n<head>\n{head}<title>{html.escape(report.title)}</title>\n</head>\n<body>\n{content}\n</body>\n</html>\n"
    )
    return page.encode(st.charset, errors="xmlcharrefreplace")


def _js_wrap(content: str, how: str) -> str:
    if how == "write":
        s = json.dumps(content, ensure_ascii=True).replace("</", "<\\/")
        return f'<div id="zoom"></div>\n<script type="text/javascript">\ndocument.write({s});\n</script>'
    # a JS variable built from many single-quoted strings, unicode kept as is
    pieces = []
    for line in content.split("\n"):
        esc = line.replace("\\", "\\\\").replace("'", "\\'").replace("</", "<\\/")
        pieces.append(f"'{esc}'")
    joined = " +\n    ".join(pieces)
    return (
        '<div id="content"></div>\n<script type="text/javascript">\n'
        f"var content = {joined};\ndocument.getElementById('content').innerHTML = content;\n</script>"
    )


# --- DOCX ------------------------------------------------------------------------------


@dataclass
class DocxStyle:
    numbering: bool = False  # headings (and row labels, see below) as automatic numbering
    numbering_rows: bool = True  # with numbering: the "1./2./3." part-3 row labels too
    multi_para: bool = False  # label cells of several paragraphs ("商业" / "企业")
    spaced_digits: bool = False  # character spacing on value runs (PDF: letter-spaced numbers)
    footer: bool = False  # "— PAGE —" page-number footer
    repeat_header: bool = False  # part-3 header rows repeat on each page
    blank: str = ""  # text of a null value cell
    font_size: float = 10.5
    extra: list[str] = field(default_factory=list)


def _w(tag: str) -> str:
    return "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}" + tag


def _set_cjk_font(run, size: float | None = None, bold: bool = False) -> None:
    from docx.oxml import OxmlElement
    from docx.shared import Pt

    run.font.name = CJK_FONT
    rpr = run._r.get_or_add_rPr()
    fonts = rpr.find(_w("rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    fonts.set(_w("eastAsia"), CJK_FONT)
    if size:
        run.font.size = Pt(size)
    if bold:
        run.bold = True


class _DocxNumbering:
    """Adds a Chinese outline list ("一、") and restartable decimal lists ("1.")."""

    def __init__(self, document) -> None:
        from docx.oxml import parse_xml

        self.root = document.part.numbering_part.element
        self.parse_xml = parse_xml
        ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
        self.outline_abs = self._abstract(
            ns, 900,
            '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="%1、"/>'
            '<w:lvlJc w:val="left"/><w:suff w:val="nothing"/></w:lvl>'
            '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="（%2）"/>'
            '<w:lvlJc w:val="left"/><w:suff w:val="nothing"/></w:lvl>',
        )
        self.decimal_abs = self._abstract(
            ns, 901,
            '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/>'
            '<w:lvlJc w:val="left"/><w:suff w:val="nothing"/></w:lvl>',
        )
        self.outline = self._num(ns, self.outline_abs)
        self.next_id = 950

    def _abstract(self, ns: str, aid: int, levels: str) -> int:
        el = self.parse_xml(f'<w:abstractNum {ns} w:abstractNumId="{aid}"><w:multiLevelType w:val="multilevel"/>'
                            f"{levels}</w:abstractNum>")
        first_num = self.root.find(_w("num"))
        if first_num is not None:
            first_num.addprevious(el)
        else:
            self.root.append(el)
        return aid

    def _num(self, ns: str, aid: int, restart: bool = False, nid: int | None = None) -> int:
        nid = nid or (aid + 100)
        override = '<w:lvlOverride w:ilvl="0"><w:startOverride w:val="1"/></w:lvlOverride>' if restart else ""
        self.root.append(
            self.parse_xml(f'<w:num {ns} w:numId="{nid}"><w:abstractNumId w:val="{aid}"/>{override}</w:num>'))
        return nid

    def new_decimal_list(self) -> int:
        self.next_id += 1
        ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
        return self._num(ns, self.decimal_abs, restart=True, nid=self.next_id)

    @staticmethod
    def apply(paragraph, num_id: int, ilvl: int = 0) -> None:
        from docx.oxml import OxmlElement

        ppr = paragraph._p.get_or_add_pPr()
        numpr = OxmlElement("w:numPr")
        lvl = OxmlElement("w:ilvl")
        lvl.set(_w("val"), str(ilvl))
        nid = OxmlElement("w:numId")
        nid.set(_w("val"), str(num_id))
        numpr.append(lvl)
        numpr.append(nid)
        ppr.insert(0, numpr)


_HEADING_NUM = re.compile(r"^[一二三四五六七八九十]+、")
_ROW_NUM = re.compile(r"^(\d)\.")


def _add_page_footer(section) -> None:
    from docx.oxml import parse_xml

    p = section.footer.paragraphs[0]
    p.alignment = 1
    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    p._p.append(parse_xml(f'<w:r {ns}><w:t xml:space="preserve">— </w:t></w:r>'))
    p._p.append(parse_xml(f'<w:fldSimple {ns} w:instr=" PAGE "><w:r><w:t>1</w:t></w:r></w:fldSimple>'))
    p._p.append(parse_xml(f'<w:r {ns}><w:t xml:space="preserve"> —</w:t></w:r>'))


def _docx_table(document, table: Table, st: DocxStyle, numbering: _DocxNumbering | None, rng: random.Random) -> None:
    from docx.oxml import OxmlElement

    matrix = table.matrix()
    t = document.add_table(rows=len(matrix), cols=table.width)
    t.style = "Table Grid"
    decimal_list: int | None = None
    for r, line in enumerate(matrix):
        if st.repeat_header and table.name == "part3" and r < table.header_rows:
            trpr = t.rows[r]._tr.get_or_add_trPr()
            trpr.append(OxmlElement("w:tblHeader"))
        for c, slot in enumerate(line):
            if not slot.origin:
                continue
            cell = slot.cell
            target = t.cell(r, c)
            if cell.rowspan > 1 or cell.colspan > 1:
                target = target.merge(t.cell(r + cell.rowspan - 1, c + cell.colspan - 1))
            text = cell.text if cell.text.strip() or cell.role != "value" else st.blank
            paras = [text]
            num_id = None
            if numbering is not None and st.numbering_rows and table.name == "part3" and cell.role == "label":
                m = _ROW_NUM.match(text)
                if m:
                    if m.group(1) == "1" or decimal_list is None:
                        decimal_list = numbering.new_decimal_list()
                    num_id = decimal_list
                    paras = [text[m.end():]]
            if (st.multi_para and cell.role in ("header", "group", "label") and 4 <= len(paras[0]) <= 12
                    and rng.random() < 0.6):
                k = len(paras[0]) // 2
                paras = [paras[0][:k], paras[0][k:]]
            first = target.paragraphs[0]
            for i, ptxt in enumerate(paras):
                p = first if i == 0 else target.add_paragraph()
                p.alignment = 1
                if num_id is not None and i == 0:
                    _DocxNumbering.apply(p, num_id)
                run = p.add_run(ptxt)
                _set_cjk_font(run, st.font_size - 1)
                if st.spaced_digits and cell.role == "value":
                    sp = OxmlElement("w:spacing")
                    sp.set(_w("val"), "60")  # 3 pt between glyphs
                    run._r.get_or_add_rPr().append(sp)


def render_docx(report: Report, st: DocxStyle, rng: random.Random) -> bytes:
    import docx
    from docx.shared import Pt

    document = docx.Document()
    normal = document.styles["Normal"]
    normal.font.name = CJK_FONT
    normal.font.size = Pt(st.font_size)
    normal.element.get_or_add_rPr()
    rfonts = normal.element.rPr.find(_w("rFonts"))
    if rfonts is not None:
        rfonts.set(_w("eastAsia"), CJK_FONT)
    numbering = _DocxNumbering(document) if st.numbering else None
    if st.footer:
        _add_page_footer(document.sections[0])
    title = document.add_paragraph()
    title.alignment = 1
    _set_cjk_font(title.add_run(report.title), 16, bold=True)
    for p in report.intro:
        _set_cjk_font(document.add_paragraph().add_run(p), st.font_size)
    for part in report.parts:
        heading = document.add_paragraph()
        text = part.heading
        if numbering is not None:
            text = _HEADING_NUM.sub("", text)
            _DocxNumbering.apply(heading, numbering.outline, 0)
        _set_cjk_font(heading.add_run(text), st.font_size + 1, bold=True)
        for p in part.paragraphs:
            _set_cjk_font(document.add_paragraph().add_run(p), st.font_size)
        if part.table is not None:
            _docx_table(document, part.table, st, numbering, rng)
            document.add_paragraph()
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --- LibreOffice ------------------------------------------------------------------------


def soffice() -> str:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if not exe:
        raise SystemExit(
            "LibreOffice (soffice) is needed to write PDF/DOC fixtures: apt-get install libreoffice-writer-nogui")
    return exe


_PROFILE: str | None = None


def _profile() -> str:
    global _PROFILE
    if _PROFILE is None:
        _PROFILE = tempfile.mkdtemp(prefix="gkllm-fixtures-lo-")
        atexit.register(shutil.rmtree, _PROFILE, True)
    return _PROFILE


def convert(data: bytes, src_ext: str, target: str, out_ext: str) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / f"in.{src_ext}"
        src.write_bytes(data)
        cmd = [soffice(), f"-env:UserInstallation=file://{_profile()}", "--headless", "--norestore",
               "--convert-to", target, "--outdir", str(Path(tmp) / "out"), str(src)]
        subprocess.run(cmd, check=True, capture_output=True, timeout=180)
        produced = list((Path(tmp) / "out").glob(f"*.{out_ext}"))
        if not produced:
            raise RuntimeError(f"LibreOffice produced no .{out_ext} from .{src_ext}")
        return produced[0].read_bytes()


def docx_to_pdf(data: bytes) -> bytes:
    return convert(data, "docx", "pdf:writer_pdf_Export", "pdf")


def docx_to_doc(data: bytes) -> bytes:
    odt = convert(data, "docx", "odt", "odt")
    return convert(odt, "odt", "doc:MS Word 97", "doc")


# --- cases -------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    fmt: str  # html | docx | pdf | doc | wps
    gold: dict
    quirks: list[str]
    source: str
    render: Callable[[Report, random.Random], bytes]


def _for_render(gold: dict) -> dict:
    g = dict(gold)
    if not g.get("meta.agency"):
        g["meta.agency"] = ""
    if not g.get("meta.year"):
        g["meta.year"] = 2021
    return g


def _html_case(st: HtmlStyle, gold: dict) -> Callable[[Report, random.Random], bytes]:
    return lambda rep, rng: render_html(rep, gold, st, rng)


def _docx_case(st: DocxStyle, then: Callable[[bytes], bytes] | None = None) -> Callable[[Report, random.Random], bytes]:
    def go(rep: Report, rng: random.Random) -> bytes:
        data = render_docx(rep, st, rng)
        return then(data) if then else data

    return go


def _html_quirks(st: HtmlStyle) -> list[str]:
    q = [f"charset:{st.charset}", f"meta:{st.meta or 'none'}", "rowspan-colspan"]
    q += [name for name, on in (("word-export", st.word), ("split-spans", st.split_spans), ("layout-table", st.layout),
                                ("metadata-table", st.meta_table)) if on]
    if st.js:
        q.append(f"js-escaped:{st.js}")
    if st.blank:
        q.append(f"blank-cells:{st.blank}")
    return q


def _docx_quirks(st: DocxStyle) -> list[str]:
    q = ["merged-cells"]
    q += [name for name, on in (("auto-numbering" + ("" if st.numbering_rows else ":headings"), st.numbering),
                                ("multi-paragraph-cells", st.multi_para),
                                ("letter-spaced-digits", st.spaced_digits), ("page-number-footer", st.footer),
                                ("repeated-header-rows", st.repeat_header)) if on]
    if st.blank:
        q.append(f"blank-cells:{st.blank}")
    return q + st.extra


def cases() -> list[Case]:
    out: list[Case] = []
    seed_html = [
        HtmlStyle(charset="gbk", meta="http-equiv", word=True, split_spans=True, meta_table=True),
        HtmlStyle(js="write"),
        HtmlStyle(charset="gb2312", meta="charset", layout=True),
        HtmlStyle(charset="gb18030", meta=None, word=True),
        HtmlStyle(js="var", meta_table=True, blank=""),
    ]
    seed_docx = [
        DocxStyle(numbering=True, multi_para=True),
        DocxStyle(),
        DocxStyle(multi_para=True, blank="/"),
        DocxStyle(numbering=True),
        DocxStyle(multi_para=True),
    ]
    seed_pdf = [
        DocxStyle(footer=True),
        DocxStyle(footer=True, spaced_digits=True, numbering=True),
        DocxStyle(multi_para=True),
        DocxStyle(footer=True, repeat_header=True),
        DocxStyle(footer=True, font_size=12),
    ]
    for i, path in enumerate(sorted(SEED_GOLD.glob("*.gold.json"))):
        gold = json.loads(path.read_text(encoding="utf-8"))
        gold = {k: v for k, v in gold.items() if not k.startswith("_")}
        src = f"seed:{path.name.split('.')[0]}"
        hs, ds, ps = seed_html[i % 5], seed_docx[i % 5], seed_pdf[i % 5]
        out.append(Case(f"seed{i:02d}_html", "html", gold, _html_quirks(hs), src, _html_case(hs, gold)))
        out.append(Case(f"seed{i:02d}_docx", "docx", gold, _docx_quirks(ds), src, _docx_case(ds)))
        out.append(Case(f"seed{i:02d}_pdf", "pdf", gold, _docx_quirks(ps) + ["table-crosses-page"], src,
                        _docx_case(ps, docx_to_pdf)))
    gen = [
        ("html", HtmlStyle(charset="gbk", meta="http-equiv", word=True, split_spans=True, meta_table=True), 0),
        ("html", HtmlStyle(js="write", layout=True), 2),
        ("html", HtmlStyle(charset="gb18030", meta=None, blank=""), 0),
        ("docx", DocxStyle(numbering=True, multi_para=True), 2),
        ("docx", DocxStyle(repeat_header=True), 0),
        ("docx", DocxStyle(multi_para=True, blank="—"), 3),
        ("pdf", DocxStyle(footer=True, spaced_digits=True), 0),
        ("pdf", DocxStyle(footer=True, numbering=True, multi_para=True, font_size=12), 2),
        # LibreOffice's DOCX -> ODT -> DOC round trip renumbers restarted row lists
        # ("1., 1., 2." instead of "1., 2., 3."), so the DOC keeps automatic numbering on headings only
        ("doc", DocxStyle(numbering=True, numbering_rows=False, multi_para=True), 0),
        ("wps", DocxStyle(), 0),
    ]
    for j, (fmt, st, blanks) in enumerate(gen, 1):
        rng = random.Random(5000 + j)
        gold, _ = random_gold(rng, "2021", blanks=blanks)
        src = f"random_gold(Random({5000 + j}), blanks={blanks})"
        name = f"gen{j:02d}_{fmt}"
        if fmt == "html":
            out.append(Case(name, fmt, gold, _html_quirks(st), src, _html_case(st, gold)))  # type: ignore[arg-type]
        elif fmt == "docx":
            out.append(Case(name, fmt, gold, _docx_quirks(st), src, _docx_case(st)))  # type: ignore[arg-type]
        elif fmt == "pdf":
            quirks = _docx_quirks(st) + ["table-crosses-page"]  # type: ignore[arg-type]
            out.append(Case(name, fmt, gold, quirks, src, _docx_case(st, docx_to_pdf)))  # type: ignore[arg-type]
        else:
            quirks = _docx_quirks(st) + (["wps-extension (a Word 97 binary named .wps)"] if fmt == "wps" else [])  # type: ignore[arg-type]
            out.append(Case(name, fmt, gold, quirks, src, _docx_case(st, docx_to_doc)))  # type: ignore[arg-type]
    return out


def write_case(case: Case, out_dir: Path) -> Path:
    rng = random.Random(case.name)
    report = build_report(_for_render(case.gold), random.Random(case.name + "/report"),
                          blank="")
    data = case.render(report, rng)
    path = out_dir / f"{case.name}.{case.fmt}"
    path.write_bytes(data)
    gold = dict(case.gold)
    gold["_case"] = {"format": case.fmt, "quirks": case.quirks, "source": case.source}
    (out_dir / f"{case.name}.gold.json").write_text(json.dumps(gold, ensure_ascii=False, indent=1) + "\n",
                                                     encoding="utf-8")
    return path


# --- unreadable inputs --------------------------------------------------------------------


def _image_only_docx() -> bytes:
    """A page that is only a picture: what a scanned report looks like."""
    import docx
    from docx.shared import Cm
    from PIL import Image, ImageDraw

    rng = random.Random(7)
    img = Image.new("L", (1240, 1754), 250)
    draw = ImageDraw.Draw(img)
    y = 160
    while y < 1600:  # lines of "text" blobs and a ruled table
        x = 140
        while x < 1100:
            w = rng.randint(18, 30)
            draw.rectangle([x, y, x + w, y + 26], fill=rng.randint(20, 90))
            x += w + rng.randint(6, 14)
        y += 52
    for k in range(8):
        draw.line([140, 900 + k * 60, 1100, 900 + k * 60], fill=0, width=2)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    buf.seek(0)
    document = docx.Document()
    document.add_picture(buf, width=Cm(16))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def write_bad(out_dir: Path, good_docx: bytes) -> None:
    bad = out_dir / "bad"
    bad.mkdir(parents=True, exist_ok=True)
    (bad / "corrupt.docx").write_bytes(good_docx[: len(good_docx) // 2])
    (bad / "not_a_pdf.pdf").write_bytes(b"%PDF-1.7\n" + bytes(random.Random(3).randrange(256) for _ in range(3000)))
    (bad / "scanned.pdf").write_bytes(docx_to_pdf(_image_only_docx()))
    opts = ('pdf:writer_pdf_Export:{"EncryptFile":{"type":"boolean","value":"true"},'
            '"DocumentOpenPassword":{"type":"string","value":"gkllm"}}')
    (bad / "encrypted.pdf").write_bytes(convert(good_docx, "docx", opts, "pdf"))
    (bad / "report.doc").write_bytes(docx_to_doc(good_docx))
    ole = bytes.fromhex("d0cf11e0a1b11ae1") + bytes(random.Random(4).randrange(256) for _ in range(4000))
    (bad / "corrupt.doc").write_bytes(ole)
    (bad / "README.md").write_text(
        "Unreadable inputs for tests/test_ingest_formats.py (written by eval/gen/formats.py):\n\n"
        "- corrupt.docx: a DOCX cut in half -> InputError\n"
        "- not_a_pdf.pdf: a PDF header and random bytes -> InputError\n"
        "- scanned.pdf: one page that is only an image (no text layer) -> InputError (OCR is needed)\n"
        "- encrypted.pdf: a PDF with an open password ('gkllm') -> InputError (encrypted)\n"
        "- report.doc: a real Word 97 file -> ConverterMissingError when LibreOffice is absent\n"
        "- corrupt.doc: an OLE signature and random bytes -> InputError (LibreOffice cannot convert it)\n",
        encoding="utf-8",
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "eval" / "cases" / "formats")
    ap.add_argument("--only", help="regex on case names")
    ap.add_argument("--no-bad", action="store_true", help="skip the unreadable inputs under bad/")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    good_docx = None
    for case in cases():
        if args.only and not re.search(args.only, case.name):
            continue
        path = write_case(case, args.out)
        if case.fmt == "docx" and good_docx is None:
            good_docx = path.read_bytes()
        print(f"{path.relative_to(args.out)}\t{path.stat().st_size:>8} B\t{', '.join(case.quirks)}")
    if not args.no_bad:
        if good_docx is None:
            first = cases()[1]
            good_docx = render_docx(build_report(_for_render(first.gold), random.Random(0)), DocxStyle(),
                                    random.Random(0))
        write_bad(args.out, good_docx)
        print("bad/: corrupt.docx not_a_pdf.pdf scanned.pdf encrypted.pdf report.doc corrupt.doc")
    return 0


if __name__ == "__main__":
    sys.exit(main())
