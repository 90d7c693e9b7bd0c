"""Edge routes served by the registry service: public reads of organizations, specialists,
the nomenclature of medical services and tariffs."""

import datetime as dt
from typing import Annotated
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.registry.catalog import (
    SEARCH_SERVICES,
    MedicalService,
    SearchServices,
    ServiceCategory,
)
from gosmed.contracts.registry.organizations import (
    GET_ORGANIZATIONS,
    SEARCH_ORGANIZATIONS,
    GetOrganizations,
    OrganizationCard,
    SearchOrganizations,
)
from gosmed.contracts.registry.specialists import (
    GET_SPECIALISTS,
    GetSpecialists,
    SpecialistCard,
)
from gosmed.contracts.registry.specialties import Specialty
from gosmed.contracts.registry.tariffs import GET_TARIFF, GetTariff, Tariff
from gosmed.contracts.registry.values import NOMENCLATURE_CODE_PATTERN
from gosmed.contracts.types import IsoDate
from gosmed.edge.deps import RegistryDep

router = APIRouter(tags=["registry"])
MOSCOW = ZoneInfo("Europe/Moscow")


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

    date: IsoDate | None = Field(default=None, description="Defaults to today (Moscow time).")
    organization_id: UUID | None = Field(
        default=None,
        description="The organization that rendered the service; this or `region` is required.",
    )
    region: str | None = Field(
        default=None,
        pattern=r"^[0-9]{2}$",
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
    query: Annotated[OrganizationQuery, Query()], registry: RegistryDep
) -> OrganizationList:
    page = await registry.call(SEARCH_ORGANIZATIONS, SearchOrganizations(**query.model_dump()))
    return OrganizationList(items=list(page.items), next_cursor=page.next_cursor)


@router.get("/organizations/{organization_id}", response_model=OrganizationCard)
async def get_organization(organization_id: UUID, registry: RegistryDep) -> OrganizationCard:
    view = await registry.call(GET_ORGANIZATIONS, GetOrganizations(ids=(organization_id,)))
    if not view.items:
        raise ServiceError(ErrorCode.NOT_FOUND, "Организация не найдена.")
    return view.items[0]


@router.get("/specialists/{specialist_id}", response_model=SpecialistCard)
async def get_specialist(specialist_id: UUID, registry: RegistryDep) -> SpecialistCard:
    view = await registry.call(GET_SPECIALISTS, GetSpecialists(ids=(specialist_id,)))
    if not view.items:
        raise ServiceError(ErrorCode.NOT_FOUND, "Специалист не найден.")
    return view.items[0]


@router.get("/catalog/services", response_model=ServiceList)
async def search_services(
    query: Annotated[ServiceQuery, Query()], registry: RegistryDep
) -> ServiceList:
    page = await registry.call(SEARCH_SERVICES, SearchServices(**query.model_dump()))
    return ServiceList(items=list(page.items), next_cursor=page.next_cursor)


@router.get("/catalog/services/{code}/tariff", response_model=Tariff)
async def get_tariff(
    code: Annotated[str, Path(pattern=NOMENCLATURE_CODE_PATTERN)],
    query: Annotated[TariffQuery, Query()],
    registry: RegistryDep,
) -> Tariff:
    """The tariff in force on a date: the organization's own price, else its region's."""
    if query.organization_id is None and query.region is None:
        raise ServiceError(
            ErrorCode.VALIDATION_FAILED,
            "Укажите организацию (organization_id) или регион (region) для поиска тарифа.",
        )
    on = query.date or dt.datetime.now(MOSCOW).date()
    request = GetTariff(
        service_code=code, on=on, organization_id=query.organization_id, region_code=query.region
    )
    view = await registry.call(GET_TARIFF, request)
    if view.tariff is None:
        raise ServiceError(
            ErrorCode.NOT_FOUND, f"Тариф на услугу {code} на {on:%d.%m.%Y} не установлен."
        )
    return view.tariff
