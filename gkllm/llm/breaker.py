"""A circuit breaker for the LLM endpoint: down for a while, never for good.

When the endpoint proves unreachable (transport retries exhausted), calls are
refused at once for a cool-down (30 s, doubling after each failed trial, up to
a cap), so a batch does not wait on a dead endpoint for every file. After the
cool-down one trial call goes through: its success closes the breaker, so
``gkllm serve`` recovers by itself when the endpoint returns.

pybreaker was considered: its ``call()`` holds the breaker's lock for the
whole guarded call, which would serialize every concurrent LLM request of
``gkllm serve``; here the lock guards only the state.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class BreakerState:
    up: bool
    reason: str | None  # why it is down (the last failure)
    retry_in: float | None  # seconds until a trial call is let through; None when up
    cooldown: float  # the cool-down the next failure will start


class Breaker:
    def __init__(self, cooldown: float = 30.0, cap: float = 600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.base = cooldown
        self.cap = cap
        self._clock = clock
        self._lock = threading.Lock()
        self._cooldown = cooldown
        self._open_until: float | None = None
        self._reason: str | None = None
        self._trial = False  # a trial call is in flight after the cool-down

    def refusal(self) -> str | None:
        """None when a call may go through; else why not (the caller raises LLMUnavailable)."""
        with self._lock:
            if self._open_until is None:
                return None
            left = self._open_until - self._clock()
            if left > 0 or self._trial:
                wait = f"retry in {max(left, 0):.0f} s" if not self._trial else "a trial call is in flight"
                return f"LLM marked down ({wait}) after: {self._reason}"
            self._trial = True  # this caller is the trial
            return None

    def failure(self, reason: str) -> None:
        with self._lock:
            if self._open_until is not None and self._trial:
                self._cooldown = min(self._cooldown * 2, self.cap)  # the trial failed: wait longer
            self._open_until = self._clock() + self._cooldown
            self._reason = reason
            self._trial = False

    def release(self) -> None:
        """The call ended without proving anything (the caller's deadline passed): let another trial go."""
        with self._lock:
            self._trial = False

    def success(self) -> None:
        with self._lock:
            self._open_until = None
            self._reason = None
            self._trial = False
            self._cooldown = self.base

    def state(self) -> BreakerState:
        with self._lock:
            if self._open_until is None:
                return BreakerState(True, None, None, self._cooldown)
            return BreakerState(False, self._reason, max(self._open_until - self._clock(), 0.0), self._cooldown)


__all__ = ["Breaker", "BreakerState"]
