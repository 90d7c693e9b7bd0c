"""What readers ask records: lists, one record, exports for documents."""

from enum import StrEnum
from uuid import UUID

from pydantic import Field

from gosmed.contracts.access import AccessContext
from gosmed.contracts.base import Contract, Message
from gosmed.contracts.identity.access import PatientRef
from gosmed.contracts.records.views import CoverageKind, RenderedServiceView
from gosmed.contracts.registry.catalog import ServiceCategory
from gosmed.contracts.rpc import Rpc
from gosmed.contracts.topology import Service
from gosmed.contracts.types import DateRange

MAX_EXPORT = 5000
MAX_PAGE = 100


class PeriodPreset(StrEnum):
    LAST_MONTH = "last_month"
    LAST_QUARTER = "last_quarter"
    LAST_YEAR = "last_year"


class NoticeCode(StrEnum):
    """Why an answer is empty or partial."""

    PROCESSING = "processing"
    CONSENT_MISSING = "consent_missing"
    RESTRICTED_HIDDEN = "restricted_hidden"
    CLINIC_NOT_REPORTED = "clinic_not_reported"
    REGISTRY_UNAVAILABLE = "registry_unavailable"


class Notice(Contract):
    """An explanation shown with the answer, in Russian."""

    code: NoticeCode
    message: str
    count: int | None = Field(
        default=None,
        description="How many records it concerns, if known; never given with "
        "`restricted_hidden` (the number alone would disclose restricted care).",
    )


class ListRenderedServices(Message):
    """One page of a patient's rendered services, newest first."""

    context: AccessContext
    categories: frozenset[ServiceCategory] = frozenset()
    period: DateRange | None = None
    preset: PeriodPreset | None = Field(
        default=None, description="Last month, quarter or year; ignored when `period` is set."
    )
    organization_ids: frozenset[UUID] = frozenset()
    specialist_ids: frozenset[UUID] = frozenset()
    coverage: frozenset[CoverageKind] = frozenset()
    text: str | None = Field(
        default=None, max_length=200, description="Words in service, diagnosis or procedures."
    )
    cursor: str | None = Field(default=None, max_length=200, description="From `next_cursor`.")
    limit: int = Field(default=20, ge=1, le=MAX_PAGE)


class RenderedServicesPage(Contract):
    patient: PatientRef
    items: tuple[RenderedServiceView, ...]
    next_cursor: str | None = None
    notices: tuple[Notice, ...] = ()
    basis_label: str = ""


class ExportRenderedServices(Message):
    """All matching services of a patient for a document (authorized as DOWNLOAD_DOCUMENTS)."""

    context: AccessContext
    period: DateRange | None = None
    categories: frozenset[ServiceCategory] = frozenset()
    organization_ids: frozenset[UUID] = frozenset()
    coverage: frozenset[CoverageKind] = frozenset()
    record_ids: tuple[UUID, ...] | None = Field(
        default=None, description="Only these records (a single-service extract passes one)."
    )


class RenderedServicesExport(Contract):
    patient: PatientRef
    items: tuple[RenderedServiceView, ...] = Field(description="Newest first, at most 5000.")
    truncated: bool
    basis_label: str


LIST_SERVICES = Rpc(Service.RECORDS, "list-services", ListRenderedServices, RenderedServicesPage)
EXPORT_SERVICES = Rpc(
    Service.RECORDS, "export-services", ExportRenderedServices, RenderedServicesExport
)
