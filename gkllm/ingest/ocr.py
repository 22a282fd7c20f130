"""OCR: a scanned page (an image) to the text the parser reads, with each box's provenance.

The optional extra ``gkllm[ocr]`` brings ``rapidocr-onnxruntime`` (PP-OCRv4
Chinese detection and recognition models, ONNX, shipped inside the wheel: no
download at run time) with OpenCV and numpy. Without it, ``available()`` is
False and callers raise the one-line error naming ``pip install 'gkllm[ocr]'``.

One page, in this order (``read_page``):

1. **orientation**: text lines are found on a small copy of the page, and on
   the copy turned by 90 degrees; the turn whose lines lie flat wins, then the
   model's 0/180 classifier votes over the longest lines (a page upside down);
2. **skew**: the angle (up to ``MAX_SKEW`` degrees) whose row profile of the
   ink is sharpest; the page is turned back by it;
3. **ruling lines**: long horizontal and vertical runs of ink (morphological
   opening), kept where they meet each other; each connected set of them is a
   table, its lines give the grid, and a missing line segment between two
   grid cells merges them (a merged cell is reported once, at its top-left
   position, as the PDF reader does); the lines are then painted out, so no
   stroke of a ruling line is read as a ``1`` and text boxes stop at cell
   borders;
4. **text**: detection and recognition (no per-line 0/180 classifier: the page
   is already upright, and a turned ``6`` would read ``9``); a ruled cell the
   detector found nothing in but that holds ink is read too; a small number
   read unsurely in a box much larger than it (``。`` for a 0) is read again
   from a box around its ink (``_second_look``); in a borderless table, a
   place where a number is due (its column, its row's spacing) that holds ink
   is read alone (``_inked_slots``);
5. **layout**: each text box lands in the grid cell holding its centre; a
   table becomes one line per grid row with cells between tabs; text level
   with a table's rows but outside its grid (a faint outer rule missed) joins
   the row as cells; other boxes become lines by their vertical overlap, with
   a tab at a wide gap (a borderless table's column); blocks in reading order
   (top to bottom);
6. **digits**: a cell that reads as a number but for OCR's usual confusions
   (``O``/``o`` for 0, ``l``/``I``/``|`` for 1, ``。`` for a decimal point)
   is cleaned; other text is left as read (label confusions are folded by the
   parser, from ``template.OCR_CONFUSIONS``).

Every box's span in the output text is kept (``Span``) with its page, its
box in the pixels of the page as given (before turning and deskewing) and
the recogniser's confidence; ``gkllm.ingest.ocr_notes`` turns them into the
values' provenance notes and low-confidence diagnostics.
"""

from __future__ import annotations

import importlib.util
import math
import re
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, NamedTuple

from ..normalize import normalize
from .common import CJK, glue_cell

ENGINE = "rapidocr-onnxruntime==1.4.4 (PP-OCRv4 det/rec, ONNX)"
INSTALL_HINT = "pip install 'gkllm[ocr]'"
DPI = 200  # pages of a PDF are rendered at this resolution
MAX_SKEW = 3.0  # degrees
DET_SCALE_SIDE = 1600  # text detection runs on a copy whose longer side is at most this (recognition on full size)
MIN_TEXT_CONFIDENCE = 0.3  # a box read with less is noise (a stroke of a line, a smudge, turned text): left out
MAX_PIXELS = 60_000_000  # a page image larger than this is scaled down first (a 200 dpi A0 page is ~50 Mpx)
_NUMERIC = re.compile(r"^[+-]?\d[\d,]*(?:\.\d+)?%?$")
# what a number cell may hold besides digits: OCR's confusions of 0, 1 and the decimal point
_DIGIT_LIKE = str.maketrans({"O": "0", "o": "0", "〇": "0", "D": "0", "l": "1", "I": "1", "|": "1", "丨": "1",
                             "。": ".", "，": ",", "．": "."})
_CONFUSABLE = re.compile(r"^[0-9OoD〇lI|丨.。,，．]+$")


def available() -> bool:
    """Is the OCR extra installed?"""
    return all(importlib.util.find_spec(m) is not None for m in ("rapidocr_onnxruntime", "cv2", "numpy"))


def missing_message(what: str) -> str:
    return f"{what}; OCR is needed: {INSTALL_HINT}"


# --- results ---------------------------------------------------------------------------------


class Span(NamedTuple):
    """Where a piece of the output text was read: output line (0-based, within the page or the document),
    character range in that line, page (1-based), box (x0, y0, x1, y1) in the page image's pixels, confidence."""

    line: int
    start: int
    end: int
    page: int
    box: tuple[int, int, int, int]
    conf: float


@dataclass
class PageText:
    lines: list[str]
    spans: list[Span]
    seconds: float
    warnings: list[str] = field(default_factory=list)
    rotation: int = 0  # degrees the page was turned (clockwise) to read it
    skew: float = 0.0  # degrees it was turned back


@dataclass
class _Box:
    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    conf: float
    quad: Any = None  # four corners in the upright, deskewed frame

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def h(self) -> float:
        return self.y1 - self.y0


# --- the engine ------------------------------------------------------------------------------

_ENGINE: Any = None


def engine() -> Any:
    """The RapidOCR engine, loaded once per process (~0.4 s)."""
    global _ENGINE
    if _ENGINE is None:
        import os

        from rapidocr_onnxruntime import RapidOCR

        threads = int(os.environ.get("GKLLM_OCR_THREADS", "0") or 0) or min(os.cpu_count() or 1, 4)
        _ENGINE = RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1, print_verbose=False)
    return _ENGINE


def _detect(img, scale_side: int = DET_SCALE_SIDE) -> list[Any]:
    """Text-line quads (in ``img``'s pixels), found on a copy whose longer side is at most ``scale_side``."""
    import cv2
    import numpy as np

    eng = engine()
    h, w = img.shape[:2]
    f = min(1.0, scale_side / max(h, w))
    small = (cv2.resize(img, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
             if f < 1 else img)
    if small.ndim == 2:
        small = cv2.cvtColor(small, cv2.COLOR_GRAY2BGR)
    boxes, _ = eng.text_det(small)
    if boxes is None or len(boxes) == 0:
        return []
    return [np.asarray(b, dtype=np.float32) / f for b in boxes]


def _crop(img, quad, turn: bool = True):
    """The text line under ``quad``, straightened (as RapidOCR crops it; a tall one turned unless not ``turn``)."""
    import cv2
    import numpy as np

    pts = quad.astype(np.float32)
    w = int(max(np.linalg.norm(pts[0] - pts[1]), np.linalg.norm(pts[2] - pts[3])))
    h = int(max(np.linalg.norm(pts[0] - pts[3]), np.linalg.norm(pts[1] - pts[2])))
    w, h = max(w, 1), max(h, 1)
    m = cv2.getPerspectiveTransform(pts, np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32))
    out = cv2.warpPerspective(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC)
    if turn and h >= 1.5 * w:
        out = np.rot90(out)
    return out


def _stack_to_line(crop: Any) -> Any:
    """A tall crop of vertical text (one character under the other, as narrow header cells print
    自/然/人) laid out as one line: characters found by the blank rows between them, side by side."""
    import cv2
    import numpy as np

    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    h, w = gray.shape
    _, ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    rows = ink.sum(axis=1) > 0.02 * 255 * w
    runs: list[list[int]] = []
    for y in range(h):
        if rows[y]:
            if runs and runs[-1][1] == y:
                runs[-1][1] = y + 1
            else:
                runs.append([y, y + 1])
    # strokes of one character split by a blank row (二, 三) join while the whole stays about square
    chars: list[list[int]] = []
    for a, b in runs:
        if chars and (b - chars[-1][0]) <= 1.15 * w:
            chars[-1][1] = b
        else:
            chars.append([a, b])
    if len(chars) < 2:
        return crop
    gap = max(2, w // 4)
    pieces = []
    for a, b in chars:
        piece = crop[a:b]
        pad = max(0, w - (b - a))
        piece = cv2.copyMakeBorder(piece, pad // 2, pad - pad // 2, 0, gap, cv2.BORDER_REPLICATE)
        pieces.append(piece)
    height = max(p.shape[0] for p in pieces)
    pieces = [cv2.copyMakeBorder(p, 0, height - p.shape[0], 0, 0, cv2.BORDER_REPLICATE) for p in pieces]
    return np.hstack(pieces)


def _recognize(img, quads: list[Any]) -> list[tuple[str, float]]:
    import cv2
    import numpy as np

    if not quads:
        return []
    bgr = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR) if img.ndim == 2 else img
    crops = []
    for q in quads:
        w = float(np.linalg.norm(q[0] - q[1]))
        h = float(np.linalg.norm(q[0] - q[3]))
        crops.append(_stack_to_line(_crop(bgr, q, turn=False)) if h >= 1.5 * w else _crop(bgr, q))
    res, _ = engine().text_rec(crops, False)
    return [(str(t), float(c)) for t, c, *_ in res]


# --- page geometry -----------------------------------------------------------------------------


def _to_gray(img):
    import cv2

    if img.ndim == 3:
        return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY if img.shape[2] == 3 else cv2.COLOR_BGRA2GRAY)
    return img


def _orientation(gray) -> tuple[int, int]:
    """(clockwise turn in degrees that makes the page upright, median text height on the upright page, px)."""
    import cv2
    import numpy as np

    h, w = gray.shape
    f = min(1.0, 1024 / max(h, w))
    small = cv2.resize(gray, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)

    def lines_of(img):
        quads = _detect(img, 1024)
        flat = tall = 0
        for q in quads:
            qw = float(np.linalg.norm(q[0] - q[1]))
            qh = float(np.linalg.norm(q[0] - q[3]))
            if qw >= 2 * qh:
                flat += 1
            elif qh >= 2 * qw:
                tall += 1
        return quads, flat, tall

    quads, flat, tall = lines_of(small)
    turn = 0
    if tall > flat:
        turned = cv2.rotate(small, cv2.ROTATE_90_CLOCKWISE)
        q2, flat2, tall2 = lines_of(turned)
        if flat2 > flat:
            small, quads, turn = turned, q2, 90
    # 0 or 180: the classifier's vote over the longest flat lines
    flat_quads = sorted((q for q in quads if np.linalg.norm(q[0] - q[1]) >= 2 * np.linalg.norm(q[0] - q[3])),
                        key=lambda q: -float(np.linalg.norm(q[0] - q[1])))[:24]
    heights = [float(np.linalg.norm(q[0] - q[3])) / f for q in quads] or [30.0]
    if flat_quads:
        bgr = cv2.cvtColor(small, cv2.COLOR_GRAY2BGR)
        crops = [_crop(bgr, q) for q in flat_quads]
        _, cls_res, _ = engine().text_cls(crops)
        weight_up = sum(c for label, c in cls_res if label == "0")
        weight_down = sum(c for label, c in cls_res if label == "180")
        if weight_down > weight_up:
            turn = (turn + 180) % 360
    return turn, int(np.median(heights))


def _bilevel(gray) -> bool:
    """Only black and white (a 1-bit image decoded to gray)?"""
    import numpy as np

    sample = gray[:: max(1, gray.shape[0] // 200), :: max(1, gray.shape[1] // 200)]
    return bool(np.isin(sample, (0, 255)).all())


def _rotate(gray, turn: int):
    import cv2

    if turn == 90:
        return cv2.rotate(gray, cv2.ROTATE_90_CLOCKWISE)
    if turn == 180:
        return cv2.rotate(gray, cv2.ROTATE_180)
    if turn == 270:
        return cv2.rotate(gray, cv2.ROTATE_90_COUNTERCLOCKWISE)
    return gray


def _skew(gray) -> float:
    """The page's skew in degrees (positive: text rises to the right... measured as the turn that levels it)."""
    import cv2
    import numpy as np

    h, w = gray.shape
    f = min(1.0, 1200 / max(h, w))
    small = cv2.resize(gray, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    _, ink = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    sh, sw = ink.shape
    centre = (sw / 2, sh / 2)

    def sharpness(angle: float) -> float:
        m = cv2.getRotationMatrix2D(centre, angle, 1.0)
        rot = cv2.warpAffine(ink, m, (sw, sh), flags=cv2.INTER_NEAREST, borderValue=0)
        rows = rot.sum(axis=1, dtype=np.float64)
        return float(np.sum(np.diff(rows) ** 2))

    best = max((a / 4 for a in range(int(-MAX_SKEW * 4) - 1, int(MAX_SKEW * 4) + 2)), key=sharpness)
    fine = max((best + a / 40 for a in range(-10, 11)), key=sharpness)
    return round(fine, 3)


def _deskew(gray, angle: float):
    """(image turned by ``angle`` degrees about its centre, the 2x3 matrix used)."""
    import cv2

    h, w = gray.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    if abs(angle) < 0.05:
        return gray, m
    out = cv2.warpAffine(gray, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out, m


@dataclass
class _Table:
    x0: int
    y0: int
    x1: int
    y1: int
    xs: list[int]  # vertical grid lines
    ys: list[int]  # horizontal grid lines
    owner: list[list[tuple[int, int]]]  # owner[r][c]: the top-left (r, c) of the merged cell holding (r, c)


def _clusters(values: Iterable[float], tol: float) -> list[float]:
    out: list[list[float]] = []
    for v in sorted(values):
        if out and v - out[-1][-1] <= tol:
            out[-1].append(v)
        else:
            out.append([v])
    return [sum(c) / len(c) for c in out]


def _ruling(gray, unit: int):
    """(tables found from ruling lines, mask of the lines to paint out)."""
    import cv2
    import numpy as np

    h, w = gray.shape
    ink = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 15)
    hlen = max(20, int(unit * 2.5))
    vlen = max(15, int(unit * 1.4))
    # a rule thresholded to 1 bit (a fax, a G4 TIFF) or worn by noise is dotted: bridge the dots along each
    # direction first (text merged this way is too thick to pass for a rule below), then keep long runs
    bridge = max(3, unit // 4)
    horiz = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (bridge, 1)))
    vert = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (1, bridge)))
    horiz = cv2.morphologyEx(horiz, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (hlen, 1)))
    vert = cv2.morphologyEx(vert, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, vlen)))
    # bridge small breaks (noise, JPEG) along each line
    horiz = cv2.morphologyEx(horiz, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, unit // 3), 1)))
    vert = cv2.morphologyEx(vert, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(3, unit // 3))))
    near = cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5))
    # a vertical stroke is a ruling line only where it meets a horizontal one (a glyph's stroke does not)
    keep_v = _ruling_strokes(vert, cv2.dilate(horiz, near), unit, 4 * unit)
    # the horizontal ones the same way, on the page transposed
    keep_h = np.ascontiguousarray(_ruling_strokes(np.ascontiguousarray(horiz.T),
                                                  np.ascontiguousarray(cv2.dilate(keep_v, near).T), unit, 0.3 * w).T)
    lines = cv2.bitwise_or(keep_h, keep_v)
    tables: list[_Table] = []
    n, labels, stats, _ = cv2.connectedComponentsWithStats(cv2.dilate(lines, near), connectivity=8)
    for i in range(1, n):
        x, y, bw, bh, _ = stats[i]
        if bw < 3 * unit or bh < 1.5 * unit:
            continue
        region = labels[y:y + bh, x:x + bw] == i
        t = _grid(keep_h[y:y + bh, x:x + bw] & region.astype(np.uint8) * 255,
                  keep_v[y:y + bh, x:x + bw] & region.astype(np.uint8) * 255, x, y, unit)
        if t is not None:
            tables.append(t)
    paint = cv2.dilate(lines, cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5)))
    return tables, paint


def _ruling_strokes(strokes: Any, across: Any, unit: int, long_alone: float) -> Any:
    """The vertical strokes of ``strokes`` that are ruling lines: they meet ``across`` (the other way's
    rules, dilated) at both of their ends, or are longer than ``long_alone`` (a glyph's stroke does neither)."""
    import cv2
    import numpy as np

    n, labels, stats, _ = cv2.connectedComponentsWithStats(strokes, connectivity=8)
    keep = np.zeros_like(strokes)
    for i in range(1, n):
        x, y, bw, bh, _ = stats[i]
        if bw > max(8, unit // 2):
            continue
        comp = labels[y:y + bh, x:x + bw] == i
        end = max(3, min(bh // 4, unit // 2))  # a rule meets a rule at both of its ends
        if (np.any(across[y:y + end, x:x + bw]) and np.any(across[y + bh - end:y + bh, x:x + bw])) or bh > long_alone:
            keep[y:y + bh, x:x + bw][comp] = 255
    return keep


def _grid(hmask, vmask, ox: int, oy: int, unit: int) -> _Table | None:
    """The grid of one table from its line masks (offset ``ox``, ``oy``), merged cells from missing segments."""
    import cv2
    import numpy as np

    tol = max(4, unit // 3)
    hs: list[tuple[float, int, int]] = []  # (y, x0, x1)
    n, _, stats, cents = cv2.connectedComponentsWithStats(hmask, connectivity=8)
    for i in range(1, n):
        x, y, bw, bh, _ = stats[i]
        hs.append((y + bh / 2, x, x + bw))
    vs: list[tuple[float, int, int]] = []
    n, _, stats, cents = cv2.connectedComponentsWithStats(vmask, connectivity=8)
    for i in range(1, n):
        x, y, bw, bh, _ = stats[i]
        vs.append((x + bw / 2, y, y + bh))
    if len(hs) < 2 or len(vs) < 2:
        return None
    ys = [round(v) for v in _clusters((y for y, _, _ in hs), tol)]
    xs = [round(v) for v in _clusters((x for x, _, _ in vs), tol)]
    # a table cut by the page's edge (a page break) has rules that run past its first or last line:
    # their ends close the row the break cut
    v_top, v_bottom = min(a for _, a, _ in vs), max(b for _, _, b in vs)
    if ys and v_top < ys[0] - unit:
        ys.insert(0, int(v_top))
    if ys and v_bottom > ys[-1] + unit:
        ys.append(int(v_bottom))
    if len(ys) < 2 or len(xs) < 2:
        return None
    nr, nc = len(ys) - 1, len(xs) - 1
    hh, ww = hmask.shape

    def has_h(y: int, xa: int, xb: int) -> bool:  # a horizontal line at y between xa and xb
        a, b = xa + tol, xb - tol
        if b <= a:
            a, b = xa, xb
        band = hmask[max(0, y - tol):min(hh, y + tol + 1), max(0, a):min(ww, b)]
        return band.size > 0 and float(np.mean(band.max(axis=0) > 0)) > 0.5

    def has_v(x: int, ya: int, yb: int) -> bool:
        a, b = ya + tol, yb - tol
        if b <= a:
            a, b = ya, yb
        band = vmask[max(0, a):min(hh, b), max(0, x - tol):min(ww, x + tol + 1)]
        return band.size > 0 and float(np.mean(band.max(axis=1) > 0)) > 0.5

    parent = {(r, c): (r, c) for r in range(nr) for c in range(nc)}

    def find(p):
        while parent[p] != p:
            parent[p] = parent[parent[p]]
            p = parent[p]
        return p

    def union(a, b):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for r in range(nr):
        for c in range(nc - 1):
            if not has_v(xs[c + 1], ys[r], ys[r + 1]):
                union((r, c), (r, c + 1))
    for r in range(nr - 1):
        for c in range(nc):
            if not has_h(ys[r + 1], xs[c], xs[c + 1]):
                union((r, c), (r + 1, c))
    # the owner of a merged region: its top-left grid position
    groups: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for p in parent:
        groups.setdefault(find(p), []).append(p)
    owner = [[(0, 0)] * nc for _ in range(nr)]
    for members in groups.values():
        top_left = min(members)
        for r, c in members:
            owner[r][c] = top_left
    return _Table(ox + xs[0], oy + ys[0], ox + xs[-1], oy + ys[-1], [ox + x for x in xs], [oy + y for y in ys], owner)


# --- from boxes to lines ------------------------------------------------------------------------


def clean_number(text: str) -> str:
    """A cell that is a number but for OCR's confusions of 0, 1 and the decimal point, cleaned; else as read."""
    t = text.strip().replace(" ", "")
    if not t or _NUMERIC.match(t) or not _CONFUSABLE.match(t):
        return text
    if not any(ch.isdigit() or ch in "Oo〇D" for ch in t):
        return text  # "l", "|", "。" alone: not a number
    fixed = t.translate(_DIGIT_LIKE)
    if fixed.count(".") > 1 or fixed.startswith((".", ",")) or fixed.endswith((".", ",")):
        return text
    return fixed if _NUMERIC.match(fixed) else text


def _is_number(text: str) -> bool:
    """Does ``text`` read as a number once OCR's digit confusions are cleaned?"""
    return bool(_NUMERIC.match(clean_number(text)))


def _short_number(b: _Box, unit: float) -> bool:
    """A box holding one number (not a run of text that happens to be digits)."""
    return _is_number(b.text) and b.x1 - b.x0 < 4 * unit


def _rows_of(boxes: list[_Box]) -> list[list[_Box]]:
    """Boxes grouped into visual lines by vertical overlap, top to bottom, each left to right."""
    rows: list[list[_Box]] = []
    bounds: list[list[float]] = []
    for b in sorted(boxes, key=lambda b: (b.cy, b.x0)):
        if rows:
            top, bottom = bounds[-1]
            overlap = min(bottom, b.y1) - max(top, b.y0)
            if overlap > 0.5 * min(bottom - top, b.h):
                rows[-1].append(b)
                bounds[-1] = [min(top, b.y0), max(bottom, b.y1)]
                continue
        rows.append([b])
        bounds.append([b.y0, b.y1])
    return [sorted(r, key=lambda b: b.x0) for r in rows]


class _Out:
    """Lines of text with the spans of the boxes they were made of."""

    def __init__(self, page: int, back) -> None:
        self.page = page
        self.back = back  # maps a box in the upright frame to the page image's pixels
        self.lines: list[str] = []
        self.spans: list[Span] = []

    def add(self, pieces: list[tuple[str, list[_Box]]], sep: list[str]) -> None:
        """One line: ``pieces`` (text, its boxes) joined by ``sep`` (one separator fewer than pieces)."""
        line = ""
        n = len(self.lines)
        for i, (text, boxes) in enumerate(pieces):
            if i:
                line += sep[i - 1]
            text = normalize(text).replace("\n", " ").replace("\t", " ")
            if text and boxes:
                self.spans.append(Span(n, len(line), len(line) + len(text), self.page, self.back(boxes),
                                       round(min(b.conf for b in boxes), 4)))
            line += text
        self.lines.append(line)


def _cell_text(boxes: list[_Box]) -> str:
    return glue_cell(" ".join(b.text for b in row) for row in _rows_of(boxes))


def _line_pieces(row: list[_Box], unit: float) -> tuple[list[tuple[str, list[_Box]]], list[str]]:
    pieces: list[tuple[str, list[_Box]]] = []
    seps: list[str] = []
    for b in row:
        if pieces:
            prev = pieces[-1][1][-1]
            gap = b.x0 - prev.x1
            numbers = _is_number(prev.text) or _is_number(b.text)
            if gap > (0.8 if numbers else 1.6) * unit:
                seps.append("\t")  # a column of a table without rules
            elif CJK.match(prev.text[-1:] or " ") and CJK.match(b.text[:1] or " "):
                seps.append("")  # one run of text the detector cut in two
            else:
                seps.append(" ")  # two boxes: never glued (a label's last character and a number)
        pieces.append((clean_number(b.text), [b]))
    return pieces, seps


def _layout(boxes: list[_Box], tables: list[_Table], out: _Out, unit: float) -> None:
    blocks: list[tuple[float, Any]] = []  # (top, table-or-row)
    free: list[_Box] = []
    cells: list[dict[tuple[int, int], list[_Box]]] = [{} for _ in tables]
    # text beside a table, level with its rows: the grid missed a column there (a faint or dotted rule
    # at the table's edge, as a 1-bit scan prints it); it is read as cells of the row it is level with
    beside: list[dict[tuple[int, str], list[_Box]]] = [{} for _ in tables]
    for b in boxes:
        for ti, t in enumerate(tables):
            if t.x0 - 2 <= b.cx <= t.x1 + 2 and t.y0 - 2 <= b.cy <= t.y1 + 2:
                r = max(0, min(len(t.ys) - 2, _band(t.ys, b.cy)))
                c = max(0, min(len(t.xs) - 2, _band(t.xs, b.cx)))
                cells[ti].setdefault(t.owner[r][c], []).append(b)
                break
        else:
            level = [ti for ti, t in enumerate(tables) if t.y0 < b.cy < t.y1]
            if level:
                t = tables[level[0]]
                r = max(0, min(len(t.ys) - 2, _band(t.ys, b.cy)))
                beside[level[0]].setdefault((r, "left" if b.cx < t.x0 else "right"), []).append(b)
            else:
                free.append(b)
    for t, held, by in zip(tables, cells, beside):
        if held or by:
            blocks.append((t.y0, (t, held, by)))
    for row in _rows_of(free):
        blocks.append((min(b.y0 for b in row), row))
    blocks.sort(key=lambda x: x[0])
    for _, item in blocks:
        if isinstance(item, tuple):
            t, held, by = item
            nr, nc = len(t.ys) - 1, len(t.xs) - 1
            sides = {side for _, side in by}
            for r in range(nr):
                pieces: list[tuple[str, list[_Box]]] = []
                seps: list[str] = []
                if "left" in sides:
                    _add_side(pieces, seps, by.get((r, "left"), []), unit)
                for c in range(nc):
                    bs = held.get((r, c), []) if t.owner[r][c] == (r, c) else []
                    if pieces:
                        seps.append("\t")
                    pieces.append((clean_number(_cell_text(bs)), bs))
                if "right" in sides:
                    _add_side(pieces, seps, by.get((r, "right"), []), unit)
                if any(p[0] for p in pieces):
                    out.add(pieces, seps)
        else:
            pieces, seps = _line_pieces(item, unit)
            out.add(pieces, seps)


def _add_side(pieces: list[tuple[str, list[_Box]]], seps: list[str], boxes: list[_Box], unit: float) -> None:
    """The boxes beside a table on one side of one row, as cells after a tab (an empty one if none)."""
    if pieces:
        seps.append("\t")
    if not boxes:
        pieces.append(("", []))
        return
    more, more_seps = _line_pieces(sorted(boxes, key=lambda b: b.x0), unit)
    pieces.extend(more)
    seps.extend(more_seps)


def _rect(q) -> tuple[float, float, float, float]:
    return float(q[:, 0].min()), float(q[:, 1].min()), float(q[:, 0].max()), float(q[:, 1].max())


def _quad(r: tuple[float, float, float, float]):
    import numpy as np

    x0, y0, x1, y1 = r
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32)


def _table_at(tables: list[_Table], x: float, y: float) -> _Table | None:
    for t in tables:
        if t.x0 - 2 <= x <= t.x1 + 2 and t.y0 - 2 <= y <= t.y1 + 2:
            return t
    return None


def _split_at_rules(rects: list[tuple[float, float, float, float]], tables: list[_Table],
                    unit: int) -> list[tuple[float, float, float, float]]:
    """A detected line that runs over a table's vertical rule into the next cell is cut there (the
    detector joins text on both sides of a rule when they nearly touch); a box that only grazes the
    rule is trimmed to the cell holding most of it."""
    out = []
    margin = 0.3 * unit
    for r in rects:
        x0, y0, x1, y1 = r
        t = _table_at(tables, (x0 + x1) / 2, (y0 + y1) / 2)
        if t is None:
            out.append(r)
            continue
        col = max(0, min(len(t.xs) - 2, _band(t.xs, (x0 + x1) / 2)))
        ycuts = [y for r_, y in enumerate(t.ys[1:-1], 1)
                 if y0 + margin < y < y1 - margin and t.owner[r_ - 1][col] != t.owner[r_][col]]
        pieces = []
        ys = [y0, *ycuts, y1]
        for a, b in zip(ys, ys[1:]):  # two lines of text from cells one above the other
            if b - a >= margin:
                pieces.append((x0, a, x1, b))
        for px0, py0, px1, py1 in pieces:
            row = max(0, min(len(t.ys) - 2, _band(t.ys, (py0 + py1) / 2)))
            cuts = [x for c, x in enumerate(t.xs[1:-1], 1)
                    if px0 < x < px1 and t.owner[row][c - 1] != t.owner[row][c]]
            edges = [px0, *cuts, px1]
            for a, b in zip(edges, edges[1:]):
                if b - a >= margin:
                    out.append((a, py0, b, py1))
    return out


def _cell_extent(t: _Table, r: int, c: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the merged cell whose top-left grid position is (r, c)."""
    nr, nc = len(t.ys) - 1, len(t.xs) - 1
    r1, c1 = r, c
    while r1 + 1 < nr and t.owner[r1 + 1][c] == (r, c):
        r1 += 1
    while c1 + 1 < nc and t.owner[r][c1 + 1] == (r, c):
        c1 += 1
    return t.xs[c], t.ys[r], t.xs[c1 + 1], t.ys[r1 + 1]


def _clip_to_cells(rects: list[tuple[float, float, float, float]],
                   tables: list[_Table]) -> list[tuple[float, float, float, float]]:
    """Each box inside a table clipped to the inside of its cell: no stroke of a ruling line (which
    painting out can leave at a blurred edge) is read with the text as a ``1`` or ``|``."""
    out = []
    pad = 4
    for x0, y0, x1, y1 in rects:
        t = _table_at(tables, (x0 + x1) / 2, (y0 + y1) / 2)
        if t is None:
            out.append((x0, y0, x1, y1))
            continue
        r = max(0, min(len(t.ys) - 2, _band(t.ys, (y0 + y1) / 2)))
        c = max(0, min(len(t.xs) - 2, _band(t.xs, (x0 + x1) / 2)))
        cx0, cy0, cx1, cy1 = _cell_extent(t, *t.owner[r][c])
        nx0, ny0, nx1, ny1 = max(x0, cx0 + pad), max(y0, cy0 + pad), min(x1, cx1 - pad), min(y1, cy1 - pad)
        if nx1 - nx0 >= 4 and ny1 - ny0 >= 4:
            out.append((nx0, ny0, nx1, ny1))
    return out


def _inked_cells(clean, rects, tables: list[_Table], unit: int) -> list[tuple[float, float, float, float]]:
    """Cells the detector found nothing in that still hold ink (a lone small digit is easy to miss):
    the ink's box, to be recognised like a detected line. A thin stripe along the cell's border (what
    is left of a painted-out rule) and specks are not ink."""
    taken = set()
    for x0, y0, x1, y1 in rects:
        t = _table_at(tables, (x0 + x1) / 2, (y0 + y1) / 2)
        if t is not None:
            r = max(0, min(len(t.ys) - 2, _band(t.ys, (y0 + y1) / 2)))
            c = max(0, min(len(t.xs) - 2, _band(t.xs, (x0 + x1) / 2)))
            taken.add((id(t), t.owner[r][c]))
    out = []
    pad = 4
    for t in tables:
        nr, nc = len(t.ys) - 1, len(t.xs) - 1
        for r in range(nr):
            for c in range(nc):
                if t.owner[r][c] != (r, c) or (id(t), (r, c)) in taken:
                    continue
                cx0, cy0, cx1, cy1 = _cell_extent(t, r, c)
                xa, xb, ya, yb = cx0 + pad, cx1 - pad, cy0 + pad, cy1 - pad
                if xb - xa < 8 or yb - ya < 8:
                    continue
                box = _ink_box(clean[ya:yb, xa:xb], unit, border_stripes=True)
                if box is not None:
                    out.append(_around_ink(box, xa, ya, (xa, ya, xb, yb)))
    return out


def _ink_box(crop, unit: int, border_stripes: bool = False) -> tuple[int, int, int, int] | None:
    """The box of the ink in ``crop`` (gray, page without rules), specks left out; None if blank. With
    ``border_stripes``, a thin stripe along the crop's edge (what is left of a painted-out rule) is no ink."""
    import cv2

    if crop.size == 0 or crop.min() > 160:
        return None  # no dark pixel: blank
    _, ink = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    hh, ww = ink.shape
    box = None
    for i in range(1, n):
        x, y, w, h, area = stats[i]
        if area < 0.02 * unit * unit or h < 0.25 * unit:
            continue  # a speck
        at_edge = x <= 1 or y <= 1 or x + w >= ww - 1 or y + h >= hh - 1
        if border_stripes and at_edge and min(w, h) <= max(3, 0.15 * unit):
            continue
        box = (x, y, x + w, y + h) if box is None else (min(box[0], x), min(box[1], y),
                                                        max(box[2], x + w), max(box[3], y + h))
    return box


def _number_columns(boxes: list[_Box], unit: float) -> list[tuple[float, float, list[_Box]]]:
    """Columns of a table without ruling lines: x ranges where short numbers stand one under another
    (at least three of them), with the numbers."""
    nums = sorted((b for b in boxes if _short_number(b, unit)),
                  key=lambda b: b.cx)
    cols: list[list[_Box]] = []
    for b in nums:
        if cols and b.cx - cols[-1][-1].cx <= 0.6 * unit:
            cols[-1].append(b)
        else:
            cols.append([b])
    out = []
    for members in cols:
        if len(members) >= 3:
            xs0 = sorted(b.x0 for b in members)
            xs1 = sorted(b.x1 for b in members)
            out.append((xs0[len(xs0) // 4], xs1[(3 * len(xs1)) // 4], members))
    return out


def _around_ink(box: tuple[int, int, int, int], ox: float, oy: float,
                within: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """The ink ``box`` of a crop taken at (``ox``, ``oy``), in page pixels, with a margin the recogniser
    needs around a glyph, kept ``within`` the place it was looked for in."""
    x0, y0, x1, y1 = box
    m = max(4, int(0.3 * (y1 - y0)))
    return (float(max(within[0], ox + x0 - m)), float(max(within[1], oy + y0 - m)),
            float(min(within[2], ox + x1 + m)), float(min(within[3], oy + y1 + m)))


def _whited_out(img, boxes: list[_Box]):
    """``img`` with the boxes already read painted white."""
    out = img.copy()
    for b in boxes:
        out[max(0, int(b.y0)):int(math.ceil(b.y1)), max(0, int(b.x0)):int(math.ceil(b.x1))] = 255
    return out


def _inked_slots(blank, boxes: list[_Box], tables: list[_Table],
                 unit: int) -> list[tuple[float, float, float, float]]:
    """The borderless counterpart of ``_inked_cells``: in a row of numbers outside any ruled table, a
    place where a number is due but no box was found, that has ink (the detector misses a lone small
    ``0`` beside others): the ink's box, to be recognised. A number is due in a column that the rows
    above or below have numbers in, and in a gap of a row of evenly spaced numbers that is twice their
    spacing, or one spacing before its first or after its last (a row alone, as part 4). Only ink inside
    the row's own band counts, so a number printed higher or lower (another row's) is not taken.
    ``blank`` is the page with the boxes read so far whited out."""
    free = [b for b in boxes if _table_at(tables, b.cx, b.cy) is None]
    columns = _number_columns(free, unit)
    hh, ww = blank.shape[:2]
    out = []
    for row in _rows_of(free):
        in_row = [b for b in row if _short_number(b, unit)]
        if len(in_row) < 3:
            continue
        y0 = min(b.y0 for b in in_row)
        y1 = max(b.y1 for b in in_row)
        due = [(cx0 - 0.3 * unit, cx1 + 0.3 * unit) for cx0, cx1, members in columns
               if any(abs(m.cy - (y0 + y1) / 2) < 8 * unit for m in members)]  # not another table's
        if len(in_row) >= 5:
            centres = [b.cx for b in in_row]
            gaps = [q - p for p, q in zip(centres, centres[1:])]
            d = sorted(gaps)[len(gaps) // 2]
            if d > unit and max(gaps[:1] + gaps[-1:]) < 2.5 * d:
                half = 0.35 * d
                spots = [p + g / 2 for p, g in zip(centres, gaps) if 1.7 * d <= g <= 2.3 * d]
                spots += [centres[0] - d, centres[-1] + d]
                due += [(c - half, c + half) for c in spots if half <= c <= ww - half]
        taken: list[tuple[float, float]] = []
        for xa_, xb_ in due:
            if any(b.x1 > xa_ + 0.1 * unit and b.x0 < xb_ - 0.1 * unit for b in row):
                continue  # the row has something here
            if any(a < xb_ and b > xa_ for a, b in taken):
                continue  # already looked at
            taken.append((xa_, xb_))
            xa, xb = max(0, int(xa_)), min(ww, int(xb_))
            ya, yb = max(0, int(y0 - 0.1 * unit)), min(hh, int(y1 + 0.1 * unit))
            box = _ink_box(blank[ya:yb, xa:xb], unit)
            if box is not None:
                out.append(_around_ink(box, xa, ya, (0, 0, ww, hh)))
    return out


SURE = 0.8  # a second reading replaces the first only when it is a number read at least this sure
# what a small 0 or 1 is misread as; a character (口, 日) is not looked at again, nor an ordinal with its dot
_LOOKALIKE = re.compile(r"^[。.，,oOQD〇°|lI丨]+$")


def _second_look(img, rects: list[tuple[float, float, float, float]], texts: list[tuple[str, float]],
                 unit: int) -> None:
    """A small number in a box much larger than it (a whole cell) is read unsurely, a ``0`` often as
    ``。`` or ``o``: such a reading (``_LOOKALIKE``), or a number read unsurely, is read again from a box
    around its ink only, and replaced (text and box, in place) when the new reading is a number at least
    ``SURE`` and surer than the first; a number read unsurely only by the same digits. "2." of a label
    "2.重复申请" is kept as read: the ink box leaves out a dot, too small to be ink."""
    again: list[tuple[int, tuple[float, float, float, float]]] = []
    for i, (text, conf) in enumerate(texts):
        t = text.strip()
        number = _is_number(t)
        if not t or len(t) > 2 or (number and conf >= SURE) or not (number or _LOOKALIKE.match(t)):
            continue
        x0, y0, x1, y1 = rects[i]
        box = _ink_box(img[int(y0):int(math.ceil(y1)), int(x0):int(math.ceil(x1))], unit)
        if box is None:
            continue
        tight = _around_ink(box, x0, y0, rects[i])
        if (tight[2] - tight[0]) * (tight[3] - tight[1]) < 0.7 * (x1 - x0) * (y1 - y0):
            again.append((i, tight))
    for (i, tight), (text, conf) in zip(again, _recognize(img, [_quad(r) for _, r in again])):
        first = texts[i][0].strip()
        same = not _is_number(first) or clean_number(text.strip()) == clean_number(first)
        if conf >= SURE and conf > texts[i][1] and _is_number(text.strip()) and same:
            texts[i] = (text, conf)
            rects[i] = tight


def _band(edges: list[int], v: float) -> int:
    for i in range(len(edges) - 1):
        if v < edges[i + 1]:
            return i
    return len(edges) - 2


# --- one page ------------------------------------------------------------------------------------


def read_page(img, page: int = 1) -> PageText:
    """OCR one page image (numpy, gray or BGR) into lines and spans."""
    import cv2
    import numpy as np

    t0 = time.perf_counter()
    warnings: list[str] = []
    gray = _to_gray(img)
    h0, w0 = gray.shape
    shrink = 1.0
    if h0 * w0 > MAX_PIXELS:
        shrink = math.sqrt(MAX_PIXELS / (h0 * w0))
        gray = cv2.resize(gray, (int(w0 * shrink), int(h0 * shrink)), interpolation=cv2.INTER_AREA)
        warnings.append(f"page {page}: image of {w0}x{h0} px scaled down by {shrink:.2f} to read it")
    if _bilevel(gray):  # a 1-bit scan (fax, G4 TIFF): the recogniser reads smooth strokes better than jagged ones
        gray = cv2.GaussianBlur(gray, (0, 0), 1.0)
    turn, unit = _orientation(gray)
    up = _rotate(gray, turn)
    angle = _skew(up)
    flat, m = _deskew(up, angle)
    unit = max(12, unit)
    tables, paint = _ruling(flat, unit)
    clean = flat.copy()
    clean[paint > 0] = 255
    # text is found and read on the page without its ruling lines (a character touching a rule, as 一 or 二
    # at a cell's left edge, is not taken for part of it); a line of text run into the next cell is cut at the rule
    rects = _split_at_rules([_rect(q) for q in _detect(clean)], tables, unit)
    rects += _inked_cells(clean, rects, tables, unit)
    rects = _clip_to_cells(rects, tables)
    texts = _recognize(clean, [_quad(r) for r in rects])
    _second_look(clean, rects, texts, unit)
    boxes: list[_Box] = []
    unreadable = 0
    for r, (text, conf) in zip(rects, texts):
        text = text.strip()
        if text and conf < MIN_TEXT_CONFIDENCE:
            unreadable += 1
        elif text:
            boxes.append(_Box(r[0], r[1], r[2], r[3], text, conf, _quad(r)))
    # a borderless table's lone small number the detector missed: found by its column, read alone
    blank = _whited_out(clean, boxes)  # neighbours whited out, so a crop holds its one number only
    slots = _inked_slots(blank, boxes, tables, unit)
    if slots:
        for r, (text, conf) in zip(slots, _recognize(blank, [_quad(r) for r in slots])):
            text = text.strip()
            if conf < MIN_TEXT_CONFIDENCE or not _is_number(text):
                continue  # not a number read with confidence: left as the detector left it
            boxes.append(_Box(r[0], r[1], r[2], r[3], text, conf, _quad(r)))
    if unreadable:
        warnings.append(f"page {page}: {unreadable} piece(s) of text unreadable (OCR confidence below "
                        f"{MIN_TEXT_CONFIDENCE:g}), left out")
    heights = sorted(b.h for b in boxes if len(b.text) >= 2) or [float(unit)]
    line_h = heights[len(heights) // 2]

    # boxes back to the page image as given: undo the deskew, the turn, and the shrink
    inv = cv2.invertAffineTransform(m)
    uh, uw = up.shape

    def back(bs: list[_Box]) -> tuple[int, int, int, int]:
        pts = np.concatenate([b.quad for b in bs]).astype(np.float64)
        pts = np.hstack([pts, np.ones((len(pts), 1))]) @ inv.T
        x, y = pts[:, 0], pts[:, 1]
        if turn == 90:  # upright = original turned clockwise: original (x, y) = (y_u, uw - 1 - x_u)
            x, y = y, uw - 1 - x
        elif turn == 180:
            x, y = uw - 1 - x, uh - 1 - y
        elif turn == 270:
            x, y = uh - 1 - y, x
        x, y = x / shrink, y / shrink
        return (max(0, int(x.min())), max(0, int(y.min())), min(w0, int(math.ceil(x.max()))),
                min(h0, int(math.ceil(y.max()))))

    out = _Out(page, back)
    _layout(boxes, tables, out, line_h)
    if turn:
        warnings.append(f"page {page}: turned {turn} degrees clockwise to read it")
    return PageText(out.lines, out.spans, time.perf_counter() - t0, warnings, turn, angle)
