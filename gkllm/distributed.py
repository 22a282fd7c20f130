"""``--engine ray``: extraction on a Ray cluster (``pip install 'gkllm[ray]'``).

The driver (the ``gkllm extract`` process) does what needs the whole batch:
it finds the files, hashes them, skips every content hash the output already
holds (the same resume as a local batch), and writes every output (Parquet,
the database, …) as results stream back. The extraction itself is a Ray
Dataset over the files to do: ``map_batches`` runs it in Ray's workers, and
Ray's own scheduler places the tasks; gkllm has none of its own.

- ``--address ray://head:10001`` (or ``auto``) joins a running cluster;
  without it a local Ray instance is started for the batch and stopped after.
- Workers read the files by path: on a cluster, the folder must be at the same
  path on every node (a shared mount), and gkllm[ray] installed on every node.
- The driver's ``GKLLM_*`` and ``OPENAI_*`` settings go to every worker (Ray's
  ``runtime_env``), so all of them ask the same OpenAI-compatible endpoint
  (vLLM) and use the same cache directory.
- In the LLM modes a task extracts its block of reports with threads, so the
  waits for the endpoint overlap (``--jobs`` of them per task).
"""

from __future__ import annotations

import json
import logging
import math
import os
from pathlib import Path
from typing import Any, Generator

from .errors import GkllmError
from .parallel import Outcome, cores, extract_one

PARSER_BLOCK = 8  # reports per Ray task in parser mode: a task costs Ray a few ms, a report ~5-15 ms


class EngineError(GkllmError):
    """The Ray engine cannot start (not installed, no cluster at --address)."""

    code = "engine_error"


def _forwarded_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith(("GKLLM_", "OPENAI_"))}


# -- in a Ray worker ----------------------------------------------------------------------------

_CLIENTS: dict[str, Any] = {}


def _client(mode: str, llm_config: Any) -> Any:
    if mode == "parser":
        return None
    if "client" not in _CLIENTS:
        client = None
        if llm_config is not None:
            from .llm import LLMClient

            client = LLMClient(llm_config)
        else:
            from .llm import default_client, describe_backend

            if describe_backend()[0]:
                client = default_client()
        _CLIENTS["client"] = client
    return _CLIENTS["client"]


def extract_block(batch: dict[str, Any], mode: str, threads: int, llm_config: Any) -> dict[str, list[Any]]:
    """Ray's map_batches function: a block of files → one row each (the report's JSON text, or the error)."""
    paths = [str(p) for p in batch["path"]]
    client = _client(mode, llm_config)
    calls0, hits0 = (client.usage.calls, client.usage.cache_hits) if client is not None else (0, 0)
    if threads > 1 and len(paths) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(threads, thread_name_prefix="gkllm") as pool:
            outcomes = list(pool.map(lambda p: extract_one(p, mode, client), paths))
    else:
        outcomes = [extract_one(p, mode, client) for p in paths]
    calls = client.usage.calls - calls0 if client is not None else 0
    hits = client.usage.cache_hits - hits0 if client is not None else 0
    from .jsonin import dumps

    return {
        "i": [int(i) for i in batch["i"]],
        # JSON text: a report's nested dict is not one Arrow type across reports (null vs number cells)
        "data": [dumps(o.data) if o.data is not None else "" for o in outcomes],
        "code": [o.code or "" for o in outcomes],
        "message": [o.message or "" for o in outcomes],
        # the block's LLM counts ride on its first row
        "calls": [calls if n == 0 else 0 for n in range(len(outcomes))],
        "hits": [hits if n == 0 else 0 for n in range(len(outcomes))],
    }


# -- in the driver ------------------------------------------------------------------------------


def _probe(address: str) -> None:
    """Fail in seconds, on one line, when nothing listens at ``address``: Ray itself retries for minutes,
    logging from its C++ core."""
    import socket

    if address == "auto":
        return
    hostport = address.split("://", 1)[-1].rstrip("/")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise EngineError(f"--address {address}: give ray://HOST:PORT, HOST:PORT or auto")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except OSError as err:
        raise EngineError(f"no Ray cluster at {address}: {err.strerror or err}") from None


def _start(address: str | None) -> tuple[Any, bool]:
    try:
        import ray
        import ray.data  # noqa: F401  (Ray Data comes with the extra: ray[data])
    except ImportError as err:
        raise EngineError(f"--engine ray needs Ray ({err}); pip install 'gkllm[ray]'") from None
    # Ray and Ray Data log progress bars and INFO lines to the terminal: the batch has its own
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    ctx.enable_auto_log_stats = False
    started = not ray.is_initialized()
    if started and address:
        _probe(address)
    if started:
        # Ray's C++ core logs warnings to the terminal on its own; the batch says what matters in one line
        os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "error")
        kwargs: dict[str, Any] = dict(runtime_env={"env_vars": _forwarded_env()}, include_dashboard=False,
                                      log_to_driver=False, logging_level=logging.ERROR)
        if address:
            kwargs["address"] = address
        else:
            kwargs["num_cpus"] = cores()  # a task per core; the LLM modes' concurrency is threads inside tasks
        try:
            ray.init(**kwargs)
        except Exception as err:  # ConnectionError, RuntimeError …: no cluster there
            raise EngineError(f"cannot start Ray{f' at {address}' if address else ''}: "
                              f"{' '.join(str(err).split())[:300]}") from None
    return ray, started


def ray_outcomes(todo: list[tuple[str, list[Path]]], *, mode: str, jobs: int, llm: Any, address: str | None,
                 summary: Any) -> Generator[Any, None, None]:
    """Every report of ``todo`` extracted by Ray's workers, yielded as results reach the driver."""
    if not todo:
        yield None  # ready
        return
    ray, started = _start(address)
    summary.workers = f"Ray, {int(ray.cluster_resources().get('CPU', 0))} CPUs"
    threads = 1 if mode == "parser" else max(1, jobs)
    block = PARSER_BLOCK if mode == "parser" else threads
    items = [{"i": i, "path": str(paths[0])} for i, (_, paths) in enumerate(todo)]
    try:
        ds = ray.data.from_items(items, override_num_blocks=max(1, math.ceil(len(items) / block)))
        ds = ds.map_batches(extract_block, batch_size=block, num_cpus=1,
                            fn_kwargs={"mode": mode, "threads": threads,
                                       "llm_config": getattr(llm, "config", None)})
        yield None  # ready: Ray runs (its start-up prints before the batch's progress bar)
        for row in ds.iter_rows():
            key, paths = todo[int(row["i"])]
            summary.llm_calls += int(row["calls"])
            summary.llm_cache_hits += int(row["hits"])
            if row["data"]:
                yield key, paths, Outcome(data=json.loads(row["data"]))
            else:
                yield key, paths, Outcome(code=row["code"], message=row["message"])
    finally:
        if started:
            ray.shutdown()
