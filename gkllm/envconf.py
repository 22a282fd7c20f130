"""Reading settings from the environment: one place that turns a bad value into a ConfigError."""

from __future__ import annotations

import math
import os

from .errors import ConfigError


def env(*names: str) -> str | None:
    """The first of ``names`` that is set to a non-empty value."""
    for n in names:
        v = os.environ.get(n)
        if v:
            return v
    return None


def env_number(name: str, default: float, *, minimum: float, integer: bool = False, above: bool = False) -> float:
    """``$name`` as a number, ``default`` when unset; a bad value is a ConfigError naming the variable."""
    raw = env(name)
    if raw is None:
        return default
    try:
        value: float = int(raw) if integer else float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not {'a whole number' if integer else 'a number'}") from None
    if not math.isfinite(value) or value < minimum or (above and value == minimum):
        raise ConfigError(f"{name}={raw!r} must be {'more than' if above else 'at least'} {minimum:g}")
    return value
