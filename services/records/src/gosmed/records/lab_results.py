"""Use cases of lab results: intake of the clinics' reports, and reading on the original
person's `read_lab_results` right, each read journaled with its legal basis."""

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from uuid import UUID

from gosmed.contracts.access import AccessContext
from gosmed.contracts.base import utc_now
from gosmed.contracts.documents.lab_reports import EmailLabReport, RenderLabReport
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.access import AccessDecision, Action
from gosmed.contracts.identity.action_codes import CheckActionCode, IssueActionCode
from gosmed.contracts.records.lab import (
    MAX_EXPORT_VALUES,
    ConfirmLabResultChange,
    EmailLabResult,
    ExportLabValues,
    GetLabResult,
    GetLabResultFile,
    LabChangeDone,
    LabChangePending,
    LabFileFormat,
    LabResultDetail,
    LabResultEmailed,
    LabResultFile,
    LabResultsAccepted,
    LabResultsPage,
    LabResultSummary,
    LabStatus,
    LabValue,
    LabValuesExport,
    ListLabResults,
    ReportLabResults,
    RequestLabResultChange,
)
from gosmed.records.cards import Cards
from gosmed.records.domain import Outcome, Position
from gosmed.records.lab_results_repository import (
    LabFilter,
    LabResultsRepository,
    PendingChange,
    StoredLabResult,
)
from gosmed.records.lab_rules import (
    CHANGE_ACTIONS,
    GONE_MESSAGE,
    NO_CHANGE,
    NOT_FOUND_MESSAGE,
    OWNER_ONLY,
    change_subject,
    expired,
    expiry_cutoff,
    matches,
    wrong_code,
)
from gosmed.records.ports import Documents
from gosmed.records.service import OWNER_BASES, Reading
from gosmed.runtime.outbox import Relay

MEDIA_TYPES = {LabFileFormat.PDF: "application/pdf", LabFileFormat.XML: "application/xml"}


class LabResults:
    def __init__(
        self,
        store: LabResultsRepository,
        reading: Reading,
        cards: Cards,
        documents: Documents,
        relay: Relay,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.reading = reading
        self.cards = cards
        self.documents = documents
        self.relay = relay
        self.clock = clock
        relay.add(store.outbox)

    async def report(self, report: ReportLabResults) -> LabResultsAccepted:
        """Store each result (a newer version only), then relay the notices of those that
        became ready; the message is acked after this."""
        now = self.clock()
        outcomes: Counter[Outcome] = Counter()
        written: list[str] = []
        for result in report.results:
            outcome, ident = await self.store.store(report.organization_id, result, now)
            outcomes[outcome] += 1
            if outcome != Outcome.UNCHANGED:
                written.append(ident)
        await self.relay.flush(self.store.outbox, *written)
        return LabResultsAccepted(
            created=outcomes[Outcome.CREATED],
            updated=outcomes[Outcome.UPDATED],
            unchanged=outcomes[Outcome.UNCHANGED],
        )

    async def list_results(self, query: ListLabResults) -> LabResultsPage:
        decision = await self._authorize(query.context)
        patient = decision.allowed_patient
        where = LabFilter(
            patient_snils=patient.snils,
            status=query.status,
            period=query.period,
            include_restricted=decision.sees_restricted_categories,
        )
        after = Position.decode(query.cursor) if query.cursor else None
        found = await self.store.page(where, after, query.limit + 1)
        page = found[: query.limit]
        items = await self._named([r.summary for r in page])
        await self.reading.journal_read(decision, "lab-list", [i.id for i in items])
        last = items[-1] if items else None
        return LabResultsPage(
            patient=patient,
            items=tuple(items),
            next_cursor=Position(last.ordered_on.isoformat(), str(last.id)).encode()
            if len(found) > query.limit and last
            else None,
            basis_label=decision.basis_label,
        )

    async def get_result(self, query: GetLabResult) -> LabResultDetail:
        decision, result = await self._readable(query.context, query.result_id)
        detail = await self._detail(decision, result)
        await self.reading.journal_read(decision, "lab-detail", [detail.item.id])
        return detail

    async def file(self, query: GetLabResultFile) -> LabResultFile:
        """The laboratory's own file in the format asked for, or one documents renders from
        the analytes when the laboratory sent none."""
        decision, result = await self._readable(query.context, query.result_id)
        report, own = await self._sendable(decision, result, query.format)
        file = own or await self.documents.render_lab(report)
        await self.reading.journal_read(
            decision, f"lab-file-{query.format.value}", [result.summary.id]
        )
        return file

    async def email(self, command: EmailLabResult) -> LabResultEmailed:
        """E-mail the result's file to the caller's confirmed address (through documents)."""
        decision, result = await self._readable(command.context, command.result_id)
        report, own = await self._sendable(decision, result, command.format)
        sent = await self.documents.email_lab(
            EmailLabReport(report=report, recipient_account_id=decision.actor_id, file=own)
        )
        await self.reading.journal_read(
            decision, f"lab-email-{command.format.value}", [result.summary.id]
        )
        return sent

    async def _sendable(
        self, decision: AccessDecision, result: StoredLabResult, fmt: LabFileFormat
    ) -> tuple[RenderLabReport, LabResultFile | None]:
        """What documents needs to render a ready result, and the laboratory's own file in
        `fmt` if it sent one."""
        if result.summary.status != LabStatus.READY:
            raise ServiceError(ErrorCode.CONFLICT, "Результат исследования ещё не готов.")
        detail = await self._detail(decision, result)
        report = RenderLabReport(
            result=detail,
            organization_name=detail.item.organization_name,
            format=fmt,
            rendered_on=self.clock().date(),
        )
        content = await self.store.file(result.summary.id, fmt)
        if content is None:
            return report, None
        own = LabResultFile(
            file_name=f"lab-result-{result.summary.ordered_on.isoformat()}.{fmt.value}",
            media_type=MEDIA_TYPES[fmt],
            content=content,
        )
        return report, own

    async def _detail(self, decision: AccessDecision, result: StoredLabResult) -> LabResultDetail:
        [summary] = await self._named([result.summary])
        return LabResultDetail(
            patient=decision.allowed_patient,
            item=summary,
            clinic_result_id=result.clinic_result_id,
            specialist_name=result.specialist_name,
            collected_at=result.collected_at,
            analytes=result.analytes,
            clinic_files=result.files,
            basis_label=decision.basis_label,
        )

    async def request_change(self, command: RequestLabResultChange) -> LabChangePending:
        """Step one of a deletion or a note: the code goes by SMS to whoever acts (the patient
        or the parent of a minor); nothing changes yet."""
        decision, result = await self._readable(command.context, command.result_id)
        if decision.basis not in OWNER_BASES:
            raise ServiceError(ErrorCode.FORBIDDEN, OWNER_ONLY)
        issued = await self.reading.identity.issue_action_code(
            IssueActionCode(
                account_id=decision.actor_id,
                subject=change_subject(result.summary.id, command.kind),
                action=CHANGE_ACTIONS[command.kind],
            )
        )
        await self.store.pend(
            PendingChange(
                id=issued.code_id,
                result_id=result.summary.id,
                actor_id=decision.actor_id,
                kind=command.kind,
                note=(command.note or "").strip() or None,
                expires_at=issued.expires_at,
            )
        )
        return LabChangePending(
            confirmation_id=issued.code_id,
            kind=command.kind,
            expires_at=issued.expires_at,
            sent_to=issued.sent_to,
        )

    async def confirm_change(self, command: ConfirmLabResultChange) -> LabChangeDone:
        """Step two: the change is made only with the right code, once."""
        decision, result = await self._readable(command.context, command.result_id)
        change = await self.store.pending(
            command.confirmation_id, result.summary.id, decision.actor_id
        )
        if change is None:
            raise ServiceError(ErrorCode.NOT_FOUND, NO_CHANGE)
        checked = await self.reading.identity.check_action_code(
            CheckActionCode(
                code_id=change.id,
                account_id=decision.actor_id,
                subject=change_subject(change.result_id, change.kind),
                code=command.code,
            )
        )
        if not checked.confirmed:
            raise ServiceError(ErrorCode.VALIDATION_FAILED, wrong_code(checked.tries_left))
        await self.store.apply(change)
        await self.reading.journal_read(decision, f"lab-{change.kind.value}", [change.result_id])
        return LabChangeDone(result_id=change.result_id, kind=change.kind, note=change.note)

    async def export_values(self, query: ExportLabValues) -> LabValuesExport:
        """Values of the asked analytes of ready results within their 12 months, oldest
        first."""
        decision = await self._authorize(query.context)
        patient = decision.allowed_patient
        now = self.clock()
        start = expiry_cutoff(now)
        end = None
        if query.period is not None:
            start = max(start, datetime.combine(query.period.start, time(), UTC))
            end = datetime.combine(query.period.end + timedelta(days=1), time(), UTC)
        results = await self.store.ready_between(patient.snils, start, end)
        values = [
            LabValue(
                result_id=r.summary.id,
                ready_at=r.summary.ready_at,
                study_name=r.summary.study_name,
                analyte=a,
            )
            for r in results
            if r.summary.ready_at is not None
            and (decision.sees_restricted_categories or not r.restricted)
            for a in r.analytes
            if matches(a, query.analyte_codes)
        ]
        kept = values[:MAX_EXPORT_VALUES]
        await self.reading.journal_read(decision, "lab-export", sorted({v.result_id for v in kept}))
        return LabValuesExport(
            patient=patient,
            values=tuple(kept),
            truncated=len(values) > MAX_EXPORT_VALUES,
            basis_label=decision.basis_label,
        )

    async def erase_expired(self) -> int:
        """Erase the files and values of results past their 12 months."""
        return await self.store.erase_files_ready_before(expiry_cutoff(self.clock()))

    async def _authorize(self, context: AccessContext) -> AccessDecision:
        return await self.reading.authorize(context, Action.READ_LAB_RESULTS)

    async def _readable(
        self, context: AccessContext, result_id: UUID
    ) -> tuple[AccessDecision, StoredLabResult]:
        """The decision and the result, when the reader may see it and it is not expired."""
        decision = await self._authorize(context)
        try:
            result = await self.store.get(decision.allowed_patient.snils, result_id)
        except KeyError:
            raise ServiceError(ErrorCode.NOT_FOUND, NOT_FOUND_MESSAGE) from None
        if result.restricted and not decision.sees_restricted_categories:
            raise ServiceError(ErrorCode.NOT_FOUND, NOT_FOUND_MESSAGE)
        if expired(result.summary.ready_at, self.clock()):
            raise ServiceError(ErrorCode.GONE, GONE_MESSAGE)
        return decision, result

    async def _named(self, items: list[LabResultSummary]) -> list[LabResultSummary]:
        found = await self.cards.find({i.organization_id for i in items}, set())
        named = []
        for item in items:
            card = found.organizations.get(item.organization_id)
            named.append(item.model_copy(update={"organization_name": card.name}) if card else item)
        return named
