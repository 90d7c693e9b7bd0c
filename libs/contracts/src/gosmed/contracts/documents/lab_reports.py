"""documents renders a lab result that came without the laboratory's own file: a PDF to read
and print, or an HL7 FHIR DiagnosticReport with its Observations as XML for other systems.

records calls it after it has authorized the reader; documents keeps nothing of it."""

from datetime import date
from uuid import UUID

from pydantic import Field

from gosmed.contracts.base import Message
from gosmed.contracts.records.lab import (
    LabFileFormat,
    LabResultDetail,
    LabResultEmailed,
    LabResultFile,
)
from gosmed.contracts.rpc import Rpc
from gosmed.contracts.topology import Service


class RenderLabReport(Message):
    """Render `result` (as records shows it) in `format`."""

    result: LabResultDetail
    organization_name: str | None = Field(default=None, max_length=500)
    format: LabFileFormat
    rendered_on: date = Field(description="The date printed on the report.")


RENDER_LAB_REPORT = Rpc(Service.DOCUMENTS, "render-lab-report", RenderLabReport, LabResultFile)


class EmailLabReport(Message):
    """E-mail a lab result to the confirmed address of `recipient_account_id` (who asked):
    the laboratory's own `file`, or one rendered from `report` when it is None."""

    report: RenderLabReport
    recipient_account_id: UUID
    file: LabResultFile | None = None


EMAIL_LAB_REPORT = Rpc(Service.DOCUMENTS, "email-lab-report", EmailLabReport, LabResultEmailed)
