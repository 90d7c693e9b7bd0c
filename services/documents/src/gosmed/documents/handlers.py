"""Subscribers: contract in -> service call -> contract out."""

from gosmed.contracts import topology
from gosmed.contracts.documents.lab_reports import (
    EMAIL_LAB_REPORT,
    RENDER_LAB_REPORT,
    RenderLabReport,
)
from gosmed.contracts.documents.requests import (
    DELIVER_DOCUMENT_EMAIL,
    EMAIL_DOCUMENT,
    GET_DOCUMENT,
    GET_DOCUMENT_FILE,
    RENDER_DOCUMENT,
    REQUEST_DOCUMENT,
    REVOKE_DOCUMENT,
    VERIFY_DOCUMENT,
    DeliverDocumentEmail,
    RenderDocument,
)
from gosmed.contracts.records.lab import LabResultFile
from gosmed.documents.lab_mail import LabMail, Worker
from gosmed.documents.lab_reports import lab_file, render_lab_report
from gosmed.documents.service import DocumentService
from gosmed.runtime.service import ServiceRuntime


def register(
    runtime: ServiceRuntime, service: DocumentService, pool: Worker, lab_mail: LabMail
) -> None:
    serve = runtime.serve
    serve(REQUEST_DOCUMENT, service.request)
    serve(GET_DOCUMENT, lambda request: service.get(request.context, request.document_id))
    serve(GET_DOCUMENT_FILE, lambda request: service.file(request.context, request.document_id))
    serve(EMAIL_DOCUMENT, lambda request: service.email(request.context, request.document_id))
    serve(REVOKE_DOCUMENT, lambda request: service.revoke(request.context, request.document_id))
    serve(VERIFY_DOCUMENT, service.verify)

    async def render_lab(request: RenderLabReport) -> LabResultFile:
        return lab_file(request, await pool.run(render_lab_report, request))

    serve(RENDER_LAB_REPORT, render_lab)
    serve(EMAIL_LAB_REPORT, lab_mail.email)

    async def render(command: RenderDocument) -> None:
        await service.render(command.document_id)

    me = topology.Service.DOCUMENTS
    runtime.consume(topology.command_queue(me, RENDER_DOCUMENT), RenderDocument, render)
    runtime.consume(
        topology.command_queue(me, DELIVER_DOCUMENT_EMAIL),
        DeliverDocumentEmail,
        service.deliver_email,
    )
