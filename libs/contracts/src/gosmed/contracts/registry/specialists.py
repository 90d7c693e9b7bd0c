"""Specialists: the profile clinics upsert, the card readers get, batch-get, list and the
event."""

from datetime import date
from uuid import UUID

from pydantic import AwareDatetime, Field

from gosmed.contracts import topology
from gosmed.contracts.base import Contract, Message
from gosmed.contracts.registry.organizations import MAX_BATCH, ListCards
from gosmed.contracts.registry.specialties import Specialty
from gosmed.contracts.registry.values import ContactPhone, Email
from gosmed.contracts.rpc import Rpc
from gosmed.contracts.topology import Service

UPSERT_SPECIALIST = "upsert-specialist"
SPECIALIST_UPDATED = topology.event_key(topology.Service.REGISTRY, "specialist-updated")


class SpecialistProfile(Contract):
    """What a clinic says about a specialist; `updated_at` versions every change."""

    id: UUID = Field(description="Registry id of the specialist (stable across moves).")
    full_name: str = Field(min_length=1, max_length=300, description="«Фамилия Имя Отчество».")
    specialty: Specialty
    organization_id: UUID
    department_id: UUID | None = None
    certificate_number: str = Field(
        min_length=1,
        max_length=64,
        description="Accreditation (or specialist certificate) number.",
    )
    certificate_valid_until: date
    work_phone: ContactPhone | None = None
    work_email: Email | None = None
    updated_at: AwareDatetime = Field(description="When the sender changed the profile (UTC).")


class SpecialistCard(SpecialistProfile):
    """A specialist as readers see it: the clinic's profile plus the citizens' rating."""

    rating: float | None = Field(
        default=None, ge=1, le=5, description="Average review score; None before any review."
    )
    reviews_count: int = Field(default=0, ge=0)


class GetSpecialists(Message):
    """Batch-get: the cards of up to 200 specialists in one round trip."""

    ids: tuple[UUID, ...] = Field(min_length=1, max_length=MAX_BATCH)


class SpecialistsView(Contract):
    items: tuple[SpecialistCard, ...]
    missing: tuple[UUID, ...] = Field(description="Asked-for ids the registry does not know.")


class SpecialistList(Contract):
    items: tuple[SpecialistCard, ...]
    next_after: UUID | None = Field(
        default=None, description="`after` of the next page; None: this was the last page."
    )


class UpsertSpecialist(Message):
    """A clinic or operator creates or replaces a specialist's profile (newest `updated_at`
    wins); the rating stays the registry's."""

    specialist: SpecialistProfile


class SpecialistUpdated(Message):
    """A specialist's card changed; the card as it is now."""

    specialist: SpecialistCard


GET_SPECIALISTS = Rpc(Service.REGISTRY, "get-specialists", GetSpecialists, SpecialistsView)
LIST_SPECIALISTS = Rpc(Service.REGISTRY, "list-specialists", ListCards, SpecialistList)
