"""The synthetic layout corpus generator (eval/gen): gold, grid, layouts, splits."""

from __future__ import annotations

import html
import json
import random
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from eval.gen.gold import random_gold
from eval.gen.grid import build_report, format_value, part3_table, report_parts
from eval.gen.layouts import LAYOUTS, make_case, plan
from eval.gen.splits import ambiguous_keys, consistent_splits, glue
from gkllm.template import COLUMNS, REVIEW_GROUPS, REVIEW_OUTCOMES, Rule, flat_keys, rules_for, table_keys

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ("2021", "2019")


def holds(values: dict, rule: Rule) -> bool | None:
    """Evaluate a Rule independently of the generator: None if not assessable."""
    ops = [values[k] for k in rule.lhs + rule.rhs]
    if any(v is None for v in ops):
        return None
    return sum(values[k] for k in rule.lhs) == sum(values[k] for k in rule.rhs)


def failing(values: dict, template: str) -> set[str]:
    return {f"{r.id}:{r.scope}" for r in rules_for(template) if holds(values, r) is False}


# --- gold -----------------------------------------------------------------------------


@pytest.mark.parametrize("template", TEMPLATES)
def test_consistent_gold_satisfies_every_rule(template):
    zeros = cells = big = 0
    for seed in range(150):
        gold, broken = random_gold(random.Random(seed), template)
        assert broken == []
        assert list(gold) == ["meta.agency", "meta.year", "meta.template"] + flat_keys(template)[2:]
        assert set(gold) == set(flat_keys(template)) | {"meta.template"}
        assert gold["meta.template"] == template
        assert gold["meta.year"] in ((2019, 2020) if template == "2019" else range(2021, 2025))
        for rule in rules_for(template):
            assert holds(gold, rule) in (True, None), (seed, rule)
        for k in table_keys(template):
            v = gold[k]
            if v is None:
                continue
            if k in ("active.fees", "t2019.active.procurement.amount"):
                assert isinstance(v, float) and v >= 0 and round(v, 4) == v
            else:
                assert isinstance(v, int)
                assert v >= 0 or k.endswith(".change")
            if k.startswith("requests."):
                cells += 1
                zeros += v == 0
                big += v >= 10_000
        rr = gold["narrative.requests_received"]
        new, co = gold["requests.new.total"], gold["requests.carried_over.total"]
        if rr is not None:
            assert rr in (new, new + co)
    assert 0.05 < zeros / cells < 0.5  # most cells non-zero, a share of zeros
    assert big > 0  # some large numbers


def test_t2019_change_can_be_negative():
    changes = [
        v for s in range(60) for k, v in random_gold(random.Random(s), "2019")[0].items() if k.endswith(".change")
    ]
    assert min(changes) < 0 < max(changes)


@pytest.mark.parametrize("template", TEMPLATES)
def test_inconsistent_gold_breaks_exactly_the_listed_rules(template):
    for seed in range(120):
        gold, broken = random_gold(random.Random(seed), template, inconsistent=True)
        assert broken, seed
        assert set(broken) == failing(gold, template), seed
        assert len(set(broken)) == len(broken)


def test_blank_cells_are_null():
    gold, _ = random_gold(random.Random(5), blanks=4)
    assert sum(gold[k] is None for k in table_keys("2021")) == 4
    golds = [random_gold(random.Random(s))[0] for s in range(300)]
    with_blanks = sum(any(g[k] is None for k in table_keys("2021")) for g in golds)
    assert 0 < with_blanks < 60  # "occasionally"


# --- grid -----------------------------------------------------------------------------


@pytest.mark.parametrize("template", TEMPLATES)
def test_grid_tables_are_complete_and_cover_every_key_once(template):
    gold, _ = random_gold(random.Random(3), template)
    keys = []
    for part in report_parts(gold):
        if part.table:
            matrix = part.table.matrix()  # raises on holes/overlaps
            assert all(len(row) == part.table.width for row in matrix)
            keys += [c.key for c in part.table.value_cells()]
    assert sorted(keys) == sorted(table_keys(template))


def test_part3_grid_mirrors_the_template():
    gold, _ = random_gold(random.Random(1))
    t = part3_table(gold)
    assert t.width == 10 and t.header_rows == 3
    group = next(c for c in t.cells() if c.text == "三、本年度办理结果")
    assert group.rowspan == 22  # （一）…（七）总计
    assert next(c for c in t.cells() if c.text == "（三）不予公开").rowspan == 8
    assert [c.text for c in t.rows[2]] == ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]
    t19 = part3_table(random_gold(random.Random(1), "2019")[0], "2019")
    assert any(c.text == "（六）其他处理" and c.colspan == 2 for c in t19.cells())
    assert len(t19.rows) == len(t.rows) - 2


def test_part1_prose_states_narrative_counts():
    for seed in range(40):
        gold, _ = random_gold(random.Random(seed))
        rep = build_report(gold, random.Random(seed))
        prose = "".join(p for part in rep.parts if not part.table for p in part.paragraphs)
        for key in ("narrative.active_items", "narrative.requests_received", "narrative.trainings"):
            v = gold[key]
            if v:
                assert str(v) in prose, (seed, key)
        if gold["narrative.requests_received"] == 0:
            assert "未收到" in prose
        if gold["narrative.fee_yuan"]:
            assert f"信息处理费{gold['narrative.fee_yuan']}元" in prose
        elif gold["narrative.fee_yuan"] == 0:
            assert "未收取" in prose


# --- layouts ----------------------------------------------------------------------------


def visible_text(data: bytes, case: dict) -> str:
    """What a reader of the case file sees (html: scripts unwrapped, tags stripped)."""
    text = data.decode(case["encoding"])
    if case["layout"] != "html":
        return text
    m = re.search(r'document\.write\("(.*)"\);', text, re.S)
    if m:
        text = json.loads('"' + m.group(1) + '"')
    m = re.search(r"var pageData = (\{.*\});", text, re.S)
    if m:
        text = json.loads(m.group(1))["content"]
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


@pytest.mark.parametrize("layout", [x for x in LAYOUTS if x != "digits"])
def test_every_number_is_printed(layout):
    for index in range(8):
        _, rendering, gold = make_case(layout, index, seed=11)
        case = gold["_case"]
        text = visible_text(rendering.data(), case)
        tokens = Counter(NUMBER.findall(text.replace("\u3000", " ")))
        need = Counter(format_value(gold[k]) for k in table_keys(gold["meta.template"]) if gold[k] is not None)
        if layout == "pdf":  # a number split by a space ("1 2" for 12) is not a token
            for key in case["tricky_keys"]:
                if key.startswith("requests."):
                    printed = format_value(gold[key])
                    spaced = re.finditer(r"(?<![\d.])" + r" ?".join(printed) + r"(?![\d.])", text)
                    assert any(" " in m.group(0) for m in spaced), (index, key)
                    need[printed] -= 1
        for printed, n in need.items():
            assert tokens[printed] >= n, (layout, index, printed, n, tokens[printed])


def test_digit_runs_are_printed_glued():
    for index in range(10):
        _, rendering, gold = make_case("digits", index, seed=11)
        flat = re.sub(r"\s", "", rendering.text)
        for keys, run in rendering.runs:
            assert run == glue(gold[k] for k in keys)
            assert run in flat


def test_html_cases_use_their_declared_encoding():
    seen = set()
    for index in range(12):
        _, rendering, gold = make_case("html", index, seed=11)
        case = gold["_case"]
        raw = rendering.data()
        raw.decode(case["encoding"])
        seen.add(case["encoding"])
        assert rendering.ext == ".html"
        if case["encoding"] == "gbk":
            assert re.search(rb"charset=(gbk|gb2312)", raw)
    assert seen == {"utf-8", "gbk"}


def test_plan_spreads_cases_over_layouts():
    counts = Counter(layout for layout, _ in plan(320))
    assert sum(counts.values()) == 320 and set(counts) == set(LAYOUTS)
    assert min(counts.values()) >= 15


def test_about_ten_percent_inconsistent():
    cases = [make_case(layout, i, seed=2)[2]["_case"] for layout, i in plan(320)]
    assert 0.08 <= sum(bool(c["inconsistent_rules"]) for c in cases) / len(cases) <= 0.12


def run_cli(out: Path, seed: int, n: int = 24) -> dict[str, bytes]:
    subprocess.run(
        [sys.executable, "-m", "eval.gen.layouts", "--out", str(out), "--n", str(n), "--seed", str(seed)],
        cwd=ROOT, check=True, capture_output=True, env={"PYTHONPATH": str(ROOT), "PYTHONHASHSEED": str(seed + 7)},
    )
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def test_cli_is_reproducible(tmp_path):
    a = run_cli(tmp_path / "a", seed=3)
    b = run_cli(tmp_path / "b", seed=3)
    c = run_cli(tmp_path / "c", seed=4)
    assert len(a) == 48 and a == b
    assert a != c
    assert {n.split("_")[0] for n in a} == set(LAYOUTS)


def test_committed_corpus_is_current(tmp_path):
    corpus = ROOT / "eval" / "cases" / "layouts"
    if not corpus.is_dir():
        pytest.skip("corpus not generated")
    fresh = run_cli(tmp_path / "fresh", seed=1, n=320)
    generated = re.compile(r"^[a-z0-9]+_\d{3}\.(txt|html|gold\.json)$")
    on_disk = {p.name: p.read_bytes() for p in sorted(corpus.iterdir()) if generated.match(p.name)}
    assert on_disk == fresh
    assert sum(len(b) for b in fresh.values()) < 5_200_000


# --- splits ---------------------------------------------------------------------------

NEW = [f"requests.new.{c}" for c in COLUMNS]


def test_consistent_splits_finds_the_unique_split():
    sols = consistent_splits([(NEW, "530010357")])
    assert sols == [dict(zip(NEW, (53, 0, 0, 1, 0, 3, 57)))]
    assert ambiguous_keys([(NEW, "530010357")]) == []
    # stray spaces carry no information
    assert consistent_splits([(NEW, "53 00 10 357")]) == sols


def test_consistent_splits_finds_several_for_an_ambiguous_row():
    sols = consistent_splits([(NEW, "110000011")])  # 1|10|0|0|0|0|11 and 11|0|0|0|0|0|11
    assert len(sols) == 2
    assert {s["requests.new.natural_person"] for s in sols} == {1, 11}
    assert ambiguous_keys([(NEW, "110000011")]) == ["requests.new.natural_person", "requests.new.commercial"]


def test_consistent_splits_review_row_and_no_solution():
    keys = [f"review.{g}.{o}" for g in REVIEW_GROUPS for o in REVIEW_OUTCOMES]
    values = [3, 0, 12, 1, 16, 0, 0, 0, 0, 0, 2, 1, 0, 0, 3]
    sols = consistent_splits([(keys, glue(values))])
    assert dict(zip(keys, values)) in sols
    assert consistent_splits([(NEW, "1111118")]) == []  # 1+1+1+1+1+1 != 8


def test_whole_table_split_contains_the_truth():
    for index in range(6):
        _, rendering, gold = make_case("digits", index, seed=11)
        part3 = [(k, r) for k, r in rendering.runs if k[0].startswith("requests.")]
        sols = consistent_splits(part3, limit=8)
        truth = {k: gold[k] for keys, _ in part3 for k in keys}
        if not gold["_case"]["inconsistent_rules"]:
            assert truth in sols
