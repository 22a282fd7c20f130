"""The one digit-run splitter, on small hand-written runs."""

from __future__ import annotations

from gkllm.parse.digit_runs import RunTask, split_digits, split_runs
from gkllm.parse.stream import Cell
from gkllm.template import Rule, rules_for

ROW = tuple(f"requests.new.{c}" for c in
            ("natural_person", "commercial", "research", "social_org", "legal_service", "other_org", "total"))
R3 = Rule("R3", "new", (ROW[6],), ROW[:6])


def cells(*texts: str, glued: bool = False) -> list[Cell]:
    out, pos = [], 0
    for t in texts:
        out.append(Cell("number", t, pos, pos + len(t), 1, int(t), "" if glued else " "))
        pos += len(t) + (0 if glued else 1)
    return out


def test_r3_splits_a_glued_row_uniquely() -> None:
    assert split_digits("690000069", ROW, [R3], {}) == [(69, 0, 0, 0, 0, 0, 69)]


def test_leading_zeros_are_not_cells() -> None:
    # "005" can only be 0 / 0 / 5: "05" is no printed count
    assert split_digits("005", ("a", "b", "c"), [], {}) == [(0, 0, 5)]


def test_without_a_rule_several_splits_stay_candidates() -> None:
    assert sorted(split_digits("2433", ("a", "b", "c"), [], {})) == [(2, 4, 33), (2, 43, 3), (24, 3, 3)]


def test_a_row_printed_with_one_number_cut_by_a_space_is_only_rejoined() -> None:
    # 8 numbers for 7 cells: only neighbours are joined, never re-cut elsewhere
    task = RunTask("new", ROW, cells("280", "2", "448", "410", "228", "1902", "611", "6401"))
    out = split_runs([task], {}, [R3])
    assert [out.values[k].value for k in ROW] == [2802, 448, 410, 228, 1902, 611, 6401]
    # the merged cell points at both printed pieces
    v = out.values[ROW[0]]
    assert (v.start, v.end) == (0, 5)


def test_ambiguous_keys_are_null_with_the_candidates() -> None:
    keys = ("active.normative_docs.issued", "active.normative_docs.repealed", "active.normative_docs.in_force")
    out = split_runs([RunTask("行政规范性文件", keys, cells("2433", glued=True))], {}, [])
    assert all(out.values[k].value is None and out.values[k].ambiguous for k in keys)
    [diag] = out.diagnostics
    assert diag.kind == "ambiguous" and {"active.normative_docs.issued": 2, "active.normative_docs.repealed": 4,
                                         "active.normative_docs.in_force": 33} in diag.candidates
    assert len(out.ambiguous) == 1 and len(out.ambiguous[0].candidates) == 3


def test_columns_decide_what_a_row_cannot() -> None:
    # R3 alone splits "22111120055" five ways; R1 down the columns (the other rows printed plainly) decides
    assert len(split_digits("22111120055", ROW, [R3], {})) == 5
    cols = ("natural_person", "commercial", "research", "social_org", "legal_service", "other_org", "total")
    known = {f"requests.{r}.{c}": 0.0 for r in ("carried_over", "carried_forward") for c in cols}
    known.update({f"requests.results_total.{c}": float(v) for c, v in zip(cols, (2, 21, 1, 11, 20, 0, 55))})
    rules = [r for r in rules_for("2021") if r.id in ("R1", "R3")]
    out = split_runs([RunTask("new", ROW, cells("22111120055", glued=True))], known, rules)
    assert [out.values[k].value for k in ROW] == [2, 21, 1, 11, 20, 0, 55]
    assert not out.diagnostics


def test_a_row_breaking_its_own_rule_by_a_slip_is_read_as_printed() -> None:
    # "8100008": 8 + 1 against 8, printed so by a real report; the digits force the split
    out = split_runs([RunTask("partial", ROW, cells("8100008", glued=True))], {}, [R3])
    assert [out.values[k].value for k in ROW] == [8, 1, 0, 0, 0, 0, 8]


def test_a_forced_split_that_misses_wildly_is_not_read() -> None:
    # two rows' digits glued into one: 0 + … + 0 against 4000000 is not a clerical slip
    out = split_runs([RunTask("x", ROW, cells("0000004000000", glued=True))], {}, [R3])
    assert all(out.values[k].value is None for k in ROW)
    assert out.diagnostics and out.diagnostics[0].kind == "ambiguous"


def _brute_force(digits: str, keys: tuple[str, ...], rules: list[Rule]) -> set[tuple[int, ...]]:
    """The independent oracle: every composition of the digits, no pruning, rules via Rule.holds."""
    from itertools import combinations

    out = set()
    for cuts in combinations(range(1, len(digits)), len(keys) - 1):
        bounds = (0, *cuts, len(digits))
        parts = [digits[a:b] for a, b in zip(bounds, bounds[1:])]
        if any(len(p) > 7 or (len(p) > 1 and p[0] == "0") for p in parts):
            continue
        cand = tuple(int(p) for p in parts)
        if all(r.holds(dict(zip(keys, cand))) for r in rules):
            out.add(cand)
    return out


def test_the_splitter_agrees_with_a_brute_force_on_random_rows() -> None:
    import random

    rnd = random.Random(20261203)
    for _ in range(300):
        values = [rnd.choice((0, 0, 0, 1, 2, 3, 10, 12, 20, 101)) for _ in range(6)]
        row = [*values, sum(values)]
        digits = "".join(map(str, row))
        got = set(split_digits(digits, ROW, [R3], {}))
        assert got == _brute_force(digits, ROW, [R3]), digits
        assert tuple(row) in got


def test_a_row_no_rule_checks_is_not_read_when_a_vanished_blank_could_explain_it() -> None:
    keys = ("active.rules.issued", "active.rules.repealed", "active.rules.in_force")
    # "011" is 0/1/1 only if no cell was printed blank: blank/0/11 leaves the same glued digits
    out = split_runs([RunTask("规章", keys, cells("011", glued=True))], {}, [])
    assert all(out.values[k].value is None for k in keys)
    [diag] = out.diagnostics
    assert {"active.rules.issued": 0, "active.rules.repealed": 1, "active.rules.in_force": 1} in diag.candidates
    assert {"active.rules.issued": None, "active.rules.repealed": 0, "active.rules.in_force": 11} in diag.candidates
    # "005" has no such reading ("05" is no printed count): certain
    out = split_runs([RunTask("规章", keys, cells("005", glued=True))], {}, [])
    assert [out.values[k].value for k in keys] == [0, 0, 5]
