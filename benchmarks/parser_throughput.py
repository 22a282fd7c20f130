"""Parser throughput on the seeds: reports per second, one process, one core,
and its ratio to a floor that any reader must pay.

The floor, measured in the same run on the same bytes: decode the bytes and
scan every number once with one regex. Start-up (imports, reading files from
disk) is excluded: the reports are read into memory first, then extracted
repeatedly from bytes. Run:

    python benchmarks/parser_throughput.py [--seconds 5] [FILES...]
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path
from typing import Callable

from gkllm import extract

ROOT = Path(__file__).resolve().parent.parent
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _rate(work: Callable[[str, bytes], object], blobs: list[tuple[str, bytes]], seconds: float) -> tuple[int, float]:
    n = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for name, data in blobs:
            work(name, data)
            n += 1
    return n, time.perf_counter() - t0


def _floor(name: str, data: bytes) -> int:
    return sum(1 for _ in _NUMBER.finditer(data.decode("utf-8", errors="replace")))


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0, help="how long to measure each")
    ap.add_argument("files", nargs="*", type=Path, help="reports to use (default: seeds/*.txt)")
    args = ap.parse_args()
    files = args.files or sorted((ROOT / "seeds").glob("*.txt"))
    blobs = [(f.name, f.read_bytes()) for f in files]
    for name, data in blobs:  # warm-up: regex compilation, lazy imports
        extract(data, mode="parser", name=name)
    n, dt = _rate(lambda name, data: extract(data, mode="parser", name=name), blobs, args.seconds)
    fn, fdt = _rate(_floor, blobs, min(args.seconds, 2.0))
    per, floor = dt / n, fdt / fn
    size = sum(len(d) for _, d in blobs) / len(blobs)
    print(f"parser: {n} reports in {dt:.2f} s = {n / dt:.0f} reports/s ({per * 1000:.2f} ms/report, "
          f"mean {size / 1024:.1f} KiB, {len(blobs)} distinct files, 1 process)")
    print(f"floor (decode + one regex over every number): {fn / fdt:.0f} reports/s ({floor * 1000:.3f} ms/report); "
          f"parser = {per / floor:.1f}x the floor")


if __name__ == "__main__":
    main()
