"""Batch throughput (reports/s) of ``gkllm extract DIR -o out.jsonl`` on generated reports.

Generates a folder of reports with the layout generator (every layout: cell
dumps, pipes, tabs, markdown, glued digits, PDF text, OCR, HTML, label
variants, the 2019 template, blanks) into a temp dir, then runs the batch
(``gkllm.batch.run_batch``, the code behind the CLI) and prints reports/s for:

- parser mode, --jobs 1 and --jobs N;
- hybrid mode, cold and then warm cache, against tests/fake_llm.py's FakeLLM
  on 127.0.0.1 (a scripted OpenAI-compatible server with a fixed answer), so it
  runs offline. It measures gkllm's own overhead around the LLM (requests,
  instructor, cache, grounding, reconcile), not a model's speed.

    python benchmarks/batch_throughput.py [--n 500] [--jobs 4] [--seed 7]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gkllm.batch import Sink, discover, run_batch  # noqa: E402
from gkllm.llm import LLMClient, LLMConfig  # noqa: E402

NULL_NARRATIVE = {k: {"value": None, "sentence": None} for k in ("active_items", "requests_received", "trainings", "fee_yuan")}


def batch(files: list[Path], out: Path, mode: str, jobs: int, llm=None):
    t0 = time.perf_counter()
    summary = run_batch(files, Sink(out), mode=mode, jobs=jobs, llm=llm, progress=False)
    return summary, time.perf_counter() - t0


def show(label: str, summary, dt: float) -> None:
    print(f"{label:<34} {summary.reports:>4} reports in {dt:6.2f} s = {summary.reports / dt:7.1f} reports/s   "
          f"(ok {summary.ok}, errors {summary.errors}, all rules pass {summary.rules_pass}, "
          f"LLM calls {summary.llm_calls}, cache hits {summary.llm_cache_hits})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=500, help="reports to generate (>= 500 for the README figure)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--jobs", type=int, default=4, help="threads for the --jobs N rows")
    args = ap.parse_args()
    os.environ["GKLLM_LLM"] = "off"  # the default client is never used: hybrid gets an explicit FakeLLM client
    with tempfile.TemporaryDirectory(prefix="gkllm-bench-") as tmp:
        tmp_path = Path(tmp)
        corpus = tmp_path / "reports"
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "eval.gen.layouts", "--out", str(corpus), "--n", str(args.n),
                        "--seed", str(args.seed)], check=True, cwd=ROOT, capture_output=True)
        files = discover([corpus])
        size = sum(f.stat().st_size for f in files) / max(len(files), 1)
        print(f"generated {len(files)} reports ({size / 1024:.1f} KiB mean) in {time.perf_counter() - t0:.1f} s "
              f"with eval.gen.layouts --n {args.n} --seed {args.seed}; {os.cpu_count()} cores")

        show("parser, --jobs 1", *batch(files, tmp_path / "p1.jsonl", "parser", 1))
        show(f"parser, --jobs {args.jobs}", *batch(files, tmp_path / "pN.jsonl", "parser", args.jobs))
        resumed = batch(files, tmp_path / "p1.jsonl", "parser", 1)
        print(f"{'parser, re-run (all skipped)':<34} {resumed[0].skipped:>4} files skipped in {resumed[1]:6.2f} s")

        sys.path.insert(0, str(ROOT / "tests"))
        from fake_llm import FakeLLM

        with FakeLLM() as fake:
            fake.default = {"json": NULL_NARRATIVE}
            cfg = LLMConfig(base_url=fake.base_url, model="fake", cache_dir=tmp_path / "cache", timeout=30,
                            transport_retries=0)
            with LLMClient(cfg) as client:
                show(f"hybrid, FakeLLM, cold, --jobs {args.jobs}",
                     *batch(files, tmp_path / "h0.jsonl", "hybrid", args.jobs, client))
                show(f"hybrid, FakeLLM, warm, --jobs {args.jobs}",
                     *batch(files, tmp_path / "h1.jsonl", "hybrid", args.jobs, client))
                show("hybrid, FakeLLM, warm, --jobs 1", *batch(files, tmp_path / "h2.jsonl", "hybrid", 1, client))
        print("hybrid rows: the LLM is tests/fake_llm.py's FakeLLM on 127.0.0.1 with one fixed answer (narrative: "
              "nothing stated), not a model. Table re-reads it cannot answer are rejected after re-asks and are "
              "never cached, so the warm runs still make those calls.")


if __name__ == "__main__":
    main()
