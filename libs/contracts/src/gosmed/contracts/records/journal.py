"""The access journal: who read a patient's records, on which legal basis, what and when."""

from uuid import UUID

from pydantic import AwareDatetime, Field

from gosmed.contracts.access import AccessContext, Actor, LegalBasis
from gosmed.contracts.base import Contract, Message
from gosmed.contracts.rpc import Rpc
from gosmed.contracts.topology import Service

MAX_LOG_PAGE = 200


class GetAccessLog(Message):
    """The patient's own journal, newest first (only the patient reads it)."""

    context: AccessContext
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=50, ge=1, le=MAX_LOG_PAGE)


class AccessLogEntry(Contract):
    id: UUID
    at: AwareDatetime
    actor_id: UUID
    actor: Actor | None = Field(
        default=None, description="Who it was, as identity described them at that moment."
    )
    basis: LegalBasis | None
    basis_document_id: str | None = None
    basis_label: str = ""
    what: str = Field(
        description="What was done: a read (`list`, `detail`, `export`, `lab-list`, …) or, "
        "for someone else, `book_appointment` / `cancel_appointment`."
    )
    record_ids: tuple[UUID, ...] = Field(default=(), description="Records shown (up to 100).")
    record_count: int = Field(description="How many records were shown.")
    appointment_id: UUID | None = Field(
        default=None, description="The appointment booked or cancelled (scheduling's id)."
    )


class AccessLogPage(Contract):
    items: tuple[AccessLogEntry, ...]
    next_cursor: str | None = None


GET_ACCESS_LOG = Rpc(Service.RECORDS, "get-access-log", GetAccessLog, AccessLogPage)
