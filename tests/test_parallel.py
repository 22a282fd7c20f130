"""Issue 16, parallel then distributed: --jobs N in worker processes, and --engine ray on a local Ray instance."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import gkllm.parallel as parallel
from gkllm.batch import Sink, discover, run_batch
from gkllm.outputs import sink_for
from gkllm.parallel import cores, processes_for

from .conftest import ROOT, SEEDS

REAL = ROOT / "eval" / "cases" / "real"
TEXTS = sorted(REAL.glob("*-text.txt"))  # the 8 real reports as the crawler's text
N = len(SEEDS) + len(TEXTS) + 1  # and one file that is not a report


@pytest.fixture()
def folder(tmp_path) -> Path:
    d = tmp_path / "in"
    d.mkdir()
    for p in [*SEEDS, *TEXTS]:
        shutil.copy(p, d / p.name)
    (d / "novel.txt").write_text("从前有座山，山里有座庙。\n" * 30, encoding="utf-8")
    return d


def records(path: Path) -> dict[str, dict]:
    out = {}
    for ln in path.read_text(encoding="utf-8").splitlines():
        rec = json.loads(ln)
        rec.get("meta", {}).pop("gkllm_version", None)
        out[Path(rec["file"]).name] = rec
    return out


def test_jobs_split_processes_and_threads(monkeypatch):
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    assert processes_for(1, "parser") == (1, 1)
    assert processes_for(2, "parser") == (2, 1)
    assert processes_for(8, "parser") == (2, 1)  # the parser is CPU-bound: no more processes than cores
    assert processes_for(16, "hybrid") == (2, 8)  # LLM waits: the rest as threads inside each process


def test_processes_give_the_same_records_as_one_job(folder, tmp_path):
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    s1 = run_batch(discover([folder]), Sink(one), mode="parser", jobs=1, progress=False)
    s2 = run_batch(discover([folder]), Sink(two), mode="parser", jobs=2, progress=False)
    assert s2.workers == ("2 processes" if cores() >= 2 else "1 process")
    assert (s1.reports, s1.ok, s1.errors, s1.rules_pass) == (s2.reports, s2.ok, s2.errors, s2.rules_pass) == (
        N, N - 1, 1, s1.rules_pass)
    assert records(one) == records(two)
    assert records(two)["novel.txt"]["error"]["code"] == "not_a_report"


def test_a_worker_that_dies_costs_one_report_not_the_batch(folder, tmp_path, monkeypatch):
    """A worker killed under a file (out of memory, a crash in a C library) breaks the process pool; the
    reports it held are retried alone, the one that kills its worker again becomes an error record."""
    import multiprocessing

    real = parallel.extract_one

    def dies_on_one(path, mode, llm):
        if path.endswith("pingtan-dept-03-text.txt"):
            os._exit(9)  # as the kernel's OOM killer would end it
        return real(path, mode, llm)

    # fork: the workers inherit the patched function (the real start method may be forkserver under pytest)
    monkeypatch.setattr(parallel, "mp_context", lambda: multiprocessing.get_context("fork"))
    monkeypatch.setattr(parallel, "extract_one", dies_on_one)
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    out = tmp_path / "out.jsonl"
    summary = run_batch(discover([folder]), Sink(out), mode="parser", jobs=2, progress=False)
    recs = records(out)
    assert len(recs) == N and summary.reports == len(recs)
    died = recs["pingtan-dept-03-text.txt"]
    assert died["status"] == "error" and "worker process extracting this file died" in died["error"]["message"]
    assert sum(r["status"] == "ok" for r in recs.values()) == N - 2  # every other report


def test_cli_jobs_two_with_an_error_and_resume(folder, tmp_path):
    out = tmp_path / "out.sqlite"
    env = {k: v for k, v in os.environ.items() if k != "GKLLM_DEBUG"}
    env["GKLLM_LLM"] = "off"
    args = [sys.executable, "-m", "gkllm.cli", "extract", "--mode", "parser", "--no-progress", "-j", "2", str(folder),
            "-o", str(out)]
    proc = subprocess.run(args, capture_output=True, text=True, env=env)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    err = proc.stderr.splitlines()
    assert err[0].startswith("gkllm: error: ") and "novel.txt" in err[0]
    assert f"{N} reports ({N - 1} ok, 1 error)" in err[-1]
    again = subprocess.run(args, capture_output=True, text=True, env=env)
    assert again.returncode == 0 and f"{N} skipped" in again.stderr
    with sqlite3.connect(out) as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT file) FROM reports").fetchone() == (N, N)


# -- Ray ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'gkllm[ray]'")
    import logging

    # a local instance for this module; the engine finds it running and leaves it to us
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
             runtime_env={"env_vars": {"GKLLM_LLM": "off"}})
    yield ray
    ray.shutdown()


def test_ray_engine_writes_parquet_and_the_database_and_resumes(local_ray, folder, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    ref = tmp_path / "ref.jsonl"
    run_batch(discover([folder]), Sink(ref), mode="parser", progress=False)
    expected = records(ref)

    out = tmp_path / "ray.parquet"
    summary = run_batch(discover([folder]), sink_for(str(out)), mode="parser", engine="ray", progress=False)
    assert summary.workers.startswith("Ray") and summary.reports == len(expected) and summary.errors == 1
    rows = {Path(r["file"]).name: r for r in pq.read_table(out).to_pylist()}
    assert set(rows) == set(expected)
    for name, rec in expected.items():
        assert rows[name]["status"] == rec["status"]
        if rec["status"] == "ok":
            assert rows[name]["requests.new.total"] == rec["requests"]["new"]["total"]
            assert rows[name]["active.fees"] == rec["active"]["fees"]
            assert rows[name]["year"] == rec["meta"]["year"]
    assert rows["novel.txt"]["error_code"] == "not_a_report"

    db = tmp_path / "ray.sqlite"
    summary = run_batch(discover([folder]), sink_for(str(db)), mode="parser", engine="ray", progress=False)
    assert summary.reports == len(expected) and summary.across.pairs  # 08 → 05 and 02 → 01
    with sqlite3.connect(db) as conn:
        got = dict(conn.execute("SELECT file, status FROM reports").fetchall())
        values = conn.execute('SELECT count(*) FROM "values"').fetchone()[0]
    assert {Path(f).name: s for f, s in got.items()} == {n: r["status"] for n, r in expected.items()}
    assert values == 204 * (len(expected) - 1)
    # resume by hash: the same run again extracts nothing
    again = run_batch(discover([folder]), sink_for(str(db)), mode="parser", engine="ray", progress=False)
    assert again.reports == 0 and again.skipped == len(expected)


def test_ray_address_with_no_cluster_is_one_line_and_leaves_no_output(folder, tmp_path):
    pytest.importorskip("ray", reason="Ray is not installed: pip install 'gkllm[ray]'")
    from .pg import _free_port

    env = {k: v for k, v in os.environ.items() if k != "GKLLM_DEBUG"}
    env["GKLLM_LLM"] = "off"
    for out in (tmp_path / "out.parquet", tmp_path / "out.sqlite"):
        proc = subprocess.run([sys.executable, "-m", "gkllm.cli", "extract", "--mode", "parser", "--no-progress",
                               "--engine", "ray", "--address", f"127.0.0.1:{_free_port()}", str(folder), "-o",
                               str(out)], capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
        assert proc.stderr.startswith("gkllm: error: no Ray cluster at 127.0.0.1:")
        assert list(tmp_path.glob("out.*")) == []  # no output, no journal
