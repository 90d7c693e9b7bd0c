"""Use cases of corrections: the patient files, reads and withdraws requests on their own
rights (`file_corrections`, `read_services`); the clinic that reported the record answers
through the clinics' door."""

from collections.abc import Callable
from datetime import date, datetime
from uuid import UUID, uuid4

from gosmed.contracts import topology
from gosmed.contracts.access import AccessContext, Role
from gosmed.contracts.base import utc_now
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.access import Action
from gosmed.contracts.identity.notifications import NOTIFY_QUEUE
from gosmed.contracts.identity.organizations import OrganizationAction
from gosmed.contracts.records.corrections import (
    AnswerCorrection,
    AnswerCorrectionForOrganization,
    CorrectionAnswered,
    CorrectionAttachment,
    CorrectionAttachmentFile,
    CorrectionRequested,
    CorrectionsPage,
    CorrectionStats,
    CorrectionStatus,
    CorrectionView,
    FetchCorrectionAttachment,
    FileCorrection,
    GetCorrection,
    GetCorrectionStats,
    ListCorrections,
    ListOperatorCorrections,
    ListOrganizationCorrections,
    OperatorFilter,
    UploadCorrectionAttachment,
    WithdrawCorrection,
)
from gosmed.contracts.records.details import GetRenderedService, RenderedServiceDetail
from gosmed.records.attachments import attachment_type
from gosmed.records.attachments_repository import AttachmentsRepository
from gosmed.records.correction_rules import (
    Correction,
    answer_notice,
    correction_number,
    correction_stats,
    current_values,
    due_on,
    late_notice,
    moscow_day,
    proposed_changes,
)
from gosmed.records.corrections_repository import CorrectionsRepository
from gosmed.records.service import Reading
from gosmed.runtime.broker import RefusedError
from gosmed.runtime.cursor import decode_cursor, encode_cursor
from gosmed.runtime.outbox import OutboxEntry, Relay

OPERATORS_ONLY = "Сводки по заявлениям об исправлении доступны только операторам портала."
CORRECTION_NOT_FOUND = "Заявление об исправлении не найдено."
ATTACHMENTS_UNKNOWN = (
    "Приложенные файлы не найдены или уже приложены к другому заявлению: загрузите их заново."
)


class Corrections:
    def __init__(
        self,
        corrections: CorrectionsRepository,
        attachments: AttachmentsRepository,
        reading: Reading,
        relay: Relay,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.corrections = corrections
        self.attachments = attachments
        self.reading = reading
        self.relay = relay
        self.clock = clock
        relay.add(corrections.outbox)

    async def file(self, command: FileCorrection) -> CorrectionView:
        """Store the request with its CorrectionRequested for the clinic, then send it (or
        leave it to the relay); a stranger learns nothing (404), a second open one is 409."""
        decision = await self.reading.authorize(command.context, Action.FILE_CORRECTIONS)
        patient = decision.allowed_patient
        _, record = await self.reading.visible_record(decision, command.record_id)
        changes = proposed_changes(command.changes, current_values(record))
        if not changes and not (command.comment or "").strip():
            raise ServiceError(
                ErrorCode.VALIDATION_FAILED,
                "Предложенные значения совпадают с записью: укажите исправление или комментарий.",
            )
        if await self.corrections.open_of(command.record_id) is not None:
            raise ServiceError(ErrorCode.CONFLICT, "По этой записи уже есть открытое заявление.")
        now, ident = self.clock(), uuid4()
        organization_id = UUID(record["organization_id"])
        attachments = await self.attachments.claim(patient.snils, command.attachment_ids, ident)
        if attachments is None:
            raise ServiceError(ErrorCode.VALIDATION_FAILED, ATTACHMENTS_UNKNOWN)
        correction = Correction(
            id=ident,
            number=correction_number(ident, now),
            record_id=command.record_id,
            organization_id=organization_id,
            patient_snils=patient.snils,
            status=CorrectionStatus.FILED,
            changes=tuple(changes),
            comment=(command.comment or "").strip() or None,
            filed_at=now,
            due_on=due_on(moscow_day(now)),
            attachments=tuple(attachments),
        )
        request = CorrectionRequested(
            correction_id=ident,
            number=correction.number,
            organization_id=organization_id,
            record_id=command.record_id,
            clinic_record_id=record["clinic_record_id"],
            version=record["version"],
            patient_snils=patient.snils,
            changes=command.changes,
            comment=correction.comment,
            attachments=correction.attachments,
            due_on=correction.due_on,
        )
        queue = topology.clinic_queue(organization_id, topology.CLINIC_CORRECTIONS)
        try:
            await self.corrections.insert(correction, OutboxEntry.command(queue, request))
        except ServiceError:
            await self.attachments.release(ident)
            raise
        await self.relay.flush(self.corrections.outbox, str(ident))
        if not await self.corrections.outbox.pending([str(ident)]):
            await self.corrections.sent(ident)
            correction = correction.sent()
        return correction.view(self.clock())

    async def upload(self, command: UploadCorrectionAttachment) -> CorrectionAttachment:
        """Keep a file (sealed) for a request the patient is about to file."""
        decision = await self.reading.authorize(command.context, Action.FILE_CORRECTIONS)
        attachment = CorrectionAttachment(
            id=uuid4(),
            filename=command.filename,
            media_type=attachment_type(command.content),
            size=len(command.content),
        )
        await self.attachments.add(
            attachment, decision.allowed_patient.snils, command.content, self.clock()
        )
        return attachment

    async def fetch(
        self, organization_id: UUID, query: FetchCorrectionAttachment
    ) -> CorrectionAttachmentFile:
        """A file of a request, for the clinic `organization_id` (known from the door) the
        request is addressed to; any other asker learns nothing."""
        correction = await self.corrections.get(query.correction_id)
        attachment = None
        if correction is not None and correction.organization_id == organization_id:
            attachment = next(
                (a for a in correction.attachments if a.id == query.attachment_id), None
            )
        content = attachment and await self.attachments.content(
            query.attachment_id, query.correction_id
        )
        if attachment is None or content is None:
            raise RefusedError(
                ErrorCode.NOT_FOUND,
                f"Файла {query.attachment_id} в заявлении {query.correction_id} вашей клиники нет.",
            )
        return CorrectionAttachmentFile(
            correction_id=query.correction_id, attachment=attachment, content=content
        )

    async def list_of_patient(self, query: ListCorrections) -> CorrectionsPage:
        decision = await self.reading.authorize(query.context, Action.READ_SERVICES)
        found = await self.corrections.of_patient(decision.allowed_patient.snils)
        now = self.clock()
        return CorrectionsPage(items=tuple(c.view(now) for c in found))

    async def get(self, query: GetCorrection) -> CorrectionView:
        decision = await self.reading.authorize(query.context, Action.READ_SERVICES)
        return (await self._own(decision.allowed_patient.snils, query.correction_id)).view(
            self.clock()
        )

    async def withdraw(self, command: WithdrawCorrection) -> CorrectionView:
        decision = await self.reading.authorize(command.context, Action.FILE_CORRECTIONS)
        correction = await self._own(decision.allowed_patient.snils, command.correction_id)
        now = self.clock()
        withdrawn = correction.withdrawn(now)
        if not await self.corrections.close(correction, withdrawn):
            raise ServiceError(ErrorCode.CONFLICT, "Заявление уже закрыто.")
        return withdrawn.view(now)

    async def of_record(self, record_id: UUID) -> list[CorrectionView]:
        """A record's requests for its detail, the open one first."""
        now = self.clock()
        found = await self.corrections.of_record(record_id)
        return [c.view(now) for c in sorted(found, key=lambda c: not c.open)]

    async def answer(self, organization_id: UUID, answer: AnswerCorrection) -> CorrectionAnswered:
        """The answer of the clinic `organization_id` (known from the door); only the clinic
        of the record may answer. A redelivered answer changes nothing."""
        correction = await self.corrections.get(answer.correction_id)
        if correction is None:
            raise RefusedError(ErrorCode.NOT_FOUND, f"Заявления {answer.correction_id} нет.")
        if correction.organization_id != organization_id:
            raise RefusedError(
                ErrorCode.ORGANIZATION_MISMATCH,
                f"Заявление {correction.number} адресовано не клинике {organization_id}: "
                "ответить может только клиника, передавшая запись.",
            )
        answered_as = CorrectionStatus.ACCEPTED if answer.accepted else CorrectionStatus.REJECTED
        if not correction.open:
            if correction.status == answered_as:  # a redelivery, or the clinic sent it twice
                return CorrectionAnswered(correction_id=correction.id, status=correction.status)
            raise RefusedError(
                ErrorCode.CONFLICT,
                f"Заявление {correction.number} уже закрыто ({correction.status.value}).",
            )
        closed = correction.answered(answer.accepted, answer.reason, self.clock())
        notice = OutboxEntry.command(NOTIFY_QUEUE, answer_notice(closed))
        if not await self.corrections.close(correction, closed, notice):
            return await self.answer(organization_id, answer)  # closed meanwhile: look again
        await self.relay.flush(self.corrections.outbox, str(correction.id))
        return CorrectionAnswered(correction_id=closed.id, status=closed.status)

    async def answer_for_organization(
        self, command: AnswerCorrectionForOrganization
    ) -> CorrectionAnswered:
        """A staff member answers in the clinic's name (identity decides and journals), as the
        clinic's integration does through the door; another clinic's request is not found."""
        subject = f"ответ на заявление {command.correction_id}"
        await self.reading.identity.act_for_organization(
            command.context, command.organization_id, OrganizationAction.ANSWER_CORRECTIONS, subject
        )
        try:
            return await self.answer(command.organization_id, command)
        except RefusedError as refused:
            if refused.code == ErrorCode.ORGANIZATION_MISMATCH:
                raise ServiceError(ErrorCode.NOT_FOUND, CORRECTION_NOT_FOUND) from None
            raise ServiceError(refused.code, refused.message) from None

    async def of_organization(self, query: ListOrganizationCorrections) -> CorrectionsPage:
        """A clinic's staff: the clinic's open (or overdue) requests, oldest due first."""
        await self.reading.identity.act_for_organization(
            query.context,
            query.organization_id,
            OrganizationAction.ANSWER_CORRECTIONS,
            "список заявлений об исправлении",
        )
        return await self._open_ones(query.status, query.organization_id, query.limit)

    async def stats_for_organization(self, query: GetCorrectionStats) -> CorrectionStats:
        """The clinic's own figures for its staff (scope `see_figures`)."""
        await self.reading.identity.act_for_organization(
            query.context,
            query.organization_id,
            OrganizationAction.SEE_FIGURES,
            "сводка заявлений об исправлении",
        )
        figures = await self.corrections.figures(query.organization_id, moscow_day(self.clock()))
        return correction_stats(query.organization_id, figures)

    async def detail(self, query: GetRenderedService) -> RenderedServiceDetail:
        """The record's detail (decided and journaled by `Reading`) with its requests."""
        detail = await self.reading.get_service(query)
        return detail.model_copy(
            update={"corrections": tuple(await self.of_record(query.record_id))}
        )

    async def overdue(self, query: ListOperatorCorrections) -> CorrectionsPage:
        """Operators: open requests of every clinic (only the overdue ones by default)."""
        _operator(query.context)
        return await self._open_ones(query.status, query.organization_id, query.limit, query.cursor)

    async def _open_ones(
        self,
        status: OperatorFilter,
        organization_id: UUID | None,
        limit: int,
        cursor: str | None = None,
    ) -> CorrectionsPage:
        now = self.clock()
        due_before = moscow_day(now) if status == OperatorFilter.OVERDUE else None
        after = decode_cursor(cursor, date.fromisoformat, UUID) if cursor else None
        found = await self.corrections.open_ones(due_before, organization_id, limit + 1, after)
        page = found[:limit]
        last = page[-1] if len(found) > limit else None
        return CorrectionsPage(
            items=tuple(c.view(now) for c in page),
            next_cursor=encode_cursor(last.due_on.isoformat(), str(last.id)) if last else None,
        )

    async def stats(self, query: GetCorrectionStats) -> CorrectionStats:
        _operator(query.context)
        figures = await self.corrections.figures(query.organization_id, moscow_day(self.clock()))
        return correction_stats(query.organization_id, figures)

    async def escalate_overdue(self) -> int:
        """Tell each patient whose request is past its due day without an answer, once (the
        operators' list shows these requests); how many were escalated."""
        now = self.clock()
        marked = await self.corrections.escalate(
            moscow_day(now), now, lambda c: OutboxEntry.command(NOTIFY_QUEUE, late_notice(c))
        )
        await self.relay.flush(self.corrections.outbox, *marked)
        return len(marked)

    async def _own(self, patient_snils: str, ident: UUID) -> Correction:
        correction = await self.corrections.get(ident)
        if correction is None or correction.patient_snils != patient_snils:
            raise ServiceError(ErrorCode.NOT_FOUND, CORRECTION_NOT_FOUND)
        return correction


def _operator(context: AccessContext) -> None:
    if Role.OPERATOR not in context.roles:
        raise ServiceError(ErrorCode.FORBIDDEN, OPERATORS_ONLY)
