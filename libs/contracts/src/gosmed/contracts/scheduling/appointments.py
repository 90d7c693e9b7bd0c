"""Citizens' side of scheduling: free slots, booking, appointments (RPCs the edge calls)."""

from datetime import date
from enum import StrEnum
from uuid import UUID

from pydantic import AwareDatetime, Field

from gosmed.contracts.access import AccessContext
from gosmed.contracts.base import Contract, Message
from gosmed.contracts.registry.specialties import Specialty
from gosmed.contracts.rpc import Rpc
from gosmed.contracts.scheduling.schedules import Preparation, SlotKind
from gosmed.contracts.topology import Service

MAX_PAGE = 100


class Place(Contract):
    """Who and where: filled from the registry's cards (None while the registry is unknown)."""

    organization_id: UUID
    organization_name: str | None = Field(default=None, max_length=300)
    organization_address: str | None = Field(default=None, max_length=1000)
    specialist_id: UUID
    doctor_name: str | None = Field(default=None, max_length=300)
    specialty: Specialty
    department: str = Field(max_length=300)
    room: str = Field(max_length=50)


class FreeSlot(Contract):
    id: UUID = Field(description="The portal's slot id (book it with this).")
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    place: Place
    service_codes: tuple[str, ...] = Field(max_length=20)
    kind: SlotKind


class ListFreeSlots(Message):
    """Free slots, soonest first; `date_from`/`date_to` are days in Moscow time."""

    organization_id: UUID | None = None
    specialist_id: UUID | None = None
    specialty: Specialty | None = None
    service_code: str | None = Field(default=None, max_length=50)
    date_from: date | None = None
    date_to: date | None = None
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=20, ge=1, le=MAX_PAGE)


class SlotsPage(Contract):
    items: tuple[FreeSlot, ...]
    next_cursor: str | None = None


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"


class Appointment(Contract):
    """The appointment card."""

    id: UUID
    patient_id: UUID
    slot_id: UUID
    status: AppointmentStatus
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    place: Place
    service_code: str | None = Field(default=None, max_length=50)
    kind: SlotKind
    preparation: tuple[Preparation, ...] = ()
    booked_at: AwareDatetime
    cancelled_at: AwareDatetime | None = None
    cancel_reason: str | None = Field(default=None, max_length=300)


class BookAppointment(Message):
    context: AccessContext
    slot_id: UUID
    service_code: str | None = Field(
        default=None, max_length=50, description="One of the slot's services (its first if unset)."
    )


class ListAppointments(Message):
    """The patient's appointments: upcoming first (soonest first), then past (latest first);
    a page at a time, the next one after `cursor`."""

    context: AccessContext
    status: AppointmentStatus | None = None
    cursor: str | None = Field(
        default=None, max_length=300, description="`next_cursor` of the previous page."
    )
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)


class AppointmentList(Contract):
    items: tuple[Appointment, ...]
    next_cursor: str | None = Field(
        default=None, description="Where the next page starts; None on the last page."
    )


class GetAppointment(Message):
    context: AccessContext
    appointment_id: UUID


class CancelAppointment(Message):
    context: AccessContext
    appointment_id: UUID


LIST_FREE_SLOTS = Rpc(Service.SCHEDULING, "list-free-slots", ListFreeSlots, SlotsPage)
BOOK_APPOINTMENT = Rpc(Service.SCHEDULING, "book-appointment", BookAppointment, Appointment)
LIST_APPOINTMENTS = Rpc(Service.SCHEDULING, "list-appointments", ListAppointments, AppointmentList)
GET_APPOINTMENT = Rpc(Service.SCHEDULING, "get-appointment", GetAppointment, Appointment)
CANCEL_APPOINTMENT = Rpc(Service.SCHEDULING, "cancel-appointment", CancelAppointment, Appointment)
