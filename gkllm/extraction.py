"""The working state every stage reads and writes; it becomes a Report at the end."""

from __future__ import annotations

from dataclasses import dataclass, field

from .document import Document
from .models import Diagnostic
from .parse.digit_runs import AmbiguousRun
from .parse.parts import TableRead
from .segment import Segment, Stream
from .template import TemplateName, table_keys
from .values import Value


@dataclass
class Extraction:
    """One report in the making: the source, where its parts are, and every value with its provenance.

    Stages (``pipeline.STAGES``) run in order over it: parse, given, LLM,
    finish. ``values`` holds only keys something was read for; a key absent
    from it is not found.
    """

    doc: Document
    stream: Stream
    segments: dict[int, Segment]
    template: TemplateName = "2021"
    values: dict[str, Value] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    tables: dict[int, TableRead] = field(default_factory=dict)
    # keys the report does not print by design (a 2021 report printing （六）其他处理 as one row)
    absent: frozenset[str] = frozenset()
    # runs of digits the rules split several ways: the candidates, for the LLM to choose among
    ambiguous: list[AmbiguousRun] = field(default_factory=list)

    def missing(self, keys: list[str] | None = None) -> list[str]:
        """Keys of ``keys`` (default: every table key) that nothing was read for."""
        keys = keys if keys is not None else table_keys(self.template)
        return [k for k in keys if k not in self.values and k not in self.absent]

    def missing_summary(self, keys: list[str] | None = None) -> str:
        """"requests.granted (7), active.fees": rows collapsed, for one-line warnings."""
        rows: dict[str, int] = {}
        for k in self.missing(keys):
            head = k.rsplit(".", 1)[0] if k.startswith("requests.") else k
            rows[head] = rows.get(head, 0) + 1
        parts = [f"{h} ({n})" if n > 1 else h for h, n in rows.items()]
        return ", ".join(parts[:8]) + (" …" if len(parts) > 8 else "")

    def flat(self) -> dict[str, float | int | None]:
        return {k: v.value for k, v in self.values.items()}
