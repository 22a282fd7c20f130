"""Small pieces every structured reader (HTML, DOCX, PDF) shares."""

from __future__ import annotations

import re
from typing import Iterable

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
