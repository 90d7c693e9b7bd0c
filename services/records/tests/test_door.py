"""The clinics' door on the real broker: a clinic reaches only the intake exchange and its own
queues, and a report is taken only from the clinic it names."""

import asyncio
import uuid

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue
from aiormq.exceptions import (
    ChannelAccessRefused,
    ChannelPreconditionFailed,
    ProbableAuthenticationError,
)

from gosmed.contracts import topology
from gosmed.contracts.demo import PATIENT
from gosmed.contracts.errors import ErrorCode
from gosmed.contracts.records.intake import RENDERED_SERVICES, ReportRenderedServices
from gosmed.records.simulator import Catalogue, Clinic, history, reports
from gosmed.runtime.broker_access import BrokerAccess, BrokerAccessSettings, clinic_user
from gosmed.runtime.service import ServiceRuntime
from gosmed.runtime.testing import clinic_connection, poll_next_message
from tests.queues import FixedQueues

REPORTS_QUEUE = topology.command_queue(topology.Service.RECORDS, RENDERED_SERVICES)
LOGIN_QUEUE = topology.rpc_queue(topology.Service.IDENTITY, "start-login")
VHOST = "gosmed-test"  # any vhost: names are checked against the one given


def report_of(catalogue: Catalogue, organization: int, prefix: str) -> ReportRenderedServices:
    services = history(
        PATIENT, 2, catalogue, clinic=catalogue.clinics[organization].id, prefix=prefix
    )
    return next(reports(services))


async def records_of(records: ServiceRuntime, organization_id: uuid.UUID) -> int:
    collection = records.store.database["records"]
    return await collection.count_documents({"organization_id": str(organization_id)})


@pytest.fixture
async def dead(records: ServiceRuntime, channel: AbstractChannel) -> AbstractQueue:
    return await channel.declare_queue(
        topology.dead_letter_queue(REPORTS_QUEUE), durable=True, passive=True
    )


@pytest.fixture
async def login_queue(channel: AbstractChannel, fixed_queues: FixedQueues) -> AbstractQueue:
    """Identity's RPC queue that takes phones and passwords."""
    await fixed_queues.take([LOGIN_QUEUE])
    return await channel.declare_queue(LOGIN_QUEUE, durable=True)


async def ignore(_: AbstractIncomingMessage) -> None:
    return None


# --- on the real broker ----------------------------------------------------------------------


async def test_a_clinic_cannot_consume_an_identity_rpc_queue_nor_publish_to_the_default_exchange(
    amqp_url: str, login_queue: AbstractQueue, catalogue: Catalogue
) -> None:
    async with clinic_connection(amqp_url, catalogue.clinics[0].id) as door:
        queue = await door.channel.get_queue(LOGIN_QUEUE, ensure=False)
        with pytest.raises(ChannelAccessRefused):
            await queue.consume(ignore)
        channel = await door.connection.channel(publisher_confirms=True)
        with pytest.raises(ChannelAccessRefused):
            await channel.default_exchange.publish(
                aio_pika.Message(b"{}", user_id=door.user), routing_key=LOGIN_QUEUE
            )
    assert (await login_queue.declare()).message_count == 0


async def test_a_report_naming_another_organization_is_dead_lettered_and_changes_nothing(
    amqp_url: str,
    records: ServiceRuntime,
    clinic: Clinic,
    catalogue: Catalogue,
    dead: AbstractQueue,
) -> None:
    victim = catalogue.clinics[1].id
    forged = report_of(catalogue, 1, prefix="forged")

    with pytest.raises(RuntimeError, match="report rejected"):
        await asyncio.wait_for(await clinic.send(forged), 10)

    message = await poll_next_message(dead)
    headers = message.headers or {}
    assert headers[topology.HEADER_ERROR_CODE] == ErrorCode.ORGANIZATION_MISMATCH.value
    reason = str(headers[topology.HEADER_ERROR_REASON])
    assert str(victim) in reason
    assert str(clinic.organization_id) in reason
    assert await records_of(records, victim) == 0
    # the same clinic reporting for itself is served
    accepted = await asyncio.wait_for(await clinic.send(report_of(catalogue, 0, "own")), 10)
    assert accepted.created == 2


async def test_a_forged_user_id_is_refused_by_the_broker_and_changes_nothing(
    records: ServiceRuntime, clinic: Clinic, catalogue: Catalogue, dead: AbstractQueue
) -> None:
    victim = catalogue.clinics[1].id
    forged = report_of(catalogue, 1, prefix="forged-user")
    door = await clinic.channel.get_exchange(topology.CLINIC_INTAKE_EXCHANGE, ensure=False)

    with pytest.raises(ChannelPreconditionFailed, match="user_id"):
        await door.publish(
            aio_pika.Message(
                forged.model_dump_json().encode(),
                user_id=clinic_user(VHOST, victim),
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=REPORTS_QUEUE,
        )
    assert await dead.get(fail=False) is None
    assert await records_of(records, victim) == 0


async def test_a_report_without_a_clinic_user_is_dead_lettered_unanswered_in_a_platform_queue(
    records: ServiceRuntime,
    clinic: Clinic,
    catalogue: Catalogue,
    channel: AbstractChannel,
    dead: AbstractQueue,
    login_queue: AbstractQueue,
) -> None:
    report = report_of(catalogue, 0, prefix="anonymous")
    # From the platform's side (no user_id): whoever it is, it is no clinic.
    await channel.default_exchange.publish(
        aio_pika.Message(report.model_dump_json().encode(), message_id="anonymous"),
        routing_key=REPORTS_QUEUE,
    )
    message = await poll_next_message(dead)
    assert (message.headers or {})[topology.HEADER_ERROR_CODE] == "clinic_unidentified"
    # A clinic naming a platform queue as reply_to gets no answer there, nor anywhere.
    await clinic.send_json(report.model_dump_json().encode(), "into-identity", reply_to=LOGIN_QUEUE)
    message = await poll_next_message(dead)
    assert message.message_id == "into-identity"
    headers = message.headers or {}
    assert headers[topology.HEADER_ERROR_CODE] == ErrorCode.CLINIC_QUEUE_FORBIDDEN.value
    assert LOGIN_QUEUE in str(headers[topology.HEADER_ERROR_REASON])
    assert (await login_queue.declare()).message_count == 0
    assert await records_of(records, catalogue.clinics[0].id) == 0


async def test_clinic_add_lets_it_report_and_clinic_remove_shuts_it_out(
    amqp_url: str, records: ServiceRuntime, catalogue: Catalogue
) -> None:
    organization_id = catalogue.clinics[2].id
    access = BrokerAccess(BrokerAccessSettings(amqp_url=amqp_url))
    async with clinic_connection(amqp_url, organization_id) as door:
        clinic = await Clinic.open(door.channel, organization_id, door.user)
        accepted = await asyncio.wait_for(await clinic.send(report_of(catalogue, 2, "add")), 10)
        assert accepted.created == 2
        assert await records_of(records, organization_id) == 2

        await asyncio.to_thread(access.remove_clinic, organization_id)

        with pytest.raises(ProbableAuthenticationError):
            await aio_pika.connect(door.url)
    # it can be added again (demo reruns)
    await asyncio.to_thread(access.add_clinic, organization_id)
