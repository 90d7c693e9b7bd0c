"""Test doubles of the platform for fast use-case and route tests (no broker)."""

import asyncio
import subprocess
import time
from collections.abc import Awaitable, Callable
from typing import Any

from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.rpc import ReplyT, RequestT, Rpc


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
