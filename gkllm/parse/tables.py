"""Parts 2, 3 and 4: build row specs from the template and read them."""

from __future__ import annotations

from functools import lru_cache

from ..template import (
    COLUMN_LABELS,
    COLUMNS,
    PART3_HEADER_LABELS,
    PART2,
    REVIEW_GROUPS,
    REVIEW_OUTCOMES,
    TEMPLATE_2019_MARKERS,
    TemplateName,
    compact,
    fold,
    is_decimal_key,
    is_signed_key,
    part2_keys,
    part4_keys,
    rows_for,
)
from .cells import Cell
from .table import PendingRun, RowSpec, TableResult, _take, _to_value, as_run, read_rows


@lru_cache(maxsize=None)
def part2_specs(template: TemplateName) -> tuple[RowSpec, ...]:
    return tuple(RowSpec(item.label, item.keys, item.anchors, item.exact) for item in PART2[template])


@lru_cache(maxsize=None)
def part3_specs(template: TemplateName) -> tuple[RowSpec, ...]:
    specs = []
    for row in rows_for(template):
        exact = row.exact + (row.exact_2019 if template == "2019" else ())
        specs.append(RowSpec(row.key, tuple(f"requests.{row.key}.{c}" for c in COLUMNS), row.anchors, exact))
    return tuple(specs)


def detect_template(part2_cells: list[Cell], part3_cells: list[Cell]) -> TemplateName:
    labels = [compact(c.text) for c in part2_cells if c.kind == "label"]
    if any(fold(m) in lab for lab in labels for m in TEMPLATE_2019_MARKERS):
        return "2019"
    return "2021"


def _kw(template: TemplateName, keys: list[str]) -> dict:
    return {
        "decimal_keys": frozenset(k for k in keys if is_decimal_key(k)),
        "signed_keys": frozenset(k for k in keys if is_signed_key(k)),
    }


def read_part2(cells: list[Cell], template: TemplateName) -> TableResult:
    return read_rows(cells, part2_specs(template), **_kw(template, part2_keys(template)))


def read_part3(cells: list[Cell], template: TemplateName) -> TableResult:
    return read_rows(cells, part3_specs(template), row_sum=True, header_words=_part3_header_words())


@lru_cache(maxsize=None)
def _part3_header_words() -> tuple[str, ...]:
    words = [*COLUMN_LABELS.values(), *PART3_HEADER_LABELS]
    return tuple(compact(w) for w in words)


def read_part4(cells: list[Cell]) -> TableResult:
    """The 15 review numbers: one printed row, groups side by side.

    Its header is two rows of labels with no row label before the numbers, so
    the values are the value cells after the last header label.
    """
    res = TableResult()
    keys = part4_keys()
    last_label = max((i for i, c in enumerate(cells) if c.kind == "label" and _is_header(c)), default=-1)
    rest = list(cells[last_label + 1 :])
    runs = [c for c in rest if c.kind == "run"]
    if runs and not any(c.is_value for c in rest):
        if len(runs) == 1:
            res.runs.append(PendingRun("part 4", tuple(keys), runs[0]))
            res.found_rows.extend(REVIEW_GROUPS)
        else:
            res.warnings.append(f"part 4: {len(runs)} digit runs where one was expected")
        return res
    chosen, problem = _take(rest, len(keys))
    run = as_run(rest, len(keys)) if problem else None
    if run is not None:
        res.runs.append(PendingRun("part 4", tuple(keys), run))
        res.found_rows.extend(REVIEW_GROUPS)
        return res
    if problem:
        res.warnings.append(f"part 4: {problem}")
    for key, cell in zip(keys, chosen):
        res.values[key] = _to_value(key, cell, res.warnings, False, False)
    if chosen:
        res.found_rows.extend(REVIEW_GROUPS)
    return res


_HEADER_WORDS = tuple(fold(w) for w in ("结果", "维持", "纠正", "其他", "尚未", "审结", "总计", "复议", "诉讼", "起诉"))
_HEADER_EXTRA = tuple(fold(w) for w in ("行政", "未经", "直接", "后"))


def _is_header(cell: Cell) -> bool:
    c = compact(cell.text)
    if not any(w in c for w in _HEADER_WORDS):
        return False
    if len(c) <= 20:
        return True
    # several header cells run together ("结果维持结果纠正其他结果尚未审结总计…")
    for w in sorted(_HEADER_WORDS + _HEADER_EXTRA, key=len, reverse=True):
        c = c.replace(w, "")
    return len(c) <= 4


__all__ = ["read_part2", "read_part3", "read_part4", "detect_template", "REVIEW_OUTCOMES"]
