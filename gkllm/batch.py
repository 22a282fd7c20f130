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
- ``jobs``: reports extracted at once, in worker processes (``gkllm.parallel``:
  one per core at most; in the LLM modes each also runs threads that overlap
  the model's waits); records are written by this process as they finish.
  ``engine="ray"`` extracts on a Ray cluster instead (``gkllm.distributed``).
- The output is chosen by the ``-o`` name (``gkllm.outputs.sink_for``): JSON
  Lines, CSV (with a UTF-8 byte-order mark, so Excel reads it as UTF-8),
  Excel, Parquet, or a results database (SQLite, PostgreSQL).
- After the extraction, reports of one agency in consecutive years are paired
  and R6 is checked for each pair (``gkllm.compare``), over everything in the
  output (this run's reports and those of earlier runs).
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
from typing import IO, Any, Callable, Generator, Iterable, Sequence

from .errors import GkllmError, InputError
from .ingest import open_regular
from .jsonin import dumps
from .parallel import Outcome
from .template import flat_keys

BOM = "\ufeff"
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
    across: Any = None  # gkllm.compare.AcrossYears: R6 between an agency's consecutive reports
    workers: str = ""  # how the reports were extracted ("2 processes", "Ray")

    def line(self, output: str | None) -> str:
        rate = self.reports / self.seconds if self.seconds > 0 else 0.0
        parts = [f"{self.reports} report{'s' * (self.reports != 1)} "
                 f"({self.ok} ok, {self.errors} error{'s' * (self.errors != 1)})"]
        if self.duplicates:
            parts.append(f"{self.duplicates} duplicate file{'s' * (self.duplicates != 1)} extracted once")
        if self.skipped:
            parts.append(f"{self.skipped} skipped (already in {output or 'the output'})")
        parts.append(f"{self.rules_pass} with all rules passing")
        if self.across is not None and (self.across.pairs or self.across.grouping.merged):
            parts.append(self.across.summary())
        parts.append(f"LLM calls {self.llm_calls} (cache hits {self.llm_cache_hits})")
        parts.append(f"{self.seconds:.2f} s, {rate:.1f} reports/s" + (f" ({self.workers})" if self.workers else ""))
        return ("interrupted: " if self.interrupted else "") + "; ".join(parts)

    def notes(self, limit: int = 20) -> list[str]:
        """Lines for stderr before the summary: R6 failures, and which names were taken as one agency
        (``limit`` of each: a national batch can have thousands; the outputs that hold tables list them all)."""
        if self.across is None:
            return []
        out: list[str] = []
        for lines, what in (([p.line() for p in self.across.failed], "R6 failures"),
                            (self.across.grouping.notes(), "agency name decisions")):
            out += lines[:limit]
            if len(lines) > limit:
                out.append(f"… and {len(lines) - limit} more {what}")
        return out


# -- records ---------------------------------------------------------------------------


def ok_record(path: Path, sha: str, data: dict[str, Any], flat: bool, duplicates: Sequence[str] = ()) -> dict[str, Any]:
    """A batch record of a report given in its JSON form (``Report.to_json_dict()``); ``_data`` keeps that form
    for the outputs that are not JSON Lines (it is never written as such)."""
    from .outputs.rows import failed_of, flat_of

    rec: dict[str, Any] = {"file": str(path), "sha256": sha, "status": "ok"}
    if duplicates:
        rec["duplicates"] = list(duplicates)
    if flat:
        rec.update(flat_of(data))
        rec["meta.template"] = (data.get("meta") or {}).get("template") or "2021"
        rec["rules_failed"] = [f"{r['rule']}:{r['scope']}" for r in failed_of(data)]
    else:
        rec.update(data)
    rec["_data"] = data
    return rec


def error_record(path: Path, sha: str | None, err: BaseException | Outcome,
                 duplicates: Sequence[str] = ()) -> dict[str, Any]:
    if isinstance(err, Outcome):
        code, message = err.code or "internal_error", err.message or ""
    elif isinstance(err, GkllmError):
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
    from .outputs.rows import failed_of, flat_of

    row: dict[str, Any] = {"file": rec["file"], "sha256": rec.get("sha256") or "", "status": rec["status"],
                           "duplicates": ";".join(rec.get("duplicates", []))}
    if rec["status"] == "error":
        row["error_code"] = rec["error"]["code"]
        row["error_message"] = rec["error"]["message"]
        return row
    data: dict[str, Any] = rec["_data"]
    failed = [f"{r['rule']}:{r['scope']}" for r in failed_of(data)]
    row["rules_failed"] = ";".join(failed)
    row["all_rules_pass"] = "true" if not failed else "false"
    row["meta.template"] = (data.get("meta") or {}).get("template") or "2021"
    for k, v in flat_of(data).items():
        row[k] = "" if v is None else v
    return row


class Sink:
    """The output: JSON Lines (default) or CSV (by the ``.csv`` suffix); stdout when no path.

    A new CSV file starts with a UTF-8 byte-order mark: Excel on a Chinese
    Windows opens a CSV without one as GBK and shows the agency names as
    mojibake. A CSV written before without one is appended to as it is.
    """

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
            header = next(csv.reader([lines[0].decode("utf-8", "replace").removeprefix(BOM)]), [])
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
                    with open(self.path, encoding="utf-8-sig", newline="") as fh:  # -sig: the BOM is not a column name
                        header = next(csv.reader(fh), header)
                self._writer = csv.DictWriter(self._fh, fieldnames=header, extrasaction="ignore")
                if not exists:
                    self._fh.write(BOM)
                    self._writer.writeheader()

    def write(self, rec: dict[str, Any]) -> None:
        assert self._fh is not None
        if self.csv:
            self._writer.writerow({k: _encodable(v) for k, v in _csv_row(rec).items()})
        else:
            self._fh.write(dumps({k: v for k, v in rec.items() if not k.startswith("_")}) + "\n")
        self._fh.flush()

    def across_years(self, result: Any) -> None:
        """R6 across years: JSON Lines and CSV are appended to, never rewritten, so R6 goes to the summary only."""

    def close(self) -> None:
        if self._fh is not None and self._fh is not sys.stdout:
            self._fh.close()
        self._fh = None


# -- the run ---------------------------------------------------------------------------


Work = tuple[str, list[Path]]  # a content hash (or "file:PATH"), and the files holding that content


def run_batch(files: Sequence[Path], sink: Any, *, mode: str = "hybrid", jobs: int = 1, llm: Any = None,
              progress: bool = True, on_error: Callable[[str], None] | None = None,
              on_warning: Callable[[str], None] | None = None, engine: str = "local",
              address: str | None = None) -> Summary:
    """Extract ``files`` into ``sink``; returns the summary (also when interrupted by Ctrl-C).

    ``engine``: ``local`` (this machine: ``jobs`` reports at once, in processes)
    or ``ray`` (a Ray cluster at ``address``, or a local Ray instance).
    """
    from .compare import from_data

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
    todo: list[Work] = []
    for key, paths in groups.items():
        if key in done:
            summary.skipped += len(paths)
        else:
            todo.append((key, paths))
            summary.duplicates += len(paths) - 1

    bar = _progress(progress)
    extracted: list[Any] = []  # this run's reports, as R6 sees them
    try:
        readable = [w for w in todo if w[0] not in unreadable]
        outcomes: Generator[Any, None, None]
        if engine == "ray":
            from .distributed import ray_outcomes

            outcomes = ray_outcomes(readable, mode=mode, jobs=jobs, llm=llm, address=address, summary=summary)
        else:
            outcomes = _local_outcomes(readable, mode=mode, jobs=jobs, llm=llm, summary=summary)
        try:
            # every engine first yields None once its workers run: worker processes are forked before the
            # progress bar starts its thread (a fork copies no lock another thread holds), Ray starts first
            next(outcomes)
            sink.open()  # after the engine started: one that cannot start leaves no output behind
            task = bar.add_task("extracting", total=len(todo)) if bar else None
            if bar:
                bar.start()
            for key, paths in todo:  # files that cannot be read are recorded without a worker
                if key in unreadable:
                    _record(error_record(paths[0], None, unreadable[key], [str(p) for p in paths[1:]]), sink,
                            summary, on_error, bar)
                    if bar and task is not None:
                        bar.advance(task)
            for key, paths, outcome in outcomes:
                rec = _record(_to_record(key, paths, outcome, sink.flat), sink, summary, on_error, bar)
                if rec["status"] == "ok":
                    extracted.append(from_data(key, rec["file"], rec["_data"]))
                if bar and task is not None:
                    bar.advance(task)
        except KeyboardInterrupt:
            summary.interrupted = True
        finally:
            outcomes.close()  # stops the workers: pending work is cancelled, running work ends first
        if not summary.interrupted:
            summary.across = _across_years(done, extracted)
            sink.across_years(summary.across)
    finally:
        if bar:
            bar.stop()
        sink.close()
        summary.seconds = time.perf_counter() - t0
    return summary


def _across_years(done: dict[str, dict[str, Any]], extracted: list[Any]) -> Any:
    """R6 over every report in the output: those of earlier runs (their records) and this run's."""
    from .compare import across_years, from_record

    earlier = [y for key, rec in done.items() if (y := from_record(key, rec)) is not None]
    return across_years(earlier + extracted)


def _to_record(key: str, paths: list[Path], outcome: Outcome, flat: bool) -> dict[str, Any]:
    path, dups = paths[0], [str(p) for p in paths[1:]]
    sha = None if key.startswith("file:") else key
    if outcome.data is not None:
        return ok_record(path, sha or "", outcome.data, flat, dups)
    if outcome.trace and os.environ.get("GKLLM_DEBUG"):  # a bug in a worker: its traceback, as a thread would raise
        raise RuntimeError(f"{path}: internal error in a worker:\n{outcome.trace}")
    return error_record(path, sha, outcome, dups)


def _record(rec: dict[str, Any], sink: Any, summary: Summary, on_error: Callable[[str], None] | None,
            bar: Any) -> dict[str, Any]:
    summary.reports += 1
    if rec["status"] == "ok":
        summary.ok += 1
        summary.rules_pass += not any(r.get("status") == "failed" for r in rec["_data"].get("rules") or [])
    else:
        summary.errors += 1
        summary.error_files.append(rec["file"])
        if on_error:
            msg = rec["error"]["message"]
            if bar:
                bar.console.print(f"gkllm: error: {msg}", markup=False, highlight=False)
            else:
                on_error(msg)
    sink.write(rec)
    return rec


# -- the local engine: threads or processes --------------------------------------------------


def _local_outcomes(todo: list[Work], *, mode: str, jobs: int, llm: Any,
                    summary: Summary) -> Generator[Any, None, None]:
    """Every report of ``todo`` extracted on this machine, as it finishes.

    One job runs in this process. More run in worker processes, except when the
    embedded model answers: it is a server inside this process (~2 GiB), so a
    second process would start a second one; then the jobs are threads here.
    """
    if not todo:
        return _nothing()
    if jobs > 1 and not (mode != "parser" and llm is None and _embedded_llm()):
        from .parallel import processes_for

        procs, threads = processes_for(jobs, mode)
        summary.workers = f"{procs} process{'es' * (procs != 1)}" + (f" × {threads} threads" if threads > 1 else "")
        return _process_outcomes(todo, mode=mode, procs=procs, threads=threads,
                                 llm_config=getattr(llm, "config", None), summary=summary)
    if jobs > 1:
        summary.workers = f"{jobs} threads (the embedded model serves one process)"
    return _thread_outcomes(todo, mode=mode, jobs=jobs, llm=llm, summary=summary)


def _nothing() -> Generator[Any, None, None]:
    yield None  # ready


def _embedded_llm() -> bool:
    from .llm import describe_backend
    from .llm.config import LLMConfig

    return describe_backend()[0] and LLMConfig.from_env().embedded


def _thread_outcomes(todo: list[Work], *, mode: str, jobs: int, llm: Any,
                     summary: Summary) -> Generator[Any, None, None]:
    from .parallel import extract_one, failure

    client = llm
    if client is None and mode != "parser":
        from .llm import default_client, describe_backend

        if describe_backend()[0]:
            client = default_client()
    usage0 = dataclasses.replace(client.usage) if client is not None else None

    def work(path: Path) -> Outcome:
        if os.environ.get("GKLLM_DEBUG"):  # a bug raises here, with its traceback, as before processes
            from .ingest import read_file
            from .pipeline import extract

            try:
                return Outcome(data=extract(read_file(path), mode=mode, name=str(path),  # type: ignore[arg-type]
                                            llm=client).to_json_dict())
            except GkllmError as err:
                return failure(str(path), err)
        return extract_one(str(path), mode, client)

    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="gkllm")
    pending: dict[Future[Outcome], Work] = {}
    queue = list(reversed(todo))
    try:
        yield None  # ready
        while queue or pending:
            while queue and len(pending) < max(1, jobs) * 2:  # a short queue: Ctrl-C stops soon
                key, paths = queue.pop()
                pending[pool.submit(work, paths[0])] = (key, paths)
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                key, paths = pending.pop(fut)
                yield key, paths, fut.result()
    finally:
        for fut in pending:
            fut.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        if client is not None and usage0 is not None:  # the client's counters: exact under concurrency
            summary.llm_calls += client.usage.calls - usage0.calls
            summary.llm_cache_hits += client.usage.cache_hits - usage0.cache_hits


def _process_outcomes(todo: list[Work], *, mode: str, procs: int, threads: int, llm_config: Any,
                      summary: Summary) -> Generator[Any, None, None]:
    """Chunks of ``threads`` reports (one in parser mode) handed to ``procs`` worker processes.

    A worker that dies (killed, out of memory, a crash in a C library) breaks
    the whole pool: the reports it held are then retried one at a time in a
    fresh pool, so the one that kills its worker is found, recorded as an
    error, and the batch goes on. Workers that cannot start at all leave the
    batch to this process.
    """
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from .parallel import failure, init_worker, mp_context, run_chunk, worker_died

    def new_pool() -> ProcessPoolExecutor | None:
        """A pool whose workers run: a first trivial task starts them now (and proves they start)."""
        pool = ProcessPoolExecutor(max_workers=procs, mp_context=mp_context(), initializer=init_worker,
                                   initargs=(mode, llm_config, threads))
        try:
            pool.submit(os.getpid).result(timeout=120)
        except Exception as err:  # BrokenProcessPool, a time-out: no worker process here
            pool.shutdown(wait=False, cancel_futures=True)
            summary.workers = f"this process: worker processes could not start ({type(err).__name__})"
            return None
        return pool

    queue: deque[Work] = deque(todo)
    suspects: deque[Work] = deque()  # reports held by a pool that broke: retried alone
    retried: set[str] = set()
    pending: dict[Future[Any], list[Work]] = {}
    pool = new_pool()
    try:
        yield None  # ready: the workers are forked
        while pool is not None and (queue or suspects or pending):
            broken: list[list[Work]] = []
            try:
                if suspects:
                    if not pending:
                        item = suspects.popleft()
                        pending[pool.submit(run_chunk, [str(item[1][0])])] = [item]
                else:
                    while queue and len(pending) < procs * 2:  # a short queue: Ctrl-C stops soon
                        chunk = [queue.popleft() for _ in range(min(threads, len(queue)))]
                        try:
                            pending[pool.submit(run_chunk, [str(paths[0]) for _, paths in chunk])] = chunk
                        except BrokenProcessPool:  # broke before this chunk went in
                            broken.append(chunk)
                            break
            except BrokenProcessPool:
                broken.append([item])
            if not broken:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    chunk = pending.pop(fut)
                    try:
                        outcomes, calls, hits = fut.result()
                    except BrokenProcessPool:
                        broken.append(chunk)
                        continue
                    except Exception as err:  # the worker function itself failed (MemoryError …): each one an error
                        outcomes, calls, hits = [failure(str(paths[0]), err) for _, paths in chunk], 0, 0
                    summary.llm_calls += calls
                    summary.llm_cache_hits += hits
                    for (key, paths), outcome in zip(chunk, outcomes):
                        yield key, paths, outcome
            if broken:  # every report the pool held is retried alone; one that breaks a pool alone is the cause
                held = [w for chunk in broken for w in chunk] + [w for chunk in pending.values() for w in chunk]
                pending.clear()
                pool.shutdown(wait=False, cancel_futures=True)
                pool = new_pool()
                if len(held) == 1 and held[0][0] in retried:
                    key, paths = held[0]
                    yield key, paths, worker_died(paths[0])
                    continue
                retried.update(key for key, _ in held)
                suspects.extend(held)
        if pool is None:  # no worker process could start: the rest in this process, one at a time
            rest = list(suspects) + list(queue)
            inner = _thread_outcomes(rest, mode=mode, jobs=1, llm=None, summary=summary)
            next(inner)
            yield from inner
    finally:
        for fut in pending:
            fut.cancel()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _progress(enabled: bool) -> Any:
    if not enabled:
        return None
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    if not console.is_terminal:  # a log file gets the summary line, not a redrawn bar
        return None
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TimeRemainingColumn(), console=console, transient=True)
