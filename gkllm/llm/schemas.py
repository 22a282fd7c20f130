"""What the LLM must answer, as pydantic models; validators encode R1-R4.

A validator that fails makes instructor re-ask with the error text, so every
message names the failing rule and the row, in words a model can act on.
"""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, Field, ValidationInfo, model_validator

SCHEMA_VERSION = "1"


class StatedCount(BaseModel):
    value: Optional[int] = Field(None, description="the number the text states; null if not stated")
    sentence: Optional[str] = Field(None, description="the sentence it came from, copied verbatim")


class StatedAmount(BaseModel):
    value: Optional[float] = Field(None, description="amount in 元; null if not stated")
    sentence: Optional[str] = None


class NarrativeAnswer(BaseModel):
    active_items: StatedCount = Field(default_factory=StatedCount)
    requests_received: StatedCount = Field(default_factory=StatedCount)
    trainings: StatedCount = Field(default_factory=StatedCount)
    fee_yuan: StatedAmount = Field(default_factory=StatedAmount)


class RowAnswer(BaseModel):
    label: str
    values: list[Optional[float]] = Field(description="the row's cells in column order; null for a blank cell")


class TableAnswer(BaseModel):
    rows: list[RowAnswer]

    @model_validator(mode="after")
    def _rules(self, info: ValidationInfo) -> "TableAnswer":
        ctx: dict[str, Any] = info.context or {}
        check = ctx.get("check")
        if check is None:
            return self
        problems = check(self)
        if problems:
            raise ValueError("; ".join(problems[:6]))
        return self
