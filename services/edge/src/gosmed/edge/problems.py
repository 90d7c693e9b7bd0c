"""RFC 9457 problem details for every error the edge answers."""

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from gosmed.contracts.errors import (
    DEFAULT_MESSAGES,
    ErrorCode,
    ServiceError,
    summarize,
    validation_details,
)

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://gosmed.example/problems/"

STATUS_BY_CODE: dict[ErrorCode, int] = {
    ErrorCode.VALIDATION_FAILED: 422,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.CONFLICT: 409,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.SERVICE_UNAVAILABLE: 503,
    ErrorCode.TIMEOUT: 504,
    ErrorCode.INTERNAL: 500,
}
CODE_BY_STATUS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "Некорректный запрос."),
    404: ("not_found", "Такого адреса нет."),
    405: ("method_not_allowed", "Этот метод не поддерживается по данному адресу."),
    413: ("payload_too_large", "Тело запроса слишком большое."),
    415: ("unsupported_media_type", "Неподдерживаемый тип содержимого."),
}


def problem(
    request: Request,
    status: int,
    code: str,
    detail: str,
    *,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> JSONResponse:
    """A problem+json response; `extensions` adds RFC 9457 extension members."""
    body = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title or detail,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "code": code,
        "request_id": getattr(request.state, "request_id", None),
        **(extensions or {}),
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    errors = [d.model_dump(exclude_none=True) for d in exc.details]
    headers = {"WWW-Authenticate": "Bearer"} if exc.code == ErrorCode.UNAUTHENTICATED else None
    return problem(
        request,
        STATUS_BY_CODE[exc.code],
        exc.code.value,
        exc.message,
        title=DEFAULT_MESSAGES[exc.code],
        headers=headers,
        extensions={"errors": errors} if errors else None,
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = validation_details(exc.errors())
    return problem(
        request,
        422,
        ErrorCode.VALIDATION_FAILED.value,
        "Запрос не прошёл проверку: " + summarize(details),
        title=DEFAULT_MESSAGES[ErrorCode.VALIDATION_FAILED],
        extensions={"errors": [d.model_dump(exclude_none=True) for d in details]},
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code, message = CODE_BY_STATUS.get(exc.status_code, ("http_error", "Ошибка запроса."))
    detail = (
        exc.detail if isinstance(exc.detail, str) and exc.status_code not in (404, 405) else message
    )
    return problem(request, exc.status_code, code, detail, headers=exc.headers)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    return problem(request, 500, ErrorCode.INTERNAL.value, DEFAULT_MESSAGES[ErrorCode.INTERNAL])


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
