"""Official documents: request one, follow its status, fetch, e-mail, revoke and verify it.

The edge calls these RPCs (`documents.rpc.<method>`); the documents service renders off the
event loop and answers at once with the document's status.
"""

from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, ConfigDict, Field, model_validator

from gosmed.contracts.access import AccessContext
from gosmed.contracts.base import Contract, Message
from gosmed.contracts.records.views import CoverageKind
from gosmed.contracts.registry.catalog import ServiceCategory
from gosmed.contracts.rpc import Rpc
from gosmed.contracts.topology import Service
from gosmed.contracts.types import DateRange

# Command queues the documents service feeds itself, so accepted work survives a restart.
RENDER_DOCUMENT = "render-document"
DELIVER_DOCUMENT_EMAIL = "deliver-document-email"
MAX_FILE_BYTES = 15 * 1024 * 1024
"""Largest document file: the documents service keeps a file in one 16 MB MongoDB document."""


class DocumentKind(StrEnum):
    STATEMENT = "statement"
    EXTRACT = "extract"
    CERTIFICATE = "certificate"
    DYNAMICS = "dynamics"


class DocumentFormat(StrEnum):
    PDF = "pdf"
    XLSX = "xlsx"


class CertificatePurpose(StrEnum):
    """Who a certificate is for; each sees only what that purpose needs."""

    EMPLOYER = "employer"
    SCHOOL = "school"
    INSURER = "insurer"


class DocumentStatus(StrEnum):
    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"
    REVOKED = "revoked"
    EXPIRED = "expired"


class EmailStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


MAX_ANALYTES = 50
"""Most analytes one dynamics report charts."""
AnalyteCode = Annotated[str, Field(min_length=1, max_length=32)]


class RequestDocument(Message):
    """Render a document of a patient's rendered services, or (`dynamics`) the dynamics of
    their lab values with the visits of the period (records decides on access)."""

    context: AccessContext
    kind: DocumentKind
    format: DocumentFormat = DocumentFormat.PDF
    period: DateRange | None = Field(default=None, description="None: the whole history.")
    categories: frozenset[ServiceCategory] = Field(
        default=frozenset(), description="Only these categories; empty means all."
    )
    organization_ids: frozenset[UUID] = Field(
        default=frozenset(), max_length=1000, description="Only these organizations; empty: all."
    )
    coverage: frozenset[CoverageKind] = Field(
        default=frozenset(), description="Only these kinds of payment; empty means all."
    )
    record_id: UUID | None = Field(default=None, description="The service of an extract.")
    purpose: CertificatePurpose | None = Field(default=None, description="Set for a certificate.")
    analytes: frozenset[AnalyteCode] = Field(
        default=frozenset(),
        max_length=MAX_ANALYTES,
        description="For `dynamics`: the laboratory's or LOINC codes to chart; empty: every "
        "analyte of the period.",
    )

    @model_validator(mode="after")
    def _kind_has_its_fields(self) -> "RequestDocument":
        if (self.kind == DocumentKind.EXTRACT) != (self.record_id is not None):
            raise ValueError("номер записи (record_id) указывается только для выписки")
        if (self.kind == DocumentKind.CERTIFICATE) != (self.purpose is not None):
            raise ValueError("назначение (purpose) указывается только для справки")
        if self.analytes and self.kind != DocumentKind.DYNAMICS:
            raise ValueError("показатели (analytes) указываются только для динамики анализов")
        if self.kind == DocumentKind.DYNAMICS and self.format != DocumentFormat.PDF:
            raise ValueError("динамика анализов формируется только в формате PDF")
        return self


class DocumentView(Contract):
    """A document's metadata and status as its owner sees it."""

    document_id: UUID
    number: str
    kind: DocumentKind
    format: DocumentFormat
    purpose: CertificatePurpose | None = None
    status: DocumentStatus
    created_at: AwareDatetime
    ready_at: AwareDatetime | None = None
    expires_at: AwareDatetime
    revoked_at: AwareDatetime | None = None
    sha256: str | None = Field(default=None, description="Hex SHA-256 of the file once ready.")
    size: int | None = Field(default=None, description="File size in bytes once ready.")
    failure_reason: str | None = Field(default=None, description="Russian, when failed.")
    email_status: EmailStatus | None = None


class GetDocument(Message):
    """A document's status; only its requester or its patient may see it."""

    context: AccessContext
    document_id: UUID


class DocumentFile(Contract):
    """The document and, when it is ready, its file (base64url in JSON)."""

    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")

    document: DocumentView
    filename: str
    media_type: str
    content: bytes | None = None


class EmailDocument(Message):
    """Send a ready document to the requester's confirmed e-mail."""

    context: AccessContext
    document_id: UUID


class RevokeDocument(Message):
    """Withdraw a document: verification then answers «not genuine»."""

    context: AccessContext
    document_id: UUID


class VerifyDocument(Message):
    """Public check of a document by id, optionally against the bytes of a file (base64url in
    JSON)."""

    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")

    document_id: UUID
    content: bytes | None = Field(
        default=None, description="The file to compare with the issued one."
    )


class DocumentVerification(Contract):
    """Whether a document is genuine, and what a checker may know about it."""

    document_id: UUID
    genuine: bool
    status: DocumentStatus
    number: str
    kind: DocumentKind
    purpose: CertificatePurpose | None = None
    issued_at: AwareDatetime | None = None
    issued_to: str = Field(description="The patient's name, masked («И****** А. С.»).")
    sha256: str | None = None
    signature_valid: bool = False
    file_matches: bool | None = Field(
        default=None, description="Set when a file was given: its hash equals the issued one."
    )
    reason: str = Field(default="", description="Why the document is not genuine (Russian).")


class RenderDocument(Message):
    """Internal command: render the pending document `document_id`."""

    document_id: UUID


class DeliverDocumentEmail(Message):
    """Internal command: e-mail the document to `address` and notify the citizen."""

    document_id: UUID
    recipient_account_id: UUID
    address: str = Field(max_length=320)


REQUEST_DOCUMENT = Rpc(Service.DOCUMENTS, "request-document", RequestDocument, DocumentView)
GET_DOCUMENT = Rpc(Service.DOCUMENTS, "get-document", GetDocument, DocumentView)
GET_DOCUMENT_FILE = Rpc(Service.DOCUMENTS, "get-document-file", GetDocument, DocumentFile)
EMAIL_DOCUMENT = Rpc(Service.DOCUMENTS, "email-document", EmailDocument, DocumentView)
REVOKE_DOCUMENT = Rpc(Service.DOCUMENTS, "revoke-document", RevokeDocument, DocumentView)
VERIFY_DOCUMENT = Rpc(Service.DOCUMENTS, "verify-document", VerifyDocument, DocumentVerification)
