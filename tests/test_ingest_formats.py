"""HTML / DOCX / PDF / DOC readers: fixtures with gold, unit cases, unreadable inputs.

Fixtures live in eval/cases/formats (written by ``python -m eval.gen.formats``).
Tests that convert .doc/.wps need LibreOffice and are skipped without it.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import time
from pathlib import Path

import pytest

from gkllm.errors import ConverterMissingError, GkllmError, InputError
from gkllm.ingest import read_bytes, read_path
from gkllm.template import table_keys

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ROOT / "eval" / "cases" / "formats"
BAD = FORMATS / "bad"
EXTS = (".html", ".htm", ".docx", ".pdf", ".doc", ".wps")
GOOD = sorted(p for p in FORMATS.glob("*") if p.suffix in EXTS)
HAS_SOFFICE = bool(shutil.which("soffice") or shutil.which("libreoffice"))
needs_soffice = pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice (soffice) not installed")
_CELL_SPLIT = re.compile(r"[\t|\n]")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _params(paths):
    for p in paths:
        marks = [needs_soffice] if p.suffix in (".doc", ".wps") else []
        yield pytest.param(p, marks=marks, id=p.name)


def _gold(path: Path) -> dict:
    return json.loads(path.with_suffix(".gold.json").read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=None)
def _text(path: Path) -> str:
    return read_path(path).text


def _numeric_cells(text: str) -> list[float]:
    return [float(c.strip()) for c in _CELL_SPLIT.split(text) if _NUMBER.fullmatch(c.strip())]


def _close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) < 1e-6


def test_fixtures_present():
    assert len(GOOD) >= 20, "run: python -m eval.gen.formats --out eval/cases/formats"
    assert {p.suffix for p in GOOD} >= {".html", ".docx", ".pdf", ".doc"}
    for p in GOOD:
        assert p.with_suffix(".gold.json").exists(), p.name
    size = sum(f.stat().st_size for f in FORMATS.rglob("*") if f.is_file())
    assert size < 10 * 1024 * 1024


# --- every good fixture ------------------------------------------------------------------


@pytest.mark.parametrize("path", list(_params(GOOD)))
def test_every_gold_number_is_a_cell_of_its_own(path):
    gold = _gold(path)
    cells = set(_numeric_cells(_text(path)))
    missing = [k for k in table_keys(gold.get("meta.template", "2021"))
               if gold.get(k) is not None and float(gold[k]) not in cells]
    assert not missing, f"{len(missing)} gold numbers not found as cells: {missing[:5]}"


@pytest.mark.parametrize("path", list(_params(GOOD)))
def test_parser_extracts_parts_2_to_4(path):
    pipeline = pytest.importorskip("gkllm.pipeline")
    gold = _gold(path)
    report = pipeline.extract(path, mode="parser")
    wrong = [(k, report.get(k), gold.get(k)) for k in table_keys(gold.get("meta.template", "2021"))
             if not _close(report.get(k), gold.get(k))]
    assert not wrong, f"{len(wrong)} of {len(table_keys())} values differ, e.g. {wrong[:4]}"


@pytest.mark.parametrize("path", list(_params(GOOD)))
def test_no_row_prints_a_merged_value_twice(path):
    """A value cell spanning columns (part 2) must not be repeated across the row."""
    gold = _gold(path)
    text = _text(path)
    for key, label in (("active.licensing", "行政许可"), ("active.punishment", "行政处罚")):
        if gold.get(key) is None:
            continue
        rows = [ln for ln in text.split("\n") if ln.split("\t")[0].strip() == label]
        assert rows, f"no row for {label}"
        nums = _numeric_cells(rows[0])
        assert nums == [float(gold[key])], (label, rows[0])


# --- HTML ------------------------------------------------------------------------------------


def _html(body: str, head: str = '<meta charset="utf-8">') -> bytes:
    return f"<html><head>{head}</head><body>{body}</body></html>".encode()


def test_html_rowspan_colspan_blank_cells_and_spans():
    page = _html(
        "<p>一、<span>总体</span>\n<span>情况</span><o:p></o:p></p>"
        "<table border=1><tr><td rowspan=2>三、本年度<br>办理结果</td><td>（一）予以公开</td>"
        "<td>12</td><td>&nbsp;</td></tr>"
        "<tr><td colspan=2><p>商业</p><p>企业</p></td><td><span>1</span><span>5</span></td></tr></table>"
        "<script>var x = 3;</script><style>td{}</style>"
    )
    text = read_bytes(page, "t.html").text
    assert text.split("\n")[:3] == [
        "一、总体情况",
        "三、本年度办理结果\t(一)予以公开\t12\t",
        "\t商业企业\t\t15",
    ]
    assert "var x" not in text and "td{}" not in text


def test_html_meta_charset_gbk():
    page = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head>'
            "<body><table><tr><td>行政许可</td><td>263</td></tr></table></body></html>").encode("gbk")
    doc = read_bytes(page, "t.html")
    assert doc.encoding == "gb18030"
    assert "行政许可\t263" in doc.text


def test_html_without_charset_is_detected():
    page = ("<html><body><p>" + "政府信息公开工作年度报告，本机关认真贯彻落实条例。" * 5 + "</p>"
            "<table><tr><td>行政处罚</td><td>7</td></tr></table></body></html>").encode("gbk")
    text = read_bytes(page, "t.html").text
    assert "行政处罚\t7" in text and "政府信息公开" in text


def test_html_escaped_in_javascript_is_unescaped():
    inner = ("<p>一、总体情况</p><table><tr><td>本年新收政府信息公开申请数量</td><td>5</td></tr></table>"
             + "<p>" + "公开" * 20 + "</p>")
    for script in (
        "document.write(" + json.dumps(inner, ensure_ascii=True).replace("</", "<\\/") + ");",
        "var content = '" + inner[:40].replace("</", "<\\/") + "' +\n '" + inner[40:].replace("</", "<\\/") + "';",
    ):
        doc = read_bytes(_html(f"<div id=c></div><script>{script}</script>"), "t.html")
        assert "本年新收政府信息公开申请数量\t5" in doc.text
        assert doc.warnings


def test_html_layout_table_is_flattened():
    page = _html("<table><tr><td>导航</td></tr><tr><td><p>一、总体情况</p>"
                 "<table><tr><td>行政强制</td><td>4</td></tr></table><p>五、存在的主要问题</p></td></tr></table>")
    lines = read_bytes(page, "t.html").text.split("\n")
    assert lines[:4] == ["导航", "一、总体情况", "行政强制\t4", "五、存在的主要问题"]


# --- DOCX ------------------------------------------------------------------------------------


def _docx_bytes(build) -> bytes:
    import io

    import docx

    d = docx.Document()
    build(d)
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def test_docx_merged_cells_appear_once_in_order():
    def build(d):
        d.add_paragraph("二、主动公开政府信息情况")
        t = d.add_table(rows=3, cols=4)
        t.cell(0, 0).merge(t.cell(0, 3)).text = "第二十条第（五）项"
        t.cell(1, 0).text = "行政许可"
        t.cell(1, 1).merge(t.cell(1, 3)).text = "263"
        a = t.cell(2, 0).merge(t.cell(2, 1))
        a.text = "商业"
        a.add_paragraph("企业")
        t.cell(2, 2).text = "7"
        d.add_paragraph("三、收到和处理政府信息公开申请情况")

    lines = read_bytes(_docx_bytes(build), "t.docx").text.split("\n")
    assert lines[:5] == ["二、主动公开政府信息情况", "第二十条第(五)项\t\t\t", "行政许可\t263\t\t",
                         "商业企业\t\t7\t", "三、收到和处理政府信息公开申请情况"]


def test_docx_vertical_merge_is_not_repeated():
    def build(d):
        t = d.add_table(rows=3, cols=2)
        t.cell(0, 0).merge(t.cell(2, 0)).text = "三、本年度办理结果"
        for r, v in enumerate(("1", "2", "3")):
            t.cell(r, 1).text = v

    text = read_bytes(_docx_bytes(build), "t.docx").text
    assert text.count("本年度办理结果") == 1
    assert text.split("\n")[:3] == ["三、本年度办理结果\t1", "\t2", "\t3"]


def test_docx_automatic_numbering_is_rebuilt():
    text = _text(FORMATS / "gen04_docx.docx")
    heads = [ln for ln in text.split("\n") if re.match(r"^[一二三四五六]、", ln)]
    assert heads[:3] == ["一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况"]
    assert "\t1.属于国家秘密\t" in text and "\t8.属于行政查询事项\t" in text
    assert "\t1.本机关不掌握相关政府信息\t" in text


def test_docx_nested_table_is_flattened():
    def build(d):
        outer = d.add_table(rows=1, cols=1)
        cell = outer.cell(0, 0)
        cell.paragraphs[0].text = "一、总体情况"
        inner = cell.add_table(rows=1, cols=2)
        inner.cell(0, 0).text = "行政处罚"
        inner.cell(0, 1).text = "12"

    assert read_bytes(_docx_bytes(build), "t.docx").text.split("\n")[:2] == ["一、总体情况", "行政处罚\t12"]


# --- PDF ------------------------------------------------------------------------------------


def _pdf(pages: list[list[tuple[float, float, str]]], rotate: int = 0) -> bytes:
    """A minimal PDF with Helvetica text runs (x, y, text) per page."""
    objs: list[bytes] = []
    kids = []
    font_id = 3
    objs.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objs.append(b"")  # pages, filled below
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for runs in pages:
        stream = b"".join(f"BT /F1 12 Tf {x} {y} Td ({t}) Tj ET\n".encode() for x, y, t in runs)
        objs.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        content_id = len(objs)
        objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Rotate {rotate} /Contents {content_id} 0 R "
                    f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode())
        kids.append(len(objs))
    objs[1] = f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>".encode()
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def test_pdf_glyph_level_cleanup():
    page = [
        (72, 700, "Total"), (72.4, 700, "Total"),  # fake bold: printed twice, offset
        (200, 700, "1"), (208.7, 700, "2"), (217.4, 700, "3"),  # letter-spaced digits of one number
        (300, 700, "4"), (350, 700, "5"),  # two numbers in two columns
        (280, 40, "- 4 -"),  # page footer
    ]
    text = read_bytes(_pdf([page]), "t.pdf").text
    assert text.split("\n")[0] == "Total\t123\t4\t5"
    assert "- 4 -" not in text


def test_pdf_pages_follow_in_order():
    text = read_bytes(_pdf([[(72, 700, "first")], [(72, 700, "second"), (290, 30, "2")]]), "t.pdf").text
    assert text.split("\n")[:2] == ["first", "second"] and "2" not in text.split("\n")


@pytest.mark.parametrize("rotate", [90, 180, 270])
def test_pdf_turned_page_is_read_in_its_own_frame(rotate):
    data = _pdf([[(72, 700, "Label"), (200, 700, "12"), (72, 680, "Next"), (200, 680, "3")]], rotate=rotate)
    doc = read_bytes(data, "t.pdf")
    assert doc.text.split("\n")[:2] == ["Label\t12", "Next\t3"]
    assert any("turned" in w for w in doc.warnings)


# --- unreadable inputs -----------------------------------------------------------------------

BAD_CASES = [
    ("corrupt.docx", InputError, "DOCX is corrupt"),
    ("not_a_pdf.pdf", InputError, "PDF is corrupt"),
    # + "; OCR is needed: pip install …" (test_ocr)
    ("scanned.pdf", InputError, "PDF has no text layer (scanned image)"),
    ("encrypted.pdf", InputError, "encrypted"),
    ("corrupt.doc", InputError, "no Word document stream"),
]


@pytest.mark.parametrize(("name", "error", "message"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_unreadable_input_raises_one_line_error(name, error, message):
    with pytest.raises(error) as info:
        read_path(BAD / name)
    text = str(info.value)
    assert message in text and "\n" not in text
    assert info.value.source and info.value.source.endswith(name)


def test_doc_without_libreoffice_says_what_to_install(monkeypatch):
    monkeypatch.setenv("GKLLM_SOFFICE", "/nonexistent/soffice")
    with pytest.raises(ConverterMissingError) as info:
        read_path(BAD / "report.doc")
    text = str(info.value)
    assert "LibreOffice" in text and "apt-get install libreoffice-writer" in text and "\n" not in text


def test_doc_converter_timeout_is_an_error_not_a_hang(monkeypatch, tmp_path):
    fake = tmp_path / "soffice"
    fake.write_text("#!/bin/sh\nsleep 60 & sleep 60\n")
    fake.chmod(0o755)
    monkeypatch.setenv("GKLLM_SOFFICE", str(fake))
    monkeypatch.setenv("GKLLM_SOFFICE_TIMEOUT", "1")
    start = time.monotonic()
    with pytest.raises(InputError, match="did not finish"):
        read_path(BAD / "report.doc")
    assert time.monotonic() - start < 15


@needs_soffice
def test_doc_converts_through_libreoffice():
    doc = read_path(BAD / "report.doc")
    assert doc.format == "doc" and "LibreOffice" in doc.warnings[0]
    assert "行政许可" in doc.text


def test_ole_that_is_not_word_is_refused():
    fake = bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 100 + "Workbook".encode("utf-16-le") + b"\0" * 100
    with pytest.raises(GkllmError, match="not a Word document"):
        read_bytes(fake, "x.xls")


def test_fixture_gold_names_format_and_quirks():
    for p in GOOD:
        case = _gold(p)["_case"]
        assert case["format"] in ("html", "docx", "pdf", "doc", "wps") and case["quirks"], p.name
