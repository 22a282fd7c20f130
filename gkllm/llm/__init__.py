"""The LLM path: client, embedded model, cache, tasks."""

from __future__ import annotations

import atexit
import datetime as _dt
import threading
from typing import Any

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


def client_for(*, use_cache: bool = True) -> LLMClient | None:
    """The client a command uses: the process-wide one, or (``--no-cache``) one that neither reads
    nor writes the answer cache; None when no LLM is usable here (then the stage says why)."""
    if not describe_backend()[0]:
        return None
    if use_cache:
        return default_client()
    client = LLMClient(LLMConfig.from_env(use_cache=False))
    atexit.register(client.close)
    return client


def health(client: LLMClient | None = None) -> dict[str, Any]:
    """For /healthz: is an LLM configured, which, and is it up or left alone until when."""
    if client is not None:  # the caller's own client: configured by construction
        cfg = client.config
        configured, backend = True, f"{client.model_name} at {cfg.base_url}" if cfg.base_url else "embedded"
    else:
        try:
            configured, backend = describe_backend()
        except Exception as err:  # a bad setting: the service refused to start with it, but say so anyway
            return {"configured": False, "backend": str(err), "up": False, "down_until": None, "reason": None}
    c = client or _default
    state = c.health() if c is not None else None
    up = configured and (state is None or state.up)
    until = None
    if state is not None and not state.up and state.retry_in is not None:
        until = (_dt.datetime.now(_dt.timezone.utc)
                 + _dt.timedelta(seconds=state.retry_in)).isoformat(timespec="seconds")
    return {"configured": configured, "backend": backend, "up": up, "down_until": until,
            "reason": state.reason if state is not None else None}


__all__ = ["LLMClient", "LLMConfig", "LLMRejected", "LLMUnavailable", "default_client", "client_for", "health",
           "describe_backend"]
