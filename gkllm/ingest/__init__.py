"""Readers: one per format, each returning the same ``Document``."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO, Union

from ..document import Document
from ..errors import GkllmError, InputError, UnsupportedFormatError
from ..normalize import normalize
from .common import RawText, Reader
from .sniff import sniff
from .text import decode

Source = Union[str, Path, bytes]


def read_bytes(data: bytes, name: str = "<bytes>") -> Document:
    """Sniff the format of ``data`` and turn it into a normalized Document."""
    if not data.strip():
        raise InputError("empty file", source=name)
    fmt = sniff(data, name)
    warnings: list[str] = []
    encoding: str | None = None
    ocr = None
    try:
        if fmt == "text":
            raw, encoding, warnings = decode(data)
        else:
            got = _read_rich(fmt, data, name)
            raw, encoding, warnings = got
            ocr = getattr(got, "ocr", None)  # OCR readers: where each piece was read
    except GkllmError as err:
        err.source = err.source or name
        raise
    text = normalize(raw)
    if not text.strip():
        raise InputError("no text in file", source=name)
    return Document(text=text, source=name, format=fmt, encoding=encoding, warnings=warnings, ocr=ocr)


def read_path(path: str | Path) -> Document:
    return read_bytes(read_file(path), str(path))


def read_file(path: str | Path) -> bytes:
    """The bytes of a regular file; anything else is refused with a one-line InputError."""
    with open_regular(path) as fh:
        try:
            return fh.read()
        except OSError as err:
            raise InputError(f"cannot read: {err.strerror}", source=str(path)) from None


_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"))


def open_regular(path: str | Path) -> BinaryIO:
    """Open ``path`` for reading only if it is a regular file (after symlinks).

    The file is opened non-blocking and checked on the open descriptor, not by
    name first: opening a FIFO blocks until a writer comes, and a name checked
    before opening can be swapped for a pipe in between.
    """
    name = str(path)
    try:
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        if os.path.islink(name):
            raise InputError("dangling symbolic link (its target does not exist)", source=name) from None
        raise InputError("no such file", source=name) from None
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise InputError("symbolic link loop", source=name) from None
        if err.errno == errno.EISDIR:
            raise InputError("is a directory (give files, or use a batch run)", source=name) from None
        raise InputError(f"cannot open: {err.strerror}", source=name) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise InputError("is a directory (give files, or use a batch run)", source=name)
        if not stat.S_ISREG(mode):
            kind = next((k for test, k in _KINDS if test(mode)), "a special file")
            raise InputError(f"is {kind}, not a regular file; refused", source=name)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_text(text: str, name: str = "<text>") -> Document:
    if not text.strip():
        raise InputError("empty text", source=name)
    return Document(text=normalize(text), source=name, format="text", encoding=None)


# The reader of each sniffed format ("module:function"), imported only when a file needs it.
READERS: dict[str, str] = {
    "html": "gkllm.ingest.html:read",
    "docx": "gkllm.ingest.docx:read",
    "doc": "gkllm.ingest.doc:read",
    "rtf": "gkllm.ingest.doc:read",  # RTF goes through the same LibreOffice conversion as DOC
    "pdf": "gkllm.ingest.pdf:read",
    # images, read by OCR (the gkllm[ocr] extra)
    "png": "gkllm.ingest.image:read",
    "jpeg": "gkllm.ingest.image:read",
    "tiff": "gkllm.ingest.image:read",
}


def reader(fmt: str) -> Reader:
    import importlib

    module, func = READERS[fmt].split(":")
    found: Reader = getattr(importlib.import_module(module), func)
    return found


def _read_rich(fmt: str, data: bytes, name: str) -> RawText:
    """Formats with structure, through their reader."""
    if fmt not in READERS:
        raise UnsupportedFormatError(f"{fmt} files are not supported: give text, HTML, DOCX, DOC/WPS/RTF, PDF or "
                                     "an image (PNG, JPEG, TIFF)", source=name)
    return reader(fmt)(data, name)
