"""PDF with a text layer, through pdfplumber (pdfminer.six underneath).

Per page, in reading order (top to bottom):

- ruled tables found by pdfplumber become one line per row, cells separated
  by tabs; a merged cell is reported once, at its top-left position (the
  positions it covers are empty cells). A table that continues on the next
  page simply continues as more rows: header rows the next page repeats are
  dropped, and a row that the page break cut in two (label text on both
  pages, numbers on one) is joined back into one row;
- the remaining characters are grouped into lines by their vertical overlap
  and into words by the horizontal gaps between glyphs, measured in font
  sizes: a tiny gap joins (digits of one number set with letter-spacing
  merge into one number), a word gap is a space, a wide gap (a borderless
  table's column) is a tab;
- fake-bold text (every glyph printed twice, slightly offset) is
  de-duplicated first (``dedupe_chars``); rotated glyphs (diagonal
  watermarks) are dropped;
- page numbers such as "— 4 —", "- 4 -", "第4页" are dropped;
- a page whose text is turned (90/180/270 degrees) is read in the text's own
  frame, as lines (no table detection), with a warning.

A PDF without a text layer (a scan) raises ``InputError``: OCR is needed.

Untrusted PDFs are read in a child process (``gkllm.ingest.isolate``) under
a memory cap and a time limit; inside it, Flate streams are inflated in
bounded steps (``gkllm.ingest.limits``), so a stream bomb fails as
``too_large`` after a few MB instead of at the cap.
"""

from __future__ import annotations

import io
import re
import zlib
from dataclasses import dataclass

from ..errors import InputError, TooLargeError
from ..template import PART2
from . import isolate, limits
from .common import CJK as _CJK
from .common import OcrText, RawText, glue_cell, one_line

_DIGIT = re.compile(r"[0-9０-９]")
_DASHES = "\\-—–－~～_·"
_PAGE_NO_DASHED = re.compile(rf"^[{_DASHES}]+\s*\d{{1,4}}\s*[{_DASHES}]+$"
                             r"|^第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?$"
                             r"|^\d{1,4}\s*/\s*\d{1,4}$")
_PAGE_NO_BARE = re.compile(rf"^[{_DASHES}]*\s*\d{{1,4}}\s*[{_DASHES}]*$")
_CID = re.compile(r"^\(cid:\d+\)$")

# gaps, in font sizes
_JOIN_DIGITS = 0.5  # digits closer than this belong to one number
_JOIN_CJK = 0.9  # CJK glyphs closer than this are one run (justified text stretches)
_JOIN_LATIN = 0.2
_COLUMN = 1.6  # wider than this: a column gap (a tab)
_MAX_CELL_TEXT = 400  # characters; a "cell" holding more is a frame around prose


# The child's address space beyond its imports: pdfplumber keeps each glyph as a dict (~1 KB),
# and a dense page holds a few thousand; pages are released as they are read.
MEMORY = 1024 * limits.MiB
TIMEOUT = 300.0  # seconds; ~45 ms a page here, so only a hostile or broken file gets near it


def read(data: bytes, name: str) -> RawText:
    """Read in a child process under MEMORY and TIMEOUT (and the caller's deadline)."""
    raw = isolate.run(f"{__name__}:read_isolated", data, name, memory=MEMORY, timeout=TIMEOUT, what="PDF")
    # --- OCR (issue 14): pages without a text layer were left as marks; read them by OCR, in their own child
    scans = getattr(raw, "ocr", None)
    if scans and scans.get("scan_pages"):
        from .ocr_run import fill_pdf

        return fill_pdf(RawText(*raw), data, name, bool(scans.get("all_scanned")))
    # --- end OCR
    return RawText(*raw)


def read_isolated(data: bytes, name: str) -> RawText:
    """The child's entry point: bound Flate inflation in this process, then read."""
    _bound_flate(len(data))
    return read_here(data, name, scans=True)


_OCR_HINT = ": pip install 'gkllm[ocr]'"  # with the extra, such pages are read (see read below)

# A page is scanned when it shows an image over most of it and (almost) no text of its own.
_SCAN_COVER = 0.5  # of the page's area
_SCAN_MAX_CHARS = 20


def read_here(data: bytes, name: str, scans: bool = False) -> RawText:
    """Read in this process (no memory cap: for trusted files and the child).

    With ``scans``, a page that is a scanned image is not an error or a warning: its text is a
    mark line (``ocr_run.MARK`` + page number) and the result (an ``OcrText``) lists those pages in ``ocr``, for
    ``ocr_run.fill_pdf`` to read by OCR.
    """
    import pdfplumber

    warnings: list[str] = []
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except MemoryError:
        raise
    except Exception as err:  # noqa: BLE001 - pdfminer raises many kinds
        raise _open_error(err) from None
    with pdf:
        try:
            pages = list(pdf.pages)
        except MemoryError:
            raise
        except Exception as err:  # noqa: BLE001
            raise _open_error(err) from None
        if not pages:
            raise InputError("PDF has no pages (corrupt or truncated file)")
        n_chars = n_cid = 0
        empty_pages: list[int] = []
        image_pages = 0
        stitch = _Stitcher()
        scan_pages: list[int] = []
        for number, page in enumerate(pages, 1):
            try:
                blocks, chars, cids, images = _read_page(page, warnings)
                if scans and images and chars <= _SCAN_MAX_CHARS and _image_cover(page) >= _SCAN_COVER:
                    from .ocr_run import MARK  # --- OCR (issue 14): the page is a scan, read later

                    blocks, chars = [_Block(0.0, text=f"{MARK}{number}")], 0
                    scan_pages.append(number)
            except (InputError, MemoryError):
                raise
            except Exception as err:  # noqa: BLE001
                raise _open_error(err, f"PDF page {number} cannot be read ({one_line(err)})") from None
            finally:
                page.close()  # drop the page's glyph objects: memory follows one page, not the file
            n_chars += chars
            n_cid += cids
            image_pages += bool(images)
            if not chars:
                empty_pages.append(number)
            stitch.page(blocks)
        out = stitch.lines()
        if stitch.merged_rows:
            warnings.append(f"{stitch.merged_rows} table row(s) split by a page break were joined")
    if scan_pages:  # --- OCR (issue 14): ocr_run.fill_pdf reads these pages, or says OCR is needed
        scanned = set(scan_pages)
        warnings = [w for w in warnings if not any(w.startswith(f"PDF page {n}:") for n in scanned)]
        if n_cid > 0.3 * n_chars and n_chars:
            raise InputError("PDF text layer cannot be decoded (fonts without a Unicode map); OCR is needed")
        empty_pages = [n for n in empty_pages if n not in scanned]
        if empty_pages:
            warnings.append(f"PDF pages without text, not read: {_ranges(empty_pages)}")
        if n_cid:
            warnings.append(f"{n_cid} PDF glyphs without a Unicode mapping were dropped")
        return OcrText("\n".join(out) + "\n", None, warnings,
                       {"scan_pages": scan_pages, "all_scanned": n_chars == 0, "pages": len(pages)})
    if n_chars == 0:
        if image_pages:
            raise InputError(f"PDF has no text layer (scanned image); OCR is needed{_OCR_HINT}")
        raise InputError("PDF has no text layer (no text and no images; text drawn as outlines?); OCR is needed")
    if n_cid > 0.3 * n_chars:
        raise InputError("PDF text layer cannot be decoded (fonts without a Unicode map); OCR is needed")
    if empty_pages:
        warnings.append(f"PDF pages without a text layer (scanned?), not read: {_ranges(empty_pages)}")
    if n_cid:
        warnings.append(f"{n_cid} PDF glyphs without a Unicode mapping were dropped")
    return RawText("\n".join(out) + "\n", None, warnings)


def _image_cover(page) -> float:
    """The share of the page's area under its images (overlaps counted once per image, capped at 1)."""
    area = float(page.width) * float(page.height) or 1.0
    total = 0.0
    for im in page.images:
        x0, x1 = max(0.0, float(im["x0"])), min(float(page.width), float(im["x1"]))
        top, bottom = max(0.0, float(im["top"])), min(float(page.height), float(im["bottom"]))
        total += max(0.0, x1 - x0) * max(0.0, bottom - top)
    return min(1.0, total / area)


def _open_error(err: Exception, otherwise: str | None = None) -> InputError:
    # pdfplumber wraps pdfminer's errors: PdfminerException(PDFPasswordIncorrect())
    while type(err).__name__ == "PdfminerException" and err.args and isinstance(err.args[0], Exception):
        err = err.args[0]
    if isinstance(err, TooLargeError):  # raised by the bounded inflater below, through pdfminer
        return err
    if otherwise is not None:
        return InputError(otherwise)
    kind = type(err).__name__
    if (kind in ("PDFPasswordIncorrect", "PDFEncryptionError") or "password" in str(err).lower()
            or "encrypt" in kind.lower()):
        return InputError("PDF is encrypted (password-protected); decrypt it first (e.g. qpdf --decrypt)")
    return InputError(f"PDF is corrupt or unreadable ({kind}: {one_line(err)})")


def _ranges(nums: list[int]) -> str:
    out, start, prev = [], nums[0], nums[0]
    for n in nums[1:] + [None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        out.append(f"{start}" if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(out)


# --- one page -------------------------------------------------------------------


@dataclass
class _Block:
    top: float
    text: str | None = None  # a text line
    rows: list[list[str]] | None = None  # a table: rows of cell texts
    x: tuple[float, ...] = ()  # a table's column edges


def _read_page(page, notes: list[str]) -> tuple[list[_Block], int, int, bool]:
    """(blocks in reading order, characters read, unmapped glyphs, has images)."""
    page = page.dedupe_chars(tolerance=1)
    every = [c for c in page.chars if c["text"] and not c["text"].isspace()]
    chars = [c for c in page.chars if _reads_ltr(c) and c["text"]]
    cids = sum(1 for c in chars if _CID.match(c["text"]))
    chars = [c for c in chars if not _CID.match(c["text"])]
    has_images = bool(page.images)
    if every and len(chars) < 0.5 * len(every):
        # the page shows its text turned by 90/180 degrees: read it in its own frame, as lines only
        chars = _turn_upright(every, float(page.width), float(page.height))
        notes.append(f"PDF page {page.page_number}: text is turned; read without table detection")
        lines = [_Block(top, text=text) for top, _, text in _lines(chars) if text.strip()]
        return lines, len(chars), cids, has_images
    if not chars:
        return [], 0, cids, has_images
    blocks: list[_Block] = []
    tables = page.find_tables() if page.rects or page.lines or page.curves else []
    boxes = []
    for t in tables:
        rows = []
        for row in t.rows:
            cells = ["" if bbox is None else _cell_text([c for c in chars if _inside(c, bbox)]) for bbox in row.cells]
            if any(cells):
                rows.append(cells)
        n_cells = sum(1 for r in t.rows for b in r.cells if b)
        if n_cells < 2 or any(len(c) > _MAX_CELL_TEXT for r in rows for c in r):
            continue  # a frame around the page or around prose, not a data table: read its text as lines
        boxes.append(t.bbox)
        if rows:
            edges = tuple(sorted({round(b[0]) for r in t.rows for b in r.cells if b} | {round(t.bbox[2])}))
            blocks.append(_Block(t.bbox[1], rows=rows, x=edges))
    free = [c for c in chars if not any(_inside(c, b) for b in boxes)]
    height = float(page.height)
    for top, bottom, text in _lines(free):
        stripped = text.strip()
        if not stripped:
            continue
        if _PAGE_NO_DASHED.match(stripped):
            continue
        in_margin = bottom > height * 0.90 or top < height * 0.07
        if in_margin and _PAGE_NO_BARE.match(stripped):
            continue
        blocks.append(_Block(top, text=text))
    blocks.sort(key=lambda b: b.top)
    return blocks, len(chars), cids, has_images


# --- tables across pages ---------------------------------------------------------------

_ROW_START = re.compile(
    r"^(?:[一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十\d]+[)）]|\d+[.．、]|第[一二三四五六七八九十百\d]+[条项章节部])"
)
# Part-2 row labels (they carry no ordinal) and its header's first word: a fragment starting with one is a new row.
_PLAIN_LABELS = tuple(sorted({item.label for items in PART2.values() for item in items} | {"信息内容"}, key=len,
                             reverse=True))
_NUM = re.compile(r"^[+-]?\d[\d,]*(?:\.\d+)?$")


class _Stitcher:
    """Joins a table that continues on the next page.

    Rows simply continue; header rows that the next page repeats are dropped,
    and a row that a page break cut in two (its label on both pages, its
    numbers on one of them) becomes one row again.
    """

    def __init__(self) -> None:
        self.blocks: list[_Block] = []
        self.origin: _Block | None = None  # first fragment of the table being continued
        self.merged_rows = 0

    def page(self, blocks: list[_Block]) -> None:
        prev = self.blocks[-1] if self.blocks else None
        first = blocks[0] if blocks else None
        if first is not None and prev is not None and prev.rows and first.rows and _same_columns(prev, first):
            origin = self.origin or prev
            origin_rows = origin.rows or []  # a table's first fragment: it has rows
            k = 0
            while k < min(len(first.rows) - 1, len(origin_rows), 6) and first.rows[k] == origin_rows[k]:
                k += 1
            rows = first.rows[k:]
            if rows and _continues(prev.rows[-1], rows[0]):
                prev.rows[-1] = [_join(a, b) for a, b in zip(prev.rows[-1], rows[0])]
                rows = rows[1:]
                self.merged_rows += 1
            prev.rows.extend(rows)
            self.origin = origin
            blocks = blocks[1:]
        elif blocks:
            self.origin = None
        if blocks and blocks[-1].rows is None:
            self.origin = None
        self.blocks.extend(blocks)

    def lines(self) -> list[str]:
        out: list[str] = []
        for b in self.blocks:
            if b.rows is not None:
                out.extend("\t".join(r) for r in b.rows)
            else:
                out.append(b.text or "")
        return out


def _same_columns(a: _Block, b: _Block) -> bool:
    if len(a.rows[0]) != len(b.rows[0]):  # type: ignore[index]
        return False
    if len(a.x) != len(b.x):
        return True  # same cell count; edges differ when a page holds only some rows
    return all(abs(x - y) <= 3 for x, y in zip(a.x, b.x))


def _continues(a: list[str], b: list[str]) -> bool:
    """Is row ``b`` (top of a page) the rest of row ``a`` (bottom of the previous page)?"""
    if len(a) != len(b) or not any(b):
        return False
    a_nums = any(_NUM.match(x) for x in a)
    b_nums = any(_NUM.match(y) for y in b)
    if a_nums and b_nums:
        return False
    shared_label = False
    for x, y in zip(a, b):
        if not y:
            continue
        if _NUM.match(y):
            if x:
                return False
            continue
        if not x or _NUM.match(x):
            return False  # label text where the other part had nothing, or a number
        shared_label = True
    if not shared_label:
        return False
    first = next(y for y in b if y and not _NUM.match(y))
    return not (_ROW_START.match(first) or first.startswith(_PLAIN_LABELS))


def _join(a: str, b: str) -> str:
    if not a or not b:
        return a or b
    return a + b if (_CJK.match(a[-1]) or _CJK.match(b[0])) else f"{a} {b}"


def _reads_ltr(c: dict) -> bool:
    """Upright text, left to right (rotated watermarks and turned pages are not)."""
    m = c.get("matrix")
    if not m:
        return bool(c.get("upright", True))
    return m[0] > 0 and abs(m[1]) <= 0.1 * m[0]


def _turn_upright(chars: list[dict], width: float, height: float) -> list[dict]:
    """Glyph boxes of a page whose text runs down, up or upside down, in the text's own frame."""
    votes: dict[tuple[int, int], int] = {}
    for c in chars:
        a, b = (round(v) for v in c["matrix"][:2])
        votes[(a, b)] = votes.get((a, b), 0) + 1
    a, b = max(votes, key=votes.__getitem__)
    out = []
    for c in chars:
        d = dict(c)
        if (a, b) == (0, -1):  # runs down the page; lines follow right to left
            d.update(x0=c["top"], x1=c["bottom"], top=width - c["x1"], bottom=width - c["x0"])
        elif (a, b) == (0, 1):  # runs up the page; lines follow left to right
            d.update(x0=height - c["bottom"], x1=height - c["top"], top=c["x0"], bottom=c["x1"])
        elif (a, b) == (-1, 0):  # upside down
            d.update(x0=width - c["x1"], x1=width - c["x0"], top=height - c["bottom"], bottom=height - c["top"])
        out.append(d)
    return out


def _inside(c: dict, bbox) -> bool:
    x = (c["x0"] + c["x1"]) / 2
    y = (c["top"] + c["bottom"]) / 2
    return bbox[0] <= x <= bbox[2] and bbox[1] <= y <= bbox[3]


def _lines(chars: list[dict]) -> list[tuple[float, float, str]]:
    """Group glyphs into visual lines; each line's text with gap-aware spacing."""
    groups: list[list[dict]] = []
    bounds: list[list[float]] = []
    for c in sorted(chars, key=lambda c: (round(c["top"], 1), c["x0"])):
        h = max(c["bottom"] - c["top"], 0.1)
        mid = (c["top"] + c["bottom"]) / 2
        if groups:
            top, bottom = bounds[-1]
            if top - 0.2 * h <= mid <= bottom + 0.2 * h and abs(mid - (top + bottom) / 2) < 0.6 * max(bottom - top, h):
                groups[-1].append(c)
                bounds[-1] = [min(top, c["top"]), max(bottom, c["bottom"])]
                continue
        groups.append([c])
        bounds.append([c["top"], c["bottom"]])
    return [(b[0], b[1], _join_line(g)) for g, b in zip(groups, bounds)]


def _join_line(chars: list[dict]) -> str:
    chars = sorted(chars, key=lambda c: c["x0"])
    out: list[str] = []
    prev = None
    pending_space = False
    for c in chars:
        t = c["text"]
        if t.isspace():
            pending_space = True
            continue
        if prev is not None:
            size = max(prev.get("size") or 0, c.get("size") or 0) or max(c["bottom"] - c["top"], 1.0)
            gap = (c["x0"] - prev["x1"]) / size
            a, b = prev["text"][-1], t[0]
            if gap > _COLUMN:
                sep = "\t"
            elif _numish(a) and _numish(b) and (_DIGIT.match(a) or _DIGIT.match(b)):
                sep = "" if gap < _JOIN_DIGITS else " "
            elif _CJK.match(a) or _CJK.match(b):
                sep = "" if gap < _JOIN_CJK else " "
            else:
                sep = " " if gap > _JOIN_LATIN or pending_space else ""
            if sep:
                out.append(sep)
        out.append(t)
        prev = c
        pending_space = False
    return "".join(out)


def _numish(ch: str) -> bool:
    return bool(_DIGIT.match(ch)) or ch in ".,"


def _cell_text(chars: list[dict]) -> str:
    """A table cell: its lines joined with nothing next to CJK text, else a space."""
    return glue_cell(line for _, _, line in _lines(chars)) if chars else ""


# --- bounded Flate inflation (in the child) ---------------------------------------------------


class _BoundedZlib:
    """Stands in for the ``zlib`` module inside ``pdfminer.pdftypes``: the calls pdfminer makes
    (``decompress``, ``decompressobj``, ``error``), with every stream's output counted against
    limits.MAX_MEMBER and all streams' against the file's budget. Raising TooLargeError (not
    zlib.error) keeps pdfminer from retrying the stream with its corrupt-data fallback."""

    error = zlib.error

    def __init__(self, file_size: int) -> None:
        self.budget = limits.budget(file_size)
        self.total = 0

    def count(self, n: int, stream: int) -> None:
        self.total += n
        if stream > limits.MAX_MEMBER:
            raise TooLargeError(f"a PDF stream inflates to more than {limits.MAX_MEMBER >> 20} MB: "
                                "refused as a decompression bomb")
        if self.total > self.budget:
            raise TooLargeError(f"the PDF's streams inflate to more than {self.budget >> 20} MB: "
                                "refused as a decompression bomb")

    def decompress(self, data: bytes, *args: int) -> bytes:
        inflater = self.decompressobj(*args[1:2])
        out = inflater.decompress(data)
        if not inflater.eof:  # as zlib.decompress does, so pdfminer's own fallback still runs
            raise zlib.error("Error -5 while decompressing data: incomplete or truncated stream")
        return out

    def decompressobj(self, wbits: int = zlib.MAX_WBITS) -> "_BoundedInflater":
        return _BoundedInflater(self, zlib.decompressobj(wbits))


class _BoundedInflater:
    def __init__(self, owner: _BoundedZlib, inflater: "zlib._Decompress") -> None:
        self.owner, self.inflater, self.produced = owner, inflater, 0

    @property
    def eof(self) -> bool:
        return self.inflater.eof

    def decompress(self, data: bytes, max_length: int = 0) -> bytes:
        out = bytearray()
        pending: bytes = data
        while True:
            room = limits.MiB if not max_length else min(limits.MiB, max_length - len(out))
            chunk = self.inflater.decompress(pending, room)
            out += chunk
            self.produced += len(chunk)
            self.owner.count(len(chunk), self.produced)
            pending = self.inflater.unconsumed_tail
            if self.inflater.eof or (max_length and len(out) >= max_length):
                return bytes(out)
            if not pending and len(chunk) < room:  # input spent and nothing held back
                return bytes(out)

    def flush(self, *args: int) -> bytes:
        out = self.inflater.flush(*args)
        self.produced += len(out)
        self.owner.count(len(out), self.produced)
        return out


def _bound_flate(file_size: int) -> None:
    try:
        from pdfminer import pdftypes
    except ImportError:
        return
    if getattr(pdftypes, "zlib", None) is zlib:  # the name pdfminer inflates through (pinned version)
        pdftypes.zlib = _BoundedZlib(file_size)  # type: ignore[assignment]
