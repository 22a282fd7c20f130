"""gkllm: exact, checked numbers from 政府信息公开工作年度报告."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

from .errors import GkllmError  # noqa: E402

# The heavy parts load on first use, so `import gkllm.<module>` stays cheap: the PDF
# reader's child process (gkllm.ingest.isolate) starts in a fraction of a second.
_LAZY = {"extract": "pipeline", "extract_document": "pipeline", "aextract": "api", "Report": "models",
         "Document": "document"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gkllm' has no attribute {name!r}")


__all__ = ["extract", "aextract", "extract_document", "Report", "Document", "GkllmError", "__version__"]
