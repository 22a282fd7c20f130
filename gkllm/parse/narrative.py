"""Counts stated in prose (mostly part 1), read by conservative patterns.

Only unambiguous phrasings are read here; the LLM path handles the rest. Every
hit keeps the span of the number (or of the "none" phrase for zeros).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from ..document import Document
from ..template import key_kind
from ..text import fold_text
from ..values import Value

_NUM = r"(?P<num>\d[\d,]*(?:\.\d+)?)"


@dataclass(frozen=True)
class Pattern:
    key: str
    regex: re.Pattern[str]
    zero: bool = False  # the phrase itself means 0


def _p(key: str, pattern: str, zero: bool = False) -> Pattern:
    return Pattern(key, re.compile(pattern), zero)


PATTERNS: tuple[Pattern, ...] = (
    _p("narrative.active_items", r"主动公开[^。;\n]{0,120}?" + _NUM + r"\s*(?P<approx>余|多)?\s*条"),
    _p("narrative.requests_received",
       r"(?:收到|受理|接到)[^。;\n]{0,25}?申请[^。;\n\d]{0,6}?(?:共计?|合计)?\s*" + _NUM + r"\s*(?:件|个|条)"),
    _p("narrative.requests_received", r"共(?:收到|受理|接到)[^。;\n\d]{0,20}?" + _NUM + r"\s*件[^。;\n]{0,6}申请"),
    _p(
        "narrative.requests_received",
        r"(?:未|没有|无)(?:收到|接到|受理)[^。;\n\d]{0,30}?(?:申请|办件)",
        zero=True,
    ),
    _p("narrative.trainings", r"培训[^。;\n\d]{0,10}?" + _NUM + r"\s*(?:次|场|期)"),
    _p("narrative.trainings", r"(?:开展|组织|参加)[^。;\n\d]{0,20}?" + _NUM + r"\s*(?:次|场|期)[^。;\n]{0,6}培训"),
    _p("narrative.fee_yuan", r"(?:收取|收缴)[^。;\n\d]{0,20}?(?:处理费|费用)[^。;\n\d]{0,6}?" + _NUM + r"\s*元"),
    _p(
        "narrative.fee_yuan",
        r"(?:未|无|没有|不存在)[^。;\n\d]{0,4}(?:收取|产生|收缴)[^。;\n\d]{0,20}?(?:处理费|费用)",
        zero=True,
    ),
)


# A line break inside a sentence (PDF/OCR wrapping, a page break in the middle
# of a paragraph) is not an end of sentence: join across it when the line
# before does not end a sentence and the next line does not open a heading.
_BREAK = re.compile(r"(?<![。；;：:！？!?\n])\n(?:[ \t]*\n)*"
                    r"(?![ \t]*(?:#|[(（][一二三四五六七八九十]|[一二三四五六七八九十]+、|\d+[.、]|\*\*[(（]))")


class _OffsetMap:
    """Joined-text index → original offset, as pieces: (joined start, original start) per piece."""

    __slots__ = ("_joined", "_orig")

    def __init__(self, joined: list[int], orig: list[int]) -> None:
        self._joined = joined
        self._orig = orig

    def __call__(self, i: int) -> int:
        if not self._joined:
            return i
        k = bisect_right(self._joined, i) - 1
        return self._orig[k] + (i - self._joined[k])


def _joined(text: str) -> tuple[str, _OffsetMap]:
    """Text with in-sentence line breaks removed, and the offset map back."""
    if "\n" not in text:
        return text, _OffsetMap([], [])
    pieces: list[str] = []
    starts: list[int] = []
    origs: list[int] = []
    pos = n = 0
    for m in _BREAK.finditer(text):
        pieces.append(text[pos : m.start()])
        starts.append(n)
        origs.append(pos)
        n += m.start() - pos
        pos = m.end()
    if pos == 0:
        return text, _OffsetMap([], [])
    pieces.append(text[pos:])
    starts.append(n)
    origs.append(pos)
    return "".join(pieces), _OffsetMap(starts, origs)


def read_narrative(doc: Document, start: int, end: int, *, keys: tuple[str, ...] | None = None,
                   folded: str | None = None) -> dict[str, Value]:
    """First hit per key within the text ``[start, end)``; ``folded``: the document's folded text,
    when the caller has it (same offsets), for the second look at OCR misreads and traditional forms."""
    lo, hi = start, end
    raw = doc.text[lo:hi]
    found = _scan(doc, lo, raw, keys)
    missing = tuple(k for k in (keys if keys is not None else {p.key for p in PATTERNS}) if k not in found)
    if missing:
        again = folded[lo:hi] if folded is not None else fold_text(raw)  # OCR misreads ("处埋费"), traditional
        if again != raw:
            found.update(_scan(doc, lo, again, missing))
    return found


def _scan(doc: Document, lo: int, raw: str, keys: tuple[str, ...] | set[str] | None) -> dict[str, Value]:
    text, orig = _joined(raw)

    found: dict[str, tuple[int, Value]] = {}
    for pat in PATTERNS:
        if keys is not None and pat.key not in keys:
            continue
        for m in pat.regex.finditer(text):
            value: int | float
            if pat.zero:
                start, end, value, approx = m.start(), m.end(), 0, False
            else:
                raw = m.group("num").replace(",", "")
                value = float(raw) if "." in raw else int(raw)
                if key_kind(pat.key) != "amount" and isinstance(value, float):
                    continue
                start, end = m.start("num"), m.end("num")
                approx = bool(m.groupdict().get("approx"))
            if pat.key in found and found[pat.key][0] <= m.start():
                break
            a, b = orig(start), orig(end - 1) + 1
            v = Value(value, lo + a, lo + b, doc.line_of(lo + a),
                      text=doc.text[lo + orig(m.start()) : lo + orig(m.end() - 1) + 1], approx=approx)
            if approx:
                v.notes.append("approximate: the report says more than this")
            found[pat.key] = (m.start(), v)
            break
    return {k: v for k, (_, v) in found.items()}
