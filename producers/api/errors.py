"""Every failure the intake answers, in one shape: a 4xx naming the field, or a 503.

A handler of last resort turns an unexpected exception into a 503 with
``Retry-After`` (logged with its trace): the client keeps its report and
retries with the same ``report_id``, which is always safe.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)


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


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) or "body"


def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return JSONResponse(
            {"error": "invalid_json", "message": "请求体不是合法的 JSON", "fields": [{"field": "body", "message": "invalid JSON"}]},
            status_code=400,
        )
    fields = [{"field": _field(tuple(e.get("loc", ()))), "message": e.get("msg", ""), "type": e.get("type", "")} for e in errors]
    names = "、".join(dict.fromkeys(f["field"] for f in fields))
    return JSONResponse(
        {"error": "invalid_report", "message": f"字段有误: {names}", "fields": fields}, status_code=422
    )


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            {"error": exc.code, "message": exc.message, **exc.extra}, status_code=exc.status, headers=exc.headers
        )

    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": "http_error", "message": str(exc.detail)}, status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(
            {"error": "unavailable", "message": "服务暂时不可用，请稍后重试"}, status_code=503, headers={"Retry-After": "5"}
        )
