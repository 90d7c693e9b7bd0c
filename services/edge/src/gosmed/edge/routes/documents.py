"""Edge routes served by the documents service: request, fetch, e-mail, revoke, verify."""

from datetime import date
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    ValidationError,
    model_validator,
)

from gosmed.contracts.access import AccessContext
from gosmed.contracts.documents import requests as contract
from gosmed.contracts.documents.requests import (
    MAX_ANALYTES,
    AnalyteCode,
    CertificatePurpose,
    DocumentFormat,
    DocumentKind,
    DocumentStatus,
)
from gosmed.contracts.errors import ErrorCode, ServiceError, summarize, validation_details
from gosmed.contracts.identity.access import Principal
from gosmed.contracts.records.views import CoverageKind
from gosmed.contracts.registry.catalog import ServiceCategory
from gosmed.contracts.types import DateRange
from gosmed.edge.deps import (
    DocumentsDep,
    PrincipalDep,
    patient_context,
)
from gosmed.edge.problems import problem

router = APIRouter(tags=["documents"])

GONE: dict[DocumentStatus, tuple[str, str]] = {
    DocumentStatus.EXPIRED: (
        "document_expired",
        "Срок хранения документа истёк, файл больше недоступен. Запросите документ заново.",
    ),
    DocumentStatus.REVOKED: ("document_revoked", "Документ отозван владельцем и недоступен."),
}
NOT_READY: dict[DocumentStatus, str] = {
    DocumentStatus.PENDING: "Документ ещё формируется, повторите запрос через несколько секунд.",
    DocumentStatus.FAILED: "Документ не удалось сформировать. Запросите его заново.",
}


class Period(DateRange):
    model_config = ConfigDict(frozen=True, extra="forbid")


# What the kinds need, for the OpenAPI document: an extract its record, a certificate its
# purpose, a dynamics report is a PDF and the only kind with analytes.
KIND_RULES: list[JsonValue] = [
    {
        "if": {"properties": {"kind": {"const": kind}}},
        "then": {"required": [field], "properties": {field: {"type": "string"}}},
        "else": {"properties": {field: {"type": "null"}}},
    }
    for kind, field in (("extract", "record_id"), ("certificate", "purpose"))
]
KIND_RULES.append(
    {
        "if": {"properties": {"kind": {"const": "dynamics"}}},
        "then": {"properties": {"format": {"const": "pdf"}}},
        "else": {"properties": {"analytes": {"maxItems": 0}}},
    }
)


class DocumentRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "allOf": KIND_RULES,
            "dependentRequired": {"from": ["to"], "to": ["from"]},
        },
    )

    kind: DocumentKind = Field(
        description="statement, extract (one service), certificate, or dynamics (charts of lab "
        "values with the visits of the period; PDF only)."
    )
    format: DocumentFormat = DocumentFormat.PDF
    period: Period | None = Field(
        default=None, description="Inclusive dates, `end` not before `start`; none: all time."
    )
    categories: frozenset[ServiceCategory] = frozenset()
    organization_ids: frozenset[UUID] = Field(default=frozenset(), max_length=1000)
    coverage: frozenset[CoverageKind] = frozenset()
    record_id: UUID | None = Field(
        default=None, description="The service of an extract: required for one, else absent."
    )
    purpose: CertificatePurpose | None = Field(
        default=None,
        description="employer, school or insurer: required for a certificate, else absent.",
    )
    from_: date | None = Field(
        default=None,
        alias="from",
        description="With `to`, instead of `period`: the first day (ГГГГ-ММ-ДД).",
    )
    to: date | None = Field(
        default=None, description="With `from`, instead of `period`: the last day."
    )
    analytes: frozenset[AnalyteCode] = Field(
        default=frozenset(),
        max_length=MAX_ANALYTES,
        description="For `dynamics`: the laboratory's or LOINC codes of the analytes to chart "
        "(e.g. `GLU`, `2345-7`); none: every analyte of the period.",
    )

    @model_validator(mode="after")
    def _one_way_to_give_the_period(self) -> "DocumentRequest":
        if (self.from_ is None) != (self.to is None):
            raise ValueError("период задаётся обеими датами: from и to")
        if self.from_ is not None and self.period is not None:
            raise ValueError("укажите период одним способом: period или from и to")
        return self

    def asked_period(self) -> DateRange | None:
        if self.from_ is not None and self.to is not None:
            return DateRange(start=self.from_, end=self.to)
        return self.period


def _actor(principal: Principal) -> AccessContext:
    return AccessContext(
        actor_id=principal.account_id, session_id=principal.session_id, roles=principal.roles
    )


def _document_id(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise ServiceError(ErrorCode.NOT_FOUND, "Документ не найден.") from None


def _gone(request: Request, status: DocumentStatus) -> JSONResponse:
    code, detail = GONE[status]
    return problem(request, 410, code, detail, title="Документ недоступен.")


@router.post(
    "/patients/{patient_id}/documents",
    status_code=202,
    response_model=contract.DocumentView,
    summary="Заказать документ: сведения за период, выписку, справку (PDF или XLSX) или "
    "динамику анализов (PDF)",
)
async def request_document(
    patient_id: str,
    body: DocumentRequest,
    principal: PrincipalDep,
    documents: DocumentsDep,
    response: Response,
) -> contract.DocumentView:
    try:
        request = contract.RequestDocument(
            context=patient_context(principal, patient_id),
            **body.model_dump(exclude={"period", "from_", "to"}),
            period=body.asked_period(),
        )
    except ValidationError as exc:  # the kind's own fields (record_id, purpose...) or dates
        details = validation_details(exc.errors(include_url=False))
        raise ServiceError(
            ErrorCode.VALIDATION_FAILED, "Запрос не прошёл проверку: " + summarize(details), details
        ) from None
    view = await documents.call(contract.REQUEST_DOCUMENT, request)
    response.headers["Location"] = f"/api/v1/documents/{view.document_id}"
    return view


@router.get(
    "/documents/{document_id}",
    response_model=contract.DocumentView,
    summary="Состояние документа: формируется, готов, ошибка, отозван",
)
async def get_document(
    document_id: str, request: Request, principal: PrincipalDep, documents: DocumentsDep
) -> contract.DocumentView | JSONResponse:
    query = contract.GetDocument(context=_actor(principal), document_id=_document_id(document_id))
    view = await documents.call(contract.GET_DOCUMENT, query)
    if view.status == DocumentStatus.EXPIRED:
        return _gone(request, view.status)
    return view


@router.get(
    "/documents/{document_id}/file",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}, "application/octet-stream": {}}}},
    summary="Файл готового документа",
)
async def get_document_file(
    document_id: str, request: Request, principal: PrincipalDep, documents: DocumentsDep
) -> Response:
    query = contract.GetDocument(context=_actor(principal), document_id=_document_id(document_id))
    found = await documents.call(contract.GET_DOCUMENT_FILE, query)
    status = found.document.status
    if status in GONE:
        return _gone(request, status)
    if status in NOT_READY or found.content is None:
        raise ServiceError(
            ErrorCode.CONFLICT, NOT_READY.get(status, NOT_READY[DocumentStatus.PENDING])
        )
    return Response(
        found.content,
        media_type=found.media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(found.filename)}",
            "X-Content-SHA256": found.document.sha256 or "",
        },
    )


@router.post(
    "/documents/{document_id}/email",
    status_code=202,
    response_model=contract.DocumentView,
    summary="Отправить документ на подтверждённую электронную почту",
)
async def email_document(
    document_id: str, principal: PrincipalDep, documents: DocumentsDep
) -> contract.DocumentView:
    command = contract.EmailDocument(
        context=_actor(principal), document_id=_document_id(document_id)
    )
    return await documents.call(contract.EMAIL_DOCUMENT, command)


@router.post(
    "/documents/{document_id}/revoke",
    response_model=contract.DocumentView,
    summary="Отозвать документ: проверка подлинности будет отвечать «недействителен»",
)
async def revoke_document(
    document_id: str, principal: PrincipalDep, documents: DocumentsDep
) -> contract.DocumentView:
    command = contract.RevokeDocument(
        context=_actor(principal), document_id=_document_id(document_id)
    )
    return await documents.call(contract.REVOKE_DOCUMENT, command)


@router.get(
    "/verify/{document_id}",
    response_model=contract.DocumentVerification,
    summary="Проверка подлинности документа (без входа): по ссылке из QR-кода",
)
async def verify_document(
    document_id: str, documents: DocumentsDep
) -> contract.DocumentVerification:
    query = contract.VerifyDocument(document_id=_document_id(document_id))
    return await documents.call(contract.VERIFY_DOCUMENT, query)


@router.post(
    "/verify/{document_id}",
    response_model=contract.DocumentVerification,
    summary="Проверка подлинности файла (без входа): тело запроса — файл документа",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {
                    "schema": {"type": "string", "format": "binary", "minLength": 1}
                }
            },
        }
    },
)
async def verify_document_file(
    document_id: str, request: Request, documents: DocumentsDep
) -> contract.DocumentVerification:
    content = await request.body()
    if not content:
        raise ServiceError(ErrorCode.VALIDATION_FAILED, "Приложите файл документа в теле запроса.")
    query = contract.VerifyDocument(document_id=_document_id(document_id), content=content)
    return await documents.call(contract.VERIFY_DOCUMENT, query)
