"""Broker queues of tests that must use fixed names (a service's own queues)."""

from collections.abc import Iterable

import aio_pika

from gosmed.contracts import topology
from gosmed.runtime.broker_access import SHARED_COMMAND_QUEUES
from gosmed.runtime.service import ServiceRuntime

# Declared by the broker setup (no service may declare them): emptied, never deleted.
SETUP_QUEUES = frozenset({topology.UNROUTED_QUEUE, *SHARED_COMMAND_QUEUES})


class FixedQueues:
    """Queues a test uses under fixed names: deleted when taken, so nothing an earlier run left
    is consumed, and deleted again after the test (the `fixed_queues` fixture). The queues the
    broker setup declares are emptied instead."""

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
                if name in SETUP_QUEUES:
                    await (await channel.get_queue(name)).purge()
                else:
                    await channel.queue_delete(name)
