"""Edge routes served by the records service: rendered services, consent, access journal."""

from datetime import date
from functools import partial
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gosmed.contracts import topology
from gosmed.contracts.errors import ErrorCode, ServiceError, summarize, validation_details
from gosmed.contracts.records import consents, journal, queries, sync
from gosmed.contracts.records.details import GetRenderedService, RenderedServiceDetail
from gosmed.contracts.records.views import CoverageKind
from gosmed.contracts.registry.catalog import ServiceCategory
from gosmed.contracts.types import DateRange
from gosmed.edge.deps import (
    MESSAGE_FIELDS,
    PrincipalDep,
    RpcDep,
    SettingsDep,
    call_service,
    patient_context,
)

router = APIRouter(tags=["records"])

_records = partial(call_service, topology.Service.RECORDS)


class ConsentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    all_clinics: bool = Field(description="Receive data from every clinic.")
    organization_ids: frozenset[UUID] = Field(
        default=frozenset(), max_length=1000, description="Chosen clinics when not all."
    )


def _period(start: date | None, end: date | None) -> DateRange | None:
    if start is None and end is None:
        return None
    try:
        return DateRange(start=start or date.min, end=end or date.max)
    except ValidationError as error:
        details = validation_details(error.errors(include_url=False))
        raise ServiceError(
            ErrorCode.VALIDATION_FAILED, "Запрос не прошёл проверку: " + summarize(details)
        ) from None


@router.get(
    "/patients/{patient_id}/services",
    response_model=queries.RenderedServicesPage,
    response_model_exclude=MESSAGE_FIELDS,
    summary="Оказанные медицинские услуги: фильтры, новые сначала, постраничная выдача",
)
async def list_services(
    patient_id: str,
    principal: PrincipalDep,
    rpc: RpcDep,
    settings: SettingsDep,
    category: Annotated[list[ServiceCategory], Query()] = [],  # noqa: B006 (FastAPI copies it)
    date_from: Annotated[date | None, Query(alias="from", description="ГГГГ-ММ-ДД")] = None,
    date_to: Annotated[date | None, Query(alias="to", description="ГГГГ-ММ-ДД")] = None,
    period: Annotated[queries.PeriodPreset | None, Query()] = None,
    organization_id: Annotated[list[UUID], Query()] = [],  # noqa: B006
    specialist_id: Annotated[list[UUID], Query()] = [],  # noqa: B006
    coverage: Annotated[list[CoverageKind], Query()] = [],  # noqa: B006
    q: Annotated[str | None, Query(max_length=200, description="Слова для поиска")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 20,
) -> queries.RenderedServicesPage:
    request = queries.ListRenderedServices(
        context=patient_context(principal, patient_id),
        categories=frozenset(category),
        period=_period(date_from, date_to),
        preset=period,
        organization_ids=frozenset(organization_id),
        specialist_ids=frozenset(specialist_id),
        coverage=frozenset(coverage),
        text=q,
        cursor=cursor,
        limit=limit,
    )
    return await _records(
        rpc, settings, queries.LIST_SERVICES, request, queries.RenderedServicesPage
    )


@router.post(
    "/patients/{patient_id}/services:refresh",
    response_model=sync.RefreshReport,
    response_model_exclude=MESSAGE_FIELDS,
    summary="«Обновить»: попросить клиники повторно передать данные; статус по каждой клинике",
)
async def refresh_services(
    patient_id: str, principal: PrincipalDep, rpc: RpcDep, settings: SettingsDep
) -> sync.RefreshReport:
    request = sync.RefreshServices(context=patient_context(principal, patient_id))
    return await _records(rpc, settings, sync.REFRESH_SERVICES, request, sync.RefreshReport)


@router.get(
    "/patients/{patient_id}/services/{record_id}",
    response_model=RenderedServiceDetail,
    response_model_exclude=MESSAGE_FIELDS,
    summary="Одна услуга: подробности, история цены, тариф, карточки клиники и врача",
)
async def get_service(
    patient_id: str,
    record_id: UUID,
    principal: PrincipalDep,
    rpc: RpcDep,
    settings: SettingsDep,
) -> RenderedServiceDetail:
    request = GetRenderedService(
        context=patient_context(principal, patient_id), record_id=record_id
    )
    return await _records(rpc, settings, queries.GET_SERVICE, request, RenderedServiceDetail)


@router.get(
    "/patients/{patient_id}/consents",
    response_model=consents.DataConsentView,
    response_model_exclude=MESSAGE_FIELDS,
    summary="Согласие на получение данных от медицинских организаций",
)
async def get_consent(
    patient_id: str, principal: PrincipalDep, rpc: RpcDep, settings: SettingsDep
) -> consents.DataConsentView:
    request = consents.GetDataConsent(context=patient_context(principal, patient_id))
    return await _records(rpc, settings, consents.GET_CONSENT, request, consents.DataConsentView)


@router.put(
    "/patients/{patient_id}/consents",
    response_model=consents.DataConsentView,
    response_model_exclude=MESSAGE_FIELDS,
    summary="Дать или изменить согласие: от всех клиник или от выбранных",
)
async def set_consent(
    patient_id: str,
    body: ConsentRequest,
    principal: PrincipalDep,
    rpc: RpcDep,
    settings: SettingsDep,
) -> consents.DataConsentView:
    request = consents.SetDataConsent(
        context=patient_context(principal, patient_id),
        all_clinics=body.all_clinics,
        organization_ids=body.organization_ids,
    )
    return await _records(rpc, settings, consents.SET_CONSENT, request, consents.DataConsentView)


@router.get(
    "/patients/{patient_id}/access-log",
    response_model=journal.AccessLogPage,
    response_model_exclude=MESSAGE_FIELDS,
    summary="Журнал доступа: кто, на каком основании, что и когда смотрел (только пациент)",
)
async def access_log(
    patient_id: str,
    principal: PrincipalDep,
    rpc: RpcDep,
    settings: SettingsDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=journal.MAX_LOG_PAGE)] = 50,
) -> journal.AccessLogPage:
    request = journal.GetAccessLog(
        context=patient_context(principal, patient_id), cursor=cursor, limit=limit
    )
    return await _records(rpc, settings, journal.GET_ACCESS_LOG, request, journal.AccessLogPage)
