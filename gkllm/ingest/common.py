"""What every reader shares: the reader contract, and small text helpers.

A reader is a function ``read(data: bytes, name: str) -> RawText`` in
``gkllm.ingest.<format>`` (the ``Reader`` protocol); ``ingest.READERS``
maps each sniffed format to its reader, imported only when a file needs it.
"""

from __future__ import annotations

import re
from typing import Iterable, NamedTuple, Protocol


class RawText(NamedTuple):
    """What a reader returns: the text (tables as one row per line, cells between tabs), the
    encoding it was decoded with, and warnings for the user."""

    text: str
    encoding: str | None
    warnings: list[str]


class OcrText(RawText):
    """A ``RawText`` read by OCR, with ``ocr``: where each piece of ``text`` was read (page, box,
    confidence; see ``gkllm.ingest.ocr_run``). It unpacks as the three fields of a ``RawText``."""

    ocr: dict | None

    def __new__(cls, text: str, encoding: str | None, warnings: list[str], ocr: dict | None = None) -> "OcrText":
        self = super().__new__(cls, text, encoding, warnings)
        self.ocr = ocr
        return self


class Reader(Protocol):
    def __call__(self, data: bytes, name: str) -> RawText: ...

CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")


def one_line(err: BaseException) -> str:
    """A library's error message folded onto one short line."""
    return " ".join(str(err).split())[:200] or type(err).__name__


def glue_cell(pieces: Iterable[str]) -> str:
    """Join a cell's paragraphs or lines: nothing next to CJK text, a space between Latin words.

    Whitespace inside a piece (tabs, newlines) folds to one space, because a
    tab or newline in a cell's text would split it into two cells downstream.
    """
    out = ""
    for p in pieces:
        p = " ".join(p.split())
        if not p:
            continue
        if out and not (CJK.match(out[-1]) or CJK.match(p[0])):
            out += " "
        out += p
    return out
