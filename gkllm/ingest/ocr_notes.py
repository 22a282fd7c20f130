"""Provenance of values read by OCR: page, box and confidence in each value's notes; low confidence flagged.

``annotate(ex)`` runs at the end of the parser stage on a document read by
OCR (``Document.ocr``, see ``gkllm.ingest.ocr_run``). For every value whose
span lies on OCR'd text it adds one note::

    ocr: page 3, box 881,1093,903,1124 px (200 dpi render), confidence 0.87

(the box in pixels of the page as rendered or as stored in the image file,
x0,y0,x1,y1 from the top-left corner; several boxes are joined into one).
A value whose confidence is below ``LOW_CONFIDENCE`` (``GKLLM_OCR_MIN_CONFIDENCE``)
is not taken: the key is left unread (null: an unreadable cell is null,
never a guess), with a warning, and an ``ocr_low_confidence`` diagnostic
carries its page, box, confidence and the reading as the candidate; in
hybrid mode the key is then among those the LLM reads.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ..models import Diagnostic

if TYPE_CHECKING:
    from ..extraction import Extraction

# The recogniser's confidence below which a number is not taken. Measured on the scanned real reports
# (eval/cases/scan): every wrong reading of a number was below it (see README, "Scanned reports").
LOW_CONFIDENCE = 0.5


def low_confidence() -> float:
    raw = os.environ.get("GKLLM_OCR_MIN_CONFIDENCE", "").strip()
    if not raw:
        return LOW_CONFIDENCE
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        from ..errors import ConfigError

        raise ConfigError(f"GKLLM_OCR_MIN_CONFIDENCE must be a number from 0 to 1, not {raw!r}")
    return value


def annotate(ex: "Extraction") -> None:
    record: dict[str, Any] | None = ex.doc.ocr
    if not record or not record.get("spans"):
        return
    floor = low_confidence()
    by_line: dict[int, list[list[Any]]] = {}
    for s in record["spans"]:
        by_line.setdefault(int(s[0]), []).append(s)
    starts = ex.doc.line_starts
    dpi = record.get("dpi")
    low: list[str] = []
    for key, v in ex.values.items():
        if v.line is None or v.start is None or v.end is None or v.line - 1 >= len(starts):
            continue
        line0 = v.line - 1
        a, b = v.start - starts[line0], v.end - starts[line0]
        hits = [s for s in by_line.get(line0, ()) if s[1] < b and a < s[2]]
        if not hits:
            continue
        page = hits[0][3]
        x0, y0 = min(s[4] for s in hits), min(s[5] for s in hits)
        x1, y1 = max(s[6] for s in hits), max(s[7] for s in hits)
        conf = min(float(s[8]) for s in hits)
        where = "rendered at %s dpi" % dpi if dpi and "pdf" in (ex.doc.format or "") else "as stored"
        v.notes.append(f"ocr: page {page}, box {x0},{y0},{x1},{y1} px ({where}), confidence {conf:.2f}")
        if v.value is not None and conf < floor:
            low.append(key)
            ex.diagnostics.append(Diagnostic(
                kind="ocr_low_confidence", keys=[key],
                message=f"{key}: OCR read {v.text!r} on page {page} (box {x0},{y0},{x1},{y1}) with confidence "
                        f"{conf:.2f}, below {floor:g}; not taken (null), for a second reader",
                candidates=[v.value]))
    for key in low:  # not read: null, and in hybrid mode among the keys the LLM reads
        del ex.values[key]
    if low:
        ex.warnings.append(f"{len(low)} value(s) read by OCR with low confidence left null: "
                           f"{', '.join(low[:6])}{' …' if len(low) > 6 else ''}")
