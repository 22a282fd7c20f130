"""Run a reader on untrusted bytes in a child process with a memory cap and a time limit.

Why a child and not only guards in the reader: pdfminer inflates streams
(Flate, LZW, RunLength), object streams and fonts in many places, and a
page can hold millions of glyphs that each become a Python object; a guard
on one of those paths leaves the others open. An address-space limit
(``RLIMIT_AS``) bounds every allocation the reader makes, whatever the
path, a time limit bounds the loops (pdfminer's fallback for a corrupt
Flate stream is quadratic), and the memory goes back to the system when
the child exits, where a long-running service would keep a fragmented heap
(the issue measured the server staying at 1.1 GB after one bomb).

The cost is one interpreter start per file (~0.25 s with pdfplumber).

Protocol: the parent writes one JSON header line ``{"name", "memory"}`` and
then the file's bytes to the child's stdin; the child answers one JSON
object on stdout: ``{"ok": [text, encoding, warnings]}`` or
``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

from .. import deadline
from ..errors import (
    ConverterMissingError,
    DeadlineExceeded,
    GkllmError,
    InputError,
    NotAReportError,
    TooLargeError,
    UnsupportedFormatError,
)

_BY_CODE: dict[str, type[GkllmError]] = {
    cls.code: cls for cls in (InputError, TooLargeError, UnsupportedFormatError, ConverterMissingError,
                              NotAReportError)
}
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # the folder that holds gkllm/


def run(target: str, data: bytes, name: str, *, memory: int, timeout: float,
        what: str) -> tuple[str, str | None, list[str]]:
    """Call ``target`` ("package.module:function", taking (data, name)) in a child process.

    ``memory`` is the child's address space beyond what it holds after its imports;
    ``timeout`` is cut to the caller's deadline (gkllm.deadline). ``what`` names the
    reader in errors ("PDF").
    """
    limit = deadline.bound(timeout)
    if deadline.passed():
        raise DeadlineExceeded(f"the deadline passed before reading the {what}")
    env = dict(os.environ)
    # the child imports gkllm from where this process did, installed or not
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH")) if p)
    header = json.dumps({"name": name, "memory": memory, "cpu": int(limit) + 5, "what": what}).encode() + b"\n"
    try:
        proc = subprocess.Popen([sys.executable, "-m", __name__, target], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)
    except OSError as err:
        raise InputError(f"cannot start the {what} reader process ({err.strerror})") from None
    try:
        out, errout = proc.communicate(header + data, timeout=limit)
    except subprocess.TimeoutExpired:
        _kill(proc)
        if deadline.passed():
            raise DeadlineExceeded(f"the deadline passed while reading the {what}; the reader was stopped") from None
        raise InputError(f"reading the {what} took longer than {timeout:g} s (gave up)") from None
    except BaseException:  # Ctrl-C, a cancelled worker: never leave the child behind
        _kill(proc)
        raise
    try:
        answer = json.loads(out)
    except ValueError:
        answer = None
    if isinstance(answer, dict) and "ok" in answer:
        text, encoding, warnings = answer["ok"]
        if answer.get("ocr") is not None:  # an OCR reader's record (issue 14)
            from .common import OcrText

            return OcrText(text, encoding, list(warnings), answer["ocr"])
        return text, encoding, list(warnings)
    if isinstance(answer, dict) and "error" in answer:
        code, message = answer["error"]["code"], answer["error"]["message"]
        raise _BY_CODE.get(code, InputError)(message)
    tail = errout.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
    if proc.returncode == -signal.SIGKILL or "MemoryError" in tail[0]:
        raise TooLargeError(f"reading the {what} needed more than its {memory >> 20} MB memory cap") from None
    raise InputError(f"the {what} reader failed (exit {proc.returncode}{': ' + tail[0][:200] if tail[0] else ''})")


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.communicate()


# -- the child ---------------------------------------------------------------------------


def _cap(memory: int, cpu: int) -> None:
    """Limit this process to its current address space plus ``memory``, and to ``cpu`` seconds."""
    try:
        import resource
    except ImportError:  # not on POSIX: only the parent's time limit holds
        return
    vm = 0
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            vm = next(int(ln.split()[1]) * 1024 for ln in fh if ln.startswith("VmSize:"))
    except (OSError, StopIteration, ValueError):
        pass
    if vm:
        resource.setrlimit(resource.RLIMIT_AS, (vm + memory, vm + memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))


def _child(target: str) -> int:
    stdin = sys.stdin.buffer
    header = json.loads(stdin.readline())
    data = stdin.read()
    module, _, func = target.partition(":")
    reader: Callable[[bytes, str], Any] = getattr(importlib.import_module(module), func)
    _cap(int(header["memory"]), int(header["cpu"]))
    try:
        result = reader(data, header["name"])
        answer: dict[str, Any] = {"ok": list(result)}
        if getattr(result, "ocr", None) is not None:  # an OCR reader's record (issue 14)
            answer["ocr"] = result.ocr
    except MemoryError:
        answer = {"error": {"code": "too_large", "message": f"reading the {header['what']} needed more than its "
                                                            f"{int(header['memory']) >> 20} MB memory cap"}}
    except GkllmError as err:
        answer = {"error": {"code": err.code, "message": err.message}}
    except Exception as err:  # noqa: BLE001 - the reader's library choked on the file
        answer = {"error": {"code": "bad_input", "message": f"{header['what']} cannot be read ({type(err).__name__}: "
                                                            f"{' '.join(str(err).split())[:200]})"}}
    del data
    sys.stdout.write(json.dumps(answer))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1]))
