"""``gkllm show``: every extracted number shown in its source, for the person who signs off on it.

One self-contained HTML page per report (``render_report``): the normalized
source text with each value's span marked, parts 2-4 rebuilt as the
template's tables, the rule verdicts, warnings and diagnostics; and for a
folder, one page per report plus a sortable ``index.html`` (``show_folder``).
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import quote

from ..document import Document
from ..models import Report, RuleResult
from ..pipeline import Mode, Source, extract_document, load
from ..rules import check_r6
from ..template import COLUMNS
from .index import IndexRow, render_index
from .model import View, build_view
from .page import page_csp, render_report, render_view

__all__ = ["render_report", "render_view", "build_view", "show", "show_document", "show_folder", "FolderResult",
           "page_csp", "page_name", "r6_rules", "View"]


def show_document(doc: Document, *, mode: Mode = "hybrid", llm: Any = None, given: Any = None,
                  back: str | None = None) -> tuple[str, Report]:
    """Extract ``doc`` and render its page; returns (html, report)."""
    report = extract_document(doc, mode=mode, llm=llm, given=given)
    return render_report(report, doc.text, back=back), report


def show(source: Source, *, mode: Mode = "hybrid", name: str | None = None, llm: Any = None) -> str:
    """The page of one report: a path, raw bytes, or the report's text."""
    return show_document(load(source, name), mode=mode, llm=llm)[0]


@dataclass
class FolderResult:
    index: Path
    pages: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


_UNSAFE = re.compile(r"[^\w.\-]+")


def page_name(rel: str, taken: set[str]) -> str:
    """A file name for a report's page: its path in the folder, flattened; non-word characters (and bytes
    that are not UTF-8) become '_' and then a short hash keeps names distinct."""
    flat = rel.replace(os.sep, "__").replace("/", "__")
    safe = _UNSAFE.sub("_", flat)[:120]
    digest = hashlib.sha256(flat.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    name = f"{safe}.html"
    if safe != flat or name.lower() in taken or name.lower() == "index.html":
        name = f"{safe}.{digest}.html"
    taken.add(name.lower())
    return name


def _relative(path: Path, roots: list[Path]) -> str:
    for root in roots:
        try:
            return str(path.relative_to(root))
        except ValueError:
            continue
    return path.name


def _inside(path: Path, folder: Path) -> bool:
    try:
        real, base = os.path.realpath(path), os.path.realpath(folder)
        return os.path.commonpath([real, base]) == base
    except ValueError:
        return False


def show_folder(inputs: Iterable[str | Path], out_dir: str | Path, *, mode: Mode = "hybrid", llm: Any = None,
                jobs: int = 1, on_page: Callable[[str, str | None], None] | None = None) -> FolderResult:
    """One page per report found under ``inputs`` (folders, recursively, and files) and an index.html in
    ``out_dir``. Files inside ``out_dir`` are not read (a re-run does not read its own pages).

    Where the folder holds an agency's report for the year before (same ``meta.agency``, ``meta.year`` - 1),
    the page gets R6: last year's 结转下年度继续办理 against this year's 上年结转. ``jobs`` reports are read at
    once (threads: PDFs are read in child processes and LLM calls wait, so both overlap; the parser does not).
    ``on_page(name, error)`` is called after each report, in order.
    """
    from concurrent.futures import ThreadPoolExecutor

    from ..batch import discover

    t0 = time.monotonic()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    roots = [Path(p) for p in inputs if Path(p).is_dir()]
    paths = [p for p in discover(inputs) if not _inside(p, out)]
    rels = [_relative(p, roots) for p in paths]
    taken: set[str] = set()
    names = [page_name(rel, taken) for rel in rels]
    result = FolderResult(index=out / "index.html")
    rows: list[IndexRow] = []
    years: dict[tuple[str, int], list[int]] = {}  # (agency, year) → indexes of rows
    carry: dict[int, dict[str, Any]] = {}  # row index → the flat values R6 reads

    def one(i: int) -> tuple[View | None, str | None]:
        try:
            doc = load(paths[i])
            view = build_view(extract_document(doc, mode=mode, llm=llm), doc.text)
            (out / names[i]).write_text(render_view(view, back="index.html"), encoding="utf-8",
                                        errors="backslashreplace")
            return view, None
        except Exception as err:  # one bad file never stops the folder
            if os.environ.get("GKLLM_DEBUG"):
                raise
            return None, str(err).replace("\n", " ") or type(err).__name__

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for i, (view, error) in enumerate(pool.map(one, range(len(paths)))):
            if view is None:
                result.errors.append(f"{rels[i]}: {error}")
                rows.append(IndexRow(file=rels[i], href=None, error=error))
            else:
                result.pages += 1
                rows.append(IndexRow.of(rels[i], quote(names[i]), view))
                m = view.report.meta
                if m.agency and m.year:
                    years.setdefault((m.agency, m.year), []).append(i)
                    carry[i] = {k: view.report.get(k) for k in _R6_KEYS}
            if on_page:
                on_page(rels[i], error)
    for (agency, year), mine in years.items():
        before = years.get((agency, year - 1))
        if not before:
            continue
        for i in mine:
            r6 = r6_rules(carry[before[0]], carry[i], rels[before[0]])
            try:  # the page again, with R6 (its report read once more: pages are not kept in memory)
                doc = load(paths[i])
                view = build_view(extract_document(doc, mode=mode, llm=llm), doc.text, r6)
                (out / names[i]).write_text(render_view(view, back="index.html"), encoding="utf-8",
                                            errors="backslashreplace")
                rows[i] = IndexRow.of(rels[i], quote(names[i]), view)
            except Exception as err:  # read fine a moment ago; say so rather than stop
                result.errors.append(f"{rels[i]}: R6 not added: {err}")
    result.index.write_text(render_index(rows, mode=mode), encoding="utf-8", errors="backslashreplace")
    result.seconds = time.monotonic() - t0
    return result


_R6_KEYS = tuple(f"requests.{row}.{c}" for row in ("carried_over", "carried_forward") for c in COLUMNS)


def r6_rules(last_year: dict[str, Any], this_year: dict[str, Any], last_name: str) -> list[RuleResult]:
    """R6 per column, on this year's page: its keys are this year's 上年结转 cells only (last year's cell is on
    last year's page), the detail names last year's report."""
    out = []
    for r in check_r6(last_year, this_year):
        c = r.scope
        detail = (f"{last_name}: requests.carried_forward.{c} = {_g(r.lhs)}; "
                  f"this report: requests.carried_over.{c} = {_g(r.rhs)}")
        out.append(RuleResult(id="R6", scope=c, status=r.status, lhs=r.lhs, rhs=r.rhs,
                              keys=[f"requests.carried_over.{c}"], detail=detail))
    return out


def _g(v: Any) -> str:
    return "null" if v is None else f"{v:g}"
