"""Decide a file's format from its bytes, falling back to its extension."""

from __future__ import annotations

import re

_HTML = re.compile(rb"<(?:!doctype\s+html|html|head|body|table|meta|div|p)[\s>/]", re.IGNORECASE)


def sniff(data: bytes, name: str = "") -> str:
    """One of: pdf, docx, ole (doc/wps), zip, rtf, html, text."""
    head = data[:8]
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "docx" if b"word/" in data[:65536] or name.lower().endswith(".docx") else "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    probe = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if _HTML.search(probe) or name.lower().endswith((".html", ".htm", ".shtml")) and b"<" in probe:
        return "html"
    return "text"
