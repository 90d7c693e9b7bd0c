"""A request/reply client that keeps many requests in flight on one connection.

FastStream's `broker.request()` holds one lock per producer for the whole round trip, so a
caller gets one request at a time (see the note on issue 2 for the measured figures). This
client consumes RabbitMQ's direct reply-to pseudo-queue once and matches replies to waiting
futures by correlation id.
"""

import asyncio
import logging
import uuid
from typing import TypeVar

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractIncomingMessage,
    AbstractRobustConnection,
    DeliveryMode,
)
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, TracerProvider
from pydantic import BaseModel, ValidationError

from gosmed.contracts import topology
from gosmed.contracts.errors import ErrorCode, ErrorReply, ServiceError
from gosmed.runtime.broker import DIRECT_REPLY_TO

log = logging.getLogger(__name__)

ReplyT = TypeVar("ReplyT", bound=BaseModel)


class RpcClient:
    """Typed RPC over RabbitMQ; failures surface as `ServiceError` with a stable code."""

    def __init__(self, amqp_url: str, *, tracer_provider: TracerProvider | None = None) -> None:
        self._url = amqp_url
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None
        self._pending: dict[str, asyncio.Future[AbstractIncomingMessage]] = {}
        self._tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)

    async def connect(self) -> None:
        self._connection = await aio_pika.connect_robust(self._url)
        self._connection.reconnect_callbacks.add(self._on_reconnect)
        await self._open_channel()

    async def _open_channel(self) -> None:
        assert self._connection is not None
        self._channel = await self._connection.channel(
            publisher_confirms=True, on_return_raises=True
        )
        # Direct reply-to: consume before publishing, auto-ack, on the publishing channel.
        reply_queue = await self._channel.get_queue(DIRECT_REPLY_TO, ensure=False)
        await reply_queue.consume(self._on_reply, no_ack=True)

    async def _on_reconnect(self, *_: object) -> None:
        # Replies to requests sent before the connection dropped can never arrive.
        for future in self._pending.values():
            if not future.done():
                future.set_exception(
                    ServiceError(ErrorCode.SERVICE_UNAVAILABLE, "Соединение с брокером прервано.")
                )

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    @property
    def connected(self) -> bool:
        return self._connection is not None and not self._connection.is_closed

    async def _on_reply(self, message: AbstractIncomingMessage) -> None:
        future = self._pending.pop(message.correlation_id or "", None)
        if future is not None and not future.done():
            future.set_result(message)

    async def call(
        self,
        queue: str,
        request: BaseModel,
        reply_type: type[ReplyT],
        *,
        timeout: float = 5.0,
    ) -> ReplyT:
        """Send `request` to `queue` and wait at most `timeout` seconds for its reply."""
        if self._channel is None:
            raise ServiceError(ErrorCode.SERVICE_UNAVAILABLE, "Нет соединения с брокером.")
        correlation_id = uuid.uuid4().hex
        future: asyncio.Future[AbstractIncomingMessage] = asyncio.get_running_loop().create_future()
        self._pending[correlation_id] = future
        with self._tracer.start_as_current_span(
            f"{queue} publish",
            kind=SpanKind.PRODUCER,
            attributes={"messaging.system": "rabbitmq", "messaging.destination.name": queue},
        ):
            headers: dict[str, str] = {}
            propagate.inject(headers)
            try:
                async with asyncio.timeout(timeout):
                    await self._channel.default_exchange.publish(
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
            except aio_pika.exceptions.DeliveryError:
                raise ServiceError(
                    ErrorCode.SERVICE_UNAVAILABLE, f"Очередь {queue} не существует."
                ) from None
            finally:
                self._pending.pop(correlation_id, None)
        return _decode(reply, reply_type)


def _decode(reply: AbstractIncomingMessage, reply_type: type[ReplyT]) -> ReplyT:
    headers = reply.headers or {}
    try:
        if headers.get(topology.HEADER_REPLY_STATUS) == topology.REPLY_STATUS_ERROR:
            raise ServiceError.from_reply(ErrorReply.model_validate_json(reply.body))
        return reply_type.model_validate_json(reply.body)
    except ValidationError:
        log.error("malformed reply of type %s", reply_type.__name__)
        raise ServiceError(ErrorCode.INTERNAL, "Сервис вернул некорректный ответ.") from None
