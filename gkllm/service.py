"""``gkllm serve``: the extractor behind HTTP, for tools that call it as a fallback.

    POST /v1/extract   multipart (file [+ given, mode]) or JSON {text, given, mode, name}
    POST /v1/show      the same inputs; the `gkllm show` page (text/html). GET /v1/show: an upload form
    GET  /healthz      liveness and configuration; whether the LLM is up (or down until when)
    GET  /docs         OpenAPI UI (/openapi.json)

Limits: request size (GKLLM_MAX_UPLOAD_MB, default 20), per-request timeout
(GKLLM_REQUEST_TIMEOUT, default 300 s: a deadline that the request's LLM calls
and PDF reading obey, so a timed-out request stops and frees its slot),
bounded concurrency (GKLLM_CONCURRENCY, default 4: a request beyond it gets
503 with Retry-After), optional bearer token (GKLLM_TOKEN). A bad setting is a
ConfigError and the app is not built. Every error is
``{"error": {"code": "...", "message": "..."}}`` with a stable code: the
``code`` of gkllm's own errors (``STATUS_BY_CODE``; the tree is in
gkllm/errors.py) or one of unauthorized, unsupported_media_type, busy,
not_found, internal_error (500, with a request id; the traceback goes to the
log, never into the body).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, AsyncIterator, Callable

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import __version__
from .deadline import deadline_in
from .document import Document
from .envconf import env, env_number
from .errors import ConfigError, GkllmError
from .ingest import read_bytes, read_text
from .jsonin import load_json
from .models import Report
from .pipeline import MODES, extract_document

log = logging.getLogger("gkllm.service")

# gkllm's error codes (gkllm.errors) → HTTP; a code missing here is the server's fault (500)
STATUS_BY_CODE = {
    "bad_input": 400,
    "too_large": 413,
    "not_a_report": 422,
    "unsupported_format": 415,
    "converter_missing": 501,
    "llm_unavailable": 503,
    "llm_rejected": 502,
    "timeout": 504,
    "config_error": 500,
}
# how long past the deadline the event loop waits for a worker to stop by itself (gkllm.deadline)
# before it answers 504 without it; the slot stays taken until the worker really ends
_GRACE = 0.5


@dataclass
class Settings:
    max_bytes: int = 20 * 1024 * 1024
    timeout: float = 300.0
    concurrency: int = 4
    token: str | None = None
    mode: str = "hybrid"
    retry_after: int = 2

    @classmethod
    def from_env(cls, **overrides: Any) -> "Settings":
        """Settings from GKLLM_* variables; a bad value is a ConfigError naming it. ``overrides`` win
        (the CLI's options), and a variable they replace is not read."""
        given = {k: v for k, v in overrides.items() if v is not None}

        def pick(key: str, read: Any) -> Any:
            return given[key] if key in given else read()

        s = cls(
            max_bytes=pick("max_bytes", lambda: int(env_number("GKLLM_MAX_UPLOAD_MB", 20, minimum=0, above=True)
                                                    * 1024 * 1024)),
            timeout=pick("timeout", lambda: env_number("GKLLM_REQUEST_TIMEOUT", 300, minimum=0, above=True)),
            concurrency=pick("concurrency", lambda: int(env_number("GKLLM_CONCURRENCY", 4, minimum=1, integer=True))),
            token=pick("token", lambda: env("GKLLM_TOKEN")),
            mode=pick("mode", lambda: env("GKLLM_SERVE_MODE") or "hybrid"),
        )
        if s.mode not in MODES:
            raise ConfigError(f"GKLLM_SERVE_MODE={s.mode!r} must be one of {', '.join(MODES)}")
        return s


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def _internal_error(err: BaseException) -> ApiError:
    """A bug or an unexpected failure: the traceback goes to the log under a request id, the body gets the id only."""
    rid = uuid.uuid4().hex[:16]
    log.error("internal error, request id %s: %s: %s", rid, type(err).__name__, err,
              exc_info=(type(err), err, err.__traceback__))
    return ApiError(500, "internal_error", f"internal error (request id {rid}; the server log has the details)",
                    {"X-Request-ID": rid})


class ExtractText(BaseModel):
    """JSON body of POST /v1/extract."""

    text: str = Field(description="the report's text")
    given: dict[str, Any] | None = Field(None, description="another tool's partial result: flat keys → numbers")
    mode: str | None = Field(None, description="parser | llm | hybrid (default: the server's)")
    name: str | None = Field(None, description="a name for meta.source")


_MULTIPART_SCHEMA = {
    "type": "object",
    "required": ["file"],
    "properties": {
        "file": {"type": "string", "format": "binary", "description": "the report: .txt .html .docx .doc .wps .pdf"},
        "given": {"type": "string", "description": "JSON object: another tool's partial result (flat keys → numbers)"},
        "mode": {"type": "string", "enum": list(MODES)},
    },
}


class _Slots:
    """Bounded concurrency; a slot is held until the extraction thread ends, even after a timeout."""

    def __init__(self, n: int) -> None:
        self.n, self.active, self._lock = n, 0, threading.Lock()

    def try_acquire(self) -> bool:
        with self._lock:
            if self.active >= self.n:
                return False
            self.active += 1
            return True

    def release(self) -> None:
        with self._lock:
            self.active -= 1


def create_app(settings: Settings | None = None, llm: Any = None) -> FastAPI:
    """The ASGI app; ``llm`` is an LLMClient (default: the process-wide one from the environment).

    Raises ConfigError for bad settings, the LLM's included: the service refuses to start with them.
    """
    cfg = settings or Settings.from_env()
    if llm is None:
        from .llm import describe_backend

        describe_backend()  # builds LLMConfig from the environment: bad values fail here, not per request
    slots = _Slots(cfg.concurrency)
    pool = ThreadPoolExecutor(max_workers=cfg.concurrency, thread_name_prefix="gkllm-serve")
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        pool.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(
        lifespan=lifespan,
        title="gkllm",
        version=__version__,
        description="Exact, checked numbers from 政府信息公开工作年度报告. Errors are "
                    '`{"error": {"code", "message"}}` with a stable code.',
    )
    app.state.settings, app.state.slots = cfg, slots

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, err: ApiError) -> JSONResponse:
        return _error(err.status, err.code, err.message, err.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0] if err.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()))
        return _error(400, "bad_input", f"{where}: {first.get('msg', 'invalid request')}")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, err: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(err.status_code, "http_error")
        return _error(err.status_code, code, str(err.detail), getattr(err, "headers", None))

    @app.exception_handler(Exception)
    async def _internal(_: Request, err: Exception) -> JSONResponse:
        api = _internal_error(err)
        return _error(api.status, api.code, api.message, api.headers)

    def check_auth(request: Request) -> None:
        if not cfg.token:
            return
        got = request.headers.get("authorization", "")
        scheme, _, token = got.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), cfg.token.encode()):
            raise ApiError(401, "unauthorized", "a valid bearer token is required (Authorization: Bearer …)",
                           {"WWW-Authenticate": "Bearer"})

    async def read_limited(request: Request) -> bytes:
        limit = cfg.max_bytes
        too_large = ApiError(413, "too_large", f"request body is larger than {limit} bytes")
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            # drain what the client sends (bounded), so it reads the 413 instead of a reset connection
            drained = 0
            async for chunk in request.stream():
                drained += len(chunk)
                if drained > 8 * limit + (1 << 20):
                    break
            raise too_large
        chunks, n = [], 0
        async for chunk in request.stream():
            n += len(chunk)
            if n > limit:
                raise too_large
            chunks.append(chunk)
        body = b"".join(chunks)
        request._body = body  # later request.form() parses this, not the spent stream
        return body

    @app.get("/healthz", summary="Liveness, version, limits, and whether the LLM is up")
    async def healthz() -> dict[str, Any]:
        from .llm import health

        # llm: configured, backend, up, down_until (a dead endpoint is left alone for a cool-down, then retried)
        return {"status": "ok", "version": __version__, "mode": cfg.mode, "active": slots.active,
                "concurrency": cfg.concurrency, "max_bytes": cfg.max_bytes, "timeout": cfg.timeout,
                "auth": bool(cfg.token), "llm": health(llm)}

    async def run_request(request: Request, build: Callable[[Document, Report], Any]) -> Any:
        """One request's report (multipart ``file`` [+ given, mode], or JSON {text, given, mode, name}), read and
        extracted in a slot under the request's deadline; returns ``build(doc, report)`` (run in the worker)."""
        check_auth(request)
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype not in ("application/json", "multipart/form-data"):
            raise ApiError(415, "unsupported_media_type", "send multipart/form-data (a file) or "
                           f"application/json ({{text}}), not {ctype or 'no type'}")
        body = await read_limited(request)
        if ctype == "application/json":
            try:
                payload = ExtractText.model_validate(load_json(body or b"null", "JSON body"))
            except GkllmError as err:  # too deep, a lone surrogate, not JSON
                raise ApiError(400, "bad_input", f"invalid {err}") from None
            except ValueError as err:
                raise ApiError(400, "bad_input", f"invalid JSON body: {str(err).splitlines()[0]}") from None
            source: Any = ("text", payload.text, payload.name or "<text>")
            given, mode = payload.given, payload.mode
        else:
            try:
                form = await request.form(max_files=1, max_fields=10)
            except Exception as err:  # malformed multipart
                raise ApiError(400, "bad_input", f"invalid multipart body: {err}") from None
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise ApiError(400, "bad_input", "multipart body needs a 'file' part")
            data = await upload.read()
            source = ("bytes", data, PurePath(upload.filename or "upload").name)
            mode = form.get("mode") or None  # type: ignore[assignment]
            raw_given = form.get("given")
            given = None
            if isinstance(raw_given, str) and raw_given.strip():
                try:
                    given = load_json(raw_given, "'given'")
                except GkllmError as err:
                    raise ApiError(400, "bad_input", str(err)) from None
                if not isinstance(given, dict):
                    raise ApiError(400, "bad_input", "'given' must be a JSON object of flat keys → numbers")
        mode = mode or cfg.mode
        if mode not in MODES:
            raise ApiError(400, "bad_input", f"mode must be one of {', '.join(MODES)}")

        if not slots.try_acquire():
            raise ApiError(503, "busy", f"all {cfg.concurrency} extraction slots are busy; retry later",
                           {"Retry-After": str(cfg.retry_after)})

        due = time.monotonic() + cfg.timeout

        def run() -> Any:
            try:
                kind, content, name = source
                # the LLM calls and the PDF reader made for this request stop at its deadline
                with deadline_in(due - time.monotonic()):
                    doc = read_text(content, name) if kind == "text" else read_bytes(content, name)
                    report = extract_document(doc, mode=mode, llm=llm, given=given)  # type: ignore[arg-type]
                return build(doc, report)
            finally:
                slots.release()

        try:
            fut = asyncio.get_running_loop().run_in_executor(pool, run)
        except RuntimeError as err:  # pool shut down
            slots.release()
            raise ApiError(503, "busy", "the server is shutting down", {"Retry-After": str(cfg.retry_after)}) from err
        too_slow = f"extraction took longer than {cfg.timeout:g} s"
        try:
            result = await asyncio.wait_for(asyncio.shield(fut), timeout=cfg.timeout + _GRACE)
        except asyncio.TimeoutError:
            raise ApiError(504, "timeout", too_slow) from None
        except GkllmError as err:
            if err.code == "timeout":
                raise ApiError(504, "timeout", f"{too_slow} ({err})") from None
            raise ApiError(STATUS_BY_CODE.get(err.code, 500), err.code, str(err)) from None
        except Exception as err:  # noqa: BLE001 - anything else is the server's fault, never the caller's
            raise _internal_error(err) from None
        return result

    # what POST /v1/extract and POST /v1/show both take, and the errors both answer
    report_input = {"requestBody": {"required": True, "content": {
        "application/json": {"schema": ExtractText.model_json_schema()},
        "multipart/form-data": {"schema": _MULTIPART_SCHEMA},
    }}}
    report_errors: dict[int | str, dict[str, Any]] = {
        400: {"description": "bad_input"}, 401: {"description": "unauthorized"}, 413: {"description": "too_large"},
        415: {"description": "unsupported_media_type / unsupported_format"},
        422: {"description": "not_a_report"}, 503: {"description": "busy (Retry-After)"},
        504: {"description": "timeout"}}

    @app.post(
        "/v1/extract",
        summary="Extract one report",
        description="Upload the report as multipart `file` (optional form fields `given`, a JSON object, and "
                    "`mode`), or send JSON `{text, given, mode, name}`. Returns gkllm's JSON report; with "
                    "`given`, its `given` field says per key kept / corrected / filled / rejected.",
        openapi_extra=report_input,
        responses=report_errors,
    )
    async def extract_endpoint(
        request: Request,
        flat: bool = Query(False, description="the spec's flat keys instead of the nested report"),
    ) -> JSONResponse:
        def build(doc: Document, report: Report) -> dict[str, Any]:
            if flat:
                out: dict[str, Any] = report.to_flat()
                if report.given is not None:
                    out["given"] = {k: v.model_dump(mode="json") for k, v in report.given.items()}
                return out
            return report.to_json_dict()

        return JSONResponse(await run_request(request, build))

    # --- gkllm show (issue 15): the report page as HTML --------------------------------------------------------
    @app.get("/v1/show", summary="Upload form for the report page", response_class=HTMLResponse)
    async def show_form() -> HTMLResponse:
        """A static form (like /docs, it holds no data): its script sends the file to POST /v1/show with the
        bearer token typed into it."""
        from .show.form import form_csp, form_page

        return HTMLResponse(form_page(auth=bool(cfg.token), modes=MODES, default=cfg.mode),
                            headers={"Content-Security-Policy": form_csp(), "X-Content-Type-Options": "nosniff",
                                     "Referrer-Policy": "no-referrer"})

    @app.post(
        "/v1/show",
        summary="The report page",
        description="The same inputs as POST /v1/extract (multipart `file` [+ `given`, `mode`], or JSON "
                    "`{text, given, mode, name}`); returns the `gkllm show` page (text/html): the normalized text "
                    "with every extracted value marked, the template's tables, rules, warnings and diagnostics.",
        response_class=HTMLResponse,
        openapi_extra=report_input,
        responses=report_errors,
    )
    async def show_endpoint(request: Request) -> HTMLResponse:
        from .show import page_csp, render_report

        page = await run_request(request, lambda doc, report: render_report(report, doc.text))
        return HTMLResponse(page, headers={"Content-Security-Policy": page_csp(), "X-Content-Type-Options": "nosniff",
                                           "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"})

    # --- end gkllm show ------------------------------------------------------------------------------------------

    return app


def serve(host: str = "127.0.0.1", port: int = 8000, **settings: Any) -> None:
    import uvicorn

    app = create_app(Settings.from_env(**settings))
    uvicorn.run(app, host=host, port=port, log_level="info")
