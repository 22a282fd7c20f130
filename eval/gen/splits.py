"""Which keys of a glued rendering are ambiguous: labels for the generated corpus.

Crawled pages often lose the separators between table cells, so a row prints
as ``一、本年新收政府信息公开申请数量530010357``. The generator labels each
glued case with the keys whose value the rules do not determine, so the eval
can score the parser's ``ambiguous`` diagnostics against them.

There is one splitter: the parser's (``gkllm.parse.digit_runs``), used here
without its tolerance for inconsistent reports (the rules a generated report
breaks on purpose are left out by the caller). Its independent check is a
different algorithm, an unpruned brute force, in ``tests/parse/test_digit_runs.py``.

A *run* is ``(keys, text)``: the flat keys whose values were glued, in printed
order, and the printed digits (whitespace inside is ignored, so stray spaces
``"20 0 00 0 121"`` carry no information).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from gkllm.parse.digit_runs import SplitSearchTooLarge, consistent_candidates, consistent_solutions
from gkllm.template import Rule, TemplateName, rules_for

Run = tuple[Sequence[str], str]

__all__ = ["Run", "SplitSearchTooLarge", "ambiguous_keys", "consistent_splits", "glue"]


def consistent_splits(runs: Sequence[Run], rules: Iterable[Rule] | None = None, *,
                      template: TemplateName = "2021", limit: int = 64) -> list[dict[str, int]]:
    """Up to ``limit`` splits of all ``runs`` under which every rule holds (each maps every
    key of every run to its value); [] when none is. Raises ``SplitSearchTooLarge``."""
    rule_list = list(rules_for(template) if rules is None else rules)
    return consistent_solutions(runs, rule_list, limit)


def ambiguous_keys(runs: Sequence[Run], rules: Iterable[Rule] | None = None, *,
                   template: TemplateName = "2021") -> list[str] | None:
    """Keys whose value differs between two consistent splits ([] = unique); None when no
    split is consistent. Raises ``SplitSearchTooLarge`` past the search budget."""
    rule_list = list(rules_for(template) if rules is None else rules)
    cands = consistent_candidates(runs, rule_list)
    if cands is None:
        return None
    return [k for (keys, _), cs in zip(runs, cands) for j, k in enumerate(keys) if len({c[j] for c in cs}) > 1]


def glue(values: Iterable[int]) -> str:
    """The printed run for a row of values: ``glue([53, 0, 0, 1, 0, 3, 57]) == "530010357"``."""
    return "".join(str(v) for v in values)
