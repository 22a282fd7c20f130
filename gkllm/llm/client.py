"""The one client path: instructor over the openai client, any OpenAI-compatible endpoint.

Two kinds of retry, kept apart on purpose: transport faults (timeouts, 429,
5xx, refused connections) are retried here with tenacity and jittered
exponential backoff; answers that break a rule are re-asked by instructor,
with the failing rule named, at most ``max_reasks`` times under a token budget.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, TypeVar

import instructor
import openai
from instructor.core import InstructorError, InstructorRetryException
from instructor.v2.core.hooks import Hooks
from pydantic import BaseModel
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential
from tenacity.stop import stop_base

from .. import deadline
from ..errors import DeadlineExceeded, LLMRejected, LLMUnavailable
from ..models import LlmStats
from ..template import rules_version
from .breaker import Breaker, BreakerState
from .cache import AnswerCache, cache_key
from .config import LLMConfig
from .prompts import Prompt, load
from .schemas import SCHEMA_VERSION

log = logging.getLogger("gkllm.llm")
# instructor logs every failed attempt at ERROR; without a handler Python's
# last-resort handler would print them into the CLI's stderr.
logging.getLogger("instructor").addHandler(logging.NullHandler())
log.addHandler(logging.NullHandler())
T = TypeVar("T", bound=BaseModel)

TRANSIENT = (openai.APITimeoutError, openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError)
_MODES = {
    "json_schema": instructor.Mode.JSON_SCHEMA,
    "json": instructor.Mode.JSON,
    "md_json": instructor.Mode.MD_JSON,
    "tools": instructor.Mode.TOOLS,
}


@dataclass
class Usage:
    calls: int = 0  # HTTP requests answered or failed, re-asks included
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    transport_retries: int = 0
    reasks: int = 0

    def add(self, other: "Usage") -> None:
        for f in ("calls", "cache_hits", "prompt_tokens", "completion_tokens", "seconds", "transport_retries",
                  "reasks"):
            setattr(self, f, getattr(self, f) + getattr(other, f))

    def to_stats(self, model: str | None) -> LlmStats:
        return LlmStats(model=model, calls=self.calls, cache_hits=self.cache_hits, prompt_tokens=self.prompt_tokens,
                        completion_tokens=self.completion_tokens, seconds=round(self.seconds, 3))


def _within_deadline(request: Any) -> None:
    """httpx request hook: no HTTP request outlives the caller's deadline (gkllm.deadline).

    It runs for every request the openai client sends, instructor's re-asks
    included, so the per-call timeout shrinks to what the deadline leaves.
    """
    left = deadline.remaining()
    if left is None:
        return
    left = max(left, 0.001)  # passed: fail at once with the client's own timeout error
    timeouts = request.extensions.get("timeout") or {}
    request.extensions["timeout"] = {k: left if v is None else min(v, left) for k, v in timeouts.items()}


class _DeadlinePassed(stop_base):
    def __call__(self, retry_state: RetryCallState) -> bool:
        return deadline.passed()


def _wait(state: RetryCallState) -> float:
    """Honour Retry-After on 429s; otherwise jittered exponential backoff."""
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, openai.RateLimitError):
        try:
            after = float(exc.response.headers.get("retry-after", ""))
            return min(max(after, 0.0), 60.0)
        except (TypeError, ValueError, AttributeError):
            pass
    return wait_random_exponential(multiplier=0.5, max=20)(state)


class LLMClient:
    """Structured calls with caching and accounting; thread-safe for concurrent use."""

    def __init__(self, config: LLMConfig | None = None) -> None:
        self.config = config or LLMConfig.from_env()
        self.usage = Usage()
        self._lock = threading.Lock()
        self._local = threading.local()  # per-thread trackers: per-report figures under concurrency
        # a dead endpoint is left alone for a cool-down, then tried again (gkllm serve recovers by itself)
        self.breaker = Breaker(self.config.cooldown, max(self.config.cooldown_cap, self.config.cooldown))
        self._client: Any = None
        self._server: Any = None
        self._model: str | None = self.config.model
        self._cache = AnswerCache(self.config.cache_path()) if self.config.use_cache else None

    # -- connection ---------------------------------------------------------------
    @property
    def down(self) -> str | None:
        """Why the endpoint is left alone right now, or None when calls go through."""
        st = self.breaker.state()
        return None if st.up else st.reason

    def health(self) -> BreakerState:
        return self.breaker.state()

    @property
    def model_name(self) -> str:
        if self._model:
            return self._model
        if self.config.embedded:
            from . import local

            return self.config.local_model or local.DEFAULT_MODEL
        return "default"

    def _connect(self) -> Any:
        with self._lock:
            if self._client is not None:
                return self._client
            base_url = self.config.base_url
            if base_url is None:
                base_url = self._start_embedded()
            raw = openai.OpenAI(base_url=base_url, api_key=self.config.api_key or "not-needed",
                                timeout=self.config.timeout, max_retries=0,
                                http_client=openai.DefaultHttpxClient(event_hooks={"request": [_within_deadline]}))
            self._client = instructor.from_openai(raw, mode=_MODES[self.config.instructor_mode])
            return self._client

    def _start_embedded(self) -> str:
        try:
            from . import local
        except ImportError as err:
            raise LLMUnavailable(f"no LLM configured and the embedded model is not installed ({err}); "
                                 "set GKLLM_BASE_URL or pip install 'gkllm[local]'") from None
        name = self.config.local_model or local.DEFAULT_MODEL
        try:
            path = local.ensure_model(name)
            # room for one table part (~3k tokens) plus the answer
            self._server = local.LocalServer(path, n_ctx=8192, threads=self.config.local_threads)
            self._server.__enter__()
        except local.LocalModelError as err:
            raise LLMUnavailable(str(err)) from None
        self._model = name
        return self._server.base_url

    def close(self) -> None:
        if self._server is not None:
            self._server.__exit__(None, None, None)
            self._server = None
        self._client = None
        if self._cache is not None:
            self._cache.close()

    def __enter__(self) -> "LLMClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- accounting -----------------------------------------------------------------
    @contextlib.contextmanager
    def track(self) -> Iterator[Usage]:
        """Usage of the calls this thread makes inside the block (for one report's meta.llm)."""
        stack = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        mine = Usage()
        stack.append(mine)
        try:
            yield mine
        finally:
            stack.pop()

    def _record(self, delta: Usage) -> None:
        with self._lock:
            self.usage.add(delta)
        for tracker in getattr(self._local, "stack", ()):
            tracker.add(delta)

    # -- calls --------------------------------------------------------------------
    def ask(self, prompt: Prompt, variables: dict[str, str], response_model: type[T], *,
            check: Callable[[Any], list[str]] | None = None, key_extra: dict[str, Any] | None = None) -> T:
        """One structured answer; from the cache when the same question was asked before.

        ``check`` names what is wrong with an answer; each problem is re-asked
        (``max_reasks``), and the last answer is returned as it is, for the
        caller to judge value by value.
        """
        system = load("system")
        user = prompt.render(**variables)
        messages = [{"role": "system", "content": system.template}, {"role": "user", "content": user}]
        key = cache_key(
            user=user, prompt=prompt.id, prompt_sha=prompt.sha256, system=system.id, system_sha=system.sha256,
            schema=SCHEMA_VERSION, response_schema=response_model.model_json_schema(), rules=rules_version(),
            model=self.model_name, base_url=self.config.base_url, mode=self.config.instructor_mode,
            temperature=self.config.temperature, max_tokens=self.config.max_tokens,
            max_reasks=self.config.max_reasks, extra=key_extra or {},
        )
        if self._cache is not None:
            hit = self._cache.get(key)
            if hit is not None:
                self._record(Usage(cache_hits=1))
                return response_model.model_validate(hit["answer"])
        refused = self.breaker.refusal()
        if refused:
            raise LLMUnavailable(refused)
        try:
            answer = self._call(prompt.id, messages, response_model, check)
        except LLMUnavailable as err:
            self.breaker.failure(str(err))
            raise
        except LLMRejected:
            self.breaker.success()  # the endpoint answered; the answer was wrong
            raise
        except BaseException:
            self.breaker.release()
            raise
        self.breaker.success()
        if self._cache is not None:
            self._cache.set(key, {"answer": answer.model_dump(mode="json")})
        return answer

    @staticmethod
    def _create(call: Callable[[], Any]) -> Any:
        """instructor wraps API errors in its retry exception; unwrap them so
        transport faults reach tenacity and status errors their own handler."""
        try:
            return call()
        except InstructorRetryException as err:
            cause = err.__cause__
            if isinstance(cause, openai.APIError):
                raise cause from None
            raise

    def _call(self, prompt_id: str, messages: list[dict[str, str]], response_model: type[T],
              check: Callable[[Any], list[str]] | None) -> T:
        deadline.check(f"before asking the LLM ({prompt_id})")
        client = self._connect()
        attempts = 0  # every HTTP request, across transport retries
        asked = 0  # requests within the current transport attempt: 1 + re-asks

        def count(*_: Any, **__: Any) -> None:
            nonlocal attempts, asked
            attempts += 1
            asked += 1

        def judged(answer: Any) -> list[str]:
            # the last allowed answer is returned even with problems left: the caller judges it key by key
            # (grounding and the rules), so one unfixable cell does not throw away a whole group of rows
            problems = check(answer) if check is not None else []
            if problems and asked > self.config.max_reasks:
                log.info("LLM answer to %s kept for judging with: %s", prompt_id, "; ".join(problems)[:300])
                return []
            return problems

        retries = 0

        def on_retry(state: RetryCallState) -> None:
            nonlocal retries
            retries += 1
            log.warning("LLM transport error on %s (%s); retry %d", prompt_id,
                        state.outcome.exception() if state.outcome else "?", state.attempt_number)

        t0 = time.perf_counter()
        ptok = ctok = 0
        try:
            for attempt in Retrying(
                retry=retry_if_exception_type(TRANSIENT),
                stop=stop_after_attempt(self.config.transport_retries + 1) | _DeadlinePassed(),
                wait=lambda state: deadline.bound(_wait(state)),
                before_sleep=on_retry,
                reraise=True,
            ):
                with attempt:
                    asked = 0
                    hooks = Hooks()
                    hooks.on("completion:kwargs", count)
                    answer, completion = self._create(functools.partial(
                        client.chat.completions.create_with_completion,
                        model=self.model_name,
                        messages=messages,
                        response_model=response_model,
                        max_retries=self.config.max_reasks,
                        context={"check": judged if check is not None else None},
                        hooks=hooks,
                        temperature=self.config.temperature,
                        max_tokens=self.config.max_tokens,
                        **({"token_budget": self.config.token_budget} if self.config.token_budget else {}),
                    ))
            usage = getattr(completion, "usage", None)
            ptok, ctok = (usage.prompt_tokens or 0, usage.completion_tokens or 0) if usage else (0, 0)
            return answer
        except TRANSIENT as err:
            if deadline.passed():  # the caller's time ran out, not the endpoint: do not mark it down
                raise DeadlineExceeded(f"the deadline passed while waiting for the LLM ({prompt_id}, "
                                       f"{attempts} request{'s' * (attempts != 1)})") from None
            raise LLMUnavailable(f"LLM unreachable after {self.config.transport_retries + 1} tries: "
                                 f"{type(err).__name__}: {err}") from None
        except openai.APIStatusError as err:
            error = f"HTTP {err.status_code}: {err.message}"
            if err.status_code in (400, 413, 422):
                # this request (too long, unsupported parameter), not the endpoint
                raise LLMRejected(f"LLM endpoint refused this request: {error}", [error]) from None
            raise LLMUnavailable(f"LLM endpoint refused the request: {error}") from None
        except (InstructorRetryException, InstructorError) as err:
            total = getattr(err, "total_usage", None)
            if total is not None:
                ptok, ctok = getattr(total, "prompt_tokens", 0) or 0, getattr(total, "completion_tokens", 0) or 0
            errors = [str(getattr(f, "exception", f)) for f in getattr(err, "failed_attempts", []) or []]
            raise LLMRejected(f"LLM answers rejected after {attempts} attempts: {errors[-1][:300] if errors else err}",
                              errors) from None
        finally:
            dt = time.perf_counter() - t0
            self._record(Usage(calls=attempts, reasks=max(asked - 1, 0), prompt_tokens=ptok, completion_tokens=ctok,
                               seconds=dt, transport_retries=retries))
