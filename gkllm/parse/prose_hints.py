"""The prose settles a glued number the rules cannot.

Part 2 has no arithmetic rule, so "行政规范性文件8855698" (three cells glued)
splits many ways. Reports often state the same numbers in words: "制定规范性
文件88件", "废止…55件", "现行有效的规范性文件698件". A clause that names a
key's topic and verb and one count (``template.PROSE_HINTS``) is a statement;
a split that every statement agrees with, and that is the only one, is
taken. Its values still point at the table's digits; a note names the
sentence that decided.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..template import PROSE_HINTS
from ..text import fold_text
from ..values import Value
from .digit_runs import AmbiguousRun, spans

if TYPE_CHECKING:
    from ..extraction import Extraction

_CLAUSE = re.compile(r"[^。；;，,！？!?\n]+")
_COUNT = re.compile(r"(?<![\d.])(\d{1,7})\s*(?:件|个|部|份)")


def statements(text: str) -> dict[str, list[tuple[int, int, int]]]:
    """key → (value, start, end of the clause) for each clause stating it."""
    out: dict[str, list[tuple[int, int, int]]] = {}
    folded = fold_text(text)
    for m in _CLAUSE.finditer(folded):
        clause = m.group()
        counts = _COUNT.findall(clause)
        if len(counts) != 1:
            continue
        keys = [k for k, (topics, verbs) in PROSE_HINTS.items()
                if any(t in clause for t in topics) and any(v in clause for v in verbs)]
        if len(keys) != 1:
            continue
        out.setdefault(keys[0], []).append((int(counts[0]), m.start(), m.end()))
    return out


def settle_by_prose(ex: "Extraction", ambiguous: list[AmbiguousRun]) -> list[AmbiguousRun]:
    """Settle what the prose can; returns the runs still ambiguous."""
    runs = [a for a in ambiguous if any(k in PROSE_HINTS for k in a.diagnostic.keys)]
    if not runs:
        return list(ambiguous)
    settled: list[AmbiguousRun] = []
    said = statements(ex.doc.text)
    for amb in runs:
        keys = amb.task.keys
        stated_all = {k: {v for v, _, _ in said[k]} for k in keys if k in said}
        stated = {k: next(iter(vs)) for k, vs in stated_all.items() if len(vs) == 1}  # stated two ways: decides nothing
        if not stated:
            continue
        fits = [c for c in amb.candidates if all(c[keys.index(k)] == v for k, v in stated.items())]
        if len(fits) != 1 or len(fits) == len(amb.candidates):
            continue
        cand = fits[0]
        where = {k: said[k][0] for k in stated}
        for k, (a, b), v in zip(keys, spans(amb.task, cand), cand):
            if k not in amb.diagnostic.keys:
                continue
            decided = [f"{ex.doc.text[s:e].strip()!r} (offsets {s}-{e})" for _, s, e in where.values()]
            ex.values[k] = Value(v, a, b, ex.doc.line_of(a), text=ex.doc.text[a:b],
                                 notes=["split from a run of digits; the prose decided among the splits the rules "
                                        "allow: " + "; ".join(decided)])
        ex.diagnostics.remove(amb.diagnostic)
        settled.append(amb)
    return [a for a in ambiguous if a not in settled]
