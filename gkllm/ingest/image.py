"""Image files (PNG, JPEG, TIFF with one or more pages): read by OCR (the ``gkllm[ocr]`` extra).

A scanner's multi-page TIFF is read page by page; a PNG of one table (part 3
pasted into a web page as a picture) reads as that table. The work is done in
a capped child process by ``gkllm.ingest.ocr_run``.
"""

from __future__ import annotations

from .common import RawText
from .sniff import sniff


def read(data: bytes, name: str) -> RawText:
    from .ocr_run import read_image

    return read_image(data, name, sniff(data, name))
