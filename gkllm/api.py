"""The Python API for callers that use gkllm as a fallback behind other tools.

``extract`` is the synchronous pipeline; ``aextract`` is its asyncio twin. The
parser is CPU-bound pure Python, so ``aextract`` runs the same code in a worker
thread (``asyncio.to_thread``): the event loop stays free, and many reports can
wait on the LLM at once. ``LLMClient`` is thread-safe (one client, its cache and
its usage counters can be shared by every concurrent call).
"""

from __future__ import annotations

import asyncio
from typing import Any

from .models import Report
from .pipeline import Mode, Source, extract


async def aextract(source: Source, *, mode: Mode = "hybrid", given: Any = None, llm: Any = None,
                   name: str | None = None) -> Report:
    """``extract`` in a worker thread: ``await gkllm.aextract(path, given=partial)``.

    Run many with ``asyncio.gather``; bound them with a semaphore if the LLM
    endpoint should see fewer concurrent requests than you have reports.
    """
    return await asyncio.to_thread(extract, source, mode=mode, given=given, llm=llm, name=name)


__all__ = ["extract", "aextract"]
