"""An in-process records service on the real broker, and a clinic that talks to it."""

import uuid
from collections.abc import AsyncIterator

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel, AbstractQueue, AbstractRobustConnection

from gosmed.contracts import topology
from gosmed.contracts.identity.notifications import NOTIFY_QUEUE, SEND_NOTIFICATION
from gosmed.contracts.records.intake import RECORD_ADDED
from gosmed.records.main import create
from gosmed.records.settings import RecordsSettings
from gosmed.records.simulator import Catalogue, Clinic
from gosmed.runtime.broker import durable_queue
from gosmed.runtime.service import ServiceRuntime
from gosmed.runtime.testing import clinic_connection
from tests.queues import FixedQueues


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return Catalogue.demo()


@pytest.fixture
async def records(amqp_url: str, fixed_queues: FixedQueues) -> AsyncIterator[ServiceRuntime]:
    """The records service with a database of this test alone, on queues emptied of what
    earlier runs left and removed afterwards (with the queues its messages go to)."""
    runtime = create(
        settings=RecordsSettings(
            amqp_url=amqp_url,
            mongodb_database=f"records_{uuid.uuid4().hex[:8]}",
            graceful_timeout=2.0,
        )
    )
    await fixed_queues.take_service(runtime)
    notify = topology.command_queue(topology.Service.IDENTITY, SEND_NOTIFICATION)
    await fixed_queues.take([notify, topology.UNROUTED_QUEUE])
    await runtime.start()
    yield runtime
    await runtime.stop()


@pytest.fixture
async def channel(amqp_url: str) -> AsyncIterator[AbstractChannel]:
    connection: AbstractRobustConnection = await aio_pika.connect_robust(amqp_url)
    async with connection:
        yield await connection.channel(publisher_confirms=True, on_return_raises=True)


@pytest.fixture
async def clinic(amqp_url: str, catalogue: Catalogue) -> AsyncIterator[Clinic]:
    """The first demo clinic, on its own broker user (made by `clinic add`)."""
    async with clinic_connection(amqp_url, catalogue.clinics[0].id) as door:
        yield await Clinic.open(door.channel, door.organization_id, door.user)


@pytest.fixture
async def events(channel: AbstractChannel) -> AbstractQueue:
    """A listener on `records.record-added.v1`, as any consuming service would bind one."""
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    await queue.bind(
        topology.EVENTS_EXCHANGE, topology.event_key(topology.Service.RECORDS, RECORD_ADDED)
    )
    return queue


@pytest.fixture
async def notifications(channel: AbstractChannel, records: ServiceRuntime) -> AbstractQueue:
    """Identity's notification queue, declared as identity declares it."""
    arguments = durable_queue(NOTIFY_QUEUE, records.settings).arguments
    return await channel.declare_queue(NOTIFY_QUEUE, durable=True, arguments=arguments)
