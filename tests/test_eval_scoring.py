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
    assert s.wrong == [{"key": "active.licensing", "gold": 15498, "got": 15499, "missing": False,
                        "kind": "wrong_number"}]
    assert s.by_part["2"] == [9, 10]
    assert (s.wrong_numbers, s.missed, s.missing_keys) == (1, 0, 0)


def test_null_against_zero_and_zero_against_null():
    pred = dict(GOLD, **{"requests.granted.research": None, "narrative.trainings": 0})
    s = score_values(pred, GOLD)
    assert {w["key"] for w in s.wrong} == {"requests.granted.research", "narrative.trainings"}
    kinds = {w["key"]: w["kind"] for w in s.wrong}
    assert kinds == {"requests.granted.research": "missed",  # null where the gold prints 0: honest, a miss
                     "narrative.trainings": "wrong_number"}   # 0 where the gold is null: an invented number
    assert (s.wrong_numbers, s.missed) == (1, 1)


def test_wrong_number_is_counted_as_wrong_not_as_missed():
    pred = dict(GOLD, **{"requests.new.total": 4, "requests.new.natural_person": 30, "active.fees": 94.0122,
                         "requests.granted.total": None, "review.reconsideration.total": None})
    s = score_values(pred, GOLD)
    assert s.wrong_numbers == 3 and s.missed == 2 and s.missing_keys == 0
    assert s.correct == s.total - 5
    assert s.count("wrong_number", "3") == 2 and s.count("wrong_number", "2") == 1
    assert s.count("missed", "3") == 1 and s.count("missed", "4") == 1


def test_a_string_is_a_wrong_number_and_an_absent_key_a_miss():
    pred = dict(GOLD, **{"active.fees": "94.0121"})
    del pred["requests.new.total"]  # gold 3, absent: nothing was claimed
    del pred["narrative.trainings"]  # gold null, absent: neither wrong nor missed, a missing key
    s = score_values(pred, GOLD)
    assert {w["key"]: w["kind"] for w in s.wrong} == {
        "active.fees": "wrong_number", "requests.new.total": "missed", "narrative.trainings": "missing_key"}


def test_kind_of_records_without_a_kind():  # report.json files written before kinds existed
    from gkllm.evaluation.scoring import kind_of

    assert kind_of({"key": "k", "gold": 3, "got": 4, "missing": False}) == "wrong_number"
    assert kind_of({"key": "k", "gold": None, "got": 0, "missing": False}) == "wrong_number"
    assert kind_of({"key": "k", "gold": 3, "got": None, "missing": False}) == "missed"
    assert kind_of({"key": "k", "gold": 3, "got": None, "missing": True}) == "missed"
    assert kind_of({"key": "k", "gold": None, "got": None, "missing": True}) == "missing_key"


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
    assert [(r["case"], r["key"], r["gold"], r["got"], r["kind"]) for r in regs] == [
        ("003_d677def7845cc038", "active.licensing", 15498, 15497, "wrong_number")
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
    proc = subprocess.run(cmd[:-1] + [str(tmp_path / "now2"), "--min-accuracy", "0.999"],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "below --min-accuracy" in proc.stderr
    # one wrong number (15497 printed, gold 15498): --max-wrong 1 passes, --max-wrong 0 fails
    proc = subprocess.run(cmd[:-1] + [str(tmp_path / "now3"), "--max-wrong", "1"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run(cmd[:-1] + [str(tmp_path / "now4"), "--max-wrong", "0"], capture_output=True, text=True)
    assert proc.returncode == 1 and "1 wrong numbers, more than --max-wrong 0" in proc.stderr
    assert "wrong numbers" in proc.stdout  # the printed table has the column


def test_eval_filter_repeated_takes_cases_matching_any(tmp_path):
    cases_dir = _copy_seed_case(tmp_path)
    for f in cases_dir.iterdir():  # a second case: the same report under another name
        (cases_dir / f.name.replace("003_", "009_")).write_bytes(f.read_bytes())
    (cases_dir / "010_other.txt").write_text("not a report", encoding="utf-8")
    (cases_dir / "010_other.gold.json").write_text("{}", encoding="utf-8")
    cmd = [sys.executable, "-m", "gkllm.cli", "eval", str(cases_dir), "--out", str(tmp_path / "o"),
           "--filter", "003_", "--filter", "009_"]
    assert subprocess.run(cmd, capture_output=True).returncode == 0
    report = json.loads((tmp_path / "o" / "report.json").read_text(encoding="utf-8"))
    assert sorted(report["modes"]["parser"]["cases"]) == ["003_d677def7845cc038", "009_d677def7845cc038"]


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
    assert s.wrong_numbers == 1  # a guess among the candidates is still a wrong number


def test_ambiguous_keys_of_a_case_that_declares_none_are_credited_from_the_diagnostics():
    """Hand-written golds (the real cases) list no ambiguous keys: the report's own diagnostics decide."""
    from gkllm.evaluation.scoring import credit_ambiguous
    from gkllm.models import Diagnostic

    gold = dict(GOLD, **{"active.normative_docs.issued": 2, "active.normative_docs.repealed": 4,
                         "active.normative_docs.in_force": 33})
    keys = ["active.normative_docs.issued", "active.normative_docs.repealed", "active.normative_docs.in_force"]
    pred = dict(gold, **{k: None for k in keys})
    flagged = Diagnostic(kind="ambiguous", keys=keys, message="'2433' splits 2 ways", candidates=[
        {"active.normative_docs.issued": 24, "active.normative_docs.repealed": 3, "active.normative_docs.in_force": 3},
        {"active.normative_docs.issued": 2, "active.normative_docs.repealed": 4, "active.normative_docs.in_force": 33}])
    s = score_values(pred, gold)
    credit_ambiguous(s, None, [flagged])  # None: the case declares nothing
    assert s.exact and s.ambiguous_flagged == 3 and s.missed == 0
    s = score_values(pred, gold)  # without the diagnostic the nulls are misses, not wrong numbers
    credit_ambiguous(s, None, [])
    assert (s.missed, s.wrong_numbers, s.ambiguous_flagged) == (3, 0, 0)
    other = Diagnostic(kind="blank_as_zero", keys=keys, message="", candidates=flagged.candidates)
    s = score_values(pred, gold)  # only an "ambiguous" diagnostic is evidence
    credit_ambiguous(s, None, [other])
    assert s.missed == 3
    s = score_values(pred, gold)  # the gold not among the candidates: missed
    credit_ambiguous(s, None, [Diagnostic(kind="ambiguous", keys=keys, message="", candidates=flagged.candidates[:1])])
    assert s.missed == 3 and s.ambiguous_flagged == 0
    s = score_values(pred, gold)  # a case that declares an empty list: nothing is creditable
    credit_ambiguous(s, [], [flagged])
    assert s.missed == 3
    s = score_values(pred, gold)  # a declared list restricts crediting to its keys
    credit_ambiguous(s, keys[:1], [flagged])
    assert s.ambiguous_flagged == 1 and s.missed == 2
    absent = dict(pred)
    del absent[keys[0]]
    s = score_values(absent, gold)  # an absent key is never credited
    credit_ambiguous(s, None, [flagged])
    assert s.ambiguous_flagged == 2 and [w["key"] for w in s.wrong] == keys[:1]


def test_real_cases_are_found_as_real(tmp_path):
    real = tmp_path / "cases" / "real"
    real.mkdir(parents=True)
    other = tmp_path / "cases" / "seeds"
    other.mkdir()
    for folder in (real, other):
        for name in ("003_d677def7845cc038.txt", "003_d677def7845cc038.gold.json"):
            shutil.copy(SEED_GOLD / name, folder / name)
    assert [(c.id, c.real) for c in find_cases(tmp_path / "cases")] == [
        ("real/003_d677def7845cc038", True), ("seeds/003_d677def7845cc038", False)]
    assert [c.real for c in find_cases(real)] == [True]
    assert find_cases(real)[0].ambiguous_keys is None  # the seed's gold declares no ambiguous keys


def test_run_reports_wrong_numbers_and_misses_per_case_tag_part_and_overall(tmp_path):
    from gkllm.evaluation.render import markdown

    cases_dir = tmp_path / "cases"
    for folder in ("real", "seeds"):
        (cases_dir / folder).mkdir(parents=True)
        for name in ("003_d677def7845cc038.txt", "003_d677def7845cc038.gold.json"):
            shutil.copy(SEED_GOLD / name, cases_dir / folder / name)
    # the real copy's gold disagrees with one printed number, and has one its source does not print
    gold = load_gold(cases_dir / "real" / "003_d677def7845cc038.gold.json")
    gold["active.licensing"] = 15497  # the gold now disagrees with the printed 15498: the prediction is wrong
    gold["narrative.trainings"] = 7  # the prose states no training count: the prediction's null is a miss
    (cases_dir / "real" / "003_d677def7845cc038.gold.json").write_text(json.dumps(gold, ensure_ascii=False), "utf-8")
    out = run(find_cases(cases_dir), ["parser"])["modes"]["parser"]
    assert list(out["cases"]) == ["real/003_d677def7845cc038", "seeds/003_d677def7845cc038"]  # real first
    rec = out["cases"]["real/003_d677def7845cc038"]
    assert (rec["wrong_numbers"], rec["missed"], rec["real"], rec["exact"]) == (1, 1, True, False)
    assert [w["kind"] for w in rec["wrong"]] == ["wrong_number", "missed"]  # wrong numbers listed first
    assert out["real"]["wrong_numbers"] == 1 and out["real"]["missed"] == 1 and out["real"]["reports"] == 1
    assert out["overall"]["wrong_numbers"] == 1 and out["overall"]["reports"] == 2
    assert out["overall"]["by_part"]["2"]["wrong_numbers"] == 1
    assert out["overall"]["by_part"]["narrative"]["missed"] == 1
    assert out["by_tag"]["real"]["wrong_numbers"] == 1 and out["by_tag"]["seeds"]["wrong_numbers"] == 0
    assert list(out["by_tag"]) == ["real", "seeds"] and out["real_tags"] == ["real"]
    md = markdown({"date": "d", "gkllm_version": "v", "cases": 2, "modes": {"parser": out}})
    assert md.index("## Real cases") < md.index("## Overall") < md.index("## Wrong numbers") < md.index("## Missed")
    head = next(line for line in md.splitlines() if "| real · parser" in line)
    assert head == "|  | real · parser | all · parser |"
    rows = [line for line in md.splitlines() if line.startswith("| accuracy") or line.startswith("| wrong numbers")]
    assert rows == ["| accuracy | 99.02% (202/204) | 99.51% (406/408) |", "| wrong numbers | 1 | 1 |"]


def test_spaced_digits_in_a_span_are_grounded_but_other_numbers_are_not():
    from gkllm.grounding import provenance_grounded
    from gkllm.models import Provenance

    text = "行政许可\t1 2\t其他\t20 0"
    p = Provenance(method="parser", start=text.index("1 2"), end=text.index("1 2") + 3, text="1 2")
    assert provenance_grounded(12, p, text)
    assert not provenance_grounded(13, p, text)
    assert not provenance_grounded(5, Provenance(method="llm"), text)  # no span, no text: ungrounded
