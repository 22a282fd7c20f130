"""Issue 16, across years: agency names matched, `gkllm compare`, and R6 over the pairs of a batch.

Real data: pingtan-dept-08 (行政审批局, 2023) and pingtan-dept-05 (the same agency, 2024); their golds say
R6 holds (08's 结转下年度继续办理 = 05's 上年结转, all 0). A failing pair is a copy of 08 whose 新收 and
结转下年度 rows were raised by one (8000008 / 1000001: R1 still holds in it), printed under a longer name.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from gkllm.agency import group_names, normalize
from gkllm.batch import discover, run_batch
from gkllm.compare import R6_KEYS, YearReport, across_years, change, from_record
from gkllm.outputs import sink_for

from .conftest import ROOT

REAL = ROOT / "eval" / "cases" / "real"
Y2023, Y2024 = REAL / "pingtan-dept-08-text.txt", REAL / "pingtan-dept-05-text.txt"


def cli(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "GKLLM_DEBUG"}
    env["GKLLM_LLM"] = "off"
    return subprocess.run([sys.executable, "-m", "gkllm.cli", *args], capture_output=True, text=True, env=env)


def carried_forward_raised(path: Path, title: str | None = None) -> Path:
    text = Y2023.read_text(encoding="utf-8")
    for old, new in (("本年新收政府信息公开申请数量7000007", "本年新收政府信息公开申请数量8000008"),
                     ("结转下年度继续办理0000000", "结转下年度继续办理1000001")):
        assert text.count(old) == 1
        text = text.replace(old, new)
    if title:
        text = text.replace("标题: 平潭综合实验区行政审批局", f"标题: {title}", 1)
    path.write_text(text, encoding="utf-8")
    return path


# -- agency names ---------------------------------------------------------------------------------


def test_names_of_one_agency_are_matched():
    g = group_names(["洪泽区人民政府", "淮安市洪泽区人民政府", "江苏省淮安市洪泽区人民政府", "新鄉市牧野區人民政府",
                     "新乡市牧野区人民政府", "曲阳街道", "上海市虹口区曲阳街道", "淮安市人民政府"])
    assert g.key("洪泽区人民政府") == g.key("淮安市洪泽区人民政府") == "江苏省淮安市洪泽区人民政府"
    assert g.key("新鄉市牧野區人民政府") == g.key("新乡市牧野区人民政府")  # traditional characters
    assert g.key("曲阳街道") == "上海市虹口区曲阳街道"
    assert g.key("淮安市人民政府") == "淮安市人民政府"  # a city is not its district
    assert "taken as one agency: 江苏省淮安市洪泽区人民政府 = 淮安市洪泽区人民政府 = 洪泽区人民政府" in g.notes()
    assert normalize("标题: 洪泽区 人民政府") == normalize("洪泽区政府") == "洪泽区政府"


def test_names_that_could_be_several_agencies_are_not_matched():
    g = group_names(["朝阳区人民政府", "北京市朝阳区人民政府", "长春市朝阳区人民政府",
                     "行政审批局", "平潭综合实验区行政审批局", "淮安市市场监督管理局", "洪泽区市场监督管理局"])
    assert len({g.key(n) for n in ("朝阳区人民政府", "北京市朝阳区人民政府", "长春市朝阳区人民政府")}) == 3
    assert any("朝阳区人民政府 could be any of" in n for n in g.notes())
    assert g.key("行政审批局") != g.key("平潭综合实验区行政审批局")  # no place of its own: any county's
    assert g.key("淮安市市场监督管理局") != g.key("洪泽区市场监督管理局")


def test_pairs_are_consecutive_years_of_one_agency():
    def rep(key, agency, year, fwd=0, over=0):
        vals = {k: (fwd if "forward" in k else over) for k in R6_KEYS}
        return YearReport(key, f"{key}.txt", agency, year, vals)

    result = across_years([rep("a", "洪泽区人民政府", 2022), rep("b", "淮安市洪泽区人民政府", 2023, fwd=2),
                           rep("c", "洪泽区政府", 2024, over=3), rep("d", "洪泽区人民政府", 2026),
                           rep("e", "淮安市人民政府", 2023), rep("f", None, 2023)])
    assert [(p.earlier.key, p.later.key) for p in result.pairs] == [("a", "b"), ("b", "c")]
    assert not result.pairs[0].failed
    assert [r.scope for r in result.pairs[1].failed] == ["natural_person", "commercial", "research", "social_org",
                                                         "legal_service", "other_org", "total"]
    assert result.unplaced == 1
    assert "2 pairs of consecutive years, 1 failing" in result.summary()


def test_records_of_every_output_read_back_for_r6():
    nested = {"file": "a", "status": "ok", "meta": {"agency": "X区政府", "year": 2023},
              "requests": {"carried_forward": {"total": 4}}}
    assert from_record("k", nested).values["requests.carried_forward.total"] == 4
    csv_row = {"file": "a", "status": "ok", "meta.agency": "X区政府", "meta.year": "2023",
               "requests.carried_forward.total": "4", "requests.carried_over.total": ""}
    y = from_record("k", csv_row)
    assert y.year == 2023 and y.values["requests.carried_forward.total"] == 4
    assert y.values["requests.carried_over.total"] is None
    assert from_record("k", {"file": "a", "status": "error"}) is None
    assert change(94.0121, 90.1) == pytest.approx(-3.9121) and change(90.1, 94.0121) == 3.9121  # exact decimals
    assert change(None, 3) is None and change(3, 5) == 2


# -- gkllm compare ---------------------------------------------------------------------------------


def test_compare_two_years_where_r6_holds():
    proc = cli("compare", "--mode", "parser", str(Y2023), str(Y2024))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "one agency: 平潭综合实验区行政审批局" in out
    assert "R6 (2023 结转下年度继续办理 = 2024 上年结转): holds" in out
    row = next(ln for ln in out.splitlines() if ln.startswith("narrative.requests_received "))
    assert row.split() == ["narrative.requests_received", "7", "28", "+21"]
    assert sum(ln.strip().endswith(": 0 = 0") for ln in out.splitlines()) == 7  # every column, both sides 0


def test_compare_where_r6_fails(tmp_path):
    edited = carried_forward_raised(tmp_path / "2023-edited.txt", title="福建省平潭综合实验区行政审批局")
    proc = cli("compare", "--mode", "parser", "--json", str(Y2024), str(edited))  # the later year first
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["same_agency"] and data["agency"].startswith("taken as one agency")
    assert data["r6_summary"].endswith("fails")
    failed = {r["scope"]: (r["lhs"], r["rhs"]) for r in data["r6"] if r["status"] == "failed"}
    assert failed == {"natural_person": (1, 0), "total": (1, 0)}  # 2023's carried forward, 2024's carried over
    row = next(r for r in data["rows"] if r["key"] == "requests.carried_forward.total")
    assert (row["a"], row["b"], row["change"]) == (0, 1, 1)


def test_compare_not_consecutive_and_a_bad_file(tmp_path):
    proc = cli("compare", "--mode", "parser", "--changed", str(REAL / "pingtan-dept-03-text.txt"), str(Y2024))
    assert proc.returncode == 0
    assert "R6 not checked: the years (2022, 2024) are not consecutive" in proc.stdout
    assert "not taken as one agency" in proc.stdout and "do not look like one agency" in proc.stderr
    bad = tmp_path / "novel.txt"
    bad.write_text("从前有座山。\n" * 20, encoding="utf-8")
    proc = cli("compare", "--mode", "parser", str(bad), str(Y2024))
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "not a 政府信息公开工作年度报告" in proc.stderr


# -- a batch: pairs, the summary, the rules table ---------------------------------------------------


def test_batch_checks_r6_for_every_pair_and_stores_failures(tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    for p in (Y2023, Y2024, REAL / "pingtan-dept-03-text.txt"):
        (folder / p.name).write_bytes(p.read_bytes())
    carried_forward_raised(folder / "2023-edited.txt", title="福建省平潭综合实验区行政审批局")
    out = tmp_path / "results.sqlite"
    proc = cli("extract", "--mode", "parser", "--no-progress", str(folder), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert "R6 across years: 2 pairs of consecutive years, 1 failing" in lines[-1]
    failure = next(ln for ln in lines if "R6 failed" in ln)
    assert "2023-edited.txt (2023)" in failure and "pingtan-dept-05-text.txt (2024)" in failure
    assert "natural_person 1 ≠ 0" in failure and "total 1 ≠ 0" in failure
    assert any(ln.startswith("gkllm: taken as one agency: 福建省平潭综合实验区行政审批局 = ") for ln in lines)
    with sqlite3.connect(out) as conn:
        rows = conn.execute("SELECT r.file, ru.scope, ru.status, ru.lhs, ru.rhs, o.file FROM rules ru "
                            "JOIN reports r ON r.report = ru.report JOIN reports o ON o.report = ru.other_report "
                            "WHERE ru.rule = 'R6' ORDER BY ru.scope").fetchall()
        keys = {k for (k,) in conn.execute("SELECT DISTINCT agency_key FROM reports WHERE file LIKE '%0_-text.txt' "
                                           "OR file LIKE '%edited%'")}
    assert len(rows) == 14  # two pairs × seven columns
    failed = [r for r in rows if r[2] == "failed"]
    assert {r[1].split(":")[0] for r in failed} == {"natural_person", "total"}
    for file, scope, _, lhs, rhs, other in failed:
        assert file.endswith("pingtan-dept-05-text.txt") and other.endswith("2023-edited.txt")
        assert "2023-edited.txt (2023) → " in scope and "pingtan-dept-05-text.txt (2024)" in scope  # both files
        assert (lhs, rhs) == (1, 0)
    assert len(keys) == 2  # 行政审批局 (both names as one) and 交通与建设局
    # a re-run has nothing to extract, and R6 is the same over what the database holds
    again = cli("extract", "--mode", "parser", "--no-progress", str(folder), "-o", str(out))
    assert "4 skipped" in again.stderr and "2 pairs of consecutive years, 1 failing" in again.stderr


def test_r6_over_a_resumed_jsonl_batch(tmp_path):
    """Reports of an earlier run count: a pair whose first report is already in the output is still checked."""
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / Y2023.name).write_bytes(Y2023.read_bytes())
    out = tmp_path / "out.jsonl"
    assert run_batch(discover([folder]), sink_for(str(out)), mode="parser", progress=False).across.pairs == []
    (folder / Y2024.name).write_bytes(Y2024.read_bytes())
    summary = run_batch(discover([folder]), sink_for(str(out)), mode="parser", progress=False)
    assert summary.skipped == 1 and summary.reports == 1
    assert len(summary.across.pairs) == 1 and not summary.across.failed


def test_r6_in_the_workbook(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    folder = tmp_path / "reports"
    folder.mkdir()
    for p in (Y2023, Y2024):
        (folder / p.name).write_bytes(p.read_bytes())
    carried_forward_raised(folder / "2023-edited.txt", title="福建省平潭综合实验区行政审批局")
    out = tmp_path / "results.xlsx"
    run_batch(discover([folder]), sink_for(str(out)), mode="parser", progress=False)
    wb = openpyxl.load_workbook(out)
    pairs = [r for r in wb["across years"].iter_rows(min_row=2, values_only=True)]
    assert sorted((Path(r[1]).name, r[2], Path(r[3]).name, r[4], r[5], r[6]) for r in pairs) == [
        ("2023-edited.txt", 2023, "pingtan-dept-05-text.txt", 2024, "fails", "自然人; 总计"),
        ("pingtan-dept-08-text.txt", 2023, "pingtan-dept-05-text.txt", 2024, "holds", None)]
    r6 = [r for r in wb["rules failed"].iter_rows(min_row=2, values_only=True) if r[2] == "R6"]
    assert {r[3].split(":")[0] for r in r6} == {"natural_person", "total"}
    assert all("2023-edited.txt" in r[3] for r in r6)
    names = dict(wb["agencies"].iter_rows(min_row=2, values_only=True))
    assert names["平潭综合实验区行政审批局"] == "福建省平潭综合实验区行政审批局"
