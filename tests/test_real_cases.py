"""The parser on the real cases may only get better than the committed baseline.

``eval/baselines/real.parser.json`` is the report.json of
``gkllm eval eval/cases/real --mode parser``. This test runs the parser over the
same cases and fails on

- any value right in the baseline that is now a wrong number or missed (null);
- more wrong numbers in total than the baseline has (a null becoming a wrong
  number is not a right→wrong regression, but it is worse);
- a case of the baseline that is gone, or a case the baseline does not cover.

When the parser gets better (or a case is added), regenerate the baseline —
see eval/README.md:

    gkllm eval eval/cases/real --mode parser --save-json eval/baselines/real.parser.json
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from gkllm.evaluation.cases import find_cases
from gkllm.evaluation.runner import regressions, run_case

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / "eval" / "cases" / "real"
BASELINE = ROOT / "eval" / "baselines" / "real.parser.json"
REGENERATE = "gkllm eval eval/cases/real --mode parser --save-json eval/baselines/real.parser.json"


def _parse(case):
    return case.id, run_case(case, "parser")


def _current() -> dict:
    cases = find_cases(REAL)
    assert cases, f"no cases under {REAL}"
    # the PDF cases take ~0.5 s each: both cores
    with ProcessPoolExecutor(max_workers=max(1, min(2, os.cpu_count() or 1))) as pool:
        records = dict(pool.map(_parse, cases, chunksize=4))
    return {"modes": {"parser": {"cases": records}}}


def test_parser_on_the_real_cases_is_no_worse_than_the_baseline():
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))
    before = baseline["modes"]["parser"]["cases"]
    current = _current()
    now = current["modes"]["parser"]["cases"]

    problems = []
    gone = sorted(set(before) - set(now))
    new = sorted(set(now) - set(before))
    if gone:
        problems.append(f"cases in the baseline but not under eval/cases/real: {gone}")
    if new:
        problems.append(f"cases the baseline does not cover: {new}")
    regs = regressions(current, baseline)
    if regs:
        problems.append(f"{len(regs)} values right in the baseline are not right now:")
        problems += [f"  {r['case']} {r['key']}: gold {r['gold']!r}, got {r['got']!r} "
                     f"({'right → wrong number' if r['kind'] == 'wrong_number' else 'right → ' + r['kind']})"
                     for r in regs]
    wrong_before = sum(rec["wrong_numbers"] for rec in before.values())
    wrong_now = sum(rec["wrong_numbers"] for rec in now.values())
    if wrong_now > wrong_before:
        problems.append(f"{wrong_now} wrong numbers, the baseline has {wrong_before}:")
        problems += [f"  {cid} {w['key']}: gold {w['gold']!r}, got {w['got']!r}"
                     for cid, rec in now.items() for w in rec["wrong"] if w["kind"] == "wrong_number"]
    assert not problems, "\n".join(problems) + f"\n(better on purpose? regenerate the baseline: {REGENERATE})"


def test_baseline_is_a_parser_run_over_the_real_cases():
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))
    assert list(baseline["modes"]) == ["parser"]
    assert Path(baseline["cases_dir"]).parts[-3:] == ("eval", "cases", "real")
    assert all(rec["real"] for rec in baseline["modes"]["parser"]["cases"].values())
