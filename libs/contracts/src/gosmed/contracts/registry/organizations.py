"""Medical organizations: the card clinics upsert, the batch-get, search and list queries, the
event."""

from datetime import date
from typing import Annotated
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, Field, computed_field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from gosmed.contracts import topology
from gosmed.contracts.base import Contract, Message
from gosmed.contracts.registry.specialties import Specialty
from gosmed.contracts.registry.values import (
    ContactPhone,
    Cursor,
    Email,
    Kpp,
    RegionCode,
    WebUrl,
)
from gosmed.contracts.rpc import Rpc
from gosmed.contracts.topology import Service
from gosmed.contracts.types import Inn, LocalTime, Ogrn

UPSERT_ORGANIZATION = "upsert-organization"
ORGANIZATION_UPDATED = topology.event_key(topology.Service.REGISTRY, "organization-updated")
MAX_BATCH = 200
MAX_ACTIVITY_LENGTH = 500


class Address(Contract):
    """A postal address with coordinates."""

    postal_code: str = Field(pattern=r"^[0-9]{6}$", description="Six-digit postal code.")
    region: str = Field(min_length=1, max_length=200, description="e.g. «Московская область».")
    region_code: RegionCode
    city: str = Field(min_length=1, max_length=200, description="e.g. «г. Химки».")
    street: str = Field(min_length=1, max_length=200, description="e.g. «ул. Ленина».")
    house: str = Field(min_length=1, max_length=20)
    building: str | None = Field(default=None, max_length=20, description="Корпус/строение.")
    room: str | None = Field(default=None, max_length=20, description="Помещение/офис.")
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def one_line(self) -> str:
        """The address as a citizen reads it: «141400, Московская область, г. Химки, ...»."""
        parts = [self.postal_code]
        if self.region not in self.city:
            parts.append(self.region)
        parts += [self.city, self.street, f"д. {self.house}"]
        if self.building:
            parts.append(f"корп. {self.building}")
        if self.room:
            parts.append(f"пом. {self.room}")
        return ", ".join(parts)


class License(Contract):
    """A licence for medical activity."""

    number: str = Field(min_length=1, max_length=64, description="e.g. «Л041-01137-77/00368633».")
    issued_on: date
    valid_until: date | None = Field(default=None, description="None: valid indefinitely.")
    activities: tuple[Annotated[str, Field(max_length=MAX_ACTIVITY_LENGTH)], ...] = Field(
        min_length=1, max_length=200, description="Licensed kinds of activity (works, services)."
    )


class OpeningHours(Contract):
    """Opening and closing time of one day, local time of the organization."""

    opens: LocalTime
    closes: LocalTime

    @model_validator(mode="after")
    def _ordered(self) -> "OpeningHours":
        if self.closes <= self.opens:
            raise PydanticCustomError("hours_order", "время закрытия должно быть позже открытия")
        return self


class WeekdayHours(OpeningHours):
    weekday: int = Field(ge=1, le=7, description="ISO weekday: 1 is Monday, 7 is Sunday.")


class ExceptionDay(Contract):
    """A day with its own hours (a working holiday, a short day) or closed (hours None)."""

    day: date
    hours: OpeningHours | None = Field(default=None, description="None: closed that day.")
    note: str | None = Field(default=None, max_length=200)


class WorkingHours(Contract):
    """Weekly hours plus exception days; public holidays of Russia are closed unless the
    organization works on them or an exception day says otherwise."""

    timezone: str = Field(
        default="Europe/Moscow", max_length=64, description="IANA time zone of the address."
    )
    weekly: tuple[WeekdayHours, ...] = Field(
        max_length=7, description="One entry per working weekday; a missing weekday is closed."
    )
    works_on_public_holidays: bool = False
    exceptions: tuple[ExceptionDay, ...] = Field(default=(), max_length=400)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise PydanticCustomError("timezone_unknown", "неизвестный часовой пояс") from None
        return value

    @field_validator("weekly")
    @classmethod
    def _one_entry_per_weekday(cls, value: tuple[WeekdayHours, ...]) -> tuple[WeekdayHours, ...]:
        if len({d.weekday for d in value}) != len(value):
            raise PydanticCustomError("weekday_repeated", "день недели указан дважды")
        return value


class Department(Contract):
    id: UUID
    name: str = Field(min_length=1, max_length=300)


class OrganizationCard(Contract):
    """A medical organization as the registry knows it; `updated_at` versions every change."""

    id: UUID = Field(description="Registry id; clinics derive it with uuid5 from their OGRN.")
    full_name: str = Field(min_length=1, max_length=1000, description="Full official name.")
    short_name: str = Field(min_length=1, max_length=300)
    inn: Inn
    kpp: Kpp | None = Field(default=None, description="Required for a legal entity.")
    ogrn: Ogrn
    legal_form: str = Field(min_length=1, max_length=200, description="e.g. «ГБУЗ», «ООО».")
    address: Address
    phones: tuple[ContactPhone, ...] = Field(default=(), max_length=20)
    email: Email | None = None
    website: WebUrl | None = None
    licenses: tuple[License, ...] = Field(default=(), max_length=50)
    specializations: tuple[Specialty, ...] = Field(default=(), max_length=100)
    working_hours: WorkingHours
    departments: tuple[Department, ...] = Field(default=(), max_length=500)
    updated_at: AwareDatetime = Field(description="When the sender changed the card (UTC).")
    rating: float | None = Field(
        default=None,
        ge=1,
        le=5,
        description="Average review score from feedback; None before any review. The "
        "registry's own: a clinic's upsert cannot set it.",
    )
    reviews_count: int = Field(default=0, ge=0, description="Published reviews.")

    @model_validator(mode="after")
    def _numbers_agree(self) -> "OrganizationCard":
        if len(self.inn) == 10 and len(self.ogrn) != 13:
            raise PydanticCustomError(
                "ogrn_kind", "ОГРН юридического лица (ИНН из 10 цифр) должен содержать 13 цифр"
            )
        if len(self.inn) == 12 and len(self.ogrn) != 15:
            raise PydanticCustomError(
                "ogrn_kind", "ОГРНИП предпринимателя (ИНН из 12 цифр) должен содержать 15 цифр"
            )
        if len(self.inn) == 10 and self.kpp is None:
            raise PydanticCustomError("kpp_missing", "КПП обязателен для юридического лица")
        return self


class GetOrganizations(Message):
    """Batch-get: the cards of up to 200 organizations in one round trip."""

    ids: tuple[UUID, ...] = Field(min_length=1, max_length=MAX_BATCH)


class OrganizationsView(Contract):
    items: tuple[OrganizationCard, ...]
    missing: tuple[UUID, ...] = Field(description="Asked-for ids the registry does not know.")


class SearchOrganizations(Message):
    """Organizations by name words, city, specialization and open now, ordered by short name."""

    q: str | None = Field(default=None, max_length=200, description="Words of the name.")
    city: str | None = Field(default=None, max_length=200)
    specialization: Specialty | None = None
    open_now: bool = False
    cursor: Cursor | None = None
    limit: int = Field(default=20, ge=1, le=100)


class OrganizationPage(Contract):
    items: tuple[OrganizationCard, ...]
    next_cursor: Cursor | None = None


class ListCards(Message):
    """Every card of one kind (organizations or specialists) in id order, a page at a time: for
    services that keep their own copy of the cards they show."""

    after: UUID | None = Field(
        default=None, description="`next_after` of the previous page; None: the first page."
    )
    limit: int = Field(default=MAX_BATCH, ge=1, le=MAX_BATCH)


class OrganizationList(Contract):
    items: tuple[OrganizationCard, ...]
    next_after: UUID | None = Field(
        default=None, description="`after` of the next page; None: this was the last page."
    )


class UpsertOrganization(Message):
    """A clinic or operator creates or replaces an organization's card (newest `updated_at`
    wins)."""

    organization: OrganizationCard


class OrganizationUpdated(Message):
    """An organization's card changed; the card as it is now."""

    organization: OrganizationCard


GET_ORGANIZATIONS = Rpc(Service.REGISTRY, "get-organizations", GetOrganizations, OrganizationsView)
SEARCH_ORGANIZATIONS = Rpc(
    Service.REGISTRY, "search-organizations", SearchOrganizations, OrganizationPage
)
LIST_ORGANIZATIONS = Rpc(Service.REGISTRY, "list-organizations", ListCards, OrganizationList)
