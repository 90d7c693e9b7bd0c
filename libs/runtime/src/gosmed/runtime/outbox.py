"""The outbox: the messages a write owes the broker, stored by that same write, and the relay
that publishes them.

A write adds entries to the `outbox` field of the document it changes: one single-document
write, atomic without transactions (which the embedded store and a standalone MongoDB lack). The
relay publishes a document's entries in order (persistent, confirmed; an unroutable command
raises), then pulls exactly the published ones by message id, so an entry a concurrent write
added stays. It runs right after each write (`Relay.flush`, the fast path), at start-up, every
`sweep_seconds`, and after a failed publish again and again with exponential backoff until
nothing is left. Delivery is at least once: consumers drop duplicates by message id.
"""

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from faststream.rabbit import RabbitBroker, RabbitExchange
from motor.motor_asyncio import AsyncIOMotorCollection
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    retry_if_result,
    wait_exponential,
)

from gosmed.contracts import topology
from gosmed.contracts.base import Message
from gosmed.runtime.broker import EVENTS

log = logging.getLogger(__name__)

FIELD = "outbox"
# A document owes messages while its outbox holds an entry; an emptied outbox (`[]`) matches
# neither this query nor the partial index below.
PENDING: dict[str, Any] = {f"{FIELD}.id": {"$exists": True}}
_EXCHANGES: dict[str, RabbitExchange | None] = {"": None, topology.EVENTS_EXCHANGE: EVENTS}


@dataclass(frozen=True)
class OutboxEntry:
    """One message to publish: a command to a queue, or an event to the events exchange."""

    message_id: str
    routing_key: str
    body: str
    exchange: str = ""

    @classmethod
    def command(cls, queue: str, message: Message) -> "OutboxEntry":
        return cls(str(message.message_id), queue, message.model_dump_json())

    @classmethod
    def event(cls, routing_key: str, message: Message) -> "OutboxEntry":
        return cls(
            str(message.message_id),
            routing_key,
            message.model_dump_json(),
            topology.EVENTS_EXCHANGE,
        )

    def stored(self) -> dict[str, str]:
        return {
            "id": self.message_id,
            "exchange": self.exchange,
            "routing_key": self.routing_key,
            "body": self.body,
        }

    @classmethod
    def load(cls, stored: Mapping[str, str]) -> "OutboxEntry":
        return cls(stored["id"], stored["routing_key"], stored["body"], stored["exchange"])


def outbox_of(*entries: OutboxEntry) -> dict[str, Any]:
    """The outbox field of a document being inserted."""
    return {FIELD: [entry.stored() for entry in entries]}


def push(*entries: OutboxEntry) -> dict[str, Any]:
    """The update operator that adds `entries` to a document's outbox in the same write."""
    return {"$push": {FIELD: {"$each": [entry.stored() for entry in entries]}}}


class Outbox:
    """The outbox field of one collection's documents."""

    def __init__(self, collection: AsyncIOMotorCollection[Any]) -> None:
        self.collection = collection
        self.name: str = collection.name

    async def ensure_index(self) -> None:
        """Only documents that owe messages are indexed, so the relay's query reads no more."""
        await self.collection.create_index(
            f"{FIELD}.id", name=FIELD, partialFilterExpression=PENDING
        )

    async def pending(self, key: str | None = None) -> list[tuple[Any, list[OutboxEntry]]]:
        """Each document (all, or the one with `_id` `key`) that owes messages, oldest first."""
        query = PENDING if key is None else {"_id": key, **PENDING}
        found = self.collection.find(query, {FIELD: 1})
        return [(d["_id"], [OutboxEntry.load(e) for e in d[FIELD]]) async for d in found]

    async def remove(self, key: Any, message_ids: Iterable[str]) -> None:
        """Drop the published entries, keeping any a concurrent write added."""
        await self.collection.update_one(
            {"_id": key}, {"$pull": {FIELD: {"id": {"$in": list(message_ids)}}}}
        )


class Publisher(Protocol):
    async def publish(self, entry: OutboxEntry) -> None: ...


class BrokerPublisher:
    """Publishes persistent messages and waits for the broker's confirm; a command no queue
    takes raises, an event with no binding waits in `gosmed.unrouted`."""

    def __init__(self, broker: RabbitBroker, timeout: float = 10.0) -> None:
        self.broker = broker
        self.timeout = timeout

    async def publish(self, entry: OutboxEntry) -> None:
        exchange = _EXCHANGES[entry.exchange]
        async with asyncio.timeout(self.timeout):
            await self.broker.publish(
                entry.body.encode(),
                exchange=exchange,
                routing_key=entry.routing_key,
                persist=True,
                message_id=entry.message_id,
                message_type=entry.routing_key if exchange is not None else None,
                content_type="application/json",
            )


class Relay:
    """Publishes what the registered outboxes hold; one per process."""

    def __init__(
        self,
        publisher: Publisher,
        *,
        sweep_seconds: float = 30.0,
        first_retry_seconds: float = 0.5,
        longest_retry_seconds: float = 30.0,
    ) -> None:
        self._publisher = publisher
        self._sweep_seconds = sweep_seconds
        self._wait = wait_exponential(multiplier=first_retry_seconds, max=longest_retry_seconds)
        self._outboxes: list[Outbox] = []
        self._in_flight: set[str] = set()  # entries a round of this process is publishing
        self._failure = ""  # what the last failed publish raised, for the logs
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def add(self, outbox: Outbox) -> None:
        self._outboxes.append(outbox)

    @property
    def outboxes(self) -> tuple[Outbox, ...]:
        return tuple(self._outboxes)

    async def start(self) -> None:
        """Index the outboxes, relay what earlier runs left, then keep relaying behind."""
        if self._task is not None:
            return
        for outbox in self._outboxes:
            await outbox.ensure_index()
        if await self.relay_pending():
            self._wake.set()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def flush(self, outbox: Outbox, key: Any) -> None:
        """Right after a write: publish what the document `key` owes. Never raises: what
        could not be published is left to the relay, which retries with backoff."""
        try:
            left = await self._relay(outbox, key)
        except Exception as exc:  # the store failed after the write: the relay will find it
            left, self._failure = 1, type(exc).__name__
        if left:
            log.warning(
                "outbox %s: %s still owes %d message(s) (%s); the relay retries",
                outbox.name,
                key,
                left,
                self._failure,
            )
            self._wake.set()

    async def relay_pending(self) -> int:
        """Publish every pending entry of every outbox; how many could not be published."""
        return sum([await self._relay(outbox) for outbox in self._outboxes])

    async def _relay(self, outbox: Outbox, key: Any = None) -> int:
        left = 0
        for document, entries in await outbox.pending(key):
            left += await self._publish(outbox, document, entries)
        return left

    async def _publish(self, outbox: Outbox, document: Any, entries: list[OutboxEntry]) -> int:
        """Publish a document's entries in order, stopping at the first failure, then remove
        the published ones; how many are left. Entries another round of this process is
        publishing are skipped, so the fast path and a sweep do not both send one."""
        mine = [e for e in entries if e.message_id not in self._in_flight]
        self._in_flight.update(e.message_id for e in mine)
        published: list[str] = []
        try:
            for entry in mine:
                try:
                    await self._publisher.publish(entry)
                except Exception as exc:  # any broker failure: the entry waits for the relay
                    self._failure = type(exc).__name__
                    log.debug("outbox %s: %s not published", outbox.name, entry, exc_info=True)
                    break
                published.append(entry.message_id)
            if published:
                await outbox.remove(document, published)
        finally:
            self._in_flight.difference_update(e.message_id for e in mine)
        return len(mine) - len(published)

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._sweep_seconds):
                    await self._wake.wait()
            self._wake.clear()
            await self._relay_until_done()

    async def _relay_until_done(self) -> None:
        """Relay everything, then again with exponential backoff while anything is left (a
        broker or store failure counts as something left)."""
        retrying = AsyncRetrying(
            wait=self._wait,
            retry=retry_if_result(lambda left: left > 0) | retry_if_exception_type(Exception),
            before_sleep=self._log_retry,
        )
        await retrying(self.relay_pending)

    def _log_retry(self, state: RetryCallState) -> None:
        failure = state.outcome.exception() if state.outcome else None
        cause = type(failure).__name__ if failure else f"not published: {self._failure}"
        log.warning(
            "outbox relay try %d left messages (%s); next try in %.1f s",
            state.attempt_number,
            cause,
            state.upcoming_sleep,
        )
