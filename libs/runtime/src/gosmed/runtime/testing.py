"""Test doubles of the platform for fast use-case and route tests (no broker), and a broker
that goes away for a while (`TcpProxy`)."""

import asyncio
import contextlib
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractIncomingMessage,
    AbstractQueue,
)

from gosmed.contracts.base import Message
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.rpc import ReplyT, RequestT, Rpc
from gosmed.runtime.broker_access import BrokerAccess, BrokerAccessSettings, clinic_user
from gosmed.runtime.outbox import OutboxEntry

MessageT = TypeVar("MessageT", bound=Message)


class FakeRpc:
    """A `Caller` that answers each `Rpc` with the function a test gave it and keeps every
    request; an RPC with no answer behaves as a service that is down."""

    def __init__(self) -> None:
        self._answers: dict[str, Callable[[Any], Awaitable[Any]]] = {}
        self.requests: list[tuple[Rpc[Any, Any], Any]] = []

    def answer(
        self, rpc: Rpc[RequestT, ReplyT], answer: Callable[[RequestT], Awaitable[ReplyT]]
    ) -> None:
        self._answers[rpc.queue] = answer

    def reply(self, rpc: Rpc[RequestT, ReplyT], reply: ReplyT) -> None:
        """Answer `rpc` with the same `reply` every time."""

        async def same(_: RequestT) -> ReplyT:
            return reply

        self.answer(rpc, same)

    def fail(self, rpc: Rpc[Any, Any], error: ServiceError) -> None:
        async def failing(_: object) -> None:
            raise error

        self._answers[rpc.queue] = failing

    def sent(self, rpc: Rpc[RequestT, Any]) -> list[RequestT]:
        """The requests sent to `rpc`, oldest first."""
        return [request for called, request in self.requests if called.queue == rpc.queue]

    async def call(self, rpc: Rpc[RequestT, ReplyT], request: RequestT) -> ReplyT:
        self.requests.append((rpc, request))
        answer = self._answers.get(rpc.queue)
        if answer is None:
            raise ServiceError(ErrorCode.SERVICE_UNAVAILABLE, f"{rpc.queue} is not answered.")
        reply: ReplyT = await answer(request)
        return reply


class FakePublisher:
    """The outbox relay's `Publisher`, keeping what it is given; `refuse(n)` makes the next
    `n` publishes fail as a broker that is down would."""

    def __init__(self) -> None:
        self.published: list[OutboxEntry] = []
        self._refusals = 0

    def refuse(self, times: int = 1) -> None:
        self._refusals = times

    async def publish(self, entry: OutboxEntry) -> None:
        if self._refusals > 0:
            self._refusals -= 1
            raise ConnectionError("the broker is down (FakePublisher)")
        self.published.append(entry)

    def messages(self, destination: str, message: type[MessageT]) -> list[MessageT]:
        """What was published to `destination` (a queue or an event routing key), oldest first."""
        return [
            message.model_validate_json(entry.body)
            for entry in self.published
            if entry.routing_key == destination
        ]


class TcpProxy:
    """A TCP relay in front of the broker of `amqp_url`: connect through `url`; `cut` drops
    every connection and refuses new ones until `resume`, as an unreachable broker would."""

    def __init__(self, amqp_url: str) -> None:
        self._target = urlsplit(amqp_url)
        self._server: asyncio.Server | None = None
        self._port = 0
        self._streams: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        credentials = self._target.netloc.rpartition("@")[0]
        netloc = (
            f"{credentials}@127.0.0.1:{self._port}" if credentials else f"127.0.0.1:{self._port}"
        )
        return urlunsplit(self._target._replace(netloc=netloc))

    async def __aenter__(self) -> "TcpProxy":
        await self.resume()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.cut()

    async def resume(self) -> None:
        """Accept connections (again, on the same port)."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self._port)
        self._port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
        for stream in self._streams:
            stream.transport.abort()
        self._streams.clear()
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(
            self._target.hostname, self._target.port or 5672
        )
        self._streams |= {writer, upstream_writer}
        await asyncio.gather(
            self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer)
        )

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()


def close_connection_on_broker(connection_name: str) -> None:
    """Make RabbitMQ itself drop one named connection, as a broker restart or a network cut
    does (needs `rabbitmqctl` on the machine running the broker)."""
    command = ["rabbitmqctl", "-q", "list_connections", "pid", "client_properties"]
    listed = subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603
    pids = [line.split("\t")[0] for line in listed.stdout.splitlines() if connection_name in line]
    assert len(pids) == 1, f"connection {connection_name} not found on the broker"
    close = ["rabbitmqctl", "-q", "close_connection", pids[0], "test"]
    subprocess.run(close, check=True)  # noqa: S603


async def eventually(condition: Callable[[], bool], what: str, seconds: float = 10.0) -> None:
    """Wait until `condition()` holds, checking every 20 ms; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds:g} s: {what}"
        await asyncio.sleep(0.02)


async def poll_next_message(queue: AbstractQueue, within: float = 10.0) -> AbstractIncomingMessage:
    """The next message on `queue` (taken, no ack), asked for every 50 ms; TimeoutError after
    `within` seconds. A deadline between requests, never the cancellation of one: a basic.get
    cancelled in flight makes aiormq close its channel, which can hang."""
    deadline = time.monotonic() + within
    while (message := await queue.get(fail=False, no_ack=True)) is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no message on {queue.name} within {within:g} s")
        await asyncio.sleep(0.05)
    return message


@dataclass
class ClinicConnection:
    """A clinic's own connection to the broker, as its information system would hold it."""

    organization_id: UUID
    user: str
    url: str
    connection: AbstractConnection
    channel: AbstractChannel


@asynccontextmanager
async def clinic_connection(
    amqp_url: str, organization_id: UUID
) -> AsyncIterator[ClinicConnection]:
    """A connection of the clinic of `organization_id` (made by `clinic add`, the one path
    that makes clinics: `gosmed.runtime.broker_access.BrokerAccess.add_clinic`), with a
    confirming channel; `amqp_url` names the broker and vhost."""
    access = BrokerAccess(BrokerAccessSettings(amqp_url=amqp_url))
    url = await asyncio.to_thread(access.add_clinic, organization_id)
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        yield ClinicConnection(
            organization_id, clinic_user(access.vhost, organization_id), url, connection, channel
        )
