"""Splitting glued digit runs ("…数量530010357") back into cell values.

A crawler that drops the cell separators prints a row as one run of digits.
The only thing that can split it is arithmetic: R3 inside a row, R1 and R2
down the columns of part 3, R4 inside part 4. A split is accepted only when
every assignment that satisfies all applicable rules gives the same value;
a key on which two such assignments differ is ``null`` with an ``ambiguous``
diagnostic listing the candidates. Nothing is ever chosen silently.

Conventions of a printed cell: a non-negative integer without leading zeros
("0" itself is fine), at most ``MAX_DIGITS`` digits. Stray spaces inside a run
carry no information (they fall anywhere, also inside a number).

A report may itself break a rule. When no split satisfies every rule, the
smallest set of rules whose removal admits a split is taken as broken (they
are then reported as failed by the rule check, with the values read).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Mapping, Sequence

from ..models import Diagnostic
from ..template import Rule, TemplateName, rules_for
from ..values import Value
from .table import PendingRun

MAX_DIGITS = 7
MAX_CANDIDATES = 20_000  # per run; more means the run is not pinned down by anything
MAX_NODES = 300_000  # per search
MAX_SOLUTIONS = 64  # enumerated before falling back to per-candidate checks
MAX_LISTED = 12  # candidates listed in a diagnostic


class _TooLarge(RuntimeError):
    pass


@dataclass
class _Run:
    pending: PendingRun
    digits: str
    offsets: list[int]  # document offset of every digit
    cands: list[tuple[int, ...]]
    dropped: list[Rule]

    @property
    def keys(self) -> tuple[str, ...]:
        return self.pending.keys


def _ops(rule: Rule) -> tuple[str, ...]:
    return rule.lhs + rule.rhs


def _digits(run: PendingRun) -> tuple[str, list[int]] | None:
    text, start = run.cell.text, run.cell.start
    digits, offsets = [], []
    for i, ch in enumerate(text):
        if ch.isdigit():
            digits.append(ch)
            offsets.append(start + i)
        elif not ch.isspace():
            return None  # a decimal point: not a run of counts
    return "".join(digits), offsets


def _split(digits: str, keys: Sequence[str], rules: Sequence[Rule], known: Mapping[str, float]) -> list[tuple[int, ...]]:
    """Every split of ``digits`` into len(keys) cells satisfying ``rules``
    (whose operands are keys of this run or known values)."""
    n, total = len(keys), len(digits)
    pos = {k: i for i, k in enumerate(keys)}
    # a key whose rule makes it the sum of earlier keys (the row total) must read that sum
    determined: dict[int, tuple[tuple[int, ...], float]] = {}
    for r in rules:
        for single, others in ((r.lhs, r.rhs), (r.rhs, r.lhs)):
            if len(single) == 1 and single[0] in pos:
                inner = [o for o in others if o in pos]
                if all(pos[o] < pos[single[0]] for o in inner):
                    const = sum(known[o] for o in others if o not in pos)
                    determined.setdefault(pos[single[0]], (tuple(pos[o] for o in inner), const))
    out: list[tuple[int, ...]] = []
    vals: list[int] = []

    def check() -> bool:
        def side(ks: tuple[str, ...]) -> float:
            return sum(vals[pos[k]] if k in pos else known[k] for k in ks)

        return all(abs(side(r.lhs) - side(r.rhs)) < 1e-9 for r in rules)

    def rec(i: int, offset: int) -> None:
        rest = total - offset
        if i == n:
            if rest == 0 and check():
                out.append(tuple(vals))
                if len(out) > MAX_CANDIDATES:
                    raise _TooLarge
            return
        if rest < n - i or rest > (n - i) * MAX_DIGITS:
            return
        if i in determined:
            idx, const = determined[i]
            want = sum(vals[j] for j in idx) + const
            if want < 0 or want != int(want):
                return
            s = str(int(want))
            if digits.startswith(s, offset):
                vals.append(int(s))
                rec(i + 1, offset + len(s))
                vals.pop()
            return
        for length in range(1, MAX_DIGITS + 1):
            if offset + length > total or (length > 1 and digits[offset] == "0"):
                break
            vals.append(int(digits[offset : offset + length]))
            rec(i + 1, offset + length)
            vals.pop()

    rec(0, 0)
    return out


class _Search:
    """Joint assignment of several runs' candidates under cross-run rules."""

    def __init__(self, runs: Sequence[_Run], rules: Sequence[Rule], known: Mapping[str, float]) -> None:
        self.runs = runs
        self.rules = list(rules)
        self.known = known
        self.lo: dict[str, int] = {}
        self.hi: dict[str, int] = {}
        for run in runs:
            for j, k in enumerate(run.keys):
                col = [c[j] for c in run.cands] or [0]
                self.lo[k], self.hi[k] = min(col), max(col)
        owner = {k: i for i, run in enumerate(runs) for k in run.keys}
        self.run_rules: list[list[Rule]] = [[] for _ in runs]
        for r in self.rules:
            for i in {owner[k] for k in _ops(r) if k in owner}:
                self.run_rules[i].append(r)
        self.nodes = 0

    def _feasible(self, rule: Rule, assigned: dict[str, int]) -> bool:
        def bounds(side: tuple[str, ...]) -> tuple[float, float]:
            lo = hi = 0.0
            for k in side:
                if k in assigned:
                    lo += assigned[k]
                    hi += assigned[k]
                elif k in self.known:
                    lo += self.known[k]
                    hi += self.known[k]
                else:
                    lo += self.lo[k]
                    hi += self.hi[k]
            return lo, hi

        llo, lhi = bounds(rule.lhs)
        rlo, rhi = bounds(rule.rhs)
        return llo <= rhi + 1e-9 and rlo <= lhi + 1e-9

    def solve(self, limit: int, fixed: dict[int, tuple[int, ...]] | None = None) -> list[tuple[tuple[int, ...], ...]]:
        cands = [[fixed[i]] if fixed and i in fixed else run.cands for i, run in enumerate(self.runs)]
        if any(not c for c in cands):
            return []
        order = sorted(range(len(cands)), key=lambda i: len(cands[i]))
        assigned: dict[str, int] = {}
        chosen: list[tuple[int, ...] | None] = [None] * len(cands)
        out: list[tuple[tuple[int, ...], ...]] = []

        def rec(depth: int) -> bool:
            if depth == len(order):
                out.append(tuple(chosen))  # type: ignore[arg-type]
                return len(out) >= limit
            i = order[depth]
            keys = self.runs[i].keys
            for cand in cands[i]:
                self.nodes += 1
                if self.nodes > MAX_NODES:
                    raise _TooLarge
                for k, v in zip(keys, cand):
                    assigned[k] = v
                chosen[i] = cand
                if all(self._feasible(r, assigned) for r in self.run_rules[i]) and rec(depth + 1):
                    return True
            for k in keys:
                assigned.pop(k, None)
            chosen[i] = None
            return False

        rec(0)
        return out


def _alive(runs: Sequence[_Run], rules: Sequence[Rule], known: Mapping[str, float]) -> list[set[tuple[int, ...]]] | None:
    """Per run, the candidates used by some complete consistent split (None: no split)."""
    search = _Search(runs, rules, known)
    sols = search.solve(MAX_SOLUTIONS)
    if not sols:
        return None
    if len(sols) < MAX_SOLUTIONS:
        return [{s[i] for s in sols} for i in range(len(runs))]
    alive: list[set[tuple[int, ...]]] = []
    for i, run in enumerate(runs):
        if len(run.cands) == 1:
            alive.append({run.cands[0]})
            continue
        alive.append({c for c in run.cands if search.solve(1, {i: c})})
    return alive


def _components(runs: Sequence[_Run], rules: Sequence[Rule]) -> list[list[int]]:
    owner = {k: i for i, run in enumerate(runs) for k in run.keys}
    parent = list(range(len(runs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for r in rules:
        idx = [owner[k] for k in _ops(r) if k in owner]
        for i in idx[1:]:
            parent[find(i)] = find(idx[0])
    groups: dict[int, list[int]] = {}
    for i in range(len(runs)):
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


def _local_cands(run: _Run, rules: Sequence[Rule], known: Mapping[str, float]) -> None:
    """Candidates under the rules inside the run; the fewest rules dropped when none fit."""
    for size in range(len(rules) + 1):
        found: dict[tuple[int, ...], None] = {}
        dropped: list[Rule] = []
        for drop in combinations(rules, size):
            kept = [r for r in rules if r not in drop]
            cands = _split(run.digits, run.keys, kept, known)
            if cands:
                found.update(dict.fromkeys(cands))
                dropped.extend(drop)
        if found:
            run.cands, run.dropped = list(found), dropped
            return
    run.cands, run.dropped = [], []


def resolve_runs(
    pending: Sequence[PendingRun], values: Mapping[str, Value], template: TemplateName
) -> tuple[dict[str, Value], list[Diagnostic], list[str]]:
    """Split every glued run; returns values, ambiguity diagnostics, warnings."""
    out: dict[str, Value] = {}
    diags: list[Diagnostic] = []
    warnings: list[str] = []
    known = {k: float(v.value) for k, v in values.items() if v.value is not None}
    runs: list[_Run] = []
    for p in pending:
        d = _digits(p)
        if d is None:
            warnings.append(f"row {p.name}: {p.cell.text!r} is not a run of counts, left null")
            for k in p.keys:
                out[k] = Value(None, p.cell.start, p.cell.end, p.cell.line, text=p.cell.text)
            continue
        runs.append(_Run(p, d[0], d[1], [], []))
    run_keys = {k for r in runs for k in r.keys}
    applicable = [r for r in rules_for(template) if all(k in run_keys or k in known for k in _ops(r))
                  and any(k in run_keys for k in _ops(r))]
    owner = {k: i for i, run in enumerate(runs) for k in run.keys}
    local: list[list[Rule]] = [[] for _ in runs]
    cross: list[Rule] = []
    for r in applicable:
        idx = {owner[k] for k in _ops(r) if k in owner}
        if len(idx) == 1:
            local[idx.pop()].append(r)
        else:
            cross.append(r)
    unsplit: set[int] = set()
    for i, run in enumerate(runs):
        try:
            _local_cands(run, local[i], known)
        except _TooLarge:
            unsplit.add(i)
            run.cands = []
        if not run.cands and i not in unsplit:
            unsplit.add(i)
    for comp in _components(runs, cross):
        comp = [i for i in comp if i not in unsplit]
        if not comp:
            continue
        sub = [runs[i] for i in comp]
        keys = {k for r in sub for k in r.keys}
        rules = [r for r in cross if any(k in keys for k in _ops(r))]
        try:
            alive = _alive_dropping(sub, rules, known)
        except _TooLarge:
            alive = None
            warnings.append(f"digit runs of {', '.join(r.pending.name for r in sub)}: too many splits to decide")
        if alive is None:
            unsplit.update(comp)
            continue
        for run, cands in zip(sub, alive):
            _emit(run, sorted(cands), out, diags)
    for i in sorted(unsplit):
        run = runs[i]
        warnings.append(f"row {run.pending.name}: no split of {run.pending.cell.text!r} fits, left null")
        diags.append(Diagnostic(kind="ambiguous", keys=list(run.keys), candidates=[],
                                message=f"row {run.pending.name}: digit run {run.pending.cell.text!r} cannot be split "
                                        "into its cells by the rules; left null"))
        for k in run.keys:
            out[k] = Value(None, run.pending.cell.start, run.pending.cell.end, run.pending.cell.line,
                           text=run.pending.cell.text)
    return out, diags, warnings


def _alive_dropping(runs: Sequence[_Run], rules: Sequence[Rule], known: Mapping[str, float]) -> list[set[tuple[int, ...]]] | None:
    """``_alive`` under all rules, else under the fewest rules dropped (at most two)."""
    # a rule whose operands every candidate agrees on is decided already: drop it if it fails
    fixed: dict[str, int] = {}
    for run in runs:
        for j, k in enumerate(run.keys):
            vals = {c[j] for c in run.cands}
            if len(vals) == 1:
                fixed[k] = vals.pop()
    def value(k: str) -> float | None:
        return fixed.get(k, known.get(k))

    kept = []
    for r in rules:
        ops = [value(k) for k in _ops(r)]
        if all(v is not None for v in ops):
            lhs = sum(value(k) for k in r.lhs)  # type: ignore[misc]
            rhs = sum(value(k) for k in r.rhs)  # type: ignore[misc]
            if abs(lhs - rhs) > 1e-9:
                continue  # broken as printed
        kept.append(r)
    alive = _alive(runs, kept, known)
    if alive is not None:
        return alive
    for size in (1, 2):
        union: list[set[tuple[int, ...]]] | None = None
        for drop in combinations(kept, size):
            got = _alive(runs, [r for r in kept if r not in drop], known)
            if got is None:
                continue
            union = got if union is None else [a | b for a, b in zip(union, got)]
        if union is not None:
            return union
    return None


def _emit(run: _Run, alive: list[tuple[int, ...]], out: dict[str, Value], diags: list[Diagnostic]) -> None:
    first = alive[0]
    cell = run.pending.cell
    varying = [j for j in range(len(run.keys)) if len({c[j] for c in alive}) > 1]
    # spans of the first candidate (keys that agree print the same digits in every candidate
    # up to their position)
    pos = 0
    for j, k in enumerate(run.keys):
        width = len(str(first[j]))
        a, b = run.offsets[pos], run.offsets[pos + width - 1] + 1
        pos += width
        if j in varying:
            out[k] = Value(None, cell.start, cell.end, cell.line, text=cell.text,
                           notes=["ambiguous split of a glued digit run"])
        else:
            note = ["split from a glued digit run by the rules"]
            out[k] = Value(first[j], a, b, cell.line, text=cell.text[a - cell.start : b - cell.start], notes=note)
    if varying:
        keys = [run.keys[j] for j in varying]
        diags.append(Diagnostic(
            kind="ambiguous",
            keys=keys,
            message=f"row {run.pending.name}: digit run {cell.text!r} splits {len(alive)} ways that satisfy every "
                    f"applicable rule; {len(keys)} value(s) left null",
            candidates=[{run.keys[j]: c[j] for j in varying} for c in alive[:MAX_LISTED]],
        ))
