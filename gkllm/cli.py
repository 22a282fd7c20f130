"""The ``gkllm`` command line."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import IO, Any

import click

from . import __version__
from .errors import GkllmError
from .pipeline import MODES, extract


def _fail(source: str, err: BaseException) -> str:
    if isinstance(err, GkllmError):
        msg = str(err) if err.source else f"{source}: {err}"
    else:
        msg = f"{source}: internal error: {type(err).__name__}: {err} (set GKLLM_DEBUG=1 for a traceback)"
    return msg.replace("\n", " ")


def _dump(obj: Any, pretty: bool) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2 if pretty else None)


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
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write here instead of stdout.")
@click.option("-q", "--quiet", is_flag=True, help="Do not print warnings on stderr.")
def extract_cmd(files: tuple[str, ...], flat: bool, mode: str, no_llm: bool, output: str | None, quiet: bool) -> None:
    """Extract FILES (text, HTML, DOCX, DOC/WPS, PDF; '-' for stdin).

    One file prints a JSON object; several print JSON Lines, one per file.
    A file that fails prints a one-line error on stderr; the rest still run,
    and the exit status is 1.
    """
    if no_llm:
        mode = "parser"
    single = len(files) == 1
    out: IO[str]
    out = open(output, "w", encoding="utf-8") if output else sys.stdout
    failed = 0
    try:
        for f in files:
            try:
                if f == "-":
                    report = extract(read_stdin(), mode=mode, name="<stdin>")  # type: ignore[arg-type]
                else:
                    report = extract(Path(f), mode=mode)  # type: ignore[arg-type]
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


@main.command("eval")
@click.argument("cases_dir", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--mode", "mode", type=click.Choice((*MODES, "all")), default="parser", show_default=True,
              help="Mode to score; 'all' runs every mode side by side.")
@click.option("--model", help="LLM model name for the llm/hybrid modes (else GKLLM_MODEL or the embedded model).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("eval/out"),
              show_default=True, help="Where report.json and report.md go.")
@click.option("--baseline", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="An earlier report.json: list every value that went from right to wrong; exit 1 on any.")
@click.option("--min-accuracy", type=click.FloatRange(0, 1), help="Exit 1 when a mode's value accuracy is below this (0-1).")
@click.option("--filter", "pattern", help="Only cases whose id contains this text.")
def eval_cmd(cases_dir: Path | None, mode: str, model: str | None, out_dir: Path, baseline: Path | None,
             min_accuracy: float | None, pattern: str | None) -> None:
    """Score extraction against gold cases (name.<ext> + name.gold.json) under CASES_DIR (default: eval/cases)."""
    from .evaluation.main import run_eval

    sys.exit(run_eval(cases_dir, mode, model, out_dir, baseline, min_accuracy, pattern))


def read_stdin() -> bytes:
    return sys.stdin.buffer.read()


if __name__ == "__main__":  # pragma: no cover
    main()
