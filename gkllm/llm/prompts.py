"""Versioned prompt templates from ``prompts/`` (never inline strings)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from string import Template

from ..errors import GkllmError


def prompts_dir() -> Path:
    env = os.environ.get("GKLLM_PROMPTS_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "prompts"


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    template: str

    @property
    def id(self) -> str:
        return f"{self.name}.{self.version}"

    def render(self, **values: str) -> str:
        return Template(self.template).substitute(**values)


@lru_cache(maxsize=None)
def load(name: str, version: str = "v1") -> Prompt:
    path = prompts_dir() / f"{name}.{version}.txt"
    try:
        return Prompt(name, version, path.read_text(encoding="utf-8"))
    except OSError:
        raise GkllmError(f"prompt template {path} not found (set GKLLM_PROMPTS_DIR)") from None
