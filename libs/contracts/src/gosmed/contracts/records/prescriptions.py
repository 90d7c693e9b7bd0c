"""Prescriptions and referrals: clinics report them through the door, patients (and whoever
their legal basis allows) read them."""

from datetime import date
from uuid import UUID

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from gosmed.contracts.access import AccessContext
from gosmed.contracts.base import Contract, Message
from gosmed.contracts.records.intake import MAX_BATCH, ClinicVersion
from gosmed.contracts.registry.specialties import Specialty
from gosmed.contracts.rpc import Rpc
from gosmed.contracts.topology import Service
from gosmed.contracts.types import Snils

PRESCRIPTIONS = "prescriptions"
"""Command queue name: `topology.command_queue(Service.RECORDS, PRESCRIPTIONS)`."""
REFERRALS = "referrals"
"""Command queue name: `topology.command_queue(Service.RECORDS, REFERRALS)`."""
MAX_PAGE = 100


class ReportedPrescription(Contract):
    """One prescription as the clinic's information system knows it."""

    clinic_prescription_id: str = Field(
        min_length=1, max_length=64, description="The clinic's own id of the prescription."
    )
    version: ClinicVersion = 1
    patient_snils: Snils
    specialist_id: UUID | None = Field(default=None, description="Registry id of the doctor.")
    medicine: str = Field(min_length=1, max_length=300, description="Medicine (INN or trade name).")
    dose: str = Field(min_length=1, max_length=100, description="E.g. «500 мг».")
    schedule: str = Field(
        min_length=1, max_length=300, description="How to take it, e.g. «2 раза в день»."
    )
    issued_on: date
    start_on: date
    end_on: date | None = Field(default=None, description="None: until cancelled.")
    preferential: bool = Field(
        default=False, description="A «льготный» prescription (free or discounted medicine)."
    )

    @model_validator(mode="after")
    def _dates_in_order(self) -> "ReportedPrescription":
        if self.end_on is not None and self.end_on < self.start_on:
            raise PydanticCustomError("date_order", "дата окончания раньше даты начала")
        return self


class ReportPrescriptions(Message):
    """A clinic reports prescriptions (queue `records.prescriptions`); `reply_to` as for
    rendered services gets a `ReportAccepted`."""

    organization_id: UUID = Field(description="Registry id of the reporting organization.")
    prescriptions: tuple[ReportedPrescription, ...] = Field(min_length=1, max_length=MAX_BATCH)


class ReportedReferral(Contract):
    """One referral as the clinic's information system knows it."""

    clinic_referral_id: str = Field(
        min_length=1, max_length=64, description="The clinic's own id of the referral."
    )
    version: ClinicVersion = 1
    patient_snils: Snils
    specialist_id: UUID | None = Field(default=None, description="Registry id of the doctor.")
    to_whom: str = Field(
        min_length=1,
        max_length=300,
        description="To whom, as worded: a specialist, a department, a study.",
    )
    to_specialty: Specialty | None = None
    to_organization_id: UUID | None = Field(
        default=None, description="Registry id of the organization referred to, if known."
    )
    reason: str = Field(min_length=1, max_length=500, description="Why, as worded by the doctor.")
    issued_on: date
    valid_until: date

    @model_validator(mode="after")
    def _dates_in_order(self) -> "ReportedReferral":
        if self.valid_until < self.issued_on:
            raise PydanticCustomError("date_order", "срок действия кончается до даты выдачи")
        return self


class ReportReferrals(Message):
    """A clinic reports referrals (queue `records.referrals`); `reply_to` as for rendered
    services gets a `ReportAccepted`."""

    organization_id: UUID = Field(description="Registry id of the reporting organization.")
    referrals: tuple[ReportedReferral, ...] = Field(min_length=1, max_length=MAX_BATCH)


class PrescriptionView(Contract):
    id: UUID
    organization_id: UUID
    specialist_id: UUID | None = None
    medicine: str
    dose: str
    schedule: str
    issued_on: date
    start_on: date
    end_on: date | None = None
    preferential: bool


class ReferralView(Contract):
    id: UUID
    organization_id: UUID
    specialist_id: UUID | None = None
    to_whom: str
    to_specialty: Specialty | None = None
    to_organization_id: UUID | None = None
    reason: str
    issued_on: date
    valid_until: date


class ListPrescriptions(Message):
    """A page of the patient's prescriptions, newest first."""

    context: AccessContext
    cursor: str | None = Field(default=None, max_length=200, description="From `next_cursor`.")
    limit: int = Field(default=20, ge=1, le=MAX_PAGE)


class PrescriptionsPage(Contract):
    items: tuple[PrescriptionView, ...]
    next_cursor: str | None = None


class ListReferrals(Message):
    """A page of the patient's referrals, newest first."""

    context: AccessContext
    cursor: str | None = Field(default=None, max_length=200, description="From `next_cursor`.")
    limit: int = Field(default=20, ge=1, le=MAX_PAGE)


class ReferralsPage(Contract):
    items: tuple[ReferralView, ...]
    next_cursor: str | None = None


LIST_PRESCRIPTIONS = Rpc(
    Service.RECORDS, "list-prescriptions", ListPrescriptions, PrescriptionsPage
)
LIST_REFERRALS = Rpc(Service.RECORDS, "list-referrals", ListReferrals, ReferralsPage)
