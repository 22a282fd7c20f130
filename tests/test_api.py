"""The Python API as a fallback: extract(given=…) and the async twin aextract."""

from __future__ import annotations

import asyncio
import time

import pytest

import gkllm
from gkllm import GkllmError, aextract, extract
from gkllm.grounding import provenance_grounded
from gkllm.llm import LLMClient, LLMConfig

from .conftest import PART4_GAP, PART4_ZEROS, SEEDS
from .fake_llm import FakeLLM

SEED_003 = next(p for p in SEEDS if p.name.startswith("003"))
ZERO_ROW = [0, 0, 0, 0, 0, 0, 0]
GRANTED = [f"requests.granted.{c}" for c in
           ("natural_person", "commercial", "research", "social_org", "legal_service", "other_org", "total")]


@pytest.fixture()
def fake():
    with FakeLLM() as f:
        yield f


def seed_003_without_granted_row() -> str:
    """Seed 003 with the （一）予以公开 row's cells gone: the parser cannot settle it."""
    text = SEED_003.read_text(encoding="utf-8")
    head, tail = text.split("（一）予以公开", 1)
    lines = tail.split("\n")
    kept, dropped = [lines[0]], 0
    for ln in lines[1:]:
        if dropped < 7 and ln.strip().isdigit():
            dropped += 1
            continue
        kept.append(ln)
    return head + "（一）予以公开" + "\n".join(kept)


def client_for(fake: FakeLLM, tmp_path, **kw) -> LLMClient:
    cfg = dict(base_url=fake.base_url, model="fake", cache_dir=tmp_path / "cache", timeout=10.0)
    cfg.update(kw)
    return LLMClient(LLMConfig(**cfg))


def test_no_given_output_unchanged():
    report = extract(SEED_003, mode="parser")
    assert report.given is None
    assert "given" not in report.to_json_dict()


def test_partial_result_wrong_ungrounded_and_missing_keys_are_fixed():
    """Another tool's partial result: one wrong number, two numbers printed nowhere, most keys missing."""
    truth = extract(SEED_003, mode="parser").to_flat()
    given = {
        "active.licensing": 15498,  # right
        "active.punishment": 466,  # right
        "requests.new.total": 4,  # wrong: the cell prints 3
        "active.coercion": 98765,  # ungrounded: printed nowhere
        "narrative.trainings": 77,  # ungrounded, and the text states no count
    }
    report = extract(SEED_003, mode="parser", given=given)
    g = report.given
    assert g["active.licensing"].status == "kept" and g["active.punishment"].status == "kept"
    assert report.provenance["active.licensing"].method == "parser"  # gkllm agrees: its own reading
    assert g["requests.new.total"].model_dump() == {
        "status": "corrected", "given": 4, "value": 3,
        "reason": g["requests.new.total"].reason}
    assert "prints '3'" in g["requests.new.total"].reason
    assert g["active.coercion"].status == "corrected"
    assert g["active.coercion"].value == truth["active.coercion"]
    assert "98765 is printed nowhere in part 2" in g["active.coercion"].reason
    assert g["narrative.trainings"].status == "rejected" and g["narrative.trainings"].value is None
    assert "not printed" in g["narrative.trainings"].reason
    # the missing keys are filled from the source
    filled = [k for k, r in g.items() if r.status == "filled"]
    assert "requests.granted.total" in filled and "review.reconsideration.total" in filled
    assert len(filled) == len([k for k, v in truth.items() if not k.startswith("meta.") and k in report.provenance]) - 4
    assert g["requests.granted.total"].value == truth["requests.granted.total"]
    # the result is exactly the source's numbers, and every rule holds
    assert report.to_flat() == truth
    assert not report.failed_rules()


def test_given_fills_what_the_parser_cannot_read():
    """The granted row is unreadable for the parser; the other tool's zeros are printed in part 3 and kept."""
    text = seed_003_without_granted_row()
    alone = extract(text, mode="parser")
    assert all(alone.get(k) is None for k in GRANTED)
    report = extract(text, mode="parser", given=dict(zip(GRANTED, ZERO_ROW)))
    for k in GRANTED:
        assert report.given[k].status == "kept", (k, report.given[k])
        assert report.get(k) == 0
        assert report.provenance[k].method == "given"
        assert provenance_grounded(0, report.provenance[k], text)
    assert not report.failed_rules()
    assert not any("table values not found" in w for w in report.warnings)


def test_given_value_breaking_a_rule_is_rejected():
    """2 is printed in part 3, but 2 natural persons granted breaks R3 (row) and R2 (column): dropped."""
    text = seed_003_without_granted_row()
    row = [2, 0, 0, 0, 0, 0, 0]
    report = extract(text, mode="parser", given=dict(zip(GRANTED, row)))
    v = report.given["requests.granted.natural_person"]
    assert v.status == "rejected" and v.value is None and v.given == 2
    assert "breaks R" in v.reason
    assert report.requests.granted.natural_person is None
    # the other cells of the row pass their column's rule and stay
    assert report.given["requests.granted.total"].status == "kept"
    assert not report.failed_rules()


def test_hybrid_rereads_only_what_given_leaves_open(fake, tmp_path):
    """An ungrounded given value in a part the parser could not read: the LLM re-reads that part (only)."""
    parser = extract(PART4_GAP, mode="parser")
    given = {"review.reconsideration.upheld": 777, "requests.new.total": parser.requests.new.total + 1}
    fake.script.append(PART4_ZEROS)
    with client_for(fake, tmp_path) as client:
        report = extract(PART4_GAP, mode="hybrid", given=given, llm=client)
    assert len(fake.requests) == 1  # part 4, once
    assert "行政复议" in fake.requests[0]["messages"][-1]["content"]
    g = report.given
    assert g["review.reconsideration.upheld"].status == "corrected"
    assert g["review.reconsideration.upheld"].value == 0
    assert "777" in g["review.reconsideration.upheld"].reason
    assert report.provenance["review.reconsideration.upheld"].method == "llm"
    assert g["requests.new.total"].status == "corrected" and report.requests.new.total == parser.requests.new.total
    assert g["review.reconsideration.total"].status == "filled"


def test_given_accepts_nested_reports_and_strings():
    base = extract(SEED_003, mode="parser")
    again = extract(SEED_003, mode="parser", given=base)  # another gkllm result
    assert {r.status for r in again.given.values()} == {"kept"}
    nested = {"requests": {"new": {"total": "3"}}, "meta": {"agency": "x"}, "active": {"fees": "94.0121"}}
    r = extract(SEED_003, mode="parser", given=nested)
    assert r.given["requests.new.total"].status == "kept" and r.given["active.fees"].status == "kept"
    assert "meta.agency" not in r.given


def test_given_bad_keys_and_values():
    r = extract(SEED_003, mode="parser", given={"no.such.key": 1, "active.coercion": "many", "active.licensing": -5})
    assert r.given["no.such.key"].status == "rejected" and "not a key" in r.given["no.such.key"].reason
    assert r.given["active.coercion"].status == "corrected" and "not a whole count" in r.given["active.coercion"].reason
    assert r.given["active.licensing"].status == "corrected" and r.given["active.licensing"].value == 15498
    with pytest.raises(GkllmError) as err:
        extract(SEED_003, mode="parser", given=[1, 2])
    assert err.value.code == "bad_input"


def test_aextract_concurrently_matches_extract():
    async def run():
        return await asyncio.gather(*(aextract(p, mode="parser", given={"requests.new.total": 999}) for p in SEEDS * 2))

    reports = asyncio.run(run())
    for p, r in zip(SEEDS * 2, reports):
        assert r.to_flat() == extract(p, mode="parser").to_flat()
        assert r.given["requests.new.total"].status == "corrected"


def test_aextract_overlaps_llm_calls(fake, tmp_path):
    """Four hybrid reports, each waiting 0.6 s on the LLM: their calls are in flight together (the server
    sees them at once), not one after another; the time is said, not asserted (a loaded machine)."""
    fake.default = {**PART4_ZEROS, "sleep": 0.6}
    texts = [PART4_GAP.read_text(encoding="utf-8")] * 4

    async def run(client):
        return await asyncio.gather(*(aextract(t, mode="hybrid", llm=client) for t in texts))

    with client_for(fake, tmp_path, use_cache=False) as client:
        t0 = time.perf_counter()
        reports = asyncio.run(run(client))
        dt = time.perf_counter() - t0
        assert client.usage.calls == 4
    assert fake.most_in_flight >= 2, (fake.most_in_flight, dt)
    # per-report meta.llm is a delta of the shared client's counters (gkllm/llm/run.py), so under
    # concurrency it can include other reports' calls; the client's own total is exact
    assert all(r.meta.llm.calls >= 1 for r in reports)
    assert reports[3].to_flat()["review.reconsideration.total"] == 0


def test_public_names():
    assert gkllm.extract is extract and gkllm.aextract is aextract
