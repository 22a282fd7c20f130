"""DOC and WPS (OLE compound files), and RTF, through LibreOffice, then the DOCX reader.

``soffice --headless --convert-to docx`` runs with a private user profile (so
parallel runs do not collide on LibreOffice's lock), in its own process group
and under a timeout (``GKLLM_SOFFICE_TIMEOUT``, default 120 s); on timeout the
whole group is killed and a clear error is raised. ``GKLLM_SOFFICE`` may name
the binary; otherwise ``soffice`` / ``libreoffice`` is looked up on PATH.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

from .. import deadline
from ..errors import ConverterMissingError, DeadlineExceeded, InputError, UnsupportedFormatError
from .common import RawText

INSTALL_HINT = "install it with: apt-get install libreoffice-writer-nogui"
DEFAULT_TIMEOUT = 120.0

_profile_lock = threading.Lock()
_profile_dir: str | None = None


def read(data: bytes, name: str) -> RawText:
    """OLE .doc/.wps (and RTF, which Word also saves under .doc) → DOCX → text."""
    kind = "rtf" if data.lstrip()[:5] == b"{\\rtf" else _ole_kind(data)
    if kind == "encrypted":
        raise InputError("the Office file is encrypted (password-protected); save it without a password first")
    if kind in ("excel", "powerpoint", "outlook"):
        raise UnsupportedFormatError(f"OLE file is not a Word document (looks like {kind}); only .doc/.wps are read")
    if kind == "unknown":
        raise InputError("OLE file holds no Word document stream (corrupt, or not a .doc/.wps file)")
    docx_bytes = convert_to_docx(data, name)
    from . import docx

    text, encoding, warnings = docx.read(docx_bytes, name)
    what = "RTF" if kind == "rtf" else ".doc/.wps"
    return RawText(text, encoding, [f"converted from {what} by LibreOffice", *warnings])


def soffice_path() -> str | None:
    env = os.environ.get("GKLLM_SOFFICE")
    if env:
        return env if (os.path.isfile(env) or shutil.which(env)) else None
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_to_docx(data: bytes, name: str, timeout: float | None = None) -> bytes:
    exe = soffice_path()
    if exe is None:
        raise ConverterMissingError(
            f"reading .doc/.wps files needs LibreOffice, which is not installed; {INSTALL_HINT}")
    if timeout is None:
        try:
            timeout = float(os.environ.get("GKLLM_SOFFICE_TIMEOUT", DEFAULT_TIMEOUT))
        except ValueError:
            timeout = DEFAULT_TIMEOUT
    limit = deadline.bound(timeout)  # a service request's deadline stops the conversion too
    ext = Path(name).suffix.lower()
    if data.lstrip()[:5] == b"{\\rtf":
        ext = ".rtf"
    elif ext not in (".doc", ".wps", ".dot", ".wpt"):
        ext = ".doc"
    with tempfile.TemporaryDirectory(prefix="gkllm-doc-") as tmp:
        src = Path(tmp) / f"input{ext}"
        out_dir = Path(tmp) / "out"
        out_dir.mkdir()
        src.write_bytes(data)
        with _profile_lock:  # one conversion at a time per profile (i.e. per process)
            cmd = [
                exe,
                f"-env:UserInstallation={Path(_profile()).as_uri()}",
                "--headless",
                "--invisible",
                "--nodefault",
                "--nolockcheck",
                "--nologo",
                "--norestore",
                "--convert-to",
                "docx:MS Word 2007 XML",
                "--outdir",
                str(out_dir),
                str(src),
            ]
            deadline.check("before converting with LibreOffice")
            rc, output = _run(cmd, limit)
        produced = sorted(out_dir.glob("*.docx"))
        if not produced:
            detail = " ".join(output.split())[-200:]
            raise InputError(
                f"LibreOffice could not convert the file (corrupt or password-protected?; "
                f"exit {rc}{': ' + detail if detail else ''})"
            )
        return produced[0].read_bytes()


def _run(cmd: list[str], timeout: float) -> tuple[int, str]:
    env = dict(os.environ)
    env.setdefault("HOME", tempfile.gettempdir())
    env["SAL_USE_VCLPLUGIN"] = "svp"  # no display needed
    try:
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )
    except OSError as err:
        raise ConverterMissingError(f"cannot run LibreOffice ({cmd[0]}: {err.strerror}; {INSTALL_HINT})") from None
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        if deadline.passed():
            raise DeadlineExceeded(
                "the deadline passed while LibreOffice was converting the file; stopped it") from None
        raise InputError(f"LibreOffice did not finish converting within {timeout:g} s "
                         "(gave up; set GKLLM_SOFFICE_TIMEOUT to allow longer)") from None
    return proc.returncode, out.decode("utf-8", "replace")


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    try:
        proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def _profile() -> str:
    """A LibreOffice user profile private to this process, removed at exit."""
    global _profile_dir
    if _profile_dir is None or not os.path.isdir(_profile_dir):
        _profile_dir = tempfile.mkdtemp(prefix=f"gkllm-lo-{os.getpid()}-")
        atexit.register(shutil.rmtree, _profile_dir, True)
    return _profile_dir


def _ole_kind(data: bytes) -> str:
    """Guess what an OLE compound file holds from the stream names in its directory."""
    probe = data[: 4 * 1024 * 1024]

    def has(stream: str) -> bool:
        return stream.encode("utf-16-le") in probe

    if has("EncryptedPackage") or has("EncryptionInfo"):
        return "encrypted"
    if has("WordDocument"):
        return "word"
    if has("Workbook") or has("Book\x00"):
        return "excel"
    if has("PowerPoint Document"):
        return "powerpoint"
    if has("__substg1.0_"):
        return "outlook"
    return "unknown"
