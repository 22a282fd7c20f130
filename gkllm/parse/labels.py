"""Row labels found in the stream, whatever is glued to them.

A row is found by an anchor of its label (a substring no other label of the
table has), searched in the squeezed stream, then widened to the whole
printed label and its ordinal: in "…00000002.其他法律行政法规禁止公开0000000"
the label starts at "2." (the template prints that ordinal), so the row
before ends at "0000000". Generic labels ("其他", "总计") count only as a
whole printed cell away from the column header. Of all the hits, the chain
that follows the template's row order with the most evidence is kept: a
header word or a phrase in prose that happens to hold a label does not make
a row.

Labels that no anchor finds (a character dropped by a PDF or misread by OCR,
the first half of a label wrapped around its numbers) are matched later,
fuzzily, only against the rows missing between two found labels
(``fuzzy_row``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Literal, NamedTuple, Sequence

from ..text import compact, fold
from .stream import Squeezed

HitKind = Literal["anchor", "exact", "group", "fuzzy", "displaced"]


@dataclass(frozen=True)
class RowSpec:
    """One row of a table as the reader needs it (built from ``template`` data)."""

    name: str  # the row key (part 3) or label (part 2), for messages
    keys: tuple[str, ...]
    label: str  # the printed label, compact (folded, no whitespace, no ordinal)
    anchors: tuple[str, ...] = ()
    exact: tuple[str, ...] = ()
    ordinal: str | None = None  # "2" of "2.重复申请"
    group: tuple[str, ...] = ()  # a heading that stands for this row when its sub-rows are absent

    @property
    def size(self) -> int:
        return len(self.keys)

    def matches(self, text: str) -> bool:
        """Is ``text`` (any printed form) this row's label?"""
        c = compact(text)
        return any(a in c for a in self.anchors) or c in self.exact or c in self.group or (bool(c) and c == self.label)


def make_spec(name: str, keys: Sequence[str], label: str, anchors: Sequence[str] = (), exact: Sequence[str] = (),
              ordinal: str | None = None, group: Sequence[str] = ()) -> RowSpec:
    return RowSpec(name, tuple(keys), compact(label), tuple(fold(a) for a in anchors), tuple(fold(e) for e in exact),
                   ordinal, tuple(fold(g) for g in group))


class LabelHit(NamedTuple):
    row: int  # index into the table's specs
    start: int  # document offsets of the printed label, ordinal included
    end: int
    kind: HitKind
    weight: int
    line: int = 0


_CN_ORDINAL_BEFORE = re.compile(r"(?:[(（][一二三四五六七八九十]{1,3}[)）]|[一二三四五六七八九十]{1,3}[、.．])$")
_BOUNDARY_BEFORE = set(" \t\n\r|)）.．、:：") | set("0123456789")
_BOUNDARY_AFTER = set(" \t\n\r|(（") | set("0123456789")


def find_labels(view: Squeezed, folded: str, lo: int, hi: int, specs: Sequence[RowSpec],
                header_words: Sequence[str] = (), skip: Sequence[str] = ()) -> list[LabelHit]:
    """The chain of row labels printed in ``[lo, hi)``, in the template's order."""
    # the region's part of the view: whitespace and numbers are not in it, so a label is found
    # whatever the line structure and whatever numbers a PDF printed inside it
    s = view.s[: view.index(hi)]
    lo_i = view.index(lo)
    hits: list[tuple[int, int, int, HitKind, int]] = []  # (sq_start, sq_end, row, kind, weight)
    for r, spec in enumerate(specs):
        found = len(hits)
        for anchor in spec.anchors:
            i = s.find(anchor, lo_i)
            while i != -1:
                a, b, ordinal = _widen(s, i, i + len(anchor), spec, anchor, skip, lo_i)
                hits.append((a, b, r, "anchor", 3 if ordinal or not spec.ordinal else 2))
                i = s.find(anchor, i + 1)
        if len(hits) == found and skip:
            # a heading printed across the label's lines ("属于国家 / )不 / 秘密"): its pieces may
            # sit between the anchor's characters
            for anchor in spec.anchors:
                for m in _interleaved(anchor, _gap_chars(tuple(skip))).finditer(s, lo_i):
                    a, b, ordinal = _widen(s, m.start(), m.end(), spec, anchor, skip, lo_i)
                    hits.append((a, b, r, "anchor", 3 if ordinal or not spec.ordinal else 2))
        if spec.ordinal and len(spec.label) >= 6:
            # the first line of a label wrapped away from the rest ("3.要求提供" … "公开出版物"):
            # its ordinal and first four characters are as distinctive as an anchor
            head = f"{spec.ordinal}.{spec.label[:4]}"
            i = s.find(head, lo_i)
            while i != -1:
                if not any(h[2] == r and h[0] <= i < h[1] for h in hits[found:]):
                    hits.append((i, i + len(head), r, "anchor", 2))
                i = s.find(head, i + 1)
        for kind, words in (("exact", spec.exact), ("group", spec.group)):
            for word in words:
                i = s.find(word, lo_i)
                while i != -1:
                    j = i + len(word)
                    if _bounded(view, folded, i, j, lo, hi) and \
                            not _in_header(folded, view.orig(i), view.end(j), lo, hi, header_words):
                        a, b, ordinal = _widen(s, i, j, spec, word, skip, lo_i)
                        weight = 1 if kind == "group" else (3 if ordinal else 1)
                        hits.append((a, b, r, kind, weight))  # type: ignore[arg-type]
                    i = s.find(word, i + 1)
    if not hits:
        return []
    # a label with numbers in or right after it is where its row is printed: among chains of equal
    # evidence, the one through such labels wins over labels a PDF printed apart from their rows
    hits = [(a, b, r, kind, 2 * w + _numbers_near(view, folded, a, b, hi)) for a, b, r, kind, w in hits]
    hits = _dedupe(hits)
    chain = _best_chain(hits)
    out = [LabelHit(r, view.orig(a), view.end(b), kind, w) for a, b, r, kind, w in chain]
    # labels printed away from their rows (a PDF's label column flowed elsewhere): not rows here,
    # but still label text, so numbers on either side of them are not one block
    taken = [(a, b) for a, b, *_ in chain]
    for a, b, r, kind, _w in hits:
        if kind == "anchor" and not any(a < tb and ta < b for ta, tb in taken):
            out.append(LabelHit(r, view.orig(a), view.end(b), "displaced", 0))
            taken.append((a, b))
    return sorted(out, key=lambda h: h.start)


@lru_cache(maxsize=None)
def _gap_chars(skip: tuple[str, ...]) -> str:
    return "".join(sorted(set("".join(skip)) | set("()（）、.一二三四五六七八九十")))


@lru_cache(maxsize=512)
def _interleaved(anchor: str, gap: str) -> re.Pattern[str]:
    between = "[" + re.escape(gap) + "]{0,4}"
    return re.compile(between.join(re.escape(ch) for ch in anchor))


def _widen(s: str, i: int, j: int, spec: RowSpec, anchor: str, skip: Sequence[str] = (), floor: int = 0
           ) -> tuple[int, int, bool]:
    """Grow an anchor hit to the printed label around it, and its ordinal before it.

    PDF text interleaves a group heading with the lines of a wrapped label
    ("2.没 / （四） 有现成信 / 无法提供 息需要另 / 行制作"): going left, words of
    ``skip`` (the table's headings) and Chinese ordinals are stepped over, so the
    label starts at its own ordinal.
    """
    label = spec.label
    p = label.find(anchor)
    if p == -1:
        p = 0
    q = p
    start = i
    while i > floor:
        if q > 0 and s[i - 1] == label[q - 1]:
            i -= 1
            q -= 1
            start = i
            continue
        k = _skip_back(s, i, skip)
        if k is None:
            break
        i = k
    i = start
    q = p + len(anchor)
    while q < len(label) and j < len(s) and s[j] == label[q]:
        j += 1
        q += 1
    for at in (i, _skip_back(s, i, skip)):
        if at is None:
            continue
        if spec.ordinal and at >= 2 and s[at - 1] in ".．、" and s[at - 2] == spec.ordinal:
            return at - 2, j, True
        m = _CN_ORDINAL_BEFORE.search(s, max(0, at - 5), at)
        if m and not spec.ordinal:
            return m.start(), j, True
    return i, j, False


def _skip_back(s: str, i: int, skip: Sequence[str]) -> int | None:
    """Where a heading word or a Chinese ordinal ending at ``i`` starts; None if none does."""
    if i == 0:
        return None
    last = s[i - 1]
    if last in ")）、.．":
        m = _CN_ORDINAL_BEFORE.search(s, max(0, i - 5), i)
        if m:
            return m.start()
    if not skip or last not in _skip_chars(tuple(skip)):
        return None
    pattern, longest = _skip_pattern(tuple(skip))
    m = pattern.search(s, max(0, i - longest), i)
    return m.start() if m else None


@lru_cache(maxsize=None)
def _skip_chars(skip: tuple[str, ...]) -> frozenset[str]:
    return frozenset(_gap_chars(skip))


@lru_cache(maxsize=None)
def _skip_pattern(skip: tuple[str, ...]) -> tuple[re.Pattern[str], int]:
    """One regex for "a heading word ends here", longest words first."""
    return re.compile("(?:" + "|".join(re.escape(w) for w in skip) + ")$"), max(len(w) for w in skip)


_DIGIT_NEXT = re.compile(r"\s*\d")
_NUMBER_INSIDE = re.compile(r"\d(?![.．、\d])")


def _numbers_near(view: Squeezed, folded: str, i: int, j: int, hi: int) -> int:
    """1 when a number (not the label's ordinal) is printed inside the label or right after it."""
    a, b = view.orig(i), view.end(j)
    return int(_NUMBER_INSIDE.search(folded, a, b) is not None or _DIGIT_NEXT.match(folded, b, hi) is not None)


def _bounded(view: Squeezed, folded: str, i: int, j: int, lo: int, hi: int) -> bool:
    """A generic word is a label only as a whole printed cell."""
    a, b = view.orig(i), view.end(j)
    before = folded[a - 1] if a > lo else " "
    after = folded[b] if b < hi else " "
    return before in _BOUNDARY_BEFORE and after in _BOUNDARY_AFTER


_GAP = re.compile(r"[\s|]+")


def _in_header(folded: str, a: int, b: int, lo: int, hi: int, header_words: Sequence[str]) -> bool:
    """"法律服务机构 其他" / "其他组织 总计": a word of the column header, not a row
    (a row "其他" has its numbers between it and the next label "总计")."""
    before = _GAP.sub("", folded[max(lo, a - 16) : a])
    after = _GAP.sub("", folded[b : min(hi, b + 16)])
    return any(before.endswith(w) or after.startswith(w) for w in header_words)


def _dedupe(hits: list[tuple[int, int, int, HitKind, int]]) -> list[tuple[int, int, int, HitKind, int]]:
    """One hit per printed label: overlapping hits of one row collapse to the widest."""
    hits.sort(key=lambda h: (h[0], -(h[1] - h[0])))
    out: list[tuple[int, int, int, HitKind, int]] = []
    for h in hits:
        if out and out[-1][2] == h[2] and h[0] < out[-1][1]:
            prev = out[-1]
            if h[4] > prev[4]:
                out[-1] = (min(prev[0], h[0]), max(prev[1], h[1]), h[2], h[3], h[4])
            continue
        clash = next((k for k in range(len(out) - 1, -1, -1) if out[k][1] > h[0] and out[k][2] == h[2]), None)
        if clash is not None:
            continue
        out.append(h)
    return out


def _best_chain(hits: list[tuple[int, int, int, HitKind, int]]) -> list[tuple[int, int, int, HitKind, int]]:
    """The heaviest sequence of non-overlapping hits whose rows strictly increase."""
    n = len(hits)
    best = [0] * n
    prev = [-1] * n
    for k in range(n):
        a, _, r, _, w = hits[k]
        best[k] = w
        for m in range(k):
            if hits[m][2] < r and hits[m][1] <= a and best[m] + w >= best[k]:
                # ties go to the later predecessor: a label in the table beats an earlier mention
                best[k] = best[m] + w
                prev[k] = m
    k = max(range(n), key=lambda x: (best[x], x))
    chain = []
    while k != -1:
        chain.append(hits[k])
        k = prev[k]
    return chain[::-1]


def fuzzy_row(text: str, candidates: Sequence[int], specs: Sequence[RowSpec]) -> int | None:
    """The one missing row whose label ``text`` is, allowing dropped or misread characters.

    A label printed with a character missing ("其他法律行政止公开"), or the
    first half of a wrapped label ("属于四类过程"), matches; a piece that fits
    two rows about as well matches neither.
    """
    c = compact(text)
    if len(c) < 3:
        return None
    scored = []
    for r in candidates:
        label = specs[r].label
        if not label:
            continue
        if len(c) >= 4 and label.startswith(c):
            score = 0.95
        else:
            score = SequenceMatcher(None, c, label, autojunk=False).ratio()
        scored.append((score, r))
    if not scored:
        return None
    scored.sort(reverse=True)
    top, row = scored[0]
    runner = scored[1][0] if len(scored) > 1 else 0.0
    return row if top >= 0.75 and top - runner >= 0.15 else None
