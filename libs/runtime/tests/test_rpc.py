"""The RPC client on the real broker: many requests in flight, each reply to its caller."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from faststream.rabbit import RabbitBroker

from gosmed.contracts.base import Message
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.runtime.broker import create_broker, declare_topology, durable_queue
from gosmed.runtime.rpc import RpcClient
from gosmed.runtime.settings import CommonSettings


class Square(Message):
    n: int
    delay: float = 0.0


class Squared(Message):
    n: int
    square: int


class InFlight:
    now = 0
    most = 0


@pytest.fixture
async def squares(
    settings: CommonSettings, queue_name: str, cleanup_queues: list[str]
) -> AsyncIterator[InFlight]:
    broker: RabbitBroker = create_broker(settings, service="test")
    in_flight = InFlight()
    cleanup_queues += [queue_name, f"{queue_name}.dead-letter"]

    @broker.subscriber(durable_queue(queue_name, settings, dead_letter_rejected=False))
    async def square(query: Square) -> Squared:
        in_flight.now += 1
        in_flight.most = max(in_flight.most, in_flight.now)
        await asyncio.sleep(query.delay)
        in_flight.now -= 1
        return Squared(n=query.n, square=query.n * query.n)

    await broker.connect()
    await declare_topology(broker, [queue_name], settings)
    await broker.start()
    yield in_flight
    await broker.stop()


@pytest.fixture
async def rpc(amqp_url: str) -> AsyncIterator[RpcClient]:
    client = RpcClient(amqp_url)
    await client.connect()
    yield client
    await client.close()


async def test_concurrent_calls_are_in_flight_together_and_matched(
    squares: InFlight, rpc: RpcClient, queue_name: str
) -> None:
    replies = await asyncio.gather(
        *(rpc.call(queue_name, Square(n=n, delay=0.05), Squared) for n in range(200))
    )
    assert [r.square for r in replies] == [n * n for n in range(200)]
    # The handler saw many requests at once: the client did not send them one by one.
    assert squares.most > 10


async def test_missing_reply_is_a_timeout(
    squares: InFlight, rpc: RpcClient, queue_name: str
) -> None:
    with pytest.raises(ServiceError) as caught:
        await rpc.call(queue_name, Square(n=2, delay=1.0), Squared, timeout=0.2)
    assert caught.value.code == ErrorCode.TIMEOUT
    # The client is still usable, and the late reply does not confuse the next call.
    await asyncio.sleep(1.0)
    assert (await rpc.call(queue_name, Square(n=3), Squared)).square == 9


async def test_queue_that_does_not_exist_is_unavailable(rpc: RpcClient, queue_name: str) -> None:
    with pytest.raises(ServiceError) as caught:
        await rpc.call(f"{queue_name}.missing", Square(n=1), Squared, timeout=2)
    assert caught.value.code == ErrorCode.SERVICE_UNAVAILABLE
