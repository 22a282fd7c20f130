"""Plain text: detect the encoding, decode, hand back a string."""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

from ..errors import InputError

# GB2312/GBK are subsets of GB18030; decoding with the superset never loses a
# character that a mislabelled page actually uses.
_WIDEN = {"gb2312": "gb18030", "gbk": "gb18030", "cp936": "gb18030", "hz": "gb18030"}


def decode(data: bytes) -> tuple[str, str]:
    """Return (text, encoding). Raises InputError for binary data."""
    for bom, enc in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(enc, errors="replace"), enc
    try:
        text = data.decode("utf-8")
        enc = "utf-8"
    except UnicodeDecodeError:
        best = from_bytes(data).best()
        if best is None:
            raise InputError("not a text file (no text encoding fits; binary data?)") from None
        enc = _WIDEN.get(best.encoding.lower(), best.encoding)
        text = data.decode(enc, errors="replace")
    if _looks_binary(text):
        raise InputError("not a text file (binary data)")
    return text, enc


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\ufffd]")


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    if not sample:
        return False
    bad = len(_CONTROL.findall(sample))
    return bad / len(sample) > 0.05
