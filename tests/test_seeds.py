"""Each seed, through the real CLI, gives all 200 table values of its gold."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gkllm.template import table_keys

from .conftest import SEED_GOLD, SEEDS, load_gold

_cache: dict[str, dict] = {}


def cli_flat(seed) -> dict:
    if seed.name not in _cache:
        proc = subprocess.run(
            [sys.executable, "-m", "gkllm.cli", "extract", "--flat", "--mode", "parser", "-q", str(seed)],
            capture_output=True, text=True, check=True,
        )
        _cache[seed.name] = json.loads(proc.stdout)
    return _cache[seed.name]


def test_five_seeds_present():
    assert len(SEEDS) == 5


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.stem[:3])
@pytest.mark.parametrize("key", table_keys("2021"))
def test_seed_value(seed, key):
    gold = load_gold(SEED_GOLD / f"{seed.stem}.gold.json")
    got = cli_flat(seed)[key]
    want = gold[key]
    if isinstance(want, float) or isinstance(got, float):
        assert got is not None and want is not None and abs(got - want) < 1e-6, (got, want)
    else:
        assert got == want


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.stem[:3])
def test_seed_flat_has_exactly_the_spec_keys(seed):
    from gkllm.template import flat_keys

    assert list(cli_flat(seed)) == flat_keys("2021")


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.stem[:3])
def test_seed_rules_all_pass_and_narrative(seed):
    from gkllm import extract

    report = extract(seed, mode="parser")
    gold = load_gold(SEED_GOLD / f"{seed.stem}.gold.json")
    assert not report.failed_rules()
    for key in ("narrative.active_items", "narrative.requests_received", "narrative.trainings", "narrative.fee_yuan"):
        assert report.get(key) == gold[key], key
