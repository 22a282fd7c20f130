"""gkllm serve: a real uvicorn server on 127.0.0.1, called over HTTP with httpx."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import uvicorn

from gkllm import extract
from gkllm.llm import LLMClient, LLMConfig
from gkllm.service import Settings, create_app

from .conftest import PART4_GAP, PART4_ZEROS, SEEDS
from .fake_llm import FakeLLM

SEED_003 = next(p for p in SEEDS if p.name.startswith("003"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """uvicorn in a thread, on a free port of 127.0.0.1."""

    def __init__(self, settings: Settings, llm=None) -> None:
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(create_app(settings, llm=llm), host="127.0.0.1", port=self.port,
                                                   log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "Server":
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(15)


@pytest.fixture(scope="module")
def server():
    with Server(Settings(mode="parser", concurrency=8, max_bytes=1024 * 1024, timeout=30)) as s:
        yield s


@pytest.fixture(scope="module")
def truth():
    return extract(SEED_003, mode="parser").to_json_dict()


def test_healthz_and_openapi(server):
    h = httpx.get(f"{server.url}/healthz").json()
    assert h["status"] == "ok" and h["mode"] == "parser" and h["concurrency"] == 8 and h["auth"] is False
    spec = httpx.get(f"{server.url}/openapi.json").json()
    body = spec["paths"]["/v1/extract"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json", "multipart/form-data"}
    assert "text" in body["application/json"]["schema"]["properties"]
    assert httpx.get(f"{server.url}/docs").status_code == 200


def test_json_text(server, truth):
    r = httpx.post(f"{server.url}/v1/extract", json={"text": SEED_003.read_text(encoding="utf-8"), "name": "a.txt"})
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["requests"] == truth["requests"] and data["active"] == truth["active"]
    assert data["meta"]["source"] == "a.txt" and data["meta"]["mode"] == "parser"
    assert "given" not in data


def test_json_text_is_never_read_as_a_path(server):
    r = httpx.post(f"{server.url}/v1/extract", json={"text": "/etc/passwd"})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "not_a_report"


def test_multipart_file_with_given(server, truth):
    given = {"requests.new.total": 4, "active.licensing": 15498, "active.coercion": 98765}
    r = httpx.post(f"{server.url}/v1/extract", files={"file": (SEED_003.name, SEED_003.read_bytes(), "text/plain")},
                   data={"given": json.dumps(given)})
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["meta"]["source"] == SEED_003.name
    assert data["requests"] == truth["requests"]
    g = data["given"]
    assert (g["requests.new.total"]["status"], g["requests.new.total"]["value"]) == ("corrected", 3)
    assert g["active.licensing"]["status"] == "kept"
    assert g["active.coercion"]["status"] == "corrected" and "printed nowhere" in g["active.coercion"]["reason"]
    assert g["requests.granted.total"]["status"] == "filled"


def test_json_given_and_flat(server):
    r = httpx.post(f"{server.url}/v1/extract", params={"flat": "true"},
                   json={"text": SEED_003.read_text(encoding="utf-8"), "given": {"requests.new.total": 3}})
    data = r.json()
    assert data["requests.new.total"] == 3 and data["active.licensing"] == 15498
    assert data["given"]["requests.new.total"]["status"] == "kept"


@pytest.mark.parametrize("kind", ["declared", "chunked"])
def test_oversize_is_413(server, kind):
    big = b"x" * (1024 * 1024 + 10)
    if kind == "declared":
        r = httpx.post(f"{server.url}/v1/extract", files={"file": ("big.txt", big, "text/plain")})
    else:  # no Content-Length: the limit is enforced while reading
        r = httpx.post(f"{server.url}/v1/extract", content=iter([big[:600_000], big[600_000:]]),
                       headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "too_large"
    assert httpx.get(f"{server.url}/healthz").json()["active"] == 0


def test_wrong_types(server):
    r = httpx.post(f"{server.url}/v1/extract", content=SEED_003.read_bytes(), headers={"content-type": "text/plain"})
    assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_media_type"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("report.txt", SEED_003.read_text(encoding="utf-8"))
    r = httpx.post(f"{server.url}/v1/extract", files={"file": ("report.zip", buf.getvalue(), "application/zip")})
    assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_format"


@pytest.mark.parametrize("body, code, status", [
    ({"text": "从前有座山。\n庙里有个老和尚。\n" * 20}, "not_a_report", 422),
    ({"text": "   "}, "bad_input", 400),
    ({"nope": 1}, "bad_input", 400),
    ({"text": "x\ny", "mode": "magic"}, "bad_input", 400),
    ({"text": "x\ny", "given": [1]}, "bad_input", 400),
])
def test_bad_json_requests(server, body, code, status):
    r = httpx.post(f"{server.url}/v1/extract", json=body)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code and err["message"]


def test_bad_multipart(server):
    r = httpx.post(f"{server.url}/v1/extract", files={"other": ("a.txt", b"abc", "text/plain")})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_input"
    r = httpx.post(f"{server.url}/v1/extract", files={"file": ("a.txt", SEED_003.read_bytes(), "text/plain")},
                   data={"given": "{oops"})
    assert r.status_code == 400 and "given" in r.json()["error"]["message"]
    r = httpx.get(f"{server.url}/v1/nothing")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_concurrent_requests(server, truth):
    def one(i: int):
        seed = SEEDS[i % len(SEEDS)]
        if i % 2:
            return seed, httpx.post(f"{server.url}/v1/extract", files={"file": (seed.name, seed.read_bytes())},
                                    timeout=30)
        return seed, httpx.post(f"{server.url}/v1/extract", json={"text": seed.read_text(encoding="utf-8")}, timeout=30)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(16)))
    for seed, r in results:
        assert r.status_code == 200, r.text
        assert r.json()["requests"] == extract(seed, mode="parser").to_json_dict()["requests"]


def test_bearer_token():
    with Server(Settings(mode="parser", token="s3cret")) as s:
        url = f"{s.url}/v1/extract"
        body = {"text": SEED_003.read_text(encoding="utf-8")}
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret"}):
            r = httpx.post(url, json=body, headers=headers)
            assert r.status_code == 401
            assert r.json()["error"]["code"] == "unauthorized"
            assert r.headers["www-authenticate"] == "Bearer"
        r = httpx.post(url, json=body, headers={"Authorization": "Bearer s3cret"})
        assert r.status_code == 200 and r.json()["active"]["licensing"] == 15498
        assert httpx.get(f"{s.url}/healthz").json()["auth"] is True


def test_full_server_says_busy_with_retry_after_and_slow_requests_time_out(tmp_path):
    with FakeLLM() as fake:
        fake.default = {**PART4_ZEROS, "sleep": 1.5}
        client = LLMClient(LLMConfig(base_url=fake.base_url, model="fake", cache_dir=tmp_path / "c", timeout=10,
                                     use_cache=False))
        with client, Server(Settings(mode="hybrid", concurrency=1, timeout=10), llm=client) as s:
            url = f"{s.url}/v1/extract"
            texts = [PART4_GAP.read_text(encoding="utf-8")] * 2  # each asks the LLM one question
            with ThreadPoolExecutor(2) as pool:
                first = pool.submit(httpx.post, url, json={"text": texts[0]}, timeout=30)
                time.sleep(0.5)  # the first holds the only slot, waiting on the LLM
                second = httpx.post(url, json={"text": texts[1]}, timeout=30)
                assert second.status_code == 503
                assert second.json()["error"]["code"] == "busy"
                assert int(second.headers["retry-after"]) >= 1
                r1 = first.result()
            assert r1.status_code == 200
            assert r1.json()["review"]["reconsideration"]["total"] == 0 and r1.json()["meta"]["llm"]["calls"] == 1
            assert httpx.post(url, json={"text": texts[1]}, timeout=30).status_code == 200  # the slot is free again
        with client, Server(Settings(mode="hybrid", concurrency=2, timeout=0.5), llm=client) as s:
            t0 = time.perf_counter()
            r = httpx.post(f"{s.url}/v1/extract", json={"text": PART4_GAP.read_text(encoding="utf-8")}, timeout=30)
            assert r.status_code == 504 and r.json()["error"]["code"] == "timeout"
            assert time.perf_counter() - t0 < 1.4
