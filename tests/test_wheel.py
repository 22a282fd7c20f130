"""The built wheel, installed into a fresh venv, runs hybrid mode (prompts ship inside the package)."""

from __future__ import annotations

import os

import pytest

from .wheel_check import check


@pytest.mark.skipif(os.environ.get("GKLLM_WHEEL_CHECKED") == "1", reason=".ci/run ran tests/wheel_check.py already")
def test_the_installed_wheel_runs_hybrid_against_the_scripted_server(tmp_path):
    result = check(tmp_path)
    assert result["llm_requests"] == 1 and result["values"] > 150
