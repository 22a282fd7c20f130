"""Is a number actually printed in the source? (digits or Chinese numerals)

The LLM path accepts no number the source does not contain, and the eval
harness counts values whose provenance does not hold them.
"""

from __future__ import annotations

import re
from functools import lru_cache

_INNER_SPACE = re.compile(r"(?<=\d)\s+(?=\d)")
_DIGITS = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?")
_CN_RUN = re.compile(r"[零〇一二两三四五六七八九十百千万亿]+")
_CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNIT = {"十": 10, "百": 100, "千": 1000}
_CN_BIG = {"万": 10_000, "亿": 100_000_000}


def cn_to_int(text: str) -> int | None:
    """一千二百零五 → 1205, 十二 → 12, 三〇五 → 305; None if not a numeral."""
    if not text or any(ch not in _CN_DIGIT and ch not in _CN_UNIT and ch not in _CN_BIG for ch in text):
        return None
    if not any(ch in _CN_UNIT or ch in _CN_BIG for ch in text):
        return int("".join(str(_CN_DIGIT[ch]) for ch in text))  # digit-by-digit form
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in _CN_DIGIT:
            digit = _CN_DIGIT[ch]
        elif ch in _CN_UNIT:
            section += (digit if digit is not None else 1) * _CN_UNIT[ch]
            digit = None
        else:
            section += digit or 0
            total += section * _CN_BIG[ch]
            section, digit = 0, None
    return total + section + (digit or 0)


@lru_cache(maxsize=256)
def numbers_in(text: str) -> frozenset[float]:
    """Every number the text prints, as floats (digits, thousands separators, Chinese numerals)."""
    found: set[float] = set()
    for m in _DIGITS.finditer(text):
        try:
            n = float(m.group().replace(",", ""))
            found.add(n)
            found.add(abs(n))  # "-" may be a dash, not a sign
        except ValueError:
            continue
    for m in _CN_RUN.finditer(text):
        run = m.group()
        # a run can hold several numerals glued to words ("一是…三个"); try it whole and its sub-runs
        for i in range(len(run)):
            for j in range(len(run), i, -1):
                v = cn_to_int(run[i:j])
                if v is not None:
                    found.add(float(v))
                    break
    return frozenset(found)


def grounded(value: float | int | None, text: str) -> bool:
    """True when ``value`` is printed in ``text``; a null is always grounded."""
    if value is None:
        return True
    nums = numbers_in(text)
    return any(abs(n - value) < 1e-6 for n in nums)


def zero_phrase(text: str) -> bool:
    """Prose that states a zero without printing 0: 未收到 / 没有 / 无 …"""
    return bool(re.search(r"未|没有|无|不存在|零", text))


def provenance_grounded(value: float | int | None, prov: object | None, doc_text: str) -> bool:
    """Does the value's provenance point at source text that prints it?"""
    if value is None:
        return True
    if prov is None:
        return False
    start, end, text = getattr(prov, "start", None), getattr(prov, "end", None), getattr(prov, "text", None)
    if start is not None and end is not None:
        span = doc_text[start:end]
        if grounded(value, span) or grounded(value, _INNER_SPACE.sub("", span)):
            # "1 2" in a PDF row, "20 0" in a crawled run: the digits are printed, spaced
            return True
        if value == 0 and text and text in doc_text and zero_phrase(text):
            return True
        return False
    if text and text in doc_text:
        return grounded(value, text) or (value == 0 and zero_phrase(text))
    return False
