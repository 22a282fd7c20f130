"""Issue 12, the service's share: hostile JSON is 400, a timed-out request frees its slot, the
server's own faults are 500 with a request id (never the caller's fault), bad settings stop start-up."""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from gkllm.deadline import deadline_in
from gkllm.errors import ConfigError, DeadlineExceeded
from gkllm.llm import LLMClient, LLMConfig
from gkllm.llm.prompts import load
from gkllm.llm.schemas import narrative_model
from gkllm.service import Settings, create_app

from .conftest import ROOT, SEEDS
from .fake_llm import FakeLLM
from .hostile import cli_env, run_cli
from .test_service import Server

NarrativeAnswer = narrative_model(("active_items",))

SEED_003 = next(p for p in SEEDS if p.name.startswith("003"))
TEXT = SEED_003.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def server():
    with Server(Settings(mode="parser", concurrency=4, max_bytes=1024 * 1024, timeout=30)) as s:
        yield s


def post_raw(server, body: bytes) -> httpx.Response:
    return httpx.post(f"{server.url}/v1/extract", content=body, headers={"content-type": "application/json"},
                      timeout=30)


# -- 9: hostile JSON is 400 bad_input, never 500 ------------------------------------------------------


@pytest.mark.parametrize("body, phrase", [
    ('{"text": %s, "name": "\\ud800"}', "lone surrogate \\ud800 in name"),
    ('{"text": %s, "given": {"requests.new.total": "\\udc80"}}', "lone surrogate \\udc80"),
    ('{"text": %s, "given": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
    ('{"text": %s, "given": ' + '{"a":' * 40 + "1" + "}" * 40 + "}", "nested too deeply"),
], ids=["surrogate-name", "surrogate-given", "100k-brackets", "40-levels"])
def test_hostile_json_is_400(server, body, phrase):
    r = post_raw(server, (body % json.dumps(TEXT)).encode())
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["code"] == "bad_input" and phrase in err["message"], err
    assert httpx.get(f"{server.url}/healthz").json()["active"] == 0


@pytest.mark.parametrize("given, phrase", [
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"requests.new.total": "\\ud800"}', "lone surrogate"),
], ids=["100k-brackets", "surrogate"])
def test_hostile_multipart_given_is_400(server, given, phrase):
    r = httpx.post(f"{server.url}/v1/extract", files={"file": ("a.txt", SEED_003.read_bytes(), "text/plain")},
                   data={"given": given}, timeout=30)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "bad_input" and phrase in r.json()["error"]["message"]


# -- 10: a deadline per request; a timed-out request stops and frees its slot --------------------------


def test_llm_calls_stop_at_the_callers_deadline(tmp_path):
    """A stalled endpoint with the default 600 s per call and 4 retries: the deadline wins."""
    with FakeLLM() as fake, LLMClient(LLMConfig(base_url=fake.base_url, model="fake", use_cache=False,
                                                cache_dir=tmp_path)) as client:
        fake.default = {"stall": True}
        assert client.config.timeout == 600 and client.config.transport_retries == 4
        t0 = time.monotonic()
        with deadline_in(1.0), pytest.raises(DeadlineExceeded, match="deadline passed while waiting for the LLM"):
            client.ask(load("narrative", "v2"), {"text": "x", "items": "- active_items: x"}, NarrativeAnswer)
        assert time.monotonic() - t0 < 2.5
        assert client.down is None  # the caller ran out of time; the endpoint is not marked dead


def test_retries_stop_at_the_deadline(tmp_path):
    with FakeLLM() as fake, LLMClient(LLMConfig(base_url=fake.base_url, model="fake", use_cache=False,
                                                cache_dir=tmp_path, transport_retries=50)) as client:
        fake.default = {"status": 503}
        t0 = time.monotonic()
        with deadline_in(1.5), pytest.raises(DeadlineExceeded):
            client.ask(load("narrative", "v2"), {"text": "x", "items": "- active_items: x"}, NarrativeAnswer)
        assert time.monotonic() - t0 < 3


def test_libreoffice_conversion_stops_at_the_deadline(monkeypatch, tmp_path):
    from gkllm.ingest import read_path

    fake = tmp_path / "soffice"
    fake.write_text("#!/bin/sh\nsleep 60 & sleep 60\n")
    fake.chmod(0o755)
    monkeypatch.setenv("GKLLM_SOFFICE", str(fake))
    t0 = time.monotonic()
    with deadline_in(1.0), pytest.raises(DeadlineExceeded, match="LibreOffice"):
        read_path(ROOT / "eval" / "cases" / "formats" / "bad" / "report.doc")
    assert time.monotonic() - t0 < 5


def test_timed_out_requests_free_their_slots(tmp_path):
    """Two mode=llm requests against a stalled endpoint get 504; the very next request is served."""
    with FakeLLM() as fake:
        fake.default = {"stall": True}
        client = LLMClient(LLMConfig(base_url=fake.base_url, model="fake", use_cache=False, cache_dir=tmp_path))
        with client, Server(Settings(mode="hybrid", concurrency=2, timeout=1.0), llm=client) as s:
            url = f"{s.url}/v1/extract"
            t0 = time.monotonic()
            with ThreadPoolExecutor(2) as pool:
                stalled = list(pool.map(lambda _: httpx.post(url, json={"text": TEXT, "mode": "llm"}, timeout=30),
                                        range(2)))
            assert [r.status_code for r in stalled] == [504, 504]
            assert all(r.json()["error"]["code"] == "timeout" for r in stalled)
            assert time.monotonic() - t0 < 3
            assert httpx.get(f"{s.url}/healthz").json()["active"] == 0
            r = httpx.post(url, json={"text": TEXT, "mode": "parser"}, timeout=30)
            assert r.status_code == 200, r.text
            assert len(fake.requests) == 2  # one call each, and no retry after the deadline
            assert client.down is None


# -- 11: bad settings stop start-up; the server's own faults are 500 with a request id ------------------


def test_bad_service_settings_are_config_errors(monkeypatch):
    for var, value in [("GKLLM_REQUEST_TIMEOUT", "abc"), ("GKLLM_CONCURRENCY", "0"), ("GKLLM_MAX_UPLOAD_MB", "-1"),
                       ("GKLLM_SERVE_MODE", "magic")]:
        with monkeypatch.context() as m:
            m.setenv(var, value)
            with pytest.raises(ConfigError, match=var) as info:
                Settings.from_env()
            assert info.value.code == "config_error"
    monkeypatch.setenv("GKLLM_REQUEST_TIMEOUT", "abc")
    assert Settings.from_env(timeout=5).timeout == 5  # an option given on the command line wins


def test_bad_llm_setting_stops_the_app_and_the_llm_config(monkeypatch):
    monkeypatch.delenv("GKLLM_LLM", raising=False)
    monkeypatch.setenv("GKLLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("GKLLM_TIMEOUT", "abc")
    with pytest.raises(ConfigError, match="GKLLM_TIMEOUT='abc' is not a number"):
        LLMConfig.from_env()
    with pytest.raises(ConfigError, match="GKLLM_TIMEOUT"):
        create_app(Settings(mode="hybrid"))
    monkeypatch.setenv("GKLLM_TIMEOUT", "30")
    monkeypatch.setenv("GKLLM_RETRIES", "-1")
    with pytest.raises(ConfigError, match="GKLLM_RETRIES='-1' must be at least 0"):
        LLMConfig.from_env()


@pytest.mark.parametrize("argv", [["serve", "--port", "1"], ["extract", str(SEED_003)],
                                  ["eval", "--mode", "hybrid", "--filter", "seed00_html"]],
                         ids=["serve", "extract", "eval"])
def test_cli_names_the_bad_variable_and_exits_2(argv, tmp_path):
    env = cli_env(GKLLM_TIMEOUT="abc", GKLLM_BASE_URL="http://127.0.0.1:9/v1")
    env.pop("GKLLM_LLM", None)
    if argv[0] == "eval":
        argv = [*argv, "--out", str(tmp_path)]
    r = run_cli(*argv, env=env, timeout=30)
    assert r.rc == 2 and r.stdout == b""
    line = r.one_line_error()
    assert "GKLLM_TIMEOUT='abc'" in line and "config_error" in line
    assert r.seconds < 15


def test_internal_fault_is_500_with_a_request_id_never_400(server, monkeypatch, caplog):
    def broken(*_, **__):
        raise ValueError("could not convert string to float: 'abc'")

    monkeypatch.setattr("gkllm.service.extract_document", broken)
    with caplog.at_level(logging.ERROR, logger="gkllm.service"):
        r = httpx.post(f"{server.url}/v1/extract", json={"text": TEXT}, timeout=30)
    assert r.status_code == 500, r.text
    err = r.json()["error"]
    assert err["code"] == "internal_error"
    rid = r.headers["x-request-id"]
    assert rid in err["message"] and "could not convert" not in r.text and "Traceback" not in r.text
    logged = [rec for rec in caplog.records if rid in rec.getMessage()]
    assert logged and logged[0].exc_info and "could not convert" in logged[0].getMessage()
    assert httpx.get(f"{server.url}/healthz").json()["active"] == 0
