"""Bookings and cancellations made for someone else, announced for the patient's access
journal (records keeps it): who acted, on which legal basis, what and when."""

from enum import StrEnum
from uuid import UUID

from pydantic import AwareDatetime, Field

from gosmed.contracts import topology
from gosmed.contracts.access import Actor, LegalBasis
from gosmed.contracts.base import Message

APPOINTMENT_ACTED_FOR = topology.event_key(topology.Service.SCHEDULING, "appointment-acted-for")


class AppointmentAction(StrEnum):
    BOOK = "book_appointment"
    CANCEL = "cancel_appointment"


class AppointmentActedFor(Message):
    """A person booked or cancelled an appointment of a patient other than themselves (a
    parent, a representative); identity's decision gives the actor and the basis."""

    patient_id: UUID = Field(description="Account id of the patient the appointment is for.")
    actor_id: UUID = Field(description="Account id of the person who acted.")
    actor: Actor | None = Field(
        default=None, description="Who the actor is, as identity described them at that moment."
    )
    basis: LegalBasis | None = None
    basis_document_id: str | None = Field(
        default=None, description="Power of attorney id, as identity's decision names it."
    )
    basis_label: str = Field(
        default="", description="Human label, e.g. «доверенность № 77 АА 1234567»."
    )
    action: AppointmentAction
    appointment_id: UUID
    at: AwareDatetime = Field(description="When the booking or cancellation was made.")
