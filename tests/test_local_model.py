"""Tests for gkllm.llm.local: weight assembly (fake chunks) and one real local-LLM call.

The unit tests build tiny fake chunk files, so they run everywhere in milliseconds.
The ``llm`` test needs ``gkllm[local]`` installed (xllamacpp + ~1.1 GB of chunk
wheels) and skips cleanly otherwise.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from gkllm.llm import local
from gkllm.llm.local import (
    DEFAULT_MODEL,
    MODELS,
    LocalModelError,
    LocalServer,
    ModelSpec,
    available,
    chunk_paths,
    ensure_model,
)


def _fake_spec(tmp_path: Path, payloads: list[bytes], *, sha256: str | None = None) -> tuple[ModelSpec, list[Path]]:
    chunks = []
    for i, data in enumerate(payloads, start=1):
        p = tmp_path / "chunks" / f"part{i:02d}.bin"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        chunks.append(p)
    digest = hashlib.sha256(b"".join(payloads)).hexdigest()
    spec = replace(
        MODELS[DEFAULT_MODEL],
        name="fake-model",
        module_prefix="gkllm_test_no_such_chunk_pkg_",
        count=len(payloads),
        sha256=sha256 or digest,
        size_bytes=sum(map(len, payloads)),
    )
    return spec, chunks


PAYLOADS = [b"GGUF" + bytes(range(256)) * 3, b"\x00middle\xff" * 100, b"tail"]


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def count_hashes(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Record every full re-hash of an assembled model (assembly itself hashes inline)."""
    calls: list[Path] = []
    real = local._sha256_file

    def counting(path: Path) -> str:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(local, "_sha256_file", counting)
    return calls


def test_registry_shape() -> None:
    assert DEFAULT_MODEL in MODELS and "qwen2.5-coder-0.5b" in MODELS
    for key, spec in MODELS.items():
        assert spec.name == key
        assert len(spec.sha256) == 64 and int(spec.sha256, 16) >= 0
        assert spec.chunk_relpath(1) == "data/part01.bin"
        assert spec.requirements()[0] == f"{spec.dist_prefix}1=={spec.version}"
        assert len(spec.requirements()) == spec.count


def test_assemble_concatenates_in_order_and_verifies(tmp_path: Path, cache: Path) -> None:
    spec, chunks = _fake_spec(tmp_path, PAYLOADS)
    model = ensure_model(spec, cache_dir=cache, chunks=chunks)
    assert model.parent == cache and model.suffix == ".gguf"
    assert model.read_bytes() == b"".join(PAYLOADS)
    # nothing but the model and its stamp is left behind (no temp files)
    assert sorted(p.name for p in cache.iterdir()) == sorted([model.name, model.name + ".verified.json"])


def test_wrong_hash_is_refused_and_leaves_nothing(tmp_path: Path, cache: Path) -> None:
    spec, chunks = _fake_spec(tmp_path, PAYLOADS, sha256="0" * 64)
    with pytest.raises(LocalModelError, match="sha256 mismatch.*refusing"):
        ensure_model(spec, cache_dir=cache, chunks=chunks)
    assert list(cache.iterdir()) == []


def test_stamp_avoids_rehash(tmp_path: Path, cache: Path, count_hashes: list[Path]) -> None:
    spec, chunks = _fake_spec(tmp_path, PAYLOADS)
    model = ensure_model(spec, cache_dir=cache, chunks=chunks)
    for _ in range(3):
        assert ensure_model(spec, cache_dir=cache, chunks=chunks) == model
    assert count_hashes == []
    # chunks no longer needed once a verified model is cached
    for c in chunks:
        c.unlink()
    assert ensure_model(spec, cache_dir=cache, chunks=chunks) == model
    assert count_hashes == []


def test_changed_file_is_rehashed_once(tmp_path: Path, cache: Path, count_hashes: list[Path]) -> None:
    spec, chunks = _fake_spec(tmp_path, PAYLOADS)
    model = ensure_model(spec, cache_dir=cache, chunks=chunks)
    st = model.stat()
    os.utime(model, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # same bytes, new mtime
    assert ensure_model(spec, cache_dir=cache, chunks=chunks) == model
    assert count_hashes == [model]
    assert ensure_model(spec, cache_dir=cache, chunks=chunks) == model  # stamp refreshed
    assert count_hashes == [model]


def test_lost_stamp_rehashes_instead_of_rebuilding(tmp_path: Path, cache: Path, count_hashes: list[Path]) -> None:
    spec, chunks = _fake_spec(tmp_path, PAYLOADS)
    model = ensure_model(spec, cache_dir=cache, chunks=chunks)
    model.with_name(model.name + ".verified.json").unlink()
    for c in chunks:  # proves it did not reassemble
        c.unlink()
    assert ensure_model(spec, cache_dir=cache, chunks=chunks) == model
    assert count_hashes == [model]


def test_corrupted_cache_is_rebuilt(tmp_path: Path, cache: Path) -> None:
    spec, chunks = _fake_spec(tmp_path, PAYLOADS)
    model = ensure_model(spec, cache_dir=cache, chunks=chunks)
    with open(model, "r+b") as f:  # flip a byte and change the size: stamp no longer matches
        f.write(b"X")
        f.seek(0, 2)
        f.write(b"junk")
    assert ensure_model(spec, cache_dir=cache, chunks=chunks) == model
    assert model.read_bytes() == b"".join(PAYLOADS)


def test_missing_chunk_files(tmp_path: Path, cache: Path) -> None:
    spec, chunks = _fake_spec(tmp_path, PAYLOADS)
    chunks[1].unlink()
    with pytest.raises(LocalModelError, match=r"not found.*pip install"):
        ensure_model(spec, cache_dir=cache, chunks=chunks)
    assert not cache.exists() or list(cache.iterdir()) == []


def test_missing_chunk_packages_are_listed(tmp_path: Path) -> None:
    spec, _ = _fake_spec(tmp_path, PAYLOADS)
    with pytest.raises(LocalModelError) as ei:
        chunk_paths(spec)
    msg = str(ei.value)
    assert "\n" not in msg
    assert "3/3 missing" in msg and "pip install 'gkllm[local]'" in msg
    with pytest.raises(LocalModelError, match="not installed"):
        ensure_model(spec, cache_dir=tmp_path / "cache")  # no chunks= -> package lookup


def test_chunk_paths_finds_installed_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, _ = _fake_spec(tmp_path, PAYLOADS)
    spec = replace(spec, module_prefix="gkllm_fakechunk_part")
    site = tmp_path / "site"
    for i, data in enumerate(PAYLOADS, start=1):
        pkg = site / f"gkllm_fakechunk_part{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("raise RuntimeError('chunk packages must not be imported')\n")
        (pkg / "data" / f"part{i:02d}.bin").write_bytes(data)
    monkeypatch.syspath_prepend(str(site))
    paths = chunk_paths(spec)
    assert [p.read_bytes() for p in paths] == PAYLOADS
    assert not any(m.startswith("gkllm_fakechunk_part") for m in sys.modules)
    model = ensure_model(spec, cache_dir=tmp_path / "cache")
    assert model.read_bytes() == b"".join(PAYLOADS)


def test_unknown_model_name() -> None:
    with pytest.raises(LocalModelError, match="unknown local model"):
        ensure_model("gpt-9")
    assert available("gpt-9") is False


def test_default_cache_dir_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GKLLM_CACHE_DIR", str(tmp_path))
    assert local.default_cache_dir() == tmp_path / "models"
    monkeypatch.delenv("GKLLM_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert local.default_cache_dir() == tmp_path / "xdg" / "gkllm" / "models"


def test_server_refuses_missing_model_file(tmp_path: Path) -> None:
    with pytest.raises(LocalModelError, match="model file not found"):
        with LocalServer(tmp_path / "nope.gguf"):
            pass
    with pytest.raises(LocalModelError, match="not running"):
        _ = LocalServer(tmp_path / "nope.gguf").base_url


@pytest.mark.llm
def test_real_chat_completion() -> None:
    if not available():
        pytest.skip("gkllm[local] not installed (xllamacpp + model chunks)")
    with LocalServer(ensure_model(), n_ctx=2048) as srv:
        assert srv.base_url.startswith("http://127.0.0.1:") and srv.base_url.endswith("/v1")
        body = {
            "model": srv.model,
            "messages": [
                {"role": "user", "content": "2021年共收到政府信息公开申请15件。请问收到几件申请？只回答数字。"}],
            "max_tokens": 16,
            "temperature": 0,
        }
        req = urllib.request.Request(
            srv.base_url + "/chat/completions",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=300) as r:
            answer = json.loads(r.read())["choices"][0]["message"]["content"]
        assert answer.strip()
        assert any(ch.isdigit() for ch in answer)
        base = srv.base_url
    with pytest.raises(OSError):  # stopped on exit
        urllib.request.urlopen(base + "/models", timeout=5)


@pytest.mark.llm
def test_interrupted_start_still_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dropping an xllamacpp Server before its task loop runs deadlocks; close() must avoid that."""
    name = "qwen2.5-coder-0.5b"  # smallest model: this test is about lifecycle, not answers
    if not available(name):
        pytest.skip("gkllm[local] 0.5B chunks not installed")

    def interrupted(self: LocalServer, deadline: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(LocalServer, "_wait_ready", interrupted)
    srv = LocalServer(ensure_model(name), n_ctx=512)
    with pytest.raises(KeyboardInterrupt):
        srv.__enter__()
    with pytest.raises(LocalModelError, match="not running"):
        _ = srv.base_url
    srv.close()  # idempotent
