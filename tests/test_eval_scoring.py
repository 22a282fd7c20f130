"""The harness cannot report a false 100%: scoring on hand-made predictions."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from gkllm.evaluation.cases import find_cases
from gkllm.evaluation.runner import regressions, run
from gkllm.evaluation.scoring import score_rules, score_values, scored_keys
from gkllm.models import RuleResult
from gkllm.template import table_keys

from .conftest import SEED_GOLD, load_gold

GOLD = load_gold(SEED_GOLD / "003_d677def7845cc038.gold.json")


def test_perfect_prediction_scores_all():
    s = score_values(dict(GOLD), GOLD)
    assert s.total == 200 + 4 and s.correct == s.total and s.exact and not s.wrong


def test_wrong_value():
    pred = dict(GOLD, **{"active.licensing": 15499})
    s = score_values(pred, GOLD)
    assert s.correct == s.total - 1 and not s.exact
    assert s.wrong == [{"key": "active.licensing", "gold": 15498, "got": 15499, "missing": False}]
    assert s.by_part["2"] == [9, 10]


def test_null_against_zero_and_zero_against_null():
    pred = dict(GOLD, **{"requests.granted.research": None, "narrative.trainings": 0})
    s = score_values(pred, GOLD)
    assert {w["key"] for w in s.wrong} == {"requests.granted.research", "narrative.trainings"}


def test_missing_key_is_wrong_even_when_gold_is_null():
    pred = dict(GOLD)
    del pred["narrative.trainings"]  # gold: null
    del pred["review.reconsideration.total"]
    s = score_values(pred, GOLD)
    assert {w["key"] for w in s.wrong} == {"narrative.trainings", "review.reconsideration.total"}
    assert all(w["missing"] for w in s.wrong)


def test_decimals_within_tolerance():
    assert score_values(dict(GOLD, **{"active.fees": 94.01210000001}), GOLD).exact
    assert not score_values(dict(GOLD, **{"active.fees": 94.0122}), GOLD).exact
    assert not score_values(dict(GOLD, **{"active.fees": "94.0121"}), GOLD).exact  # a string is not a number


def test_empty_prediction_scores_zero():
    s = score_values({}, GOLD)
    assert s.correct == 0 and s.total == len(scored_keys(GOLD))


def test_scored_keys_follow_the_gold_template():
    g2019 = {"meta.template": "2019"}
    assert scored_keys(g2019) == table_keys("2019")


def test_rule_verdicts_against_gold():
    gold = dict(GOLD, **{"requests.granted.total": 5})  # gold itself breaks R3:granted and R2:total
    s = score_values(gold, gold)
    predicted = [RuleResult(id="R3", scope="granted", status="failed")]
    score_rules(s, predicted, gold)
    assert s.broken_rules_total == 2  # R3:granted, R2:total
    assert s.broken_rules_reported == 1
    assert s.rules_agree < s.rules_total


def _copy_seed_case(tmp_path: Path) -> Path:
    cases = tmp_path / "cases"
    cases.mkdir()
    for name in ("003_d677def7845cc038.txt", "003_d677def7845cc038.gold.json"):
        shutil.copy(SEED_GOLD / name, cases / name)
    return cases


def test_run_and_regression_against_baseline(tmp_path):
    cases_dir = _copy_seed_case(tmp_path)
    cases = find_cases(cases_dir)
    assert [c.id for c in cases] == ["003_d677def7845cc038"]
    base = run(cases, ["parser"])
    assert base["modes"]["parser"]["overall"]["accuracy"] == 1.0
    assert base["modes"]["parser"]["overall"]["ungrounded"] == 0
    # the source changes under the same gold: one printed number now differs
    txt = cases_dir / "003_d677def7845cc038.txt"
    txt.write_text(txt.read_text(encoding="utf-8").replace("15498", "15497"), encoding="utf-8")
    now = run(find_cases(cases_dir), ["parser"])
    regs = regressions(now, base)
    assert [(r["case"], r["key"], r["gold"], r["got"]) for r in regs] == [
        ("003_d677def7845cc038", "active.licensing", 15498, 15497)
    ]


def test_a_case_that_fails_scores_zero_not_skipped(tmp_path):
    cases_dir = _copy_seed_case(tmp_path)
    (cases_dir / "003_d677def7845cc038.txt").write_bytes(b"")
    res = run(find_cases(cases_dir), ["parser"])["modes"]["parser"]
    assert res["overall"]["accuracy"] == 0.0 and res["overall"]["errors"] == 1


def test_eval_cli_exit_codes(tmp_path):
    cases_dir = _copy_seed_case(tmp_path)
    cmd = [sys.executable, "-m", "gkllm.cli", "eval", str(cases_dir), "--out", str(tmp_path / "base")]
    assert subprocess.run(cmd, capture_output=True).returncode == 0
    base = json.loads((tmp_path / "base" / "report.json").read_text(encoding="utf-8"))
    assert base["modes"]["parser"]["overall"]["correct"] == 204
    assert (tmp_path / "base" / "report.md").read_text(encoding="utf-8").startswith("# gkllm eval")
    txt = cases_dir / "003_d677def7845cc038.txt"
    txt.write_text(txt.read_text(encoding="utf-8").replace("15498", "15497"), encoding="utf-8")
    proc = subprocess.run(cmd[:-1] + [str(tmp_path / "now"), "--baseline", str(tmp_path / "base" / "report.json")],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert "active.licensing" in proc.stderr
    proc = subprocess.run(cmd[:-1] + [str(tmp_path / "now2"), "--min-accuracy", "0.999"], capture_output=True, text=True)
    assert proc.returncode == 1 and "below --min-accuracy" in proc.stderr


def test_ambiguous_keys_score_only_when_null_and_flagged_with_the_gold():
    from gkllm.evaluation.scoring import credit_ambiguous
    from gkllm.models import Diagnostic

    gold = dict(GOLD, **{"active.rules.issued": 20, "active.rules.repealed": 4, "active.rules.in_force": 1})
    keys = ["active.rules.issued", "active.rules.repealed", "active.rules.in_force"]
    pred = dict(gold, **{k: None for k in keys})
    flagged = Diagnostic(kind="ambiguous", keys=keys, message="2 splits", candidates=[
        {"active.rules.issued": 2, "active.rules.repealed": 0, "active.rules.in_force": 41},
        {"active.rules.issued": 20, "active.rules.repealed": 4, "active.rules.in_force": 1}])
    s = score_values(pred, gold)
    credit_ambiguous(s, keys, [flagged])
    assert s.exact and s.ambiguous_flagged == 3
    s = score_values(pred, gold)  # null without the diagnostic: wrong
    credit_ambiguous(s, keys, [])
    assert s.correct == s.total - 3
    wrong_candidates = Diagnostic(kind="ambiguous", keys=keys, message="", candidates=[flagged.candidates[0]])
    s = score_values(pred, gold)  # the gold is not among the candidates: wrong
    credit_ambiguous(s, keys, [wrong_candidates])
    assert s.correct == s.total - 3
    s = score_values(dict(gold, **{"active.rules.issued": 2}), gold)  # a guess: wrong
    credit_ambiguous(s, keys, [flagged])
    assert [w["key"] for w in s.wrong] == ["active.rules.issued"]


def test_spaced_digits_in_a_span_are_grounded_but_other_numbers_are_not():
    from gkllm.grounding import provenance_grounded
    from gkllm.models import Provenance

    text = "行政许可\t1 2\t其他\t20 0"
    p = Provenance(method="parser", start=text.index("1 2"), end=text.index("1 2") + 3, text="1 2")
    assert provenance_grounded(12, p, text)
    assert not provenance_grounded(13, p, text)
    assert not provenance_grounded(5, Provenance(method="llm"), text)  # no span, no text: ungrounded
