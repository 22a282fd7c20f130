"""A real HTTP server on 127.0.0.1 that speaks chat completions with scripted answers.

It stands in for the network, not for gkllm: requests travel over a socket
through the openai client, instructor and tenacity exactly as in production.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def completion(content: str, prompt_tokens: int = 100, completion_tokens: int = 20) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "fake",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }


class FakeLLM:
    """Script: a list of steps; each is a dict with one of
    ``json`` (an object returned as the message content), ``content`` (raw text),
    ``status`` (+ optional ``headers``), ``sleep`` seconds before answering, or
    ``stall`` (never answer: the request hangs until the server is closed).
    When the script runs out, ``default`` (if set) answers every further request.
    """

    def __init__(self) -> None:
        self.script: deque[dict[str, Any]] = deque()
        self.default: dict[str, Any] | None = None
        self.requests: list[dict[str, Any]] = []
        self.closing = threading.Event()
        # requests being answered at once, and the most there ever were (concurrency, seen by the server)
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                fake.requests.append(body)
                step = fake.script.popleft() if fake.script else fake.default
                if step is None:
                    step = {"status": 500}
                if step.get("stall"):
                    fake.closing.wait()
                    return
                if "sleep" in step:
                    with fake._lock:
                        fake.in_flight += 1
                        fake.most_in_flight = max(fake.most_in_flight, fake.in_flight)
                    try:
                        time.sleep(step["sleep"])
                    finally:
                        with fake._lock:
                            fake.in_flight -= 1
                status = step.get("status", 200)
                if status != 200:
                    payload = json.dumps({"error": {"message": f"scripted {status}", "type": "test"}}).encode()
                else:
                    content = step["content"] if "content" in step else json.dumps(step["json"], ensure_ascii=False)
                    payload = json.dumps(completion(content, step.get("prompt_tokens", 100),
                                                    step.get("completion_tokens", 20))).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    for k, v in step.get("headers", {}).items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> "FakeLLM":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()
