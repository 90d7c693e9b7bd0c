"""The nomenclature of medical services and the portal's eight categories that group it."""

from enum import StrEnum

from pydantic import AwareDatetime, Field

from gosmed.contracts.base import Contract, Message
from gosmed.contracts.registry.values import Cursor, NomenclatureCode
from gosmed.contracts.rpc import Rpc
from gosmed.contracts.topology import Service

UPSERT_SERVICE = "upsert-service"


class ServiceCategory(StrEnum):
    OUTPATIENT_VISIT = "outpatient_visit"
    INPATIENT = "inpatient"
    LABORATORY = "laboratory"
    IMAGING = "imaging"
    PREVENTION = "prevention"
    REHABILITATION = "rehabilitation"
    DENTISTRY = "dentistry"
    PAID = "paid"


CATEGORY_TITLES: dict[ServiceCategory, str] = {
    ServiceCategory.OUTPATIENT_VISIT: "Амбулаторные приёмы",
    ServiceCategory.INPATIENT: "Стационарное лечение и операции",
    ServiceCategory.LABORATORY: "Лабораторные исследования",
    ServiceCategory.IMAGING: "Лучевая и инструментальная диагностика",
    ServiceCategory.PREVENTION: "Профилактика: прививки и обследования",
    ServiceCategory.REHABILITATION: "Реабилитация: физиотерапия, массаж",
    ServiceCategory.DENTISTRY: "Стоматология",
    ServiceCategory.PAID: "Платные услуги",
}


class MedicalService(Contract):
    """One entry of the nomenclature of medical services."""

    code: NomenclatureCode
    name: str = Field(
        min_length=1,
        max_length=1000,
        description="e.g. «Прием (осмотр, консультация) врача-терапевта первичный».",
    )
    category: ServiceCategory = Field(description="Which of the portal's eight categories.")
    updated_at: AwareDatetime = Field(description="When the sender changed the entry (UTC).")


class SearchServices(Message):
    """Nomenclature entries whose name has every query word (in any word order and form the
    catalogue uses) or whose code starts with the query, ordered by code."""

    q: str | None = Field(default=None, max_length=200, description="Words or a code prefix.")
    category: ServiceCategory | None = None
    cursor: Cursor | None = None
    limit: int = Field(default=20, ge=1, le=100)


class ServicePage(Contract):
    items: tuple[MedicalService, ...]
    next_cursor: Cursor | None = None


class UpsertService(Message):
    """A registry operator creates or replaces a nomenclature entry (newest `updated_at` wins)."""

    service: MedicalService


SEARCH_SERVICES = Rpc(Service.REGISTRY, "search-services", SearchServices, ServicePage)
