"""Parser throughput on the seeds: reports per second, one process, one core.

Start-up (imports, reading files from disk) is excluded: the seeds are read
into memory first, then extracted repeatedly from bytes. Run:

    python benchmarks/parser_throughput.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from gkllm import extract

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0, help="how long to measure")
    ap.add_argument("files", nargs="*", type=Path, help="reports to use (default: seeds/*.txt)")
    args = ap.parse_args()
    files = args.files or sorted((ROOT / "seeds").glob("*.txt"))
    blobs = [(f.name, f.read_bytes()) for f in files]
    for name, data in blobs:  # warm-up: regex compilation, lazy imports
        extract(data, mode="parser", name=name)
    n = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < args.seconds:
        for name, data in blobs:
            extract(data, mode="parser", name=name)
            n += 1
    dt = time.perf_counter() - t0
    size = sum(len(d) for _, d in blobs) / len(blobs)
    print(f"parser: {n} reports in {dt:.2f} s = {n / dt:.0f} reports/s "
          f"({dt / n * 1000:.2f} ms/report, mean {size / 1024:.1f} KiB, {len(blobs)} distinct files, 1 process)")


if __name__ == "__main__":
    main()
