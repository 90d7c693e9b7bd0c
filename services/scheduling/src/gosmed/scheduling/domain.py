"""The rules of booking, free of storage and messaging."""

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5
from zoneinfo import ZoneInfo

from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.registry.specialties import Specialty
from gosmed.contracts.scheduling.appointments import (
    Appointment,
    AppointmentStatus,
    FreeSlot,
    Place,
)
from gosmed.contracts.scheduling.schedules import ClinicSlot, Preparation, SlotKind
from gosmed.runtime.cursor import decode_cursor, encode_cursor

MOSCOW = ZoneInfo("Europe/Moscow")
SLOT_TAKEN = "Это время уже заняли: выберите другое."
SLOT_IN_PAST = "Это время уже прошло: выберите другое."
SLOT_NOT_FOUND = "Свободное время не найдено."
ONE_A_DAY = "На этот день у пациента уже есть запись к этому врачу."
APPOINTMENT_NOT_FOUND = "Запись на приём не найдена."
ALREADY_CANCELLED = "Запись уже отменена."
STARTED = "Приём уже начался: отменить запись нельзя."
UNKNOWN_SERVICE = "На это время нельзя записаться на такую услугу."


class SlotStatus:
    FREE = "free"
    BOOKED = "booked"


def slot_id_of(organization_id: UUID, clinic_slot_id: str) -> UUID:
    """The portal's id of a clinic's slot: the same for every re-send of it."""
    return uuid5(NAMESPACE_URL, f"gosmed:slot:{organization_id}:{clinic_slot_id}")


def local_day(moment: datetime) -> date:
    """The day of a moment in clinic time (Moscow)."""
    return moment.astimezone(MOSCOW).date()


def day_key(patient_id: UUID, specialist_id: UUID, moment: datetime) -> str:
    """What at most one active appointment may hold: one patient, one specialist, one day."""
    return f"{patient_id}:{specialist_id}:{local_day(moment).isoformat()}"


@dataclass(frozen=True)
class Slot:
    id: UUID
    organization_id: UUID
    clinic_slot_id: str
    version: int
    specialist_id: UUID
    specialty: Specialty
    department: str
    room: str
    starts_at: datetime
    ends_at: datetime
    service_codes: tuple[str, ...]
    kind: SlotKind
    preparations: tuple[Preparation, ...]
    withdrawn: bool
    status: str
    appointment_id: UUID | None = None

    @classmethod
    def of(cls, organization_id: UUID, slot: ClinicSlot) -> "Slot":
        return cls(
            id=slot_id_of(organization_id, slot.clinic_slot_id),
            organization_id=organization_id,
            clinic_slot_id=slot.clinic_slot_id,
            version=slot.version,
            specialist_id=slot.specialist_id,
            specialty=slot.specialty,
            department=slot.department,
            room=slot.room,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            service_codes=slot.service_codes,
            kind=slot.kind,
            preparations=slot.preparations,
            withdrawn=slot.withdrawn,
            status=SlotStatus.BOOKED if slot.taken else SlotStatus.FREE,
        )

    def place(self, cards: "Cards") -> Place:
        organization = cards.organizations.get(self.organization_id)
        return Place(
            organization_id=self.organization_id,
            organization_name=organization.name if organization else None,
            organization_address=organization.address if organization else None,
            specialist_id=self.specialist_id,
            doctor_name=cards.doctors.get(self.specialist_id),
            specialty=self.specialty,
            department=self.department,
            room=self.room,
        )

    def free(self, cards: "Cards") -> FreeSlot:
        return FreeSlot(
            id=self.id,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            place=self.place(cards),
            service_codes=self.service_codes,
            kind=self.kind,
        )


@dataclass(frozen=True)
class OrganizationCard:
    name: str
    address: str


@dataclass(frozen=True)
class Cards:
    """Names and addresses from the registry (absent when it did not answer)."""

    organizations: dict[UUID, OrganizationCard]
    doctors: dict[UUID, str]


def check_bookable(slot: Slot | None, now: datetime) -> Slot:
    """The slot a patient may try to take; the status is decided by the store atomically."""
    if slot is None or slot.withdrawn:
        raise ServiceError(ErrorCode.NOT_FOUND, SLOT_NOT_FOUND)
    if slot.starts_at <= now:
        raise ServiceError(ErrorCode.SLOT_IN_PAST, SLOT_IN_PAST)
    if slot.status != SlotStatus.FREE:
        raise ServiceError(ErrorCode.SLOT_TAKEN, SLOT_TAKEN)
    return slot


def chosen_service(slot: Slot, service_code: str | None) -> str:
    if service_code is None:
        return slot.service_codes[0]
    if service_code not in slot.service_codes:
        raise ServiceError(ErrorCode.VALIDATION_FAILED, UNKNOWN_SERVICE)
    return service_code


def preparation_for(slot: Slot, service_code: str) -> tuple[Preparation, ...]:
    return tuple(p for p in slot.preparations if p.service_code == service_code)


def check_cancellable(appointment: Appointment, now: datetime) -> None:
    if appointment.status is AppointmentStatus.CANCELLED:
        raise ServiceError(ErrorCode.APPOINTMENT_CANCELLED, ALREADY_CANCELLED)
    if appointment.starts_at <= now:
        raise ServiceError(ErrorCode.APPOINTMENT_STARTED, STARTED)


def cancelled(appointment: Appointment, now: datetime, reason: str) -> Appointment:
    return appointment.model_copy(
        update={
            "status": AppointmentStatus.CANCELLED,
            "cancelled_at": now,
            "cancel_reason": reason,
        }
    )


class Phase(StrEnum):
    """The two parts of a patient's list: upcoming appointments (soonest first), then the past
    ones (latest first)."""

    UPCOMING = "upcoming"
    PAST = "past"


def _aware(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(text)
    return moment


@dataclass(frozen=True)
class ListPosition:
    """Where a page of a patient's appointments ended. `boundary` splits upcoming from past;
    it is the moment the first page was asked for and every later page keeps it, so an
    appointment that starts meanwhile is neither shown twice nor skipped."""

    boundary: datetime
    phase: Phase
    starts_at: datetime
    appointment_id: UUID

    @classmethod
    def after(cls, boundary: datetime, last: Appointment) -> "ListPosition":
        phase = Phase.UPCOMING if last.starts_at > boundary else Phase.PAST
        return cls(boundary, phase, last.starts_at, last.id)

    def encode(self) -> str:
        return encode_cursor(
            self.boundary.isoformat(),
            self.phase.value,
            self.starts_at.isoformat(),
            str(self.appointment_id),
        )

    @classmethod
    def decode(cls, cursor: str) -> "ListPosition":
        boundary, phase, starts_at, ident = decode_cursor(cursor, _aware, Phase, _aware, UUID)
        return cls(_aware(boundary), Phase(phase), _aware(starts_at), UUID(ident))
