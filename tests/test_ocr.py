"""OCR (issue 14): scanned PDFs, mixed PDFs and image files, read into the same parser.

The cases under eval/cases/scan are the real reports' pages rendered to images
with scanner-like noise (``python -m eval.gen.scans``); their gold is the real
report's. The tests that run the OCR engine skip without the ``gkllm[ocr]``
extra (CI installs it); each page costs ~5-15 s on two cores, so only a few
files are read here: ``gkllm eval eval/cases/scan`` measures all of them.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from gkllm.document import Document
from gkllm.errors import InputError
from gkllm.evaluation.scoring import same, scored_keys
from gkllm.ingest import ocr, read_bytes, read_path
from gkllm.ingest.sniff import sniff
from gkllm.template import part_of

ROOT = Path(__file__).resolve().parents[1]
SCAN = ROOT / "eval" / "cases" / "scan"
BAD = ROOT / "eval" / "cases" / "formats" / "bad"

needs_ocr = pytest.mark.skipif(not ocr.available(), reason="needs the OCR extra: pip install 'gkllm[ocr]'")


NOTO_CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")  # Debian fonts-noto-cjk
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # Debian fonts-dejavu-core


def _font(path: Path) -> str:
    if not path.exists():
        pytest.skip(f"needs the font {path}")
    return str(path)


def _gold(stem: str) -> dict:
    import json

    return json.loads((SCAN / f"{stem}.gold.json").read_text(encoding="utf-8"))


def _score(report, gold: dict, part: int | None = None) -> tuple[int, int, int, list]:
    """(right, total, wrong numbers, the values that are not right) over the gold's table keys."""
    flat = report.to_flat()
    keys = [k for k in scored_keys(gold) if k.startswith(("active.", "requests.", "review."))]
    if part is not None:
        keys = [k for k in keys if part_of(k) == str(part)]
    bad = [(k, gold.get(k), flat.get(k)) for k in keys if not same(flat.get(k), gold.get(k))]
    wrong = sum(1 for _, _, got in bad if got is not None)
    return len(keys) - len(bad), len(keys), wrong, bad


# --- without the engine ------------------------------------------------------------------------


@pytest.mark.parametrize(("head", "fmt"), [(b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff\xe0", "jpeg"),
                                           (b"II*\x00", "tiff"), (b"MM\x00*", "tiff")])
def test_images_are_sniffed_from_their_bytes(head, fmt):
    assert sniff(head + b"\x00" * 64, "report.txt") == fmt


@pytest.mark.parametrize(("read", "cleaned"), [
    ("0", "0"), ("O", "0"), ("1O", "10"), ("l2", "12"), ("|", "|"), ("3。5", "3.5"), ("1，234", "1,234"),
    ("2O2l", "2021"), ("69", "69"), ("OK", "OK"), ("予以公开", "予以公开"), ("。", "。"), ("1.2.3", "1.2.3"),
    ("l", "l"), ("0.", "0."),
])
def test_digit_confusions_are_cleaned_only_in_cells_that_are_numbers(read, cleaned):
    assert ocr.clean_number(read) == cleaned


def test_scanned_pdf_without_the_extra_names_the_install(monkeypatch):
    monkeypatch.setattr(ocr, "available", lambda: False)
    with pytest.raises(InputError) as info:
        read_path(SCAN / "pingtan-dept-01-scan.pdf")
    text = str(info.value)
    assert "PDF has no text layer (scanned image); OCR is needed: pip install 'gkllm[ocr]'" in text
    assert "\n" not in text


def test_image_without_the_extra_names_the_install(monkeypatch):
    monkeypatch.setattr(ocr, "available", lambda: False)
    with pytest.raises(InputError, match=r"PNG image; OCR is needed: pip install 'gkllm\[ocr\]'"):
        read_path(SCAN / "pingtan-dept-01-part3.png")


def test_mixed_pdf_without_the_extra_reads_its_text_pages_and_names_the_rest(monkeypatch):
    monkeypatch.setattr(ocr, "available", lambda: False)
    doc = read_path(SCAN / "pingtan-dept-04-mixed.pdf")
    assert "主动公开政府信息情况" in doc.text and "\x00" not in doc.text
    assert any("not read" in w and "pip install 'gkllm[ocr]'" in w for w in doc.warnings)


def test_ocr_notes_give_page_box_and_confidence_and_drop_low_confidence_numbers(monkeypatch):
    from gkllm.ingest.ocr_notes import annotate
    from gkllm.pipeline import finish, parse

    text = ("二、主动公开政府信息情况\n信息内容\t本年处理决定数量\n行政许可\t308\n行政处罚\t33\n"
            "三、收到和处理政府信息公开申请情况\n")
    line = text.split("\n")
    spans = [[2, len("行政许可\t"), len("行政许可\t308"), 2, 585, 547, 658, 587, 0.99],
             [3, len("行政处罚\t"), len("行政处罚\t33"), 2, 585, 895, 637, 938, 0.31]]
    assert line[2][spans[0][1]:spans[0][2]] == "308" and line[3][spans[1][1]:spans[1][2]] == "33"
    doc = Document(text=text, source="t.png", format="png", ocr={"dpi": None, "spans": spans})
    ex = parse(doc)
    report = finish(ex, "parser")
    assert report.active.licensing == 308
    assert any(n == "ocr: page 2, box 585,547,658,587 px (as stored), confidence 0.99"
               for n in report.provenance["active.licensing"].notes)
    assert report.active.punishment is None and "active.punishment" not in report.provenance
    d = next(d for d in report.diagnostics if d.kind == "ocr_low_confidence")
    assert d.keys == ["active.punishment"] and d.candidates == [33] and "0.31" in d.message
    assert any("low confidence" in w for w in report.warnings)
    del annotate


@needs_ocr
def test_a_borderless_tables_missed_number_is_looked_for_in_its_column_and_its_rows_spacing():
    """Four rows of four numbers with no ruling lines, as drawn; the detector "missed" one number of the
    second row (its box is absent), and a lone row of nine evenly spaced numbers misses two (one
    inside, one at its end). Ink is looked for where a number is due, only in the row's own band."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    unit = 40
    font = ImageFont.truetype(_font(DEJAVU), 34)
    img = Image.new("L", (1400, 700), 255)
    draw = ImageDraw.Draw(img)
    boxes = []
    cols = [300, 500, 700, 900]
    for r, y in enumerate((60, 160, 260, 360)):
        for c, x in enumerate(cols):
            draw.text((x, y), "0", fill=0, font=font)
            if (r, c) != (1, 2):
                boxes.append(ocr._Box(x - 4, y, x + 26, y + 40, "0", 0.9))
    draw.text((700, 110), "7", fill=0, font=font)  # printed between rows 0 and 1: no row's own
    lone = [200, 300, 400, 500, 600, 700, 800, 900, 1000]  # 400 and 1000: no column's
    for i, x in enumerate(lone):
        draw.text((x, 500), str(i), fill=0, font=font)
        if i not in (2, 8):
            boxes.append(ocr._Box(x - 4, 500, x + 26, 540, str(i), 0.9))
    page = np.array(img)
    slots = ocr._inked_slots(ocr._whited_out(page, boxes), boxes, [], unit)
    centres = sorted((round((x0 + x1) / 2 / 10) * 10, round((y0 + y1) / 2 / 100) * 100) for x0, y0, x1, y1 in slots)
    assert centres == [(410, 500), (710, 200), (1010, 500)], slots  # (710, 160) rounds to 200
    texts = ocr._recognize(page, [ocr._quad(s) for s in slots])
    assert sorted(t for t, _ in texts) == ["0", "2", "8"]


def test_text_level_with_a_tables_rows_but_outside_its_grid_joins_the_row():
    """A 1-bit scan's dotted outer rules are missed: the grid covers the middle columns only, and the row
    labels (left) and totals (right) lie outside it. They join the row they are level with, as cells."""
    two_by_two = ocr._Table(100, 100, 300, 300, [100, 200, 300], [100, 200, 300], [[(0, 0), (0, 1)], [(1, 0), (1, 1)]])
    boxes = [ocr._Box(120, 130, 140, 170, "1", 0.9), ocr._Box(220, 130, 240, 170, "2", 0.9),
             ocr._Box(120, 230, 140, 270, "3", 0.9), ocr._Box(220, 230, 240, 270, "4", 0.9),
             ocr._Box(10, 230, 80, 270, "总计", 0.9), ocr._Box(340, 230, 360, 270, "7", 0.9),
             ocr._Box(10, 20, 200, 60, "四、结转", 0.9)]  # above the table: a line of its own
    out = ocr._Out(1, lambda bs: (0, 0, 0, 0))
    ocr._layout(boxes, [two_by_two], out, 40.0)
    assert out.lines == ["四、结转", "\t1\t2\t", "总计\t3\t4\t7"]


@needs_ocr
def test_a_small_number_read_unsure_in_a_wide_box_is_read_again_around_its_ink():
    """A 0 alone in a cell-wide box, read as "。" with low confidence (as a 1-bit scan's small zeros are):
    read again from a box around its ink. A lone punctuation mark, a character or an ordinal stays as read."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(_font(NOTO_CJK), 32)
    img = Image.new("L", (1500, 100), 255)
    draw = ImageDraw.Draw(img)
    for x, glyph in zip((80, 380, 680, 980, 1280), ("0", "。", "口", "2.", "0")):
        draw.text((x, 30), glyph, fill=0, font=font)
    page = np.array(img)
    rects = [(x - 80.0, 10.0, x + 210.0, 90.0) for x in (80, 380, 680, 980, 1280)]
    texts = [("。", 0.35), ("。", 0.5), ("口", 0.6), ("2.", 0.5), ("0", 0.4)]
    ocr._second_look(page, rects, texts, 40)
    assert texts[0][0] == "0" and texts[0][1] >= ocr.SURE
    assert rects[0][2] - rects[0][0] < 100  # the box now holds the 0, not the whole cell
    # a lone mark and a character stay; "2." (a label's ordinal) is not cut to "2" by a box without its dot
    assert texts[1:4] == [("。", 0.5), ("口", 0.6), ("2.", 0.5)]
    assert texts[4][0] == "0" and texts[4][1] >= ocr.SURE  # a number read unsurely: the same digit, surer


@needs_ocr
def test_a_scan_of_borderless_tables_reads_the_numbers_the_detector_misses():
    """The LibreOffice rendering of a real report prints its tables without rules; scanned, the text detector
    misses a lone 0 on three part-3 rows and two of part 4's fifteen (all 0s)."""
    import gkllm

    report = gkllm.extract(SCAN / "pingtan-dept-03-loscan.pdf", mode="parser")
    right, total, wrong, bad = _score(report, _gold("pingtan-dept-03-loscan"))
    assert wrong == 0 and right >= 0.99 * total, bad


def test_progress_is_drawn_on_the_terminal_it_is_given():
    import pty
    import select

    from gkllm.ingest.ocr_run import _Progress

    master, slave = pty.openpty()
    try:
        bar = _Progress(os.ttyname(slave), 3, "scanned pages")
        for i in range(3):
            bar.step(2.0 * (i + 1), i + 1)
        bar.close()
        # a loaded machine can hand the bar's writes over in pieces: read what is there until it is all in
        seen = ""
        while not ("OCR scanned pages" in seen and "s/page" in seen) and select.select([master], [], [], 5)[0]:
            seen += os.read(master, 65536).decode("utf-8", "replace")
    finally:
        os.close(master)
        os.close(slave)
    assert "OCR scanned pages" in seen and "s/page" in seen


def test_no_progress_without_a_terminal_or_for_one_page():
    from gkllm.ingest.ocr_run import _Progress

    assert _Progress(None, 10, "x").bar is None
    assert _Progress("/dev/null", 1, "x").bar is None


# --- with the engine -------------------------------------------------------------------------------


@needs_ocr
def test_scanned_pdf_of_a_real_report_reads_its_tables():
    """Every page an image (JPEG: turned slightly, blurred, noisy), the real report's gold."""
    import gkllm

    report = gkllm.extract(SCAN / "pingtan-dept-01-scan.pdf", mode="parser")
    right, total, wrong, bad = _score(report, _gold("pingtan-dept-01-scan"))
    assert wrong == 0, bad
    assert right >= 0.99 * total, bad
    assert report.meta.format == "pdf"
    assert any(w.startswith("OCR: 5 page(s) in") and "s a page" in w for w in report.warnings)
    notes = report.provenance["requests.new.total"].notes
    assert any(n.startswith("ocr: page ") and "confidence" in n for n in notes), notes


@needs_ocr
def test_png_of_part_3_alone_reads_part_3():
    import gkllm

    report = gkllm.extract(SCAN / "pingtan-dept-01-part3.png", mode="parser")
    right, total, wrong, bad = _score(report, _gold("pingtan-dept-01-part3"), part=3)
    assert wrong == 0 and right >= 0.99 * total, bad
    assert report.meta.format == "png"


@needs_ocr
@pytest.mark.parametrize("turn", [90, 180])
def test_a_turned_image_is_read_upright(turn):
    """The part-3 picture turned by 90 or 180 degrees (a page fed sideways or upside down)."""
    from PIL import Image

    import gkllm

    im = Image.open(SCAN / "pingtan-dept-07-part3.png")
    buf = io.BytesIO()
    im.rotate(-turn, expand=True).save(buf, "PNG")
    report = gkllm.extract(buf.getvalue(), mode="parser", name=f"turned{turn}.png")
    right, total, wrong, bad = _score(report, _gold("pingtan-dept-07-part3"), part=3)
    assert wrong == 0 and right >= 0.99 * total, bad
    # rotate(-turn) turned it clockwise; reading it takes the rest of a full turn, clockwise
    said = f"turned {(360 - turn) % 360} degrees clockwise to read it"
    assert any(said in w for w in report.warnings), report.warnings


@needs_ocr
def test_mixed_pdf_reads_text_pages_and_scanned_pages_in_order():
    import gkllm

    report = gkllm.extract(SCAN / "pingtan-dept-04-mixed.pdf", mode="parser")
    right, total, wrong, bad = _score(report, _gold("pingtan-dept-04-mixed"))
    assert wrong == 0 and right >= 0.95 * total, bad
    # what is not read is a cell OCR read as no number ("。" for a small 0) or read with low confidence: each
    # such null is named in a warning, never guessed
    assert all(any(key in w for w in report.warnings) for key, _, got in bad if got is None), report.warnings
    assert any("read by OCR" in w for w in report.warnings)
    # values of the text pages (1-3) have no OCR note; those of the scanned pages (4-7) have one
    assert any("read by OCR: 4-7" in w for w in report.warnings)
    first_ocr_line = min(s[0] for s in read_path(SCAN / "pingtan-dept-04-mixed.pdf").ocr["spans"]) + 1
    text_page = [p for p in report.provenance.values() if p.line is not None and p.line < first_ocr_line]
    assert text_page and not any(n.startswith("ocr:") for p in text_page for n in p.notes)
    assert any(n.startswith("ocr:") for n in report.provenance["requests.new.total"].notes)


@needs_ocr
def test_blank_scan_says_ocr_found_no_text():
    with pytest.raises(InputError, match="no text layer"):
        read_bytes((BAD / "scanned.pdf").read_bytes(), "scanned.pdf")
