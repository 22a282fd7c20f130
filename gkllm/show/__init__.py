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
from ..models import Report
from ..pipeline import Mode, Source, extract_document, load
from .index import IndexRow, render_index
from .model import View, build_view
from .page import page_csp, render_report, render_view

__all__ = ["render_report", "render_view", "build_view", "show", "show_document", "show_folder", "FolderResult",
           "page_csp", "page_name", "View"]


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
                on_page: Callable[[str, str | None], None] | None = None) -> FolderResult:
    """One page per report found under ``inputs`` (folders, recursively, and files) and an index.html in
    ``out_dir``. Files inside ``out_dir`` are not read (a re-run does not read its own pages).
    ``on_page(name, error)`` is called after each report."""
    from ..batch import discover

    t0 = time.monotonic()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    roots = [Path(p) for p in inputs if Path(p).is_dir()]
    paths = [p for p in discover(inputs) if not _inside(p, out)]
    taken: set[str] = set()
    rows: list[IndexRow] = []
    result = FolderResult(index=out / "index.html")
    for path in paths:
        rel = _relative(path, roots)
        try:
            doc = load(path)
            report = extract_document(doc, mode=mode, llm=llm)
            view = build_view(report, doc.text)
            name = page_name(rel, taken)
            (out / name).write_text(render_view(view, back="index.html"), encoding="utf-8",
                                    errors="backslashreplace")
        except Exception as err:  # one bad file never stops the folder
            if os.environ.get("GKLLM_DEBUG"):
                raise
            msg = str(err).replace("\n", " ") or type(err).__name__
            result.errors.append(f"{rel}: {msg}")
            rows.append(IndexRow(file=rel, href=None, error=msg))
            if on_page:
                on_page(rel, msg)
            continue
        result.pages += 1
        rows.append(IndexRow.of(rel, quote(name), view))
        if on_page:
            on_page(rel, None)
    result.index.write_text(render_index(rows, mode=mode), encoding="utf-8", errors="backslashreplace")
    result.seconds = time.monotonic() - t0
    return result
