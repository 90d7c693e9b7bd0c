"""Correction use cases on the embedded store: filing (rights, one open request per record,
what goes to the clinic), the clinic's answer (only the record's clinic, the patient's
notice), reading and withdrawing, and the overdue flag on a moved clock."""

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from faststream.rabbit import RabbitBroker

from gosmed.contracts import topology
from gosmed.contracts.access import AccessContext, LegalBasis, Role
from gosmed.contracts.demo import PATIENT
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.access import AccessDecision, Action, PatientRef
from gosmed.contracts.identity.notifications import NOTIFY_QUEUE, SendNotification
from gosmed.contracts.identity.organizations import OrganizationAction, OrganizationDecision
from gosmed.contracts.records.corrections import (
    AnswerCorrection,
    AnswerCorrectionForOrganization,
    CorrectionChanges,
    CorrectionRequested,
    CorrectionStatus,
    FileCorrection,
    GetCorrection,
    GetCorrectionStats,
    ListCorrections,
    ListOperatorCorrections,
    ListOrganizationCorrections,
    OperatorFilter,
    WithdrawCorrection,
)
from gosmed.contracts.records.details import GetRenderedService
from gosmed.contracts.records.intake import ReportedService
from gosmed.contracts.topology import Service
from gosmed.records.cards import Cards
from gosmed.records.cards_repository import CardsRepository
from gosmed.records.corrections import Corrections
from gosmed.records.corrections_repository import CorrectionsRepository
from gosmed.records.domain import DataConsent, record_id
from gosmed.records.ports import Identity, Registry, Sender
from gosmed.records.repository import (
    ConsentsRepository,
    JournalRepository,
    RecordsRepository,
    SyncRepository,
)
from gosmed.records.service import Reading, Timing
from gosmed.records.simulator import Catalogue, history
from gosmed.runtime.broker import RefusedError
from gosmed.runtime.outbox import Relay
from gosmed.runtime.rpc import ServiceClient
from gosmed.runtime.settings import CommonSettings
from gosmed.runtime.store import open_store
from gosmed.runtime.testing import FakePublisher, FakeRpc

FILED_AT = datetime(2025, 10, 29, 9, tzinfo=UTC)  # Wednesday; due Thursday 6 Nov 2025
ACCOUNT, STRANGER = UUID(int=7), UUID(int=8)
OWNER = PatientRef(
    account_id=ACCOUNT,
    snils=PATIENT.snils,
    oms_policy=PATIENT.oms_policy,
    full_name=PATIENT.full_name,
    birth_date=PATIENT.birth_date,
)
MINE = AccessContext(actor_id=ACCOUNT)
STAFF = AccessContext(actor_id=UUID(int=10))
THEIRS = AccessContext(actor_id=STRANGER, patient_id=ACCOUNT)


class Decisions(Identity):
    """The patient acts for self; anyone else is refused (no delegation). STAFF acts for the
    organizations in `staff_of`, with every scope."""

    def __init__(self) -> None:
        self.asked: list[Action] = []
        self.staff_of: set[UUID] = set()
        self.for_organizations: list[tuple[UUID, OrganizationAction]] = []

    async def act_for_organization(
        self,
        context: AccessContext,
        organization_id: UUID,
        action: OrganizationAction,
        subject: str | None = None,
    ) -> OrganizationDecision:
        self.for_organizations.append((organization_id, action))
        if context.actor_id != STAFF.actor_id or organization_id not in self.staff_of:
            raise ServiceError(ErrorCode.NOT_ORGANIZATION_STAFF, "не сотрудник")
        return OrganizationDecision(
            allowed=True, actor_id=context.actor_id, organization_id=organization_id, action=action
        )

    async def authorize(self, context: AccessContext, action: Action) -> AccessDecision:
        self.asked.append(action)
        if context.actor_id != ACCOUNT:
            return AccessDecision(allowed=False, actor_id=context.actor_id, reason="нет права")
        return AccessDecision(
            allowed=True,
            actor_id=context.actor_id,
            patient=OWNER,
            basis=LegalBasis.OWN_ACCOUNT,
            sees_restricted_categories=True,
        )


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Harness:
    def __init__(
        self,
        corrections: Corrections,
        records: RecordsRepository,
        published: FakePublisher,
        identity: Decisions,
        clock: Clock,
        service: ReportedService,
        organization_id: UUID,
    ) -> None:
        self.corrections = corrections
        self.records = records
        self.published = published
        self.identity = identity
        self.clock = clock
        self.service = service
        self.organization_id = organization_id
        self.record_id = record_id(organization_id, service.clinic_record_id)

    def filing(self, **changes: object) -> FileCorrection:
        return FileCorrection(
            context=MINE,
            record_id=self.record_id,
            changes=CorrectionChanges.model_validate(changes),
            comment="Услуга оказана в другой день",
        )

    def requested(self) -> list[CorrectionRequested]:
        queue = topology.clinic_queue(self.organization_id, topology.CLINIC_CORRECTIONS)
        return self.published.messages(queue, CorrectionRequested)

    def notices(self) -> list[SendNotification]:
        return self.published.messages(NOTIFY_QUEUE, SendNotification)


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    store = open_store(None, f"records_corrections_{uuid4().hex[:8]}")
    database = store.database
    records, consents = RecordsRepository(database), ConsentsRepository(database)
    await records.ensure_indexes()
    await consents.put(PATIENT.snils, DataConsent(all_clinics=True, updated_at=FILED_AT), ACCOUNT)
    catalogue = Catalogue.demo()
    organization_id = catalogue.clinics[0].id
    service = history(PATIENT, 1, catalogue, clinic=organization_id)[organization_id][0]
    await records.store_batch(organization_id, [service], uuid4().hex, FILED_AT)
    registry = Registry(ServiceClient(Service.REGISTRY, FakeRpc()))
    identity, clock = Decisions(), Clock(FILED_AT)
    reading = Reading(
        records,
        consents,
        SyncRepository(database),
        JournalRepository(database),
        identity,
        registry,
        Cards(CardsRepository(database), registry),
        Sender(RabbitBroker(), CommonSettings()),
        Timing(sync_cooldown=timedelta(minutes=5), sync_answer_within=timedelta(minutes=10)),
        clock=clock,
    )
    published = FakePublisher()
    relay = Relay(published, first_retry_seconds=0.05, longest_retry_seconds=0.2)
    repository = CorrectionsRepository(database)
    await repository.ensure_indexes()
    corrections = Corrections(repository, records, reading, relay, clock=clock)
    yield Harness(corrections, records, published, identity, clock, service, organization_id)
    await relay.stop()
    store.close()


async def test_filing_sends_the_request_to_the_clinic_with_changes_beside_current_values(
    harness: Harness,
) -> None:
    wrong = harness.service.rendered_on
    view = await harness.corrections.file(harness.filing(rendered_on=date(2025, 10, 1)))

    assert harness.identity.asked == [Action.FILE_CORRECTIONS]
    assert view.status == CorrectionStatus.SENT
    assert view.due_on == date(2025, 11, 6)
    assert not view.overdue
    assert view.number.startswith("И-20251029-")
    assert [(c.field, c.current, c.proposed) for c in view.changes] == [
        ("rendered_on", wrong.isoformat(), "2025-10-01")
    ]
    [request] = harness.requested()
    assert (request.correction_id, request.number, request.due_on) == (
        view.id,
        view.number,
        view.due_on,
    )
    assert request.clinic_record_id == harness.service.clinic_record_id
    assert request.changes.rendered_on == date(2025, 10, 1)


async def test_a_request_the_clinic_queue_does_not_take_yet_stays_filed(
    harness: Harness,
) -> None:
    harness.published.refuse(1)
    view = await harness.corrections.file(harness.filing(rendered_on=date(2025, 10, 1)))
    assert view.status == CorrectionStatus.FILED


async def test_one_open_request_per_record(harness: Harness) -> None:
    await harness.corrections.file(harness.filing(rendered_on=date(2025, 10, 1)))
    with pytest.raises(ServiceError) as second:
        await harness.corrections.file(harness.filing(service_name="Другая услуга"))
    assert second.value.code == ErrorCode.CONFLICT


async def test_a_stranger_learns_nothing(harness: Harness) -> None:
    filing = harness.filing(rendered_on=date(2025, 10, 1)).model_copy(update={"context": THEIRS})
    with pytest.raises(ServiceError) as refused:
        await harness.corrections.file(filing)
    assert refused.value.code == ErrorCode.NOT_FOUND
    assert harness.requested() == []


async def test_a_record_of_someone_else_is_not_found(harness: Harness) -> None:
    filing = harness.filing(rendered_on=date(2025, 10, 1)).model_copy(update={"record_id": uuid4()})
    with pytest.raises(ServiceError) as refused:
        await harness.corrections.file(filing)
    assert refused.value.code == ErrorCode.NOT_FOUND


async def test_changes_equal_to_the_record_without_a_comment_are_refused(
    harness: Harness,
) -> None:
    filing = harness.filing(service_code=harness.service.service_code).model_copy(
        update={"comment": None}
    )
    with pytest.raises(ServiceError) as refused:
        await harness.corrections.file(filing)
    assert refused.value.code == ErrorCode.VALIDATION_FAILED


async def test_a_rejection_closes_the_request_with_its_reason_and_tells_the_patient(
    harness: Harness,
) -> None:
    filed = await harness.corrections.file(harness.filing(rendered_on=date(2025, 10, 1)))
    harness.clock.now = FILED_AT + timedelta(days=2)
    answer = AnswerCorrection(correction_id=filed.id, accepted=False, reason="Дата верна")

    answered = await harness.corrections.answer(harness.organization_id, answer)
    again = await harness.corrections.answer(harness.organization_id, answer)  # redelivery

    assert answered.status == again.status == CorrectionStatus.REJECTED
    view = await harness.corrections.get(GetCorrection(context=MINE, correction_id=filed.id))
    assert (view.status, view.reason, view.answered_at) == (
        CorrectionStatus.REJECTED,
        "Дата верна",
        harness.clock.now,
    )
    [notice] = harness.notices()
    assert notice.recipient_snils == PATIENT.snils
    assert "Дата верна" in notice.body
    # closed: a new request on the record may be filed
    await harness.corrections.file(harness.filing(service_name="Другая услуга"))


async def test_only_the_clinic_of_the_record_may_answer(harness: Harness) -> None:
    filed = await harness.corrections.file(harness.filing(rendered_on=date(2025, 10, 1)))
    answer = AnswerCorrection(correction_id=filed.id, accepted=True)
    with pytest.raises(RefusedError) as refused:
        await harness.corrections.answer(uuid4(), answer)
    assert refused.value.code == ErrorCode.ORGANIZATION_MISMATCH
    with pytest.raises(RefusedError) as unknown:
        await harness.corrections.answer(
            harness.organization_id, answer.model_copy(update={"correction_id": uuid4()})
        )
    assert unknown.value.code == ErrorCode.NOT_FOUND
    view = await harness.corrections.get(GetCorrection(context=MINE, correction_id=filed.id))
    assert view.status == CorrectionStatus.SENT


async def test_an_accepted_request_shows_in_the_list_and_in_the_record_detail(
    harness: Harness,
) -> None:
    filed = await harness.corrections.file(harness.filing(rendered_on=date(2025, 10, 1)))
    detail = await harness.corrections.detail(
        GetRenderedService(context=MINE, record_id=harness.record_id)
    )
    assert [(c.id, c.status) for c in detail.corrections] == [(filed.id, CorrectionStatus.SENT)]

    await harness.corrections.answer(
        harness.organization_id, AnswerCorrection(correction_id=filed.id, accepted=True)
    )

    page = await harness.corrections.list_of_patient(ListCorrections(context=MINE))
    assert [(c.id, c.status) for c in page.items] == [(filed.id, CorrectionStatus.ACCEPTED)]
    [notice] = harness.notices()
    assert "принято" in notice.title


async def test_the_patient_withdraws_an_open_request_only(harness: Harness) -> None:
    filed = await harness.corrections.file(harness.filing(rendered_on=date(2025, 10, 1)))
    withdraw = WithdrawCorrection(context=MINE, correction_id=filed.id)

    assert (await harness.corrections.withdraw(withdraw)).status == CorrectionStatus.WITHDRAWN
    with pytest.raises(ServiceError) as again:
        await harness.corrections.withdraw(withdraw)
    assert again.value.code == ErrorCode.CONFLICT
    with pytest.raises(RefusedError) as late:  # the clinic answers a withdrawn request
        await harness.corrections.answer(
            harness.organization_id, AnswerCorrection(correction_id=filed.id, accepted=True)
        )
    assert late.value.code == ErrorCode.CONFLICT


async def test_a_stranger_cannot_read_or_withdraw_a_request(harness: Harness) -> None:
    filed = await harness.corrections.file(harness.filing(rendered_on=date(2025, 10, 1)))
    for call in (
        harness.corrections.get(GetCorrection(context=THEIRS, correction_id=filed.id)),
        harness.corrections.withdraw(WithdrawCorrection(context=THEIRS, correction_id=filed.id)),
    ):
        with pytest.raises(ServiceError) as refused:
            await call
        assert refused.value.code == ErrorCode.NOT_FOUND


async def test_an_unanswered_request_is_overdue_on_a_moved_clock(harness: Harness) -> None:
    filed = await harness.corrections.file(harness.filing(rendered_on=date(2025, 10, 1)))
    query = GetCorrection(context=MINE, correction_id=filed.id)
    harness.clock.now = datetime(2025, 11, 6, 20, tzinfo=UTC)  # 23:00 in Moscow on the due day
    assert not (await harness.corrections.get(query)).overdue
    harness.clock.now = datetime(2025, 11, 7, 6, tzinfo=UTC)
    assert (await harness.corrections.get(query)).overdue


async def test_the_store_keeps_one_open_request_per_record_under_a_race(
    harness: Harness,
) -> None:
    """Two filings that both found no open request: the unique index refuses the second."""
    filed = await harness.corrections.file(harness.filing(rendered_on=date(2025, 10, 1)))
    stored = await harness.corrections.corrections.get(filed.id)
    assert stored is not None
    twin = replace(stored, id=uuid4(), status=CorrectionStatus.FILED)
    with pytest.raises(ServiceError) as refused:
        await harness.corrections.corrections.insert(twin)
    assert refused.value.code == ErrorCode.CONFLICT
    withdrawn = await harness.corrections.withdraw(
        WithdrawCorrection(context=MINE, correction_id=filed.id)
    )
    assert withdrawn.status == CorrectionStatus.WITHDRAWN
    await harness.corrections.corrections.insert(twin)  # closed: the record is free again


OPERATOR = AccessContext(actor_id=UUID(int=9), roles=frozenset({Role.OPERATOR}))


async def test_operators_list_overdue_requests_and_a_clinics_figures(harness: Harness) -> None:
    filed = await harness.corrections.file(harness.filing(rendered_on=date(2025, 10, 1)))
    overdue = ListOperatorCorrections(context=OPERATOR, status=OperatorFilter.OVERDUE)
    open_ones = ListOperatorCorrections(context=OPERATOR, status=OperatorFilter.OPEN)

    assert (await harness.corrections.overdue(overdue)).items == ()
    assert [c.id for c in (await harness.corrections.overdue(open_ones)).items] == [filed.id]
    harness.clock.now = datetime(2025, 11, 7, 9, tzinfo=UTC)  # the day after it was due
    [late] = (await harness.corrections.overdue(overdue)).items
    assert (late.id, late.overdue) == (filed.id, True)
    other = ListOperatorCorrections(context=OPERATOR, organization_id=uuid4())
    assert (await harness.corrections.overdue(other)).items == ()

    stats = await harness.corrections.stats(
        GetCorrectionStats(context=OPERATOR, organization_id=harness.organization_id)
    )
    assert (stats.requests, stats.open, stats.overdue) == (1, 1, 1)


async def test_a_citizen_gets_no_operator_figures(harness: Harness) -> None:
    with pytest.raises(ServiceError) as refused:
        await harness.corrections.overdue(ListOperatorCorrections(context=MINE))
    assert refused.value.code == ErrorCode.FORBIDDEN
    with pytest.raises(ServiceError) as stats:
        await harness.corrections.stats(GetCorrectionStats(context=MINE, organization_id=uuid4()))
    assert stats.value.code == ErrorCode.FORBIDDEN


async def test_a_late_request_is_escalated_once_with_a_notice_to_the_patient(
    harness: Harness,
) -> None:
    filed = await harness.corrections.file(harness.filing(rendered_on=date(2025, 10, 1)))

    assert await harness.corrections.escalate_overdue() == 0  # not due yet
    harness.clock.now = datetime(2025, 11, 7, 9, tzinfo=UTC)
    assert await harness.corrections.escalate_overdue() == 1
    assert await harness.corrections.escalate_overdue() == 0  # once

    [notice] = harness.notices()
    assert "срок ответа истёк" in notice.title
    assert notice.recipient_snils == PATIENT.snils
    view = await harness.corrections.get(GetCorrection(context=MINE, correction_id=filed.id))
    assert (view.overdue, view.escalated_at) == (True, harness.clock.now)


async def test_an_answered_request_is_never_escalated(harness: Harness) -> None:
    filed = await harness.corrections.file(harness.filing(rendered_on=date(2025, 10, 1)))
    await harness.corrections.answer(
        harness.organization_id, AnswerCorrection(correction_id=filed.id, accepted=True)
    )
    harness.clock.now = datetime(2025, 11, 7, 9, tzinfo=UTC)
    assert await harness.corrections.escalate_overdue() == 0
    assert [n.category for n in harness.notices()] == ["correction_answered"]


async def test_staff_answer_in_the_clinics_name_through_the_same_use_case(
    harness: Harness,
) -> None:
    harness.identity.staff_of.add(harness.organization_id)
    filed = await harness.corrections.file(harness.filing(rendered_on=date(2025, 10, 1)))
    listing = ListOrganizationCorrections(context=STAFF, organization_id=harness.organization_id)
    answer = AnswerCorrectionForOrganization(
        context=STAFF,
        organization_id=harness.organization_id,
        correction_id=filed.id,
        accepted=False,
        reason="Дата верна",
    )

    [listed] = (await harness.corrections.of_organization(listing)).items
    answered = await harness.corrections.answer_for_organization(answer)
    stats = await harness.corrections.stats_for_organization(
        GetCorrectionStats(context=STAFF, organization_id=harness.organization_id)
    )

    assert listed.id == filed.id
    assert answered.status == CorrectionStatus.REJECTED
    [notice] = harness.notices()
    assert "Дата верна" in notice.body
    assert (stats.requests, stats.rejected) == (1, 1)
    assert [action for _, action in harness.identity.for_organizations] == [
        OrganizationAction.ANSWER_CORRECTIONS,
        OrganizationAction.ANSWER_CORRECTIONS,
        OrganizationAction.SEE_FIGURES,
    ]


async def test_staff_of_another_clinic_or_no_staff_cannot_answer(harness: Harness) -> None:
    other = uuid4()
    harness.identity.staff_of.add(other)
    filed = await harness.corrections.file(harness.filing(rendered_on=date(2025, 10, 1)))

    def answer(context: AccessContext, organization_id: UUID) -> AnswerCorrectionForOrganization:
        return AnswerCorrectionForOrganization(
            context=context, organization_id=organization_id, correction_id=filed.id, accepted=True
        )

    with pytest.raises(ServiceError) as foreign:  # staff of `other`: the request is not theirs
        await harness.corrections.answer_for_organization(answer(STAFF, other))
    with pytest.raises(ServiceError) as not_staff:
        await harness.corrections.answer_for_organization(answer(MINE, harness.organization_id))

    assert foreign.value.code == ErrorCode.NOT_FOUND
    assert not isinstance(foreign.value, RefusedError)
    assert not_staff.value.code == ErrorCode.NOT_ORGANIZATION_STAFF
    view = await harness.corrections.get(GetCorrection(context=MINE, correction_id=filed.id))
    assert view.status == CorrectionStatus.SENT
