"""The registry end to end: clinics publish upserts over the real broker, citizens read through
the edge. The stack starts without demo data: every organization here is published by the
test, as a clinic would."""

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta
from typing import Any

import aio_pika
import httpx
import pytest

from gosmed.contracts import topology
from gosmed.contracts.base import Message
from gosmed.contracts.feedback.ratings import RATING_CHANGED, RatedSubject, RatingChanged
from gosmed.contracts.registry.catalog import (
    UPSERT_SERVICE,
    MedicalService,
    ServiceCategory,
    UpsertService,
)
from gosmed.contracts.registry.organizations import (
    ORGANIZATION_UPDATED,
    UPSERT_ORGANIZATION,
    OrganizationCard,
    UpsertOrganization,
)
from gosmed.contracts.registry.specialists import (
    SPECIALIST_UPDATED,
    UPSERT_SPECIALIST,
    SpecialistProfile,
    UpsertSpecialist,
)
from gosmed.contracts.registry.tariffs import UPSERT_TARIFF, NormativeDocument, Tariff, UpsertTariff
from gosmed.registry import demo
from gosmed.runtime.devstack import DevStack
from gosmed.runtime.testing import poll_next_message

REGISTRY = topology.Service.REGISTRY
ORGANIZATIONS_QUEUE = topology.command_queue(REGISTRY, UPSERT_ORGANIZATION)
SPECIALISTS_QUEUE = topology.command_queue(REGISTRY, UPSERT_SPECIALIST)
SERVICES_QUEUE = topology.command_queue(REGISTRY, UPSERT_SERVICE)
TARIFFS_QUEUE = topology.command_queue(REGISTRY, UPSERT_TARIFF)
NOBODY = uuid.UUID(
    "00000000-0000-4000-8000-00000000dead"
)  # a fixed id: xdist workers collect the same tests
LATER = timedelta(minutes=1)


@pytest.fixture
async def api(stack: DevStack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{stack.base_url}/api/v1", timeout=10) as client:
        yield client


@pytest.fixture
async def clinic(amqp_url: str) -> AsyncIterator[aio_pika.abc.AbstractChannel]:
    """A clinic's channel to the broker: confirmed, persistent, unroutable publishes raise."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        yield await connection.channel(publisher_confirms=True, on_return_raises=True)


async def publish(channel: aio_pika.abc.AbstractChannel, queue: str, body: bytes | Message) -> str:
    message_id = uuid.uuid4().hex
    payload = body if isinstance(body, bytes) else body.model_dump_json().encode()
    await channel.default_exchange.publish(
        aio_pika.Message(
            payload,
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=message_id,
        ),
        routing_key=queue,
        mandatory=True,
    )
    return message_id


async def eventually(
    read: Callable[[], Any], accept: Callable[[Any], bool], within: float = 10
) -> Any:
    """Poll `read` until `accept` holds for its answer; the last answer otherwise."""
    deadline = time.monotonic() + within
    while True:
        answer = await read()
        if accept(answer) or time.monotonic() > deadline:
            return answer
        await asyncio.sleep(0.1)


async def dead_letter(
    channel: aio_pika.abc.AbstractChannel, queue: str, message_id: str, within: float = 10
) -> aio_pika.abc.AbstractIncomingMessage:
    dead = await channel.declare_queue(topology.dead_letter_queue(queue), passive=True)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        message = await dead.get(fail=False, no_ack=True)
        if message is None:
            await asyncio.sleep(0.1)
        elif message.message_id == message_id:
            return message
    raise AssertionError(f"no dead letter {message_id} on {queue}")


def organization(index: int, **changes: Any) -> OrganizationCard:
    """A demo organization (unknown to this stack, which runs without demo data)."""
    return demo.organizations()[index].model_copy(update=changes)


def problem_of(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"] == "application/problem+json", response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    return body


async def test_upserted_organization_appears_through_the_edge(
    api: httpx.AsyncClient, clinic: aio_pika.abc.AbstractChannel
) -> None:
    card = organization(0)
    await publish(clinic, ORGANIZATIONS_QUEUE, UpsertOrganization(organization=card))

    response = await eventually(
        lambda: api.get(f"/organizations/{card.id}"), lambda r: r.status_code == 200
    )
    assert response.status_code == 200
    body = response.json()
    assert body["short_name"] == card.short_name
    assert body["inn"] == card.inn
    assert body["ogrn"] == card.ogrn
    assert body["address"]["one_line"] == card.address.one_line
    assert body["address"]["one_line"].startswith(card.address.postal_code + ", г. Москва, ")
    assert [d["name"] for d in body["departments"]] == [d.name for d in card.departments]

    found = await api.get("/organizations", params={"q": "поликлиники", "city": "Москва"})
    assert card.short_name in [item["short_name"] for item in found.json()["items"]]


async def test_rename_published_by_clinic_is_visible_in_next_read_and_announced(
    api: httpx.AsyncClient, clinic: aio_pika.abc.AbstractChannel
) -> None:
    events = await clinic.declare_queue(exclusive=True)
    await events.bind(topology.EVENTS_EXCHANGE, routing_key=ORGANIZATION_UPDATED)
    card = organization(1)
    renamed = card.model_copy(
        update={"short_name": "ГП № 1 имени Пирогова", "updated_at": card.updated_at + LATER}
    )
    await publish(clinic, ORGANIZATIONS_QUEUE, UpsertOrganization(organization=card))
    await publish(clinic, ORGANIZATIONS_QUEUE, UpsertOrganization(organization=renamed))

    response = await eventually(
        lambda: api.get(f"/organizations/{card.id}"),
        lambda r: r.status_code == 200 and r.json()["short_name"] == renamed.short_name,
    )
    assert response.json()["short_name"] == "ГП № 1 имени Пирогова"
    announced: list[str] = []
    async with asyncio.timeout(10):
        while len(announced) < 2:
            message = await events.get(fail=False, no_ack=True)
            if message is None:
                await asyncio.sleep(0.05)
            else:
                announced.append(json.loads(message.body)["organization"]["short_name"])
    assert announced == [card.short_name, renamed.short_name]


async def test_older_update_does_not_overwrite_newer(
    api: httpx.AsyncClient, clinic: aio_pika.abc.AbstractChannel
) -> None:
    card = organization(2)
    newer = card.model_copy(update={"short_name": "Новое имя", "updated_at": card.updated_at})
    older = card.model_copy(
        update={"short_name": "Старое имя", "updated_at": card.updated_at - LATER}
    )
    await publish(clinic, ORGANIZATIONS_QUEUE, UpsertOrganization(organization=newer))
    response = await eventually(
        lambda: api.get(f"/organizations/{card.id}"), lambda r: r.status_code == 200
    )
    assert response.json()["short_name"] == "Новое имя"

    await publish(clinic, ORGANIZATIONS_QUEUE, UpsertOrganization(organization=older))
    # One consumer takes the queue in order: once a later message is read, the older was too.
    marker = organization(3)
    await publish(clinic, ORGANIZATIONS_QUEUE, UpsertOrganization(organization=marker))
    seen = await eventually(
        lambda: api.get(f"/organizations/{marker.id}"), lambda r: r.status_code == 200
    )
    assert seen.status_code == 200

    again = await api.get(f"/organizations/{card.id}")
    assert again.json()["short_name"] == "Новое имя"
    assert again.json()["updated_at"] == newer.updated_at.isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize(
    ("field", "value", "reason", "next_index"),
    [
        ("inn", "7707083895", "organization.inn: контрольное число ИНН не совпадает", 5),
        ("ogrn", "1027700132197", "organization.ogrn: контрольное число ОГРН не совпадает", 6),
        ("kpp", "7707", "organization.kpp: КПП должен содержать 9 символов, а содержит 4", 7),
    ],
)
async def test_invalid_number_is_dead_lettered_with_reason_naming_the_field(
    api: httpx.AsyncClient,
    clinic: aio_pika.abc.AbstractChannel,
    field: str,
    value: str,
    reason: str,
    next_index: int,
) -> None:
    card = organization(4)
    body = UpsertOrganization(organization=card).model_dump(mode="json")
    body["organization"][field] = value
    message_id = await publish(clinic, ORGANIZATIONS_QUEUE, json.dumps(body).encode())

    dead = await dead_letter(clinic, ORGANIZATIONS_QUEUE, message_id)
    headers = dead.headers or {}
    assert headers[topology.HEADER_ERROR_CODE] == "validation_failed"
    assert reason in str(headers[topology.HEADER_ERROR_REASON])
    assert (await api.get(f"/organizations/{card.id}")).status_code == 404

    # the consumer keeps going
    valid = organization(next_index)
    await publish(clinic, ORGANIZATIONS_QUEUE, UpsertOrganization(organization=valid))
    response = await eventually(
        lambda: api.get(f"/organizations/{valid.id}"), lambda r: r.status_code == 200
    )
    assert response.status_code == 200


async def test_invalid_entry_and_tariff_are_dead_lettered_with_their_reason(
    clinic: aio_pika.abc.AbstractChannel,
) -> None:
    entry = MedicalService(
        code="A09.05.026",
        name="Исследование уровня холестерина в крови",
        category=ServiceCategory.LABORATORY,
        updated_at=demo.UPDATED_AT,
    )
    body = UpsertService(service=entry).model_dump(mode="json")
    body["service"]["code"] = "A9.5.26"
    bad_code = await publish(clinic, SERVICES_QUEUE, json.dumps(body).encode())
    dead = await dead_letter(clinic, SERVICES_QUEUE, bad_code)
    reason = str((dead.headers or {})[topology.HEADER_ERROR_REASON])
    assert "service.code: строка не соответствует формату" in reason

    tariff = Tariff(
        service_code="A99.99.999",
        price=10_000,
        effective_from=date(2026, 1, 1),
        region_code="77",
        document=NormativeDocument(
            title="Тарифное соглашение",
            number="1",
            date=date(2025, 12, 1),
            url="https://tfoms.example.ru/1.pdf",
        ),
        updated_at=demo.UPDATED_AT,
    )
    unknown_service = await publish(clinic, TARIFFS_QUEUE, UpsertTariff(tariff=tariff))
    dead = await dead_letter(clinic, TARIFFS_QUEUE, unknown_service)
    reason = str((dead.headers or {})[topology.HEADER_ERROR_REASON])
    assert "tariff.service_code: такой услуги нет в номенклатуре" in reason

    both_scopes = UpsertTariff(tariff=tariff).model_dump(mode="json")
    both_scopes["tariff"]["organization_id"] = str(uuid.uuid4())
    message_id = await publish(clinic, TARIFFS_QUEUE, json.dumps(both_scopes).encode())
    dead = await dead_letter(clinic, TARIFFS_QUEUE, message_id)
    reason = str((dead.headers or {})[topology.HEADER_ERROR_REASON])
    assert "tariff: тариф устанавливается либо для региона, либо для организации" in reason


async def test_specialist_upsert_appears_and_unknown_organization_is_dead_lettered(
    api: httpx.AsyncClient, clinic: aio_pika.abc.AbstractChannel
) -> None:
    events = await clinic.declare_queue(exclusive=True)
    await events.bind(topology.EVENTS_EXCHANGE, routing_key=SPECIALIST_UPDATED)
    card = organization(10)
    specialist = next(s for s in demo.specialists() if s.organization_id == card.id)
    profile = SpecialistProfile.model_validate(specialist.model_dump(exclude={"rating"}))
    stray = profile.model_copy(update={"id": uuid.uuid4(), "organization_id": uuid.uuid4()})
    stray_id = await publish(clinic, SPECIALISTS_QUEUE, UpsertSpecialist(specialist=stray))
    dead = await dead_letter(clinic, SPECIALISTS_QUEUE, stray_id)
    assert "specialist.organization_id: организация не найдена" in str(
        (dead.headers or {})[topology.HEADER_ERROR_REASON]
    )

    await publish(clinic, ORGANIZATIONS_QUEUE, UpsertOrganization(organization=card))
    await eventually(lambda: api.get(f"/organizations/{card.id}"), lambda r: r.status_code == 200)
    await publish(clinic, SPECIALISTS_QUEUE, UpsertSpecialist(specialist=profile))

    response = await eventually(
        lambda: api.get(f"/specialists/{profile.id}"), lambda r: r.status_code == 200
    )
    body = response.json()
    assert body["full_name"] == profile.full_name
    assert body["organization_id"] == str(card.id)
    assert body["department_id"] == str(profile.department_id)
    assert body["rating"] is None
    assert body["reviews_count"] == 0
    message = await poll_next_message(events, within=10)
    assert json.loads(message.body)["specialist"]["id"] == str(profile.id)


async def test_rating_from_feedback_events_shows_on_the_specialist(
    api: httpx.AsyncClient, clinic: aio_pika.abc.AbstractChannel
) -> None:
    card = organization(11)
    specialist = next(s for s in demo.specialists() if s.organization_id == card.id)
    profile = SpecialistProfile.model_validate(specialist.model_dump(exclude={"rating"}))
    await publish(clinic, ORGANIZATIONS_QUEUE, UpsertOrganization(organization=card))
    await eventually(lambda: api.get(f"/organizations/{card.id}"), lambda r: r.status_code == 200)
    await publish(clinic, SPECIALISTS_QUEUE, UpsertSpecialist(specialist=profile))
    await eventually(lambda: api.get(f"/specialists/{profile.id}"), lambda r: r.status_code == 200)

    change = RatingChanged(
        subject=RatedSubject.SPECIALIST,
        subject_id=profile.id,
        average=4.5,
        reviews_count=2,
        as_of=profile.updated_at,
    )
    exchange = await clinic.get_exchange(topology.EVENTS_EXCHANGE)
    await exchange.publish(
        aio_pika.Message(
            change.model_dump_json().encode(),
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        ),
        routing_key=RATING_CHANGED,
    )
    response = await eventually(
        lambda: api.get(f"/specialists/{profile.id}"),
        lambda r: r.json()["reviews_count"] == 2,
    )
    assert (response.json()["rating"], response.json()["reviews_count"]) == (4.5, 2)


THERAPIST_SERVICES = (
    ("B01.047.001", "Прием (осмотр, консультация) врача-терапевта первичный"),
    ("B01.047.005", "Ежедневный осмотр врачом-терапевтом с наблюдением и уходом в стационаре"),
    ("B04.047.002", "Профилактический прием (осмотр, консультация) врача-терапевта"),
)
OTHER_SERVICES = (
    ("A09.05.023", "Исследование уровня глюкозы в крови"),
    ("B01.031.001", "Прием (осмотр, консультация) врача-педиатра первичный"),
    ("B05.023.001", "Услуги по медицинской реабилитации пациента после инсульта"),
)


@pytest.fixture(scope="module")
async def catalogue(stack: DevStack, amqp_url: str) -> None:
    """Nomenclature entries and tariffs published by a registry operator, once per module."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        for code, name in THERAPIST_SERVICES + OTHER_SERVICES:
            category = (
                ServiceCategory.REHABILITATION if code.startswith("B05") else ServiceCategory.PAID
            )
            entry = MedicalService(
                code=code, name=name, category=category, updated_at=demo.UPDATED_AT
            )
            await publish(channel, SERVICES_QUEUE, UpsertService(service=entry))
    async with httpx.AsyncClient(base_url=f"{stack.base_url}/api/v1") as client:
        listed = await eventually(
            lambda: client.get("/catalog/services", params={"limit": 100}),
            lambda r: len(r.json()["items"]) == 6,
        )
    assert len(listed.json()["items"]) == 6


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize(
    "query",
    [
        "терапевт",
        "терапевта",
        "Терапевтом",
        "врачом-терапевтом",
        "ТЕРАПЕВТА ВРАЧА",
        "консультация терапевта",
        "врач терапевт",
    ],
)
async def test_search_finds_therapist_entries_by_any_word_form(
    api: httpx.AsyncClient, query: str
) -> None:
    response = await api.get("/catalog/services", params={"q": query})
    assert response.status_code == 200
    codes = {item["code"] for item in response.json()["items"]}
    expected = {code for code, name in THERAPIST_SERVICES if "консультация" in name}
    if "консультация" not in query:
        expected = {code for code, _ in THERAPIST_SERVICES}
    assert codes == expected


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize(
    ("query", "codes"),
    [
        ("медицинские услуги", {"B05.023.001"}),
        ("кровь глюкоза", {"A09.05.023"}),
        ("B01.047", {"B01.047.001", "B01.047.005"}),
        ("в01", {"B01.047.001", "B01.047.005", "B01.031.001"}),
        ("A09.05.023", {"A09.05.023"}),
        ("хирург", set()),
    ],
)
async def test_search_by_words_and_code_prefix(
    api: httpx.AsyncClient, query: str, codes: set[str]
) -> None:
    response = await api.get("/catalog/services", params={"q": query})
    assert response.status_code == 200
    assert {item["code"] for item in response.json()["items"]} == codes


@pytest.mark.usefixtures("catalogue")
async def test_catalogue_pages_with_stable_cursors(api: httpx.AsyncClient) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(4):
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await api.get("/catalog/services", params=params)).json()
        seen += [item["code"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(code for code, _ in THERAPIST_SERVICES + OTHER_SERVICES)
    assert cursor is None


async def test_organizations_page_with_stable_cursors_and_filters(
    api: httpx.AsyncClient, clinic: aio_pika.abc.AbstractChannel
) -> None:
    kazan = [c for c in demo.organizations() if c.address.region_code == "16"]
    for card in kazan:
        await publish(clinic, ORGANIZATIONS_QUEUE, UpsertOrganization(organization=card))
    await eventually(
        lambda: api.get("/organizations", params={"city": "Казань", "limit": 100}),
        lambda r: len(r.json()["items"]) == len(kazan),
    )
    names: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"city": "г. казань", "limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (await api.get("/organizations", params=params)).json()
        names += [item["short_name"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert names == sorted((c.short_name for c in kazan), key=str.lower)

    dentists = await api.get(
        "/organizations", params={"city": "Казань", "specialization": "dentistry"}
    )
    assert [item["short_name"] for item in dentists.json()["items"]] == [
        c.short_name for c in kazan if "dentistry" in c.specializations
    ]
    open_now = await api.get("/organizations", params={"city": "Казань", "open_now": "true"})
    # the round-the-clock hospital is open whenever the test runs
    assert any(item["short_name"].startswith("ГКБ") for item in open_now.json()["items"])


async def test_tariff_in_force_on_a_date_with_its_document(
    api: httpx.AsyncClient, clinic: aio_pika.abc.AbstractChannel
) -> None:
    card = organization(20)
    await publish(clinic, ORGANIZATIONS_QUEUE, UpsertOrganization(organization=card))
    await eventually(lambda: api.get(f"/organizations/{card.id}"), lambda r: r.status_code == 200)
    service = MedicalService(
        code="A04.10.002",
        name="Эхокардиография",
        category=ServiceCategory.IMAGING,
        updated_at=demo.UPDATED_AT,
    )
    await publish(clinic, SERVICES_QUEUE, UpsertService(service=service))
    await eventually(
        lambda: api.get("/catalog/services", params={"q": "A04.10.002"}),
        lambda r: len(r.json()["items"]) == 1,
    )
    document = NormativeDocument(
        title="Тарифное соглашение в сфере ОМС",
        number="1/2026",
        date=date(2025, 12, 27),
        url="https://tfoms.example.ru/ts-2026.pdf",
    )
    region = card.address.region_code
    tariffs = (
        Tariff(
            service_code=service.code,
            price=150_000,
            effective_from=date(2025, 1, 1),
            effective_to=date(2025, 12, 31),
            region_code=region,
            document=document,
            updated_at=demo.UPDATED_AT,
        ),
        Tariff(
            service_code=service.code,
            price=163_000,
            effective_from=date(2026, 1, 1),
            region_code=region,
            document=document,
            updated_at=demo.UPDATED_AT,
        ),
        Tariff(
            service_code=service.code,
            price=250_000,
            effective_from=date(2026, 3, 1),
            organization_id=card.id,
            document=document.model_copy(update={"title": "Прейскурант"}),
            updated_at=demo.UPDATED_AT,
        ),
    )
    for tariff in tariffs:
        await publish(clinic, TARIFFS_QUEUE, UpsertTariff(tariff=tariff))
    path = f"/catalog/services/{service.code}/tariff"
    own = await eventually(
        lambda: api.get(path, params={"date": "2026-06-01", "organization_id": str(card.id)}),
        lambda r: r.status_code == 200 and r.json()["price"] == 250_000,
    )
    assert own.json()["document"]["title"] == "Прейскурант"

    # before the organization's own price list, its region's agreement applies
    regional = await api.get(path, params={"date": "2026-02-01", "organization_id": str(card.id)})
    assert regional.json()["price"] == 163_000
    assert regional.json()["document"]["number"] == "1/2026"
    last_year = await api.get(path, params={"date": "2025-07-01", "region": region})
    assert last_year.json()["price"] == 150_000
    before = await api.get(path, params={"date": "2024-07-01", "region": region})
    assert before.status_code == 404
    assert problem_of(before)["detail"] == "Тариф на услугу A04.10.002 на 01.07.2024 не установлен."


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/organizations?limit=0", 422, "validation_failed"),
        ("/organizations?limit=abc", 422, "validation_failed"),
        ("/organizations?open_now=maybe", 422, "validation_failed"),
        ("/organizations?specialization=astrology", 422, "validation_failed"),
        ("/organizations?cursor=not-a-cursor", 422, "validation_failed"),
        ("/organizations?colour=red", 422, "validation_failed"),
        ("/organizations?q=" + "я" * 201, 422, "validation_failed"),
        ("/organizations?q=!!", 422, "validation_failed"),
        ("/organizations/not-a-uuid", 422, "validation_failed"),
        (f"/organizations/{NOBODY}", 404, "not_found"),
        (f"/specialists/{NOBODY}", 404, "not_found"),
        ("/catalog/services?category=unknown", 422, "validation_failed"),
        ("/catalog/services?cursor=" + "x" * 201, 422, "validation_failed"),
        ("/catalog/services/not-a-code/tariff?region=77", 422, "validation_failed"),
        (
            "/catalog/services/B01.047.001/tariff?date=2026-13-01&region=77",
            422,
            "validation_failed",
        ),
        ("/catalog/services/B01.047.001/tariff?region=7", 422, "validation_failed"),
        ("/catalog/services/B01.047.001/tariff", 422, "validation_failed"),
        ("/catalog/services/B99.999.999/tariff?region=77", 404, "not_found"),
        (
            f"/catalog/services/B01.047.001/tariff?organization_id={NOBODY}",
            404,
            "not_found",
        ),
    ],
)
@pytest.mark.usefixtures("catalogue")
async def test_bad_query_parameters_get_problem_json(
    api: httpx.AsyncClient, path: str, status: int, code: str
) -> None:
    response = await api.get(path)
    assert response.status_code == status
    body = problem_of(response)
    assert body["code"] == code
    assert body["detail"]
