"""Hostile and broken inputs (issue 12): bounded memory, no hang, no lost data, one-line errors.

The service's share (hostile JSON, deadlines, its own faults) is in test_service_faults.py.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import zipfile
from pathlib import Path

import pytest

from gkllm.errors import TooLargeError
from gkllm.ingest import read_bytes
from gkllm.llm.client import LLMClient, Usage
from gkllm.llm.config import LLMConfig

from .conftest import ROOT, SEEDS
from .hostile import MiB, cli_env, docx_bomb, pdf_bomb, run_cli

FORMATS = ROOT / "eval" / "cases" / "formats"
SEED_003 = next(p for p in SEEDS if p.name.startswith("003"))


# -- 12: nothing grows per call; nothing is dropped without a word --------------------------------


def test_usage_keeps_counters_only_and_stays_flat(tmp_path):
    """The per-call log that nothing read is gone: 10,000 recorded calls hold no memory."""
    assert all(not isinstance(getattr(Usage(), f.name), (list, dict)) for f in dataclasses.fields(Usage))
    client = LLMClient(LLMConfig(base_url="http://127.0.0.1:9/v1", use_cache=False, cache_dir=tmp_path))
    import tracemalloc

    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for _ in range(10_000):
        client._record(Usage(calls=1, prompt_tokens=10, completion_tokens=5, seconds=0.01))
    grown = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(before, "filename"))
    tracemalloc.stop()
    assert client.usage.calls == 10_000
    assert grown < 64 * 1024, grown


def test_docx_with_damaged_numbering_warns_and_keeps_the_body():
    src = FORMATS / "gen04_docx.docx"
    buf = io.BytesIO()
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in z.infolist():
            blob = z.read(info.filename)
            if info.filename == "word/numbering.xml":
                blob = blob.replace(b'w:ilvl="0"', b'w:ilvl="zero"', 1)
            out.writestr(info, blob)
    doc = read_bytes(buf.getvalue(), "numbering.docx")
    assert any("list numbering could not be read" in w and "ValueError" in w for w in doc.warnings), doc.warnings
    assert "主动公开政府信息情况" in doc.text and "行政许可" in doc.text


# -- 2 and 7: special files are refused, never opened blindly; a batch gives each its own row ----------


def test_fifo_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "report.txt"
    os.mkfifo(fifo)
    r = run_cli("extract", "--mode", "parser", str(fifo), timeout=20)
    assert r.rc == 1 and r.stdout == b""
    line = r.one_line_error()
    assert str(fifo) in line and "named pipe (FIFO)" in line and "not a regular file" in line
    assert r.seconds < 10


@pytest.mark.parametrize("kind", ["dangling", "loop", "device"])
def test_unreadable_links_and_devices_are_one_line_errors(tmp_path, kind):
    target = tmp_path / f"{kind}.txt"
    if kind == "dangling":
        target.symlink_to(tmp_path / "gone.txt")
        phrase = "dangling symbolic link"
    elif kind == "loop":
        target.symlink_to(target)
        phrase = "symbolic link loop"
    else:
        target = Path("/dev/zero")  # reading it would never end
        phrase = "character device"
    r = run_cli("extract", "--mode", "parser", str(target), timeout=20)
    assert r.rc == 1
    assert phrase in r.one_line_error()


def test_batch_gives_every_unreadable_entry_an_error_row(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_bytes(SEED_003.read_bytes())
    (folder / "dangling.txt").symlink_to(folder / "missing.txt")
    (folder / "loop.pdf").symlink_to(folder / "loop.pdf")
    os.mkfifo(folder / "pipe.txt")
    os.mkfifo(folder / "pipe.pdf")
    out = tmp_path / "out.jsonl"
    r = run_cli("extract", "--mode", "parser", "--no-progress", str(folder), "-o", str(out), timeout=30)
    assert r.rc == 1 and r.seconds < 20
    rows = {Path(rec["file"]).name: rec for rec in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert set(rows) == {"good.txt", "dangling.txt", "loop.pdf", "pipe.txt", "pipe.pdf"}
    assert rows["good.txt"]["status"] == "ok"
    expected = {"dangling.txt": "dangling symbolic link", "loop.pdf": "symbolic link loop",
                "pipe.txt": "named pipe (FIFO)", "pipe.pdf": "named pipe (FIFO)"}
    for name, phrase in expected.items():
        assert rows[name]["status"] == "error" and rows[name]["error"]["code"] == "bad_input"
        assert phrase in rows[name]["error"]["message"]
    assert "5 reports (1 ok, 4 errors)" in r.stderr


# -- 5: an output path that is one of the inputs is refused before anything is opened for writing ----


def _refused(r, original: bytes, path: Path) -> None:
    assert r.rc == 2 and r.stdout == b""
    assert "it would be overwritten" in r.one_line_error() or "read its own output" in r.stderr
    assert path.read_bytes() == original


@pytest.mark.parametrize("how", ["same", "relative", "symlink", "hardlink"])
def test_output_that_is_an_input_is_refused(tmp_path, how):
    src = tmp_path / "a.txt"
    original = SEED_003.read_bytes()
    src.write_bytes(original)
    (tmp_path / "sub").mkdir()
    out = {"same": "a.txt", "relative": "sub/../a.txt"}.get(how)
    if how == "symlink":
        (tmp_path / "link.txt").symlink_to(src)
        out = "link.txt"
    elif how == "hardlink":
        os.link(src, tmp_path / "hard.txt")
        out = "hard.txt"
    _refused(run_cli("extract", "--mode", "parser", "a.txt", "-o", out, cwd=tmp_path), original, src)


def test_output_that_is_the_given_file_is_refused(tmp_path):
    given = tmp_path / "given.json"
    given.write_text('{"requests.new.total": 3}', encoding="utf-8")
    original = given.read_bytes()
    _refused(run_cli("extract", "--mode", "parser", str(SEED_003), "--given", str(given), "-o", str(given)),
             original, given)


def test_batch_output_inside_the_folder_it_reads_is_refused(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    src = folder / "a.txt"
    original = SEED_003.read_bytes()
    src.write_bytes(original)
    (tmp_path / "elsewhere.jsonl").write_bytes(b"")
    (folder / "b.txt").symlink_to(tmp_path / "elsewhere.jsonl")
    for out in (str(src), str(folder / "new.txt"), str(tmp_path / "elsewhere.jsonl")):
        _refused(run_cli("extract", "--mode", "parser", str(folder), "-o", out), original, src)
    assert not (folder / "new.txt").exists() and (tmp_path / "elsewhere.jsonl").read_bytes() == b""
    ok = run_cli("extract", "--mode", "parser", "--no-progress", str(folder), "-o", str(folder / "out.jsonl"))
    assert ok.rc == 1  # b.txt (an empty file through a link) is an error row; a.txt is extracted
    rows = {Path(rec["file"]).name: rec["status"] for rec in map(json.loads, (folder / "out.jsonl").read_text(
        encoding="utf-8").splitlines())}
    assert rows == {"a.txt": "ok", "b.txt": "error"}


# -- 6: hostile --given JSON is a one-line error with exit 2 ------------------------------------------


@pytest.mark.parametrize("content, phrase", [
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"a":' * 40 + b"1" + b"}" * 40, "nested too deeply"),
    (b'{"requests.new.total": "\\ud800"}', "lone surrogate \\ud800 in requests.new.total"),
    (b'{"\\udfff": 3}', "lone surrogate \\udfff"),
    (b'{"requests.new.total": 3, "x": "\xff"}', "not UTF-8"),
], ids=["100k-brackets", "41-levels", "surrogate-value", "surrogate-key", "not-utf8"])
def test_hostile_given_is_one_line_exit_2(tmp_path, content, phrase):
    given = tmp_path / "given.json"
    given.write_bytes(content)
    r = run_cli("extract", "--mode", "parser", "--given", str(given), str(SEED_003))
    assert r.rc == 2 and r.stdout == b""
    assert phrase in r.one_line_error()


def test_given_that_is_a_fifo_is_refused(tmp_path):
    fifo = tmp_path / "given.json"
    os.mkfifo(fifo)
    r = run_cli("extract", "--mode", "parser", "--given", str(fifo), str(SEED_003), timeout=20)
    assert r.rc == 2 and "named pipe" in r.one_line_error()


# -- 3: one stray byte does not reject a report ------------------------------------------------------


@pytest.mark.parametrize("damage", ["truncated-last-char", "stray-byte-inside"])
def test_nearly_utf8_report_is_read_with_a_warning_saying_where(tmp_path, damage):
    good = SEED_003.read_bytes()
    if damage == "truncated-last-char":
        data = good.rstrip() + "。".encode()[:2]  # the last character cut after 2 of its 3 bytes
        line = good.rstrip().count(b"\n") + 1
    else:
        cut = good.index("行政许可".encode())
        data = good[:cut] + b"\xff" + good[cut:]
        line = good.count(b"\n", 0, cut) + 1
    path = tmp_path / "report.txt"
    path.write_bytes(data)
    r = run_cli("extract", "--mode", "parser", str(path))
    assert r.rc == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["meta"]["encoding"] == "utf-8"
    assert report["active"]["licensing"] == 15498 and report["requests"]["new"]["total"] == 3
    warning = next(w for w in report["warnings"] if "invalid UTF-8" in w)
    assert f"1 invalid UTF-8 byte sequence replaced with U+FFFD at line {line} (byte " in warning


def test_gbk_is_still_detected_not_read_as_broken_utf8():
    doc = read_bytes(SEED_003.read_text(encoding="utf-8").encode("gb18030"), "gbk.txt")
    assert doc.encoding == "gb18030" and "行政许可" in doc.text
    assert not any("UTF-8" in w for w in doc.warnings)


# -- 8: a resume repairs a damaged output: drops the record, keeps a backup, says so, redoes it ----------


@pytest.fixture()
def three_reports(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for p in SEEDS[:3]:
        (folder / p.name).write_bytes(p.read_bytes())
    return folder


@pytest.mark.parametrize("where", ["last", "middle"])
def test_resume_repairs_a_garbled_jsonl_record(three_reports, tmp_path, where):
    out = tmp_path / "out.jsonl"
    args = ("extract", "--mode", "parser", "--no-progress", str(three_reports), "-o", str(out))
    assert run_cli(*args).rc == 0
    lines = out.read_bytes().splitlines(keepends=True)
    i = 2 if where == "last" else 1
    garbled_file = json.loads(lines[i])["file"]
    lines[i] = lines[i][: len(lines[i]) // 2] + b"\n"  # complete line, broken JSON
    damaged = b"".join(lines)
    out.write_bytes(damaged)
    r = run_cli(*args)
    assert r.rc == 0, r.stderr
    warning = next(ln for ln in r.stderr.splitlines() if ln.startswith("gkllm: warning:"))
    assert f"dropped 1 damaged record (line {i + 1})" in warning and "out.jsonl.1.bak" in warning
    assert "1 report (1 ok" in r.stderr and "2 skipped" in r.stderr
    recs = [json.loads(ln) for ln in out.read_text(encoding="utf-8").splitlines()]  # valid JSON Lines again
    assert sorted(rec["file"] for rec in recs) == sorted(str(three_reports / p.name) for p in SEEDS[:3])
    assert recs[-1]["file"] == garbled_file and recs[-1]["status"] == "ok"
    assert (tmp_path / "out.jsonl.1.bak").read_bytes() == damaged


def test_resume_repairs_a_cut_csv_row(three_reports, tmp_path):
    out = tmp_path / "out.csv"
    args = ("extract", "--mode", "parser", "--no-progress", str(three_reports), "-o", str(out))
    assert run_cli(*args).rc == 0
    lines = out.read_bytes().splitlines(keepends=True)
    lines[-1] = lines[-1][:60] + b"\r\n"
    out.write_bytes(b"".join(lines))
    r = run_cli(*args)
    assert r.rc == 0 and "dropped 1 damaged record (line 4)" in r.stderr
    import csv

    rows = list(csv.reader(out.read_text(encoding="utf-8").splitlines()))
    assert len(rows) == 4 and all(len(row) == len(rows[0]) for row in rows)
    assert (tmp_path / "out.csv.1.bak").exists()


def test_output_of_only_garbage_is_refused_untouched(three_reports, tmp_path):
    out = tmp_path / "notes.jsonl"
    out.write_bytes(b"my notes\nnot json at all\n")
    r = run_cli("extract", "--mode", "parser", "--no-progress", str(three_reports), "-o", str(out))
    assert r.rc == 1 and "not a gkllm batch output" in r.one_line_error()
    assert out.read_bytes() == b"my notes\nnot json at all\n"


# -- 1: decompression bombs: bounded before the memory is spent, one line, too_large ------------------


@pytest.fixture(scope="module")
def bombs(tmp_path_factory):
    d = tmp_path_factory.mktemp("bombs")
    template = FORMATS / "gen04_docx.docx"
    return {
        "docx": docx_bomb(d / "bomb.docx", template),  # 1.1 MB → word/document.xml of 1 GiB
        "liar": docx_bomb(d / "liar.docx", template, declared=95_637),  # the index says 95 KB
        "pdf": pdf_bomb(d / "bomb.pdf"),  # 2.1 MB → one content stream of 2 GiB
    }


@pytest.mark.parametrize("kind, phrase", [
    ("docx", "member word/document.xml inflates to 1,024 MB (more than 64 MB)"),
    ("liar", "inflates past the 95,637 bytes its index declares"),
    ("pdf", "a PDF stream inflates to more than 64 MB"),
])
def test_bomb_is_refused_with_bounded_memory(bombs, kind, phrase):
    """Before: the DOCX took 2.1 GB and the PDF 4.2 GB (27 s). The peak covers the PDF reader's child."""
    path = bombs[kind]
    size_before = path.stat().st_size
    r = run_cli("extract", "--mode", "parser", str(path), timeout=60)
    assert r.rc == 1 and r.stdout == b""
    assert phrase in r.one_line_error() and "decompression bomb" in r.stderr
    assert r.peak_mb < 250, r.peak_mb
    assert r.seconds < 10
    assert path.stat().st_size == size_before
    with pytest.raises(TooLargeError) as info:
        read_bytes(path.read_bytes(), path.name)
    assert info.value.code == "too_large"


def test_batch_row_of_a_bomb_says_too_large(bombs, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "bomb.docx").write_bytes(bombs["docx"].read_bytes())
    (folder / "good.txt").write_bytes(SEED_003.read_bytes())
    out = tmp_path / "out.jsonl"
    r = run_cli("extract", "--mode", "parser", "--no-progress", str(folder), "-o", str(out))
    rows = {Path(rec["file"]).name: rec for rec in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert r.rc == 1 and rows["good.txt"]["status"] == "ok"
    assert rows["bomb.docx"]["error"]["code"] == "too_large" and r.peak_mb < 250


def test_service_answers_413_to_bombs_and_does_not_grow(bombs, tmp_path):
    """Before: the DOCX bomb grew the server by 2 GB and it stayed at 1.1 GB."""
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "gkllm.cli", "serve", "--port", str(port), "--mode", "parser",
                             "--max-mb", "4"], env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{url}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None, "server did not start"
                time.sleep(0.1)
        for kind in ("docx", "pdf"):
            path = bombs[kind]
            r = httpx.post(f"{url}/v1/extract", files={"file": (path.name, path.read_bytes())}, timeout=60)
            assert r.status_code == 413, r.text
            assert r.json()["error"]["code"] == "too_large" and "decompression bomb" in r.json()["error"]["message"]
        r = httpx.post(f"{url}/v1/extract", files={"file": (SEED_003.name, SEED_003.read_bytes())}, timeout=60)
        assert r.status_code == 200
        status = Path(f"/proc/{proc.pid}/status").read_text()
        peak_mb = int(next(ln for ln in status.splitlines() if ln.startswith("VmHWM:")).split()[1]) / 1024
        assert peak_mb < 250, peak_mb
    finally:
        proc.terminate()
        proc.wait(10)


def test_isolated_reader_is_capped_in_memory_and_time():
    """The backstop behind the Flate guard: whatever a reader allocates, its child stops at the cap."""
    import time

    from gkllm.deadline import deadline_in
    from gkllm.errors import DeadlineExceeded, InputError
    from gkllm.ingest import isolate

    t0 = time.monotonic()
    with pytest.raises(TooLargeError, match="needed more than its 128 MB memory cap"):
        isolate.run("tests.hostile:hog", b"", "x", memory=128 * MiB, timeout=30, what="test file")
    with pytest.raises(InputError, match="took longer than 1 s"):
        isolate.run("tests.hostile:spin", b"", "x", memory=128 * MiB, timeout=1, what="test file")
    with deadline_in(0.5), pytest.raises(DeadlineExceeded):
        isolate.run("tests.hostile:spin", b"", "x", memory=128 * MiB, timeout=30, what="test file")
    assert time.monotonic() - t0 < 8


# -- 13: big HTML in memory proportionate to the file; deep HTML read, not "no text" ------------------


def _dense_table_html(path: Path, mb: int) -> Path:
    """A report followed by a table of ``mb`` MB of tiny cells: the worst case for a DOM (27× the file)."""
    report = (FORMATS / "seed02_html.html").read_bytes().decode("gb18030")
    head, _, body = report.partition("<body")
    body = "<body" + body.rsplit("</body>", 1)[0]
    row = "<tr>" + "".join(f"<td>{j * 7}</td>" for j in range(10)) + "</tr>\n"
    path.write_text(head.replace("gbk", "utf-8") + body + "<table>" + row * (mb * MiB // len(row)) +
                    "</table></body></html>", encoding="utf-8")
    return path


def test_big_html_peak_memory_is_proportionate(tmp_path):
    """Goal: < 10× the file + 300 MB. Measured on this 4 MB page: 295 MB before, 106 MB after
    (a 50 MB one: 2.9 GB and 67 s before, 0.7 GB and 26 s after)."""
    path = _dense_table_html(tmp_path / "big.html", 4)
    size_mb = path.stat().st_size / MiB
    r = run_cli("extract", "--mode", "parser", "--flat", str(path), timeout=120)
    assert r.rc == 0, r.stderr
    assert json.loads(r.stdout)["requests.new.total"] is not None
    assert r.peak_mb < 10 * size_mb + 300, (r.peak_mb, size_mb)
    assert r.peak_mb < 200, r.peak_mb  # the tree-based reader took 295 MB here


@pytest.mark.parametrize("depth, tag", [(300, "div"), (5000, "font"), (100_000, "span")])
def test_deep_html_is_read(tmp_path, depth, tag):
    """libxml2 builds no tree deeper than 256 (2048 with huge_tree); the stream reader has no limit."""
    src = (FORMATS / "seed02_html.html").read_bytes().decode("gb18030")
    head, _, body = src.partition("<body")
    inner = "<body" + body.rsplit("</body>", 1)[0]
    deep = head + f"<{tag}>" * depth + inner + f"</{tag}>" * depth + "</body></html>"
    path = tmp_path / "deep.html"
    path.write_bytes(deep.encode("gb18030"))
    shallow = tmp_path / "shallow.html"
    shallow.write_bytes(src.encode("gb18030"))
    r = run_cli("extract", "--mode", "parser", "--flat", str(path), timeout=60)
    assert r.rc == 0, r.stderr
    expected = json.loads(run_cli("extract", "--mode", "parser", "--flat", str(shallow)).stdout)
    got = json.loads(r.stdout)
    assert got == expected and got["requests.new.total"] is not None


def test_tables_nested_thousands_deep_cost_no_recursion():
    html = "<html><body>" + "<div><table><tr><td>" * 3000 + "深层文字" + "</td></tr></table></div>" * 3000
    html += "<table><tr><td>行政许可</td><td>15498</td></tr></table></body></html>"
    doc = read_bytes(html.encode(), "nested.html")
    assert doc.text.split("\n")[:2] == ["深层文字", "行政许可\t15498"]


# -- found on the way: a file name that is not UTF-8 stopped a batch with a traceback ------------------


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_non_utf8_file_name_is_written_and_resumed(tmp_path, suffix):
    folder = tmp_path / "in"
    folder.mkdir()
    name = os.fsdecode(b"\xc4\xea\xb1\xa8.txt")  # 年报.txt in GBK, on a UTF-8 system
    (folder / name).write_bytes(SEED_003.read_bytes())
    out = tmp_path / f"out{suffix}"
    args = ("extract", "--mode", "parser", "--no-progress", str(folder), "-o", str(out))
    r = run_cli(*args)
    assert r.rc == 0 and "Traceback" not in r.stderr, r.stderr
    out.read_text(encoding="utf-8")  # valid UTF-8
    again = run_cli(*args)
    assert again.rc == 0 and "1 skipped" in again.stderr
    single = run_cli("extract", "--mode", "parser", str(folder / name), "-o", str(tmp_path / "one.json"))
    assert single.rc == 0 and json.loads((tmp_path / "one.json").read_text(encoding="utf-8"))["meta"]["source"]
