"""The one RPC client: typed calls to any `Rpc`, many in flight on one connection, and back by
itself after the broker restarts.

FastStream's `broker.request()` holds one lock per producer for the whole round trip, so a
caller gets one request at a time (see the note on issue 2 for the measured figures). This
client consumes RabbitMQ's direct reply-to pseudo-queue once and matches replies to waiting
futures by correlation id.

Direct reply-to lives on one channel of one connection, so when either closes the client does
not try to resume it: it fails every call in flight at once (`service_unavailable`), answers
new calls the same way without waiting, and opens a new connection and channel in the
background with exponential backoff.
"""

import asyncio
import contextlib
import logging
import uuid
from typing import Any, Protocol

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractIncomingMessage,
    DeliveryMode,
)
from aio_pika.exceptions import AMQPError, DeliveryError
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, TracerProvider
from pydantic import ValidationError

from gosmed.contracts import topology
from gosmed.contracts.errors import ErrorCode, ErrorReply, ServiceError
from gosmed.contracts.rpc import ReplyT, RequestT, Rpc
from gosmed.contracts.topology import Service
from gosmed.runtime.broker import DIRECT_REPLY_TO
from gosmed.runtime.reconnect import reopen

log = logging.getLogger(__name__)

BROKER_LOST = "Нет соединения с брокером сообщений, повторите запрос позже."


class Caller(Protocol):
    """What a use case or route needs to call other services; tests pass a fake."""

    async def call(self, rpc: Rpc[RequestT, ReplyT], request: RequestT) -> ReplyT: ...


class RpcClient:
    """Typed RPC over RabbitMQ; failures surface as `ServiceError` with a stable code."""

    def __init__(
        self,
        amqp_url: str,
        *,
        timeout: float = 5.0,
        tracer_provider: TracerProvider | None = None,
        reconnect_max_wait: float = 2.0,
        name: str = "gosmed-rpc",
    ) -> None:
        self._url = amqp_url
        self.name = name
        self.timeout = timeout
        self._reconnect_max_wait = reconnect_max_wait
        self._connection: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self._pending: dict[str, asyncio.Future[AbstractIncomingMessage]] = {}
        self._reconnecting: asyncio.Task[None] | None = None
        self._closing = False
        self._tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)

    async def connect(self) -> None:
        """Connect now; raises when the broker cannot be reached (a process then fails fast
        and its supervisor restarts it)."""
        self._closing = False
        await self._open()

    async def _open(self) -> None:
        connection = await aio_pika.connect(
            self._url, client_properties={"connection_name": self.name}
        )
        try:
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            # Direct reply-to: consume before publishing, auto-ack, on the publishing channel.
            reply_queue = await channel.get_queue(DIRECT_REPLY_TO, ensure=False)
            await reply_queue.consume(self._on_reply, no_ack=True)
        except BaseException:
            await connection.close()  # not left open behind a failed attempt
            raise
        connection.close_callbacks.add(self._on_lost)
        channel.close_callbacks.add(self._on_lost)
        self._connection, self._channel = connection, channel

    def _on_lost(self, sender: object, *_: Any) -> None:
        """The connection or the reply channel closed: fail what waits, reconnect behind."""
        if sender is not self._connection and sender is not self._channel:
            return  # an earlier connection, already replaced
        connection, self._connection, self._channel = self._connection, None, None
        self._fail_pending()
        if not self._closing and (self._reconnecting is None or self._reconnecting.done()):
            log.warning("RPC connection lost; reconnecting")
            self._reconnecting = asyncio.get_running_loop().create_task(self._reconnect(connection))

    async def _reconnect(self, lost: AbstractConnection | None) -> None:
        if lost is not None and not lost.is_closed:
            await lost.close()  # the channel went, the connection may not have
        if await reopen(
            self._open, max_wait=self._reconnect_max_wait, stopped=lambda: self._closing
        ):
            log.info("RPC connection re-established")

    def _fail_pending(self) -> None:
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(ServiceError(ErrorCode.SERVICE_UNAVAILABLE, BROKER_LOST))

    async def close(self) -> None:
        self._closing = True
        if self._reconnecting is not None:
            self._reconnecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reconnecting  # no reconnection left behind a closed event loop
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None:
            await connection.close()
        self._fail_pending()

    @property
    def connected(self) -> bool:
        return self._channel is not None and not self._channel.is_closed

    async def _on_reply(self, message: AbstractIncomingMessage) -> None:
        future = self._pending.pop(message.correlation_id or "", None)
        if future is not None and not future.done():
            future.set_result(message)

    async def call(
        self, rpc: Rpc[RequestT, ReplyT], request: RequestT, *, timeout: float | None = None
    ) -> ReplyT:
        """Send `request` to `rpc`'s queue and wait at most `timeout` seconds (the client's
        default when None) for its reply."""
        timeout = self.timeout if timeout is None else timeout
        channel = self._channel
        if channel is None:
            raise ServiceError(ErrorCode.SERVICE_UNAVAILABLE, BROKER_LOST)
        correlation_id = uuid.uuid4().hex
        future: asyncio.Future[AbstractIncomingMessage] = asyncio.get_running_loop().create_future()
        self._pending[correlation_id] = future
        queue = rpc.queue
        with self._tracer.start_as_current_span(
            f"{queue} publish",
            kind=SpanKind.PRODUCER,
            attributes={"messaging.system": "rabbitmq", "messaging.destination.name": queue},
        ):
            headers: dict[str, str] = {}
            propagate.inject(headers)
            try:
                async with asyncio.timeout(timeout):
                    await channel.default_exchange.publish(
                        aio_pika.Message(
                            request.model_dump_json().encode(),
                            content_type="application/json",
                            correlation_id=correlation_id,
                            reply_to=DIRECT_REPLY_TO,
                            expiration=timeout,
                            delivery_mode=DeliveryMode.NOT_PERSISTENT,
                            headers=headers,  # type: ignore[arg-type]
                        ),
                        routing_key=queue,
                        mandatory=True,
                    )
                    reply = await future
            except TimeoutError:
                raise ServiceError(
                    ErrorCode.TIMEOUT, f"Сервис не ответил за {timeout:g} с ({queue})."
                ) from None
            except DeliveryError:
                raise ServiceError(
                    ErrorCode.SERVICE_UNAVAILABLE, f"Очередь {queue} не существует."
                ) from None
            except (AMQPError, ConnectionError, RuntimeError):
                # The channel or connection broke under the publish; the close callback
                # reconnects.
                raise ServiceError(ErrorCode.SERVICE_UNAVAILABLE, BROKER_LOST) from None
            finally:
                self._pending.pop(correlation_id, None)
        return _decode(reply, rpc)


class ServiceClient:
    """The calls one service answers, as the edge and other services inject them."""

    def __init__(self, service: Service, caller: Caller) -> None:
        self.service = service
        self._caller = caller

    async def call(self, rpc: Rpc[RequestT, ReplyT], request: RequestT) -> ReplyT:
        if rpc.service is not self.service:
            raise ValueError(f"{rpc.queue} is not a method of {self.service.value}")
        return await self._caller.call(rpc, request)


def _decode(reply: AbstractIncomingMessage, rpc: Rpc[Any, ReplyT]) -> ReplyT:
    headers = reply.headers or {}
    try:
        if headers.get(topology.HEADER_REPLY_STATUS) == topology.REPLY_STATUS_ERROR:
            raise ServiceError.from_reply(ErrorReply.model_validate_json(reply.body))
        return rpc.reply.model_validate_json(reply.body)
    except ValidationError:
        log.error("malformed reply of %s", rpc.queue)
        raise ServiceError(ErrorCode.INTERNAL, "Сервис вернул некорректный ответ.") from None
