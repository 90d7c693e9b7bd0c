"""Edge routes served by the records service: rendered services, consent, access journal."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from gosmed.contracts.records import consents, journal, queries, sync
from gosmed.contracts.records.details import GET_SERVICE, GetRenderedService, RenderedServiceDetail
from gosmed.contracts.records.views import CoverageKind
from gosmed.contracts.registry.catalog import ServiceCategory
from gosmed.contracts.types import IsoDate
from gosmed.edge.deps import (
    PrincipalDep,
    RecordsDep,
    patient_context,
)
from gosmed.edge.problems import requested_period

router = APIRouter(tags=["records"])


class ConsentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    all_clinics: bool = Field(description="Receive data from every clinic.")
    organization_ids: frozenset[UUID] = Field(
        default=frozenset(), max_length=1000, description="Chosen clinics when not all."
    )


@router.get(
    "/patients/{patient_id}/services",
    response_model=queries.RenderedServicesPage,
    summary="Оказанные медицинские услуги: фильтры, новые сначала, постраничная выдача",
)
async def list_services(
    patient_id: str,
    principal: PrincipalDep,
    records: RecordsDep,
    category: Annotated[list[ServiceCategory], Query()] = [],  # noqa: B006 (FastAPI copies it)
    date_from: Annotated[IsoDate | None, Query(alias="from", description="ГГГГ-ММ-ДД")] = None,
    date_to: Annotated[IsoDate | None, Query(alias="to", description="ГГГГ-ММ-ДД")] = None,
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
        period=requested_period(date_from, date_to),
        preset=period,
        organization_ids=frozenset(organization_id),
        specialist_ids=frozenset(specialist_id),
        coverage=frozenset(coverage),
        text=q,
        cursor=cursor,
        limit=limit,
    )
    return await records.call(queries.LIST_SERVICES, request)


@router.post(
    "/patients/{patient_id}/services:refresh",
    response_model=sync.RefreshReport,
    summary="«Обновить»: попросить клиники повторно передать данные; статус по каждой клинике",
)
async def refresh_services(
    patient_id: str, principal: PrincipalDep, records: RecordsDep
) -> sync.RefreshReport:
    request = sync.RefreshServices(context=patient_context(principal, patient_id))
    return await records.call(sync.REFRESH_SERVICES, request)


@router.get(
    "/patients/{patient_id}/services/{record_id}",
    response_model=RenderedServiceDetail,
    summary="Одна услуга: подробности, история цены, тариф, карточки клиники и врача",
)
async def get_service(
    patient_id: str,
    record_id: UUID,
    principal: PrincipalDep,
    records: RecordsDep,
) -> RenderedServiceDetail:
    request = GetRenderedService(
        context=patient_context(principal, patient_id), record_id=record_id
    )
    return await records.call(GET_SERVICE, request)


@router.get(
    "/patients/{patient_id}/consents",
    response_model=consents.DataConsentView,
    summary="Согласие на получение данных от медицинских организаций",
)
async def get_consent(
    patient_id: str, principal: PrincipalDep, records: RecordsDep
) -> consents.DataConsentView:
    request = consents.GetDataConsent(context=patient_context(principal, patient_id))
    return await records.call(consents.GET_CONSENT, request)


@router.put(
    "/patients/{patient_id}/consents",
    response_model=consents.DataConsentView,
    summary="Дать или изменить согласие: от всех клиник или от выбранных",
)
async def set_consent(
    patient_id: str,
    body: ConsentRequest,
    principal: PrincipalDep,
    records: RecordsDep,
) -> consents.DataConsentView:
    request = consents.SetDataConsent(
        context=patient_context(principal, patient_id),
        all_clinics=body.all_clinics,
        organization_ids=body.organization_ids,
    )
    return await records.call(consents.SET_CONSENT, request)


@router.get(
    "/patients/{patient_id}/access-log",
    response_model=journal.AccessLogPage,
    summary="Журнал доступа: кто, на каком основании, что и когда смотрел (только пациент)",
)
async def access_log(
    patient_id: str,
    principal: PrincipalDep,
    records: RecordsDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=journal.MAX_LOG_PAGE)] = 50,
) -> journal.AccessLogPage:
    request = journal.GetAccessLog(
        context=patient_context(principal, patient_id), cursor=cursor, limit=limit
    )
    return await records.call(journal.GET_ACCESS_LOG, request)
