"""Readers: one per format, each returning the same ``Document``."""

from __future__ import annotations

from pathlib import Path
from typing import Union

from ..document import Document
from ..errors import GkllmError, InputError, UnsupportedFormatError
from ..normalize import normalize
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
    try:
        if fmt == "text":
            raw, encoding = decode(data)
        else:
            raw, encoding, warnings = _read_rich(fmt, data, name)
    except GkllmError as err:
        err.source = err.source or name
        raise
    text = normalize(raw)
    if not text.strip():
        raise InputError("no text in file", source=name)
    return Document(text=text, source=name, format=fmt, encoding=encoding, warnings=warnings)


def read_path(path: str | Path) -> Document:
    p = Path(path)
    if not p.exists():
        raise InputError("no such file", source=str(p))
    if p.is_dir():
        raise InputError("is a directory (give files, or use a batch run)", source=str(p))
    try:
        data = p.read_bytes()
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", source=str(p)) from None
    return read_bytes(data, str(p))


def read_text(text: str, name: str = "<text>") -> Document:
    if not text.strip():
        raise InputError("empty text", source=name)
    return Document(text=normalize(text), source=name, format="text", encoding=None)


def _read_rich(fmt: str, data: bytes, name: str) -> tuple[str, str | None, list[str]]:
    """Formats with structure; each reader module is imported only when needed."""
    if fmt == "zip":
        raise UnsupportedFormatError("a zip archive that is not a Word document; unpack it first", source=name)
    try:
        import importlib

        # RTF goes through the same LibreOffice conversion as DOC
        module = importlib.import_module(f".{'doc' if fmt == 'rtf' else fmt}", __name__)
    except ModuleNotFoundError:
        raise UnsupportedFormatError(f"{fmt} files are not supported yet", source=name) from None
    return module.read(data, name)
