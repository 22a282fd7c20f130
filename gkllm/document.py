"""The one document model every reader produces and every later stage reads."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from functools import cached_property
from itertools import accumulate, repeat
from operator import add


@dataclass
class Document:
    """Normalized text plus where it came from.

    Readers of formats with real tables (HTML, DOCX, PDF) write each table row
    as one line of tab-separated cells, so a single parser serves every format
    and every offset below points into ``text``.
    """

    text: str
    source: str = "<text>"
    format: str = "text"
    encoding: str | None = None
    warnings: list[str] = field(default_factory=list)
    # OCR'd documents only: where each piece of the text was read (page, box, confidence); see
    # gkllm.ingest.ocr_run. Line numbers in it are 0-based lines of ``text``.
    ocr: dict | None = None

    @cached_property
    def line_starts(self) -> list[int]:
        # offsets of each line's first character, built at C speed: lengths + 1, accumulated
        return list(accumulate(map(add, map(len, self.text.split("\n")), repeat(1)), initial=0))[:-1]

    @cached_property
    def lines(self) -> list[str]:
        return self.text.split("\n")

    def line_of(self, offset: int) -> int:
        """1-based line number holding ``offset``."""
        return bisect.bisect_right(self.line_starts, offset)
