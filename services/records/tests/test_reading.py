"""Reading a patient's list of services: a page stays within its byte budget however long the
clinics' texts are, and the cursor goes on from where a short page ended. A booking made for
the patient by someone else reaches the patient's access journal once."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from faststream.rabbit import RabbitBroker

from gosmed.contracts.access import AccessContext, Actor, LegalBasis, Role
from gosmed.contracts.demo import PATIENT
from gosmed.contracts.identity.access import AccessDecision, Action, PatientRef
from gosmed.contracts.records.intake import MAX_PROCEDURE_LENGTH, ReportedService
from gosmed.contracts.records.journal import GetAccessLog
from gosmed.contracts.records.queries import MAX_PAGE, ListRenderedServices
from gosmed.contracts.scheduling.journal import AppointmentActedFor, AppointmentAction
from gosmed.contracts.topology import Service
from gosmed.records.cards import Cards
from gosmed.records.cards_repository import CardsRepository
from gosmed.records.domain import PAGE_BYTES, DataConsent
from gosmed.records.ports import Identity, Registry, Sender
from gosmed.records.repository import (
    ConsentsRepository,
    JournalRepository,
    RecordsRepository,
    SyncRepository,
)
from gosmed.records.service import Reading, Timing
from gosmed.records.simulator import Catalogue, history
from gosmed.runtime.rpc import ServiceClient
from gosmed.runtime.settings import CommonSettings
from gosmed.runtime.store import open_store
from gosmed.runtime.testing import FakeRpc

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
ACCOUNT = UUID(int=7)
OWNER = PatientRef(
    account_id=ACCOUNT,
    snils=PATIENT.snils,
    oms_policy=PATIENT.oms_policy,
    full_name=PATIENT.full_name,
    birth_date=PATIENT.birth_date,
)
CONTEXT = AccessContext(actor_id=ACCOUNT)


class OwnAccount(Identity):
    """Identity letting the patient read their own records (no broker)."""

    def __init__(self) -> None:
        pass

    async def authorize(self, context: AccessContext, action: Action) -> AccessDecision:
        return AccessDecision(
            allowed=True,
            actor_id=context.actor_id,
            patient=OWNER,
            basis=LegalBasis.OWN_ACCOUNT,
            sees_restricted_categories=True,
        )


class Harness:
    def __init__(self, reading: Reading, records: RecordsRepository) -> None:
        self.reading = reading
        self.records = records

    async def store(self, services: dict[UUID, list[ReportedService]]) -> None:
        for organization_id, items in services.items():
            await self.records.store_batch(organization_id, items, uuid4().hex, NOW)

    async def all_pages(self) -> list[list[UUID]]:
        """The ids of every page, following `next_cursor` to the end."""
        pages: list[list[UUID]] = []
        cursor = None
        while True:
            query = ListRenderedServices(context=CONTEXT, limit=MAX_PAGE, cursor=cursor)
            page = await self.reading.list_services(query)
            assert sum(len(item.model_dump_json().encode()) for item in page.items) <= PAGE_BYTES
            pages.append([item.id for item in page.items])
            if page.next_cursor is None:
                return pages
            cursor = page.next_cursor


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    store = open_store(None, f"records_reading_{uuid4().hex[:8]}")
    database = store.database
    records, consents = RecordsRepository(database), ConsentsRepository(database)
    await records.ensure_indexes()
    await consents.put(PATIENT.snils, DataConsent(all_clinics=True, updated_at=NOW), ACCOUNT)
    registry = Registry(ServiceClient(Service.REGISTRY, FakeRpc()))
    reading = Reading(
        records,
        consents,
        SyncRepository(database),
        JournalRepository(database),
        OwnAccount(),
        registry,
        Cards(CardsRepository(database), registry),  # the registry is down: no card is known
        Sender(RabbitBroker(), CommonSettings()),
        Timing(sync_cooldown=timedelta(minutes=5), sync_answer_within=timedelta(minutes=10)),
    )
    yield Harness(reading, records)
    store.close()


async def test_a_page_of_wordy_records_ends_at_its_byte_budget_and_the_cursor_goes_on(
    harness: Harness, catalogue: Catalogue
) -> None:
    wordy = ("ж" * MAX_PROCEDURE_LENGTH,) * 50  # 30 KB of procedures a record
    services = history(PATIENT, MAX_PAGE, catalogue, clinic=catalogue.clinics[0].id)
    await harness.store(
        {
            org: [s.model_copy(update={"procedures": wordy}) for s in items]
            for org, items in services.items()
        }
    )

    pages = await harness.all_pages()

    assert len(pages) > 1
    assert all(pages)
    seen = [ident for page in pages for ident in page]
    assert len(seen) == len(set(seen)) == MAX_PAGE


async def test_a_page_of_ordinary_records_is_not_cut(
    harness: Harness, catalogue: Catalogue
) -> None:
    await harness.store(history(PATIENT, MAX_PAGE, catalogue, clinic=catalogue.clinics[0].id))

    pages = await harness.all_pages()

    assert [len(page) for page in pages] == [MAX_PAGE]


async def test_an_appointment_made_for_the_patient_is_journaled_once_with_its_basis(
    harness: Harness,
) -> None:
    parent = Actor(name="Петров С. И.", role=Role.CITIZEN, label="Петров С. И.")
    appointment_id = uuid4()
    booked, cancelled = (
        AppointmentActedFor(
            patient_id=ACCOUNT,
            actor_id=UUID(int=8),
            actor=parent,
            basis=LegalBasis.PARENT_OF_MINOR,
            basis_label="свидетельство о рождении",
            action=action,
            appointment_id=appointment_id,
            at=NOW + timedelta(minutes=minutes),
        )
        for minutes, action in ((1, AppointmentAction.BOOK), (2, AppointmentAction.CANCEL))
    )
    for event in (booked, cancelled, booked):  # the last one a redelivery
        await harness.reading.journal_acted_for(event)
    log = await harness.reading.access_log(GetAccessLog(context=CONTEXT))
    assert [(e.what, e.actor, e.basis, e.appointment_id) for e in log.items] == [
        ("cancel_appointment", parent, LegalBasis.PARENT_OF_MINOR, appointment_id),
        ("book_appointment", parent, LegalBasis.PARENT_OF_MINOR, appointment_id),
    ]
    assert {e.id for e in log.items} == {booked.message_id, cancelled.message_id}
