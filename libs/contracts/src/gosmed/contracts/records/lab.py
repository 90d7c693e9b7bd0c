"""Lab results: clinics' laboratories report them through the clinics' door, citizens read them
for 12 months after they are ready (records keeps them sealed at rest)."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from gosmed.contracts.access import AccessContext
from gosmed.contracts.base import Contract, Message
from gosmed.contracts.identity.access import PatientRef
from gosmed.contracts.records.intake import ClinicVersion
from gosmed.contracts.registry.catalog import ServiceCategory
from gosmed.contracts.rpc import Rpc
from gosmed.contracts.topology import Service
from gosmed.contracts.types import DateRange, OmsPolicy, Snils

LAB_RESULTS = "lab-results"
"""Command queue name: `topology.command_queue(Service.RECORDS, LAB_RESULTS)`."""
MIB = 1024 * 1024
MAX_LAB_BATCH = 50
MAX_ANALYTES = 100
MAX_LAB_FILE_BYTES = 2 * MIB
"""Largest laboratory file (PDF or XML), decoded."""
MAX_LAB_REPORT_FILE_BYTES = 8 * MIB
"""Largest sum of the files of one report, decoded."""
KEPT_DAYS = 365
"""A ready result is shown for 12 months, then answers 410 and its files are erased."""
MAX_EXPORT_VALUES = 2000
MAX_NOTE = 1000


class LabStatus(StrEnum):
    ORDERED = "ordered"
    IN_PROGRESS = "in_progress"
    READY = "ready"
    CANCELLED = "cancelled"


class AnalyteFlag(StrEnum):
    """Outside the reference range; no flag: within it (or no range)."""

    LOW = "low"
    HIGH = "high"
    CRITICAL = "critical"


class ReferenceRange(Contract):
    low: Decimal | None = Field(default=None, description="Lowest normal value.")
    high: Decimal | None = Field(default=None, description="Highest normal value.")
    text: str | None = Field(
        default=None, max_length=200, description="As the laboratory words it, e.g. «< 5,2»."
    )


class Analyte(Contract):
    """One measured value of a study."""

    code: str = Field(min_length=1, max_length=32, description="The laboratory's own code.")
    loinc: str | None = Field(
        default=None, pattern=r"^[0-9]{1,7}-[0-9]$", description="LOINC code, e.g. 2345-7."
    )
    name: str = Field(min_length=1, max_length=300)
    value: str = Field(
        min_length=1, max_length=200, description="The value: a number (`5.4`) or a text."
    )
    unit: str | None = Field(default=None, max_length=50, description="e.g. mmol/L.")
    reference_range: ReferenceRange | None = None
    flag: AnalyteFlag | None = None


def _file_size(content: bytes) -> bytes:
    if len(content) > MAX_LAB_FILE_BYTES:
        raise PydanticCustomError(
            "file_too_large", "файл больше {limit} байт", {"limit": MAX_LAB_FILE_BYTES}
        )
    return content


LabFile = Annotated[
    bytes,
    AfterValidator(_file_size),
    Field(description=f"The file in base64 (or base64url), at most {MAX_LAB_FILE_BYTES} bytes."),
]


class ReportedLabResult(Contract):
    """One study as the clinic's laboratory system knows it."""

    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")

    clinic_result_id: str = Field(
        min_length=1, max_length=64, description="The clinic's own id of the result."
    )
    version: ClinicVersion = 1
    patient_snils: Snils
    patient_oms_policy: OmsPolicy
    specialist_id: UUID | None = Field(
        default=None, description="Registry id of the ordering specialist."
    )
    specialist_name: str | None = Field(default=None, max_length=300)
    study_code: str = Field(
        min_length=1, max_length=32, description="Nomenclature code, e.g. A09.05.023."
    )
    study_name: str = Field(min_length=1, max_length=500)
    category: ServiceCategory = Field(
        default=ServiceCategory.LABORATORY, description="Always `laboratory`."
    )
    ordered_on: date
    collected_at: AwareDatetime | None = None
    ready_at: AwareDatetime | None = Field(default=None, description="Required when `ready`.")
    status: LabStatus
    analytes: tuple[Analyte, ...] = Field(default=(), max_length=MAX_ANALYTES)
    pdf: LabFile | None = Field(default=None, description="The laboratory's signed PDF.")
    xml: LabFile | None = Field(default=None, description="The laboratory's XML report.")

    @model_validator(mode="after")
    def _consistent(self) -> "ReportedLabResult":
        if self.category != ServiceCategory.LABORATORY:
            raise PydanticCustomError("lab_category", "категория исследования — laboratory")
        if self.status == LabStatus.READY and self.ready_at is None:
            raise PydanticCustomError("ready_at_missing", "для готового результата нужна ready_at")
        if self.status == LabStatus.READY and not (self.analytes or self.pdf or self.xml):
            raise PydanticCustomError(
                "ready_empty", "готовый результат без показателей и без файла"
            )
        if self.pdf is not None and not self.pdf.startswith(b"%PDF-"):
            raise PydanticCustomError("pdf_format", "pdf не является файлом PDF")
        if self.xml is not None and not self.xml.lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"<"):
            raise PydanticCustomError("xml_format", "xml не является документом XML")
        return self


class ReportLabResults(Message):
    """A clinic reports one or more lab results (queue `records.lab-results`).

    Set the AMQP `reply_to` property to a queue of yours to get a `LabResultsAccepted`, or an
    `ErrorReply` (header `x-gosmed-reply-status: error`) listing every reason of a rejection.
    Files: at most 2 MiB each, 8 MiB for the whole report (decoded).
    """

    organization_id: UUID = Field(description="Registry id of the reporting organization.")
    results: tuple[ReportedLabResult, ...] = Field(min_length=1, max_length=MAX_LAB_BATCH)

    @model_validator(mode="after")
    def _files_fit(self) -> "ReportLabResults":
        total = sum(len(r.pdf or b"") + len(r.xml or b"") for r in self.results)
        if total > MAX_LAB_REPORT_FILE_BYTES:
            raise PydanticCustomError(
                "files_too_large",
                "файлы сообщения больше {limit} байт",
                {"limit": MAX_LAB_REPORT_FILE_BYTES},
            )
        return self


class LabResultsAccepted(Message):
    """The answer to a report: how many results were new, updated or unchanged."""

    created: int
    updated: int
    unchanged: int


class LabResultSummary(Contract):
    id: UUID
    organization_id: UUID
    organization_name: str | None = None
    study_code: str
    study_name: str
    status: LabStatus
    ordered_on: date
    ready_at: datetime | None = None
    available_until: date | None = Field(
        default=None, description="The last day the result is shown (12 months after ready)."
    )
    has_flags: bool = Field(default=False, description="A value is outside its range.")
    note: str | None = Field(default=None, description="The patient's own note.")


class LabResultsPage(Contract):
    patient: PatientRef
    items: tuple[LabResultSummary, ...]
    next_cursor: str | None = None
    basis_label: str = ""


class LabResultDetail(Contract):
    patient: PatientRef
    item: LabResultSummary
    clinic_result_id: str
    specialist_name: str | None = None
    collected_at: datetime | None = None
    analytes: tuple[Analyte, ...]
    clinic_files: frozenset[str] = Field(
        default=frozenset(), description="Formats the laboratory sent itself: pdf, xml."
    )
    basis_label: str = ""


class ListLabResults(Message):
    """One page of a patient's lab results, newest first (by order date)."""

    context: AccessContext
    status: LabStatus | None = None
    period: DateRange | None = None
    cursor: str | None = Field(default=None, max_length=200, description="From `next_cursor`.")
    limit: int = Field(default=20, ge=1, le=100)


class GetLabResult(Message):
    context: AccessContext
    result_id: UUID


class LabFileFormat(StrEnum):
    PDF = "pdf"
    XML = "xml"


class GetLabResultFile(Message):
    """The laboratory's own file of a ready result in `format`."""

    context: AccessContext
    result_id: UUID
    format: LabFileFormat


class LabResultFile(Contract):
    """A file of a lab result: the laboratory's own, or (`rendered`) made from the analytes
    (base64url in JSON)."""

    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")

    file_name: str
    media_type: str
    content: bytes
    rendered: bool = False


class EmailLabResult(Message):
    """E-mail a ready result (the laboratory's file, or one rendered) to the caller's
    confirmed address."""

    context: AccessContext
    result_id: UUID
    format: LabFileFormat = LabFileFormat.PDF


class LabResultEmailed(Contract):
    address: str = Field(description="The address it went to, masked (a***@example.ru).")
    file_name: str


class LabChangeKind(StrEnum):
    DELETE = "delete"
    NOTE = "note"


class RequestLabResultChange(Message):
    """Delete a result from the patient's view, or change its note: step one, which sends a
    confirmation code by SMS to whoever acts (the change waits for it)."""

    context: AccessContext
    result_id: UUID
    kind: LabChangeKind
    note: str | None = Field(default=None, max_length=MAX_NOTE, description="For `note`.")


class LabChangePending(Contract):
    confirmation_id: UUID
    kind: LabChangeKind
    expires_at: datetime
    sent_to: str = Field(description="The phone the code went to, masked.")


class ConfirmLabResultChange(Message):
    """Step two: the code from the SMS (single use, 5 minutes, 5 tries)."""

    context: AccessContext
    result_id: UUID
    confirmation_id: UUID
    code: str = Field(pattern=r"^[0-9]{6}$")


class LabChangeDone(Contract):
    result_id: UUID
    kind: LabChangeKind
    note: str | None = None


class ExportLabValues(Message):
    """A patient's values of some analytes over a period, oldest first (for a dynamics report;
    authorized as `read_lab_results`)."""

    context: AccessContext
    period: DateRange | None = None
    analyte_codes: frozenset[Annotated[str, Field(max_length=32)]] = Field(
        default=frozenset(),
        max_length=50,
        description="The laboratory's codes or LOINC codes; empty: every analyte.",
    )


class LabValue(Contract):
    result_id: UUID
    ready_at: datetime
    study_name: str
    analyte: Analyte


class LabValuesExport(Contract):
    patient: PatientRef
    values: tuple[LabValue, ...]
    truncated: bool = False
    basis_label: str = ""


LIST_LAB_RESULTS = Rpc(Service.RECORDS, "list-lab-results", ListLabResults, LabResultsPage)
GET_LAB_RESULT = Rpc(Service.RECORDS, "get-lab-result", GetLabResult, LabResultDetail)
GET_LAB_RESULT_FILE = Rpc(Service.RECORDS, "get-lab-result-file", GetLabResultFile, LabResultFile)
EXPORT_LAB_RESULTS = Rpc(Service.RECORDS, "export-lab-results", ExportLabValues, LabValuesExport)
EMAIL_LAB_RESULT = Rpc(Service.RECORDS, "email-lab-result", EmailLabResult, LabResultEmailed)
REQUEST_LAB_RESULT_CHANGE = Rpc(
    Service.RECORDS, "request-lab-result-change", RequestLabResultChange, LabChangePending
)
CONFIRM_LAB_RESULT_CHANGE = Rpc(
    Service.RECORDS, "confirm-lab-result-change", ConfirmLabResultChange, LabChangeDone
)
