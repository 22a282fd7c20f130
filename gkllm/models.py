"""The output contract (shared/spec/report-schema.md) as pydantic models.

``Report`` nests along the spec's dotted keys; ``Report.to_flat()`` gives the
one-level form. Key names here must match ``gkllm.template`` exactly; a test
checks the two against each other.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal, Optional, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from .template import TemplateName, flat_keys

Count = Optional[int]
Amount = Optional[float]


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DocCounts(_Part):
    issued: Count = None
    repealed: Count = None
    in_force: Count = None


class Active(_Part):
    rules: DocCounts = Field(default_factory=DocCounts)
    normative_docs: DocCounts = Field(default_factory=DocCounts)
    licensing: Count = None
    punishment: Count = None
    coercion: Count = None
    fees: Amount = None  # 万元


class RequestRow(_Part):
    natural_person: Count = None
    commercial: Count = None
    research: Count = None
    social_org: Count = None
    legal_service: Count = None
    other_org: Count = None
    total: Count = None


class Requests(_Part):
    new: RequestRow = Field(default_factory=RequestRow)
    carried_over: RequestRow = Field(default_factory=RequestRow)
    granted: RequestRow = Field(default_factory=RequestRow)
    partial: RequestRow = Field(default_factory=RequestRow)
    denied_state_secret: RequestRow = Field(default_factory=RequestRow)
    denied_law_forbidden: RequestRow = Field(default_factory=RequestRow)
    denied_safety_stability: RequestRow = Field(default_factory=RequestRow)
    denied_third_party: RequestRow = Field(default_factory=RequestRow)
    denied_internal_affairs: RequestRow = Field(default_factory=RequestRow)
    denied_process_info: RequestRow = Field(default_factory=RequestRow)
    denied_enforcement_file: RequestRow = Field(default_factory=RequestRow)
    denied_inquiry: RequestRow = Field(default_factory=RequestRow)
    unavailable_not_held: RequestRow = Field(default_factory=RequestRow)
    unavailable_needs_creation: RequestRow = Field(default_factory=RequestRow)
    unavailable_unclear: RequestRow = Field(default_factory=RequestRow)
    rejected_petition: RequestRow = Field(default_factory=RequestRow)
    rejected_duplicate: RequestRow = Field(default_factory=RequestRow)
    rejected_publication: RequestRow = Field(default_factory=RequestRow)
    rejected_excessive: RequestRow = Field(default_factory=RequestRow)
    rejected_confirmation: RequestRow = Field(default_factory=RequestRow)
    # absent (None) in the 2019 template, which has one （六）其他处理 row
    other_no_correction: Optional[RequestRow] = Field(default_factory=RequestRow)
    other_no_fee: Optional[RequestRow] = Field(default_factory=RequestRow)
    other_other: RequestRow = Field(default_factory=RequestRow)
    results_total: RequestRow = Field(default_factory=RequestRow)
    carried_forward: RequestRow = Field(default_factory=RequestRow)


class ReviewGroup(_Part):
    upheld: Count = None
    corrected: Count = None
    other: Count = None
    pending: Count = None
    total: Count = None


class Review(_Part):
    reconsideration: ReviewGroup = Field(default_factory=ReviewGroup)
    litigation_direct: ReviewGroup = Field(default_factory=ReviewGroup)
    litigation_after: ReviewGroup = Field(default_factory=ReviewGroup)


class Narrative(_Part):
    active_items: Count = None
    requests_received: Count = None
    trainings: Count = None
    fee_yuan: Amount = None


class T2019Made(_Part):
    new_made: Count = None
    new_published: Count = None
    total_published: Count = None


class T2019Items(_Part):
    prev_year_items: Count = None
    change: Count = None  # may be negative


class T2019Services(T2019Items):
    decisions: Count = None


class T2019Procurement(_Part):
    items: Count = None
    amount: Amount = None  # 元


class T2019Active(_Part):
    rules: T2019Made = Field(default_factory=T2019Made)
    normative_docs: T2019Made = Field(default_factory=T2019Made)
    licensing: T2019Items = Field(default_factory=T2019Items)
    other_admin_services: T2019Services = Field(default_factory=T2019Services)
    punishment: T2019Items = Field(default_factory=T2019Items)
    coercion: T2019Items = Field(default_factory=T2019Items)
    fees: T2019Items = Field(default_factory=T2019Items)
    procurement: T2019Procurement = Field(default_factory=T2019Procurement)


class T2019(_Part):
    active: T2019Active = Field(default_factory=T2019Active)


Method = Literal["parser", "llm", "parser+llm", "given"]


class Provenance(BaseModel):
    """Where a value came from: a span of the normalized source text."""

    method: Method
    line: Optional[int] = None
    start: Optional[int] = None
    end: Optional[int] = None
    text: Optional[str] = None
    approx: bool = False
    notes: list[str] = Field(default_factory=list)

    @classmethod
    def trusted(cls, method: Method, line: Optional[int], start: Optional[int], end: Optional[int],
                text: Optional[str], approx: bool, notes: list[str]) -> "Provenance":
        """Build without validation from values gkllm produced itself.

        A report carries ~200 of these; ``model_construct`` alone was a quarter
        of the parser's time, so this sets the instance state directly.
        """
        return _unvalidated(cls, {"method": method, "line": line, "start": start, "end": end, "text": text,
                                  "approx": approx, "notes": notes}, _PROVENANCE_FIELDS)


_PROVENANCE_FIELDS = {"method", "line", "start", "end", "text", "approx", "notes"}


_M = TypeVar("_M", bound=BaseModel)


def _unvalidated(cls: type[_M], state: dict[str, Any], fields: set[str]) -> _M:
    """An instance of ``cls`` holding ``state`` as is (every field given), as pydantic's own
    model_construct would build it, without its per-field defaults pass."""
    obj = cls.__new__(cls)
    object.__setattr__(obj, "__dict__", state)
    object.__setattr__(obj, "__pydantic_fields_set__", fields.copy())
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


class RuleResult(BaseModel):
    id: str  # R1 … R5, NONNEG
    scope: str  # column, row, group or key the rule was applied to
    status: Literal["passed", "failed", "not_assessable"]
    lhs: Optional[float] = None
    rhs: Optional[float] = None
    keys: list[str] = Field(default_factory=list)
    detail: Optional[str] = None

    @classmethod
    def trusted(cls, id: str, scope: str, status: str, lhs: Optional[float], rhs: Optional[float], keys: list[str],
                detail: Optional[str]) -> "RuleResult":
        """Build without validation from a verdict gkllm computed itself (a report has ~60)."""
        return _unvalidated(cls, {"id": id, "scope": scope, "status": status, "lhs": lhs, "rhs": rhs, "keys": keys,
                                  "detail": detail}, _RULE_FIELDS)


_RULE_FIELDS = {"id", "scope", "status", "lhs", "rhs", "keys", "detail"}


class LlmStats(BaseModel):
    model: Optional[str] = None
    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0


class Diagnostic(BaseModel):
    """Something a person (or the LLM) should look at: ambiguity, rejected candidates."""

    kind: str
    keys: list[str] = Field(default_factory=list)
    message: str
    candidates: list[Any] = Field(default_factory=list)


GivenStatus = Literal["kept", "corrected", "filled", "rejected"]


class GivenResult(BaseModel):
    """What gkllm did with one key of a partial result another tool passed in (``given``).

    kept: the given value is printed in the source and breaks no rule; corrected:
    gkllm replaced it with what the source prints; filled: the key was not given
    (or given as null) and gkllm read it; rejected: the given value was dropped
    (not printed, or breaking a rule) and nothing could replace it (value null).
    """

    status: GivenStatus
    given: Optional[Any] = None
    value: Optional[Any] = None
    reason: Optional[str] = None


class Meta(BaseModel):
    agency: Optional[str] = None
    year: Optional[int] = None
    template: Optional[TemplateName] = None
    source: Optional[str] = None
    format: Optional[str] = None
    encoding: Optional[str] = None
    mode: str = "parser"
    gkllm_version: str = ""
    llm: Optional[LlmStats] = None


@lru_cache(maxsize=1024)
def _path(key: str) -> tuple[tuple[str, ...], str]:
    *parents, leaf = key.split(".")
    return tuple(parents), leaf


class Report(BaseModel):
    """One extracted report: values nested along the spec's keys, plus proof."""

    meta: Meta = Field(default_factory=Meta)
    active: Active = Field(default_factory=Active)
    requests: Requests = Field(default_factory=Requests)
    review: Review = Field(default_factory=Review)
    narrative: Narrative = Field(default_factory=Narrative)
    t2019: Optional[T2019] = None
    provenance: dict[str, Provenance] = Field(default_factory=dict)
    rules: list[RuleResult] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    diagnostics: list[Diagnostic] = Field(default_factory=list)
    # per-key report on a partial result passed in with ``given``; None when none was
    given: Optional[dict[str, GivenResult]] = None

    @property
    def template(self) -> TemplateName:
        return self.meta.template or "2021"

    def get(self, key: str) -> Any:
        """Value of one flat key ("requests.new.total"); None when absent."""
        node: Any = self
        for part in key.split("."):
            if node is None:
                return None
            node = getattr(node, part, None)
        return node

    def to_flat(self) -> dict[str, Any]:
        """Exactly the spec's flat keys for this report's template, None where absent."""
        return {k: self.get(k) for k in flat_keys(self.template)}

    def failed_rules(self) -> list[RuleResult]:
        return [r for r in self.rules if r.status == "failed"]

    def to_json_dict(self) -> dict[str, Any]:
        """The nested JSON form; keys the template does not have are left out."""
        data = self.model_dump(mode="json")
        if data.get("given") is None:
            data.pop("given", None)  # output unchanged for callers that pass no ``given``
        if self.template == "2019":
            data["requests"].pop("other_no_correction", None)
            data["requests"].pop("other_no_fee", None)
            for k in ("rules", "normative_docs", "fees"):
                data["active"].pop(k, None)
        else:
            data.pop("t2019", None)
        return data

    @classmethod
    def from_flat(cls, values: dict[str, Any], **fields: Any) -> "Report":
        nested: dict[str, Any] = {}
        for key, value in values.items():
            parents, leaf = _path(key)
            if parents[:1] == ("meta",):
                continue
            node = nested
            for p in parents:
                node = node.setdefault(p, {})
            node[leaf] = value
        report = cls.model_validate({**nested, **fields})
        if report.template == "2019":
            report.requests.other_no_correction = None
            report.requests.other_no_fee = None
        return report
