"""A RabbitMQ broker that loses nothing: persistent publishes with confirms, unroutable
publishes raise, durable queues with a dead-letter twin, failed and oversized messages
dead-lettered with their reason while the consumer keeps going."""

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from types import TracebackType
from typing import Any, cast

from aio_pika.abc import AbstractIncomingMessage
from aio_pika.exceptions import PublishError
from faststream import BaseMiddleware
from faststream.exceptions import HandlerException
from faststream.message import StreamMessage
from faststream.rabbit import (
    Channel,
    ExchangeType,
    QueueType,
    RabbitBroker,
    RabbitExchange,
    RabbitPublishCommand,
    RabbitQueue,
)
from faststream.rabbit.opentelemetry import RabbitTelemetryMiddleware
from faststream.rabbit.schemas.queue import ClassicQueueArgs, QuorumQueueArgs
from faststream.response import PublishCommand, PublishType
from opentelemetry.sdk.trace import TracerProvider
from pydantic import ValidationError

from gosmed.contracts import topology
from gosmed.contracts.errors import (
    ErrorCode,
    ErrorReply,
    ServiceError,
    summarize,
    validation_details,
)
from gosmed.contracts.limits import max_message_bytes
from gosmed.runtime.settings import CommonSettings

log = logging.getLogger(__name__)

# The shared exchanges are declared by the broker setup (`gosmed.runtime.broker_access setup`);
# services only check that they exist (a passive declare, `declare=False`), so no service holds
# the right to delete them.
EVENTS = RabbitExchange(
    topology.EVENTS_EXCHANGE,
    type=ExchangeType.TOPIC,
    durable=True,
    declare=False,
    arguments={"alternate-exchange": topology.UNROUTED_EXCHANGE},
)
DEAD_LETTERS = RabbitExchange(
    topology.DEAD_LETTER_EXCHANGE, type=ExchangeType.DIRECT, durable=True, declare=False
)
UNROUTED = RabbitExchange(
    topology.UNROUTED_EXCHANGE, type=ExchangeType.FANOUT, durable=True, declare=False
)
CLINIC_INTAKE = RabbitExchange(
    topology.CLINIC_INTAKE_EXCHANGE, type=ExchangeType.DIRECT, durable=True, declare=False
)
MAX_REASON_LENGTH = 2000
RPC_DEAD_LETTER_TTL = 604_800.0
"""Seconds a failed RPC's dead letter is kept (the default of `rpc_dead_letter_ttl`)."""
RPC_KEPT_HEADERS = frozenset({"traceparent", "tracestate"})
"""The only headers of a failed RPC request its dead letter keeps (to find its trace)."""
DIRECT_REPLY_TO = "amq.rabbitmq.reply-to"
RECONNECT_INTERVAL = 1.0
"""Seconds between reconnection attempts after the broker went away (FastStream's default is 5):
one cheap attempt a second, so consumers are back soon after the broker is."""


class RefusedError(ServiceError):
    """A message refused for who sent it (e.g. a clinic report naming another organization):
    dead-lettered with its reason, and answered only at a queue the sender owns."""


def may_answer(raw: AbstractIncomingMessage) -> bool:
    """Whether a reply may go to the message's `reply_to`: anywhere for the platform's own
    messages; for a clinic's (those that came in through `gosmed.clinic-intake`) only to one
    of that clinic's own queues, so a clinic cannot make a service publish into the platform's
    queues."""
    if not raw.reply_to:
        return False
    if raw.exchange != topology.CLINIC_INTAKE_EXCHANGE:
        return True
    return topology.clinic_may_use(raw.user_id, raw.reply_to)


class MessageTooLargeError(Exception):
    """A message body larger than its queue accepts; refused before it is read."""

    def __init__(self, queue: str, size: int, limit: int) -> None:
        super().__init__(f"{size} > {limit} bytes on {queue}")
        self.queue = queue
        self.size = size
        self.limit = limit


def describe_failure(exc: BaseException) -> ErrorReply:
    """Turn an exception into the stable code and Russian message a sender can act on."""
    if isinstance(exc, ServiceError):
        return exc.to_reply()
    if isinstance(exc, MessageTooLargeError):
        return ErrorReply(
            code=ErrorCode.MESSAGE_TOO_LARGE,
            message=f"Сообщение слишком большое: {exc.size} байт, очередь {exc.queue} "
            f"принимает не больше {exc.limit} байт",
        )
    if isinstance(exc, ValidationError):
        # FastStream validates a handler's arguments as a model named after the function: the
        # first location element is then the parameter name, not part of the message.
        skip = 0 if exc.title[:1].isupper() else 1
        details = validation_details(exc.errors(include_url=False), skip_loc=skip)
        return ErrorReply(
            code=ErrorCode.VALIDATION_FAILED,
            message="Сообщение не прошло проверку: " + summarize(details),
            details=details,
        )
    if isinstance(exc, json.JSONDecodeError | UnicodeDecodeError):
        return ErrorReply(
            code=ErrorCode.VALIDATION_FAILED,
            message="Сообщение не прошло проверку: тело не является корректным JSON в UTF-8",
        )
    return ErrorReply(code=ErrorCode.INTERNAL, message=f"Ошибка обработки: {type(exc).__name__}")


@asynccontextmanager
async def dropped_if_caller_gone(queue: str, reply_to: str) -> AsyncIterator[None]:
    """A reply the broker returns as unroutable (the caller's reply queue is gone, e.g. it
    disconnected) is logged and dropped: the message was handled, its write is kept, and a
    re-send gets the answer again."""
    try:
        yield
    except PublishError:
        log.warning("reply to a message on %s dropped: reply queue %s is gone", queue, reply_to)


class DeadLetterMiddleware(BaseMiddleware):
    """On a failed message: answer an RPC caller with an `ErrorReply`, and dead-letter the
    message with its reason unless the failure was an ordinary business answer
    (`ServiceError` on an RPC). Returning True acknowledges the original. A message larger
    than its queue accepts fails unread; a reply (answer or error) to a reply queue that is
    gone is dropped, never a reason to dead-letter.

    A failed RPC request is dead-lettered without its body: requests carry passwords, codes,
    tokens and personal data, and an RPC is never replayed (its caller got the error). Its dead
    letter keeps the reason, the ids, the trace headers and the body's size, and expires after
    `rpc_dead_letter_ttl` seconds (the message's own expiration, so no queue argument changes
    and the setting may change at any time). Commands and events keep their body: they are
    replayed from their dead-letter queue once the cause is fixed.
    """

    def __init__(
        self,
        msg: Any,
        /,
        *,
        context: Any,
        rpc_dead_letter_ttl: float = RPC_DEAD_LETTER_TTL,
    ) -> None:
        super().__init__(msg, context=context)
        self.rpc_dead_letter_ttl = rpc_dead_letter_ttl

    async def consume_scope(
        self, call_next: Callable[[Any], Awaitable[Any]], msg: StreamMessage[Any]
    ) -> Any:
        # Before the body is decoded: an oversized message costs no parsing.
        queue, size = self._queue(), len(msg.body)
        if size > (limit := max_message_bytes(queue)):
            raise MessageTooLargeError(queue, size, limit)
        return await call_next(msg)

    async def publish_scope(
        self, call_next: Callable[[Any], Awaitable[Any]], cmd: PublishCommand
    ) -> Any:
        if not isinstance(cmd, RabbitPublishCommand) or cmd.publish_type is not PublishType.REPLY:
            return await call_next(cmd)
        if cmd.destination.startswith(DIRECT_REPLY_TO):
            # An RPC caller that timed out has reported it already: nothing to log.
            cmd.publish_options["mandatory"] = False
            return await call_next(cmd)
        async with dropped_if_caller_gone(self._queue(), cmd.destination):
            return await call_next(cmd)
        return None

    def _queue(self) -> str:
        """The queue the message being handled came from."""
        name: str = self.context.get_local("handler_").queue.name
        return name

    async def after_processed(
        self,
        exc_type: type[BaseException] | None = None,
        exc_val: BaseException | None = None,
        exc_tb: TracebackType | None = None,
    ) -> bool:
        if exc_val is None or not isinstance(exc_val, Exception):
            return False
        if isinstance(exc_val, HandlerException):
            return False  # the handler asked for an ack or a nack itself (e.g. deliver again)
        raw: AbstractIncomingMessage = cast("AbstractIncomingMessage", self.msg)
        broker: RabbitBroker = self.context.get("broker")
        queue = self._queue()
        failure = describe_failure(exc_val)
        if raw.reply_to and may_answer(raw):
            async with dropped_if_caller_gone(queue, raw.reply_to):
                await broker.publish(
                    failure.model_dump_json(),
                    routing_key=raw.reply_to,
                    correlation_id=raw.correlation_id,
                    headers={topology.HEADER_REPLY_STATUS: topology.REPLY_STATUS_ERROR},
                    content_type="application/json",
                    mandatory=not raw.reply_to.startswith(DIRECT_REPLY_TO),
                )
            if isinstance(exc_val, ServiceError) and not isinstance(exc_val, RefusedError):
                return True
        if failure.code == ErrorCode.INTERNAL:
            log.error("message on %s failed", queue, exc_info=exc_val)
        reason = {
            topology.HEADER_ERROR_CODE: failure.code.value,
            topology.HEADER_ERROR_REASON: failure.message[:MAX_REASON_LENGTH],
            topology.HEADER_ORIGINAL_QUEUE: queue,
        }
        if topology.is_rpc_queue(queue):
            kept = {k: v for k, v in (raw.headers or {}).items() if k in RPC_KEPT_HEADERS}
            await broker.publish(
                b"",
                exchange=DEAD_LETTERS,
                routing_key=queue,
                persist=True,
                message_id=raw.message_id,
                correlation_id=raw.correlation_id,
                expiration=self.rpc_dead_letter_ttl,
                headers={**kept, **reason, topology.HEADER_BODY_OMITTED: len(raw.body)},
            )
        else:
            await broker.publish(
                raw.body,
                exchange=DEAD_LETTERS,
                routing_key=queue,
                persist=True,
                message_id=raw.message_id,
                correlation_id=raw.correlation_id,
                content_type=raw.content_type,
                headers={**(raw.headers or {}), **reason},
            )
        log.warning("message on %s dead-lettered: %s", queue, failure.code.value)
        return True


def create_broker(
    settings: CommonSettings,
    *,
    service: str,
    tracer_provider: TracerProvider | None = None,
) -> RabbitBroker:
    """The service's broker; per-message logs go to DEBUG so they cost nothing at INFO."""
    middlewares: list[Any] = [
        partial(DeadLetterMiddleware, rpc_dead_letter_ttl=settings.rpc_dead_letter_ttl)
    ]
    if tracer_provider is not None:
        middlewares.insert(0, RabbitTelemetryMiddleware(tracer_provider=tracer_provider))
    return RabbitBroker(
        settings.amqp_url,
        app_id=f"gosmed-{service}",
        default_channel=Channel(
            prefetch_count=settings.prefetch_count,
            publisher_confirms=True,
            on_return_raises=True,
        ),
        graceful_timeout=settings.graceful_timeout,
        reconnect_interval=RECONNECT_INTERVAL,
        middlewares=middlewares,
        logger=logging.getLogger(f"gosmed.{service}.broker"),
        log_level=logging.DEBUG,
    )


def durable_queue(
    name: str,
    settings: CommonSettings,
    *,
    routing_key: str = "",
    dead_letter_rejected: bool = True,
    declare: bool = True,
) -> RabbitQueue:
    """A durable queue whose rejected messages go to its dead-letter twin.

    `dead_letter_rejected=False` is for RPC queues: a request that expired unanswered is
    dropped, not kept (the caller has given up on it); failed requests are still dead-lettered
    explicitly, with their reason. `declare=False` only checks that the queue exists (another
    service's queue, declared by the broker setup).
    """
    arguments: dict[str, Any] = {}
    if dead_letter_rejected:
        arguments["x-dead-letter-exchange"] = topology.DEAD_LETTER_EXCHANGE
        arguments["x-dead-letter-routing-key"] = name
    if settings.queue_type == "quorum":
        return RabbitQueue(
            name,
            queue_type=QueueType.QUORUM,
            arguments=cast("QuorumQueueArgs", arguments),
            routing_key=routing_key,
            declare=declare,
        )
    return RabbitQueue(
        name,
        durable=True,
        arguments=cast("ClassicQueueArgs", arguments),
        routing_key=routing_key,
        declare=declare,
    )


async def declare_topology(
    broker: RabbitBroker, queues: list[str], settings: CommonSettings
) -> None:
    """Check that the shared exchanges exist (the broker setup declares them) and declare one
    `<queue>.dead-letter` per consumed queue."""
    await broker.declare_exchange(EVENTS)
    exchange = await broker.declare_exchange(DEAD_LETTERS)
    for name in queues:
        dead = await broker.declare_queue(
            durable_queue(topology.dead_letter_queue(name), settings, dead_letter_rejected=False)
        )
        await dead.bind(exchange, routing_key=name)


async def publish_event(broker: RabbitBroker, message: Any, routing_key: str) -> None:
    """Publish an event persistently, confirmed; with no subscriber yet it waits in
    `gosmed.unrouted`."""
    await broker.publish(
        message,
        exchange=EVENTS,
        routing_key=routing_key,
        persist=True,
        message_id=str(message.message_id),
        message_type=routing_key,
    )
