"""Batch runs of the CLI: a folder → JSONL/CSV, errors as rows, duplicates once, resumable."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gkllm import extract

from .conftest import PART4_GAP, PART4_ZEROS, SEEDS
from .fake_llm import FakeLLM


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k != "GKLLM_DEBUG"}
    base["GKLLM_LLM"] = "off"  # never the embedded model
    if env:
        base.update(env)
        if "GKLLM_LLM" in env and env["GKLLM_LLM"] is None:
            base.pop("GKLLM_LLM")
    base = {k: v for k, v in base.items() if v is not None}
    return subprocess.run([sys.executable, "-m", "gkllm.cli", *args], capture_output=True, env=base, text=True)


def records(path: Path) -> list[dict]:
    return [json.loads(ln) for ln in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture()
def folder(tmp_path) -> Path:
    """Three seeds, a byte-identical copy of one in a subfolder, two bad files, and files to ignore."""
    d = tmp_path / "reports"
    (d / "sub" / "deeper").mkdir(parents=True)
    for p in SEEDS[1:4]:
        shutil.copy(p, d / p.name)
    shutil.copy(SEEDS[3], d / "sub" / "deeper" / "copy_of_003.txt")
    (d / "sub" / "novel.txt").write_text("从前有座山，山里有座庙。\n庙里有个老和尚在讲故事。\n" * 30, encoding="utf-8")
    (d / "empty.html").write_bytes(b"")
    (d / "notes.json").write_text("{}", encoding="utf-8")  # not a supported extension: ignored
    (d / ".hidden").mkdir()
    shutil.copy(SEEDS[0], d / ".hidden" / "skipped.txt")
    return d


def test_batch_folder_to_jsonl(folder, tmp_path):
    out = tmp_path / "results.jsonl"
    proc = run("extract", "--mode", "parser", str(folder), "-o", str(out))
    assert proc.returncode == 1  # two files failed
    assert "Traceback" not in proc.stderr
    recs = records(out)
    assert len(recs) == 5  # 3 seeds (the copy extracted once) + 2 errors
    by_name = {Path(r["file"]).name: r for r in recs}
    assert set(by_name) == {p.name for p in SEEDS[1:4]} | {"novel.txt", "empty.html"}
    r003 = by_name[SEEDS[3].name]
    assert r003["status"] == "ok"
    assert r003["duplicates"] == [str(folder / "sub" / "deeper" / "copy_of_003.txt")]
    assert r003["sha256"] == hashlib.sha256(SEEDS[3].read_bytes()).hexdigest()
    assert r003["active"]["licensing"] == 15498 and r003["requests"]["new"]["total"] == 3
    assert r003["meta"]["source"] == str(folder / SEEDS[3].name)
    assert by_name["novel.txt"]["status"] == "error"
    assert by_name["novel.txt"]["error"]["code"] == "not_a_report"
    assert by_name["empty.html"]["error"] == {"code": "bad_input", "message": f"{folder / 'empty.html'}: empty file"}
    # the same numbers as a single-file run
    single = json.loads(run("extract", "--mode", "parser", str(SEEDS[2])).stdout)
    assert by_name[SEEDS[2].name]["requests"] == single["requests"]
    # errors on stderr, one line each, then the summary
    err = proc.stderr.strip().splitlines()
    assert sum(ln.startswith("gkllm: error:") for ln in err) == 2
    summary = err[-1]
    assert "5 reports (3 ok, 2 errors)" in summary and "1 duplicate file extracted once" in summary
    assert "3 with all rules passing" in summary and "LLM calls 0" in summary
    assert re.search(r"[\d.]+ reports/s", summary)


def test_interrupted_batch_resumes_with_only_the_missing_report(folder, tmp_path):
    out = tmp_path / "results.jsonl"
    assert run("extract", "--mode", "parser", "-j", "3", str(folder), "-o", str(out)).returncode == 1
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    kept, last = lines[:-1], json.loads(lines[-1])
    # an interruption: the last record is gone and the one before it was cut mid-write
    out.write_text("".join(kept[:-1]) + kept[-1][: len(kept[-1]) // 2], encoding="utf-8")
    cut = json.loads(kept[-1])
    proc = run("extract", "--mode", "parser", "-j", "3", str(folder), "-o", str(out))
    summary = proc.stderr.strip().splitlines()[-1]
    assert "2 reports" in summary, summary  # only the two lost ones are redone
    assert "skipped (already in" in summary
    recs = records(out)
    assert len(recs) == 5
    assert sorted(r["file"] for r in recs) == sorted(json.loads(ln)["file"] for ln in lines)
    redone = {r["file"]: r for r in recs[-2:]}
    assert set(redone) == {last["file"], cut["file"]}
    for old in (last, cut):
        new = redone[old["file"]]
        assert {k: v for k, v in new.items() if k != "meta"} == {k: v for k, v in old.items() if k != "meta"}
    # a third run has nothing to do
    proc = run("extract", "--mode", "parser", str(folder), "-o", str(out))
    assert proc.returncode == 0 and "0 reports" in proc.stderr and "6 skipped" in proc.stderr  # 6 files, 5 contents
    assert len(records(out)) == 5


def test_batch_csv_and_resume(folder, tmp_path):
    out = tmp_path / "results.csv"
    proc = run("extract", "--mode", "parser", "--jobs", "2", str(folder), "-o", str(out))
    assert proc.returncode == 1
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # the UTF-8 BOM Excel needs (issue 16): read with -sig
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert len(rows) == 5
    by_name = {Path(r["file"]).name: r for r in rows}
    r003 = by_name[SEEDS[3].name]
    assert r003["status"] == "ok" and r003["active.licensing"] == "15498" and r003["requests.new.total"] == "3"
    assert r003["all_rules_pass"] == "true" and r003["rules_failed"] == ""
    assert r003["duplicates"].endswith("copy_of_003.txt")
    assert r003["narrative.trainings"] == ""  # null
    assert by_name["novel.txt"]["status"] == "error" and by_name["novel.txt"]["error_code"] == "not_a_report"
    header = out.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    assert header[:3] == ["file", "sha256", "status"] and "requests.carried_forward.total" in header
    assert "t2019.active.procurement.amount" in header
    # drop the last row; the re-run redoes only that one, and writes no second header
    text = out.read_text(encoding="utf-8").splitlines(keepends=True)
    out.write_text("".join(text[:-1]), encoding="utf-8")
    proc = run("extract", "--mode", "parser", str(folder), "-o", str(out))
    assert "1 report " in proc.stderr or "1 report (" in proc.stderr
    assert out.read_text(encoding="utf-8").count("file,sha256,status") == 1
    assert len(list(csv.DictReader(out.open(encoding="utf-8-sig")))) == 5


def test_batch_flat_jsonl_to_stdout(folder):
    proc = run("extract", "--mode", "parser", "--flat", "-q", str(folder))
    assert proc.returncode == 1
    assert "gkllm: error:" not in proc.stderr  # -q: no per-file errors, only the summary
    recs = [json.loads(ln) for ln in proc.stdout.splitlines()]
    ok = [r for r in recs if r["status"] == "ok"]
    assert len(ok) == 3 and len(recs) == 5
    r003 = next(r for r in ok if r["file"].endswith(SEEDS[3].name))
    assert r003["requests.new.total"] == 3 and r003["rules_failed"] == [] and r003["meta.template"] == "2021"


def test_batch_hybrid_counts_llm_calls(folder, tmp_path):
    out = tmp_path / "results.jsonl"
    for i, mark in enumerate("甲乙丙"):  # three reports the parser leaves a gap in, each asking its own question
        text = PART4_GAP.read_text(encoding="utf-8").replace("五、", f"注:{mark}。\n五、", 1)
        (folder / f"gap{i}.txt").write_text(text, encoding="utf-8")
    with FakeLLM() as fake:
        fake.default = PART4_ZEROS
        env = {"GKLLM_LLM": None, "GKLLM_BASE_URL": fake.base_url, "GKLLM_MODEL": "fake",
               "GKLLM_CACHE_DIR": str(tmp_path / "cache"), "GKLLM_RETRIES": "0"}
        proc = run("extract", "-j", "3", str(folder), "-o", str(out), env=env)
        assert "LLM calls 3 (cache hits 0)" in proc.stderr, proc.stderr  # one call per gap; none for the seeds
        assert len(fake.requests) == 3
        out2 = tmp_path / "again.jsonl"
        proc = run("extract", "-j", "3", str(folder), "-o", str(out2), env=env)
        assert "LLM calls 0 (cache hits 3)" in proc.stderr, proc.stderr  # warm cache
    ok = [r for r in records(out) if r["status"] == "ok"]
    assert all(r["meta"]["mode"] == "hybrid" for r in ok)


def test_single_file_behaviour_is_unchanged(tmp_path):
    proc = run("extract", "--mode", "parser", str(SEEDS[3]))
    assert proc.returncode == 0
    assert proc.stdout.startswith("{\n")  # one pretty JSON object
    data = json.loads(proc.stdout)
    assert "file" not in data and "given" not in data
    proc = run("extract", "--mode", "parser", "--flat", str(SEEDS[3]), str(SEEDS[2]))
    assert [json.loads(ln)["active.licensing"] for ln in proc.stdout.splitlines()] == [
        15498, extract(SEEDS[2], mode="parser").active.licensing]


def test_cli_given(tmp_path):
    g = tmp_path / "other.json"
    g.write_text(json.dumps({"requests.new.total": 4, "active.licensing": 15498}), encoding="utf-8")
    proc = run("extract", "--mode", "parser", "--given", str(g), str(SEEDS[3]))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["given"]["requests.new.total"]["status"] == "corrected"
    assert data["given"]["requests.new.total"]["value"] == 3
    assert data["given"]["active.licensing"]["status"] == "kept"
    assert data["given"]["requests.granted.total"]["status"] == "filled"
    assert data["requests"]["new"]["total"] == 3


@pytest.mark.parametrize("content, phrase", [
    (None, "no such file"),
    ("{not json", "not JSON"),
    ("[1, 2]", "must be a JSON object"),
])
def test_cli_bad_given_is_one_line(tmp_path, content, phrase):
    g = tmp_path / "other.json"
    if content is not None:
        g.write_text(content, encoding="utf-8")
    proc = run("extract", "--mode", "parser", "--given", str(g), str(SEEDS[3]))
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and phrase in proc.stderr and "Traceback" not in proc.stderr


def test_given_with_a_folder_is_refused(folder, tmp_path):
    g = tmp_path / "other.json"
    g.write_text("{}", encoding="utf-8")
    proc = run("extract", "--given", str(g), str(folder))
    assert proc.returncode == 2 and "exactly one FILE" in proc.stderr


def test_output_that_is_not_a_batch_file_is_not_appended_to(folder, tmp_path):
    out = tmp_path / "results.jsonl"
    out.write_text('{"something": "else"}\n', encoding="utf-8")
    proc = run("extract", "--mode", "parser", str(folder), "-o", str(out))
    assert proc.returncode == 1 and "not a gkllm batch output" in proc.stderr
    assert out.read_text(encoding="utf-8") == '{"something": "else"}\n'
