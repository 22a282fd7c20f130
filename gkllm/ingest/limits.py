"""How much a reader may inflate: one place for the bounds against decompression bombs.

A report is a few hundred KB of text; its DOCX or PDF inflates to a few MB.
A bomb is a small file that inflates to gigabytes (a 1 MB zip member of
1 GB of spaces). Every reader that decompresses stays within:

- ``MAX_MEMBER``: one zip member or PDF stream, inflated;
- ``budget(file_size)``: everything one file inflates to, at most ``RATIO``
  times the file (a Word document inflates 10-30×) but never less than
  ``FLOOR`` (small files may hold very repetitive XML) nor more than ``MAX_TOTAL``.

Going past a bound is a ``TooLargeError`` (code ``too_large``), raised
before the memory is spent.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from ..errors import InputError, TooLargeError

MiB = 1 << 20
MAX_MEMBER = 64 * MiB
MAX_TOTAL = 256 * MiB
FLOOR = 32 * MiB
RATIO = 100
MAX_MEMBERS = 10_000  # a Word document has a few dozen parts
_STEP = 1 * MiB  # inflate in steps this size, so a lying header costs at most one step


def budget(file_size: int) -> int:
    """Bytes a file of ``file_size`` bytes may inflate to, all parts together."""
    return min(MAX_TOTAL, max(FLOOR, RATIO * file_size))


def _mb(n: int) -> str:
    return f"{n / MiB:,.0f} MB" if n >= MiB else f"{n:,} bytes"


def check_zip(data: bytes, what: str = "zip") -> None:
    """Refuse a zip whose members inflate past the bounds, before anything reads them.

    The index's sizes are checked first (cheap); then each member is inflated
    in bounded steps and discarded, because the index can lie: zipfile trusts
    the declared size only to cut the output, after inflating up to 1 GiB in
    one call. Once every member is proven to inflate to exactly its declared
    size, any later reader (python-docx) is bounded by those sizes.
    """
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return  # not a zip the reader can open either: it gives its own corrupt-file error
    with z:
        infos = z.infolist()
        if len(infos) > MAX_MEMBERS:
            raise TooLargeError(f"{what} has {len(infos):,} members (at most {MAX_MEMBERS:,} are read)")
        limit = budget(len(data))
        total = 0
        for info in infos:
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise InputError(f"{what} member {info.filename} uses an unusual compression "
                                 f"(method {info.compress_type}); Word writes only stored or deflated members")
            if info.file_size > MAX_MEMBER:
                raise TooLargeError(f"{what} member {info.filename} inflates to {_mb(info.file_size)} "
                                    f"(more than {_mb(MAX_MEMBER)}): refused as a decompression bomb")
            total += info.file_size
            if total > limit:
                raise TooLargeError(f"{what} inflates to more than {_mb(limit)} ({RATIO}× its size of "
                                    f"{_mb(len(data))}, {_mb(MAX_TOTAL)} at most): refused as a decompression bomb")
        for info in infos:
            _inflate_within(data, info, what)


def _inflate_within(data: bytes, info: zipfile.ZipInfo, what: str) -> None:
    """Inflate one member in steps, discarding the output; refuse it if it outgrows its declared size."""
    start = info.header_offset
    if data[start:start + 4] != b"PK\x03\x04":
        raise InputError(f"{what} is corrupt (member {info.filename} has no local header)")
    name_len, extra_len = struct.unpack_from("<HH", data, start + 26)
    body = memoryview(data)[start + 30 + name_len + extra_len:][: info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        if len(body) != info.file_size:
            raise InputError(f"{what} is corrupt (member {info.filename} is not the size its index says)")
        return
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    produced = 0
    pending: bytes | memoryview = body
    try:
        while True:
            chunk = inflater.decompress(pending, _STEP)
            produced += len(chunk)
            if produced > info.file_size:
                raise TooLargeError(f"{what} member {info.filename} inflates past the {_mb(info.file_size)} its "
                                    "index declares: refused as a decompression bomb")
            pending = inflater.unconsumed_tail
            if inflater.eof or (not chunk and not pending):
                break
    except zlib.error as err:
        raise InputError(f"{what} is corrupt (member {info.filename}: {err})") from None
