"""Issue 16, outputs: Excel, Parquet, CSV with a BOM, SQLite and PostgreSQL, each opened with its own reader
and checked against the JSON output of the same reports; resume by content hash into each."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gkllm.batch import Sink, discover, run_batch
from gkllm.outputs import sink_for
from gkllm.outputs.rows import flat_of, value_keys
from gkllm.template import flat_keys

from .conftest import ROOT, SEEDS

REAL = ROOT / "eval" / "cases" / "real"
# the real reports as the crawler's text and as the agency's page, and the seeds: 21 files, 13 distinct reports' worth
CORPUS = sorted(REAL.glob("*-text.txt")) + sorted(REAL.glob("*-page.html")) + SEEDS



# openpyxl and pyarrow are imported by the tests that use them, not when pytest collects this module: a
# bigger pytest process makes every child it starts look bigger (the fork's peak RSS survives exec), and
# tests/test_hostile.py measures its children's peak memory.
def _openpyxl():
    return pytest.importorskip("openpyxl", reason="pip install 'gkllm[outputs]' (openpyxl)")


def _pyarrow():
    return pytest.importorskip("pyarrow", reason="pip install 'gkllm[outputs]' (pyarrow)")


def cli(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k != "GKLLM_DEBUG"}
    base["GKLLM_LLM"] = "off"
    base.update(env or {})
    return subprocess.run([sys.executable, "-m", "gkllm.cli", *args], capture_output=True, text=True, env=base,
                          timeout=timeout)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("corpus")
    for p in CORPUS:
        shutil.copy(p, d / p.name)
    (d / "broken.txt").write_text("从前有座山，山里有座庙。\n" * 20, encoding="utf-8")  # not a report: an error row
    return d


@pytest.fixture(scope="module")
def reference(corpus, tmp_path_factory) -> dict[str, dict]:
    """The JSON output of the same batch, by file name: what every other output must agree with."""
    out = tmp_path_factory.mktemp("ref") / "ref.jsonl"
    run_batch(discover([corpus]), Sink(out), mode="parser", progress=False)
    recs = [json.loads(ln) for ln in out.read_text(encoding="utf-8").splitlines()]
    assert len(recs) == len(CORPUS) + 1
    return {Path(r["file"]).name: r for r in recs}


def batch_into(corpus: Path, output: str | Path, jobs: int = 1):
    return run_batch(discover([corpus]), sink_for(str(output)), mode="parser", jobs=jobs, progress=False)


def same(a, b) -> bool:
    """Equal as numbers (an int stored as a float, a decimal as a double) or both null."""
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) < 1e-9


def check_row(row: dict, ref: dict, *, text: bool = False) -> None:
    """One output row against the JSON record of the same file."""
    assert row["status"] == ref["status"], (row["file"], row["status"])
    if ref["status"] == "error":
        assert row["error_code"] == ref["error"]["code"]
        return
    flat = flat_of(ref)
    year = row["year"]
    assert row["agency"] == ref["meta"]["agency"] and (int(year) if year is not None else None) == ref["meta"]["year"]
    assert row["template"] == ref["meta"]["template"]
    failed = sorted(f"{r['id']}:{r['scope']}" for r in ref["rules"] if r["status"] == "failed")
    got = row["rules_failed"]
    got = [g.strip() for g in got.split(";")] if isinstance(got, str) and got else got or []
    assert sorted(got) == failed
    for k in value_keys():
        want = flat.get(k)
        v = row[k]
        if text:  # CSV: text cells, "" is null
            v = None if v == "" else float(v)
        assert same(v, want), (row["file"], k, v, want)


# -- Excel ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def xlsx(corpus, tmp_path_factory) -> Path:
    _openpyxl()
    out = tmp_path_factory.mktemp("xlsx") / "results.xlsx"
    summary = batch_into(corpus, out)
    assert summary.reports == len(CORPUS) + 1 and summary.errors == 1
    return out


def sheet_records(ws) -> list[dict]:
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def test_xlsx_reports_sheet_matches_json(xlsx, reference):
    wb = _openpyxl().load_workbook(xlsx)
    assert wb.sheetnames[:4] == ["reports", "rules failed", "across years", "agencies"]
    rows = sheet_records(wb["reports"])
    assert len(rows) == len(reference)
    for row in rows:
        check_row(row, reference[Path(row["file"]).name])
    # the cells of a failing rule are filled: pingtan-dept-02 prints an inconsistent part 3
    ws = wb["reports"]
    header = [c.value for c in ws[1]]
    line = next(r for r in ws.iter_rows(min_row=2) if r[0].value.endswith("pingtan-dept-02-text.txt"))
    col = header.index("requests.results_total.total")
    assert line[col].fill.fgColor.rgb.endswith("FFC7CE")
    assert line[header.index("active.licensing")].fill.fgColor.rgb in (None, "00000000")
    failed = sheet_records(wb["rules failed"])
    mine = [f for f in failed if f["file"].endswith("pingtan-dept-02-text.txt")]
    assert {f["rule"] + ":" + f["scope"] for f in mine} == {"R1:commercial", "R3:partial", "R3:results_total"}
    assert all(f["detail"] and f["cells"] for f in mine)
    # one report per sheet row only: no part sheets for a batch
    assert "概况" not in wb.sheetnames


def test_xlsx_single_report_has_the_template_s_own_labels(tmp_path):
    src = REAL / "pingtan-dept-02-text.txt"
    out = tmp_path / "one.xlsx"
    proc = cli("extract", "--mode", "parser", str(src), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    ref = json.loads(cli("extract", "--mode", "parser", str(src)).stdout)
    wb = _openpyxl().load_workbook(out)
    part2, part3, part4, overview = (wb[n] for n in wb.sheetnames[4:8])
    assert part3.title == "三、收到和处理政府信息公开申请情况"
    # part 3: the template's row labels down, its applicant columns across
    cols = [c.value for c in part3[3]]
    assert cols[1:8] == ["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]
    rows = {r[0].value: r for r in part3.iter_rows(min_row=4) if r[0].value}
    new = rows["一、本年新收政府信息公开申请数量"]
    assert [c.value for c in new[1:8]] == [ref["requests"]["new"][c] for c in
                                            ("natural_person", "commercial", "research", "social_org",
                                             "legal_service", "other_org", "total")]
    assert "（三）不予公开" in rows and "1.属于国家秘密" in rows
    # a failing rule's cells: red, with the rule as a comment
    total = rows["（七）总计"][7]
    assert total.fill.fgColor.rgb.endswith("FFC7CE") and "R3 results_total" in total.comment.text
    assert rows["一、本年新收政府信息公开申请数量"][1].comment is None
    # part 2: the template's sub-table headers; part 4: review groups × outcomes
    p2 = [[c.value for c in r] for r in part2.iter_rows()]
    assert ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"] in p2
    fees = next(r for r in p2 if r[0] == "行政事业性收费")
    assert fees[1] == ref["active"]["fees"]
    p4 = [[c.value for c in r] for r in part4.iter_rows()]
    assert p4[1][1:] == ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
    assert p4[2][0] == "行政复议" and p4[2][5] == ref["review"]["reconsideration"]["total"]
    facts = {r[0].value: r[1].value for r in overview.iter_rows() if r and r[0].value}
    assert facts["agency"] == ref["meta"]["agency"] and facts["year"] == ref["meta"]["year"]


def test_xlsx_resumes_and_keeps_what_it_had(corpus, tmp_path):
    out = tmp_path / "r.xlsx"
    files = discover([corpus])
    first = run_batch(files[:5], sink_for(str(out)), mode="parser", progress=False)
    assert first.reports == 5
    again = run_batch(files, sink_for(str(out)), mode="parser", progress=False)
    assert again.skipped == 5 and again.reports == len(files) - 5
    rows = sheet_records(_openpyxl().load_workbook(out, read_only=True)["reports"])
    assert sorted(r["file"] for r in rows) == sorted(str(f) for f in files)
    assert not (tmp_path / "r.xlsx.journal.jsonl").exists()


def test_a_journal_left_by_a_killed_run_is_recovered(corpus, tmp_path):
    """Excel and Parquet are written at the end: a run killed before that leaves its journal, which the next
    run counts as done and writes into the output."""
    _pyarrow()
    out = tmp_path / "r.parquet"
    files = [f for f in discover([corpus]) if f.name != "broken.txt"]
    run_batch(files[:3], sink_for(str(out)), mode="parser", progress=False)
    sink = sink_for(str(out))
    sink.done()
    sink.open()
    for rec in _records(files[3:6]):
        sink.write(rec)
    sink._fh.close()  # killed: no close(), the output was not rewritten; the last journal line is cut
    journal = tmp_path / "r.parquet.journal.jsonl"
    journal.write_bytes(journal.read_bytes()[:-40])
    warnings: list[str] = []
    again = run_batch(files, sink_for(str(out)), mode="parser", progress=False, on_warning=warnings.append)
    assert again.skipped == 5 and again.reports == len(files) - 5  # 3 written + 2 whole journal lines
    assert "2 reports of an interrupted run recovered" in warnings[0] and "1 cut record redone" in warnings[0]
    import pyarrow.parquet as pq

    table = pq.read_table(out)
    assert sorted(table.column("file").to_pylist()) == sorted(str(f) for f in files)
    assert not journal.exists()


def _records(files):
    from gkllm.batch import ok_record, sha256_of
    from gkllm.pipeline import extract

    for f in files:
        yield ok_record(f, sha256_of(f), extract(f, mode="parser").to_json_dict(), True)


def test_an_output_gkllm_did_not_write_is_refused_untouched(corpus, tmp_path):
    for name, content in (("notes.xlsx", b"PK\x03\x04 not really"), ("notes.parquet", b"PAR1garbage"),
                          ("notes.sqlite", b"my notes, not a database" * 100)):
        out = tmp_path / name
        out.write_bytes(content)
        proc = cli("extract", "--mode", "parser", "--no-progress", str(corpus), "-o", str(out))
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert proc.stderr.count("\n") == 1 and str(out) in proc.stderr
        assert out.read_bytes() == content


# -- Parquet ----------------------------------------------------------------------------------


def test_parquet_has_typed_columns_and_the_json_values(corpus, reference, tmp_path):
    pa = _pyarrow()
    import pyarrow.parquet as pq

    out = tmp_path / "results.parquet"
    summary = batch_into(corpus, out, jobs=2)
    assert summary.reports == len(reference)
    table = pq.read_table(out)
    schema = table.schema
    assert schema.field("year").type == pa.int32()
    assert schema.field("requests.new.total").type == pa.int64()
    assert schema.field("active.fees").type == pa.float64()
    assert schema.field("rules_failed").type == pa.list_(pa.string())
    assert schema.field("all_rules_pass").type == pa.bool_()
    rows = table.to_pylist()
    assert len(rows) == len(reference)
    for row in rows:
        check_row(row, reference[Path(row["file"]).name])


# -- CSV --------------------------------------------------------------------------------------


def test_csv_starts_with_a_bom_and_reads_as_the_json(corpus, reference, tmp_path):
    out = tmp_path / "results.csv"
    proc = cli("extract", "--mode", "parser", "--no-progress", str(corpus), "-o", str(out))
    assert proc.returncode == 1  # broken.txt
    raw = out.read_bytes()
    # what Excel looks at: the UTF-8 byte-order mark, then UTF-8 (without it, a Chinese Excel reads GBK)
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\xef\xbb\xbf") == 1
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == len(reference)
    for row in rows:
        ref = reference[Path(row["file"]).name]
        row = {**row, "agency": row["meta.agency"] or None, "year": row["meta.year"] or None,
               "template": row["meta.template"]}
        check_row(row, ref, text=True)
    # a resume appends rows, never a second BOM or header
    out.write_bytes(b"".join(raw.splitlines(keepends=True)[:-2]))
    proc = cli("extract", "--mode", "parser", "--no-progress", str(corpus), "-o", str(out))
    again = out.read_bytes()
    assert again.count(b"\xef\xbb\xbf") == 1 and again.count(b"file,sha256,status") == 1
    assert len(list(csv.DictReader(io.StringIO(again.decode("utf-8-sig"))))) == len(reference)
    assert "byte-order mark" in cli("extract", "--help").stdout


# -- SQLite -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_db(corpus, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("db") / "results.sqlite"
    summary = batch_into(corpus, out)
    assert summary.reports == len(CORPUS) + 1
    return out


def check_database(conn, reference: dict[str, dict], placeholder: str = "?") -> None:
    """Every table against the JSON records: reports, values with their provenance, rules, diagnostics."""
    reports = {Path(r[1]).name: r for r in conn.execute(
        "SELECT report, file, sha256, agency, year, template, status, error_code FROM reports").fetchall()}
    assert set(reports) == set(reference)
    for name, ref in reference.items():
        report, _, sha, agency, year, template, status, code = reports[name]
        assert status == ref["status"] and sha == ref["sha256"] and report == ref["sha256"]
        if status == "error":
            assert code == ref["error"]["code"]
            continue
        assert (agency, year, template) == (ref["meta"]["agency"], ref["meta"]["year"], ref["meta"]["template"])
        values = {k: (v, m, ln, s, e) for k, v, m, ln, s, e in conn.execute(
            f'SELECT key, value, method, line, start, "end" FROM "values" WHERE report = {placeholder}',
            (report,)).fetchall()}
        flat = flat_of(ref)
        assert set(values) == {k for k in flat if not k.startswith("meta.")}
        for k, (v, method, line, start, end) in values.items():
            assert same(v, flat[k]), (name, k, v, flat[k])
            prov = ref["provenance"].get(k)
            if prov:
                assert (method, line, start, end) == (prov["method"], prov["line"], prov["start"], prov["end"])
        rules = {(r, s): (st, lhs, rhs) for r, s, st, lhs, rhs in conn.execute(
            f"SELECT rule, scope, status, lhs, rhs FROM rules WHERE report = {placeholder} AND rule <> 'R6'",
            (report,)).fetchall()}
        assert len(rules) == len(ref["rules"])
        for r in ref["rules"]:
            st, lhs, rhs = rules[(r["id"], r["scope"])]
            assert st == r["status"] and same(lhs, r["lhs"]) and same(rhs, r["rhs"])
        n = conn.execute(f"SELECT count(*) FROM diagnostics WHERE report = {placeholder}", (report,)).fetchone()[0]
        assert n == len(ref["diagnostics"]) + len(ref["warnings"])


def test_sqlite_tables_match_json(sqlite_db, reference):
    with sqlite3.connect(sqlite_db) as conn:
        check_database(conn, reference)


def readme_queries() -> list[str]:
    """The example queries of the README, as printed there."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- sql-examples -->")[1].split("```sql")[1].split("```")[0]
    queries = [q.strip() for q in block.split(";") if q.strip()]
    assert len(queries) >= 3
    return queries


def check_readme_results(results: list[list]) -> None:
    per_year = {(a, y): n for a, y, n in results[0]}
    # 行政审批局 2024 and 2023, each in the corpus twice (the crawler's text and the agency's page)
    assert per_year[("平潭综合实验区行政审批局", 2024)] == 2 * 28
    assert per_year[("平潭综合实验区行政审批局", 2023)] == 2 * 7
    assert any("pingtan-dept-02" in r[0] for r in results[1])  # the report that prints an inconsistent R1
    assert results[2] and results[2][0][1] >= results[2][-1][1]  # keys most often null, most first


def test_readme_queries_run_on_the_sqlite_database(sqlite_db):
    with sqlite3.connect(sqlite_db) as conn:
        check_readme_results([conn.execute(q).fetchall() for q in readme_queries()])


def test_sqlite_batch_killed_and_resumed_has_every_report_once(corpus, tmp_path):
    out = tmp_path / "killed.sqlite"
    env = {k: v for k, v in os.environ.items() if k != "GKLLM_DEBUG"}
    env["GKLLM_LLM"] = "off"
    big = tmp_path / "in"
    shutil.copytree(corpus, big)
    for i, p in enumerate(SEEDS * 4):  # more distinct work, so the kill lands mid-batch
        (big / f"x{i}.txt").write_bytes(p.read_bytes() + f"\n附：{i}\n".encode())
    n_files = len(discover([big]))
    proc = subprocess.Popen([sys.executable, "-m", "gkllm.cli", "extract", "--mode", "parser", "--no-progress",
                             str(big), "-o", str(out)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    written = 0
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with sqlite3.connect(out, timeout=1) as conn:
                written = conn.execute("SELECT count(*) FROM reports").fetchone()[0]
        except sqlite3.Error:
            written = 0
        if written >= 3:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(out) as conn:
        before = conn.execute("SELECT count(*) FROM reports").fetchone()[0]
    assert 3 <= before < n_files, before  # killed mid-batch
    r = cli("extract", "--mode", "parser", "--no-progress", str(big), "-o", str(out))
    assert f"{before} skipped" in r.stderr, r.stderr
    with sqlite3.connect(out) as conn:
        files = [f for (f,) in conn.execute("SELECT file FROM reports")]
        per_report = conn.execute('SELECT report, count(*) FROM "values" GROUP BY report').fetchall()
    assert sorted(files) == sorted(str(p) for p in discover([big]))  # every report, exactly once
    assert len(set(files)) == len(files) == n_files
    whole = {len([k for k in flat_keys(t) if not k.startswith("meta.")]) for t in ("2021", "2019")}
    assert {n for _, n in per_report} <= whole  # a whole report each: none half-written


# -- PostgreSQL -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def postgres_url():
    psycopg = pytest.importorskip("psycopg", reason="pip install 'gkllm[outputs]' (psycopg)")
    from .pg import Unavailable, throwaway_cluster

    try:
        with throwaway_cluster() as url:
            yield url
    except Unavailable as why:
        pytest.skip(f"no PostgreSQL server to test against: {why}")
    del psycopg


def test_postgres_tables_match_json_and_resume(postgres_url, corpus, reference):
    import psycopg

    proc = cli("extract", "--mode", "parser", "--no-progress", "-j", "2", str(corpus), "-o", postgres_url)
    assert proc.returncode == 1 and "broken.txt" in proc.stderr, proc.stderr  # the one bad file
    with psycopg.connect(postgres_url) as conn:
        check_database(conn, reference, placeholder="%s")
        check_readme_results([conn.execute(q).fetchall() for q in readme_queries()])
    again = cli("extract", "--mode", "parser", "--no-progress", str(corpus), "-o", postgres_url)
    assert f"{len(CORPUS) + 1} skipped" in again.stderr and "0 reports" in again.stderr
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT count(*) FROM reports").fetchone()[0] == len(reference)


def test_postgres_unreachable_is_one_line(tmp_path):
    pytest.importorskip("psycopg")
    from .pg import _free_port

    url = f"postgresql://nobody:secret@127.0.0.1:{_free_port()}/none"
    proc = cli("extract", "--mode", "parser", str(SEEDS[0]), "-o", url)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "cannot connect to postgresql://nobody:***@127.0.0.1" in proc.stderr and "secret" not in proc.stderr


def test_a_database_that_fails_mid_batch_stops_it_in_one_line_and_keeps_what_it_had(corpus, tmp_path):
    from gkllm.outputs import OutputError

    out = tmp_path / "r.sqlite"
    files = [f for f in discover([corpus]) if f.name != "broken.txt"]
    run_batch(files[:3], sink_for(str(out)), mode="parser", progress=False)
    with sqlite3.connect(out) as conn:
        # stands in for a database that fails mid-batch (a full disk, a server gone)
        conn.execute("""CREATE TRIGGER full BEFORE INSERT ON "values" BEGIN SELECT RAISE(ABORT, 'disk full'); END""")
    with pytest.raises(OutputError, match="cannot write .* to the database: disk full; the reports written before"):
        run_batch(files, sink_for(str(out)), mode="parser", jobs=2, progress=False)
    with sqlite3.connect(out) as conn:
        assert conn.execute("SELECT count(*) FROM reports").fetchone()[0] == 3  # the failed report rolled back
