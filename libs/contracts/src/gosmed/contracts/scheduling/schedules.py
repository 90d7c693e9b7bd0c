"""What clinics publish to scheduling: their schedules, slot by slot, through the clinics' door
(exchange `gosmed.clinic-intake`, routing key `scheduling.publish-schedule`, AMQP `user_id` of
the clinic), and what scheduling tells a clinic on its own queue
`clinic.<organization_id>.appointments` (AppointmentBooked, AppointmentCancelled)."""

from datetime import date
from enum import StrEnum
from typing import Self
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

from gosmed.contracts.access import AccessContext
from gosmed.contracts.base import Contract, Message
from gosmed.contracts.registry.specialties import Specialty
from gosmed.contracts.rpc import Rpc
from gosmed.contracts.topology import Service
from gosmed.contracts.types import OmsPolicy, Snils

PUBLISH_SCHEDULE = "publish-schedule"
MAX_SLOTS = 200
MAX_PREPARATIONS = 5
MAX_PREPARATION_LENGTH = 1000
MAX_VERSION = 2**63 - 1


class SlotKind(StrEnum):
    FIRST_VISIT = "first_visit"
    REPEAT = "repeat"
    PROCEDURE = "procedure"


class Preparation(Contract):
    """How to prepare for one service of a slot (Russian text shown to the patient)."""

    service_code: str = Field(min_length=1, max_length=50)
    text: str = Field(min_length=1, max_length=MAX_PREPARATION_LENGTH)


class ClinicSlot(Contract):
    """One slot of a clinic's schedule. A slot is known by (organization, `clinic_slot_id`);
    a version not above the stored one changes nothing (idempotent re-sends)."""

    clinic_slot_id: str = Field(min_length=1, max_length=100)
    version: int = Field(
        ge=0, le=MAX_VERSION, description="Grows with every change of the slot by the clinic."
    )
    specialist_id: UUID = Field(description="Registry id of the specialist.")
    specialty: Specialty
    department: str = Field(min_length=1, max_length=300)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    room: str = Field(min_length=1, max_length=50, description="Кабинет.")
    service_codes: tuple[str, ...] = Field(min_length=1, max_length=20)
    kind: SlotKind
    preparations: tuple[Preparation, ...] = Field(default=(), max_length=MAX_PREPARATIONS)
    withdrawn: bool = Field(default=False, description="The clinic takes the slot back.")
    taken: bool = Field(
        default=False, description="Already booked at the clinic itself (not offered)."
    )

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at должен быть позже starts_at")
        return self


class PublishSchedule(Message):
    """A clinic's slots (one or a batch of up to 200)."""

    organization_id: UUID
    slots: tuple[ClinicSlot, ...] = Field(min_length=1, max_length=MAX_SLOTS)


class PublishScheduleForOrganization(PublishSchedule):
    """A staff member of the clinic publishes or withdraws (`withdrawn`) its slots in its name
    (on the organization's power of attorney with the scope `manage_schedules`), as the
    clinic's broker integration would with `PublishSchedule`."""

    context: AccessContext


class ScheduleAccepted(Contract):
    """The answer to `PublishSchedule` (to `reply_to`, one of the clinic's own queues)."""

    message_id: UUID
    changed: int = Field(description="Slots added or changed.")
    unchanged: int = Field(description="Slots whose version was not newer than the stored one.")


class AppointmentPatient(Contract):
    snils: Snils
    oms_policy: OmsPolicy | None = None
    full_name: str = Field(max_length=1000)
    birth_date: date


class AppointmentBooked(Message):
    """Sent to `clinic.<organization_id>.appointments` when a patient books a slot."""

    appointment_id: UUID
    organization_id: UUID
    clinic_slot_id: str = Field(max_length=100)
    specialist_id: UUID
    starts_at: AwareDatetime
    service_code: str | None = Field(default=None, max_length=50)
    patient: AppointmentPatient


class AppointmentCancelled(Message):
    """Sent to `clinic.<organization_id>.appointments` when an appointment is cancelled."""

    appointment_id: UUID
    organization_id: UUID
    clinic_slot_id: str = Field(max_length=100)
    starts_at: AwareDatetime
    reason: str = Field(max_length=50, description="`patient` or `withdrawn` (by the clinic).")


PUBLISH_SCHEDULE_FOR_ORGANIZATION = Rpc(
    Service.SCHEDULING,
    "publish-schedule-for-organization",
    PublishScheduleForOrganization,
    ScheduleAccepted,
)
