"""The LLM path: client, embedded model, cache, tasks."""

from __future__ import annotations

import atexit
import threading

from .client import LLMClient, LLMRejected, LLMUnavailable
from .config import LLMConfig, describe_backend

_default: LLMClient | None = None
_lock = threading.Lock()


def default_client() -> LLMClient:
    """One process-wide client, so the embedded server starts at most once."""
    global _default
    with _lock:
        if _default is None:
            _default = LLMClient(LLMConfig.from_env())
            atexit.register(_default.close)
        return _default


__all__ = ["LLMClient", "LLMConfig", "LLMRejected", "LLMUnavailable", "default_client", "describe_backend"]
