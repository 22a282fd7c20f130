"""OCR speed and memory: seconds per page and the reader's peak memory, on scanned real reports.

For each file (default: three of eval/cases/scan: a scanned PDF, a multi-page
TIFF and the PNG of part 3), a fresh Python process runs the reader as
``gkllm extract`` does (``gkllm.ingest.read_path``: the PDF text child, then
the OCR child under its caps) and reports:

- pages, OCR seconds per page (the OCR child's own timing of each page:
  raster or decode, orientation, deskew, ruling lines, detection,
  recognition, layout), and the wall time of the whole read;
- peak resident memory of the OCR child (``ru_maxrss`` of the reader's
  children) and of the calling process.

    python benchmarks/ocr_speed.py [FILE ...] [--threads N]

Run it on an idle machine: the figures scale with free cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCAN = ROOT / "eval" / "cases" / "scan"
DEFAULT = [SCAN / "pingtan-dept-01-scan.pdf", SCAN / "pingtan-dept-09-tiff.tif", SCAN / "pingtan-dept-01-part3.png"]

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from gkllm.ingest import read_path
doc = read_path(sys.argv[1])
wall = time.perf_counter() - t0
rec = doc.ocr or {}
print(json.dumps({
    "pages": [p["seconds"] for p in rec.get("pages", [])],
    "wall": wall,
    "child_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    "self_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path, default=DEFAULT)
    ap.add_argument("--threads", type=int, default=0, help="ONNX runtime threads (GKLLM_OCR_THREADS; 0: the cores)")
    args = ap.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT), GKLLM_PROGRESS="0")
    if args.threads:
        env["GKLLM_OCR_THREADS"] = str(args.threads)
    print(f"cores: {os.cpu_count()}, load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"{'file':<34} {'pages':>5} {'s/page':>7} {'min':>6} {'max':>6} {'wall s':>7} {'OCR child MB':>12} "
          f"{'caller MB':>9}")
    all_pages: list[float] = []
    for f in args.files:
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", CHILD, str(f)], capture_output=True, text=True, env=env)
        if out.returncode != 0:
            print(f"{f.name:<34} failed: {out.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        pages = r["pages"]
        all_pages += pages
        mean = sum(pages) / len(pages) if pages else float("nan")
        print(f"{f.name:<34} {len(pages):>5} {mean:>7.2f} {min(pages, default=0):>6.2f} {max(pages, default=0):>6.2f} "
              f"{time.perf_counter() - t0:>7.1f} {r['child_peak_mb']:>12.0f} {r['self_peak_mb']:>9.0f}")
    if all_pages:
        print(f"all: {len(all_pages)} pages, {sum(all_pages) / len(all_pages):.2f} s a page")
    return 0


if __name__ == "__main__":
    sys.exit(main())
