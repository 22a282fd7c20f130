"""The one ``extract()``: ingest → normalize → segment → parse → (LLM) → rules → Report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

from . import __version__
from .document import Document
from .errors import NotAReportError
from .ingest import read_bytes, read_path, read_text
from .models import Diagnostic, LlmStats, Meta, Provenance, Report
from .parse.cells import Cell, cells
from .parse.meta import read_meta
from .parse.narrative import read_narrative
from .parse.runs import resolve_runs
from .parse.blanks import blank_as_zero
from .parse.tables import detect_template, read_part2, read_part3, read_part4
from .rules import check_all
from .segment import Segment, segment
from .template import NARRATIVE_KEYS, TemplateName, flat_keys, is_decimal_key, table_keys
from .values import Value

Mode = Literal["parser", "llm", "hybrid"]
Source = Union[str, Path, bytes]
MODES: tuple[str, ...] = ("parser", "llm", "hybrid")


@dataclass
class Extraction:
    """Working state passed between stages; becomes a Report at the end."""

    doc: Document
    segments: dict[int, Segment]
    template: TemplateName = "2021"
    values: dict[str, Value] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    part_cells: dict[int, list[Cell]] = field(default_factory=dict)

    def missing(self, keys: list[str] | None = None) -> list[str]:
        keys = keys if keys is not None else table_keys(self.template)
        return [k for k in keys if k not in self.values]


def load(source: Source, name: str | None = None) -> Document:
    """Read a path, raw bytes, or a str (text when it has a newline, else a path)."""
    if isinstance(source, bytes):
        return read_bytes(source, name or "<bytes>")
    if isinstance(source, Path) or "\n" not in source:
        return read_path(source)
    return read_text(source, name or "<text>")


def parse(doc: Document) -> Extraction:
    """The deterministic stage: tables and prose counts, no model."""
    segs = segment(doc)
    ex = Extraction(doc=doc, segments=segs)
    for part in (2, 3, 4):
        if part in segs:
            ex.part_cells[part] = cells(doc, segs[part].start_line, segs[part].end_line)
        else:
            ex.part_cells[part] = []
            ex.warnings.append(f"part {part} not found")
    ex.template = detect_template(ex.part_cells[2], ex.part_cells[3])
    results = [
        read_part2(ex.part_cells[2], ex.template),
        read_part3(ex.part_cells[3], ex.template),
        read_part4(ex.part_cells[4]),
    ]
    for res in results:
        ex.values.update(res.values)
        ex.warnings.extend(res.warnings)
    pending = [run for res in results for run in res.runs]
    if pending:
        split, diags, warns = resolve_runs(pending, ex.values, ex.template)
        ex.values.update(split)
        ex.diagnostics.extend(diags)
        ex.warnings.extend(warns)
    if not any(r.found_rows for r in results):
        raise NotAReportError(
            "not a 政府信息公开工作年度报告: none of the template's tables (parts 2-4) was found", source=doc.source
        )
    for key in ex.values:
        v = ex.values[key]
        if is_decimal_key(key) and isinstance(v.value, int):
            v.value = float(v.value)
    missing = ex.missing()
    if missing:
        ex.warnings.append(f"{len(missing)} table values not found: {_summarize(missing)}")
    ex.diagnostics.extend(blank_as_zero(ex.values, ex.template))
    ex.values.update(_narrative(doc, segs))
    return ex


def _narrative(doc: Document, segs: dict[int, Segment]) -> dict[str, Value]:
    found: dict[str, Value] = {}
    for part in (1, 6, 5):
        if part not in segs:
            continue
        todo = tuple(k for k in NARRATIVE_KEYS if k not in found)
        if not todo:
            break
        found.update(read_narrative(doc, segs[part].start_line, segs[part].end_line, keys=todo))
    return found


def _summarize(keys: list[str]) -> str:
    rows: dict[str, int] = {}
    for k in keys:
        head = k.rsplit(".", 1)[0] if k.startswith("requests.") else k
        rows[head] = rows.get(head, 0) + 1
    parts = [f"{h} ({n})" if n > 1 else h for h, n in rows.items()]
    return ", ".join(parts[:8]) + (" …" if len(parts) > 8 else "")


def finish(ex: Extraction, mode: str, llm_stats: LlmStats | None = None) -> Report:
    """Rules, provenance and the contract model."""
    flat = {k: (ex.values[k].value if k in ex.values else None) for k in flat_keys(ex.template) if not k.startswith("meta.")}
    agency, year = read_meta(ex.doc)
    meta = Meta(
        agency=agency,
        year=year,
        template=ex.template,
        source=ex.doc.source,
        format=ex.doc.format,
        encoding=ex.doc.encoding,
        mode=mode,
        gkllm_version=__version__,
        llm=llm_stats,
    )
    provenance = {
        k: Provenance.trusted(v.method, v.line, v.start, v.end, v.text, v.approx, v.notes)
        for k, v in ex.values.items()
    }
    rules = check_all(flat, ex.template)
    return Report.from_flat(
        flat,
        meta=meta,
        provenance=provenance,
        rules=rules,
        warnings=ex.doc.warnings + ex.warnings,
        diagnostics=ex.diagnostics,
    )


def extract(source: Source, *, mode: Mode = "hybrid", name: str | None = None, llm: Any = None,
            given: Any = None) -> Report:
    """Extract one report. ``source`` is a path, raw bytes, or the report's text.

    ``llm`` is an ``gkllm.llm.LLMClient``; by default one process-wide client
    configured from the environment (GKLLM_BASE_URL …, else the embedded model).
    ``given`` is another tool's partial result (flat keys → numbers): see ``gkllm.given``.
    """
    return extract_document(load(source, name), mode=mode, llm=llm, given=given)


def extract_document(doc: Document, *, mode: Mode = "hybrid", llm: Any = None, given: Any = None) -> Report:
    """Extract from an already loaded Document."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    if given is not None:
        from .given import normalize_given

        normalize_given(given)  # a malformed ``given`` fails before any work
    ex = parse(doc)
    stats = None
    plan = None
    if given is not None and mode != "llm":  # hybrid: the LLM re-reads only what given + parser leave open
        from .given import merge_given

        plan = merge_given(ex, given)
    if mode != "parser":
        from .llm.run import run_llm

        stats = run_llm(ex, mode, llm)
    if given is not None and mode == "llm":  # llm: the LLM's reading is what given is checked against
        from .given import merge_given

        plan = merge_given(ex, given)
    settled = None
    if plan is not None:
        from .given import settle

        settled = settle(plan, ex)
    report = finish(ex, mode, stats)
    report.given = settled
    return report
