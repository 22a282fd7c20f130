"""Across years: an agency's consecutive reports, and R6 between them.

R6 (report-schema.md): last year's ``requests.carried_forward.<c>`` (结转下年度
继续办理) equals this year's ``requests.carried_over.<c>`` (上年结转), for each
of the seven columns. The verdicts come from ``gkllm.rules.check_r6``.

A batch groups its reports by agency (``gkllm.agency``: normalized names,
leading places) and pairs every report of year Y with every report of the same
agency for year Y+1 (a folder holding one report as both HTML and PDF gives
two pairs). Reports without an agency or a year are not paired, and the
result says how many.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Mapping

from .agency import Grouping, group_names
from .models import RuleResult
from .outputs.rows import get
from .rules import check_r6
from .template import COLUMN_LABELS, COLUMNS, flat_keys

R6_KEYS: tuple[str, ...] = tuple(f"requests.{row}.{c}" for row in ("carried_over", "carried_forward") for c in COLUMNS)


@dataclass(frozen=True)
class YearReport:
    """What R6 needs of one report: who, when, and the two rows it ties across years."""

    key: str  # the content hash (the batch's report id)
    file: str
    agency: str | None
    year: int | None
    values: Mapping[str, Any]  # R6_KEYS → number or None

    def label(self) -> str:
        return f"{self.file} ({self.year})"


def _number(v: Any) -> float | int | None:
    """A value as stored: a number, or text in a CSV cell ("" is null)."""
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, str) and v.strip():
        try:
            d = Decimal(v.strip())
        except InvalidOperation:
            return None
        return int(d) if d == d.to_integral_value() else float(d)
    return None


def _year(v: Any) -> int | None:
    year = _number(v)
    return int(year) if year is not None else None


def from_data(key: str, file: str, data: Mapping[str, Any]) -> YearReport:
    """From a report's JSON form (``Report.to_json_dict()``)."""
    meta = data.get("meta") or {}
    return YearReport(key, file, meta.get("agency"), _year(meta.get("year")),
                      {k: _number(get(data, k)) for k in R6_KEYS})


def from_record(key: str, rec: Mapping[str, Any]) -> YearReport | None:
    """From a record already in a batch output: JSON Lines (nested or ``--flat``), CSV, or a table row."""
    if rec.get("status") != "ok":
        return None
    if isinstance(rec.get("meta"), Mapping):
        return from_data(key, str(rec.get("file")), rec)
    agency = rec.get("meta.agency", rec.get("agency"))
    return YearReport(key, str(rec.get("file")), agency or None, _year(rec.get("meta.year", rec.get("year"))),
                      {k: _number(rec.get(k)) for k in R6_KEYS})


@dataclass
class Pair:
    """Two reports of one agency, years Y and Y+1, with R6 per column."""

    earlier: YearReport
    later: YearReport
    results: list[RuleResult]

    @property
    def failed(self) -> list[RuleResult]:
        return [r for r in self.results if r.status == "failed"]

    def scope(self, column: str) -> str:
        """The rule's scope naming both files, as the ``rules`` table stores it."""
        return f"{column}: {self.earlier.label()} → {self.later.label()}"

    def line(self) -> str:
        """One line for the batch summary."""
        cols = ", ".join(f"{r.scope} {r.lhs:g} ≠ {r.rhs:g}" for r in self.failed)
        return (f"R6 failed: {self.later.agency}: {self.earlier.label()} carried forward ≠ "
                f"{self.later.label()} carried over ({cols})")


@dataclass
class AcrossYears:
    pairs: list[Pair] = field(default_factory=list)
    grouping: Grouping = field(default_factory=Grouping)
    unplaced: int = 0  # ok reports without an agency or a year: not compared

    @property
    def failed(self) -> list[Pair]:
        return [p for p in self.pairs if p.failed]

    def summary(self) -> str:
        n, bad = len(self.pairs), len(self.failed)
        text = f"R6 across years: {n} pair{'s' * (n != 1)} of consecutive years, {bad} failing"
        if self.unplaced:
            text += f" ({self.unplaced} report{'s' * (self.unplaced != 1)} without agency or year not compared)"
        return text


def r6(earlier: YearReport, later: YearReport) -> list[RuleResult]:
    """R6 per column, with the rule's detail in the template's words."""
    out = []
    for res in check_r6(earlier.values, later.values):
        label = COLUMN_LABELS[res.scope]
        if res.status == "failed":
            detail = (f"{label}: {earlier.year} 结转下年度继续办理 = {res.lhs:g} but {later.year} 上年结转 = "
                      f"{res.rhs:g}")
        elif res.status == "passed":
            detail = f"{label}: {res.lhs:g} = {res.rhs:g}"
        else:
            detail = f"{label}: null operand"
        out.append(res.model_copy(update={"detail": detail}))
    return out


def across_years(reports: Iterable[YearReport]) -> AcrossYears:
    """Group by agency, pair consecutive years, check R6 for every pair."""
    reports = list(reports)
    placed = [r for r in reports if r.agency and r.year is not None]
    grouping = group_names(r.agency for r in placed)
    by_agency: dict[tuple[str, int], list[YearReport]] = {}
    for r in placed:
        by_agency.setdefault((grouping.key(r.agency) or r.agency or "", int(r.year or 0)), []).append(r)
    out = AcrossYears(grouping=grouping, unplaced=len(reports) - len(placed))
    for (agency, year), earlier in sorted(by_agency.items()):  # by agency, then year
        for later in sorted(by_agency.get((agency, year + 1), []), key=lambda r: r.file):
            for e in sorted(earlier, key=lambda r: r.file):
                out.pairs.append(Pair(e, later, r6(e, later)))
    return out


# -- `gkllm compare A B`: the year-over-year table ------------------------------------------


def change(a: Any, b: Any) -> int | float | None:
    """B − A, exact for decimals (万元 amounts): Decimal arithmetic on the printed values."""
    if a is None or b is None:
        return None
    d = Decimal(str(b)) - Decimal(str(a))
    return int(d) if d == d.to_integral_value() else float(d)


def year_over_year(a: Mapping[str, Any], b: Mapping[str, Any], template_a: str, template_b: str) -> list[
        tuple[str, Any, Any, Any]]:
    """(key, A, B, change) for every value key of either report's template, in output order."""
    keys = [k for k in flat_keys(template_a) if not k.startswith("meta.")]  # type: ignore[arg-type]
    keys += [k for k in flat_keys(template_b) if not k.startswith("meta.") and k not in keys]  # type: ignore[arg-type]
    return [(k, a.get(k), b.get(k), change(a.get(k), b.get(k))) for k in keys]
