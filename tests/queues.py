"""Broker queues of tests that must use fixed names (a service's own queues)."""

from collections.abc import Iterable

import aio_pika

from gosmed.contracts import topology
from gosmed.runtime.service import ServiceRuntime


class FixedQueues:
    """Queues a test uses under fixed names: deleted when taken, so nothing an earlier run left
    is consumed, and deleted again after the test (the `fixed_queues` fixture)."""

    def __init__(self, amqp_url: str) -> None:
        self.amqp_url = amqp_url
        self.names: list[str] = []

    async def take(self, names: Iterable[str]) -> None:
        taken = list(names)
        self.names += taken
        await self.delete(taken)

    async def take_service(self, runtime: ServiceRuntime) -> None:
        """Every queue the service consumes, with its dead-letter twin; call before its start."""
        consumed = [s.queue.name for s in runtime.broker.subscribers]  # type: ignore[attr-defined]
        await self.take([*consumed, *map(topology.dead_letter_queue, consumed)])

    async def delete(self, names: Iterable[str]) -> None:
        connection = await aio_pika.connect(self.amqp_url)
        async with connection, connection.channel() as channel:
            for name in names:
                await channel.queue_delete(name)
