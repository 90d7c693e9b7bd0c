"""The registry's use cases on the embedded store (the one stand-in the team allows)."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest

from gosmed.contracts.errors import ServiceError
from gosmed.contracts.feedback.ratings import RatedSubject, RatingChanged
from gosmed.contracts.registry.catalog import SearchServices
from gosmed.contracts.registry.organizations import (
    ORGANIZATION_UPDATED,
    GetOrganizations,
    ListCards,
    OrganizationUpdated,
    SearchOrganizations,
)
from gosmed.contracts.registry.specialists import (
    SPECIALIST_UPDATED,
    GetSpecialists,
    SpecialistProfile,
    SpecialistUpdated,
)
from gosmed.contracts.registry.tariffs import GetTariff
from gosmed.registry import demo
from gosmed.registry.repository import (
    NomenclatureRepository,
    OrganizationRepository,
    SpecialistRepository,
    TariffRepository,
)
from gosmed.registry.service import Registry
from gosmed.runtime.outbox import Relay
from gosmed.runtime.store import open_store
from gosmed.runtime.testing import FakePublisher

LATER = timedelta(minutes=5)
# Wednesday 2026-03-18, 12:00 Moscow time
NOON = datetime(2026, 3, 18, 9, 0, tzinfo=UTC)


@pytest.fixture
async def published() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
async def registry(published: FakePublisher) -> AsyncIterator[Registry]:
    store = open_store(None, f"registry_test_{uuid.uuid4().hex[:8]}")
    database = store.database
    service = Registry(
        OrganizationRepository(database),
        SpecialistRepository(database),
        NomenclatureRepository(database),
        TariffRepository(database),
        relay=Relay(published),
        clock=lambda: NOON,
    )
    await service.prepare(demo_data=False)
    yield service
    await service.relay.stop()
    store.close()


@pytest.fixture
async def seeded(registry: Registry) -> Registry:
    await registry.prepare(demo_data=True)
    return registry


def organization_events(published: FakePublisher) -> list[OrganizationUpdated]:
    return published.messages(ORGANIZATION_UPDATED, OrganizationUpdated)


async def test_newest_version_wins_whatever_the_order(
    registry: Registry, published: FakePublisher
) -> None:
    card = demo.organizations()[0]
    newer = card.model_copy(update={"short_name": "Новое", "updated_at": card.updated_at + LATER})
    await registry.upsert_organization(newer)
    await registry.upsert_organization(card)
    await registry.upsert_organization(newer)

    view = await registry.get_organizations(GetOrganizations(ids=(card.id,)))
    assert [c.short_name for c in view.items] == ["Новое"]
    # one change, one event: the older and the repeated update changed nothing
    assert [e.organization for e in organization_events(published)] == [newer]
    assert len(published.published) == 1


async def test_an_event_a_crash_left_unsent_is_relayed_at_the_next_start(
    registry: Registry, published: FakePublisher
) -> None:
    card = demo.organizations()[1]
    await registry.organizations.save_if_newer(card)  # a crash right after the write
    assert published.published == []
    await registry.relay.start()
    await registry.relay.relay_pending()
    assert [e.organization for e in organization_events(published)] == [card]


async def test_an_event_the_broker_refused_is_relayed_later_and_once(
    registry: Registry, published: FakePublisher
) -> None:
    card = demo.organizations()[6]
    published.refuse()
    await registry.upsert_organization(card)  # stored; the broker is down
    assert published.published == []
    (stored,) = (await registry.get_organizations(GetOrganizations(ids=(card.id,)))).items
    assert stored == card

    await registry.upsert_organization(card)  # a redelivery changes nothing
    assert await registry.relay.relay_pending() == 0  # the relay's next round
    assert await registry.relay.relay_pending() == 0
    assert [e.organization for e in organization_events(published)] == [card]


async def test_batch_get_keeps_the_asked_order_and_names_the_missing(seeded: Registry) -> None:
    first, second = demo.organizations()[5], demo.organizations()[2]
    unknown = uuid.uuid4()
    view = await seeded.get_organizations(GetOrganizations(ids=(first.id, unknown, second.id)))
    assert [c.id for c in view.items] == [first.id, second.id]
    assert view.missing == (unknown,)
    ids = tuple(s.id for s in demo.specialists()[:200])
    specialists = await seeded.get_specialists(GetSpecialists(ids=ids))
    assert tuple(s.id for s in specialists.items) == ids


async def test_profile_update_keeps_the_rating(seeded: Registry) -> None:
    card = next(s for s in demo.specialists() if s.rating is not None)
    profile = SpecialistProfile.model_validate(card.model_dump(exclude={"rating"}))
    moved = profile.model_copy(
        update={"full_name": "Новикова Анна Петровна", "updated_at": card.updated_at + LATER}
    )
    await seeded.upsert_specialist(moved)
    (stored,) = (await seeded.get_specialists(GetSpecialists(ids=(card.id,)))).items
    assert stored.full_name == "Новикова Анна Петровна"
    assert (stored.rating, stored.reviews_count) == (card.rating, card.reviews_count)


async def test_specialist_of_an_unknown_department_is_refused(seeded: Registry) -> None:
    card = demo.specialists()[0]
    profile = SpecialistProfile.model_validate(
        {**card.model_dump(exclude={"rating"}), "department_id": str(uuid.uuid4())}
    )
    with pytest.raises(ServiceError, match=r"specialist\.department_id"):
        await seeded.upsert_specialist(profile)


async def test_organization_search_pages_without_gaps_or_repeats(seeded: Registry) -> None:
    names: list[str] = []
    cursor = None
    while True:
        page = await seeded.search_organizations(SearchOrganizations(limit=7, cursor=cursor))
        names += [c.short_name for c in page.items]
        if (cursor := page.next_cursor) is None:
            break
    assert len(names) == len(demo.organizations())
    assert names == sorted(names, key=str.lower)


async def test_full_lists_page_by_id_to_every_card_once(seeded: Registry) -> None:
    organizations: list[uuid.UUID] = []
    after = None
    while True:
        page = await seeded.list_organizations(ListCards(after=after, limit=9))
        organizations += [c.id for c in page.items]
        if (after := page.next_after) is None:
            break
    specialists = await seeded.list_specialists(ListCards())
    rest = await seeded.list_specialists(ListCards(after=specialists.next_after))

    assert organizations == sorted(c.id for c in demo.organizations())
    assert len(specialists.items) == ListCards().limit
    assert [c.id for c in specialists.items + rest.items] == sorted(
        c.id for c in demo.specialists()
    )[: 2 * ListCards().limit]


async def test_open_now_uses_each_organizations_hours(seeded: Registry) -> None:
    page = await seeded.search_organizations(SearchOrganizations(open_now=True, limit=100))
    # at noon on a Wednesday every demo organization is open
    assert len(page.items) == len(demo.organizations())
    late = Registry(
        seeded.organizations,
        seeded.specialists,
        seeded.nomenclature,
        seeded.tariffs,
        relay=Relay(FakePublisher()),
        clock=lambda: NOON + timedelta(hours=12),  # midnight in Moscow
    )
    at_night = await late.search_organizations(SearchOrganizations(open_now=True, limit=100))
    assert at_night.items
    assert all(c.working_hours.weekly[0].opens.hour == 0 for c in at_night.items)


async def test_services_by_words_category_and_code(seeded: Registry) -> None:
    rounds = await seeded.search_services(SearchServices(q="ежедневные терапевтом", limit=100))
    assert {s.code for s in rounds.items} == {"B01.047.005"}
    therapist = await seeded.search_services(SearchServices(q="терапевтом", limit=100))
    assert {"B01.047.001", "B01.047.002", "B04.047.001", "B01.065.001"} <= {
        s.code for s in therapist.items
    }
    labs = await seeded.search_services(SearchServices(q="в крови", category="laboratory", limit=5))
    assert len(labs.items) == 5
    assert labs.next_cursor is not None
    assert all(s.category == "laboratory" for s in labs.items)
    codes = await seeded.search_services(SearchServices(q="A09.05.02", limit=100))
    assert [s.code for s in codes.items] == sorted(s.code for s in codes.items)
    assert codes.items
    assert all(s.code.startswith("A09.05.02") for s in codes.items)


async def test_tariff_of_the_organization_then_of_its_region(seeded: Registry) -> None:
    private = next(o for o in demo.organizations() if o.legal_form == "ООО")
    paid = next(s for s in demo.nomenclature() if s.category == "paid")
    own = await seeded.get_tariff(
        GetTariff(service_code=paid.code, on=date(2026, 5, 1), organization_id=private.id)
    )
    assert own.tariff is not None
    assert own.tariff.organization_id == private.id
    regional = await seeded.get_tariff(
        GetTariff(service_code="B01.047.001", on=date(2025, 5, 1), organization_id=private.id)
    )
    assert regional.tariff is not None
    assert regional.tariff.region_code == private.address.region_code
    assert regional.tariff.effective_to == date(2025, 12, 31)
    with pytest.raises(ServiceError, match="нет в номенклатуре"):
        await seeded.get_tariff(GetTariff(service_code="B99.999.999", on=date(2026, 1, 1)))


async def test_newest_rating_is_shown_and_announced(
    seeded: Registry, published: FakePublisher
) -> None:
    card = demo.specialists()[3]
    change = RatingChanged(
        subject=RatedSubject.SPECIALIST,
        subject_id=card.id,
        average=4.25,
        reviews_count=card.reviews_count + 1,
        as_of=NOON,
    )
    await seeded.update_rating(change)
    await seeded.update_rating(change.model_copy(update={"average": 1.0, "as_of": NOON - LATER}))

    (stored,) = (await seeded.get_specialists(GetSpecialists(ids=(card.id,)))).items
    assert (stored.rating, stored.reviews_count) == (4.25, card.reviews_count + 1)
    assert stored.updated_at == card.updated_at
    (event,) = published.messages(SPECIALIST_UPDATED, SpecialistUpdated)
    assert event.specialist == stored
    with pytest.raises(ServiceError, match="специалист не найден"):
        await seeded.update_rating(change.model_copy(update={"subject_id": uuid.uuid4()}))


async def test_a_rating_stored_during_a_profile_update_is_in_the_announced_card(
    seeded: Registry, published: FakePublisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    card = demo.specialists()[3]
    profile = SpecialistProfile.model_validate(card.model_dump(exclude={"rating"}))
    moved = profile.model_copy(
        update={"full_name": "Новикова Анна Петровна", "updated_at": card.updated_at + LATER}
    )
    collection = seeded.specialists.outbox.collection
    read = collection.find_one
    rated: list[bool] = []

    async def read_while_feedback_rates(*args: object, **kwargs: object) -> object:
        document = await read(*args, **kwargs)
        if not rated:  # feedback's rating lands between the read and the write
            rated.append(True)
            await seeded.specialists.save_rating_if_newer(card.id, 4.5, 12, NOON)
        return document

    monkeypatch.setattr(collection, "find_one", read_while_feedback_rates)
    await seeded.upsert_specialist(moved)

    *_, last = published.messages(SPECIALIST_UPDATED, SpecialistUpdated)
    assert (last.specialist.full_name, last.specialist.rating) == (moved.full_name, 4.5)
    (stored,) = (await seeded.get_specialists(GetSpecialists(ids=(card.id,)))).items
    assert stored == last.specialist


async def test_an_organization_shows_the_newest_rating_and_an_upsert_cannot_set_it(
    seeded: Registry,
) -> None:
    card = demo.organizations()[0]
    change = RatingChanged(
        subject=RatedSubject.ORGANIZATION,
        subject_id=card.id,
        average=4.3,
        reviews_count=3,
        as_of=NOON,
    )
    await seeded.update_rating(change)
    await seeded.update_rating(change.model_copy(update={"average": 1.0, "as_of": NOON - LATER}))
    (stored,) = (await seeded.get_organizations(GetOrganizations(ids=(card.id,)))).items
    assert (stored.rating, stored.reviews_count) == (4.3, 3)

    forged = card.model_copy(update={"rating": 5.0, "reviews_count": 999, "updated_at": NOON})
    await seeded.upsert_organization(forged)
    (stored,) = (await seeded.get_organizations(GetOrganizations(ids=(card.id,)))).items
    assert (stored.rating, stored.reviews_count) == (4.3, 3)
    with pytest.raises(ServiceError, match="организация не найдена"):
        await seeded.update_rating(change.model_copy(update={"subject_id": uuid.uuid4()}))
