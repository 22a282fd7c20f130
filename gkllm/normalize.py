"""Text normalization: one place that decides what the parser sees.

Every later offset refers to the normalized text, so normalization must be
deterministic and must not reorder content.
"""

from __future__ import annotations

import re
import unicodedata

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad"), None)
# NFKC leaves these CJK brackets alone; the parser only wants one kind.
_BRACKETS = str.maketrans({"〔": "[", "〕": "]", "【": "[", "】": "]", "〖": "[", "〗": "]", "﹝": "(", "﹞": ")"})
_ZW_RE = re.compile("[\u200b-\u200f\u2060\ufeff\u00ad]")
_BRACKETS_RE = re.compile("[〔〕【】〖〗﹝﹞]")
_WORD_ARTIFACTS = re.compile(r"\[bookmark:[^\]]*\]|<o:p>\s*</o:p>|<o:p/>")
_ENTITIES = re.compile(r"&(?:nbsp|ensp|emsp|#160|#xa0);", re.IGNORECASE)
_TRAILING = re.compile(r"[ \u00a0]+$", re.MULTILINE)


def normalize(text: str) -> str:
    """NFKC, unified brackets and newlines, Word/HTML debris removed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _WORD_ARTIFACTS.sub("", text)
    text = _ENTITIES.sub(" ", text)
    if _ZW_RE.search(text):  # translate walks every character; skip it when there is nothing to do
        text = text.translate(_ZERO_WIDTH)
    text = unicodedata.normalize("NFKC", text)
    if _BRACKETS_RE.search(text):
        text = text.translate(_BRACKETS)
    text = text.replace("\u00a0", " ")
    return _TRAILING.sub("", text)
