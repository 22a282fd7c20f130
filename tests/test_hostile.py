"""Hostile and broken inputs (issue 12): bounded memory, no hang, no lost data, one-line errors.

The service's share (hostile JSON, deadlines, its own faults) is in test_service_faults.py.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import zipfile
from pathlib import Path

import pytest

from gkllm.ingest import read_bytes
from gkllm.llm.client import LLMClient, Usage
from gkllm.llm.config import LLMConfig

from .conftest import ROOT, SEEDS
from .hostile import MiB, cli_env, docx_bomb, pdf_bomb, run_cli

FORMATS = ROOT / "eval" / "cases" / "formats"
SEED_003 = next(p for p in SEEDS if p.name.startswith("003"))


# -- 12: nothing grows per call; nothing is dropped without a word --------------------------------


def test_usage_keeps_counters_only_and_stays_flat(tmp_path):
    """The per-call log that nothing read is gone: 10,000 recorded calls hold no memory."""
    assert all(not isinstance(getattr(Usage(), f.name), (list, dict)) for f in dataclasses.fields(Usage))
    client = LLMClient(LLMConfig(base_url="http://127.0.0.1:9/v1", use_cache=False, cache_dir=tmp_path))
    import tracemalloc

    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for _ in range(10_000):
        client._record(Usage(calls=1, prompt_tokens=10, completion_tokens=5, seconds=0.01))
    grown = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(before, "filename"))
    tracemalloc.stop()
    assert client.usage.calls == 10_000
    assert grown < 64 * 1024, grown


def test_docx_with_damaged_numbering_warns_and_keeps_the_body():
    src = FORMATS / "gen04_docx.docx"
    buf = io.BytesIO()
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in z.infolist():
            blob = z.read(info.filename)
            if info.filename == "word/numbering.xml":
                blob = blob.replace(b'w:ilvl="0"', b'w:ilvl="zero"', 1)
            out.writestr(info, blob)
    doc = read_bytes(buf.getvalue(), "numbering.docx")
    assert any("list numbering could not be read" in w and "ValueError" in w for w in doc.warnings), doc.warnings
    assert "主动公开政府信息情况" in doc.text and "行政许可" in doc.text
