"""Is an LLM's number printed where it says? Per table cell, and per quoted sentence.

A table value counts only when a printed number cell of its own row holds it
(``regions``), each cell backing one value at most, so "0" printed once does
not ground a row of seven zeros; provenance is that cell's digits. A
narrative value counts only when the sentence the LLM quotes is in the report
(spaces and line breaks inside it are ignored: PDF text prints "有 1 件") and
prints the value before the count's unit; a quote taken from the prompt, or a
number that is only a date, grounds nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from ..grounding import cn_to_int, zero_phrase
from ..normalize import normalize
from ..parse.stream import Cell
from ..template import NarrativeCue

_EPS = 1e-6
_MIN_QUOTE = 4  # characters; shorter quotes ("3件") are found anywhere


def match_cells(values: Sequence[float | int | None], cells: Sequence[Cell]) -> list[Cell | None]:
    """For each value, a distinct number cell printing it (None where there is none).

    Cells are taken in printed order where the values allow (a row prints its
    columns left to right), else any unused cell with the value.
    """
    numbers = [c for c in cells if c.kind == "number" and c.value is not None]
    out: list[Cell | None] = [None] * len(values)
    used: set[int] = set()
    pos = 0
    for i, v in enumerate(values):  # in order first
        if v is None:
            continue
        j = next((j for j in range(pos, len(numbers)) if abs(numbers[j].value - v) < _EPS), None)  # type: ignore[operator]
        if j is not None:
            out[i], pos = numbers[j], j + 1
            used.add(j)
    for i, v in enumerate(values):  # then any unused cell
        if v is None or out[i] is not None:
            continue
        j = next((j for j in range(len(numbers)) if j not in used and abs(numbers[j].value - v) < _EPS), None)  # type: ignore[operator]
        if j is not None:
            out[i] = numbers[j]
            used.add(j)
    return out


@dataclass(frozen=True)
class Squeezed:
    """Text without whitespace, and each kept character's offset in the original."""

    s: str
    offsets: tuple[int, ...]

    @classmethod
    def of(cls, text: str, base: int = 0) -> "Squeezed":
        keep = [(i, ch) for i, ch in enumerate(text) if _kept(ch)]
        return cls("".join(ch for _, ch in keep), tuple(base + i for i, _ in keep))


def _kept(ch: str) -> bool:
    # letters, digits and the decimal point: models re-space, re-wrap and re-punctuate what they quote
    return ch.isalnum() or ch == "."


@dataclass(frozen=True)
class Quoted:
    """Where a narrative value is printed: the digits (or the "none" phrase) and the sentence."""

    start: int
    end: int
    sentence: str


def _clean_quote(quote: str) -> str:
    """The quote as the document was normalized (NFKC, brackets), squeezed like the document."""
    return Squeezed.of(normalize(quote)).s.strip(".")


def _count_spans(s: str, cue: NarrativeCue) -> list[tuple[int, int, float]]:
    """(start, end, value) of each count the squeezed sentence prints before one of the cue's units."""
    units = "|".join(map(re.escape, cue.units))
    out = []
    for m in re.finditer(r"(?<![\d.])(\d+(?:\.\d+)?)(?=(?:余|多)?(?:" + units + "))", s):
        try:
            out.append((m.start(1), m.end(1), float(m.group(1))))
        except ValueError:
            continue
    for m in re.finditer(r"([零〇一二两三四五六七八九十百千万]+)(?=(?:余|多)?(?:" + units + "))", s):
        n = cn_to_int(m.group(1))
        if n is not None:
            out.append((m.start(1), m.end(1), float(n)))
    return out


def ground_quote(doc_text: str, quote: str | None, value: float, cue: NarrativeCue,
                 within: Sequence[tuple[int, int]]) -> Quoted | None:
    """The printed place of ``value`` in the sentence ``quote``, searched in ``within`` (document spans)."""
    if not quote:
        return None
    q = _clean_quote(quote)
    if len(q) < _MIN_QUOTE or not cue.about(q):
        return None
    for lo, hi in within:
        region = Squeezed.of(doc_text[lo:hi], lo)
        at = region.s.find(q)
        while at != -1:
            found = _in_sentence(region, at, at + len(q), value, cue, doc_text)
            if found is not None:
                return found
            at = region.s.find(q, at + 1)
    return None


def _in_sentence(region: Squeezed, a: int, b: int, value: float, cue: NarrativeCue, doc_text: str) -> Quoted | None:
    s = region.s[a:b]
    start, end = region.offsets[a], region.offsets[b - 1] + 1
    sentence = doc_text[start:end]
    for x, y, v in _count_spans(s, cue):
        if abs(v - value) < _EPS:
            return Quoted(region.offsets[a + x], region.offsets[a + y - 1] + 1, sentence)
    if value == 0 and cue.zero and zero_phrase(s):
        return Quoted(start, end, sentence)
    return None


def counts_in(sentence: str, cue: NarrativeCue) -> list[float]:
    """The counts a sentence states for a cue (for deciding whether the prose is worth a question)."""
    return [v for _, _, v in _count_spans(Squeezed.of(sentence).s, cue)]


__all__ = ["match_cells", "ground_quote", "Quoted", "counts_in"]
