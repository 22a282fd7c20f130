"""A deadline for the work done on behalf of one caller (one service request).

The service sets it around an extraction; whatever waits on something slow
reads it: every LLM HTTP request (its timeouts shrink to what is left, and no
retry starts after it) and the PDF reader's child process (killed at it).
When it passes, ``DeadlineExceeded`` (code ``timeout``) ends the extraction,
so a request that timed out stops working instead of holding its slot.

It lives in a context variable, so it follows the work within its thread and
never leaks to other requests; without one (the CLI, a batch) nothing changes.
"""

from __future__ import annotations

import contextlib
import time
from contextvars import ContextVar
from typing import Iterator

from .errors import DeadlineExceeded

_at: ContextVar[float | None] = ContextVar("gkllm_deadline", default=None)


@contextlib.contextmanager
def deadline_in(seconds: float | None) -> Iterator[None]:
    """Work inside the block must end within ``seconds`` (an outer, earlier deadline still holds)."""
    if seconds is None:
        yield
        return
    at = time.monotonic() + seconds
    outer = _at.get()
    token = _at.set(at if outer is None else min(at, outer))
    try:
        yield
    finally:
        _at.reset(token)


def remaining() -> float | None:
    """Seconds left, ``None`` without a deadline; never negative."""
    at = _at.get()
    return None if at is None else max(at - time.monotonic(), 0.0)


def passed() -> bool:
    at = _at.get()
    return at is not None and time.monotonic() >= at


def check(doing: str) -> None:
    """Raise ``DeadlineExceeded`` if the deadline has passed (``doing`` says what was stopped)."""
    if passed():
        raise DeadlineExceeded(f"the deadline passed; stopped {doing}")


def bound(seconds: float) -> float:
    """``seconds``, cut to what the deadline leaves."""
    left = remaining()
    return seconds if left is None else min(seconds, left)
