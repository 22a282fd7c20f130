"""Bad input: one line on stderr naming the file, non-zero exit, no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from .conftest import PART4_GAP, SEEDS


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "GKLLM_DEBUG"}
    return subprocess.run([sys.executable, "-m", "gkllm.cli", *args], capture_output=True, input=stdin, env=env)


def bad_inputs(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    binary = tmp_path / "garbage.txt"
    binary.write_bytes(bytes(range(256)) * 40)
    emptydir = tmp_path / "emptydir"
    emptydir.mkdir(exist_ok=True)
    prose = tmp_path / "novel.txt"
    prose.write_text("从前有座山，山里有座庙。\n庙里有个老和尚在讲故事。\n" * 30, encoding="utf-8")
    return {
        "missing": (str(tmp_path / "nope.txt"), "no such file"),
        # a folder is a batch run now; one with no report files in it is the error
        "directory": (str(emptydir), "no supported files"),
        "empty": (str(empty), "empty"),
        "binary": (str(binary), "not a text file"),
        "not_a_report": (str(prose), "not a 政府信息公开工作年度报告"),
    }


@pytest.mark.parametrize("kind", ["missing", "directory", "empty", "binary", "not_a_report"])
def test_bad_input_one_line_error(tmp_path, kind):
    path, phrase = bad_inputs(tmp_path)[kind]
    proc = run("extract", "--mode", "parser", path)
    err = proc.stderr.decode()
    assert proc.returncode != 0
    assert proc.stdout == b""
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    assert path in err and phrase in err


def test_batch_goes_on_past_bad_files(tmp_path):
    bad = bad_inputs(tmp_path)
    args = [bad["missing"][0], str(SEEDS[0]), bad["binary"][0], str(SEEDS[3])]
    proc = run("extract", "--flat", "--mode", "parser", "-q", *args)
    assert proc.returncode == 1
    lines = proc.stdout.decode().splitlines()
    assert len(lines) == 2
    assert json.loads(lines[1])["active.licensing"] == 15498
    assert proc.stderr.decode().count("gkllm: error:") == 2


def test_stdin_and_output_file(tmp_path):
    out = tmp_path / "r.json"
    proc = run("extract", "--no-llm", "-o", str(out), "-", stdin=SEEDS[3].read_bytes())
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["requests"]["new"]["total"] == 3
    assert data["meta"]["source"] == "<stdin>"
    assert data["meta"]["mode"] == "parser"


def test_version():
    proc = run("--version")
    assert proc.returncode == 0 and b"gkllm" in proc.stdout


def test_hybrid_without_llm_warns_and_keeps_values():
    proc = run("extract", str(PART4_GAP))  # the parser leaves part 4 open: hybrid would ask
    assert proc.returncode == 0
    data = json.loads(proc.stdout)
    assert data["requests"]["new"]["total"] is not None
    assert any("hybrid" in w and "review.litigation_after.total" in w for w in data["warnings"])
    proc = run("extract", str(SEEDS[3]))  # the parser settled everything: nothing to ask, nothing to warn
    assert proc.returncode == 0 and not any("LLM" in w for w in json.loads(proc.stdout)["warnings"])
