"""Subscribers: contract in -> service call -> contract out."""

from gosmed.contracts import topology
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
    DocumentFile,
    DocumentVerification,
    DocumentView,
    EmailDocument,
    GetDocument,
    RenderDocument,
    RequestDocument,
    RevokeDocument,
    VerifyDocument,
)
from gosmed.documents.service import DocumentService
from gosmed.runtime.service import ServiceRuntime


def register(runtime: ServiceRuntime, service: DocumentService) -> None:
    broker = runtime.broker
    me = topology.Service.DOCUMENTS

    @broker.subscriber(runtime.rpc_queue(REQUEST_DOCUMENT), title="documents.request-document")
    async def request_document(request: RequestDocument) -> DocumentView:
        return await service.request(request)

    @broker.subscriber(runtime.rpc_queue(GET_DOCUMENT), title="documents.get-document")
    async def get_document(request: GetDocument) -> DocumentView:
        return await service.get(request.context, request.document_id)

    @broker.subscriber(runtime.rpc_queue(GET_DOCUMENT_FILE), title="documents.get-document-file")
    async def get_document_file(request: GetDocument) -> DocumentFile:
        return await service.file(request.context, request.document_id)

    @broker.subscriber(runtime.rpc_queue(EMAIL_DOCUMENT), title="documents.email-document")
    async def email_document(request: EmailDocument) -> DocumentView:
        return await service.email(request.context, request.document_id)

    @broker.subscriber(runtime.rpc_queue(REVOKE_DOCUMENT), title="documents.revoke-document")
    async def revoke_document(request: RevokeDocument) -> DocumentView:
        return await service.revoke(request.context, request.document_id)

    @broker.subscriber(runtime.rpc_queue(VERIFY_DOCUMENT), title="documents.verify-document")
    async def verify_document(request: VerifyDocument) -> DocumentVerification:
        return await service.verify(request)

    @broker.subscriber(
        runtime.queue(topology.command_queue(me, RENDER_DOCUMENT)), title="documents.render"
    )
    async def render_document(command: RenderDocument) -> None:
        await service.render(command.document_id)

    @broker.subscriber(
        runtime.queue(topology.command_queue(me, DELIVER_DOCUMENT_EMAIL)),
        title="documents.deliver-email",
    )
    async def deliver_document_email(command: DeliverDocumentEmail) -> None:
        await service.deliver_email(command)
