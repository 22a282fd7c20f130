"""`gkllm eval`: discover cases, run modes, print and save the reports."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Literal, Sequence

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..pipeline import Mode
from .cases import find_cases
from .render import markdown, terminal
from .runner import default_cases_dir, regressions, run


def llm_status(model: str | None) -> tuple[bool, str]:
    """Whether an LLM can be used here, and a sentence saying which or why not."""
    try:
        from ..llm.config import describe_backend
    except ImportError:
        return False, "no LLM path in this version of gkllm"
    return describe_backend(model)


def run_eval(cases_dir: Path | None, mode: Mode | Literal["all"], model: str | None, out_dir: Path,
             baseline: Path | None, min_accuracy: float | None, pattern: str | Sequence[str] | None,
             max_wrong: int | None = None,
             save_json: Path | None = None, use_cache: bool = True) -> int:
    console = Console(stderr=True)
    root = cases_dir or default_cases_dir()
    patterns = [pattern] if isinstance(pattern, str) else list(pattern or ())
    cases = [c for c in find_cases(root) if not patterns or any(p in c.id for p in patterns)]
    if not cases:
        console.print(f"gkllm eval: no cases (name.<ext> + name.gold.json) under {root}")
        return 2
    notes: list[str] = []
    modes: list[Mode] = ["parser", "llm", "hybrid"] if mode == "all" else [mode]
    ok, backend = llm_status(model)
    if any(m != "parser" for m in modes):
        if not ok:
            dropped = [m for m in modes if m != "parser"]
            notes.append(f"{', '.join(dropped)} not run: {backend}")
            modes = [m for m in modes if m == "parser"]
            console.print(f"[yellow]gkllm eval: {notes[-1]}[/yellow]")
        else:
            notes.append(f"LLM: {backend}")
    if not modes:
        return 2
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("eval", total=len(cases) * len(modes))

        def tick(m: str, case) -> None:
            bar.update(task, advance=1, description=f"{m} · {case.id[-40:]}")

        extractor: Callable[..., Any] | None = None
        client = None
        if not use_cache and modes != ["parser"]:
            from ..llm import LLMClient, LLMConfig
            from ..pipeline import extract_document

            client = LLMClient(LLMConfig.from_env(model=model, use_cache=False))  # --no-cache: its own client

            def uncached(doc: Any, mode: Mode) -> Any:
                return extract_document(doc, mode=mode, llm=client if mode != "parser" else None)

            extractor = uncached

        try:
            report = run(cases, modes, progress=tick, extractor=extractor,
                         meta={"cases_dir": str(root), "model": backend if ok and modes != ["parser"] else None,
                               "notes": notes})
        finally:
            if client is not None:
                client.close()
    out = Console()
    if not out.is_terminal and "COLUMNS" not in os.environ:
        out = Console(width=160)  # piped or captured: the tables' full width, not 80 columns
    terminal(report, out)
    regs = None
    if baseline:
        regs = regressions(report, json.loads(baseline.read_text(encoding="utf-8")))
    out_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, ensure_ascii=False, indent=1)
    (out_dir / "report.json").write_text(text, encoding="utf-8")
    (out_dir / "report.md").write_text(markdown(report, regs), encoding="utf-8")
    console.print(f"gkllm eval: wrote {out_dir / 'report.json'} and {out_dir / 'report.md'}")
    if save_json:
        save_json.parent.mkdir(parents=True, exist_ok=True)
        save_json.write_text(text + "\n", encoding="utf-8")
        console.print(f"gkllm eval: wrote {save_json}")
    status = 0
    if regs:
        console.print(f"[red]gkllm eval: {len(regs)} values went from right to wrong or null against {baseline}[/red]")
        for r in regs[:20]:
            console.print(f"  {r['mode']} {r['case']} {r['key']} ({r['kind']}): gold {r['gold']!r}, got {r['got']!r}")
        status = 1
    if max_wrong is not None:
        for m, data in report["modes"].items():
            n = data["overall"]["wrong_numbers"]
            if n > max_wrong:
                console.print(f"[red]gkllm eval: {m} has {n} wrong numbers, more than --max-wrong {max_wrong}[/red]")
                status = 1
    if min_accuracy is not None:
        for m, data in report["modes"].items():
            acc = data["overall"]["accuracy"]
            if acc < min_accuracy:
                console.print(f"[red]gkllm eval: {m} accuracy {acc:.4f} is below --min-accuracy {min_accuracy}[/red]")
                status = 1
    return status
