"""What clinics send to records (rendered services) and what records sends back to them."""

import re
from datetime import date, time
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from gosmed.contracts.base import Contract, Message
from gosmed.contracts.records.views import Cost, Coverage, CoverageKind
from gosmed.contracts.registry.catalog import ServiceCategory
from gosmed.contracts.types import OmsPolicy, Snils

RENDERED_SERVICES = "rendered-services"
"""Command queue name: `topology.command_queue(Service.RECORDS, RENDERED_SERVICES)`."""
RECORD_ADDED = "record-added"
"""Event name: `topology.event_key(Service.RECORDS, RECORD_ADDED)`."""
MAX_BATCH = 500
MAX_PROCEDURE_LENGTH = 300
MAX_VERSION = 2**63 - 1
ClinicVersion = Annotated[
    int,
    Field(
        ge=1,
        le=MAX_VERSION,
        description="A higher version replaces a lower one; the same or a lower one changes "
        "nothing.",
    ),
]
"""The clinic's version of an item it reports (prescription, referral, lab result)."""

_ICD10 = re.compile(r"^[A-Z][0-9]{2}(\.[0-9]{1,2})?$")


def _validate_icd10(value: str) -> str:
    code = value.strip().upper()
    if not _ICD10.fullmatch(code):
        raise PydanticCustomError(
            "icd10_format", "код МКБ-10 должен иметь вид буква и две цифры, например J06.9"
        )
    return code


Icd10Code = Annotated[
    str,
    Field(min_length=3, max_length=7, description="ICD-10 code: a letter, two digits, .digit(s)."),
    AfterValidator(_validate_icd10),
]


class RecordStatus(StrEnum):
    COMPLETED = "completed"
    IN_PROGRESS = "in_progress"
    CANCELLED = "cancelled"


class Diagnosis(Contract):
    code: Icd10Code
    text: str = Field(min_length=1, max_length=500, description="As worded by the doctor.")


class ReportedService(Contract):
    """One rendered service as the clinic's information system knows it."""

    clinic_record_id: str = Field(
        min_length=1, max_length=64, description="The clinic's own id of the record."
    )
    version: int = Field(
        default=1,
        ge=1,
        le=MAX_VERSION,
        description="The clinic's version of this record (a 64-bit integer, e.g. a timestamp); "
        "a higher version replaces a lower one, the same or a lower one changes nothing.",
    )
    patient_snils: Snils
    patient_oms_policy: OmsPolicy
    department_id: UUID | None = Field(default=None, description="Registry id of the department.")
    department_name: str | None = Field(default=None, max_length=300)
    specialist_id: UUID | None = Field(default=None, description="Registry id of the specialist.")
    service_code: str = Field(
        min_length=1, max_length=32, description="Nomenclature code, e.g. B01.047.001."
    )
    service_name: str = Field(min_length=1, max_length=500)
    category: ServiceCategory
    rendered_on: date = Field(description="Date the service was rendered (ISO 8601).")
    start_time: time | None = None
    end_time: time | None = None
    diagnosis: Diagnosis | None = None
    procedures: tuple[Annotated[str, Field(max_length=MAX_PROCEDURE_LENGTH)], ...] = Field(
        default=(), max_length=50, description="Procedures performed, as worded by the clinic."
    )
    outcome: str | None = Field(default=None, max_length=500)
    cost: Cost
    coverage: Coverage
    status: RecordStatus = RecordStatus.COMPLETED

    @model_validator(mode="after")
    def _consistent(self) -> "ReportedService":
        if self.start_time and self.end_time and self.end_time < self.start_time:
            raise PydanticCustomError("time_order", "время окончания раньше времени начала")
        coverage = self.coverage
        if coverage.kind == CoverageKind.VOLUNTARY_INSURANCE and not coverage.insurer_name:
            raise PydanticCustomError(
                "insurer_missing", "для ДМС укажите страховую компанию (coverage.insurer_name)"
            )
        return self


class ReportRenderedServices(Message):
    """A clinic reports one or more rendered services (queue `records.rendered-services`).

    Set the AMQP `reply_to` property to a queue of yours to get a `ReportAccepted`, or an
    `ErrorReply` (header `x-gosmed-reply-status: error`) listing every reason of a rejection.
    """

    organization_id: UUID = Field(description="Registry id of the reporting organization.")
    sync_queue: str | None = Field(
        default=None,
        max_length=255,
        description="The clinic's queue for `RequestClinicSync` (re-send requests).",
    )
    services: tuple[ReportedService, ...] = Field(min_length=1, max_length=MAX_BATCH)


class ReportAccepted(Message):
    """The answer to a report: how many records were new, updated or unchanged."""

    created: int
    updated: int
    unchanged: int


class RecordAdded(Message):
    """A rendered-service record was stored for the first time."""

    record_id: UUID
    organization_id: UUID
    patient_snils: Snils
    category: ServiceCategory
    rendered_on: date


class RequestClinicSync(Message):
    """Records asks a clinic to re-send a patient's services (sent to the clinic's `sync_queue`)."""

    patient_snils: Snils
    patient_oms_policy: OmsPolicy | None = None
    organization_id: UUID
