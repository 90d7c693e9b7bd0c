"""The edge's feed of SessionEnded on the real broker: events in, catch-up after each gap,
the barrier, dead-lettering, and recovery after the broker drops the connection."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from uuid import UUID, uuid4

import aio_pika
import pytest

from gosmed.contracts import topology
from gosmed.contracts.base import utc_now
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.tokens import (
    SESSION_ENDED_EVENT,
    EndedSession,
    EndedSessionsView,
    SessionEnded,
    SessionEndReason,
)
from gosmed.edge.access_tokens import EndedSessions
from gosmed.edge.session_feed import QUEUE_LABEL, SessionFeed
from gosmed.edge.settings import EdgeSettings
from gosmed.runtime.testing import close_connection_on_broker, eventually


class Identity:
    """Answers the feed's catch-up with `ended`; fails while `down`; counts the calls."""

    def __init__(self) -> None:
        self.ended: list[EndedSession] = []
        self.down = False
        self.calls = 0

    async def catch_up(self) -> EndedSessionsView:
        self.calls += 1
        if self.down:
            raise ServiceError(ErrorCode.TIMEOUT, "identity is down")
        return EndedSessionsView(sessions=tuple(self.ended))


@pytest.fixture
def identity() -> Identity:
    return Identity()


@pytest.fixture
async def feed(amqp_url: str, identity: Identity) -> AsyncIterator[SessionFeed]:
    running = SessionFeed(
        EdgeSettings(amqp_url=amqp_url), EndedSessions(), identity.catch_up, reconnect_max_wait=0.5
    )
    await running.start()
    yield running
    await running.close()


@pytest.fixture
async def channel(amqp_url: str) -> AsyncIterator[aio_pika.abc.AbstractChannel]:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        yield await connection.channel(publisher_confirms=True)


async def publish(channel: aio_pika.abc.AbstractChannel, body: bytes) -> None:
    """As identity publishes: to the events exchange, confirmed."""
    exchange = await channel.get_exchange(topology.EVENTS_EXCHANGE)
    await exchange.publish(
        aio_pika.Message(body, type=SESSION_ENDED_EVENT), routing_key=SESSION_ENDED_EVENT
    )


def ended(session_id: UUID, lifetime: int = 300) -> bytes:
    now = utc_now()
    return (
        SessionEnded(
            session_id=session_id,
            account_id=uuid4(),
            reason=SessionEndReason.LOGOUT,
            ended_at=now,
            tokens_expire_by=now + timedelta(seconds=lifetime),
        )
        .model_dump_json()
        .encode()
    )


async def test_the_feed_vouches_once_it_has_caught_up_with_identity(
    amqp_url: str, identity: Identity
) -> None:
    earlier = uuid4()
    identity.ended = [
        EndedSession(session_id=earlier, tokens_expire_by=utc_now() + timedelta(seconds=60))
    ]
    identity.down = True
    feed = SessionFeed(
        EdgeSettings(amqp_url=amqp_url), EndedSessions(), identity.catch_up, reconnect_max_wait=0.2
    )
    await feed.start()
    try:
        await eventually(lambda: identity.calls >= 2, "the catch-up is retried")
        assert not feed.ended.complete
        identity.down = False
        await eventually(lambda: feed.ended.complete, "caught up")
        assert earlier in feed.ended
    finally:
        await feed.close()


async def test_an_announced_session_is_refused_after_the_barrier_without_polling(
    feed: SessionFeed, channel: aio_pika.abc.AbstractChannel
) -> None:
    await eventually(lambda: feed.ended.complete, "caught up")
    sessions = [uuid4() for _ in range(20)]
    for session in sessions:
        await publish(channel, ended(session))
    await feed.barrier()  # what a logout route does before it answers
    assert all(session in feed.ended for session in sessions)


async def test_a_session_whose_tokens_have_expired_is_not_kept(
    feed: SessionFeed, channel: aio_pika.abc.AbstractChannel
) -> None:
    await eventually(lambda: feed.ended.complete, "caught up")
    session = uuid4()
    await publish(channel, ended(session, lifetime=-1))
    await feed.barrier()
    assert session not in feed.ended


async def test_a_malformed_event_is_dead_lettered_with_its_reason_and_the_feed_goes_on(
    feed: SessionFeed, channel: aio_pika.abc.AbstractChannel
) -> None:
    await eventually(lambda: feed.ended.complete, "caught up")
    dead = await channel.get_queue(topology.dead_letter_queue(QUEUE_LABEL))
    await dead.purge()
    await publish(channel, b'{"session_id": "not-a-uuid"}')
    good = uuid4()
    await publish(channel, ended(good))
    await feed.barrier()
    assert good in feed.ended
    message = await dead.get(timeout=5, fail=False)
    assert message is not None
    assert message.body == b'{"session_id": "not-a-uuid"}'
    headers = message.headers or {}
    assert headers[topology.HEADER_ERROR_CODE] == "validation_failed"
    assert "session_id" in str(headers[topology.HEADER_ERROR_REASON])
    await message.ack()


async def test_after_the_broker_drops_it_the_feed_reconnects_and_catches_up_again(
    feed: SessionFeed, identity: Identity, channel: aio_pika.abc.AbstractChannel
) -> None:
    await eventually(lambda: feed.ended.complete, "caught up")
    assert identity.calls == 1
    during_gap = uuid4()
    identity.ended = [
        EndedSession(session_id=during_gap, tokens_expire_by=utc_now() + timedelta(seconds=60))
    ]
    identity.down = True  # so the feed stays behind until the test lets it catch up
    await asyncio.to_thread(close_connection_on_broker, feed.name)
    await eventually(lambda: not feed.ended.complete, "the gap is noticed")
    await eventually(lambda: identity.calls >= 2, "reconnected, trying to catch up")
    assert not feed.ended.complete
    identity.down = False
    await eventually(lambda: feed.ended.complete, "caught up after the reconnect")
    assert during_gap in feed.ended  # missed as an event, learnt from identity
    after = uuid4()
    await publish(channel, ended(after))
    await feed.barrier()
    assert after in feed.ended
