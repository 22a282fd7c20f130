"""gkllm: exact, checked numbers from 政府信息公开工作年度报告."""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import GkllmError  # noqa: E402
from .models import Report  # noqa: E402
from .pipeline import extract  # noqa: E402
from .api import aextract  # noqa: E402

__all__ = ["extract", "aextract", "Report", "GkllmError", "__version__"]
