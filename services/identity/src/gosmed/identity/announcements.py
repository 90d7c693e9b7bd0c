"""SessionEnded: what lets the edge refuse the tokens of an ended session without asking.

A session ending writes `ended_at` and `announce_pending` in one update of its document (the
outbox of its event); the event is published at once and, should that fail, by the sweep,
which also ends the sessions that idled or expired. The edge no longer reports each request,
so activity is a login or a refresh: with access tokens shorter than the idle timeout, a client
in use refreshes well within it, and an idle session's last token has expired by the time the
sweep ends it (should tokens be configured to outlive the idle timeout, its SessionEnded still
refuses them).
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta

from gosmed.contracts.base import utc_now
from gosmed.contracts.identity.tokens import (
    EndedSession,
    EndedSessionsView,
    ListEndedSessions,
    SessionEnded,
)
from gosmed.identity.repository import Session, SessionRepository
from gosmed.identity.settings import IdentitySettings

log = logging.getLogger(__name__)

Publish = Callable[[SessionEnded], Awaitable[None]]


def ended_event(session: Session) -> SessionEnded:
    assert session.ended_at is not None
    assert session.end_reason is not None
    return SessionEnded(
        session_id=session.id,
        account_id=session.account_id,
        reason=session.end_reason,
        ended_at=session.ended_at,
        tokens_expire_by=session.tokens_expire_by,
    )


class SessionAnnouncer:
    """Publishes SessionEnded for each ended session, until it is out."""

    def __init__(
        self,
        sessions: SessionRepository,
        publish: Publish,
        settings: IdentitySettings,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.sessions = sessions
        self.publish = publish
        self.settings = settings
        self.clock = clock

    async def announce(self, ended: Iterable[Session]) -> None:
        """Publish each event (confirmed by the broker) before the caller answers: a client
        told "logged out" finds its token refused at once. A failed publish is left to the
        sweep."""
        for session in ended:
            try:
                await self.publish(ended_event(session))
            except Exception as exc:  # the broker is away: the sweep publishes it later
                log.warning("SessionEnded unpublished (%s), left to the sweep", type(exc).__name__)
                continue
            await self.sessions.announced(session.id)

    async def sweep(self) -> None:
        """End the sessions that idled or expired, then publish every pending SessionEnded."""
        now, idle = self.clock(), timedelta(seconds=self.settings.session_idle_timeout)
        timed_out = [
            *await self.sessions.end_idle(now, idle),
            *await self.sessions.end_expired(now),
        ]
        if timed_out:
            log.info("%d idle or expired sessions ended", len(timed_out))
        await self.announce(await self.sessions.unannounced())

    async def sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:  # the sweep must outlive any one failure
                log.exception("session sweep failed")
            await asyncio.sleep(self.settings.session_sweep_seconds)

    async def ended_sessions(self, request: ListEndedSessions) -> EndedSessionsView:
        """Ended sessions whose tokens are still alive: a consumer's catch-up after a gap."""
        found = await self.sessions.ended_with_live_tokens(self.clock())
        return EndedSessionsView(
            sessions=tuple(
                EndedSession(session_id=s.id, tokens_expire_by=s.tokens_expire_by) for s in found
            )
        )
