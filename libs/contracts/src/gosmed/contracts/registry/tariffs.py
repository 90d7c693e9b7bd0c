"""Official prices of medical services and the normative documents that fix them."""

from datetime import date
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator
from pydantic_core import PydanticCustomError

from gosmed.contracts.base import Contract, Message
from gosmed.contracts.registry.values import NomenclatureCode, RegionCode, WebUrl
from gosmed.contracts.rpc import Rpc
from gosmed.contracts.topology import Service
from gosmed.contracts.types import Kopecks

UPSERT_TARIFF = "upsert-tariff"


class NormativeDocument(Contract):
    """The act that fixes a price, so a citizen can check a charged amount."""

    title: str = Field(min_length=1, max_length=1000, description="e.g. «Тарифное соглашение».")
    number: str = Field(min_length=1, max_length=100)
    date: date
    url: WebUrl


class Tariff(Contract):
    """The price of a service in a region or at one organization, for a period of dates.

    Exactly one of `region_code` and `organization_id` is set; an organization's own tariff
    takes precedence over its region's.
    """

    service_code: NomenclatureCode
    price: Kopecks
    effective_from: date
    effective_to: date | None = Field(default=None, description="Inclusive; None: open-ended.")
    region_code: RegionCode | None = None
    organization_id: UUID | None = None
    document: NormativeDocument
    updated_at: AwareDatetime = Field(description="When the sender changed the tariff (UTC).")

    @model_validator(mode="after")
    def _valid_scope_and_period(self) -> "Tariff":
        if (self.region_code is None) == (self.organization_id is None):
            raise PydanticCustomError(
                "tariff_scope", "тариф устанавливается либо для региона, либо для организации"
            )
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise PydanticCustomError(
                "tariff_period", "дата окончания действия тарифа раньше даты начала"
            )
        return self


class GetTariff(Message):
    """The tariff in force for a service on a date: the organization's own, else its region's
    (`region_code`, or the organization's address when None)."""

    service_code: NomenclatureCode
    on: date
    organization_id: UUID | None = None
    region_code: RegionCode | None = None


class TariffView(Contract):
    tariff: Tariff | None = Field(description="None: no tariff in force on that date.")


class UpsertTariff(Message):
    """A registry operator creates or replaces a tariff, keyed by service, region or
    organization and start date (newest `updated_at` wins)."""

    tariff: Tariff


GET_TARIFF = Rpc(Service.REGISTRY, "get-tariff", GetTariff, TariffView)
