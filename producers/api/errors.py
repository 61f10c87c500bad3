"""Every failure the intake answers, in one shape: a 4xx naming the field, or a 503.

A 503 (with ``Retry-After``) means one thing: a dependency is down — Kafka,
the workers, ClickHouse — raised explicitly with :func:`unavailable` where
that dependency is called. There is deliberately no handler turning any
other exception into a 503: that would tell a client to retry a request
that will fail the same way for ever, and hide the bug from the fuzzing
and the logs. An unexpected exception is a 500 (same body shape, logged by
the server with its trace).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class ApiError(Exception):
    """An answer other than success: status, machine code, Chinese message, extras."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any):
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.extra = extra


def unavailable(message: str, retry_after: int = 5) -> ApiError:
    """503 with Retry-After: nothing was accepted, try again later."""
    return ApiError(503, "unavailable", message, headers={"Retry-After": str(retry_after)})


def too_large(max_bytes: int) -> ApiError:
    """413: the body is larger than the intake reads (``GRIDFLOW_INTAKE_BODY_MAX_BYTES``)."""
    mib = 1024 * 1024
    size = f"{max_bytes // mib} MB" if max_bytes % mib == 0 else f"{max_bytes} 字节"
    return ApiError(413, "too_large", f"请求体超过 {size} 上限", field="body", max_bytes=max_bytes)


def response(exc: ApiError) -> JSONResponse:
    """The answer of ``exc``, in the one shape: ``{"error", "message", …extras}``."""
    return JSONResponse({"error": exc.code, "message": exc.message, **exc.extra}, status_code=exc.status, headers=exc.headers)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) or "body"


#: FastAPI's detail when a body fails to decode other than as bad JSON syntax (bytes that are not UTF-8)
_UNPARSABLE_BODY = "There was an error parsing the body"


def _invalid_json() -> JSONResponse:
    return JSONResponse(
        {"error": "invalid_json", "message": "请求体不是合法的 JSON", "fields": [{"field": "body", "message": "invalid JSON"}]},
        status_code=400,
    )


def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return _invalid_json()
    fields = [{"field": _field(tuple(e.get("loc", ()))), "message": e.get("msg", ""), "type": e.get("type", "")} for e in errors]
    names = "、".join(dict.fromkeys(f["field"] for f in fields))
    return JSONResponse(
        {"error": "invalid_report", "message": f"字段有误: {names}", "fields": fields}, status_code=422
    )


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return response(exc)

    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == _UNPARSABLE_BODY:
            # A JSON body that is not UTF-8 is invalid JSON too (RFC 8259): the same answer, naming the body.
            return _invalid_json()
        return JSONResponse({"error": "http_error", "message": str(exc.detail)}, status_code=exc.status_code)

    @app.exception_handler(500)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        # Starlette calls this for an exception nothing else handled, then re-raises it, so the
        # server logs the trace: a bug, answered as one — no Retry-After, nothing to retry.
        return JSONResponse({"error": "internal_error", "message": "服务器内部错误，已记录"}, status_code=500)
