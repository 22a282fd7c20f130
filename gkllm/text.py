"""Label folding: how printed labels are compared with the template's.

Both sides of every label comparison go through ``fold``: traditional
characters become simplified (character by character, from zhconv's
maintained table), glyphs that OCR confuses collapse onto one representative
and label synonyms onto the template's word, so an anchor also matches a label
read as "予以公幵". Folding keeps the text's length, so offsets found in folded
text hold in the original. The confusions and synonyms themselves are
template data (``template.OCR_CONFUSIONS``, ``template.LABEL_SYNONYMS``).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from .template import LABEL_SYNONYMS, OCR_CONFUSIONS

# A leading ordinal of a label: "一、", "（三）", "2." (not "2.5").
ORDINAL = re.compile(r"^(?:[一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十\d]+[)）]|\d+[.．、](?!\d))")
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _fold_table() -> dict[int, str]:
    from zhconv import zhconv as _zh  # a pinned dependency: an import failure is a broken install, not a feature

    _zh.loaddict()
    table: dict[int, str] = {}
    for trad, simp in _zh.zhcdicts["zh2Hans"].items():
        if len(trad) == 1 and len(simp) == 1 and trad != simp:
            table[ord(trad)] = simp
    for wrong, right in OCR_CONFUSIONS.items():
        table[ord(wrong)] = right
    return table


@lru_cache(maxsize=1)
def _fold_chars() -> frozenset[str]:
    return frozenset(chr(c) for c in _fold_table())


def fold_text(text: str) -> str:
    """``fold`` for long text: same length, so offsets still hold."""
    # most text has nothing or one or two characters to fold: a C-speed set test decides, and
    # str.replace per character present beats translating every character
    t = text
    if not _fold_chars().isdisjoint(text):
        table = _fold_table()
        for ch in _fold_chars().intersection(text):
            t = t.replace(ch, table[ord(ch)])
    for variant, canonical in LABEL_SYNONYMS.items():
        if variant in t:
            t = t.replace(variant, canonical)
    return t


@lru_cache(maxsize=16384)
def fold(text: str) -> str:
    """Traditional → simplified, OCR confusions and label synonyms collapsed."""
    return fold_text(text)


@lru_cache(maxsize=8192)
def compact(text: str) -> str:
    """Whitespace-free, NFKC, folded text with leading ordinals stripped (repeatedly)."""
    t = fold(_SPACE.sub("", unicodedata.normalize("NFKC", text)))
    t = t.strip("|#*")
    while True:
        m = ORDINAL.match(t)
        if not m:
            return t
        t = t[m.end() :]
