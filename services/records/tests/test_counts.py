"""Intake on the embedded store and the outbox relay: bulk writes stay idempotent and
versioned, each new record is announced once and each patient notified once per report (also
when the broker refused them at first), and the per-patient counts behind a first page's
notices (hidden by consent, restricted) stay equal to what a count of the records themselves
gives, through adds, re-sends, redeliveries and new versions."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from uuid import UUID, uuid4

import pytest

from gosmed.contracts.demo import CHILD_OVER_15, PATIENT
from gosmed.contracts.identity.notifications import NOTIFY_QUEUE, SendNotification
from gosmed.contracts.records.intake import (
    Diagnosis,
    RecordAdded,
    ReportAccepted,
    ReportedService,
    ReportRenderedServices,
)
from gosmed.contracts.records.queries import NoticeCode
from gosmed.records.domain import DataConsent, OrganizationCounts, count_notices, record_id
from gosmed.records.repository import (
    RECORD_ADDED_KEY,
    Document,
    RecordsRepository,
    SyncRepository,
)
from gosmed.records.service import Intake
from gosmed.records.simulator import Catalogue, history
from gosmed.runtime.outbox import OutboxEntry, Relay
from gosmed.runtime.store import Store, open_store
from gosmed.runtime.testing import FakePublisher

RESTRICTED = Diagnosis(code="F41.1", text="Генерализованное тревожное расстройство")
PLAIN = Diagnosis(code="J06.9", text="Острая инфекция верхних дыхательных путей")


class Announcements(FakePublisher):
    """Stands in for the broker: keeps what the relay publishes for intake."""

    @property
    def events(self) -> list[RecordAdded]:
        return self.messages(RECORD_ADDED_KEY, RecordAdded)

    @property
    def notifications(self) -> list[SendNotification]:
        return self.messages(NOTIFY_QUEUE, SendNotification)


class WriteFailsOnce(RecordsRepository):
    """The store goes away after the counts are written and before the records are."""

    failed = False

    async def _write(self, changed: dict[UUID, Document], new: dict[UUID, OutboxEntry]) -> None:
        if not self.failed:
            self.failed = True
            raise ConnectionError("store went away")
        await super()._write(changed, new)


@pytest.fixture
def store() -> Store:
    return open_store(None, f"records_{uuid4().hex[:8]}")


@pytest.fixture
async def records(store: Store) -> RecordsRepository:
    repository = RecordsRepository(store.database)
    await repository.ensure_indexes()
    return repository


@pytest.fixture
def announcements() -> Announcements:
    return Announcements()


def relay(announcements: Announcements) -> Relay:
    return Relay(announcements, first_retry_seconds=0.05, longest_retry_seconds=0.2)


@pytest.fixture
async def intake(
    records: RecordsRepository, store: Store, announcements: Announcements
) -> AsyncIterator[Intake]:
    intake = Intake(records, SyncRepository(store.database), relay(announcements))
    yield intake
    await intake.relay.stop()


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.demo()


def services(catalogue: Catalogue, count: int, clinic: int = 0) -> list[ReportedService]:
    organization = catalogue.clinics[clinic].id
    items = history(PATIENT, count, catalogue, clinic=organization, prefix=f"c{clinic}")
    return [s.model_copy(update={"diagnosis": PLAIN}) for s in items[organization]]


def report(organization: UUID, items: list[ReportedService]) -> ReportRenderedServices:
    return ReportRenderedServices(organization_id=organization, services=tuple(items))


def restricted(item: ReportedService, version: int | None = None) -> ReportedService:
    return item.model_copy(update={"diagnosis": RESTRICTED, "version": version or item.version})


def answer(accepted: ReportAccepted) -> tuple[int, int, int]:
    return accepted.created, accepted.updated, accepted.unchanged


async def counted(records: RecordsRepository, snils: str) -> dict[UUID, OrganizationCounts]:
    """The kept counts, after checking them against a count of the records themselves."""
    truth: Counter[tuple[str, bool]] = Counter()
    async for doc in records.records.find({"patient_snils": snils}):
        truth[(doc["organization_id"], doc["restricted"])] += 1
    expected = {
        UUID(org): OrganizationCounts(
            records=truth[(org, False)] + truth[(org, True)], restricted=truth[(org, True)]
        )
        for org in {org for org, _ in truth}
    }
    kept = {
        org: c for org, c in (await records.counts_of(snils)).organizations.items() if c.records
    }
    assert kept == expected
    return kept


async def test_adds_are_counted_per_organization_and_give_the_notices(
    intake: Intake, records: RecordsRepository, catalogue: Catalogue
) -> None:
    first, second = services(catalogue, 5, clinic=0), services(catalogue, 3, clinic=1)
    a, b = catalogue.clinics[0].id, catalogue.clinics[1].id
    first[:2] = [restricted(s) for s in first[:2]]
    second[0] = restricted(second[0])

    assert answer(await intake.report(report(a, first))) == (5, 0, 0)
    assert answer(await intake.report(report(b, second))) == (3, 0, 0)

    assert await counted(records, PATIENT.snils) == {
        a: OrganizationCounts(records=5, restricted=2),
        b: OrganizationCounts(records=3, restricted=1),
    }
    counts = await records.counts_of(PATIENT.snils)
    only_a = DataConsent(organization_ids=frozenset({a}))
    notices = {n.code: n.count for n in count_notices(counts, only_a, sees_restricted=False)}
    # restricted records are counted, but their number is told to nobody (it alone would say
    # «psychiatric, HIV or STI care»): a reader who may not see them gets a notice without a
    # count, the same whether the patient has such records or not
    assert notices == {NoticeCode.CONSENT_MISSING: 3, NoticeCode.RESTRICTED_HIDDEN: None}
    everyone = DataConsent(all_clinics=True)
    notices = {n.code: n.count for n in count_notices(counts, everyone, sees_restricted=False)}
    assert notices == {NoticeCode.RESTRICTED_HIDDEN: None}
    assert count_notices(counts, everyone, sees_restricted=True) == []
    none_restricted = await records.counts_of(CHILD_OVER_15.snils)
    assert count_notices(none_restricted, only_a, False) == count_notices(counts, everyone, False)
    assert count_notices(none_restricted, only_a, True) == []


async def test_resends_redeliveries_and_older_versions_change_no_count(
    intake: Intake,
    records: RecordsRepository,
    catalogue: Catalogue,
    announcements: Announcements,
) -> None:
    items = services(catalogue, 4)
    items[0] = restricted(items[0], version=3)
    organization = catalogue.clinics[0].id
    message = report(organization, items)
    await intake.report(message)
    before = await counted(records, PATIENT.snils)

    redelivered = await intake.report(message)
    resent = await intake.report(report(organization, items))
    older = await intake.report(report(organization, [items[0].model_copy(update={"version": 2})]))

    assert answer(redelivered) == answer(resent) == (0, 0, 4)
    assert answer(older) == (0, 0, 1)
    assert await counted(records, PATIENT.snils) == before
    assert len(announcements.events) == 4
    assert len(announcements.notifications) == 1


async def test_newer_versions_move_a_record_in_and_out_of_restricted_and_between_patients(
    intake: Intake, records: RecordsRepository, catalogue: Catalogue, store: Store
) -> None:
    item = services(catalogue, 1)[0]
    organization = catalogue.clinics[0].id
    await intake.report(report(organization, [item]))

    assert answer(await intake.report(report(organization, [restricted(item, 2)]))) == (0, 1, 0)
    assert await counted(records, PATIENT.snils) == {organization: OrganizationCounts(1, 1)}
    back = item.model_copy(update={"version": 3})
    assert answer(await intake.report(report(organization, [back]))) == (0, 1, 0)
    assert await counted(records, PATIENT.snils) == {organization: OrganizationCounts(1, 0)}
    # The organization is part of the record's key, so a version can only change the patient.
    other = CHILD_OVER_15
    moved = restricted(item, 4).model_copy(
        update={"patient_snils": other.snils, "patient_oms_policy": other.oms_policy}
    )
    assert answer(await intake.report(report(organization, [moved]))) == (0, 1, 0)
    assert await counted(records, PATIENT.snils) == {}
    assert await counted(records, other.snils) == {organization: OrganizationCounts(1, 1)}
    ident = str(record_id(organization, item.clinic_record_id))
    versions = store.database["record_versions"].find({"record_id": ident})
    assert sorted([v["version"] async for v in versions]) == [1, 2, 3, 4]


async def test_versions_of_one_record_within_a_batch_apply_in_order(
    intake: Intake, records: RecordsRepository, catalogue: Catalogue, announcements: Announcements
) -> None:
    item = services(catalogue, 1)[0]
    batch = [item, restricted(item, 3), item.model_copy(update={"version": 2}), restricted(item, 3)]

    accepted = await intake.report(report(catalogue.clinics[0].id, batch))

    assert answer(accepted) == (1, 1, 2)
    counts = await counted(records, PATIENT.snils)
    assert counts == {catalogue.clinics[0].id: OrganizationCounts(1, 1)}
    current = await records.records.find_one({})
    assert current is not None
    assert current["version"] == 3
    assert [e.record_id for e in announcements.events] == [UUID(current["_id"])]


async def test_a_batch_redelivered_after_a_failure_part_way_counts_once(
    store: Store, catalogue: Catalogue, announcements: Announcements
) -> None:
    records = WriteFailsOnce(store.database)
    intake = Intake(records, SyncRepository(store.database), relay(announcements))
    items = services(catalogue, 3)
    items[1] = restricted(items[1])
    message = report(catalogue.clinics[0].id, items)

    with pytest.raises(ConnectionError):
        await intake.report(message)
    assert announcements.events == []
    assert answer(await intake.report(message)) == (3, 0, 0)

    assert await counted(records, PATIENT.snils) == {
        catalogue.clinics[0].id: OrganizationCounts(3, 1)
    }
    assert len(announcements.events) == 3
    assert len(announcements.notifications) == 1  # written with the counts, the first time


async def test_the_same_batch_delivered_twice_at_once_is_stored_and_counted_once(
    intake: Intake, records: RecordsRepository, catalogue: Catalogue, announcements: Announcements
) -> None:
    message = report(catalogue.clinics[0].id, services(catalogue, 6))

    await asyncio.gather(intake.report(message), intake.report(message))

    assert await records.records.count_documents({}) == 6
    assert await counted(records, PATIENT.snils) == {
        catalogue.clinics[0].id: OrganizationCounts(6, 0)
    }
    assert len(announcements.events) == 6
    assert len(announcements.notifications) == 1


async def test_what_the_broker_refused_after_the_write_is_relayed_later(
    intake: Intake, records: RecordsRepository, catalogue: Catalogue, announcements: Announcements
) -> None:
    await intake.relay.start()
    announcements.refuse(1_000)  # the broker is down when the report is written
    items = services(catalogue, 3)
    organization = catalogue.clinics[0].id

    accepted = await intake.report(report(organization, items))

    assert answer(accepted) == (3, 0, 0)  # stored and answered all the same
    assert announcements.published == []
    assert len(await records.outbox.pending()) == 3
    assert len(await records.notices.pending()) == 1
    announcements.refuse(0)  # the broker is back: the relay's next try publishes
    async with asyncio.timeout(5):
        while await records.outbox.pending() or await records.notices.pending():
            await asyncio.sleep(0.02)
    assert {e.record_id for e in announcements.events} == {
        record_id(organization, s.clinic_record_id) for s in items
    }
    (notice,) = announcements.notifications
    assert notice.recipient_snils == PATIENT.snils
    assert "передала новые записи об оказанных вам услугах: 3." in notice.body


async def test_a_new_record_is_announced_even_when_its_patients_counts_stay_the_same(
    intake: Intake, records: RecordsRepository, catalogue: Catalogue, announcements: Announcements
) -> None:
    first, second = services(catalogue, 2)
    organization = catalogue.clinics[0].id
    await intake.report(report(organization, [first]))
    moved = first.model_copy(
        update={
            "version": 2,
            "patient_snils": CHILD_OVER_15.snils,
            "patient_oms_policy": CHILD_OVER_15.oms_policy,
        }
    )

    # One record leaves the patient and a new one arrives: her counts do not change.
    assert answer(await intake.report(report(organization, [moved, second]))) == (1, 1, 0)

    assert await counted(records, PATIENT.snils) == {organization: OrganizationCounts(1, 0)}
    assert [e.record_id for e in announcements.events] == [
        record_id(organization, first.clinic_record_id),
        record_id(organization, second.clinic_record_id),
    ]
    assert [n.recipient_snils for n in announcements.notifications] == [PATIENT.snils] * 2


async def test_counts_of_a_store_written_before_them_are_made_at_start(
    intake: Intake, records: RecordsRepository, catalogue: Catalogue
) -> None:
    items = services(catalogue, 4)
    items[0] = restricted(items[0])
    await intake.report(report(catalogue.clinics[0].id, items))
    await records.counts.delete_many({})

    await records.count_all()
    await records.count_all()  # once counted, intake keeps them

    assert await counted(records, PATIENT.snils) == {
        catalogue.clinics[0].id: OrganizationCounts(4, 1)
    }
