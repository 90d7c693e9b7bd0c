"""Corrections: a patient disputes a record («Редактировать»), the clinic that reported it
answers within five working days (accepting with a new version of the record through the
normal intake, or rejecting with a reason)."""

from datetime import date, time
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, Field, JsonValue, model_validator
from pydantic_core import PydanticCustomError

from gosmed.contracts.access import AccessContext
from gosmed.contracts.base import Contract, Message
from gosmed.contracts.records.intake import MAX_PROCEDURE_LENGTH, Diagnosis
from gosmed.contracts.registry.catalog import ServiceCategory
from gosmed.contracts.rpc import Rpc
from gosmed.contracts.topology import Service

CORRECTION_ANSWERS = "correction-answers"
"""Command queue of the clinics' answers: `topology.command_queue(Service.RECORDS, ...)`."""
WORKING_DAYS_TO_ANSWER = 5
MAX_COMMENT = 2000
MAX_REASON = 1000
MAX_OPERATOR_PAGE = 500


class CorrectionStatus(StrEnum):
    """filed → sent (to the clinic) → accepted / rejected; withdrawn by the patient while open."""

    FILED = "filed"
    SENT = "sent"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


OPEN_STATUSES = frozenset({CorrectionStatus.FILED, CorrectionStatus.SENT})


class CorrectionChanges(Contract):
    """The fields the patient proposes to change, validated like the clinic's own
    (`ReportedService`); a field left out is not disputed."""

    rendered_on: date | None = Field(default=None, description="Date of the service.")
    start_time: time | None = None
    end_time: time | None = None
    organization_id: UUID | None = Field(default=None, description="Registry id of the clinic.")
    department_name: str | None = Field(default=None, min_length=1, max_length=300)
    specialist_id: UUID | None = Field(default=None, description="Registry id of the doctor.")
    service_code: str | None = Field(
        default=None, min_length=1, max_length=32, description="Nomenclature code."
    )
    service_name: str | None = Field(default=None, min_length=1, max_length=500)
    category: ServiceCategory | None = None
    diagnosis: Diagnosis | None = None
    procedures: (
        tuple[Annotated[str, Field(min_length=1, max_length=MAX_PROCEDURE_LENGTH)], ...] | None
    ) = Field(default=None, max_length=50)
    outcome: str | None = Field(default=None, min_length=1, max_length=500)

    @model_validator(mode="after")
    def _consistent(self) -> "CorrectionChanges":
        if self.start_time and self.end_time and self.end_time < self.start_time:
            raise PydanticCustomError("time_order", "время окончания раньше времени начала")
        return self


class FileCorrection(Message):
    """The patient (or their representative with the `file_corrections` right) disputes a
    record: at least one proposed change or a comment."""

    context: AccessContext
    record_id: UUID
    changes: CorrectionChanges = Field(default_factory=CorrectionChanges)
    comment: str | None = Field(default=None, max_length=MAX_COMMENT)

    @model_validator(mode="after")
    def _something(self) -> "FileCorrection":
        if not self.changes.model_dump(exclude_none=True) and not (self.comment or "").strip():
            raise PydanticCustomError(
                "correction_empty", "укажите хотя бы одно исправление или комментарий"
            )
        return self


class ChangeView(Contract):
    """One disputed field: what the record says now and what the patient proposes."""

    field: str
    current: JsonValue = Field(description="The record's value when the request was filed.")
    proposed: JsonValue


class CorrectionView(Contract):
    id: UUID
    number: str = Field(
        description="Shown to the patient and the clinic, e.g. «И-20251029-1A2B3C»."
    )
    record_id: UUID
    organization_id: UUID
    status: CorrectionStatus
    changes: tuple[ChangeView, ...]
    comment: str | None = None
    filed_at: AwareDatetime
    due_on: date = Field(description="The 5th working day after filing (Russian calendar).")
    overdue: bool = Field(description="Not answered by `due_on`.")
    answered_at: AwareDatetime | None = None
    reason: str | None = Field(default=None, description="Why the clinic rejected it.")
    escalated_at: AwareDatetime | None = Field(
        default=None, description="When the patient was told the clinic is late."
    )


class CorrectionsPage(Contract):
    items: tuple[CorrectionView, ...]


class ListCorrections(Message):
    context: AccessContext


class GetCorrection(Message):
    context: AccessContext
    correction_id: UUID


class WithdrawCorrection(Message):
    context: AccessContext
    correction_id: UUID


class CorrectionRequested(Message):
    """Records asks the clinic that reported a record to check a patient's correction (sent,
    persistent, to the clinic's own queue `clinic.<organization>.corrections`). Answer with
    `AnswerCorrection`; when accepting, send the new version of the record as usual."""

    correction_id: UUID
    number: str
    organization_id: UUID
    record_id: UUID
    clinic_record_id: str
    version: int = Field(description="The record's version the patient disputes.")
    patient_snils: str
    changes: CorrectionChanges
    comment: str | None = None
    due_on: date = Field(description="Answer by this day.")


class AnswerCorrection(Message):
    """A clinic answers a correction (exchange `gosmed.clinic-intake`, routing key
    `records.correction-answers`, with the clinic's AMQP `user_id`). Accepting: also send the
    corrected record with a higher version through `records.rendered-services`."""

    correction_id: UUID
    accepted: bool
    reason: str | None = Field(
        default=None, max_length=MAX_REASON, description="Required when rejecting (Russian)."
    )

    @model_validator(mode="after")
    def _reasoned(self) -> "AnswerCorrection":
        if not self.accepted and not (self.reason or "").strip():
            raise PydanticCustomError("reason_missing", "укажите причину отказа (reason)")
        return self


class CorrectionAnswered(Message):
    """The clinic's answer was recorded (sent to the clinic's `reply_to` when it gave one)."""

    correction_id: UUID
    status: CorrectionStatus


class OperatorFilter(StrEnum):
    OVERDUE = "overdue"
    OPEN = "open"


class ListOperatorCorrections(Message):
    """Operators (role `operator`): open or overdue requests of every clinic, oldest due first."""

    context: AccessContext
    status: OperatorFilter = OperatorFilter.OVERDUE
    organization_id: UUID | None = None
    limit: int = Field(default=100, ge=1, le=MAX_OPERATOR_PAGE)


class AnswerCorrectionForOrganization(AnswerCorrection):
    """A staff member of the clinic answers a correction in the clinic's name (on the
    organization's power of attorney with the scope `answer_corrections`), as the clinic's
    broker integration would with `AnswerCorrection`."""

    context: AccessContext
    organization_id: UUID


class ListOrganizationCorrections(Message):
    """A clinic's staff (scope `answer_corrections`): the clinic's requests still open (or only
    the overdue ones), oldest due first."""

    context: AccessContext
    organization_id: UUID
    status: OperatorFilter = OperatorFilter.OPEN
    limit: int = Field(default=100, ge=1, le=MAX_OPERATOR_PAGE)


class GetCorrectionStats(Message):
    context: AccessContext
    organization_id: UUID


class CorrectionStats(Contract):
    """A clinic's figures for operators: how many requests, how they ended, how fast."""

    organization_id: UUID
    requests: int
    open: int
    accepted: int
    rejected: int
    withdrawn: int
    overdue: int = Field(description="Open now and past `due_on`.")
    answered_late: int = Field(description="Answered after `due_on`.")
    median_answer_working_days: float | None = Field(
        default=None, description="Median working days from filing to the clinic's answer."
    )


FILE_CORRECTION = Rpc(Service.RECORDS, "file-correction", FileCorrection, CorrectionView)
LIST_CORRECTIONS = Rpc(Service.RECORDS, "list-corrections", ListCorrections, CorrectionsPage)
GET_CORRECTION = Rpc(Service.RECORDS, "get-correction", GetCorrection, CorrectionView)
WITHDRAW_CORRECTION = Rpc(
    Service.RECORDS, "withdraw-correction", WithdrawCorrection, CorrectionView
)
LIST_OPERATOR_CORRECTIONS = Rpc(
    Service.RECORDS, "list-operator-corrections", ListOperatorCorrections, CorrectionsPage
)
GET_CORRECTION_STATS = Rpc(
    Service.RECORDS, "get-correction-stats", GetCorrectionStats, CorrectionStats
)
ANSWER_CORRECTION_FOR_ORGANIZATION = Rpc(
    Service.RECORDS,
    "answer-correction-for-organization",
    AnswerCorrectionForOrganization,
    CorrectionAnswered,
)
LIST_ORGANIZATION_CORRECTIONS = Rpc(
    Service.RECORDS,
    "list-organization-corrections",
    ListOrganizationCorrections,
    CorrectionsPage,
)
GET_ORGANIZATION_CORRECTION_STATS = Rpc(
    Service.RECORDS,
    "get-organization-correction-stats",
    GetCorrectionStats,
    CorrectionStats,
)
