from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
SEED_GOLD = ROOT / "eval" / "cases" / "seeds"
# A real report whose part 4 prints 14 of its 15 zeros: the parser leaves part 4 null, so hybrid asks the LLM
# one question (part 4); the scripted answer below fills 10 of its values through the rules.
PART4_GAP = ROOT / "eval" / "cases" / "real" / "pingtan-dept-04-lopdftotext.txt"
PART4_ZEROS = {"json": {"review": [0] * 15}}


def load_gold(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


def pytest_configure(config):
    # Tests that do not ask for the real model must never start it: hybrid runs
    # in them see "no LLM" unless a test points GKLLM_BASE_URL at a fake server.
    marker = config.getoption("-m") or ""
    if "llm" not in marker or "not llm" in marker:
        os.environ.setdefault("GKLLM_LLM", "off")


def pytest_collection_modifyitems(config, items):
    # The real-model suite takes minutes: it runs only when asked for (-m llm),
    # as .ci/run does, never as a side effect of a plain `pytest`.
    marker = config.getoption("-m") or ""
    if "llm" in marker and "not llm" not in marker:
        return
    skip = pytest.mark.skip(reason="real-model test: run with `pytest -m llm`")
    for item in items:
        if "llm" in item.keywords:
            item.add_marker(skip)
