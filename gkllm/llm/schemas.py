"""What the LLM must answer, as pydantic models: the contract with the model.

Shapes are exact (a row of 7 cells is a list of exactly 7), so a server that
enforces the JSON schema (llama.cpp, vLLM) cannot return a wrong shape. A
``Checked`` answer is validated by the question's own check (grounding and
the rules its rows close); a problem makes instructor re-ask with the problem
named, in words a model can act on.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, conlist, create_model, model_validator

SCHEMA_VERSION = "2"


class Checked(BaseModel):
    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> "Checked":
        ctx: dict[str, Any] = info.context or {}
        check = ctx.get("check")
        if check is None:
            return self
        problems = check(self)
        if problems:
            raise ValueError("; ".join(problems[:6]))
        return self


class StatedCount(BaseModel):
    # default= by keyword: type checkers read a field's default only from it (dataclass_transform)
    value: Optional[float] = Field(default=None, description="the number the text states; null if not stated")
    sentence: Optional[str] = Field(default=None, description="the sentence it came from, copied verbatim")


@lru_cache(maxsize=None)
def narrative_model(fields: tuple[str, ...]) -> type[BaseModel]:
    """{field: {value, sentence}} for the narrative counts asked."""
    counts: dict[str, Any] = {f: (StatedCount, Field(default_factory=StatedCount)) for f in fields}
    return create_model("NarrativeAnswer", __base__=BaseModel, **counts)


@lru_cache(maxsize=None)
def rows_model(ids: tuple[str, ...], widths: tuple[int, ...], amounts: tuple[bool, ...]) -> type[Checked]:
    """{"granted": [n values], "partial": […], …}: one list per row asked, exactly as many values as it has
    cells. Rows are named by words, not numbers: a small model copies a row number ("r1") as a value."""
    fields: dict[str, Any] = {}
    for name, n, amount in zip(ids, widths, amounts):
        cell = Optional[float] if amount else Optional[int]
        # conlist takes any type form (Optional[int] here); its signature says type[T]
        fields[name] = (conlist(cell, min_length=n, max_length=n), ...)  # type: ignore[arg-type]
    return create_model("RowsAnswer", __base__=Checked, **fields)


@lru_cache(maxsize=None)
def choice_model(letters: tuple[str, ...]) -> type[BaseModel]:
    """{"choice": one of the option letters}."""
    return create_model("ChoiceAnswer", choice=(Literal[letters], ...))


def row_values(answer: BaseModel, ids: tuple[str, ...]) -> list[list[float | int | None]]:
    return [list(getattr(answer, name)) for name in ids]


__all__ = ["SCHEMA_VERSION", "Checked", "StatedCount", "narrative_model", "rows_model", "choice_model", "row_values"]
