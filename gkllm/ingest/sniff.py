"""Decide a file's format from its bytes, falling back to its extension."""

from __future__ import annotations

import io
import re
import zipfile

_HTML = re.compile(rb"<(?:!doctype\s+html|html|head|body|table|meta|div|p)[\s>/]", re.IGNORECASE)


def sniff(data: bytes, name: str = "") -> str:
    """One of: pdf, docx, doc (OLE: .doc/.wps), zip, rtf, png, jpeg, tiff, html, text."""
    head = data[:8]
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "docx" if _is_docx(data, name) else "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "doc"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    # --- images (issue 14: read by OCR, gkllm.ingest.image)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    # --- end images
    probe = data[:65536].lstrip(b"\xef\xbb\xbf \t\r\n")
    if _HTML.search(probe) or name.lower().endswith((".html", ".htm", ".shtml")) and b"<" in probe:
        return "html"
    return "text"


def _is_docx(data: bytes, name: str) -> bool:
    """The zip index, not the first entry, says whether it is a Word document."""
    if b"word/" in data[:65536]:
        return True
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return any(n.startswith("word/") for n in z.namelist())
    except zipfile.BadZipFile:
        return name.lower().endswith(".docx")  # let the reader give its corrupt-file error
