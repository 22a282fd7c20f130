"""One extracted number and where it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Union

Number = Union[int, float]
Method = Literal["parser", "llm", "parser+llm", "given"]


@dataclass
class Value:
    value: Number | None
    start: int | None = None  # offsets into Document.text
    end: int | None = None
    line: int | None = None  # 1-based
    method: Method = "parser"
    text: str | None = None  # the source text the value was read from
    approx: bool = False  # "1300余条"
    notes: list[str] = field(default_factory=list)
    ambiguous: bool = False  # null because several readings fit (see the report's diagnostics)
