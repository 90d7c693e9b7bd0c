"""RFC 9457 problem details for every error the edge answers."""

from collections.abc import Mapping
from datetime import date
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException
from starlette.routing import Match

from gosmed.contracts.errors import (
    DEFAULT_MESSAGES,
    ErrorCode,
    ServiceError,
    summarize,
    validation_details,
)
from gosmed.contracts.types import DateRange

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://gosmed.example/problems/"


def invalid_request(error: ValidationError) -> ServiceError:
    """422 for a request whose fields are each valid but do not make a valid message."""
    details = validation_details(error.errors(include_url=False))
    return ServiceError(
        ErrorCode.VALIDATION_FAILED, "Запрос не прошёл проверку: " + summarize(details)
    )


STATUS_BY_CODE: dict[ErrorCode, int] = {
    ErrorCode.VALIDATION_FAILED: 422,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_ORGANIZATION_STAFF: 403,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.CONFLICT: 409,
    ErrorCode.SLOT_TAKEN: 409,
    ErrorCode.SLOT_IN_PAST: 409,
    ErrorCode.ONE_APPOINTMENT_A_DAY: 409,
    ErrorCode.APPOINTMENT_STARTED: 409,
    ErrorCode.APPOINTMENT_CANCELLED: 409,
    ErrorCode.GONE: 410,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.SERVICE_UNAVAILABLE: 503,
    ErrorCode.TIMEOUT: 504,
    ErrorCode.MESSAGE_TOO_LARGE: 413,
    ErrorCode.FILE_TOO_LARGE: 413,
    ErrorCode.UNSUPPORTED_FILE_TYPE: 415,
    ErrorCode.INTERNAL: 500,
    ErrorCode.QUOTA_EXCEEDED: 409,
    ErrorCode.FACTOR_NOT_ALLOWED: 409,
    ErrorCode.NO_SECOND_FACTOR: 409,
    ErrorCode.NO_LAB_VALUES: 422,
}
CODE_BY_STATUS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "Тело запроса не удалось разобрать."),
    404: ("not_found", "Такого адреса нет."),
    405: ("method_not_allowed", "Этот метод не поддерживается по данному адресу."),
    413: ("payload_too_large", "Тело запроса слишком большое."),
    415: ("unsupported_media_type", "Неподдерживаемый тип содержимого."),
}


class ProblemError(BaseModel):
    """One concrete problem of a request, e.g. one invalid field."""

    field: str | None = Field(
        default=None, description="Dotted path of the field, e.g. `body.agent_snils`."
    )
    code: str = Field(description="Stable machine code, e.g. `snils_checksum`.")
    message: str = Field(description="Russian human-readable explanation.")


class ProblemDetails(BaseModel):
    """RFC 9457 problem details: the body of every error answer of the edge."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(
        json_schema_extra={"format": "uri"},
        description=f"`{PROBLEM_TYPE_BASE}` followed by `code`.",
    )
    title: str = Field(description="Russian summary of the kind of problem.")
    status: int = Field(ge=400, le=599, description="The HTTP status, repeated.")
    detail: str = Field(description="Russian explanation of this occurrence.")
    instance: str = Field(description="The path of the request.")
    code: str = Field(description="Stable machine code, e.g. `not_found` or `document_expired`.")
    request_id: str | None = Field(description="The request's `X-Request-ID`.")
    errors: list[ProblemError] = Field(
        default_factory=list, description="Each invalid field, on validation problems."
    )


def requested_period(start: date | None, end: date | None) -> DateRange | None:
    """The `from`/`to` query dates as a range (open ends allowed); 400 when `to` < `from`."""
    if start is None and end is None:
        return None
    try:
        return DateRange(start=start or date.min, end=end or date.max)
    except ValidationError as error:
        raise invalid_request(error) from None


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
    # no-store here too: an unexpected error's answer is made outside the middleware stack.
    headers = {"Cache-Control": "no-store", **(headers or {})}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    errors = [d.model_dump(exclude_none=True) for d in exc.details]
    headers = {"WWW-Authenticate": "Bearer"} if exc.code == ErrorCode.UNAUTHENTICATED else {}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
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
    # Only the framework raises these, with English details: the Russian message replaces them.
    code, message = CODE_BY_STATUS.get(exc.status_code, ("http_error", "Ошибка запроса."))
    headers = exc.headers
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": ", ".join(_allowed_methods(request))}
    return problem(request, exc.status_code, code, message, headers=headers)


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (the framework names only one route's)."""
    return [
        method
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL
            for route in request.app.routes
        )
    ]


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    return problem(request, 500, ErrorCode.INTERNAL.value, DEFAULT_MESSAGES[ErrorCode.INTERNAL])


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
