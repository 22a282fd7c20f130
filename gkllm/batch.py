"""Batch runs: a folder of reports → one JSON Lines or CSV file, resumable.

- Files are found recursively by extension (``SUPPORTED``); hidden files and
  folders are skipped.
- Every record carries ``file`` and ``sha256`` (of the file's bytes). A re-run
  with the same output file reads the records already there and skips every
  file whose content hash is done, so an interrupted batch resumes where it
  stopped and nothing extracted before is lost (a damaged record, such as a
  line cut by a kill mid-write, is dropped so the file stays valid JSON Lines
  or CSV, that file is redone, and the damaged file is kept as a backup).
- Files with the same content are extracted once; the record lists the other
  paths under ``duplicates``.
- A file that fails becomes an error record (``status: "error"`` with the
  error's stable ``code`` and ``message``); the batch goes on.
- ``jobs`` threads extract concurrently. The parser is CPU-bound Python (the
  GIL), so jobs mainly overlap LLM calls; records are written as they finish.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import os
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Sequence

from .errors import GkllmError, InputError
from .ingest import open_regular, read_file
from .jsonin import dumps
from .models import Report
from .pipeline import extract
from .template import flat_keys

SUPPORTED: tuple[str, ...] = (".txt", ".html", ".htm", ".docx", ".doc", ".wps", ".pdf")
CSV_HEAD: tuple[str, ...] = ("file", "sha256", "status", "error_code", "error_message", "rules_failed",
                             "all_rules_pass", "duplicates", "meta.template")


def csv_columns() -> list[str]:
    keys = flat_keys("2021")
    keys += [k for k in flat_keys("2019") if k not in keys]
    return list(CSV_HEAD) + keys


def discover(paths: Iterable[str | Path]) -> list[Path]:
    """Every supported name under the given folders (recursively), plus the files given as such.

    Every entry named like a report that is not a folder is listed, readable or
    not (a dangling symlink, a link loop, a FIFO): each gets an error record
    instead of vanishing from the batch without a word.
    """
    out: list[Path] = []
    seen: set[Path] = set()
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(
                f for f in p.rglob("*")
                if f.suffix.lower() in SUPPORTED and not f.is_dir()
                and not any(part.startswith(".") for part in f.relative_to(p).parts)
            )
        else:
            found = [p]
        for f in found:
            if f not in seen:
                seen.add(f)
                out.append(f)
    return out


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open_regular(path) as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class Summary:
    files: int = 0  # files found
    reports: int = 0  # distinct contents extracted in this run
    ok: int = 0
    errors: int = 0
    duplicates: int = 0  # files whose content another file of this run already has
    skipped: int = 0  # files whose content the output already holds
    rules_pass: int = 0  # ok reports with no failing rule
    llm_calls: int = 0
    llm_cache_hits: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    error_files: list[str] = field(default_factory=list)

    def line(self, output: str | None) -> str:
        rate = self.reports / self.seconds if self.seconds > 0 else 0.0
        parts = [f"{self.reports} report{'s' * (self.reports != 1)} ({self.ok} ok, {self.errors} error{'s' * (self.errors != 1)})"]
        if self.duplicates:
            parts.append(f"{self.duplicates} duplicate file{'s' * (self.duplicates != 1)} extracted once")
        if self.skipped:
            parts.append(f"{self.skipped} skipped (already in {output or 'the output'})")
        parts.append(f"{self.rules_pass} with all rules passing")
        parts.append(f"LLM calls {self.llm_calls} (cache hits {self.llm_cache_hits})")
        parts.append(f"{self.seconds:.2f} s, {rate:.1f} reports/s")
        return ("interrupted: " if self.interrupted else "") + "; ".join(parts)


# -- records ---------------------------------------------------------------------------


def ok_record(path: Path, sha: str, report: Report, flat: bool, duplicates: Sequence[str] = ()) -> dict[str, Any]:
    rec: dict[str, Any] = {"file": str(path), "sha256": sha, "status": "ok"}
    if duplicates:
        rec["duplicates"] = list(duplicates)
    if flat:
        rec.update(report.to_flat())
        rec["meta.template"] = report.template
        rec["rules_failed"] = [f"{r.id}:{r.scope}" for r in report.failed_rules()]
    else:
        rec.update(report.to_json_dict())
    return rec


def error_record(path: Path, sha: str | None, err: BaseException, duplicates: Sequence[str] = ()) -> dict[str, Any]:
    if isinstance(err, GkllmError):
        code, message = err.code, str(err)
    else:
        code, message = "internal_error", f"{path}: internal error: {type(err).__name__}: {err}"
    rec: dict[str, Any] = {"file": str(path), "sha256": sha, "status": "error",
                           "error": {"code": code, "message": message.replace("\n", " ")}}
    if duplicates:
        rec["duplicates"] = list(duplicates)
    return rec


def _encodable(v: Any) -> Any:
    """A cell a UTF-8 file can hold: a file name's undecodable bytes become \\udcxx text."""
    if isinstance(v, str) and not v.isascii():
        return v.encode("utf-8", "backslashreplace").decode("utf-8")
    return v


def _csv_row(rec: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"file": rec["file"], "sha256": rec.get("sha256") or "", "status": rec["status"],
                           "duplicates": ";".join(rec.get("duplicates", []))}
    if rec["status"] == "error":
        row["error_code"] = rec["error"]["code"]
        row["error_message"] = rec["error"]["message"]
        return row
    report: Report = rec["_report"]
    failed = [f"{r.id}:{r.scope}" for r in report.failed_rules()]
    row["rules_failed"] = ";".join(failed)
    row["all_rules_pass"] = "true" if not failed else "false"
    row["meta.template"] = report.template
    for k, v in report.to_flat().items():
        row[k] = "" if v is None else v
    return row


class Sink:
    """The output: JSON Lines (default) or CSV (by the ``.csv`` suffix); stdout when no path."""

    def __init__(self, path: Path | None, flat: bool = False) -> None:
        self.path = path
        self.flat = flat
        self.csv = path is not None and path.suffix.lower() == ".csv"
        self._fh: IO[str] | None = None
        self._writer: Any = None

    def done(self, on_repair: Callable[[str], None] | None = None) -> dict[str, dict[str, Any]]:
        """Records already in the output, by content hash (or by file for unreadable files).

        A damaged record (a line cut mid-write by a kill, a garbled line) is
        dropped from the file so the output stays valid and its report is
        redone; the file as it was is kept beside it (``NAME.N.bak``), and
        ``on_repair`` is told. An output holding records gkllm did not write
        is refused untouched.
        """
        if self.path is None or not self.path.exists() or self.path.stat().st_size == 0:
            return {}
        raw = self.path.read_bytes()
        lines = raw.split(b"\n")
        tail = lines.pop()  # b"" when the file ends with a newline, else a line cut mid-write
        header: list[str] | None = None
        if self.csv and lines:
            header = next(csv.reader([lines[0].decode("utf-8", "replace")]), [])
            if "file" not in header or "status" not in header:
                raise InputError("is not a gkllm batch output (no file/status columns); "
                                 "give another -o to start a new batch", source=str(self.path))
        records: list[dict[str, Any]] = []
        kept: list[bytes] = lines[:1] if header is not None else []
        damaged: list[str] = []
        for number, line in enumerate(lines[1:] if header is not None else lines, 2 if header is not None else 1):
            rec = self._parse(line, header)
            if rec is None:
                damaged.append(f"line {number}")
                continue
            if "file" not in rec or "status" not in rec:
                raise InputError("is not a gkllm batch output (records without file/status); "
                                 "give another -o to start a new batch", source=str(self.path))
            records.append(rec)
            kept.append(line)
        if tail:
            damaged.append(f"line {len(lines) + 1} (cut mid-write)")
        if damaged:
            ours = header is not None or records or all(
                ln.startswith(b'{"file": ') for ln in lines + [tail] if ln.strip() and self._parse(ln, None) is None)
            if not ours:
                raise InputError("is not a gkllm batch output (no valid records); give another -o to start a "
                                 "new batch", source=str(self.path))
            backup = self._backup(raw)
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_bytes(b"".join(ln + b"\n" for ln in kept))
            os.replace(tmp, self.path)
            if on_repair:
                n = len(damaged)
                on_repair(f"{self.path}: dropped {n} damaged record{'s' * (n != 1)} ({', '.join(damaged[:5])}"
                          f"{' …' if n > 5 else ''}) so the output stays valid; their reports are redone; "
                          f"the file as it was is kept as {backup}")
        out: dict[str, dict[str, Any]] = {}
        for rec in records:
            out[rec.get("sha256") or f"file:{rec['file']}"] = rec
        return out

    @staticmethod
    def _parse(line: bytes, header: list[str] | None) -> dict[str, Any] | None:
        """One record, or None when the line is damaged."""
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            return None
        if header is not None:
            row = next(csv.reader([text]), [])
            if len(row) != len(header):
                return None
            rec: Any = dict(zip(header, row))
        else:
            try:
                rec = json.loads(text)
            except (ValueError, RecursionError):
                return None
            if not isinstance(rec, dict):
                return None
        if rec.get("status", "ok") not in ("ok", "error"):
            return None
        return rec

    def _backup(self, raw: bytes) -> Path:
        assert self.path is not None
        n = 1
        while (backup := self.path.with_name(f"{self.path.name}.{n}.bak")).exists():
            n += 1
        backup.write_bytes(raw)
        return backup

    def open(self) -> None:
        if self.path is None:
            self._fh = sys.stdout
        else:
            exists = self.path.exists() and self.path.stat().st_size > 0
            self._fh = open(self.path, "a", encoding="utf-8", newline="")
            if self.csv:
                header = csv_columns()
                if exists:
                    with open(self.path, encoding="utf-8", newline="") as fh:
                        header = next(csv.reader(fh), header)
                self._writer = csv.DictWriter(self._fh, fieldnames=header, extrasaction="ignore")
                if not exists:
                    self._writer.writeheader()

    def write(self, rec: dict[str, Any]) -> None:
        assert self._fh is not None
        if self.csv:
            self._writer.writerow({k: _encodable(v) for k, v in _csv_row(rec).items()})
        else:
            self._fh.write(dumps({k: v for k, v in rec.items() if k != "_report"}) + "\n")
        self._fh.flush()

    def close(self) -> None:
        if self._fh is not None and self._fh is not sys.stdout:
            self._fh.close()
        self._fh = None


# -- the run ---------------------------------------------------------------------------


def run_batch(files: Sequence[Path], sink: Sink, *, mode: str = "hybrid", jobs: int = 1, llm: Any = None,
              progress: bool = True, on_error: Callable[[str], None] | None = None,
              on_warning: Callable[[str], None] | None = None) -> Summary:
    """Extract ``files`` into ``sink``; returns the summary (also when interrupted by Ctrl-C)."""
    t0 = time.perf_counter()
    summary = Summary(files=len(files))
    done = sink.done(on_repair=on_warning)
    # group by content; files that cannot even be read are their own group
    groups: dict[str, list[Path]] = {}
    unreadable: dict[str, BaseException] = {}
    for f in files:
        try:
            key = sha256_of(f)
        except OSError as err:
            key = f"file:{f}"
            unreadable[key] = InputError(f"cannot read: {err.strerror}", source=str(f))
        except InputError as err:
            key = f"file:{f}"
            unreadable[key] = err
        groups.setdefault(key, []).append(f)
    todo: list[tuple[str, list[Path]]] = []
    for key, paths in groups.items():
        if key in done:
            summary.skipped += len(paths)
        else:
            todo.append((key, paths))
            summary.duplicates += len(paths) - 1

    def work(key: str, path: Path) -> Report:
        if key in unreadable:
            raise unreadable[key]
        return extract(read_file(path), mode=mode, name=str(path), llm=client)  # type: ignore[arg-type]

    client = llm
    if client is None and mode != "parser" and todo:
        from .llm import default_client, describe_backend

        if describe_backend()[0]:
            client = default_client()
    usage0 = dataclasses.replace(client.usage) if client is not None else None

    bar = _progress(progress)
    sink.open()
    try:
        task = bar.add_task("extracting", total=len(todo)) if bar else None
        if bar:
            bar.start()
        with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="gkllm") as pool:
            pending: dict[Future[Report], tuple[str, list[Path]]] = {}
            queue = list(reversed(todo))
            try:
                while queue or pending:
                    while queue and len(pending) < max(1, jobs) * 2:  # a short queue: Ctrl-C stops soon
                        key, paths = queue.pop()
                        pending[pool.submit(work, key, paths[0])] = (key, paths)
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        key, paths = pending.pop(fut)
                        _record(fut, key, paths, sink, summary, on_error, bar)
                        if bar and task is not None:
                            bar.advance(task)
            except KeyboardInterrupt:
                summary.interrupted = True
                for fut in pending:
                    fut.cancel()
                pool.shutdown(wait=False, cancel_futures=True)
    finally:
        if bar:
            bar.stop()
        sink.close()
        summary.seconds = time.perf_counter() - t0
        if client is not None and usage0 is not None:  # the client's counters: exact under concurrency
            summary.llm_calls = client.usage.calls - usage0.calls
            summary.llm_cache_hits = client.usage.cache_hits - usage0.cache_hits
    return summary


def _record(fut: Future[Report], key: str, paths: list[Path], sink: Sink, summary: Summary,
            on_error: Callable[[str], None] | None, bar: Any) -> None:
    path, dups = paths[0], [str(p) for p in paths[1:]]
    sha = None if key.startswith("file:") else key
    summary.reports += 1
    err = fut.exception()
    if err is None:
        report = fut.result()
        rec = ok_record(path, sha or "", report, sink.flat, dups)
        rec["_report"] = report
        summary.ok += 1
        summary.rules_pass += not report.failed_rules()
    else:
        if os.environ.get("GKLLM_DEBUG") and not isinstance(err, GkllmError):
            raise err
        rec = error_record(path, sha, err, dups)
        summary.errors += 1
        summary.error_files.append(str(path))
        if on_error:
            msg = rec["error"]["message"]
            if bar:
                bar.console.print(f"gkllm: error: {msg}", markup=False, highlight=False)
            else:
                on_error(msg)
    sink.write(rec)


def _progress(enabled: bool) -> Any:
    if not enabled:
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    console = Console(stderr=True)
    if not console.is_terminal:  # a log file gets the summary line, not a redrawn bar
        return None
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TimeRemainingColumn(), console=console, transient=True)
