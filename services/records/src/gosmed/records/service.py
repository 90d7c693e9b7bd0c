"""Use cases: intake of clinic reports, and reading on the original person's rights, each read
journaled with its legal basis."""

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from gosmed.contracts.access import AccessContext, LegalBasis
from gosmed.contracts.base import utc_now
from gosmed.contracts.demo import PATIENTS_WITH_HISTORY
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.access import AccessDecision, Action, PatientRef
from gosmed.contracts.records.consents import DataConsentView, GetDataConsent, SetDataConsent
from gosmed.contracts.records.details import GetRenderedService, RenderedServiceDetail
from gosmed.contracts.records.intake import (
    ReportAccepted,
    ReportRenderedServices,
    RequestClinicSync,
)
from gosmed.contracts.records.journal import AccessLogPage, GetAccessLog
from gosmed.contracts.records.queries import (
    MAX_EXPORT,
    ExportRenderedServices,
    ListRenderedServices,
    Notice,
    NoticeCode,
    RenderedServicesExport,
    RenderedServicesPage,
)
from gosmed.contracts.records.sync import (
    ClinicSyncStatus,
    RefreshReport,
    RefreshServices,
    SyncState,
)
from gosmed.contracts.records.views import RenderedServiceView
from gosmed.contracts.scheduling.journal import AppointmentActedFor
from gosmed.records.cards import Cards
from gosmed.records.domain import (
    DataConsent,
    HiddenSpecialists,
    OrganizationSummary,
    Outcome,
    Position,
    SpecialistSummary,
    check_price,
    cost_history,
    count_notices,
    is_restricted,
    notice,
    resolve_period,
    search_words,
    sync_notices,
    within_bytes,
)
from gosmed.records.ports import Identity, Registry, Sender
from gosmed.records.repository import (
    ConsentsRepository,
    Document,
    JournalRepository,
    RecordFilter,
    RecordsRepository,
    SyncRepository,
)
from gosmed.runtime.outbox import Relay

PATIENT_NOT_FOUND = "Пациент не найден."
RECORD_NOT_FOUND = "Запись об оказанной услуге не найдена."
DEMO_ACTOR = UUID(int=0)
OWNER_BASES = frozenset({LegalBasis.OWN_ACCOUNT, LegalBasis.PARENT_OF_MINOR})


@dataclass(frozen=True)
class Timing:
    """How often clinics may be asked to re-send, and how long they have to answer."""

    sync_cooldown: timedelta
    sync_answer_within: timedelta


class Intake:
    """Stores clinic reports idempotently; new records are announced through the outbox."""

    def __init__(
        self,
        records: RecordsRepository,
        syncs: SyncRepository,
        relay: Relay,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.records = records
        self.syncs = syncs
        self.relay = relay
        self.clock = clock
        relay.add(records.outbox)
        relay.add(records.notices)

    async def report(self, report: ReportRenderedServices) -> ReportAccepted:
        """Write the batch with what it announces, then publish that (or leave it to the
        relay, if the broker does not take it now); the message is acked after this."""
        now = self.clock()
        written = await self.records.store_batch(
            report.organization_id, report.services, str(report.message_id), now
        )
        patients = {item.patient_snils for item in report.services}
        await self.syncs.reported(report.organization_id, report.sync_queue, patients, now)
        await asyncio.gather(
            self.relay.flush(self.records.outbox, *written.new_records),
            self.relay.flush(self.records.notices, *written.patients),
        )
        outcomes = Counter(written.outcomes)
        return ReportAccepted(
            created=outcomes[Outcome.CREATED],
            updated=outcomes[Outcome.UPDATED],
            unchanged=outcomes[Outcome.UNCHANGED],
        )


class Reading:
    """Reads of a patient's records, decided by identity and journaled with the basis."""

    def __init__(
        self,
        records: RecordsRepository,
        consents: ConsentsRepository,
        syncs: SyncRepository,
        journal: JournalRepository,
        identity: Identity,
        registry: Registry,
        cards: Cards,
        sender: Sender,
        timing: Timing,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.records = records
        self.consents = consents
        self.syncs = syncs
        self.journal = journal
        self.identity = identity
        self.registry = registry
        self.cards = cards
        self.sender = sender
        self.timing = timing
        self.clock = clock

    async def authorize(self, context: AccessContext, action: Action) -> AccessDecision:
        """The decision on the original person's rights; a stranger learns nothing (404)."""
        decision = await self.identity.authorize(context, action)
        if decision.allowed and decision.patient is not None:
            return decision
        if context.acts_for_self:
            raise ServiceError(ErrorCode.FORBIDDEN, decision.reason or None)
        raise ServiceError(ErrorCode.NOT_FOUND, PATIENT_NOT_FOUND)

    async def list_services(self, query: ListRenderedServices) -> RenderedServicesPage:
        decision = await self.authorize(query.context, Action.READ_SERVICES)
        patient = decision.allowed_patient
        consent = await self.consents.get(patient.snils)
        where = RecordFilter(
            patient_snils=patient.snils,
            organization_ids=_visible_organizations(consent, query.organization_ids),
            categories=query.categories,
            period=resolve_period(query.period, query.preset, self.clock().date()),
            specialist_ids=query.specialist_ids,
            coverage=frozenset(c.value for c in query.coverage),
            words=search_words(query.text),
            include_restricted=decision.sees_restricted_categories,
            hidden_specialists=await self._hidden_specialists(patient, decision),
        )
        after = Position.decode(query.cursor) if query.cursor else None
        found = await self.records.page(where, after, query.limit + 1)
        joined, registry_up = await self._join(found[: query.limit])
        items = within_bytes(joined)
        more = len(found) > len(items)
        notices = [] if after else await self._notices(patient, consent, decision)
        if not registry_up:
            notices.append(notice(NoticeCode.REGISTRY_UNAVAILABLE))
        await self.journal_read(decision, "list", [i.id for i in items])
        last = items[-1] if items else None
        return RenderedServicesPage(
            patient=patient,
            items=tuple(items),
            next_cursor=Position(last.rendered_on.isoformat(), str(last.id)).encode()
            if more and last
            else None,
            notices=tuple(notices),
            basis_label=decision.basis_label,
        )

    async def export_services(self, query: ExportRenderedServices) -> RenderedServicesExport:
        decision = await self.authorize(query.context, Action.DOWNLOAD_DOCUMENTS)
        patient = decision.allowed_patient
        consent = await self.consents.get(patient.snils)
        where = RecordFilter(
            patient_snils=patient.snils,
            organization_ids=_visible_organizations(consent, query.organization_ids),
            categories=query.categories,
            period=query.period,
            coverage=frozenset(c.value for c in query.coverage),
            include_restricted=decision.sees_restricted_categories,
            hidden_specialists=await self._hidden_specialists(patient, decision),
            record_ids=frozenset(query.record_ids) if query.record_ids is not None else None,
        )
        found = await self.records.page(where, None, MAX_EXPORT + 1)
        items, _ = await self._join(found[:MAX_EXPORT])
        await self.journal_read(decision, "export", [i.id for i in items])
        return RenderedServicesExport(
            patient=patient,
            items=tuple(items),
            truncated=len(found) > MAX_EXPORT,
            basis_label=decision.basis_label,
        )

    async def get_service(self, query: GetRenderedService) -> RenderedServiceDetail:
        decision = await self.authorize(query.context, Action.READ_SERVICES)
        item, raw = await self.visible_record(decision, query.record_id)
        organizations, specialists, versions, tariff = await asyncio.gather(
            self.registry.organizations([item.organization_id]),
            self.registry.specialists([item.specialist_id] if item.specialist_id else []),
            self.records.versions_of(item.id),
            self.registry.tariff(item.service_code, item.rendered_on, item.organization_id),
        )
        organization = (organizations or {}).get(item.organization_id)
        specialist = (specialists or {}).get(item.specialist_id) if item.specialist_id else None
        await self.journal_read(decision, "detail", [item.id])
        return RenderedServiceDetail(
            patient=decision.allowed_patient,
            item=_joined(
                item,
                OrganizationSummary.of(organization) if organization else None,
                SpecialistSummary.of(specialist) if specialist else None,
            ),
            clinic_record_id=raw["clinic_record_id"],
            history=tuple(versions),
            cost_history=tuple(cost_history(versions)),
            tariff=tariff,
            price_flags=tuple(check_price(item.cost, item.coverage, tariff)),
            organization=organization,
            specialist=specialist,
            notices=(notice(NoticeCode.REGISTRY_UNAVAILABLE),)
            if organizations is None or specialists is None
            else (),
            basis_label=decision.basis_label,
        )

    async def visible_record(
        self, decision: AccessDecision, record_id: UUID
    ) -> tuple[RenderedServiceView, Document]:
        """The record as the decided reader may see it (the patient's consent, restricted
        categories, hidden specialties); one they may not see is not found."""
        patient = decision.allowed_patient
        consent = await self.consents.get(patient.snils)
        try:
            item, raw = await self.records.get(patient.snils, record_id)
        except KeyError:
            raise ServiceError(ErrorCode.NOT_FOUND, RECORD_NOT_FOUND) from None
        visible = _visible_organizations(consent, frozenset())
        if visible is not None and item.organization_id not in visible:
            raise ServiceError(ErrorCode.NOT_FOUND, RECORD_NOT_FOUND)
        if not decision.sees_restricted_categories and (
            raw["restricted"]
            or is_restricted(None, item.service_code)
            or (await self._hidden_specialists(patient, decision, item.specialist_id)).hide(
                item.specialist_id, item.category
            )
        ):
            raise ServiceError(ErrorCode.NOT_FOUND, RECORD_NOT_FOUND)
        return item, raw

    async def refresh(self, query: RefreshServices) -> RefreshReport:
        """Ask each clinic that served the patient to re-send; repeated presses within the
        cooldown do not reach the clinic again."""
        decision = await self.authorize(query.context, Action.READ_SERVICES)
        patient = decision.allowed_patient
        now = self.clock()
        syncs = {s.organization_id: s for s in await self.syncs.of_patient(patient.snils)}
        organization_ids = await self.records.organizations_of(patient.snils)
        names = await self.registry.organizations(organization_ids) or {}
        statuses = []
        for organization_id in organization_ids:
            sync = syncs.get(organization_id)
            requested_at = sync.requested_at if sync else None
            if sync is not None and not sync.may_request(now, self.timing.sync_cooldown):
                state = SyncState.ALREADY_REQUESTED
            elif (queue := await self.syncs.sync_queue(organization_id)) is None:
                state = SyncState.NO_CHANNEL
            elif await self.sender.request_sync(
                queue,
                RequestClinicSync(
                    patient_snils=patient.snils,
                    patient_oms_policy=patient.oms_policy,
                    organization_id=organization_id,
                ),
            ):
                state, requested_at = SyncState.REQUESTED, now
                await self.syncs.requested(patient.snils, organization_id, now)
            else:
                state = SyncState.UNREACHABLE
            card = names.get(organization_id)
            statuses.append(
                ClinicSyncStatus(
                    organization_id=organization_id,
                    organization_name=card.short_name if card else None,
                    state=state,
                    requested_at=requested_at,
                    last_report_at=sync.last_report_at if sync else None,
                )
            )
        return RefreshReport(clinics=tuple(statuses))

    async def consent(self, query: GetDataConsent) -> DataConsentView:
        patient = await self._owner(query.context)
        return _consent_view(await self.consents.get(patient.snils))

    async def set_consent(self, command: SetDataConsent) -> DataConsentView:
        patient = await self._owner(command.context)
        consent = DataConsent(
            all_clinics=command.all_clinics,
            organization_ids=frozenset() if command.all_clinics else command.organization_ids,
            updated_at=self.clock(),
        )
        await self.consents.put(patient.snils, consent, command.context.actor_id)
        return _consent_view(consent)

    async def access_log(self, query: GetAccessLog) -> AccessLogPage:
        patient = await self._owner(query.context)
        after = Position.decode(query.cursor) if query.cursor else None
        found = await self.journal.page(patient.account_id, after, query.limit + 1)
        page = found[: query.limit]
        last = page[-1] if page else None
        return AccessLogPage(
            items=tuple(page),
            next_cursor=Position(last.at.isoformat(), str(last.id)).encode()
            if len(found) > query.limit and last
            else None,
        )

    async def _owner(self, context: AccessContext) -> PatientRef:
        """The patient, or the parent of a minor one: who gives consents and reads the journal."""
        decision = await self.authorize(context, Action.READ_SERVICES)
        if decision.basis not in OWNER_BASES:
            raise ServiceError(
                ErrorCode.FORBIDDEN,
                "Это доступно только самому пациенту или законному представителю ребёнка.",
            )
        return decision.allowed_patient

    async def _join(
        self, items: list[RenderedServiceView]
    ) -> tuple[list[RenderedServiceView], bool]:
        """Join the names of the kept registry cards; records are returned even when the
        registry is down and a card is not kept yet (then False)."""
        found = await self.cards.find(
            {i.organization_id for i in items}, {i.specialist_id for i in items if i.specialist_id}
        )
        joined = [
            _joined(
                item,
                found.organizations.get(item.organization_id),
                found.specialists.get(item.specialist_id) if item.specialist_id else None,
            )
            for item in items
        ]
        return joined, found.complete

    async def _notices(
        self, patient: PatientRef, consent: DataConsent, decision: AccessDecision
    ) -> list[Notice]:
        counts = await self.records.counts_of(patient.snils)
        notices = count_notices(counts, consent, decision.sees_restricted_categories)
        syncs = await self.syncs.of_patient(patient.snils)
        return notices + sync_notices(syncs, self.clock(), self.timing.sync_answer_within)

    async def _hidden_specialists(
        self, patient: PatientRef, decision: AccessDecision, only: UUID | None = None
    ) -> HiddenSpecialists:
        """For a reader who may not see restricted categories: the patient's doctors (or just
        `only`) whose specialty restricts their records, from the kept registry cards."""
        if decision.sees_restricted_categories:
            return HiddenSpecialists()
        if only is not None:
            asked = {only}
        else:
            asked = await self.records.specialists_of(patient.snils)
        if not asked:
            return HiddenSpecialists()
        found = await self.cards.find(set(), asked)
        specialties = {
            ident: card.specialty if card else None for ident, card in found.specialists.items()
        }
        return HiddenSpecialists.of(specialties, asked)

    async def journal_read(
        self, decision: AccessDecision, what: str, record_ids: list[UUID]
    ) -> None:
        await self.journal.add(
            patient_id=decision.allowed_patient.account_id,
            actor_id=decision.actor_id,
            actor=decision.actor,
            basis=decision.basis,
            basis_document_id=decision.basis_document_id,
            basis_label=decision.basis_label,
            what=what,
            record_ids=record_ids,
            at=self.clock(),
        )

    async def journal_acted_for(self, event: AppointmentActedFor) -> None:
        """A booking or cancellation someone made for the patient (scheduling announces it),
        journaled with its legal basis as `book_appointment` / `cancel_appointment`."""
        await self.journal.add(
            entry_id=event.message_id,
            patient_id=event.patient_id,
            actor_id=event.actor_id,
            actor=event.actor,
            basis=event.basis,
            basis_document_id=event.basis_document_id,
            basis_label=event.basis_label,
            what=event.action.value,
            record_ids=[],
            appointment_id=event.appointment_id,
            at=event.at,
        )


def _visible_organizations(consent: DataConsent, asked: frozenset[UUID]) -> frozenset[UUID] | None:
    """Organizations whose records may be shown: those asked for, within the consent
    (None: any)."""
    if consent.all_clinics:
        return asked or None
    return (asked & consent.organization_ids) if asked else consent.organization_ids


def _joined(
    item: RenderedServiceView,
    organization: OrganizationSummary | None,
    specialist: SpecialistSummary | None,
) -> RenderedServiceView:
    update: dict[str, str] = {}
    if organization is not None:
        update |= {
            "organization_name": organization.name,
            "organization_address": organization.address,
        }
    if specialist is not None:
        update |= {
            "specialist_name": specialist.name,
            "specialist_specialty": specialist.specialty_title,
        }
    return item.model_copy(update=update) if update else item


def _consent_view(consent: DataConsent) -> DataConsentView:
    return DataConsentView(
        all_clinics=consent.all_clinics,
        organization_ids=consent.organization_ids,
        updated_at=consent.updated_at,
    )


async def give_demo_consents(consents: ConsentsRepository, now: datetime) -> None:
    """The demo patients agree to receive data from all clinics, so `make run` shows records."""
    for person in PATIENTS_WITH_HISTORY:
        consent = DataConsent(all_clinics=True, updated_at=now)
        await consents.put(person.snils, consent, DEMO_ACTOR)
