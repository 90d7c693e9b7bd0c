"""This edge replica's feed of SessionEnded: how a logout refuses a token at every replica.

Each replica consumes from its own exclusive queue (`edge.session-feed.<random>`) bound to
`gosmed.events` for
`identity.session-ended.v1` (the broker deletes it with the connection). Events published
while a replica is not connected are lost to it, so after every (re)connect it first consumes,
then asks identity for every ended session whose tokens still live, and only then vouches for
tokens again (`EndedSessions.complete`); until then identity decides for every request. A
lost connection or channel is reopened in the background with exponential backoff.
"""

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractIncomingMessage,
    AbstractQueue,
    DeliveryMode,
)
from aio_pika.exceptions import AMQPError
from pydantic import ValidationError
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential

from gosmed.contracts import topology
from gosmed.contracts.base import utc_now
from gosmed.contracts.errors import ServiceError
from gosmed.contracts.identity.tokens import SESSION_ENDED_EVENT, EndedSessionsView, SessionEnded
from gosmed.edge.access_tokens import EndedSessions
from gosmed.runtime.broker import (
    DEAD_LETTERS,
    EVENTS,
    MAX_REASON_LENGTH,
    describe_failure,
    durable_queue,
)
from gosmed.runtime.reconnect import reopen
from gosmed.runtime.settings import CommonSettings

log = logging.getLogger(__name__)

# The replicas' queues are server-named; a malformed event is dead-lettered under this name.
QUEUE_LABEL = f"edge.on.{SESSION_ENDED_EVENT}"
QUEUE_PREFIX = "edge.session-feed."
BARRIER = "gosmed.barrier"
CatchUp = Callable[[], Awaitable[EndedSessionsView]]


class SessionFeed:
    """Keeps `ended` filled from SessionEnded events and identity's catch-up list."""

    def __init__(
        self,
        settings: CommonSettings,
        ended: EndedSessions,
        catch_up: CatchUp,
        *,
        reconnect_max_wait: float = 5.0,
        barrier_timeout: float = 2.0,
    ) -> None:
        self.settings = settings
        self.ended = ended
        self.name = f"gosmed-edge-sessions-{uuid.uuid4().hex[:8]}"
        self._catch_up_call = catch_up
        self._reconnect_max_wait = reconnect_max_wait
        self._barrier_timeout = barrier_timeout
        self._connection: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self._queue: AbstractQueue | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._catching_up: asyncio.Task[None] | None = None
        self._barriers: dict[str, asyncio.Future[None]] = {}
        self._closing = False

    async def start(self) -> None:
        """Connect now (raises when the broker cannot be reached, as the RPC client does);
        the catch-up runs in the background."""
        self._closing = False
        await self._open()

    async def _open(self) -> None:
        connection = await aio_pika.connect(
            self.settings.amqp_url, client_properties={"connection_name": self.name}
        )
        try:
            channel, queue = await self._subscribe(connection)
        except BaseException:
            await connection.close()
            raise
        connection.close_callbacks.add(self._on_lost)
        channel.close_callbacks.add(self._on_lost)
        self._connection, self._channel, self._queue = connection, channel, queue
        self._catching_up = self._spawn(self._catch_up())

    async def _subscribe(
        self, connection: AbstractConnection
    ) -> tuple[AbstractChannel, AbstractQueue]:
        """This replica's queue, bound and consumed, and the dead-letter queue of bad events."""
        channel = await connection.channel()
        # Declared by the broker setup; the edge only checks they exist (passive).
        events = await channel.get_exchange(EVENTS.name, ensure=True)
        dead_letters = await channel.get_exchange(DEAD_LETTERS.name, ensure=True)
        dead = durable_queue(
            topology.dead_letter_queue(QUEUE_LABEL), self.settings, dead_letter_rejected=False
        )
        dead_queue = await channel.declare_queue(dead.name, durable=True, arguments=dead.arguments)
        await dead_queue.bind(dead_letters, routing_key=QUEUE_LABEL)
        # Named by the edge (`edge.` queues are all the edge's user may declare), not by the
        # server: `amq.gen-*` would be a right shared with every user that has it.
        queue = await channel.declare_queue(
            f"{QUEUE_PREFIX}{uuid.uuid4().hex}", exclusive=True, auto_delete=True
        )
        await queue.bind(events, routing_key=SESSION_ENDED_EVENT)
        await queue.consume(self._on_message, no_ack=True)
        return channel, queue

    def _spawn(self, work: Awaitable[None]) -> asyncio.Task[None]:
        """Run `work` in the background, keeping a reference until it is done."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _catch_up(self) -> None:
        async for attempt in AsyncRetrying(
            wait=wait_exponential(multiplier=0.2, max=self._reconnect_max_wait),
            retry=retry_if_exception_type(ServiceError),
        ):
            with attempt:
                view = await self._catch_up_call()
        self.ended.caught_up(view.sessions, utc_now())
        log.info("session feed caught up: %d ended sessions with live tokens", len(view.sessions))

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        if message.type == BARRIER:
            future = self._barriers.get(message.correlation_id or "")
            if future is not None and not future.done():
                future.set_result(None)
            return
        try:
            event = SessionEnded.model_validate_json(message.body)
        except ValidationError as exc:
            await self._dead_letter(message, exc)
            return
        self.ended.add(event.session_id, event.tokens_expire_by, utc_now())

    async def _dead_letter(self, message: AbstractIncomingMessage, exc: Exception) -> None:
        failure = describe_failure(exc)
        log.warning("malformed SessionEnded dead-lettered: %s", failure.message)
        if self._channel is None:
            return
        exchange = await self._channel.get_exchange(DEAD_LETTERS.name, ensure=False)
        headers: dict[str, Any] = {
            **(message.headers or {}),
            topology.HEADER_ERROR_CODE: failure.code.value,
            topology.HEADER_ERROR_REASON: failure.message[:MAX_REASON_LENGTH],
            topology.HEADER_ORIGINAL_QUEUE: QUEUE_LABEL,
        }
        await exchange.publish(
            aio_pika.Message(
                message.body,
                headers=headers,
                content_type=message.content_type,
                message_id=message.message_id,
                delivery_mode=DeliveryMode.PERSISTENT,
            ),
            routing_key=QUEUE_LABEL,
        )

    async def barrier(self) -> None:
        """Return once every event already in this replica's queue has been applied: a marker
        sent to the queue now comes back after them (a queue is first in, first out). A route
        that ended sessions waits for it, so their tokens are refused on the next request.
        Never raises: a feed that does not answer is dropped, and identity decides until it
        has caught up again."""
        channel, queue = self._channel, self._queue
        if channel is None or queue is None or not self.ended.complete:
            return
        marker = uuid.uuid4().hex
        arrived = asyncio.get_running_loop().create_future()
        self._barriers[marker] = arrived
        try:
            async with asyncio.timeout(self._barrier_timeout):
                await channel.default_exchange.publish(
                    aio_pika.Message(b"", type=BARRIER, correlation_id=marker),
                    routing_key=queue.name,
                )
                await arrived
        except (TimeoutError, AMQPError, ConnectionError, RuntimeError):
            log.warning("session feed did not answer; reconnecting")
            self.ended.interrupt()
            if self._connection is not None:
                self._spawn(self._connection.close())
        finally:
            self._barriers.pop(marker, None)

    def _on_lost(self, sender: object, *_: Any) -> None:
        if sender is not self._connection and sender is not self._channel:
            return  # an earlier connection, already replaced
        connection = self._detach()
        if self._catching_up is not None:
            self._catching_up.cancel()  # it would vouch for what the lost connection missed
        for arrived in self._barriers.values():
            if not arrived.done():
                arrived.set_result(None)  # identity decides from now on anyway
        if connection is not None and not connection.is_closed:
            self._spawn(connection.close())
        if not self._closing:
            log.warning(
                "session feed lost its connection; identity checks every token until it is back"
            )
            self._spawn(self._reconnect())

    async def _reconnect(self) -> None:
        if await reopen(
            self._open, max_wait=self._reconnect_max_wait, stopped=lambda: self._closing
        ):
            log.info("session feed reconnected")

    async def close(self) -> None:
        self._closing = True
        for task in self._tasks:
            task.cancel()
        connection = self._detach()
        if connection is not None:
            await connection.close()

    def _detach(self) -> AbstractConnection | None:
        """Let go of the current connection: announcements may be missed from now on."""
        self.ended.interrupt()
        connection = self._connection
        self._connection = self._channel = self._queue = None
        return connection
