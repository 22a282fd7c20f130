"""Helpers for the hostile-input tests: run the CLI as a child and measure it; build bombs on the fly.

The bombs are built without inflating them here: a deflate block that expands
1 MiB of spaces is compressed once and repeated, so a 1 GiB member costs a
megabyte and a fraction of a second to write.
"""

from __future__ import annotations

import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

MiB = 1 << 20


@dataclass
class Run:
    rc: int
    stdout: bytes
    stderr: str
    peak_mb: float  # the child's peak RSS, its own children included
    seconds: float

    def one_line_error(self) -> str:
        """The stderr of a failed run: exactly one line, no traceback."""
        assert self.rc != 0, self
        assert "Traceback" not in self.stderr, self.stderr
        assert self.stderr.count("\n") == 1, self.stderr
        assert self.stderr.startswith("gkllm: error: "), self.stderr
        return self.stderr


GNU_TIME = shutil.which("time", path="/usr/bin:/bin")


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "GKLLM_DEBUG"}
    env.update(extra)
    return env


def run_cli(*args: str, env: dict[str, str] | None = None, stdin: bytes | None = None, timeout: float = 60,
            cwd: str | Path | None = None) -> Run:
    """``python -m gkllm.cli ARGS``; its peak RSS from wait4 (ru_maxrss covers the child's own children).

    The child is started by GNU time where there is one, which reports the peak of the gkllm process it
    forked itself: a child forked straight from pytest keeps pytest's own resident pages in its peak
    (the high-water mark survives exec), so a big test process would make gkllm look big.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as inp, \
            tempfile.NamedTemporaryFile("r") as timed:
        if stdin is not None:
            inp.write(stdin)
            inp.seek(0)
        t0 = time.perf_counter()
        launcher = [GNU_TIME, "-q", "-f", "%M", "-o", timed.name] if GNU_TIME else []
        proc = subprocess.Popen([*launcher, sys.executable, "-m", "gkllm.cli", *args], stdout=out, stderr=err,
                                stdin=inp if stdin is not None else subprocess.DEVNULL,
                                env=env if env is not None else cli_env(), cwd=cwd, start_new_session=True)
        timer = threading.Timer(timeout, lambda: os.killpg(proc.pid, signal.SIGKILL))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - t0
        assert proc.returncode != -signal.SIGKILL, f"gkllm {' '.join(args)} did not finish within {timeout} s"
        out.seek(0)
        err.seek(0)
        reported = timed.read().strip().splitlines()
        peak_kb = int(reported[-1]) if GNU_TIME and reported and reported[-1].isdigit() else usage.ru_maxrss
        return Run(proc.returncode, out.read(), err.read().decode("utf-8", "replace"), peak_kb / 1024, seconds)


def _repeated_deflate(size: int) -> tuple[bytes, int]:
    """Raw deflate data that inflates to ``size`` spaces, and the CRC-32 of those bytes."""
    block = b" " * MiB
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    # a full flush resets the window: each copy of the block stands alone
    unit = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    n = size // MiB
    crc = 0
    for _ in range(n):
        crc = zlib.crc32(block, crc)
    return unit * n + b"\x03\x00", crc  # \x03\x00: an empty final block


def docx_bomb(path: Path, template: Path, member: str = "word/document.xml", size: int = 1 << 30,
              declared: int | None = None) -> Path:
    """A copy of ``template`` whose ``member`` inflates to ``size`` bytes (a valid zip with true CRCs).

    ``declared`` writes a smaller size into the headers than the data holds (a lying bomb).
    """
    data, crc = _repeated_deflate(size)
    declared = size if declared is None else declared
    entries: list[tuple[bytes, bytes, int, int, int, int]] = []  # name, data, method, crc, csize, usize
    with zipfile.ZipFile(template) as z:
        for info in z.infolist():
            if info.filename == member:
                continue
            raw = z.read(info.filename)
            c = zlib.compressobj(6, zlib.DEFLATED, -15)
            packed = c.compress(raw) + c.flush()
            entries.append((info.filename.encode(), packed, 8, zlib.crc32(raw), len(packed), len(raw)))
    entries.append((member.encode(), data, 8, crc, len(data), declared))
    out = bytearray()
    central = bytearray()
    for name, blob, method, c32, csize, usize in entries:
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, c32, csize, usize, len(name), 0)
        out += name + blob
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, c32, csize, usize,
                               len(name), 0, 0, 0, 0, 0, offset)
        central += name
    cd_offset = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), cd_offset, 0)
    path.write_bytes(bytes(out))
    return path


def pdf_bomb(path: Path, size: int = 2 << 30) -> Path:
    """A one-page PDF whose content stream is a FlateDecode bomb of ``size`` bytes of spaces."""
    raw, _ = _repeated_deflate(size)
    adler = 1
    block = b" " * MiB
    for _ in range(size // MiB):
        adler = zlib.adler32(block, adler)
    stream = b"\x78\xda" + raw + struct.pack(">I", adler)  # zlib framing around the raw deflate data
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    path.write_bytes(bytes(out))
    return path


# -- readers for gkllm.ingest.isolate's own tests (run in its child process) -----------------------


def hog(data: bytes, name: str) -> tuple[str, None, list[str]]:
    """Allocate until the memory cap stops it."""
    blocks = []
    while True:
        blocks.append(bytearray(16 * MiB))


def spin(data: bytes, name: str) -> tuple[str, None, list[str]]:
    while True:
        pass
