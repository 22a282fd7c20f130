"""Splitting glued digit runs ("530010357") back into cell values, for labelling.

Crawled pages often lose the separators between table cells, so a row prints
as ``一、本年新收政府信息公开申请数量530010357``. The only way to recover the
seven numbers is arithmetic: the row total is the sum of the six applicant
columns (R3), columns add up over rows (R1, R2), review totals add up (R4).

This module only *labels* the generated corpus: a glued case is ``ambiguous``
when more than one split of its runs satisfies all rules. It is a brute-force
search with pruning, not a parser component.

A *run* is ``(keys, text)``: the flat keys whose values were glued, in printed
order, and the printed digits (whitespace inside is ignored, so stray spaces
``"20 0 00 0 121"`` carry no information). Values are non-negative integers
printed without leading zeros.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from gkllm.template import Rule, TemplateName, rules_for

Run = tuple[Sequence[str], str]
_WS = re.compile(r"\s+")


class SplitSearchTooLarge(RuntimeError):
    """The search visited more than ``max_nodes`` partial assignments."""


def run_digits(text: str) -> str:
    digits = _WS.sub("", text)
    if not digits.isdigit():
        raise ValueError(f"not a digit run: {text!r}")
    return digits


def _operands(rule: Rule) -> tuple[str, ...]:
    return rule.lhs + rule.rhs


def split_run(text: str, keys: Sequence[str], rules: Iterable[Rule] = (), *, max_len: int = 7) -> list[tuple[int, ...]]:
    """Every split of one run into ``len(keys)`` numbers satisfying the rules
    whose operands all lie in ``keys`` (other rules are ignored)."""
    digits = run_digits(text)
    n, total_len = len(keys), len(digits)
    pos = {k: i for i, k in enumerate(keys)}
    local = [r for r in rules if all(k in pos for k in _operands(r))]
    # A key is "determined" when a local rule makes it the sum of earlier keys
    # (e.g. the row total after the six applicant columns): its digits must
    # then read exactly that sum, which keeps the enumeration small.
    determined: dict[int, tuple[int, ...]] = {}
    for r in local:
        for single, others in ((r.lhs, r.rhs), (r.rhs, r.lhs)):
            if len(single) == 1 and others and all(pos[o] < pos[single[0]] for o in others):
                determined.setdefault(pos[single[0]], tuple(pos[o] for o in others))
    out: list[tuple[int, ...]] = []
    vals: list[int] = []

    def rec(i: int, offset: int) -> None:
        rest = total_len - offset
        if i == n:
            if rest == 0:
                values = {k: vals[j] for j, k in enumerate(keys)}
                if all(sum(values[k] for k in r.lhs) == sum(values[k] for k in r.rhs) for r in local):
                    out.append(tuple(vals))
            return
        if rest < n - i or rest > (n - i) * max_len:
            return
        if i in determined:
            s = str(sum(vals[j] for j in determined[i]))
            if digits.startswith(s, offset):
                vals.append(int(s))
                rec(i + 1, offset + len(s))
                vals.pop()
            return
        for length in range(1, max_len + 1):
            tok = digits[offset : offset + length]
            if len(tok) < length or (length > 1 and tok[0] == "0"):
                break
            vals.append(int(tok))
            rec(i + 1, offset + length)
            vals.pop()

    rec(0, 0)
    return out


class _Search:
    def __init__(self, runs: Sequence[Run], rules: Sequence[Rule], max_nodes: int) -> None:
        self.keys = [list(k) for k, _ in runs]
        allkeys = {k for ks in self.keys for k in ks}
        self.rules = [r for r in rules if all(k in allkeys for k in _operands(r))]
        self.cands = [split_run(t, k, self.rules) for k, t in runs]
        self.lo: dict[str, int] = {}
        self.hi: dict[str, int] = {}
        for ks, cs in zip(self.keys, self.cands):
            for j, k in enumerate(ks):
                col = [c[j] for c in cs] or [0]
                self.lo[k], self.hi[k] = min(col), max(col)
        key_rules: dict[str, list[Rule]] = {}
        for r in self.rules:
            for k in _operands(r):
                key_rules.setdefault(k, []).append(r)
        self.run_rules = [
            list({id(r): r for k in ks for r in key_rules.get(k, [])}.values()) for ks in self.keys
        ]
        self.max_nodes = max_nodes
        self.nodes = 0

    def _feasible(self, rule: Rule, assigned: dict[str, int]) -> bool:
        def bounds(side: tuple[str, ...]) -> tuple[int, int]:
            lo = hi = 0
            for k in side:
                if k in assigned:
                    lo += assigned[k]
                    hi += assigned[k]
                else:
                    lo += self.lo[k]
                    hi += self.hi[k]
            return lo, hi

        llo, lhi = bounds(rule.lhs)
        rlo, rhi = bounds(rule.rhs)
        return llo <= rhi and rlo <= lhi

    def solve(self, limit: int, fixed: dict[int, tuple[int, ...]] | None = None) -> list[dict[str, int]]:
        cands = [([fixed[i]] if fixed and i in fixed else c) for i, c in enumerate(self.cands)]
        if any(not c for c in cands):
            return []
        order = sorted(range(len(cands)), key=lambda i: len(cands[i]))
        assigned: dict[str, int] = {}
        out: list[dict[str, int]] = []

        def rec(depth: int) -> bool:
            if depth == len(order):
                out.append(dict(assigned))
                return len(out) >= limit
            i = order[depth]
            for cand in cands[i]:
                self.nodes += 1
                if self.nodes > self.max_nodes:
                    raise SplitSearchTooLarge(f"more than {self.max_nodes} nodes")
                for k, v in zip(self.keys[i], cand):
                    assigned[k] = v
                if all(self._feasible(r, assigned) for r in self.run_rules[i]) and rec(depth + 1):
                    return True
                for k in self.keys[i]:
                    del assigned[k]
            return False

        rec(0)
        return out


def consistent_splits(
    runs: Sequence[Run],
    rules: Iterable[Rule] | None = None,
    *,
    template: TemplateName = "2021",
    limit: int = 64,
    max_nodes: int = 500_000,
) -> list[dict[str, int]]:
    """Splits of all ``runs`` (up to ``limit``) under which every rule holds.

    ``rules`` defaults to ``rules_for(template)``; only rules whose operands all
    occur in the runs are applied. Each solution maps every key of every run to
    its value. An empty list means no split is consistent.
    Raises ``SplitSearchTooLarge`` after ``max_nodes`` search steps.
    """
    rule_list = list(rules_for(template) if rules is None else rules)
    return _Search(runs, rule_list, max_nodes).solve(limit)


def _components(runs: Sequence[Run], rules: Sequence[Rule]) -> list[list[int]]:
    """Groups of runs linked by a rule (runs of independent groups split independently)."""
    owner = {k: i for i, (ks, _) in enumerate(runs) for k in ks}
    parent = list(range(len(runs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for r in rules:
        ops = _operands(r)
        if not all(k in owner for k in ops):
            continue
        first = find(owner[ops[0]])
        for k in ops[1:]:
            parent[find(owner[k])] = first
    groups: dict[int, list[int]] = {}
    for i in range(len(runs)):
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


def ambiguous_keys(
    runs: Sequence[Run],
    rules: Iterable[Rule] | None = None,
    *,
    template: TemplateName = "2021",
    max_nodes: int = 500_000,
) -> list[str] | None:
    """Keys whose value differs between two consistent splits ([] = unique).

    Exact: a candidate split of a run counts only if some complete consistent
    split uses it. Returns None when no consistent split exists at all.
    Raises ``SplitSearchTooLarge`` when the search budget is exhausted.
    """
    rule_list = list(rules_for(template) if rules is None else rules)
    varying: list[str] = []
    for comp in _components(runs, rule_list):
        sub = [runs[i] for i in comp]
        search = _Search(sub, rule_list, max_nodes)
        if not search.solve(1):
            return None
        for i, cands in enumerate(search.cands):
            if len(cands) < 2:
                continue
            alive = [c for c in cands if search.solve(1, {i: c})]
            keys = list(sub[i][0])
            for j, k in enumerate(keys):
                if len({c[j] for c in alive}) > 1:
                    varying.append(k)
    order = {k: n for n, (ks, _) in enumerate(runs) for k in ks}
    return sorted(set(varying), key=lambda k: (order[k], [*runs[order[k]][0]].index(k)))


def glue(values: Iterable[int]) -> str:
    """The printed run for a row of values: ``glue([53, 0, 0, 1, 0, 3, 57]) == "530010357"``."""
    return "".join(str(v) for v in values)
