"""Use cases: request, render, fetch, e-mail, revoke and verify documents."""

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID, uuid4

from gosmed.contracts import topology
from gosmed.contracts.access import AccessContext
from gosmed.contracts.base import utc_now
from gosmed.contracts.documents.requests import (
    DELIVER_DOCUMENT_EMAIL,
    RENDER_DOCUMENT,
    DeliverDocumentEmail,
    DocumentFile,
    DocumentFormat,
    DocumentKind,
    DocumentStatus,
    DocumentVerification,
    DocumentView,
    RenderDocument,
    RequestDocument,
    VerifyDocument,
)
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.access import AccessDecision, Action
from gosmed.contracts.identity.notifications import (
    NOTIFY_QUEUE,
    SendNotification,
)
from gosmed.contracts.records.lab import ExportLabValues, LabValuesExport
from gosmed.contracts.records.queries import ExportRenderedServices, RenderedServicesExport
from gosmed.documents.domain import (
    TITLES,
    Document,
    DocumentContent,
    DocumentSource,
    DocumentSpec,
    compose,
    document_number,
    require_lab_values,
    values_period,
)
from gosmed.documents.repository import DocumentRepository
from gosmed.documents.signing import Signer
from gosmed.runtime.mail import Attachment
from gosmed.runtime.masking import mask_email
from gosmed.runtime.outbox import OutboxEntry, Relay
from gosmed.runtime.security_log import security_event

log = logging.getLogger(__name__)

NOT_FOUND = "Документ не найден."
NO_LONGER_ALLOWED = (
    "Нет действующего основания для доступа к документам пациента: доверенность или иное "
    "основание отозвано либо истекло."
)
RENDER_QUEUE = topology.command_queue(topology.Service.DOCUMENTS, RENDER_DOCUMENT)
EMAIL_QUEUE = topology.command_queue(topology.Service.DOCUMENTS, DELIVER_DOCUMENT_EMAIL)


class Records(Protocol):
    async def export(self, request: ExportRenderedServices) -> RenderedServicesExport: ...

    async def export_lab_values(self, request: ExportLabValues) -> LabValuesExport: ...


class Access(Protocol):
    async def authorize(self, context: AccessContext, action: Action) -> AccessDecision: ...


class Profiles(Protocol):
    async def email_of(self, account_id: UUID) -> str | None: ...


class Renderer(Protocol):
    async def render(self, content: DocumentContent, document_format: DocumentFormat) -> bytes: ...


class Mailer(Protocol):
    async def send(self, to: str, subject: str, body: str, attachment: Attachment) -> None: ...


@dataclass
class DocumentService:
    """Every command it sends is written with the change that owes it (the document's outbox)
    and published by the relay: at once, or later if the broker does not take it now."""

    repository: DocumentRepository
    records: Records
    access: Access
    profiles: Profiles
    relay: Relay
    renderer: Renderer
    mailer: Mailer
    signer: Signer
    public_base_url: str
    ttl: timedelta
    max_file_bytes: int
    clock: Callable[[], datetime] = utc_now

    def __post_init__(self) -> None:
        self.relay.add(self.repository.outbox)

    async def request(self, request: RequestDocument) -> DocumentView:
        """Fetch the services (and a dynamics report's lab values, which decide its period when
        none was asked) from records, which authorizes and journals; store a pending document
        and queue its rendering; answers at once."""
        lab = None
        period = request.period
        if request.kind == DocumentKind.DYNAMICS:
            lab = await self.records.export_lab_values(
                ExportLabValues(
                    context=request.context, period=period, analyte_codes=request.analytes
                )
            )
            require_lab_values(request.analytes, lab.values)
            period = period or values_period(lab.values)
        export = await self.records.export(
            ExportRenderedServices(
                context=request.context,
                period=period,
                categories=request.categories,
                organization_ids=request.organization_ids,
                coverage=request.coverage,
                record_ids=(request.record_id,) if request.record_id else None,
            )
        )
        if request.kind == DocumentKind.EXTRACT and not export.items:
            raise ServiceError(ErrorCode.NOT_FOUND, "Услуга для выписки не найдена.")
        now = self.clock()
        document = Document(
            id=uuid4(),
            number=document_number(now.date(), await self.repository.next_sequence()),
            spec=DocumentSpec(request.kind, request.format, request.period, request.purpose),
            actor_id=request.context.actor_id,
            patient_id=export.patient.account_id,
            patient_name=export.patient.full_name,
            created_at=now,
            expires_at=now + self.ttl,
        )
        render = OutboxEntry.command(RENDER_QUEUE, RenderDocument(document_id=document.id))
        await self.repository.add(document, DocumentSource(export, lab), render)
        await self.relay.flush(self.repository.outbox, str(document.id))
        return document.view(now)

    async def render(self, document_id: UUID) -> None:
        """Render, hash, sign and store a pending document; anything else is left alone."""
        document = await self.repository.get(document_id)
        source = await self.repository.source(document_id)
        if document is None or document.status != DocumentStatus.PENDING or source is None:
            return
        content = compose(
            document.spec,
            document_id=document.id,
            number=document.number,
            issued_at=document.created_at,
            patient=source.services.patient,
            items=source.services.items,
            basis_label=source.services.basis_label,
            truncated=source.services.truncated
            or (source.lab is not None and source.lab.truncated),
            verify_url=f"{self.public_base_url.rstrip('/')}/api/v1/verify/{document.id}",
            lab_values=() if source.lab is None else source.lab.values,
        )
        try:
            data = await self.renderer.render(content, document.spec.format)
        except Exception:  # any failure of the renderer ends in a failed document, not a retry loop
            log.exception("rendering document %s failed", document.id)
            await self.repository.mark_failed(
                document.id, "Не удалось сформировать документ. Повторите запрос позже."
            )
            return
        if len(data) > self.max_file_bytes:
            await self.repository.mark_failed(
                document.id, "Документ получился слишком большим: уточните период или фильтры."
            )
            return
        digest = hashlib.sha256(data).digest()
        document.ready_at = self.clock()
        document.sha256 = digest.hex()
        document.signature = self.signer.sign(digest)
        document.key_id = self.signer.key_id
        document.size = len(data)
        await self.repository.mark_ready(document, data)
        log.info("document %s ready: %d bytes", document.id, len(data))

    async def get(self, context: AccessContext, document_id: UUID) -> DocumentView:
        return (await self._owned(context, document_id)).view(self.clock())

    async def file(self, context: AccessContext, document_id: UUID) -> DocumentFile:
        """The file when ready; otherwise the document alone (its status says why)."""
        document = await self._owned(context, document_id)
        view = document.view(self.clock())
        content = None
        if view.status == DocumentStatus.READY:
            content = await self.repository.file(document_id)
        if content is not None and context.actor_id != document.patient_id:
            _by_representative("document_downloaded", context, document, channel="file")
        return DocumentFile(
            document=view,
            filename=document.filename,
            media_type=document.media_type,
            content=content,
        )

    async def revoke(self, context: AccessContext, document_id: UUID) -> DocumentView:
        await self._owned(context, document_id)
        await self.repository.revoke(document_id, self.clock())
        return await self._view(document_id)

    async def email(self, context: AccessContext, document_id: UUID) -> DocumentView:
        """Queue the e-mail of a ready document to the caller's confirmed address."""
        document = await self._owned(context, document_id)
        status = document.status_at(self.clock())
        if status != DocumentStatus.READY:
            raise ServiceError(ErrorCode.CONFLICT, _NOT_SENDABLE[status])
        address = await self.profiles.email_of(context.actor_id)
        if not address:
            raise ServiceError(
                ErrorCode.CONFLICT,
                "В профиле нет подтверждённого адреса электронной почты: добавьте его в "
                "настройках профиля.",
            )
        delivery = DeliverDocumentEmail(
            document_id=document_id, recipient_account_id=context.actor_id, address=address
        )
        await self.repository.queue_email(document_id, OutboxEntry.command(EMAIL_QUEUE, delivery))
        await self.relay.flush(self.repository.outbox, str(document_id))
        if context.actor_id != document.patient_id:
            _by_representative("document_downloaded", context, document, channel="email")
        return await self._view(document_id)

    async def deliver_email(self, command: DeliverDocumentEmail) -> None:
        """Send the e-mail (retried by the mailer), then tell the citizen in their inbox.
        A failure after every retry marks the e-mail failed and dead-letters the command."""
        if await self.repository.email_delivered(command.document_id, command.message_id):
            return
        document = await self.repository.get(command.document_id)
        content = await self.repository.file(command.document_id)
        if document is None or content is None:
            return  # revoked since: nothing to send
        title = f"{TITLES[document.spec.kind]} № {document.number}"
        try:
            await self.mailer.send(
                command.address,
                title,
                f"Здравствуйте!\n\nВо вложении — {title}. Проверить подлинность документа "
                f"можно по QR-коду в документе или по адресу "
                f"{self.public_base_url.rstrip('/')}/api/v1/verify/{document.id}.\n\n"
                "Это письмо отправлено автоматически, отвечать на него не нужно.",
                Attachment(document.filename, document.media_type, content),
            )
        except Exception:
            await self.repository.email_failed(document.id)
            raise
        notice = SendNotification(
            recipient_account_id=command.recipient_account_id,
            title="Документ отправлен на электронную почту",
            body=f"{title} отправлен на адрес {mask_email(command.address)}.",
            category="document_emailed",
            link=f"/documents/{document.id}",
        )
        await self.repository.mark_email_sent(
            document.id, command.message_id, OutboxEntry.command(NOTIFY_QUEUE, notice)
        )
        await self.relay.flush(self.repository.outbox, str(document.id))

    async def verify(self, request: VerifyDocument) -> DocumentVerification:
        document = await self.repository.get(request.document_id)
        if document is None:
            raise ServiceError(
                ErrorCode.NOT_FOUND, "Документ с таким идентификатором не выдавался."
            )
        signature_valid = (
            document.sha256 is not None
            and document.signature is not None
            and document.key_id == self.signer.key_id
            and self.signer.verify(bytes.fromhex(document.sha256), document.signature)
        )
        uploaded = None
        if request.content is not None:
            uploaded = hashlib.sha256(request.content).hexdigest()
        return document.verification(
            now=self.clock(), signature_valid=signature_valid, uploaded_sha256=uploaded
        )

    async def _owned(self, context: AccessContext, document_id: UUID) -> Document:
        """The document if the caller is its patient, or requested it and may still download
        the patient's documents (identity decides on every access: a revoked power of attorney
        ends access to the documents it produced). Anyone else gets «not found», so that other
        people's document ids reveal nothing."""
        document = await self.repository.get(document_id)
        if document is None or not document.may_be_used_by(context.actor_id):
            raise ServiceError(ErrorCode.NOT_FOUND, NOT_FOUND)
        if context.actor_id == document.patient_id:
            return document
        for_patient = AccessContext(
            actor_id=context.actor_id,
            session_id=context.session_id,
            patient_id=document.patient_id,
            roles=context.roles,
        )
        decision = await self.access.authorize(for_patient, Action.DOWNLOAD_DOCUMENTS)
        if not decision.allowed:
            security_event(
                "document_access_denied",
                document_id=str(document.id),
                actor_id=str(context.actor_id),
                patient_id=str(document.patient_id),
            )
            raise ServiceError(ErrorCode.FORBIDDEN, NO_LONGER_ALLOWED)
        return document

    async def _view(self, document_id: UUID) -> DocumentView:
        document = await self.repository.get(document_id)
        if document is None:
            raise ServiceError(ErrorCode.NOT_FOUND, NOT_FOUND)
        return document.view(self.clock())


def _by_representative(
    event: str, context: AccessContext, document: Document, *, channel: str
) -> None:
    """A representative (not the patient) took the document: ids only, no personal data."""
    security_event(
        event,
        document_id=str(document.id),
        actor_id=str(context.actor_id),
        patient_id=str(document.patient_id),
        channel=channel,
    )


_NOT_SENDABLE: dict[DocumentStatus, str] = {
    DocumentStatus.PENDING: "Документ ещё формируется: отправьте его, когда он будет готов.",
    DocumentStatus.FAILED: "Документ не удалось сформировать: запросите его заново.",
    DocumentStatus.REVOKED: "Документ отозван и не может быть отправлен.",
    DocumentStatus.EXPIRED: "Срок хранения документа истёк: запросите его заново.",
}
