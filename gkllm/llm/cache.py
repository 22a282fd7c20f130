"""LLM answers on disk (diskcache), keyed by everything that shapes them.

instructor's own cache key leaves validators out, so the key is built here
(``LLMClient.ask``): the question's text, the prompt's and the system
prompt's text (digests, so a prompt edited in place is not served old
answers), the schema, the rules digest (``template.rules_version()``), model,
endpoint and generation settings. A second run of the same file makes no call.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import diskcache


def cache_key(**parts: Any) -> str:
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class AnswerCache:
    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self._cache = diskcache.Cache(str(path), size_limit=2**30)

    def get(self, key: str) -> dict[str, Any] | None:
        return self._cache.get(key)

    def set(self, key: str, value: dict[str, Any]) -> None:
        self._cache.set(key, value)

    def close(self) -> None:
        self._cache.close()
