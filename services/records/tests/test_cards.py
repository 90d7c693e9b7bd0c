"""Records' copy of the registry cards on the embedded store, with the registry as a fake: the
newest `updated_at` wins, events are idempotent, a page completes the cards it lacks from the
registry once, and shows what it keeps while the registry is down."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import TypeVar
from uuid import UUID

import pytest
from faststream.rabbit import RabbitBroker

from gosmed.contracts.access import AccessContext, LegalBasis
from gosmed.contracts.base import utc_now
from gosmed.contracts.demo import PATIENT
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.access import AUTHORIZE, AccessDecision, PatientRef
from gosmed.contracts.records.queries import ListRenderedServices
from gosmed.contracts.registry.organizations import (
    GET_ORGANIZATIONS,
    LIST_ORGANIZATIONS,
    ListCards,
    OrganizationCard,
    OrganizationList,
    OrganizationsView,
    OrganizationUpdated,
)
from gosmed.contracts.registry.specialists import (
    GET_SPECIALISTS,
    LIST_SPECIALISTS,
    SpecialistCard,
    SpecialistList,
    SpecialistsView,
    SpecialistUpdated,
)
from gosmed.contracts.registry.specialties import SPECIALIST_TITLES
from gosmed.contracts.topology import Service
from gosmed.records.cards import Cards
from gosmed.records.cards_repository import CardsRepository
from gosmed.records.domain import DataConsent, OrganizationSummary, SpecialistSummary
from gosmed.records.ports import Identity, Registry, Sender
from gosmed.records.repository import (
    ConsentsRepository,
    JournalRepository,
    RecordsRepository,
    SyncRepository,
)
from gosmed.records.service import Reading, Timing
from gosmed.records.settings import RecordsSettings
from gosmed.records.simulator import Catalogue, history
from gosmed.registry import demo
from gosmed.runtime.rpc import ServiceClient
from gosmed.runtime.store import Store, open_store
from gosmed.runtime.testing import FakeRpc

ORGANIZATION, OTHER = demo.organizations()[:2]
SPECIALIST = demo.specialists()[0]
CardT = TypeVar("CardT", OrganizationCard, SpecialistCard)


@pytest.fixture
async def store() -> AsyncIterator[Store]:
    opened = open_store(None, f"records_cards_{uuid.uuid4().hex[:8]}")
    yield opened
    opened.close()


@pytest.fixture
def fake() -> FakeRpc:
    """The registry and identity; every RPC not answered by a test is down."""
    return FakeRpc()


@pytest.fixture
def registry(fake: FakeRpc) -> Registry:
    return Registry(ServiceClient(Service.REGISTRY, fake))


@pytest.fixture
def cards(store: Store, registry: Registry) -> Cards:
    return Cards(CardsRepository(store.database), registry)


def renamed(card: OrganizationCard, name: str, later: timedelta) -> OrganizationCard:
    return card.model_copy(update={"short_name": name, "updated_at": card.updated_at + later})


async def name_of(cards: Cards, card: OrganizationCard) -> str | None:
    summary = (await cards.find({card.id}, set())).organizations[card.id]
    return summary.name if summary else None


async def test_the_newest_card_wins_whatever_the_order_of_events(cards: Cards) -> None:
    second = renamed(ORGANIZATION, "Второе имя", timedelta(minutes=5))
    first = renamed(ORGANIZATION, "Первое имя", timedelta(minutes=1))
    # within one millisecond, which a BSON date would not tell apart
    third = renamed(second, "Третье имя", timedelta(microseconds=300))

    await cards.organization_updated(OrganizationUpdated(organization=second))
    await cards.organization_updated(OrganizationUpdated(organization=first))
    assert await name_of(cards, ORGANIZATION) == "Второе имя"
    await cards.organization_updated(OrganizationUpdated(organization=third))
    await cards.organization_updated(OrganizationUpdated(organization=second))
    assert await name_of(cards, ORGANIZATION) == "Третье имя"


async def test_a_redelivered_event_changes_nothing(cards: Cards, store: Store) -> None:
    event = SpecialistUpdated(specialist=SPECIALIST)
    moved = SPECIALIST.model_copy(
        update={"full_name": "Новикова Анна Петровна", "updated_at": utc_now()}
    )

    await cards.specialist_updated(event)
    await cards.specialist_updated(SpecialistUpdated(specialist=moved))
    await cards.specialist_updated(event)
    await cards.specialist_updated(event)

    found = await cards.find(set(), {SPECIALIST.id})
    assert found.specialists == {SPECIALIST.id: SpecialistSummary.of(moved)}
    assert await store.database["registry_cards"].count_documents({}) == 1


async def test_a_page_asks_the_registry_once_for_the_cards_it_lacks(
    cards: Cards, fake: FakeRpc
) -> None:
    unknown = uuid.uuid4()
    await cards.organization_updated(OrganizationUpdated(organization=ORGANIZATION))
    fake.reply(GET_ORGANIZATIONS, OrganizationsView(items=(OTHER,), missing=()))
    fake.reply(GET_SPECIALISTS, SpecialistsView(items=(SPECIALIST,), missing=(unknown,)))

    first = await cards.find({ORGANIZATION.id, OTHER.id}, {SPECIALIST.id, unknown})
    again = await cards.find({ORGANIZATION.id, OTHER.id}, {SPECIALIST.id, unknown})

    assert first == again
    assert first.complete
    assert first.organizations == {
        ORGANIZATION.id: OrganizationSummary.of(ORGANIZATION),
        OTHER.id: OrganizationSummary.of(OTHER),
    }
    assert first.specialists == {SPECIALIST.id: SpecialistSummary.of(SPECIALIST), unknown: None}
    [organizations] = fake.sent(GET_ORGANIZATIONS)
    [specialists] = fake.sent(GET_SPECIALISTS)
    assert organizations.ids == (OTHER.id,)
    assert set(specialists.ids) == {SPECIALIST.id, unknown}


async def test_an_id_the_registry_did_not_know_gets_its_card_from_the_event(
    cards: Cards, fake: FakeRpc
) -> None:
    fake.reply(GET_ORGANIZATIONS, OrganizationsView(items=(), missing=(OTHER.id,)))
    assert (await cards.find({OTHER.id}, set())).organizations == {OTHER.id: None}

    await cards.organization_updated(OrganizationUpdated(organization=OTHER))

    assert await name_of(cards, OTHER) == OTHER.short_name
    assert len(fake.sent(GET_ORGANIZATIONS)) == 1


async def test_while_the_registry_is_down_a_page_shows_the_cards_it_keeps(
    cards: Cards, fake: FakeRpc
) -> None:
    await cards.organization_updated(OrganizationUpdated(organization=ORGANIZATION))

    down = await cards.find({ORGANIZATION.id, OTHER.id}, {SPECIALIST.id})
    fake.reply(GET_ORGANIZATIONS, OrganizationsView(items=(OTHER,), missing=()))
    fake.reply(GET_SPECIALISTS, SpecialistsView(items=(SPECIALIST,), missing=()))
    back = await cards.find({ORGANIZATION.id, OTHER.id}, {SPECIALIST.id})

    assert not down.complete
    assert down.organizations == {ORGANIZATION.id: OrganizationSummary.of(ORGANIZATION)}
    assert down.specialists == {}
    assert back.complete
    assert back.organizations[OTHER.id] == OrganizationSummary.of(OTHER)
    assert back.specialists == {SPECIALIST.id: SpecialistSummary.of(SPECIALIST)}


def page_of(cards: Sequence[CardT], request: ListCards) -> tuple[tuple[CardT, ...], UUID | None]:
    """The registry's answer to a list request: cards after `request.after`, in id order."""
    rest = sorted((c for c in cards if request.after is None or c.id > request.after), key=id_of)
    page = tuple(rest[: request.limit])
    return page, page[-1].id if len(rest) > request.limit else None


def id_of(card: OrganizationCard | SpecialistCard) -> UUID:
    return card.id


async def test_the_start_up_copy_pages_through_the_registry_once_it_answers(
    cards: Cards, fake: FakeRpc
) -> None:
    organizations, specialists = demo.organizations(), demo.specialists()
    newer = renamed(ORGANIZATION, "Имя из события", timedelta(days=1))
    await cards.organization_updated(OrganizationUpdated(organization=newer))
    calls = 0

    async def list_organizations(request: ListCards) -> OrganizationList:
        nonlocal calls
        calls += 1
        if calls == 1:  # the registry is still starting
            raise ServiceError(ErrorCode.SERVICE_UNAVAILABLE)
        items, next_after = page_of(organizations, request)
        return OrganizationList(items=items, next_after=next_after)

    async def list_specialists(request: ListCards) -> SpecialistList:
        items, next_after = page_of(specialists, request)
        return SpecialistList(items=items, next_after=next_after)

    fake.answer(LIST_ORGANIZATIONS, list_organizations)
    fake.answer(LIST_SPECIALISTS, list_specialists)

    await asyncio.wait_for(cards.backfill(), 10)

    found = await cards.find({c.id for c in organizations}, {c.id for c in specialists})
    assert not fake.sent(GET_ORGANIZATIONS)
    assert not fake.sent(GET_SPECIALISTS)
    assert found.organizations[ORGANIZATION.id] == OrganizationSummary.of(newer)
    assert found.organizations[OTHER.id] == OrganizationSummary.of(OTHER)
    assert len(found.organizations) == len(organizations)
    assert all(found.specialists[c.id] == SpecialistSummary.of(c) for c in specialists)
    assert len(fake.sent(LIST_SPECIALISTS)) == -(-len(specialists) // ListCards().limit)


async def test_a_list_page_shows_kept_cards_without_asking_the_registry(
    store: Store, cards: Cards, registry: Registry, fake: FakeRpc
) -> None:
    catalogue = Catalogue.demo()
    clinic = catalogue.clinics[0]
    database, now = store.database, utc_now()
    records, consents = RecordsRepository(database), ConsentsRepository(database)
    [reported] = history(PATIENT, 6, catalogue, clinic=clinic.id).values()
    await records.store_batch(clinic.id, reported, uuid.uuid4().hex, now)
    await consents.put(PATIENT.snils, DataConsent(all_clinics=True, updated_at=now), uuid.uuid4())
    staff = {s.id: s for s in catalogue.specialists[clinic.id]}
    await cards.organization_updated(OrganizationUpdated(organization=clinic))
    for ident in {s.specialist_id for s in reported if s.specialist_id}:
        await cards.specialist_updated(SpecialistUpdated(specialist=staff[ident]))
    patient = PatientRef(
        account_id=uuid.uuid4(),
        snils=PATIENT.snils,
        full_name=PATIENT.full_name,
        birth_date=PATIENT.birth_date,
    )
    fake.reply(
        AUTHORIZE,
        AccessDecision(
            allowed=True,
            actor_id=patient.account_id,
            patient=patient,
            basis=LegalBasis.OWN_ACCOUNT,
            sees_restricted_categories=True,
        ),
    )
    reading = Reading(
        records,
        consents,
        SyncRepository(database),
        JournalRepository(database),
        Identity(ServiceClient(Service.IDENTITY, fake)),
        registry,
        cards,
        Sender(RabbitBroker(), RecordsSettings()),
        Timing(sync_cooldown=timedelta(minutes=5), sync_answer_within=timedelta(minutes=10)),
    )
    context = AccessContext(actor_id=patient.account_id, patient_id=patient.account_id)

    page = await reading.list_services(ListRenderedServices(context=context))

    assert len(page.items) == len(reported)
    assert {i.organization_name for i in page.items} == {clinic.short_name}
    for item in page.items:
        if item.specialist_id:
            card = staff[item.specialist_id]
            assert item.specialist_name == card.full_name
            assert item.specialist_specialty == SPECIALIST_TITLES[card.specialty]
    assert page.notices == ()
    assert not fake.sent(GET_ORGANIZATIONS)
    assert not fake.sent(GET_SPECIALISTS)
