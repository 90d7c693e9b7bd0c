"""Assembly of a broker-driven service: broker, store, outbox relay, ping, dead-letter queues,
lifecycle."""

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any, TypeVar
from uuid import UUID

from aio_pika.abc import AbstractIncomingMessage
from faststream import FastStream
from faststream.rabbit import RabbitBroker, RabbitExchange, RabbitQueue
from opentelemetry.sdk.trace import TracerProvider
from pydantic import BaseModel

from gosmed.contracts import topology
from gosmed.contracts.rpc import ReplyT, RequestT, Rpc
from gosmed.contracts.system import DependencyState, DependencyStatus, Ping, PingReply, ping
from gosmed.runtime.broker import (
    CLINIC_INTAKE,
    EVENTS,
    create_broker,
    declare_topology,
    durable_queue,
)
from gosmed.runtime.broker_access import vhost_of
from gosmed.runtime.door import sending_clinic
from gosmed.runtime.health import Heartbeat
from gosmed.runtime.logging import setup_logging
from gosmed.runtime.outbox import BrokerPublisher, Relay
from gosmed.runtime.settings import ConfigurationError, ServiceSettings
from gosmed.runtime.store import Store, open_store
from gosmed.runtime.telemetry import create_tracer_provider, install_tracer_provider

log = logging.getLogger(__name__)
MessageT = TypeVar("MessageT", bound=BaseModel)
# Python collects its youngest objects every 700 allocations: a message being handled (a
# report of 500 records, their documents and messages) outlives hundreds of such collections,
# is promoted, and makes full collections of the whole heap (the embedded store's documents
# included) run every few messages: 30-45 % of records' CPU in a bulk intake. Collecting the
# youngest every 50,000 allocations lets a message's objects die young.
GC_THRESHOLDS = (50_000, 20, 10)


@dataclass
class ServiceRuntime:
    """Everything a service's handlers need; built once per process."""

    name: topology.Service
    settings: ServiceSettings
    broker: RabbitBroker
    store: Store
    version: str
    relay: Relay
    app: FastStream = field(init=False)
    startup_hooks: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    stopping_hooks: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    shutdown_hooks: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    dependencies: dict[str, Callable[[], DependencyStatus]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.app = FastStream(
            self.broker,
            logger=logging.getLogger(f"gosmed.{self.name.value}"),
            on_startup=[self._start_up],
            on_shutdown=[self._stopping],  # while the broker still publishes
            after_shutdown=[self._close],  # after the broker finished in-flight messages
        )

    def queue(self, name: str, *, routing_key: str = "") -> RabbitQueue:
        """A durable command/event queue of this service, with its dead-letter twin."""
        return durable_queue(name, self.settings, routing_key=routing_key)

    def serve(
        self,
        rpc: Rpc[RequestT, ReplyT],
        handler: Callable[[RequestT], Awaitable[ReplyT]],
    ) -> None:
        """Answer `rpc` with `handler`; the descriptor's types are what is validated and
        documented, whatever the handler's own annotations."""
        if rpc.service is not self.name:
            raise ValueError(f"{self.name.value} cannot serve {rpc.queue}")
        queue = durable_queue(rpc.queue, self.settings, dead_letter_rejected=False)
        self._subscribe(queue, rpc.request, handler, rpc.reply, rpc.summary)

    def consume(
        self,
        queue: str,
        message: type[MessageT],
        handler: Callable[[MessageT], Awaitable[ReplyT | None]],
        *,
        description: str = "",
        routing_key: str = "",
        reply: type[ReplyT] | None = None,
        from_clinics: bool = False,
    ) -> None:
        """Consume commands (or, with `routing_key`, events) of type `message` from this
        service's durable `queue`; failures are dead-lettered with their reason. A `reply`
        goes to the sender's `reply_to` when it gave one. `from_clinics` binds the queue to
        the clinics' door, `gosmed.clinic-intake`, by its own name: the handler then checks
        the sender (`incoming().user_id`)."""
        if from_clinics and routing_key:
            raise ValueError("a queue takes either clinics' commands or events")
        durable = self.queue(queue, routing_key=queue if from_clinics else routing_key)
        exchange = CLINIC_INTAKE if from_clinics else EVENTS if routing_key else None
        self._subscribe(durable, message, handler, reply, description, exchange=exchange)

    def _subscribe(
        self,
        queue: RabbitQueue,
        message: type[BaseModel],
        handler: Callable[[Any], Awaitable[Any]],
        reply: type[BaseModel] | None,
        description: str,
        *,
        exchange: RabbitExchange | None = None,
    ) -> None:
        async def handle(body: Any) -> Any:
            return await handler(body)

        # FastStream validates and documents the handler from its annotations.
        handle.__annotations__ = {"body": message, "return": reply}
        handle.__name__ = handle.__qualname__ = queue.name.replace(".", "_").replace("-", "_")
        self.broker.subscriber(queue, exchange, title=queue.name, description=description or None)(
            handle
        )

    def incoming(self) -> AbstractIncomingMessage:
        """The AMQP message being handled (its `user_id`, `reply_to`, ...), from a handler."""
        message: AbstractIncomingMessage = self.broker.context.get_local("message").raw_message
        return message

    def sending_clinic(self, claimed: UUID | None = None, **queues: str | None) -> UUID:
        """The organization of the clinic that sent the message being handled, checked at the
        door (`gosmed.runtime.door.sending_clinic`): `claimed` must be its own, and its
        `reply_to` and the other `queues` it names must be its own `clinic.<organization>.`
        queues; `RefusedError` (dead-lettered with the reason) otherwise."""
        message = self.incoming()
        return sending_clinic(
            vhost_of(self.settings.amqp_url),
            message.user_id,
            claimed=claimed,
            queues={"reply_to": message.reply_to, **queues},
        )

    def report_dependency(self, name: str, status: Callable[[], DependencyStatus]) -> None:
        """Report `name` in ping beside the broker and the store (and so in the edge's
        readiness: a dependency `down` makes the system not ready)."""
        self.dependencies[name] = status

    def on_startup(self, hook: Callable[[], Awaitable[None]]) -> None:
        """Run `hook` at start, after the queues are declared and before consuming begins
        (indexes, demo data, RPC clients)."""
        self.startup_hooks.append(hook)

    def on_stopping(self, hook: Callable[[], Awaitable[None]]) -> None:
        """Run `hook` first at stop, while the broker still publishes (background workers)."""
        self.stopping_hooks.append(hook)

    def on_shutdown(self, hook: Callable[[], Awaitable[None]]) -> None:
        """Run `hook` at stop, after consuming ended (RPC clients, worker pools)."""
        self.shutdown_hooks.append(hook)

    async def _start_up(self) -> None:
        await self.broker.connect()
        queues = [subscriber.queue.name for subscriber in self.broker.subscribers]  # type: ignore[attr-defined]
        await declare_topology(self.broker, queues, self.settings)
        for hook in self.startup_hooks:
            await hook()
        if self.relay.outboxes:
            await self.relay.start()
        log.info("%s %s started, consuming %d queues", self.name.value, self.version, len(queues))

    async def _stopping(self) -> None:
        for hook in self.stopping_hooks:
            await hook()
        await self.relay.stop()

    async def _close(self) -> None:
        for hook in self.shutdown_hooks:
            await hook()
        self.store.close()

    async def start(self) -> None:
        """Start without the FastStream app (in-process tests and tools)."""
        await self._start_up()
        await self.broker.start()

    async def stop(self) -> None:
        await self._stopping()
        await self.broker.stop()
        await self._close()

    async def ready(self) -> bool:
        """Whether it can work: connected to the broker, and the store answers."""
        store = await self.store.status()
        return await self.broker.ping(timeout=2.0) and store.state != DependencyState.DOWN

    async def ping(self, request: Ping) -> PingReply:
        return PingReply(
            service=self.name.value,
            version=self.version,
            dependencies={
                "broker": DependencyStatus(state=DependencyState.UP),
                "store": await self.store.status(),
                **{name: status() for name, status in self.dependencies.items()},
            },
        )


def build_service(
    name: topology.Service,
    settings: ServiceSettings,
    *,
    tracer_provider: TracerProvider | None = None,
) -> ServiceRuntime:
    broker = create_broker(settings, service=name.value, tracer_provider=tracer_provider)
    store = open_store(settings.mongodb_url, settings.mongodb_database or f"gosmed_{name.value}")
    runtime = ServiceRuntime(
        name=name,
        settings=settings,
        broker=broker,
        store=store,
        version=version(f"gosmed-{name.value}"),
        relay=Relay(
            BrokerPublisher(broker),
            sweep_seconds=settings.outbox_sweep_seconds,
            longest_retry_seconds=settings.outbox_retry_max_seconds,
        ),
    )
    runtime.serve(ping(name), runtime.ping)
    if settings.health_dir is not None:
        heartbeat = Heartbeat(settings.health_dir, runtime.ready)
        runtime.app.after_startup(heartbeat.start)  # once consuming
        runtime.app.on_shutdown(heartbeat.stop)
    return runtime


def run(create: Callable[[TracerProvider], ServiceRuntime], name: topology.Service) -> None:
    """Process entry point: logging, tracing, then run until SIGINT/SIGTERM, finishing
    in-flight messages before exit."""
    gc.set_threshold(*GC_THRESHOLDS)
    settings = ServiceSettings()
    setup_logging(name.value, settings.log_level, settings.log_format)
    provider = create_tracer_provider(name.value, otlp_endpoint=settings.otlp_endpoint)
    install_tracer_provider(provider)
    try:
        runtime = create(provider)
    except ConfigurationError as exc:
        log.critical("%s cannot start: %s", name.value, exc)
        provider.shutdown()
        raise SystemExit(2) from exc
    try:
        asyncio.run(runtime.app.run())
    finally:
        provider.shutdown()
