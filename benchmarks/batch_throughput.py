"""Batch throughput (reports/s) of ``gkllm extract DIR -o out.jsonl`` on generated reports.

Generates a folder of reports with the layout generator (every layout: cell
dumps, pipes, tabs, markdown, glued digits, PDF text, OCR, HTML, label
variants, the 2019 template, blanks) into a temp dir, then runs the batch
(``gkllm.batch.run_batch``, the code behind the CLI) and prints reports/s for:

- parser mode, --jobs 1 (this process) and --jobs N (N worker processes), and
  the ratio of the two;
- parser mode on a local Ray instance (``--engine ray``; skipped when Ray is
  not installed), the instance started before the clock runs (its start-up
  time is printed apart);
- hybrid mode, cold and then warm cache, against tests/fake_llm.py's FakeLLM
  on 127.0.0.1 (a scripted OpenAI-compatible server with a fixed answer), so it
  runs offline. It measures gkllm's own overhead around the LLM (requests,
  instructor, cache, grounding, reconcile), not a model's speed.

    python benchmarks/batch_throughput.py [--n 500] [--jobs 2] [--seed 7] [--no-ray] [--no-hybrid]
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

NULL_NARRATIVE = {
    k: {"value": None, "sentence": None} for k in ("active_items", "requests_received", "trainings", "fee_yuan")
}


def batch(files: list[Path], out: Path, mode: str, jobs: int, llm=None):
    cpu0, kids0 = time.process_time(), _children_cpu()
    t0 = time.perf_counter()
    summary = run_batch(files, Sink(out), mode=mode, jobs=jobs, llm=llm, progress=False)
    dt = time.perf_counter() - t0
    summary.cpu = (time.process_time() - cpu0, _children_cpu() - kids0)  # this process, worker processes
    return summary, dt


def _spin(seconds: float) -> int:
    t0, n = time.process_time(), 0
    while time.process_time() - t0 < seconds:
        n += 1
    return n


def calibrate(procs: int, seconds: float = 1.0) -> float:
    """How many cores this run can have: ``procs`` busy loops of ``seconds`` CPU each, against one.

    On an idle machine with ``procs`` cores it prints ~procs×; another session's work on the same cores
    lowers it, and then no --jobs speed-up can exceed it.
    """
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    walls = []
    for k in (1, procs):
        t0 = time.perf_counter()
        with ctx.Pool(k) as pool:
            pool.map(_spin, [seconds] * k)
        walls.append(time.perf_counter() - t0)
    return procs * walls[0] / walls[1]


def _children_cpu() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)  # ended children: the pool's workers once it shut down
    return ru.ru_utime + ru.ru_stime


def show(label: str, summary, dt: float) -> None:
    cpu = getattr(summary, "cpu", None)
    spent = f"; CPU s: this process {cpu[0]:.2f}, workers {cpu[1]:.2f}" if cpu else ""
    print(f"{label:<34} {summary.reports:>4} reports in {dt:6.2f} s = {summary.reports / dt:7.1f} reports/s   "
          f"(ok {summary.ok}, errors {summary.errors}, all rules pass {summary.rules_pass}, "
          f"LLM calls {summary.llm_calls}, cache hits {summary.llm_cache_hits}{spent})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=500, help="reports to generate (>= 500 for the README figure)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="processes for the --jobs N rows")
    ap.add_argument("--no-ray", action="store_true", help="skip the Ray row")
    ap.add_argument("--no-hybrid", action="store_true", help="skip the hybrid (FakeLLM) rows")
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
              f"with eval.gen.layouts --n {args.n} --seed {args.seed}; {os.cpu_count()} cores; load average "
              f"{os.getloadavg()[0]:.1f} (other work on the machine lowers every figure, and the speed-up most)")

        print(f"{'calibration':<34} {args.jobs} busy loops ran {calibrate(args.jobs):.2f}x as fast as 1 "
              f"(an idle {args.jobs}-core machine: ~{args.jobs}x; --jobs {args.jobs} cannot beat this)")
        one = batch(files, tmp_path / "p1.jsonl", "parser", 1)
        show("parser, --jobs 1", *one)
        many = batch(files, tmp_path / "pN.jsonl", "parser", args.jobs)
        show(f"parser, --jobs {args.jobs} ({many[0].workers})", *many)
        print(f"{'parser, speed-up':<34} {one[1] / many[1]:.2f}x with --jobs {args.jobs} over --jobs 1")
        resumed = batch(files, tmp_path / "p1.jsonl", "parser", 1)
        print(f"{'parser, re-run (all skipped)':<34} {resumed[0].skipped:>4} files skipped in {resumed[1]:6.2f} s")

        if not args.no_ray:
            ray_row(files, tmp_path)
        if args.no_hybrid:
            return
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


def ray_row(files: list[Path], tmp_path: Path) -> None:
    try:
        import ray
    except ImportError:
        print(f"{'parser, --engine ray':<34} skipped: Ray is not installed (pip install 'gkllm[ray]')")
        return
    import logging

    from gkllm.parallel import cores

    t0 = time.perf_counter()
    ray.init(num_cpus=cores(), include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
             runtime_env={"env_vars": {"GKLLM_LLM": "off"}})
    started = time.perf_counter() - t0
    try:
        t0 = time.perf_counter()
        summary = run_batch(files, Sink(tmp_path / "ray.jsonl"), mode="parser", engine="ray", progress=False)
        dt = time.perf_counter() - t0
        show(f"parser, --engine ray ({summary.workers})", summary, dt)
        print(f"{'':<34} (a local Ray instance; its start, {started:.1f} s, is not in the figure)")
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
