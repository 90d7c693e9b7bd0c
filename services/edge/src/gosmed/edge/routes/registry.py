"""Edge routes served by the registry service: public reads of organizations, specialists,
the nomenclature of medical services and tariffs."""

import datetime as dt
from functools import partial
from typing import Annotated
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from gosmed.contracts import topology
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.registry.catalog import (
    SEARCH_SERVICES,
    MedicalService,
    SearchServices,
    ServiceCategory,
    ServicePage,
)
from gosmed.contracts.registry.organizations import (
    GET_ORGANIZATIONS,
    SEARCH_ORGANIZATIONS,
    GetOrganizations,
    OrganizationCard,
    OrganizationPage,
    OrganizationsView,
    SearchOrganizations,
)
from gosmed.contracts.registry.specialists import (
    GET_SPECIALISTS,
    GetSpecialists,
    SpecialistCard,
    SpecialistsView,
)
from gosmed.contracts.registry.specialties import Specialty
from gosmed.contracts.registry.tariffs import GET_TARIFF, GetTariff, Tariff, TariffView
from gosmed.contracts.registry.values import NOMENCLATURE_CODE_PATTERN
from gosmed.edge.deps import RpcDep, SettingsDep, call_service

router = APIRouter(tags=["registry"])
MOSCOW = ZoneInfo("Europe/Moscow")


_registry = partial(call_service, topology.Service.REGISTRY)


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cursor: str | None = Field(
        default=None, max_length=200, description="`next_cursor` of the previous page."
    )
    limit: int = Field(default=20, ge=1, le=100)


class OrganizationQuery(PageQuery):
    q: str | None = Field(default=None, max_length=200, description="Words of the name.")
    city: str | None = Field(default=None, max_length=200, description="e.g. «Казань».")
    specialization: Specialty | None = None
    open_now: bool = Field(default=False, description="Only organizations open right now.")


class ServiceQuery(PageQuery):
    q: str | None = Field(
        default=None,
        max_length=200,
        description="Words of the name in any form and order, or a code prefix (B01.047).",
    )
    category: ServiceCategory | None = None


class TariffQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: dt.date | None = Field(default=None, description="Defaults to today (Moscow time).")
    organization_id: UUID | None = Field(
        default=None,
        description="The organization that rendered the service; this or `region` is required.",
    )
    region: str | None = Field(
        default=None,
        pattern=r"^\d{2}$",
        description="Two-digit region code, e.g. 77; this or `organization_id` is required.",
    )


class OrganizationList(BaseModel):
    items: list[OrganizationCard]
    next_cursor: str | None


class ServiceList(BaseModel):
    items: list[MedicalService]
    next_cursor: str | None


@router.get("/organizations", response_model=OrganizationList)
async def search_organizations(
    query: Annotated[OrganizationQuery, Query()], rpc: RpcDep, settings: SettingsDep
) -> OrganizationList:
    page = await _registry(
        rpc,
        settings,
        SEARCH_ORGANIZATIONS,
        SearchOrganizations(**query.model_dump()),
        OrganizationPage,
    )
    return OrganizationList(items=list(page.items), next_cursor=page.next_cursor)


@router.get("/organizations/{organization_id}", response_model=OrganizationCard)
async def get_organization(
    organization_id: UUID, rpc: RpcDep, settings: SettingsDep
) -> OrganizationCard:
    view = await _registry(
        rpc,
        settings,
        GET_ORGANIZATIONS,
        GetOrganizations(ids=(organization_id,)),
        OrganizationsView,
    )
    if not view.items:
        raise ServiceError(ErrorCode.NOT_FOUND, "Организация не найдена.")
    return view.items[0]


@router.get("/specialists/{specialist_id}", response_model=SpecialistCard)
async def get_specialist(specialist_id: UUID, rpc: RpcDep, settings: SettingsDep) -> SpecialistCard:
    view = await _registry(
        rpc, settings, GET_SPECIALISTS, GetSpecialists(ids=(specialist_id,)), SpecialistsView
    )
    if not view.items:
        raise ServiceError(ErrorCode.NOT_FOUND, "Специалист не найден.")
    return view.items[0]


@router.get("/catalog/services", response_model=ServiceList)
async def search_services(
    query: Annotated[ServiceQuery, Query()], rpc: RpcDep, settings: SettingsDep
) -> ServiceList:
    page = await _registry(
        rpc, settings, SEARCH_SERVICES, SearchServices(**query.model_dump()), ServicePage
    )
    return ServiceList(items=list(page.items), next_cursor=page.next_cursor)


@router.get("/catalog/services/{code}/tariff", response_model=Tariff)
async def get_tariff(
    code: Annotated[str, Path(pattern=NOMENCLATURE_CODE_PATTERN)],
    query: Annotated[TariffQuery, Query()],
    rpc: RpcDep,
    settings: SettingsDep,
) -> Tariff:
    """The tariff in force on a date: the organization's own price, else its region's."""
    if query.organization_id is None and query.region is None:
        raise ServiceError(
            ErrorCode.VALIDATION_FAILED,
            "Укажите организацию (organization_id) или регион (region) для поиска тарифа.",
        )
    on = query.date or dt.datetime.now(MOSCOW).date()
    view = await _registry(
        rpc,
        settings,
        GET_TARIFF,
        GetTariff(
            service_code=code,
            on=on,
            organization_id=query.organization_id,
            region_code=query.region,
        ),
        TariffView,
    )
    if view.tariff is None:
        raise ServiceError(
            ErrorCode.NOT_FOUND, f"Тариф на услугу {code} на {on:%d.%m.%Y} не установлен."
        )
    return view.tariff
