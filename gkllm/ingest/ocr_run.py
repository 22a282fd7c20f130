"""Documents through OCR: the pages of a scanned PDF, or an image file, read in a capped child process.

The parent side (``ocr_pdf_pages``, ``read_image``) checks that the OCR extra
is installed (else the one-line error naming ``pip install 'gkllm[ocr]'``),
starts the child with ``gkllm.ingest.isolate`` under ``MEMORY`` and a time
limit of ``BASE_SECONDS`` plus ``GKLLM_OCR_PAGE_TIMEOUT`` (default
``PAGE_SECONDS``) a page, and hands it a one-line JSON header before the
file's bytes (which pages, and the terminal to draw progress on).

The child side (``pdf_isolated``, ``image_isolated``) imports OpenCV and the
ONNX runtime before its memory cap applies, rasterises the PDF pages with
pdfium at ``ocr.DPI`` (or decodes the image frames with Pillow) one at a
time, and reads each with ``ocr.read_page``.

What comes back is an ``OcrText`` (a ``RawText`` with ``ocr``), whose record is::

    {"engine": …, "dpi": 200,
     "pages": [{"page": 3, "seconds": 8.1, "rotation": 0, "skew": -0.7, "lines": n}, …],
     "spans": [[line, start, end, page, x0, y0, x1, y1, confidence], …]}

``line`` is the 0-based line of the returned text; ``start``/``end`` are
character offsets in that line; the box is in pixels of the page image as
rendered (PDF pages at ``dpi``) or as stored (image files), before it was
turned upright or deskewed.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
from typing import Any, Iterator

from ..errors import InputError, TooLargeError
from . import isolate, limits
from .common import OcrText, RawText

MEMORY = 3072 * limits.MiB  # the child's address space beyond its imports (the ONNX sessions, a page's images)
BASE_SECONDS = 60.0
PAGE_SECONDS = 90.0  # CPU seconds a page may take (measured ~9 s wall, ~15 CPU-s a page here)
MAX_PAGES = 500
MAX_IMAGE_PIXELS = 120_000_000  # an image frame larger than this is refused (Pillow's bomb guard is 89 M)
MARK = "\x00gkllm-ocr-page:"  # stands in a PDF's text for a page to be read by OCR


def page_timeout() -> float:
    raw = os.environ.get("GKLLM_OCR_PAGE_TIMEOUT", "")
    try:
        return float(raw) if raw.strip() else PAGE_SECONDS
    except ValueError:
        from ..errors import ConfigError

        raise ConfigError(f"GKLLM_OCR_PAGE_TIMEOUT must be a number of seconds, not {raw!r}") from None


def _tty() -> str | None:
    """The terminal the caller's stderr is on (progress goes there), unless GKLLM_PROGRESS=0 or the
    read runs in a worker thread (a batch draws its own bar, one step a file)."""
    import threading

    if os.environ.get("GKLLM_PROGRESS", "").strip() in ("0", "off", "no", "false"):
        return None
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        return os.ttyname(sys.stderr.fileno()) if sys.stderr.isatty() else None
    except (OSError, ValueError, AttributeError):
        return None


def _missing(what: str) -> InputError:
    from .ocr import missing_message

    return InputError(missing_message(what))


# --- parent side -------------------------------------------------------------------------------


def ocr_pdf_pages(data: bytes, name: str, pages: list[int]) -> OcrText:
    """OCR these 1-based ``pages`` of a PDF in a child process; text holds each page after a MARK line."""
    header = json.dumps({"pages": pages, "tty": _tty()}).encode() + b"\n"
    timeout = BASE_SECONDS + page_timeout() * len(pages)
    got = isolate.run(f"{__name__}:pdf_isolated", header + data, name, memory=MEMORY, timeout=timeout,
                      what="scanned PDF (OCR)")
    return OcrText(*got, getattr(got, "ocr", None))


def fill_pdf(raw: RawText, data: bytes, name: str, all_scanned: bool) -> RawText:
    """Put the OCR text of a PDF's scanned pages where the text reader left their MARK lines."""
    from .ocr import INSTALL_HINT, available

    pages = [int(ln[len(MARK):]) for ln in raw.text.split("\n") if ln.startswith(MARK)]
    if not available():
        if all_scanned:
            raise _missing("PDF has no text layer (scanned image)")
        text = "\n".join(ln for ln in raw.text.split("\n") if not ln.startswith(MARK))
        return RawText(text, raw.encoding, raw.warnings + [
            f"PDF pages without a text layer (scanned?), not read: {_ranges(pages)} (OCR is needed: {INSTALL_HINT})"])
    got = ocr_pdf_pages(data, name, pages)
    if all_scanned and not _has_words("\n".join(ln for ln in got.text.split("\n") if not ln.startswith(MARK))):
        raise InputError("PDF has no text layer (scanned image), and OCR found no text on its pages")
    record = got.ocr or {}
    by_page: dict[int, list[str]] = {}
    current: int | None = None
    for ln in got.text.split("\n"):
        if ln.startswith(MARK):
            current = int(ln[len(MARK):])
            by_page[current] = []
        elif current is not None:
            by_page[current].append(ln)
    spans_by_page: dict[int, list[list[Any]]] = {}
    for s in record.get("spans", []):
        spans_by_page.setdefault(int(s[3]), []).append(s)
    # the spans' line numbers are per page (0-based within the page's lines); move them to the merged text
    out: list[str] = []
    spans: list[list[Any]] = []
    for ln in raw.text.split("\n"):
        if ln.startswith(MARK):
            p = int(ln[len(MARK):])
            base = len(out)
            out.extend(by_page.get(p, []))
            spans.extend([base + s[0], *s[1:]] for s in spans_by_page.get(p, []))
        else:
            out.append(ln)
    record["spans"] = spans
    warnings = list(raw.warnings)
    if not all_scanned:
        warnings.append(f"PDF pages without a text layer read by OCR: {_ranges(pages)}")
    warnings.extend(got.warnings)
    return OcrText("\n".join(out), raw.encoding, warnings, record)


def read_image(data: bytes, name: str, kind: str) -> RawText:
    """An image file (PNG, JPEG, TIFF with one or more pages) through OCR, in a child process."""
    from .ocr import available

    if not available():
        raise _missing(f"{kind.upper()} image")
    frames = _count_frames(data)
    header = json.dumps({"tty": _tty(), "kind": kind}).encode() + b"\n"
    timeout = BASE_SECONDS + page_timeout() * min(frames, MAX_PAGES)
    got = isolate.run(f"{__name__}:image_isolated", header + data, name, memory=MEMORY, timeout=timeout,
                      what=f"{kind.upper()} image (OCR)")
    if not _has_words(got[0]):
        raise InputError(f"{kind.upper()} image: OCR found no text in it")
    return OcrText(*got, getattr(got, "ocr", None))


def _has_words(text: str) -> bool:
    """Did OCR read anything (a letter, a CJK character or a digit), not only marks ("!!" off a smudge)?"""
    import re

    return re.search(r"\w", text) is not None


def _count_frames(data: bytes) -> int:
    """How many pages an image holds (a multi-page TIFF), read from its header only; 1 if unsure."""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as im:
            return max(1, int(getattr(im, "n_frames", 1)))
    except Exception:  # noqa: BLE001 - the child gives the real error
        return 1


def _ranges(nums: list[int]) -> str:
    from .pdf import _ranges as ranges

    return ranges(sorted(nums)) if nums else ""


# --- child side ------------------------------------------------------------------------------


def _split_header(data: bytes) -> tuple[dict[str, Any], bytes]:
    head, _, rest = data.partition(b"\n")
    return json.loads(head), rest


class _Progress:
    """A progress bar on the caller's terminal (rich), one step a page; silent without a terminal."""

    def __init__(self, tty: str | None, total: int, what: str) -> None:
        self.bar = None
        self.fh = None
        if not tty or total < 2:
            return
        try:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            fd = os.open(tty, os.O_WRONLY | getattr(os, "O_NOCTTY", 0))
            self.fh = os.fdopen(fd, "w")
            console = Console(file=self.fh, force_terminal=True, stderr=False)
            self.bar = Progress(TextColumn("OCR {task.description}"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), console=console,
                                transient=True)
            self.task = self.bar.add_task(what, total=total, rate="")
            self.bar.start()
        except Exception:  # noqa: BLE001 - progress is a nicety: never fail a read on it
            self.bar = None

    def step(self, seconds: float, done: int) -> None:
        if self.bar is not None:
            self.bar.update(self.task, advance=1, rate=f"{seconds / max(done, 1):.1f} s/page")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
        if self.fh is not None:
            self.fh.close()


def _read_pages(images: Iterator[tuple[int, Any]], total: int, tty: str | None, what: str,
                mark: bool) -> RawText:
    from .ocr import DPI, ENGINE, read_page

    lines: list[str] = []
    spans: list[list[Any]] = []
    pages: list[dict[str, Any]] = []
    warnings: list[str] = []
    progress = _Progress(tty, total, what)
    t0 = time.perf_counter()
    try:
        for number, img in images:
            page = read_page(img, number)
            if mark:
                lines.append(f"{MARK}{number}")
            base = 0 if mark else len(lines)
            for s in page.spans:
                spans.append([base + s.line, s.start, s.end, s.page, *s.box, s.conf])
            lines.extend(page.lines)
            warnings.extend(page.warnings)
            pages.append({"page": number, "seconds": round(page.seconds, 2), "rotation": page.rotation,
                          "skew": page.skew, "lines": len(page.lines)})
            progress.step(time.perf_counter() - t0, len(pages))
    finally:
        progress.close()
    seconds = time.perf_counter() - t0
    if pages:
        warnings.append(f"OCR: {len(pages)} page(s) in {seconds:.1f} s ({seconds / len(pages):.1f} s a page; "
                        f"{ENGINE})")
    record = {"engine": ENGINE, "dpi": DPI, "seconds": round(seconds, 2), "pages": pages, "spans": spans}
    return OcrText("\n".join(lines) + "\n", None, warnings, record)


def pdf_isolated(data: bytes, name: str) -> RawText:
    """Child: rasterise the header's pages with pdfium and OCR them."""
    header, pdf = _split_header(data)
    import numpy as np
    import pypdfium2 as pdfium

    from .ocr import DPI

    want = [int(p) for p in header["pages"]][:MAX_PAGES]
    try:
        doc = pdfium.PdfDocument(pdf)
    except Exception as err:  # noqa: BLE001
        raise InputError(f"PDF cannot be rasterised for OCR ({type(err).__name__}: {err})") from None

    def images() -> Iterator[tuple[int, Any]]:
        for number in want:
            if not 1 <= number <= len(doc):
                continue
            page = doc[number - 1]
            w, h = page.get_size()
            scale = DPI / 72
            if w * h * scale * scale > MAX_IMAGE_PIXELS:  # a page of a poster's size: render it smaller
                scale = (MAX_IMAGE_PIXELS / (w * h)) ** 0.5
            bitmap = page.render(scale=scale, grayscale=True)
            img = np.array(bitmap.to_pil().convert("L"))
            bitmap.close()
            page.close()
            yield number, img

    try:
        return _read_pages(images(), len(want), header.get("tty"), "scanned pages", mark=True)
    finally:
        doc.close()


def image_isolated(data: bytes, name: str) -> RawText:
    """Child: the frames of an image file, decoded with Pillow, OCR'd."""
    header, blob = _split_header(data)
    import numpy as np
    from PIL import Image, ImageOps, ImageSequence

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        im = Image.open(io.BytesIO(blob))
        total = max(1, int(getattr(im, "n_frames", 1)))
    except Image.DecompressionBombError as err:
        raise TooLargeError(f"image is too large to read ({err})") from None
    except Exception as err:  # noqa: BLE001
        raise InputError(
            f"image cannot be decoded ({type(err).__name__}: {' '.join(str(err).split())[:160]})") from None
    if total > MAX_PAGES:
        raise TooLargeError(f"image has {total} pages; at most {MAX_PAGES} are read")

    def images() -> Iterator[tuple[int, Any]]:
        for number, frame in enumerate(ImageSequence.Iterator(im), 1):
            try:
                f = ImageOps.exif_transpose(frame) if number == 1 else frame
                yield number, np.array(f.convert("L"))
            except Image.DecompressionBombError as err:
                raise TooLargeError(f"image page {number} is too large to read ({err})") from None
            except (OSError, ValueError) as err:
                raise InputError(
                    f"image page {number} cannot be decoded ({' '.join(str(err).split())[:160]})") from None

    return _read_pages(images(), total, header.get("tty"), "image pages", mark=False)


# In the reader's child process (``python -m gkllm.ingest.isolate``), the ONNX sessions are made when this
# module is imported, which is before the child's memory cap applies: the runtime maps hundreds of MB of
# address space that the page work does not use.
def _in_child() -> bool:
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return getattr(spec, "name", None) == "gkllm.ingest.isolate"


if _in_child():
    from . import ocr as _ocr

    if _ocr.available():
        _ocr.engine()
