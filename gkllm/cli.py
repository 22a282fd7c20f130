"""The ``gkllm`` command line."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO, Any, Literal

import click

from . import __version__
from .errors import GkllmError
from .pipeline import MODES, Mode, extract


def _fail(source: str, err: BaseException) -> str:
    if isinstance(err, GkllmError):
        msg = str(err) if err.source else f"{source}: {err}"
    else:
        msg = f"{source}: internal error: {type(err).__name__}: {err} (set GKLLM_DEBUG=1 for a traceback)"
    return msg.replace("\n", " ")


def _dump(obj: Any, pretty: bool) -> str:
    from .jsonin import dumps

    return dumps(obj, indent=2 if pretty else None)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="gkllm")
def main() -> None:
    """Exact, checked numbers from 政府信息公开工作年度报告 (government information disclosure annual reports)."""


@main.command("extract")
@click.argument("files", nargs=-1, required=True)
@click.option("--flat", is_flag=True, help="One-level object of the spec's flat keys.")
@click.option("--mode", type=click.Choice(MODES), default="hybrid", show_default=True,
              help="parser: no model; llm: the model reads every part; hybrid: parser, then the model for the rest.")
@click.option("--no-llm", is_flag=True, help="Same as --mode parser.")
# -- outputs, --jobs and --engine (issue 16) --
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write here instead of stdout; the name chooses the format: .jsonl (JSON Lines), .csv (CSV written "
                   "with a UTF-8 byte-order mark, so Excel on a Chinese Windows reads the names right), .xlsx (Excel), "
                   ".parquet, .sqlite/.sqlite3/.db (SQLite results database) or postgresql://… (PostgreSQL). Any "
                   "of these but JSON is a table of reports, resumed like a batch.")
# -- end outputs --
@click.option("-q", "--quiet", is_flag=True, help="Do not print warnings on stderr.")
@click.option("--given", "given_path", type=click.Path(dir_okay=False),
              help="Another tool's partial result for FILE (a JSON object of flat keys): checked, kept, corrected, "
                   "filled; the per-key verdicts are in the output's 'given'.")
# -- outputs, --jobs and --engine (issue 16) --
@click.option("-j", "--jobs", type=click.IntRange(1, 256), default=None,
              help="Batch: reports extracted at once (default 1): in worker processes, one per core at most; in the "
                   "LLM modes the rest are threads inside each process, overlapping the model's waits. With --engine "
                   "ray, in the LLM modes: the reports each Ray task extracts at once (threads).")
@click.option("--engine", type=click.Choice(("local", "ray")), default="local", show_default=True,
              help="Batch: 'ray' extracts on a Ray cluster (pip install 'gkllm[ray]'); this process still hashes, "
                   "skips what -o holds and writes -o.")
@click.option("--address", help="With --engine ray: the cluster to join (ray://host:10001, or 'auto'); "
                                "default: a local Ray instance for this batch.")
# -- end outputs --
@click.option("--no-progress", is_flag=True, help="Batch: no progress bar.")
@click.option("--no-cache", is_flag=True, help="Ask the LLM again: cached answers are neither read nor written.")
def extract_cmd(files: tuple[str, ...], flat: bool, mode: str, no_llm: bool, output: str | None, quiet: bool,
                given_path: str | None, jobs: int | None, no_progress: bool, engine: str, address: str | None,
                no_cache: bool) -> None:
    """Extract FILES (text, HTML, DOCX, DOC/WPS, PDF; '-' for stdin).

    One file prints a JSON object; several print JSON Lines, one per file.
    A file that fails prints a one-line error on stderr; the rest still run,
    and the exit status is 1.

    A folder makes a batch: every supported file under it (recursively) goes
    to -o (stdout JSON Lines if none), one record per distinct content with
    'file', 'sha256' and 'status'. A re-run with the same -o skips what is
    already there. Progress and a summary go to stderr; so does R6 across
    years: an agency's reports of consecutive years are paired (names
    matched after normalization, see 'gkllm compare --help') and every pair
    whose carried-forward and carried-over rows disagree is named.
    """
    if no_llm:
        mode = "parser"
    llm = None
    if mode != "parser":
        _check_llm_settings()
        if no_cache:
            from .llm import client_for

            llm = client_for(use_cache=False)
    from .outputs import is_database_url, is_table_output

    if output and not is_database_url(output):
        _refuse_output_that_is_an_input(output, [f for f in files if f != "-"] + ([given_path] if given_path else []))
    given = _load_given(given_path, files) if given_path else None
    # a folder, a table output (CSV, Excel, Parquet, a database) or --engine ray: a batch
    if any(f != "-" and Path(f).is_dir() for f in files) or is_table_output(output) or engine == "ray":
        _batch(files, flat, mode, output, quiet, jobs, no_progress, given, engine, address, llm)
        return
    if address:
        _die("--address goes with --engine ray")
    single = len(files) == 1
    out: IO[str]
    out = open(output, "w", encoding="utf-8") if output else sys.stdout
    failed = 0
    try:
        for f in files:
            try:
                if f == "-":
                    report = extract(read_stdin(), mode=mode, name="<stdin>", given=given,  # type: ignore[arg-type]
                                     llm=llm)
                else:
                    report = extract(Path(f), mode=mode, given=given, llm=llm)  # type: ignore[arg-type]
            except Exception as err:  # one bad file never stops a batch
                if os.environ.get("GKLLM_DEBUG"):
                    raise
                failed += 1
                click.echo(f"gkllm: error: {_fail(f, err)}", err=True)
                continue
            data = report.to_flat() if flat else report.to_json_dict()
            out.write(_dump(data, pretty=single) + "\n")
            out.flush()
            if not quiet and flat:
                for w in report.warnings:
                    click.echo(f"gkllm: warning: {f}: {w}", err=True)
    finally:
        if output:
            out.close()
    if failed:
        sys.exit(1)


def _check_llm_settings() -> None:
    """A bad LLM setting fails once, up front, naming the variable, not once per report."""
    from .llm import describe_backend

    try:
        describe_backend()
    except GkllmError as err:
        _die(f"{err} ({err.code})")


def _same_file(a: str | Path, b: str | Path) -> bool:
    """One file under two names: symlinks, relative paths, hard links."""
    try:
        if os.path.samefile(a, b):
            return True
    except OSError:  # one of them does not exist (yet)
        pass
    return os.path.realpath(a) == os.path.realpath(b)


def _refuse_output_that_is_an_input(output: str, inputs: list[str]) -> None:
    """Opening -o truncates it: never let that be a report (or --given) being read."""
    from .batch import SUPPORTED

    for f in inputs:
        if _same_file(output, f):
            _die(f"-o {output} is also an input ({f}); it would be overwritten: choose another output path")
        if Path(f).is_dir():
            real_out, real_dir = os.path.realpath(output), os.path.realpath(f)
            inside = os.path.commonpath([real_out, real_dir]) == real_dir
            rel = Path(os.path.relpath(real_out, real_dir)).parts if inside else ()
            if inside and Path(output).suffix.lower() in SUPPORTED and not any(p.startswith(".") for p in rel):
                _die(f"-o {output} is inside the input folder {f} and named like a report, so the batch would "
                     "read its own output: choose a path outside the folder, or a .jsonl/.csv name")


def _die(msg: str, code: int = 2) -> None:
    click.echo(f"gkllm: error: {msg}", err=True)
    sys.exit(code)


def _load_given(path: str, files: tuple[str, ...]) -> Any:
    from .ingest import read_file
    from .jsonin import load_json

    if len(files) != 1 or (files[0] != "-" and Path(files[0]).is_dir()):
        _die("--given goes with exactly one FILE")
    try:
        data = load_json(read_file(path), path)
    except GkllmError as err:
        _die(str(err))
    if not isinstance(data, dict):
        _die(f"{path}: --given must be a JSON object of flat keys → numbers")
    return data


def _batch(files: tuple[str, ...], flat: bool, mode: str, output: str | None, quiet: bool, jobs: int | None,
           no_progress: bool, given: Any, engine: str = "local", address: str | None = None, llm: Any = None) -> None:
    from .batch import discover, run_batch
    from .outputs import is_database_url, sink_for

    if "-" in files:
        _die("'-' (stdin) cannot be mixed with a folder, a table output or --engine ray: give files")
    if given is not None:
        _die("--given goes with exactly one FILE and a JSON output, not a batch")
    if address and engine != "ray":
        _die("--address goes with --engine ray")
    paths = discover(files)
    if not paths:
        _die(f"{', '.join(files)}: no supported files (.txt .html .htm .docx .doc .wps .pdf)", 1)
    if output and not is_database_url(output):  # a link in the folder can name the output too
        _refuse_output_that_is_an_input(output, [str(p) for p in paths])
    try:
        sink = sink_for(output, flat=flat)
        summary = run_batch(paths, sink, mode=mode, jobs=jobs or (0 if engine == "ray" else 1), llm=llm,
                            progress=not no_progress, engine=engine, address=address,
                            on_error=None if quiet else (lambda m: click.echo(f"gkllm: error: {m}", err=True)),
                            # a repair changes the user's file: said even with -q
                            on_warning=lambda m: click.echo(f"gkllm: warning: {m}", err=True))
    except GkllmError as err:
        _die(str(err), 1)
    for note in [] if quiet else summary.notes():  # R6 failures across years, names taken as one agency
        click.echo(f"gkllm: {note}", err=True)
    shown = output
    if output and is_database_url(output):
        from .outputs.database import redact

        shown = redact(output)
    click.echo(f"gkllm: {summary.line(shown)}", err=True)
    if summary.interrupted:
        click.echo("gkllm: re-run the same command to resume", err=True)
        sys.exit(130)
    if summary.errors:
        sys.exit(1)


# -- gkllm compare (issue 16) --
@main.command("compare")
@click.argument("a")
@click.argument("b")
@click.option("--mode", type=click.Choice(MODES), default="hybrid", show_default=True,
              help="How both reports are extracted (as for 'gkllm extract').")
@click.option("--no-llm", is_flag=True, help="Same as --mode parser.")
@click.option("--changed", is_flag=True, help="Only the keys whose value differs.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: both reports' meta, the rows, R6.")
def compare_cmd(a: str, b: str, mode: str, no_llm: bool, changed: bool, as_json: bool) -> None:
    """Two reports of one agency, year over year: each key's value in A and B and the change (B − A),
    then R6 per column: the earlier year's 结转下年度继续办理 must equal the later year's 上年结转.

    A and B are report files (any format 'gkllm extract' reads). R6 is checked
    when the years are consecutive (in either order). The agency names are
    matched after normalization: NFKC, no spaces, simplified characters,
    人民政府 = 政府, and leading places dropped when the shorter name still
    begins with a place of its own (洪泽区人民政府 = 淮安市洪泽区人民政府); the
    output says when two names were taken as one agency, or were not. A failing
    R6 is reported, not an error: the exit status is 0 unless a file cannot be
    extracted (1).
    """
    from .agency import group_names
    from .compare import from_data, r6, year_over_year
    from .outputs.rows import flat_of, template_of

    if no_llm:
        mode = "parser"
    if mode != "parser":
        _check_llm_settings()
    data = []
    for f in (a, b):
        try:
            data.append(extract(Path(f), mode=mode).to_json_dict())  # type: ignore[arg-type]
        except Exception as err:  # one line, never a traceback
            if os.environ.get("GKLLM_DEBUG"):
                raise
            _die(_fail(f, err), 1)
    ya, yb = (from_data(f, f, d) for f, d in zip((a, b), data))
    grouping = group_names([ya.agency, yb.agency])
    same = ya.agency is not None and grouping.key(ya.agency) == grouping.key(yb.agency)
    if same and ya.agency != yb.agency:
        agency_note = f"taken as one agency: {ya.agency} = {yb.agency}"
    elif same:
        agency_note = f"one agency: {ya.agency}"
    else:
        agency_note = (f"not taken as one agency: {ya.agency or '(no agency found)'} / "
                       f"{yb.agency or '(no agency found)'}")
    rows = year_over_year(flat_of(data[0]), flat_of(data[1]), template_of(data[0]), template_of(data[1]))
    if changed:
        rows = [r for r in rows if r[1] != r[2]]
    consecutive = ya.year is not None and yb.year is not None and abs(ya.year - yb.year) == 1
    results = []
    if consecutive:
        earlier, later = (ya, yb) if ya.year < yb.year else (yb, ya)  # type: ignore[operator]
        results = r6(earlier, later)
        r6_note = (f"R6 ({earlier.year} 结转下年度继续办理 = {later.year} 上年结转): "
                   + ("fails" if any(r.status == "failed" for r in results) else
                      "holds" if all(r.status == "passed" for r in results) else "not assessable (null cells)"))
    else:
        r6_note = f"R6 not checked: the years ({ya.year}, {yb.year}) are not consecutive"
    if as_json:
        from .jsonin import dumps

        click.echo(dumps({
            "a": {"file": a, "agency": ya.agency, "year": ya.year, "template": template_of(data[0])},
            "b": {"file": b, "agency": yb.agency, "year": yb.year, "template": template_of(data[1])},
            "agency": agency_note, "same_agency": same,
            "rows": [{"key": k, "a": va, "b": vb, "change": d} for k, va, vb, d in rows],
            "r6": [r.model_dump() for r in results], "r6_summary": r6_note}, indent=2))
        return
    click.echo(f"A: {a} ({ya.agency}, {ya.year})")
    click.echo(f"B: {b} ({yb.agency}, {yb.year})")
    click.echo(agency_note)
    if not same:
        click.echo("gkllm: warning: the two reports do not look like one agency's; compared anyway", err=True)
    click.echo("")
    shown = [(k, _cell(va), _cell(vb), _cell(d, signed=True)) for k, va, vb, d in rows]
    widths = [max([len(h)] + [len(r[i]) for r in shown]) for i, h in enumerate(("key", "A", "B", "change"))]
    click.echo("  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(("key", "A", "B",
                                                                                              "change"), widths))))
    for r in shown:
        click.echo("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip())
    click.echo("")
    click.echo(r6_note)
    for res in results:
        click.echo(f"  {res.scope:<15} {res.status:<15} {res.detail}")


def _cell(v: Any, signed: bool = False) -> str:
    if v is None:
        return ""
    text = f"{v:,}" if isinstance(v, int) else f"{v:,.4f}".rstrip("0").rstrip(".")
    return ("+" + text) if signed and v > 0 else text
# -- end compare --


@main.command("eval")
@click.argument("cases_dir", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--mode", "mode", type=click.Choice((*MODES, "all")), default="parser", show_default=True,
              help="Mode to score; 'all' runs every mode side by side.")
@click.option("--model", help="LLM model name for the llm/hybrid modes (else GKLLM_MODEL or the embedded model).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("eval/out"),
              show_default=True, help="Where report.json and report.md go.")
@click.option("--baseline", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="An earlier report.json: list every value that went from right to wrong or null; exit 1 on any.")
@click.option("--min-accuracy", type=click.FloatRange(0, 1),
              help="Exit 1 when a mode's value accuracy is below this (0-1).")
@click.option("--max-wrong", type=click.IntRange(0), help="Exit 1 when a mode has more wrong numbers than this "
              "(values printed that are not the gold's; nulls are not counted).")
@click.option("--filter", "pattern", multiple=True,
              help="Only cases whose id contains this text (repeat it: cases matching any).")
@click.option("--save-json", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write report.json to this file (how a committed baseline is regenerated).")
@click.option("--no-cache", is_flag=True, help="Ask the LLM again: cached answers are neither read nor written.")
def eval_cmd(cases_dir: Path | None, mode: Mode | Literal["all"], model: str | None, out_dir: Path,
             baseline: Path | None, min_accuracy: float | None, max_wrong: int | None, pattern: tuple[str, ...],
             save_json: Path | None, no_cache: bool) -> None:
    """Score extraction against gold cases (name.<ext> + name.gold.json) under CASES_DIR (default: eval/cases)."""
    from .evaluation.main import run_eval

    try:
        status = run_eval(cases_dir, mode, model, out_dir, baseline, min_accuracy, pattern, max_wrong=max_wrong,
                          save_json=save_json, use_cache=not no_cache)
    except GkllmError as err:  # a bad setting (config_error): one line, not a traceback
        _die(f"{err} ({err.code})")
    sys.exit(status)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--mode", type=click.Choice(MODES), default=None,
              help="Default mode of requests that name none (else GKLLM_SERVE_MODE or hybrid).")
@click.option("--max-mb", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Request size limit in MB (else GKLLM_MAX_UPLOAD_MB or 20).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds per request (else GKLLM_REQUEST_TIMEOUT or 300).")
@click.option("--concurrency", type=click.IntRange(1, 1024), default=None,
              help="Extractions at once; more get 503 + Retry-After (else GKLLM_CONCURRENCY or 4).")
def serve_cmd(host: str, port: int, mode: str | None, max_mb: float | None, timeout: float | None,
              concurrency: int | None) -> None:
    """HTTP service: POST /v1/extract, GET /healthz, docs at /docs. GKLLM_TOKEN turns on bearer auth."""
    try:
        from .service import serve
    except ImportError as err:
        _die(f"the service needs fastapi and uvicorn ({err}); pip install 'gkllm[serve]'", 1)
    try:
        serve(host=host, port=port, mode=mode, timeout=timeout, concurrency=concurrency,
              max_bytes=int(max_mb * 1024 * 1024) if max_mb else None)
    except GkllmError as err:  # ConfigError: the service does not start with a bad setting
        _die(f"{err} ({err.code}); the service did not start")


# --- gkllm show (issue 15): the report page ----------------------------------------------------------------------


@main.command("show")
@click.argument("report")
@click.option("-o", "--output", help="The page (.html); for a folder, the folder for the pages and index.html.")
@click.option("--mode", type=click.Choice(MODES), default="hybrid", show_default=True,
              help="parser: no model; llm: the model reads every part; hybrid: parser, then the model for the rest.")
@click.option("--no-llm", is_flag=True, help="Same as --mode parser.")
@click.option("--open", "open_page", is_flag=True, help="Open the page (a folder's index) in the default browser.")
@click.option("-j", "--jobs", type=click.IntRange(1, 256), default=1, show_default=True,
              help="Folder: reports read at once (threads; helps PDFs and LLM-bound runs).")
def show_cmd(report: str, output: str | None, mode: str, no_llm: bool, open_page: bool, jobs: int) -> None:
    """Write REPORT as one self-contained HTML page: its normalized text with every extracted number marked,
    parts 2-4 rebuilt as the template's tables beside it, the rules, warnings and diagnostics above.

    REPORT is a file ('-' for stdin) or a folder: a folder needs -o OUTDIR and gets one page per report
    plus OUTDIR/index.html (and R6 on a page whose agency's report for the year before is in the folder).
    Without -o a file's page goes to stdout (to a temporary file with --open).
    """
    from .show import page_name, show_document, show_folder

    if no_llm:
        mode = "parser"
    if mode != "parser":
        _check_llm_settings()
    if report != "-" and Path(report).is_dir():
        if not output:
            _die("a folder needs -o OUTDIR (the pages and index.html go there)")
        assert output is not None
        if os.path.exists(output) and not os.path.isdir(output):
            _die(f"-o {output} is a file; for a folder, -o names the folder for the pages")
        real_in, real_out = os.path.realpath(report), os.path.realpath(output)
        if os.path.commonpath([real_in, real_out]) == real_out:
            _die(f"-o {output} contains the input folder {report}: choose another folder (a folder inside the "
                 "input is fine: it is skipped when reports are looked for)")

        def said(name: str, err: str | None) -> None:
            if err:
                click.echo(f"gkllm: error: {name}: {err}", err=True)

        res = show_folder([report], output, mode=mode, jobs=jobs, on_page=said)  # type: ignore[arg-type]
        click.echo(f"gkllm: {res.pages} page(s), {len(res.errors)} error(s) in {res.seconds:.1f} s → {res.index}",
                   err=True)
        if open_page:
            _open_in_browser(res.index)
        if res.pages == 0 and not res.errors:
            _die(f"{report}: no supported files (.txt .html .htm .docx .doc .wps .pdf)", 1)
        if res.errors:
            sys.exit(1)
        return
    from .pipeline import load

    if output and (os.path.isdir(output) or output.endswith(("/", os.sep))):
        os.makedirs(output, exist_ok=True)
        output = os.path.join(output, page_name(Path(report).name if report != "-" else "stdin", set()))
    if output and report != "-":
        _refuse_output_that_is_an_input(output, [report])
    try:
        doc = load(read_stdin(), "<stdin>") if report == "-" else load(Path(report))
        html, _ = show_document(doc, mode=mode)  # type: ignore[arg-type]
    except Exception as err:
        if os.environ.get("GKLLM_DEBUG"):
            raise
        _die(_fail(report, err), 1)
    if not output and open_page:
        import tempfile

        fd, output = tempfile.mkstemp(prefix="gkllm-show-", suffix=".html")
        os.close(fd)
    if output:
        with open(output, "w", encoding="utf-8", errors="backslashreplace") as fh:
            fh.write(html)
        click.echo(f"gkllm: wrote {output}", err=True)
        if open_page:
            _open_in_browser(Path(output))
    else:
        sys.stdout.write(html)


def _open_in_browser(path: Path) -> None:
    import webbrowser

    if not webbrowser.open(path.resolve().as_uri()):
        click.echo(f"gkllm: no browser could be started; open {path} yourself", err=True)


# --- end gkllm show ----------------------------------------------------------------------------------------------


def read_stdin() -> bytes:
    return sys.stdin.buffer.read()


if __name__ == "__main__":  # pragma: no cover
    main()
