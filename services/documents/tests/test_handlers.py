"""The documents service in this process on the real broker: a malformed command is
dead-lettered with its reason and the service keeps answering."""

import asyncio
from collections.abc import AsyncIterator
from uuid import uuid4

import aio_pika
import pytest

from gosmed.contracts import topology
from gosmed.contracts.documents.requests import (
    RENDER_DOCUMENT,
    VERIFY_DOCUMENT,
    DocumentVerification,
    VerifyDocument,
)
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.notifications import SEND_NOTIFICATION
from gosmed.documents.main import create
from gosmed.documents.settings import DocumentsSettings
from gosmed.runtime.rpc import RpcClient
from tests.queues import FixedQueues

RENDER_QUEUE = topology.command_queue(topology.Service.DOCUMENTS, RENDER_DOCUMENT)
NOTIFY_QUEUE = topology.command_queue(topology.Service.IDENTITY, SEND_NOTIFICATION)


@pytest.fixture
async def rpc(amqp_url: str, fixed_queues: FixedQueues) -> AsyncIterator[RpcClient]:
    runtime = create(settings=DocumentsSettings(amqp_url=amqp_url, render_workers=1))
    await fixed_queues.take_service(runtime)
    await fixed_queues.take([NOTIFY_QUEUE])
    await runtime.start()
    client = RpcClient(amqp_url)
    await client.connect()
    yield client
    await client.close()
    await runtime.stop()


async def test_malformed_render_command_is_dead_lettered_and_service_goes_on(
    rpc: RpcClient, amqp_url: str
) -> None:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        dead = await channel.get_queue(topology.dead_letter_queue(RENDER_QUEUE))
        await channel.default_exchange.publish(
            aio_pika.Message(b'{"document_id": "42"}', message_id="bad-render"),
            routing_key=RENDER_QUEUE,
        )
        async with asyncio.timeout(5):
            while (message := await dead.get(fail=False, no_ack=True)) is None:
                await asyncio.sleep(0.05)

    headers = message.headers or {}
    assert message.message_id == "bad-render"
    assert headers[topology.HEADER_ERROR_CODE] == ErrorCode.VALIDATION_FAILED.value
    assert "document_id" in str(headers[topology.HEADER_ERROR_REASON])

    queue = topology.rpc_queue(topology.Service.DOCUMENTS, VERIFY_DOCUMENT)
    with pytest.raises(ServiceError) as unknown:
        await rpc.call(queue, VerifyDocument(document_id=uuid4()), DocumentVerification)
    assert unknown.value.code == ErrorCode.NOT_FOUND
    assert unknown.value.message == "Документ с таким идентификатором не выдавался."
