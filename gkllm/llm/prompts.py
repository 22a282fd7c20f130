"""Versioned prompt templates: ``prompts/`` at the top level, shipped inside the package
(``gkllm/prompts`` links to it).

They are read with ``importlib.resources``, so an installed wheel finds them
exactly as a checkout does (a path relative to the repository would not).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from string import Template

from ..errors import LLMUnavailable


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    template: str

    @property
    def id(self) -> str:
        return f"{self.name}.{self.version}"

    @property
    def sha256(self) -> str:
        """The text's digest: a prompt edited in place must not be served old cached answers."""
        return hashlib.sha256(self.template.encode("utf-8")).hexdigest()

    def render(self, **values: str) -> str:
        return Template(self.template).substitute(**values)


@lru_cache(maxsize=None)
def load(name: str, version: str = "v1") -> Prompt:
    resource = resources.files("gkllm") / "prompts" / f"{name}.{version}.txt"
    try:
        return Prompt(name, version, resource.read_text(encoding="utf-8"))
    except OSError:
        # a broken install; the LLM stage treats it like a missing model: parser values, one warning
        raise LLMUnavailable(f"prompt {name}.{version} is missing from the installed package ({resource}); "
                             "reinstall gkllm") from None
