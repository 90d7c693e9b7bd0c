"""Dead letters of failed RPCs on the real RabbitMQ: no body (so no password, code or token is
kept in a persistent queue), the reason and ids kept, and gone after the configured TTL."""

import asyncio
from collections.abc import AsyncIterator

import aio_pika
import pytest
from faststream.rabbit import RabbitBroker
from pydantic import Field

from gosmed.contracts import topology
from gosmed.contracts.base import Message
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.rpc import Rpc
from gosmed.runtime.broker import create_broker, declare_topology, durable_queue
from gosmed.runtime.rpc import RpcClient
from gosmed.runtime.settings import CommonSettings
from gosmed.runtime.testing import poll_next_message

PASSWORD = "Пароль-S3cret-42"  # the secret the dead letter must not keep


class SignIn(Message):
    phone: str = Field(pattern=r"^\+7\d{10}$")
    password: str = Field(min_length=1, max_length=256)


class SignedIn(Message):
    token: str


def sign_in_rpc(queue_name: str) -> Rpc[SignIn, SignedIn]:
    return Rpc(topology.Service.IDENTITY, queue_name, SignIn, SignedIn)


@pytest.fixture
def ttl() -> float:
    return 3600.0


@pytest.fixture
async def failing_service(
    settings: CommonSettings, ttl: float, queue_name: str, cleanup_queues: list[str]
) -> AsyncIterator[str]:
    """An RPC whose handler crashes on every request: the RPC's queue name."""
    settings = settings.model_copy(update={"rpc_dead_letter_ttl": ttl})
    broker: RabbitBroker = create_broker(settings, service="test")
    queue = sign_in_rpc(queue_name).queue
    cleanup_queues += [queue, topology.dead_letter_queue(queue)]

    @broker.subscriber(durable_queue(queue, settings, dead_letter_rejected=False))
    async def sign_in(request: SignIn) -> SignedIn:
        raise RuntimeError("handler bug")

    await broker.connect()
    await declare_topology(broker, [queue], settings)
    await broker.start()
    yield queue
    await broker.stop()


async def call(amqp_url: str, rpc: Rpc[SignIn, SignedIn], request: SignIn) -> ServiceError:
    client = RpcClient(amqp_url)
    await client.connect()
    try:
        with pytest.raises(ServiceError) as caught:
            await client.call(rpc, request)
    finally:
        await client.close()
    return caught.value


async def call_raw(amqp_url: str, queue: str, body: bytes) -> None:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        await channel.default_exchange.publish(
            aio_pika.Message(body, content_type="application/json", message_id="raw-1"),
            routing_key=queue,
        )


async def next_dead_letter(amqp_url: str, queue: str) -> aio_pika.abc.AbstractIncomingMessage:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        dead = await channel.get_queue(topology.dead_letter_queue(queue))
        return await poll_next_message(dead, within=5)


async def waiting(amqp_url: str, queue: str) -> int:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        count = declared.declaration_result.message_count
        assert count is not None
        return count


def assert_without_secrets(dead: aio_pika.abc.AbstractIncomingMessage, body_size: int) -> None:
    assert dead.body == b""
    headers = dead.headers or {}
    assert PASSWORD not in str(headers)
    assert "+79161234567" not in str(headers)
    assert headers[topology.HEADER_BODY_OMITTED] == body_size


async def test_a_crashed_rpc_with_a_password_is_dead_lettered_without_it(
    failing_service: str, amqp_url: str, queue_name: str, ttl: float
) -> None:
    request = SignIn(phone="+79161234567", password=PASSWORD)

    error = await call(amqp_url, sign_in_rpc(queue_name), request)

    assert error.code == ErrorCode.INTERNAL
    dead = await next_dead_letter(amqp_url, failing_service)
    assert_without_secrets(dead, len(request.model_dump_json().encode()))
    headers = dead.headers or {}
    assert headers[topology.HEADER_ERROR_CODE] == ErrorCode.INTERNAL.value
    assert headers[topology.HEADER_ORIGINAL_QUEUE] == failing_service
    assert dead.correlation_id  # the caller's request can still be found in its logs
    assert dead.expiration == ttl


async def test_an_invalid_rpc_with_a_password_is_dead_lettered_without_it(
    failing_service: str, amqp_url: str
) -> None:
    body = b'{"phone": "not a phone", "password": "' + PASSWORD.encode() + b'"}'

    await call_raw(amqp_url, failing_service, body)

    dead = await next_dead_letter(amqp_url, failing_service)
    assert_without_secrets(dead, len(body))
    assert dead.message_id == "raw-1"
    headers = dead.headers or {}
    assert headers[topology.HEADER_ERROR_CODE] == ErrorCode.VALIDATION_FAILED.value
    assert "phone" in str(headers[topology.HEADER_ERROR_REASON])


@pytest.mark.parametrize("ttl", [1.0])
async def test_a_failed_rpcs_dead_letter_is_dropped_after_the_ttl(
    failing_service: str, amqp_url: str, queue_name: str
) -> None:
    dead_letters = topology.dead_letter_queue(failing_service)
    await call(amqp_url, sign_in_rpc(queue_name), SignIn(phone="+79161234567", password="x"))

    async with asyncio.timeout(5):  # the dead letter arrives…
        while await waiting(amqp_url, dead_letters) == 0:
            await asyncio.sleep(0.05)
    async with asyncio.timeout(10):  # …and RabbitMQ drops it once its second is over
        while await waiting(amqp_url, dead_letters) != 0:
            await asyncio.sleep(0.1)
