"""Plain text: detect the encoding, decode, hand back a string."""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

from ..errors import InputError

# GB2312/GBK are subsets of GB18030; decoding with the superset never loses a
# character that a mislabelled page actually uses.
_WIDEN = {"gb2312": "gb18030", "gbk": "gb18030", "cp936": "gb18030", "hz": "gb18030"}


def decode(data: bytes) -> tuple[str, str, list[str]]:
    """Return (text, encoding, warnings). Raises InputError for binary data."""
    warnings: list[str] = []
    for bom, enc in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(enc, errors="replace"), enc, warnings
    try:
        text = data.decode("utf-8")
        enc = "utf-8"
    except UnicodeDecodeError:
        nearly = nearly_utf8(data)
        if nearly is not None:
            text, warning = nearly
            enc = "utf-8"
            warnings.append(warning)
        else:
            best = from_bytes(data).best()
            if best is None:
                raise InputError("not a text file (no text encoding fits; binary data?)") from None
            enc = _WIDEN.get(best.encoding.lower(), best.encoding)
            text = data.decode(enc, errors="replace")
    if _looks_binary(text):
        raise InputError("not a text file (binary data)")
    return text, enc, warnings


def nearly_utf8(data: bytes) -> tuple[str, str] | None:
    """UTF-8 with a few broken sequences (a truncated last character, one stray byte):
    (text with U+FFFD in their place, a warning saying where), or None when it is not UTF-8.

    "Nearly" means at most 1 broken sequence per 1,000 characters (and at least 4
    allowed), while the well-formed multi-byte sequences outnumber them 20 to 1: a
    GBK file read as UTF-8 breaks at almost every Chinese character and fails both.
    """
    view = memoryview(data)
    limit = max(4, len(data) // 1000)
    pieces: list[str] = []
    bad: list[int] = []  # byte offsets of the broken sequences
    pos = 0
    while True:
        try:
            pieces.append(codecs.utf_8_decode(view[pos:], "strict", True)[0])
            break
        except UnicodeDecodeError as err:
            pieces.append(codecs.utf_8_decode(view[pos:pos + err.start], "strict", True)[0])
            pieces.append("\ufffd")
            bad.append(pos + err.start)
            pos += err.end
            if len(bad) > limit:
                return None
    text = "".join(pieces)
    if len(data) - len(text) < 20 * len(bad):  # multi-byte sequences that did decode
        return None
    newline = b"\n"
    where = ", ".join(f"line {data.count(newline, 0, off) + 1} (byte {off})" for off in bad[:3])
    more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
    n = len(bad)
    return text, (f"{n} invalid UTF-8 byte sequence{'s' * (n != 1)} replaced with U+FFFD at {where}{more}; "
                  "the rest of the file is valid UTF-8")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\ufffd]")


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    if not sample:
        return False
    bad = len(_CONTROL.findall(sample))
    return bad / len(sample) > 0.05
