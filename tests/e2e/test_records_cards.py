"""Records' copy of the registry cards end to end: a clinic renames itself or a doctor in the
registry, the registry announces it, and the patient's list shows the new name."""

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import aio_pika
import httpx
import pytest

from gosmed.contracts import demo, topology
from gosmed.contracts.base import Message
from gosmed.contracts.registry.organizations import UPSERT_ORGANIZATION, UpsertOrganization
from gosmed.contracts.registry.specialists import (
    UPSERT_SPECIALIST,
    SpecialistProfile,
    UpsertSpecialist,
)
from gosmed.records.simulator import Catalogue, history, publish, reports
from tests.e2e.identity_support import DEMO_ENV, login

REGISTRY = topology.Service.REGISTRY
CATALOGUE = Catalogue.demo()


@pytest.fixture(scope="module")
def stack_env() -> dict[str, str]:
    return DEMO_ENV


async def send_to_registry(amqp_url: str, queue: str, command: Message) -> None:
    """Publish a command to the registry as a clinic does: persistent and confirmed."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        await channel.default_exchange.publish(
            aio_pika.Message(
                command.model_dump_json().encode(),
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=str(command.message_id),
            ),
            routing_key=topology.command_queue(REGISTRY, queue),
            mandatory=True,
        )


def items_of(edge: httpx.Client, organization_id: uuid.UUID) -> list[Any]:
    response = edge.get(
        "/api/v1/patients/me/services",
        params={"organization_id": str(organization_id)},
        headers=login(edge, demo.PATIENT),
    )
    assert response.status_code == 200, response.text
    items: list[Any] = response.json()["items"]
    return items


def until_shown(
    edge: httpx.Client, organization_id: uuid.UUID, shown: Callable[[list[Any]], bool]
) -> list[Any]:
    """Poll the list of one clinic's services until `shown` holds for its items."""
    deadline = time.monotonic() + 15
    while not shown(items := items_of(edge, organization_id)):
        assert time.monotonic() < deadline, f"not shown in time: {items}"
        time.sleep(0.2)
    return items


def names(items: list[Any], field: str, **where: str) -> set[str]:
    return {i[field] for i in items if all(i[k] == v for k, v in where.items())}


def test_a_rename_in_the_registry_reaches_the_list(edge: httpx.Client, amqp_url: str) -> None:
    clinic = CATALOGUE.clinics[0]
    services = history(demo.PATIENT, 4, CATALOGUE, clinic=clinic.id, prefix=uuid.uuid4().hex[:8])
    asyncio.run(publish(amqp_url, list(reports(services))))
    before = items_of(edge, clinic.id)
    staff = {str(s.id): s for s in CATALOGUE.specialists[clinic.id]}
    doctor = staff[next(i["specialist_id"] for i in before if i["specialist_id"])]
    later = {"updated_at": max(clinic.updated_at, doctor.updated_at) + timedelta(days=1)}
    renamed = clinic.model_copy(
        update={"short_name": "ГБУЗ «Поликлиника № 1 им. Пирогова»", **later}
    )
    profile = SpecialistProfile.model_validate(
        doctor.model_dump(exclude={"rating", "reviews_count"})
    )
    married = profile.model_copy(update={"full_name": "Смирнова-Орлова Анна Петровна", **later})

    assert names(before, "organization_name") == {clinic.short_name}
    assert names(before, "specialist_name", specialist_id=str(doctor.id)) == {doctor.full_name}
    asyncio.run(
        send_to_registry(amqp_url, UPSERT_ORGANIZATION, UpsertOrganization(organization=renamed))
    )
    asyncio.run(send_to_registry(amqp_url, UPSERT_SPECIALIST, UpsertSpecialist(specialist=married)))

    after = until_shown(
        edge,
        clinic.id,
        lambda items: (
            names(items, "organization_name") == {renamed.short_name}
            and names(items, "specialist_name", specialist_id=str(doctor.id)) == {married.full_name}
        ),
    )
    assert names(after, "organization_address") == {clinic.address.one_line}
    assert [i["id"] for i in after] == [i["id"] for i in before]
