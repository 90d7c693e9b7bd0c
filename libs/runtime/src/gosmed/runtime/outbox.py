"""The outbox: the messages a write owes the broker, stored by that same write, and the relay
that publishes them.

A write adds entries to the `outbox` field of the document it changes: one single-document
write, atomic without transactions (which the embedded store and a standalone MongoDB lack); a
bulk write gives each document it writes its own entries. The relay publishes each document's
entries in order (persistent, confirmed; an unroutable command raises), different documents'
entries at once, then pulls exactly the published ones by message id, so an entry a concurrent
write added stays. It runs right after each write (`Relay.flush`, the fast path), at start-up,
every `sweep_seconds`, and after a failed publish again and again with exponential backoff
until nothing is left. Delivery is at least once: consumers drop duplicates by message id.

Relaying a bulk write's documents costs one find (`_id` in their keys), the publishes with their
confirms pipelined on one channel, and one update that pulls what was published.
"""

import asyncio
import contextlib
import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, cast

import aiormq
from aio_pika.abc import AbstractChannel, AbstractRobustConnection, DeliveryMode
from aiormq import spec
from faststream.rabbit import RabbitBroker
from motor.motor_asyncio import AsyncIOMotorCollection
from opentelemetry import context, propagate
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    retry_if_result,
    wait_exponential,
)

from gosmed.contracts import topology
from gosmed.contracts.base import Message

log = logging.getLogger(__name__)

FIELD = "outbox"
# A document owes messages while its outbox holds an entry; an emptied outbox (`[]`) matches
# neither this query nor the partial index below.
PENDING: dict[str, Any] = {f"{FIELD}.id": {"$exists": True}}
# Documents whose entries a relay round publishes at once: a bulk write of up to 500 records
# goes out in one round; a sweep over a long backlog in rounds of this many.
ROUND = 500


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


class Owed(NamedTuple):
    """A document's key and the entries it owes, in the order they were written."""

    key: Any
    entries: list[OutboxEntry]


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

    async def pending(self, keys: Collection[Any] | None = None) -> list[Owed]:
        """Each document (all, or those with an `_id` in `keys`) that owes messages."""
        query = PENDING if keys is None else {"_id": {"$in": list(keys)}, **PENDING}
        found = self.collection.find(query, {FIELD: 1})
        return [Owed(d["_id"], [OutboxEntry.load(e) for e in d[FIELD]]) async for d in found]

    async def remove(self, published: Mapping[Any, Sequence[str]]) -> None:
        """Drop the published entries (message ids by document), keeping any a concurrent
        write added: one update for all the documents, as message ids are unique."""
        if not published:
            return
        message_ids = [message_id for ids in published.values() for message_id in ids]
        await self.collection.update_many(
            {"_id": {"$in": list(published)}},
            {"$pull": {FIELD: {"id": {"$in": message_ids}}}},
        )


class Publisher(Protocol):
    async def publish(self, entry: OutboxEntry) -> None: ...


class BrokerPublisher:
    """Publishes persistent messages on a channel of the broker's connection and waits for
    the broker's confirm; a command no queue takes raises, an event with no binding waits in
    `gosmed.unrouted`. Publishes in flight at once share the channel, so their confirms are
    pipelined. No span per message (one costs more than the publish): each message carries
    the trace context of the write that owed it, when the relay runs within one."""

    def __init__(self, broker: RabbitBroker) -> None:
        self.broker = broker
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None
        self._opening = asyncio.Lock()
        self._traced: tuple[context.Context, dict[str, Any]] | None = None

    async def publish(self, entry: OutboxEntry) -> None:
        channel = await self._underlay()
        await channel.basic_publish(
            entry.body.encode(),
            exchange=entry.exchange,
            routing_key=entry.routing_key,
            mandatory=True,
            properties=spec.Basic.Properties(
                content_type="application/json",
                delivery_mode=DeliveryMode.PERSISTENT,
                message_id=entry.message_id,
                message_type=entry.routing_key if entry.exchange else None,
                headers=self._trace_headers(),
            ),
            wait=False,  # hold the channel only to queue the frames, not until they are sent
        )

    async def _underlay(self) -> aiormq.Channel:
        """The outbox's own channel on the broker's connection, as now connected; a
        ConnectionError while the broker is away (the connection comes back by itself, its
        channels with it, and the relay tries again)."""
        if self._connection is None or self._connection.is_closed:  # first use, or restarted
            self._connection, self._channel = await self.broker.connect(), None
        if not self._connection.connected.is_set():
            raise ConnectionError("no connection to the broker")
        if self._channel is None or self._channel.is_closed:
            async with self._opening:  # the first of many publishes at once opens it
                if self._channel is None or self._channel.is_closed:
                    self._channel = await self._connection.channel(
                        publisher_confirms=True, on_return_raises=True
                    )
        return cast("aiormq.Channel", await self._channel.get_underlay_channel())

    def _trace_headers(self) -> dict[str, Any]:
        """The current trace context as message headers, worked out once per context (all
        the entries of one flush share it)."""
        current = context.get_current()
        if self._traced is None or self._traced[0] is not current:
            headers: dict[str, Any] = {}
            propagate.inject(headers, current)
            self._traced = (current, headers)
        return self._traced[1]


class Relay:
    """Publishes what the registered outboxes hold; one per process.

    At most `rounds_at_once` rounds publish at once, so the `publish_timeout` of a round is
    the broker's answer, not a queue of this process's own publishes; what a round did not
    get confirmed within it is left for a later try."""

    def __init__(
        self,
        publisher: Publisher,
        *,
        sweep_seconds: float = 30.0,
        first_retry_seconds: float = 0.5,
        longest_retry_seconds: float = 30.0,
        publish_timeout: float = 10.0,
        rounds_at_once: int = 2,
    ) -> None:
        self._publisher = publisher
        self._publish_timeout = publish_timeout
        self._rounds = asyncio.Semaphore(rounds_at_once)
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

    async def flush(self, outbox: Outbox, *keys: Any) -> None:
        """Right after a write: publish what the documents `keys` owe. Never raises: what
        could not be published is left to the relay, which retries with backoff."""
        if not keys:
            return
        try:
            left = await self._relay(outbox, keys)
        except Exception as exc:  # the store failed after the write: the relay will find it
            left, self._failure = 1, type(exc).__name__
        if left:
            log.warning(
                "outbox %s: %s still owe %d message(s) (%s); the relay retries",
                outbox.name,
                _named(keys),
                left,
                self._failure,
            )
            self._wake.set()

    async def relay_pending(self) -> int:
        """Publish every pending entry of every outbox; how many could not be published."""
        return sum([await self._relay(outbox) for outbox in self._outboxes])

    async def _relay(self, outbox: Outbox, keys: Collection[Any] | None = None) -> int:
        owed = await outbox.pending(keys)
        left = 0
        for start in range(0, len(owed), ROUND):
            left += await self._round(outbox, owed[start : start + ROUND])
        return left

    async def _round(self, outbox: Outbox, owed: list[Owed]) -> int:
        """Publish the documents' entries, each document's in order and the documents at
        once, then remove the published ones; how many are left. Entries another round of
        this process is publishing are skipped, so the fast path and a sweep do not both
        send one."""
        mine = [[e for e in o.entries if e.message_id not in self._in_flight] for o in owed]
        taken = [e.message_id for entries in mine for e in entries]
        self._in_flight.update(taken)
        published: dict[Any, list[str]] = {}
        try:
            async with self._rounds:
                try:
                    async with asyncio.timeout(self._publish_timeout):
                        await asyncio.gather(
                            *(
                                self._in_order(outbox, entries, published.setdefault(o.key, []))
                                for o, entries in zip(owed, mine, strict=True)
                            )
                        )
                except TimeoutError:  # not all confirmed: the rest waits for the relay
                    self._failure = "TimeoutError"
            await outbox.remove({key: ids for key, ids in published.items() if ids})
        finally:
            self._in_flight.difference_update(taken)
        return len(taken) - sum(map(len, published.values()))

    async def _in_order(
        self, outbox: Outbox, entries: list[OutboxEntry], published: list[str]
    ) -> None:
        """Publish one document's entries in order, stopping at the first failure; each
        adds its message id to `published` once confirmed."""
        for entry in entries:
            try:
                await self._publisher.publish(entry)
            except Exception as exc:  # any broker failure: the entry waits for the relay
                self._failure = type(exc).__name__
                log.debug("outbox %s: %s not published", outbox.name, entry, exc_info=True)
                return
            published.append(entry.message_id)

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


def _named(keys: Sequence[Any]) -> str:
    """Documents' keys for a log line: the first, and how many more."""
    return str(keys[0]) if len(keys) == 1 else f"{keys[0]} and {len(keys) - 1} more"
