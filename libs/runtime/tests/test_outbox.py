"""The outbox and its relay on the embedded store and the real broker: what a write owes is
published once, and a publish the broker refuses (no such queue, queue full, connection lost)
is relayed later."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from typing import Any, TypedDict

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel, AbstractQueue
from faststream.rabbit import RabbitBroker

from gosmed.contracts import topology
from gosmed.contracts.base import Message
from gosmed.runtime.broker import create_broker, declare_topology
from gosmed.runtime.outbox import (
    BrokerPublisher,
    Outbox,
    OutboxEntry,
    Owed,
    Relay,
    outbox_of,
    push,
)
from gosmed.runtime.settings import CommonSettings
from gosmed.runtime.store import Store, open_store
from gosmed.runtime.telemetry import create_tracer_provider
from gosmed.runtime.testing import FakePublisher, TcpProxy, poll_next_message


class Timing(TypedDict):
    sweep_seconds: float
    first_retry_seconds: float
    longest_retry_seconds: float


QUICK: Timing = {"sweep_seconds": 60.0, "first_retry_seconds": 0.05, "longest_retry_seconds": 0.5}


class Ping(Message):
    n: int


@pytest.fixture
def settings(amqp_url: str) -> CommonSettings:
    return CommonSettings(amqp_url=amqp_url)


@pytest.fixture
async def store() -> AsyncIterator[Store]:
    store = open_store(None, f"outbox_test_{uuid.uuid4().hex[:8]}")
    yield store
    store.close()


@pytest.fixture
def outbox(store: Store) -> Outbox:
    return Outbox(store.database["things"])


@pytest.fixture
async def broker(settings: CommonSettings) -> AsyncIterator[RabbitBroker]:
    broker = create_broker(settings, service="outbox-test")
    await broker.connect()
    await declare_topology(broker, [], settings)
    yield broker
    await broker.stop()


@pytest.fixture
async def relay(broker: RabbitBroker, outbox: Outbox) -> AsyncIterator[Relay]:
    relay = Relay(BrokerPublisher(broker), **QUICK)
    relay.add(outbox)
    yield relay
    await relay.stop()


@pytest.fixture
async def channel(amqp_url: str) -> AsyncIterator[AbstractChannel]:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        yield await connection.channel()


@pytest.fixture
async def queue(
    channel: AbstractChannel, queue_name: str, cleanup_queues: list[str]
) -> AbstractQueue:
    cleanup_queues.append(queue_name)
    return await channel.declare_queue(queue_name, durable=True)


async def write(outbox: Outbox, *entries: OutboxEntry) -> str:
    """A change that owes `entries`, as a service writes it."""
    key = uuid.uuid4().hex
    await outbox.collection.insert_one({"_id": key, "state": "changed", **outbox_of(*entries)})
    return key


async def owed(outbox: Outbox, key: str) -> list[str]:
    document = await outbox.collection.find_one({"_id": key})
    assert document is not None
    return [entry["id"] for entry in document["outbox"]]


async def until(condition: Callable[[], Any], timeout: float = 15.0) -> None:
    async with asyncio.timeout(timeout):
        while not await condition():
            await asyncio.sleep(0.05)


async def test_a_write_is_published_once_and_its_entry_removed(
    relay: Relay, outbox: Outbox, queue: AbstractQueue, queue_name: str
) -> None:
    command = Ping(n=1)
    key = await write(outbox, OutboxEntry.command(queue_name, command))

    await relay.flush(outbox, key)
    assert await relay.relay_pending() == 0  # nothing is left to send again

    message = await queue.get(no_ack=True)
    assert Ping.model_validate_json(message.body) == command
    assert message.message_id == str(command.message_id)
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert message.content_type == "application/json"
    assert await queue.get(fail=False) is None
    assert await owed(outbox, key) == []
    assert (await outbox.collection.find_one({"_id": key}) or {})["state"] == "changed"


class Counted(Outbox):
    """Counts the relay's reads and removals of the outbox."""

    finds = removals = 0

    async def pending(self, keys: Collection[Any] | None = None) -> list[Owed]:
        self.finds += 1
        return await super().pending(keys)

    async def remove(self, published: Mapping[Any, Sequence[str]]) -> None:
        self.removals += 1
        await super().remove(published)


async def test_a_bulk_write_is_relayed_with_one_read_and_one_removal_each_document_in_order(
    broker: RabbitBroker, store: Store, queue: AbstractQueue, queue_name: str
) -> None:
    outbox = Counted(store.database["things"])
    written = {
        key: [Ping(n=1), Ping(n=2)] for key in [uuid.uuid4().hex for _ in range(50)]
    }  # as one bulk write of 50 documents, each owing two commands
    await outbox.collection.insert_many(
        [
            {"_id": key, **outbox_of(*(OutboxEntry.command(queue_name, c) for c in commands))}
            for key, commands in written.items()
        ]
    )
    relay = Relay(BrokerPublisher(broker), **QUICK)

    await relay.flush(outbox, *written)

    assert (outbox.finds, outbox.removals) == (1, 1)
    received = [(await queue.get(no_ack=True)).message_id for _ in range(100)]
    assert await queue.get(fail=False) is None
    for commands in written.values():
        first, second = (received.index(str(c.message_id)) for c in commands)
        assert first < second
    assert await outbox.pending() == []


async def test_a_refused_entry_holds_back_only_the_later_entries_of_its_document(
    relay: Relay, outbox: Outbox, queue: AbstractQueue, queue_name: str
) -> None:
    nowhere = f"{queue_name}.missing"  # no such queue: the broker returns the command
    first, refused, later, other = Ping(n=1), Ping(n=2), Ping(n=3), Ping(n=4)
    held = await write(
        outbox,
        OutboxEntry.command(queue_name, first),
        OutboxEntry.command(nowhere, refused),
        OutboxEntry.command(queue_name, later),
    )
    free = await write(outbox, OutboxEntry.command(queue_name, other))

    await relay.flush(outbox, held, free)

    received = {(await queue.get(no_ack=True)).message_id for _ in range(2)}
    assert received == {str(first.message_id), str(other.message_id)}
    assert await queue.get(fail=False) is None
    assert await owed(outbox, held) == [str(refused.message_id), str(later.message_id)]
    assert await owed(outbox, free) == []


async def test_a_round_leaves_what_the_broker_did_not_confirm_within_the_timeout(
    outbox: Outbox,
) -> None:
    first, unanswered, later, other = Ping(n=1), Ping(n=2), Ping(n=3), Ping(n=4)

    class NoAnswer(FakePublisher):
        async def publish(self, entry: OutboxEntry) -> None:
            if entry.message_id == str(unanswered.message_id):
                await asyncio.Event().wait()  # the confirm never comes
            await super().publish(entry)

    held = await write(outbox, *(OutboxEntry.command("q", c) for c in (first, unanswered, later)))
    free = await write(outbox, OutboxEntry.command("q", other))
    publisher = NoAnswer()
    relay = Relay(publisher, publish_timeout=0.2, **QUICK)

    await relay.flush(outbox, held, free)

    assert {e.message_id for e in publisher.published} == {
        str(first.message_id),
        str(other.message_id),
    }
    assert await owed(outbox, held) == [str(unanswered.message_id), str(later.message_id)]
    assert await owed(outbox, free) == []


async def test_a_message_carries_the_trace_context_of_the_write_that_owed_it(
    relay: Relay, outbox: Outbox, queue: AbstractQueue, queue_name: str
) -> None:
    tracer = create_tracer_provider("outbox-test").get_tracer(__name__)
    with tracer.start_as_current_span("write") as span:
        key = await write(outbox, OutboxEntry.command(queue_name, Ping(n=1)))
        await relay.flush(outbox, key)

    message = await queue.get(no_ack=True)
    trace_id = format(span.get_span_context().trace_id, "032x")
    assert trace_id in str((message.headers or {})["traceparent"])


async def test_start_up_relays_what_an_earlier_run_left(
    relay: Relay, outbox: Outbox, queue: AbstractQueue, queue_name: str, channel: AbstractChannel
) -> None:
    routing_key = f"test.happened.{queue_name}"
    events = await channel.declare_queue(exclusive=True)
    await events.bind(topology.EVENTS_EXCHANGE, routing_key)
    event, command = Ping(n=1), Ping(n=2)
    first = await write(outbox, OutboxEntry.event(routing_key, event))
    second = await write(outbox, OutboxEntry.command(queue_name, command))  # then the crash

    await relay.start()

    published = await events.get(no_ack=True)
    assert published.message_id == str(event.message_id)
    assert published.routing_key == routing_key
    assert (await queue.get(no_ack=True)).message_id == str(command.message_id)
    assert await owed(outbox, first) == await owed(outbox, second) == []


async def write_refused(relay: Relay, outbox: Outbox, queue_name: str) -> tuple[str, str]:
    """A write whose command the broker does not take now: the write stands, the command is
    still owed; its document and message ids."""
    command = Ping(n=1)
    key = await write(outbox, OutboxEntry.command(queue_name, command))
    await relay.flush(outbox, key)  # does not raise
    assert await owed(outbox, key) == [str(command.message_id)]
    return key, str(command.message_id)


async def relayed(
    queue: AbstractQueue, outbox: Outbox, key: str, message_id: str, timeout: float = 15.0
) -> None:
    """The relay's retry delivers the owed message, and the document then owes nothing."""
    message = await poll_next_message(queue, within=timeout)
    assert message.message_id == message_id
    await until(lambda: _empty(outbox, key))
    assert await queue.get(fail=False) is None


async def test_an_unroutable_command_stays_and_is_relayed_once_its_queue_exists(
    relay: Relay,
    outbox: Outbox,
    channel: AbstractChannel,
    queue_name: str,
    cleanup_queues: list[str],
) -> None:
    await relay.start()
    key, message_id = await write_refused(relay, outbox, queue_name)  # no such queue

    cleanup_queues.append(queue_name)
    await relayed(await channel.declare_queue(queue_name, durable=True), outbox, key, message_id)


async def test_a_publish_refused_by_a_full_queue_is_relayed_when_there_is_room(
    relay: Relay,
    outbox: Outbox,
    channel: AbstractChannel,
    queue_name: str,
    cleanup_queues: list[str],
) -> None:
    cleanup_queues.append(queue_name)
    full = await channel.declare_queue(
        queue_name, durable=True, arguments={"x-max-length": 1, "x-overflow": "reject-publish"}
    )
    await channel.default_exchange.publish(aio_pika.Message(b"{}"), routing_key=queue_name)
    await relay.start()
    key, message_id = await write_refused(relay, outbox, queue_name)  # the broker nacks it

    await full.get(no_ack=True)  # room again
    await relayed(full, outbox, key, message_id)


async def test_a_publish_on_a_lost_connection_is_relayed_after_it_is_back(
    settings: CommonSettings,
    outbox: Outbox,
    queue: AbstractQueue,
    queue_name: str,
) -> None:
    async with TcpProxy(settings.amqp_url) as proxy:
        broker = create_broker(settings.model_copy(update={"amqp_url": proxy.url}), service="t")
        await broker.connect()
        relay = Relay(BrokerPublisher(broker), **QUICK)
        relay.add(outbox)
        await relay.start()
        try:
            await proxy.cut()
            key, message_id = await write_refused(relay, outbox, queue_name)

            await proxy.resume()  # the broker connection comes back by itself
            await relayed(queue, outbox, key, message_id, timeout=30)
        finally:
            await relay.stop()
            await broker.stop()


async def test_an_entry_written_while_publishing_is_kept(
    broker: RabbitBroker, outbox: Outbox, queue: AbstractQueue, queue_name: str
) -> None:
    first, second = Ping(n=1), Ping(n=2)
    key = await write(outbox, OutboxEntry.command(queue_name, first))
    concurrent = OutboxEntry.command(queue_name, second)

    class WriteMeanwhile(BrokerPublisher):
        async def publish(self, entry: OutboxEntry) -> None:
            await super().publish(entry)
            if entry.message_id == str(first.message_id):  # another write of the same document
                await outbox.collection.update_one({"_id": key}, push(concurrent))

    relay = Relay(WriteMeanwhile(broker), **QUICK)
    relay.add(outbox)
    await relay.flush(outbox, key)

    assert await owed(outbox, key) == [str(second.message_id)]
    await relay.flush(outbox, key)
    received = [(await queue.get(no_ack=True)).message_id for _ in range(2)]
    assert received == [str(first.message_id), str(second.message_id)]
    assert await queue.get(fail=False) is None


async def test_a_sweep_during_the_fast_path_does_not_send_an_entry_twice(
    broker: RabbitBroker, outbox: Outbox, queue: AbstractQueue, queue_name: str
) -> None:
    key = await write(outbox, OutboxEntry.command(queue_name, Ping(n=1)))
    publishing, release = asyncio.Event(), asyncio.Event()

    class Slow(BrokerPublisher):
        async def publish(self, entry: OutboxEntry) -> None:
            publishing.set()
            await release.wait()
            await super().publish(entry)

    relay = Relay(Slow(broker), **QUICK)
    relay.add(outbox)
    fast_path = asyncio.create_task(relay.flush(outbox, key))
    await publishing.wait()
    assert await relay.relay_pending() == 0  # skipped: the fast path is sending it
    release.set()
    await fast_path

    await queue.get(no_ack=True)
    assert await queue.get(fail=False) is None
    assert await owed(outbox, key) == []


async def _empty(outbox: Outbox, key: str) -> bool:
    return await owed(outbox, key) == []
