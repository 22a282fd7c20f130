"""Splitting runs of digits back into cells: the one splitter.

A crawler that drops the cell separators prints a row as one run of digits
("690000069"); a PDF prints a number split by a stray space ("280 2"); a row
can be printed partly glued ("10 0 0 0 01"). The digits are certain, the
cell boundaries are not. The only thing that can decide them is arithmetic:
R3 inside a row, R1 and R2 down the columns of part 3, R4 in part 4, and the
prose where it states a number the table glues (see ``parse.prose_hints``).

A split is accepted only when every assignment that satisfies all applicable
rules gives the same value; a key on which two such assignments differ is
``null`` with an ``ambiguous`` diagnostic listing the candidates. Nothing is
ever chosen silently. Spaces printed inside a run carry no information
(crawlers and converters put them anywhere, inside numbers too), except in
one case: a row printed with *more* numbers than cells is a row whose numbers
were cut by stray spaces, so it is only ever re-joined, never cut elsewhere.

Conventions of a printed cell: a non-negative integer without leading zeros
("0" itself is fine), at most ``MAX_DIGITS`` digits.

A report may itself break a rule. When no split satisfies every rule, the
smallest set of rules whose removal admits a split is taken as broken (they
are then reported as failed by the rule check, with the values read).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Mapping, Sequence

from ..models import Diagnostic
from ..template import Rule
from ..values import Value
from .stream import Cell

MAX_DIGITS = 7
MAX_CANDIDATES = 20_000  # per run; more means the run is not pinned down by anything
MAX_NODES = 300_000  # per joint search
MAX_SOLUTIONS = 64  # enumerated before falling back to per-candidate checks
MAX_LISTED = 12  # candidates listed in a diagnostic


class _TooLarge(RuntimeError):
    pass


@dataclass
class RunTask:
    """Numbers printed for one row (or one table) whose digits hold ``keys``' cells."""

    name: str
    keys: tuple[str, ...]
    cells: list[Cell]


@dataclass
class AmbiguousRun:
    """A run the rules split several ways: for the prose and the LLM to choose from."""

    task: RunTask
    candidates: list[tuple[int, ...]]  # values of all the task's keys, per candidate
    diagnostic: Diagnostic


@dataclass
class SplitOutcome:
    values: dict[str, Value] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    ambiguous: list[AmbiguousRun] = field(default_factory=list)


def spans(task: RunTask, candidate: Sequence[int]) -> list[tuple[int, int]]:
    """Document spans of each cell of ``candidate`` in the task's printed digits."""
    offsets = [c.start + i for c in task.cells for i in range(len(c.text))]
    out = []
    pos = 0
    for v in candidate:
        width = len(str(v))
        out.append((offsets[pos], offsets[pos + width - 1] + 1))
        pos += width
    return out


@dataclass
class _Run:
    task: RunTask
    digits: str
    offsets: list[int]  # document offset of every digit
    cuts: frozenset[int] | None  # where a cell may start; None: anywhere
    cands: list[tuple[int, ...]] = field(default_factory=list)

    @property
    def keys(self) -> tuple[str, ...]:
        return self.task.keys


def _prepare(task: RunTask) -> _Run:
    digits: list[str] = []
    offsets: list[int] = []
    starts: set[int] = set()
    for cell in task.cells:
        starts.add(len(digits))
        digits.extend(cell.text)
        offsets.extend(range(cell.start, cell.start + len(cell.text)))
    rejoin_only = len(task.cells) > len(task.keys)
    return _Run(task, "".join(digits), offsets, frozenset(starts) if rejoin_only else None)


def split_digits(digits: str, keys: Sequence[str], rules: Sequence[Rule], known: Mapping[str, float],
                 cuts: frozenset[int] | None = None) -> list[tuple[int, ...]]:
    """Every split of ``digits`` into len(keys) cells under which ``rules`` hold
    (their operands are keys of this run or ``known``); with ``cuts``, cells
    start only at those digit positions."""
    n, total = len(keys), len(digits)
    pos = {k: i for i, k in enumerate(keys)}
    # a key that a rule makes the sum of earlier keys (the row total) must read that sum: prune early
    determined: dict[int, tuple[tuple[int, ...], float]] = {}
    for r in rules:
        for single, others in ((r.lhs, r.rhs), (r.rhs, r.lhs)):
            if len(single) == 1 and single[0] in pos:
                inner = [o for o in others if o in pos]
                if all(pos[o] < pos[single[0]] for o in inner) and all(o in pos or o in known for o in others):
                    const = sum(known[o] for o in others if o not in pos)
                    determined.setdefault(pos[single[0]], (tuple(pos[o] for o in inner), const))
    out: list[tuple[int, ...]] = []
    vals: list[int] = []
    values: dict[str, float] = dict(known)

    def rec(i: int, offset: int) -> None:
        rest = total - offset
        if i == n:
            if rest == 0:
                for k, v in zip(keys, vals):
                    values[k] = v
                if all(r.holds(values) for r in rules):
                    out.append(tuple(vals))
                    if len(out) > MAX_CANDIDATES:
                        raise _TooLarge
            return
        if rest < n - i or rest > (n - i) * MAX_DIGITS or (cuts is not None and offset not in cuts):
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
            for i in {owner[k] for k in r.operands if k in owner}:
                self.run_rules[i].append(r)
        self.nodes = 0

    def _feasible(self, rule: Rule, assigned: dict[str, int]) -> bool:
        """Can the rule still hold, given the ranges of the keys not yet assigned?"""
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


def _alive(runs: Sequence[_Run], rules: Sequence[Rule],
           known: Mapping[str, float]) -> list[set[tuple[int, ...]]] | None:
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
        idx = [owner[k] for k in r.operands if k in owner]
        for i in idx[1:]:
            parent[find(i)] = find(idx[0])
    groups: dict[int, list[int]] = {}
    for i in range(len(runs)):
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


def _local_cands(run: _Run, rules: Sequence[Rule], known: Mapping[str, float]) -> None:
    """Candidates under the rules inside the run; the fewest rules dropped when none fit.

    A report may break its own R3 ("191000019": 19 + 1 ≠ 19); the split is then decided by the
    rules across rows, or by the digits alone.
    """
    for size in range(len(rules) + 1):
        found: dict[tuple[int, ...], None] = {}
        for drop in combinations(rules, size):
            kept = [r for r in rules if r not in drop]
            found.update(dict.fromkeys(split_digits(run.digits, run.keys, kept, known, run.cuts)))
        if found:
            run.cands = list(found)
            if size and len(found) == 1 and not _near_miss(run, run.cands[0], rules, known):
                run.cands = []  # the digits force a split that breaks its own rule wildly: not one row's digits
            return
    run.cands = []


def _near_miss(run: _Run, cand: tuple[int, ...], rules: Sequence[Rule], known: Mapping[str, float]) -> bool:
    """Every broken rule misses by one, or by at most half its larger side: a clerical slip
    ("8100008": 8 + 1 against 8), not digits of two rows read as one (0 + … + 0 against 4000000)."""
    values = {**known, **dict(zip(run.keys, cand))}
    for r in rules:
        if r.holds(values) is False:
            lhs = sum(values[k] for k in r.lhs)
            rhs = sum(values[k] for k in r.rhs)
            if abs(lhs - rhs) > max(1.0, 0.5 * max(lhs, rhs)):
                return False
    return True


class SplitSearchTooLarge(RuntimeError):
    """The runs split too many ways to decide within the search budget."""


def _prepared(runs: Sequence[tuple[Sequence[str], str]], rules: Sequence[Rule], known: Mapping[str, float]
              ) -> tuple[list[_Run], list[Rule]] | None:
    prepared = []
    for keys, digits in runs:
        digits = "".join(digits.split())
        prepared.append(_Run(RunTask("", tuple(keys), []), digits, list(range(len(digits))), None))
    run_keys = {k for r in prepared for k in r.keys}
    applicable = [r for r in rules if all(k in run_keys or k in known for k in r.operands)]
    for run in prepared:
        inside = [r for r in applicable if all(k in run.keys or k in known for k in r.operands)]
        run.cands = split_digits(run.digits, run.keys, inside, known)
        if not run.cands:
            return None
    return prepared, applicable


def consistent_solutions(runs: Sequence[tuple[Sequence[str], str]], rules: Sequence[Rule], limit: int = 64,
                         known: Mapping[str, float] | None = None) -> list[dict[str, int]]:
    """Up to ``limit`` complete splits of all runs ``(keys, digits)`` under which every rule holds.
    No rule is ever dropped here. Raises ``SplitSearchTooLarge`` past the search budget."""
    try:
        got = _prepared(runs, rules, known or {})
        if got is None:
            return []
        prepared, applicable = got
        sols = _Search(prepared, applicable, known or {}).solve(limit)
    except _TooLarge:
        raise SplitSearchTooLarge("too many splits to decide") from None
    return [{k: v for run, cand in zip(prepared, sol) for k, v in zip(run.keys, cand)} for sol in sols]


def consistent_candidates(runs: Sequence[tuple[Sequence[str], str]], rules: Sequence[Rule],
                          known: Mapping[str, float] | None = None) -> list[list[tuple[int, ...]]] | None:
    """Per run ``(keys, digits)``, every split some complete split of all runs uses under which
    every rule holds; None when no such split exists. No rule is ever dropped here.
    Raises ``SplitSearchTooLarge`` past the search budget.
    """
    known = known or {}
    try:
        got = _prepared(runs, rules, known)
        if got is None:
            return None
        prepared, applicable = got
        out: list[list[tuple[int, ...]]] = [[] for _ in prepared]
        ruled = {k for r in applicable for k in r.operands}
        for comp in _components(prepared, applicable):
            alive = _alive([prepared[i] for i in comp], applicable, known)
            if alive is None:
                return None
            for i, cands in zip(comp, alive):
                run = prepared[i]
                out[i] = sorted(cands)
                if len(cands) == 1 and not ruled.intersection(run.keys):
                    # what the parser does too: a row no rule checks is certain only if no blank can have vanished
                    out[i].extend(_vanished_blank(run, known))  # type: ignore[arg-type]
        return out
    except _TooLarge:
        raise SplitSearchTooLarge("too many splits to decide") from None


def split_runs(tasks: Sequence[RunTask], known: Mapping[str, float], rules: Sequence[Rule]) -> SplitOutcome:
    """Split every run against the rules and the values already read."""
    out = SplitOutcome()
    runs = [_prepare(t) for t in tasks]
    run_keys = {k for r in runs for k in r.keys}
    applicable = [r for r in rules if all(k in run_keys or k in known for k in r.operands)
                  and any(k in run_keys for k in r.operands)]
    owner = {k: i for i, run in enumerate(runs) for k in run.keys}
    local: list[list[Rule]] = [[] for _ in runs]
    cross: list[Rule] = []
    for r in applicable:
        idx = {owner[k] for k in r.operands if k in owner}
        if len(idx) == 1:
            local[idx.pop()].append(r)
        else:
            cross.append(r)
    unsplit: set[int] = set()
    for i, run in enumerate(runs):
        try:
            _local_cands(run, local[i], known)
        except _TooLarge:
            run.cands = []
        if not run.cands:
            unsplit.add(i)
    for comp in _components(runs, cross):
        comp = [i for i in comp if i not in unsplit]
        if not comp:
            continue
        sub = [runs[i] for i in comp]
        keys = {k for r in sub for k in r.keys}
        # a rule over a run that could not be split at all is not assessable here
        comp_rules = [r for r in cross if any(k in keys for k in r.operands)
                      and all(k in keys or k in known for k in r.operands)]
        try:
            alive = _alive_dropping(sub, comp_rules, known)
        except _TooLarge:
            alive = None
            out.warnings.append(f"digit runs of {', '.join(r.task.name for r in sub)}: too many splits to decide")
        if alive is None:
            unsplit.update(comp)
            continue
        ruled = {k for r in comp_rules for k in r.operands}
        for i, run, cands in zip(comp, sub, alive):
            if not local[i] and not ruled.intersection(run.keys) and len(cands) == 1:
                blanks = _vanished_blank(run, known)
                if blanks:
                    _emit_unruled(run, sorted(cands)[0], blanks, out)
                    continue
            _emit(run, sorted(cands), out)
    for i in sorted(unsplit):
        run = runs[i]
        text = _printed(run)
        out.warnings.append(f"row {run.task.name}: no split of {text!r} fits, left null")
        out.diagnostics.append(Diagnostic(kind="ambiguous", keys=list(run.keys), candidates=[],
                                          message=f"row {run.task.name}: digit run {text!r} cannot be split "
                                                  "into its cells by the rules; left null"))
        for k in run.keys:
            out.values[k] = _null(run)
    return out


def _alive_dropping(runs: Sequence[_Run], rules: Sequence[Rule], known: Mapping[str, float]
                    ) -> list[set[tuple[int, ...]]] | None:
    """``_alive`` under all rules, else under the fewest rules dropped (at most two): a report
    may break a rule across rows as printed, and the values read are then reported with it."""
    # a rule whose operands every candidate agrees on is decided already: drop it if it fails
    fixed: dict[str, float] = dict(known)
    for run in runs:
        for j, k in enumerate(run.keys):
            vals = {c[j] for c in run.cands}
            if len(vals) == 1:
                fixed[k] = vals.pop()
    kept = [r for r in rules if r.holds(fixed) is not False]
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
            # every split some choice of dropped rules allows: a key they disagree on stays null
            return union
    return None


def _printed(run: _Run) -> str:
    cells = run.task.cells
    return " ".join(c.text for c in cells)


def _null(run: _Run, note: str | None = None) -> Value:
    cells = run.task.cells
    return Value(None, cells[0].start, cells[-1].end, cells[0].line, text=_printed(run),
                 notes=[note] if note else [], ambiguous=True)


def _vanished_blank(run: _Run, known: Mapping[str, float]) -> list[tuple[int | None, ...]]:
    """For a run no rule checks: the readings in which one cell was printed blank and left no
    trace in the glued text ("规章011" may be 0/1/1, or blank/0/11). Empty when there are none."""
    n = len(run.keys)
    if n < 2:
        return []
    out: list[tuple[int | None, ...]] = []
    for alt in split_digits(run.digits, run.keys[:-1], [], known):
        for p in range(n):
            out.append(alt[:p] + (None,) + alt[p:])
            if len(out) >= MAX_LISTED:
                return out
    return out


def _emit_unruled(run: _Run, forced: tuple[int, ...], blanks: list[tuple[int | None, ...]],
                  out: SplitOutcome) -> None:
    """A run the digits alone split one way, unless a printed blank vanished: not certain, so null."""
    for k in run.keys:
        out.values[k] = _null(run, "split one way only if no cell of the row was printed blank")
    cands: list[tuple[int | None, ...]] = [forced, *blanks]
    diag = Diagnostic(
        kind="ambiguous",
        keys=list(run.keys),
        message=f"row {run.task.name}: digits {_printed(run)!r} read {'/'.join(map(str, forced))} only if none of "
                f"its cells was printed blank (a blank leaves no trace in glued text, and no rule checks this row); "
                f"left null",
        candidates=[dict(zip(run.keys, c)) for c in cands[:MAX_LISTED]],
    )
    out.diagnostics.append(diag)
    out.ambiguous.append(AmbiguousRun(run.task, cands, diag))  # type: ignore[arg-type]


def _emit(run: _Run, alive: list[tuple[int, ...]], out: SplitOutcome) -> None:
    first = alive[0]
    varying = [j for j in range(len(run.keys)) if len({c[j] for c in alive}) > 1]
    # keys that agree print the same digits at the same place in every candidate up to their position,
    # so the first candidate's spans are theirs
    pos = 0
    line = run.task.cells[0].line
    for j, k in enumerate(run.keys):
        width = len(str(first[j]))
        a, b = run.offsets[pos], run.offsets[pos + width - 1] + 1
        pos += width
        if j in varying:
            out.values[k] = _null(run, "ambiguous split of a run of digits")
        else:
            out.values[k] = Value(first[j], a, b, line, text=run.digits[pos - width : pos],
                                  notes=["split from a run of digits by the rules"])
    if varying:
        keys = [run.keys[j] for j in varying]
        diag = Diagnostic(
            kind="ambiguous",
            keys=keys,
            message=f"row {run.task.name}: digits {_printed(run)!r} split {len(alive)} ways that satisfy every "
                    f"applicable rule; {len(keys)} value(s) left null",
            candidates=[{run.keys[j]: c[j] for j in varying} for c in alive[:MAX_LISTED]],
        )
        out.diagnostics.append(diag)
        out.ambiguous.append(AmbiguousRun(run.task, alive, diag))
