"""The broker factory on the real RabbitMQ: nothing is lost, failures are dead-lettered with
their reason, the consumer keeps going."""

import asyncio
import logging
from collections.abc import AsyncIterator

import aio_pika
import pytest
from faststream.rabbit import RabbitBroker
from pydantic import Field

from gosmed.contracts import topology
from gosmed.contracts.base import Message
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.limits import DEFAULT_MESSAGE_BYTES
from gosmed.contracts.rpc import Rpc
from gosmed.runtime.broker import (
    create_broker,
    declare_topology,
    durable_queue,
    publish_event,
)
from gosmed.runtime.rpc import RpcClient
from gosmed.runtime.settings import CommonSettings
from gosmed.runtime.testing import poll_next_message


class Greet(Message):
    name: str = Field(min_length=1, max_length=20)


class Greeting(Message):
    text: str


def greet_rpc(queue_name: str) -> Rpc[Greet, Greeting]:
    """The throw-away service's RPC, named after the test's own queue."""
    return Rpc(topology.Service.REGISTRY, queue_name, Greet, Greeting)


class Padded(Message):
    padding: str


class Handled:
    def __init__(self) -> None:
        self.names: list[str] = []
        self.event = asyncio.Event()


@pytest.fixture
async def service(
    settings: CommonSettings, queue_name: str, cleanup_queues: list[str]
) -> AsyncIterator[tuple[RabbitBroker, Handled]]:
    """A throw-away service: a command queue and an RPC queue on the real broker."""
    broker = create_broker(settings, service="test")
    handled = Handled()
    rpc_queue = greet_rpc(queue_name).queue
    cleanup_queues += [
        queue_name,
        rpc_queue,
        topology.dead_letter_queue(queue_name),
        topology.dead_letter_queue(rpc_queue),
    ]

    @broker.subscriber(durable_queue(queue_name, settings))
    async def on_greet(command: Greet) -> None:
        if command.name == "boom":
            raise RuntimeError("handler bug")
        handled.names.append(command.name)
        handled.event.set()

    @broker.subscriber(durable_queue(rpc_queue, settings, dead_letter_rejected=False))
    async def greet(query: Greet) -> Greeting:
        if query.name == "nobody":
            raise ServiceError(ErrorCode.NOT_FOUND, "Такого человека нет.")
        return Greeting(text=f"Здравствуйте, {query.name}")

    await broker.connect()
    await declare_topology(broker, [queue_name, rpc_queue], settings)
    await broker.start()
    yield broker, handled
    await broker.stop()


async def raw_publish(amqp_url: str, queue: str, body: bytes, **kwargs: object) -> None:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        await channel.default_exchange.publish(
            aio_pika.Message(body, content_type="application/json", **kwargs),  # type: ignore[arg-type]
            routing_key=queue,
        )


async def next_dead_letter(
    amqp_url: str, queue: str, timeout: float = 5.0
) -> aio_pika.abc.AbstractIncomingMessage:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        dead = await channel.get_queue(topology.dead_letter_queue(queue))
        return await poll_next_message(dead, within=timeout)


async def test_invalid_message_is_dead_lettered_with_reason_and_consumer_goes_on(
    service: tuple[RabbitBroker, Handled], amqp_url: str, queue_name: str
) -> None:
    _, handled = service
    await raw_publish(amqp_url, queue_name, b'{"name": ""}', message_id="bad-1")

    dead = await next_dead_letter(amqp_url, queue_name)
    assert dead.body == b'{"name": ""}'
    assert dead.message_id == "bad-1"
    headers = dead.headers or {}
    assert headers[topology.HEADER_ERROR_CODE] == ErrorCode.VALIDATION_FAILED.value
    assert "name: строка слишком короткая" in str(headers[topology.HEADER_ERROR_REASON])
    assert headers[topology.HEADER_ORIGINAL_QUEUE] == queue_name

    await raw_publish(amqp_url, queue_name, Greet(name="Анна").model_dump_json().encode())
    await asyncio.wait_for(handled.event.wait(), 5)
    assert handled.names == ["Анна"]


async def test_not_json_is_dead_lettered(
    service: tuple[RabbitBroker, Handled], amqp_url: str, queue_name: str
) -> None:
    await raw_publish(amqp_url, queue_name, b"\xff not json")
    dead = await next_dead_letter(amqp_url, queue_name)
    assert (dead.headers or {})[topology.HEADER_ERROR_CODE] == ErrorCode.VALIDATION_FAILED.value


async def broker_log_about(
    caplog: pytest.LogCaptureFixture, queue: str, timeout: float = 5.0
) -> logging.LogRecord:
    """The first log record of the broker module that names `queue`."""
    async with asyncio.timeout(timeout):
        while True:
            for record in caplog.records:
                if record.name == "gosmed.runtime.broker" and queue in record.getMessage():
                    return record
            await asyncio.sleep(0.05)


async def test_reply_to_a_queue_that_is_gone_is_dropped_not_dead_lettered(
    service: tuple[RabbitBroker, Handled],
    amqp_url: str,
    queue_name: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, handled = service
    gone = f"{queue_name}.replies"  # the caller's reply queue: it disconnected, the queue is gone
    caplog.set_level(logging.INFO, logger="gosmed.runtime.broker")
    body = Greet(name="Анна").model_dump_json().encode()
    await raw_publish(amqp_url, queue_name, body, reply_to=gone, correlation_id="c-1")

    record = await broker_log_about(caplog, queue_name)
    assert record.levelno == logging.WARNING
    assert "reply" in record.getMessage()
    assert "Анна" not in record.getMessage()
    assert handled.names == ["Анна"]  # the write happened; only its answer is lost
    with pytest.raises(TimeoutError):
        await next_dead_letter(amqp_url, queue_name, timeout=0.5)

    handled.event.clear()
    await raw_publish(amqp_url, queue_name, Greet(name="Борис").model_dump_json().encode())
    await asyncio.wait_for(handled.event.wait(), 5)
    assert handled.names == ["Анна", "Борис"]


async def test_error_reply_to_a_queue_that_is_gone_is_dropped_and_the_message_dead_lettered(
    service: tuple[RabbitBroker, Handled],
    amqp_url: str,
    queue_name: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="gosmed.runtime.broker")
    await raw_publish(amqp_url, queue_name, b'{"name": ""}', reply_to=f"{queue_name}.replies")

    dead = await next_dead_letter(amqp_url, queue_name)
    assert (dead.headers or {})[topology.HEADER_ERROR_CODE] == ErrorCode.VALIDATION_FAILED.value
    record = await broker_log_about(caplog, f"{queue_name}.replies")
    assert record.levelno == logging.WARNING


async def test_handler_crash_is_dead_lettered_as_internal_error(
    service: tuple[RabbitBroker, Handled], amqp_url: str, queue_name: str
) -> None:
    await raw_publish(amqp_url, queue_name, Greet(name="boom").model_dump_json().encode())
    dead = await next_dead_letter(amqp_url, queue_name)
    headers = dead.headers or {}
    assert headers[topology.HEADER_ERROR_CODE] == ErrorCode.INTERNAL.value
    assert "RuntimeError" in str(headers[topology.HEADER_ERROR_REASON])


async def test_message_over_the_queue_limit_is_dead_lettered_unread_and_consumer_goes_on(
    service: tuple[RabbitBroker, Handled], amqp_url: str, queue_name: str
) -> None:
    _, handled = service
    too_large = DEFAULT_MESSAGE_BYTES + 1
    await raw_publish(amqp_url, queue_name, b"\xff" * too_large, message_id="huge-1")

    dead = await next_dead_letter(amqp_url, queue_name)
    assert dead.message_id == "huge-1"
    assert len(dead.body) == too_large
    headers = dead.headers or {}
    assert headers[topology.HEADER_ERROR_CODE] == ErrorCode.MESSAGE_TOO_LARGE.value
    reason = str(headers[topology.HEADER_ERROR_REASON])
    assert f"{too_large} байт" in reason
    assert f"не больше {DEFAULT_MESSAGE_BYTES} байт" in reason

    # a message of exactly the limit is read as usual
    body = Greet(name="Анна").model_dump_json().encode()
    await raw_publish(amqp_url, queue_name, body.ljust(DEFAULT_MESSAGE_BYTES))
    await asyncio.wait_for(handled.event.wait(), 5)
    assert handled.names == ["Анна"]


async def test_rpc_request_over_the_limit_is_answered_message_too_large(
    service: tuple[RabbitBroker, Handled], amqp_url: str, queue_name: str
) -> None:
    padded = Padded(padding="x" * DEFAULT_MESSAGE_BYTES)
    too_large = Rpc(topology.Service.REGISTRY, queue_name, Padded, Greeting)
    rpc = RpcClient(amqp_url)
    await rpc.connect()
    try:
        with pytest.raises(ServiceError) as caught:
            await rpc.call(too_large, padded)
    finally:
        await rpc.close()
    assert caught.value.code == ErrorCode.MESSAGE_TOO_LARGE
    dead = await next_dead_letter(amqp_url, greet_rpc(queue_name).queue)
    assert (dead.headers or {})[topology.HEADER_ERROR_CODE] == ErrorCode.MESSAGE_TOO_LARGE.value


async def test_rpc_business_error_is_answered_not_dead_lettered(
    service: tuple[RabbitBroker, Handled], amqp_url: str, queue_name: str
) -> None:
    rpc = RpcClient(amqp_url)
    await rpc.connect()
    try:
        reply = await rpc.call(greet_rpc(queue_name), Greet(name="Анна"))
        assert reply.text == "Здравствуйте, Анна"
        with pytest.raises(ServiceError) as caught:
            await rpc.call(greet_rpc(queue_name), Greet(name="nobody"))
        assert caught.value.code == ErrorCode.NOT_FOUND
        assert caught.value.message == "Такого человека нет."
    finally:
        await rpc.close()
    with pytest.raises(TimeoutError):
        await next_dead_letter(amqp_url, greet_rpc(queue_name).queue, timeout=0.5)


async def test_invalid_rpc_request_gets_an_error_reply_and_is_dead_lettered(
    service: tuple[RabbitBroker, Handled], amqp_url: str, queue_name: str
) -> None:
    rpc = RpcClient(amqp_url)
    await rpc.connect()
    try:
        wrong = Rpc(topology.Service.REGISTRY, queue_name, Greeting, Greeting)
        with pytest.raises(ServiceError) as caught:
            await rpc.call(wrong, Greeting(text="not a Greet"))
    finally:
        await rpc.close()
    assert caught.value.code == ErrorCode.VALIDATION_FAILED
    assert caught.value.details[0].field == "name"
    dead = await next_dead_letter(amqp_url, greet_rpc(queue_name).queue)
    assert (dead.headers or {})[topology.HEADER_ERROR_CODE] == ErrorCode.VALIDATION_FAILED.value


async def test_unroutable_command_raises(
    service: tuple[RabbitBroker, Handled], queue_name: str
) -> None:
    broker, _ = service
    with pytest.raises(aio_pika.exceptions.DeliveryError):
        await broker.publish(Greeting(text="x"), f"{queue_name}.no-such-queue", persist=True)


async def test_event_nobody_listens_to_is_kept_in_unrouted(
    service: tuple[RabbitBroker, Handled], queue_name: str, amqp_url: str
) -> None:
    broker, _ = service
    event = Greeting(text="x")
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        unrouted = await channel.get_queue(topology.UNROUTED_QUEUE)
        await unrouted.purge()  # events earlier runs and other tests left there
        await publish_event(broker, event, f"nobody.listens.{queue_name}")
        async with asyncio.timeout(5):
            while True:
                message = await unrouted.get(fail=False, no_ack=True)
                if message is not None and message.message_id == str(event.message_id):
                    break
    assert message.routing_key == f"nobody.listens.{queue_name}"


async def test_events_are_persistent_and_carry_their_id(
    service: tuple[RabbitBroker, Handled],
    amqp_url: str,
    queue_name: str,
    cleanup_queues: list[str],
) -> None:
    broker, _ = service
    routing_key = f"test.greeted.{queue_name}"
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange(topology.EVENTS_EXCHANGE)
        listener = await channel.declare_queue(f"{queue_name}.events", durable=True)
        cleanup_queues.append(listener.name)
        await listener.bind(exchange, routing_key)
        event = Greeting(text="hi")
        await publish_event(broker, event, routing_key)
        received = await poll_next_message(listener, within=5)
    assert received.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert received.message_id == str(event.message_id)
    assert Greeting.model_validate_json(received.body) == event


async def test_stopping_finishes_in_flight_messages_first(
    settings: CommonSettings, queue_name: str, cleanup_queues: list[str], amqp_url: str
) -> None:
    broker = create_broker(settings, service="test")
    started, finished = asyncio.Event(), asyncio.Event()
    cleanup_queues += [queue_name, topology.dead_letter_queue(queue_name)]

    @broker.subscriber(durable_queue(queue_name, settings))
    async def slow(command: Greet) -> None:
        started.set()
        await asyncio.sleep(0.5)
        finished.set()

    await broker.connect()
    await declare_topology(broker, [queue_name], settings)
    await broker.start()
    await raw_publish(amqp_url, queue_name, Greet(name="Анна").model_dump_json().encode())
    await asyncio.wait_for(started.wait(), 5)
    await broker.stop()
    assert finished.is_set()

    # acknowledged before the connection closed: nothing is left to be delivered again
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(queue_name)
        assert await queue.get(fail=False) is None
