"""``--jobs N`` in worker processes: the parser is CPU-bound Python, so threads share one core (the GIL).

The batch hands work to a ``ProcessPoolExecutor``: one process per core at
most (``processes_for``), each extracting one report at a time in parser mode.
When a model is asked (hybrid, llm), a report mostly waits for the endpoint,
so each process also runs ``threads`` reports at once in a thread pool of its
own and shares one LLM client among them: ``--jobs 16`` on 2 cores is 2
processes × 8 threads, 16 requests in flight. Every process builds its own
client from the same settings (endpoint, model, cache directory: diskcache is
safe across processes on one machine).

A worker returns plain data (the report's JSON form, or an error's code and
message), never exception objects or pydantic models: plain dicts cross the
process boundary several times faster than a pickled ``Report``, and the batch
writes them as they are.
"""

from __future__ import annotations

import math
import os
import signal
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import GkllmError


@dataclass
class Outcome:
    """One report's result as plain data: ``data`` (``Report.to_json_dict()``) or an error."""

    data: dict[str, Any] | None = None
    code: str | None = None
    message: str | None = None
    trace: str | None = None  # the traceback of an unexpected error, shown only with GKLLM_DEBUG


def failure(path: str, err: BaseException) -> Outcome:
    if isinstance(err, GkllmError):
        return Outcome(code=err.code, message=str(err).replace("\n", " "))
    trace = traceback.format_exc() if os.environ.get("GKLLM_DEBUG") else None
    return Outcome(code="internal_error", message=f"{path}: internal error: {type(err).__name__}: {err}".replace(
        "\n", " "), trace=trace)


def extract_one(path: str, mode: str, llm: Any) -> Outcome:
    """Read and extract one file; every failure becomes an Outcome, never an exception."""
    from .ingest import read_file
    from .pipeline import extract

    try:
        report = extract(read_file(path), mode=mode, name=path, llm=llm)  # type: ignore[arg-type]
    except Exception as err:  # one bad file never stops a batch
        return failure(path, err)
    return Outcome(data=report.to_json_dict())


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may use (a container's share), not the host's
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def processes_for(jobs: int, mode: str) -> tuple[int, int]:
    """(processes, threads per process) for ``--jobs``: processes up to the cores, the rest as threads for LLM waits."""
    procs = max(1, min(jobs, cores()))
    if mode == "parser":
        return procs, 1
    return procs, max(1, math.ceil(jobs / procs))


# -- inside a worker process ------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def init_worker(mode: str, llm_config: Any, threads: int) -> None:
    # Ctrl-C goes to the whole process group: the parent decides what stops, so workers ignore it
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER.update(mode=mode, llm_config=llm_config, threads=threads, client=None, pool=None, made=False)


def _client() -> Any:
    if _WORKER["mode"] == "parser":
        return None
    if not _WORKER["made"]:
        _WORKER["made"] = True
        if _WORKER["llm_config"] is not None:  # the caller's own client: the same settings, a client per process
            from .llm import LLMClient

            _WORKER["client"] = LLMClient(_WORKER["llm_config"])
        else:
            from .llm import default_client, describe_backend

            if describe_backend()[0]:
                _WORKER["client"] = default_client()
    return _WORKER["client"]


def run_chunk(paths: list[str]) -> tuple[list[Outcome], int, int]:
    """Extract a few files (one in parser mode); with the LLM calls and cache hits they cost."""
    client = _client()
    calls0, hits0 = (client.usage.calls, client.usage.cache_hits) if client is not None else (0, 0)
    mode = _WORKER["mode"]
    if len(paths) > 1 and _WORKER["threads"] > 1:
        if _WORKER["pool"] is None:
            _WORKER["pool"] = ThreadPoolExecutor(_WORKER["threads"], thread_name_prefix="gkllm")
        outcomes = list(_WORKER["pool"].map(lambda p: extract_one(p, mode, client), paths))
    else:
        outcomes = [extract_one(p, mode, client) for p in paths]
    if client is None:
        return outcomes, 0, 0
    return outcomes, client.usage.calls - calls0, client.usage.cache_hits - hits0


def mp_context() -> Any:
    """``fork`` where there is one (Linux): the workers inherit gkllm already imported, so they start in
    milliseconds, and nothing is re-imported from ``__main__`` (which ``spawn`` and ``forkserver`` do, and
    which fails for a script read from stdin). The batch forks them before its progress bar starts a
    thread. The output the batch holds open (a file, a database connection) is copied into them but
    never touched: a worker ends with ``os._exit``, which flushes and closes nothing. Elsewhere (macOS,
    Windows), the platform's default."""
    import multiprocessing

    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def worker_died(path: Path) -> Outcome:
    return Outcome(code="internal_error", message=f"{path}: internal error: the worker process extracting this file "
                                                  "died (killed, or out of memory)")
