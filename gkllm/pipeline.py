"""The one ``extract()``: ingest → normalize → segment → parse → (LLM) → rules → Report.

``extract_document`` is the list of stages in order; each stage reads and
writes one ``Extraction``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Literal, Sequence, Union

from . import __version__
from .document import Document
from .errors import NotAReportError
from .extraction import Extraction
from .ingest import read_bytes, read_path, read_text
from .models import LlmStats, Meta, Provenance, Report
from .parse.blanks import blank_as_zero
from .parse.digit_runs import split_runs
from .parse.meta import read_meta
from .parse.narrative import read_narrative
from .parse.parts import detect_template, read_part2, read_part3, read_part4
from .parse.prose_hints import settle_by_prose
from .rules import check_all
from .segment import Stream, segment
from .template import NARRATIVE_KEYS, flat_keys, rules_for

if TYPE_CHECKING:
    from .given import GivenPlan
    from .llm import LLMClient

Mode = Literal["parser", "llm", "hybrid"]
Source = Union[str, Path, bytes]
MODES: tuple[str, ...] = ("parser", "llm", "hybrid")


def load(source: Source, name: str | None = None) -> Document:
    """Read a path, raw bytes, or a str (text when it has a newline, else a path)."""
    if isinstance(source, bytes):
        return read_bytes(source, name or "<bytes>")
    if isinstance(source, Path) or "\n" not in source:
        return read_path(source)
    return read_text(source, name or "<text>")


def parse(doc: Document) -> Extraction:
    """The deterministic stage: tables and prose counts, no model."""
    stream = Stream.of(doc)
    segs = segment(stream)
    ex = Extraction(doc=doc, stream=stream, segments=segs)
    ex.template = detect_template(stream, segs)
    tables = [read_part2(stream, segs.get(2), ex.template), read_part3(stream, segs.get(3), ex.template),
              read_part4(stream, segs.get(4))]
    if not any(t.found for t in tables) and not any(p in segs for p in (2, 3, 4)):
        raise NotAReportError(
            "not a 政府信息公开工作年度报告: no part heading and no row label of the template's tables (parts 2-4)",
            source=doc.source)
    for t in tables:
        ex.tables[t.part] = t
        ex.values.update(t.values)
        ex.warnings.extend(t.warnings)
        ex.diagnostics.extend(t.diagnostics)
    if tables[1].single_other:
        ex.absent = frozenset(k for k in ex.missing() if k.startswith(("requests.other_no_correction.",
                                                                      "requests.other_no_fee.")))
    runs = [r for t in tables for r in t.runs]
    if runs:
        known = {k: float(v.value) for k, v in ex.values.items() if v.value is not None}
        split = split_runs(runs, known, rules_for(ex.template, absent=ex.absent))
        ex.values.update(split.values)
        ex.warnings.extend(split.warnings)
        ex.diagnostics.extend(split.diagnostics)
        ex.ambiguous = settle_by_prose(ex, split.ambiguous)
    missing = ex.missing()
    if missing:
        ex.warnings.append(f"{len(missing)} table values not found: {ex.missing_summary()}")
    ex.diagnostics.extend(blank_as_zero(ex.values, rules_for(ex.template, absent=ex.absent)))
    _narrative(ex)
    if doc.ocr:  # --- OCR (issue 14): page, box and confidence into the notes; low confidence not taken
        from .ingest.ocr_notes import annotate

        annotate(ex)
    return ex


def _narrative(ex: Extraction) -> None:
    for part in (1, 6, 5):
        seg = ex.segments.get(part)
        todo = tuple(k for k in NARRATIVE_KEYS if k not in ex.values)
        if not todo:
            break
        if seg is not None:
            ex.values.update(read_narrative(ex.doc, seg.start, seg.end, keys=todo, folded=ex.stream.folded))


def finish(ex: Extraction, mode: str, llm_stats: LlmStats | None = None) -> Report:
    """Rules, provenance and the contract model."""
    flat = {k: (ex.values[k].value if k in ex.values else None) for k in flat_keys(ex.template)
            if not k.startswith("meta.")}
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
    rules = check_all(flat, ex.template, absent=ex.absent)
    return Report.from_flat(
        flat,
        meta=meta,
        provenance=provenance,
        rules=rules,
        warnings=ex.doc.warnings + ex.warnings,
        diagnostics=ex.diagnostics,
    )


def extract(source: Source, *, mode: Mode = "hybrid", name: str | None = None, llm: "LLMClient | None" = None,
            given: Any = None) -> Report:
    """Extract one report. ``source`` is a path, raw bytes, or the report's text.

    ``llm`` is a ``gkllm.llm.LLMClient``; by default one process-wide client
    configured from the environment (GKLLM_BASE_URL …, else the embedded model).
    ``given`` is another tool's partial result (flat keys → numbers): see ``gkllm.given``.
    """
    return extract_document(load(source, name), mode=mode, llm=llm, given=given)


def extract_document(doc: Document, *, mode: Mode = "hybrid", llm: "LLMClient | None" = None,
                     given: Any = None) -> Report:
    """Extract from an already loaded Document: the stages below, in order."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    from .given import merge_given, normalize_given, settle

    if given is not None:
        normalize_given(given)  # a malformed ``given`` fails before any work
    plan: GivenPlan | None = None
    stats: LlmStats | None = None

    def given_stage(ex: Extraction) -> None:
        nonlocal plan
        if given is not None:
            plan = merge_given(ex, given)

    def llm_stage(ex: Extraction) -> None:
        nonlocal stats
        from .llm.stage import run_llm  # the LLM client (openai, instructor) loads only when a mode needs it

        stats = run_llm(ex, mode, llm)

    # hybrid: the LLM re-reads only what given + parser leave open; llm: the LLM's reading is what given is checked
    # against
    stages: Sequence[Callable[[Extraction], None]] = {
        "parser": [given_stage],
        "hybrid": [given_stage, llm_stage],
        "llm": [llm_stage, given_stage],
    }[mode]
    ex = parse(doc)
    for stage in stages:
        stage(ex)
    report = finish(ex, mode, stats)
    report.given = settle(plan, ex) if plan is not None else None
    return report
