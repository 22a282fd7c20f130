"""Scanned copies of the real reports: pages rendered to images, made to look scanned, rebuilt as image-only files.

    python -m eval.gen.scans --out eval/cases/scan

Sources: the real agency reports printed to PDF (``eval/cases/real/<name>-pdf.pdf``
by Chromium and ``<name>-lopdf.pdf`` by LibreOffice; see ``eval/gen/real_renders.py``),
whose gold is the page's hand-written gold. Each page is rendered with pdfium
(``pypdfium2``) at ``DPI`` in gray, then made to look like a scanner's output
(``scan_noise``): paper that is not white, a slight turn of the sheet (±0.3–2°,
the reader allows 3°), a soft blur, sensor noise and JPEG artefacts. What is
written, with the gold copied (``_case.layout`` = ``scan``, ``_case.derived_from``
saying how the file was made):

| file | made of |
|---|---|
| ``<name>-scan.pdf`` | every page of ``<name>-pdf.pdf``, scanned (JPEG in an image-only PDF) |
| ``<name>-loscan.pdf`` | every page of ``<name>-lopdf.pdf``, scanned; in some reports one page was fed turned (below) |
| ``<name>-tiff.tif`` | (some reports) a multi-page TIFF, 1 bit (CCITT G4), as office scanners write |
| ``<name>-mixed.pdf`` | (some reports) the text PDF with its part-3 pages replaced by scans |
| ``<name>-part3.png`` | (some reports) the part-3 table alone as a picture pasted into a page (below) |

A page fed turned went in sideways (90°) or upside down (180°). The part-3 picture
(150 dpi, no scanner noise) is cut from the pages and stacked; its gold holds part 3's
values, every other key null.

Seeded by the file name, so a re-run writes the same bytes. CI does not run this
script: its outputs are committed test data.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT / "eval" / "cases" / "real"
DEFAULT_DIR = ROOT / "eval" / "cases" / "scan"
DPI = 200
FIXED_DATE = "D:20260101000000Z"

# Which reports get which extra variants (all get -scan.pdf and -loscan.pdf).
TURNED = {"pingtan-dept-02": (1, 90), "pingtan-dept-05": (2, 180), "pingtan-dept-08": (0, 270)}  # page index, turn
TIFF = ("pingtan-dept-03", "pingtan-dept-09")
MIXED = ("pingtan-dept-04",)
PART3_PNG = ("pingtan-dept-01", "pingtan-dept-07")


def _rng(name: str) -> random.Random:
    return random.Random(int(hashlib.sha256(name.encode()).hexdigest()[:16], 16))


def render(pdf_path: Path, dpi: int = DPI) -> list:
    """The PDF's pages as gray numpy images."""
    import numpy as np
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        return [np.array(p.render(scale=dpi / 72, grayscale=True).to_pil().convert("L")) for p in pdf]
    finally:
        pdf.close()


def scan_noise(img, rng: random.Random, turn: int = 0):
    """A clean page made to look scanned: paper tone, a slight turn, blur, noise (JPEG comes at writing)."""
    import cv2
    import numpy as np

    h, w = img.shape
    paper = rng.randint(228, 246)
    ink = rng.randint(18, 45)
    out = (ink + (img.astype(np.float32) / 255.0) * (paper - ink))
    angle = rng.choice((-1, 1)) * rng.uniform(0.3, 2.0)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    out = cv2.warpAffine(out, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=paper)
    out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.5, 0.9))
    noise = np.random.default_rng(rng.randint(0, 2 ** 31)).normal(0, rng.uniform(1.5, 3.5), out.shape)
    out = np.clip(out + noise, 0, 255).astype(np.uint8)
    if turn == 90:
        out = cv2.rotate(out, cv2.ROTATE_90_CLOCKWISE)
    elif turn == 180:
        out = cv2.rotate(out, cv2.ROTATE_180)
    elif turn == 270:
        out = cv2.rotate(out, cv2.ROTATE_90_COUNTERCLOCKWISE)
    return out, angle


def jpeg(img, quality: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=quality, optimize=True)
    return buf.getvalue()


def image_pdf(jpegs: list[bytes], dpi: int = DPI) -> bytes:
    """An image-only PDF: one JPEG a page (DCTDecode, no text layer), fixed dates so re-runs match."""
    from PIL import Image

    pages = [Image.open(io.BytesIO(j)) for j in jpegs]
    buf = io.BytesIO()
    pages[0].save(buf, "PDF", save_all=True, append_images=pages[1:], resolution=float(dpi),
                  creationDate=FIXED_DATE, modDate=FIXED_DATE, producer="gkllm eval/gen/scans.py")
    return buf.getvalue()


def mixed_pdf(text_pdf: Path, scans: dict[int, bytes], dpi: int = DPI) -> bytes:
    """The text PDF with the pages in ``scans`` (index → JPEG) replaced by image-only pages."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    src = pdfium.PdfDocument(str(text_pdf))
    out = pdfium.PdfDocument.new()
    for i in range(len(src)):
        if i not in scans:
            out.import_pages(src, [i])
            continue
        w, h = src[i].get_size()
        page = out.new_page(w, h)
        image = pdfium.PdfImage.new(out)
        image.load_jpeg(io.BytesIO(scans[i]), inline=True)
        image.set_matrix(pdfium.PdfMatrix().scale(w, h))
        page.insert_obj(image)
        page.gen_content()
    buf = io.BytesIO()
    out.save(buf)
    del raw
    return _fix_ids(buf.getvalue())


def _fix_ids(data: bytes) -> bytes:
    """pdfium writes a random /ID and the time; overwrite them in place (same length) so a re-run gives
    the same bytes."""
    import re

    def zero(m: "re.Match[bytes]") -> bytes:
        return b"<" + b"0" * (len(m.group(1))) + b">"

    data = re.sub(rb"<([0-9A-Fa-f]{32})>", zero, data)
    # and its /CreationDate: today's time, in place (same length, so the xref offsets hold)
    return re.sub(rb"/CreationDate\(D:\d{14}", b"/CreationDate(" + FIXED_DATE[:16].encode(), data)


PNG_DPI = 150  # a table pasted into a web page as a picture: screen resolution, no scanner noise


def part3_image(pages: list, text_pdf: Path, dpi: int = PNG_DPI):
    """The part-3 table cut out of ``pages`` (images of ``text_pdf``'s pages at ``dpi``) and stacked into one image."""
    import numpy as np
    import pdfplumber

    f = dpi / 72
    pieces = []
    with pdfplumber.open(str(text_pdf)) as pdf:
        start = end = None
        for i, page in enumerate(pdf.pages):
            words = page.extract_text_lines()
            for ln in words:
                t = ln["text"].replace(" ", "")
                if start is None and t.startswith("三、收到和处理政府信息公开申请情况"):
                    start = (i, ln["bottom"])
                elif start is not None and end is None and t.startswith("四、政府信息公开行政复议"):
                    end = (i, ln["top"])
            if end:
                break
        if start is None or end is None:
            raise ValueError(f"{text_pdf.name}: part 3 not found")
        for i in range(start[0], end[0] + 1):
            img = pages[i]
            h = img.shape[0]
            top = int(start[1] * f) + 8 if i == start[0] else int(0.05 * h)
            bottom = int(end[1] * f) - 8 if i == end[0] else int(0.95 * h)
            pieces.append(img[top:bottom])
    return np.vstack(pieces)


def part3_gold(gold: dict) -> dict:
    from gkllm.template import part_of, table_keys

    tpl = gold.get("meta.template") or "2021"
    out = {k: (gold.get(k) if part_of(k) == "3" else None) for k in table_keys(tpl)}
    out["meta.template"] = tpl
    return out


def write(path: Path, data: bytes) -> bool:
    if path.exists() and path.read_bytes() == data:
        return False
    path.write_bytes(data)
    return True


def write_gold(path: Path, gold: dict, derived: str, extra: dict | None = None) -> None:
    g = {k: v for k, v in gold.items() if k != "_case"}
    case = dict(gold.get("_case", {}))
    case.pop("derived_from", None)
    case.update({"layout": "scan", "derived_from": derived, **(extra or {})})
    g["_case"] = case
    write(path, (json.dumps(g, ensure_ascii=False, indent=1) + "\n").encode())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, default=REAL)
    ap.add_argument("--out", type=Path, default=DEFAULT_DIR)
    ap.add_argument("--only", default="", help="only reports whose name contains this")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    import cv2
    import pypdfium2
    from PIL import Image

    tools = (f"pypdfium2 {pypdfium2.PYPDFIUM_INFO} (pdfium {pypdfium2.PDFIUM_INFO}), OpenCV {cv2.__version__}, "
             f"Pillow {Image.__version__}")
    for gold_path in sorted(args.src.glob("*-page.gold.json")):
        name = gold_path.name[: -len("-page.gold.json")]
        if args.only not in name:
            continue
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        for src_kind, out_kind in (("pdf", "scan"), ("lopdf", "loscan")):
            src = args.src / f"{name}-{src_kind}.pdf"
            if not src.exists():
                continue
            stem = f"{name}-{out_kind}"
            rng = _rng(stem)
            clean = render(src)
            turned = TURNED.get(name) if out_kind == "loscan" else None
            jpegs, notes = [], []
            noisy_pages = []
            for i, img in enumerate(clean):
                turn = turned[1] if turned and turned[0] == i else 0
                noisy, angle = scan_noise(img, rng, turn)
                q = rng.randint(30, 50)
                jpegs.append(jpeg(noisy, q))
                noisy_pages.append(noisy)
                notes.append(f"p{i + 1}: {angle:+.2f}°" + (f", fed turned {turn}°" if turn else "") + f", JPEG q{q}")
            how = (f"{src.name} (gold: {name}-page.gold.json) by eval/gen/scans.py: each page rendered by {tools} at "
                   f"{DPI} dpi in gray, paper tone and ink contrast lowered, turned by a small angle, Gaussian blur "
                   f"σ 0.5-0.9, Gaussian noise σ 1.5-3.5, written as JPEG in an image-only PDF (Pillow); "
                   + "; ".join(notes))
            if write(args.out / f"{stem}.pdf", image_pdf(jpegs)):
                print("wrote", stem + ".pdf")
            write_gold(args.out / f"{stem}.gold.json", gold, how)
            if out_kind != "scan":
                continue
            if name in TIFF:
                tif = io.BytesIO()
                frames = [Image.fromarray(p).point(lambda v: 255 if v > 140 else 0).convert("1") for p in noisy_pages]
                frames[0].save(tif, "TIFF", save_all=True, append_images=frames[1:], compression="group4",
                               dpi=(DPI, DPI))
                if write(args.out / f"{name}-tiff.tif", tif.getvalue()):
                    print("wrote", f"{name}-tiff.tif")
                write_gold(args.out / f"{name}-tiff.gold.json", gold,
                           f"the scanned pages of {stem}.pdf as a multi-page TIFF, thresholded to 1 bit at 140 and "
                           f"CCITT G4 compressed (Pillow), as an office scanner writes it; " + how)
            if name in MIXED:
                part3 = _part3_pages(src)
                scans = {i: jpegs[i] for i in part3}
                data = mixed_pdf(src, scans)
                if write(args.out / f"{name}-mixed.pdf", data):
                    print("wrote", f"{name}-mixed.pdf")
                write_gold(args.out / f"{name}-mixed.gold.json", gold,
                           f"{src.name} with pages {', '.join(str(i + 1) for i in part3)} (part 3) replaced by their "
                           f"scans from {stem}.pdf (pypdfium2: the other pages imported as they are); " + how)
            if name in PART3_PNG:
                import cv2

                img = cv2.GaussianBlur(part3_image(render(src, PNG_DPI), src), (0, 0), 0.5)
                buf = io.BytesIO()
                Image.fromarray(img).save(buf, "PNG", optimize=True)
                if write(args.out / f"{name}-part3.png", buf.getvalue()):
                    print("wrote", f"{name}-part3.png")
                write_gold(args.out / f"{name}-part3.gold.json", part3_gold(gold),
                           f"the part-3 table of {src.name} as a picture pasted into a page: its pages rendered by "
                           f"{tools} at {PNG_DPI} dpi in gray, cut from the line under the part 3 heading to the line "
                           f"above the part 4 heading (page margins dropped), stacked, Gaussian blur σ 0.5, PNG; gold: "
                           f"part 3 of {name}-page.gold.json, every other key null (not shown)")
    return 0


def _part3_pages(pdf_path: Path) -> list[int]:
    import pdfplumber

    pages = []
    with pdfplumber.open(str(pdf_path)) as pdf:
        inside = False
        for i, page in enumerate(pdf.pages):
            t = (page.extract_text() or "").replace(" ", "")
            if "三、收到和处理政府信息公开申请情况" in t:
                inside = True
            if inside:
                pages.append(i)
            if inside and "四、政府信息公开行政复议" in t:
                break
    return pages


if __name__ == "__main__":
    sys.exit(main())
