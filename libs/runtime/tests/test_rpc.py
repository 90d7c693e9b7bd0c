"""The RPC client on the real broker: many requests in flight, each reply to its caller."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from faststream.rabbit import RabbitBroker

from gosmed.contracts.base import Message
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.rpc import Rpc
from gosmed.contracts.topology import Service
from gosmed.runtime.broker import create_broker, declare_topology, durable_queue
from gosmed.runtime.rpc import RpcClient
from gosmed.runtime.settings import CommonSettings
from gosmed.runtime.testing import close_connection_on_broker


class Square(Message):
    n: int
    delay: float = 0.0


class Squared(Message):
    n: int
    square: int


def square_rpc(queue_name: str) -> Rpc[Square, Squared]:
    return Rpc(Service.REGISTRY, queue_name, Square, Squared)


class InFlight:
    now = 0
    most = 0


@pytest.fixture
async def squares(
    settings: CommonSettings, queue_name: str, cleanup_queues: list[str]
) -> AsyncIterator[InFlight]:
    broker: RabbitBroker = create_broker(settings, service="test")
    in_flight = InFlight()

    queue = square_rpc(queue_name).queue
    cleanup_queues += [queue, f"{queue}.dead-letter"]

    @broker.subscriber(durable_queue(queue, settings, dead_letter_rejected=False))
    async def square(query: Square) -> Squared:
        in_flight.now += 1
        in_flight.most = max(in_flight.most, in_flight.now)
        await asyncio.sleep(query.delay)
        in_flight.now -= 1
        return Squared(n=query.n, square=query.n * query.n)

    await broker.connect()
    await declare_topology(broker, [queue], settings)
    await broker.start()
    yield in_flight
    await broker.stop()


@pytest.fixture
async def rpc(amqp_url: str) -> AsyncIterator[RpcClient]:
    client = RpcClient(amqp_url, name=f"test-rpc-{uuid.uuid4().hex[:8]}", reconnect_max_wait=0.5)
    await client.connect()
    yield client
    await client.close()


async def test_concurrent_calls_are_in_flight_together_and_matched(
    squares: InFlight, rpc: RpcClient, queue_name: str
) -> None:
    replies = await asyncio.gather(
        *(rpc.call(square_rpc(queue_name), Square(n=n, delay=0.05)) for n in range(200))
    )
    assert [r.square for r in replies] == [n * n for n in range(200)]
    # The handler saw many requests at once: the client did not send them one by one.
    assert squares.most > 10


async def test_missing_reply_is_a_timeout(
    squares: InFlight, rpc: RpcClient, queue_name: str
) -> None:
    with pytest.raises(ServiceError) as caught:
        await rpc.call(square_rpc(queue_name), Square(n=2, delay=1.0), timeout=0.2)
    assert caught.value.code == ErrorCode.TIMEOUT
    # The client is still usable, and the late reply does not confuse the next call.
    await asyncio.sleep(1.0)
    assert (await rpc.call(square_rpc(queue_name), Square(n=3))).square == 9


async def test_queue_that_does_not_exist_is_unavailable(rpc: RpcClient, queue_name: str) -> None:
    with pytest.raises(ServiceError) as caught:
        await rpc.call(square_rpc(f"{queue_name}.missing"), Square(n=1), timeout=2)
    assert caught.value.code == ErrorCode.SERVICE_UNAVAILABLE


async def reply_or_error(rpc: RpcClient, call: Rpc[Square, Squared], n: int) -> int | ServiceError:
    try:
        return (await rpc.call(call, Square(n=n), timeout=5)).square
    except ServiceError as error:
        return error


async def test_client_fails_fast_then_comes_back_after_the_broker_drops_it(
    squares: InFlight, rpc: RpcClient, queue_name: str
) -> None:
    square = square_rpc(queue_name)
    in_flight = asyncio.ensure_future(rpc.call(square, Square(n=4, delay=20.0), timeout=30))
    await asyncio.to_thread(close_connection_on_broker, rpc.name)
    started = time.monotonic()
    with pytest.raises(ServiceError) as caught:
        await in_flight
    assert caught.value.code == ErrorCode.SERVICE_UNAVAILABLE
    assert time.monotonic() - started < 5.0  # failed when the connection went, not at the end
    deadline = time.monotonic() + 15
    while isinstance(answer := await reply_or_error(rpc, square, 5), ServiceError):
        assert answer.code == ErrorCode.SERVICE_UNAVAILABLE  # refused at once, not timed out
        assert time.monotonic() < deadline, "the client did not reconnect within 15 s"
        await asyncio.sleep(0.05)
    assert answer == 25
    assert rpc.connected
