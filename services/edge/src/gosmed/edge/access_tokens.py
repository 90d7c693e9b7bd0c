"""Access tokens checked at the edge, without a call to identity per request.

A token is taken when identity's key (by `kid`) signed it, it has not expired, and identity
has not announced its session as ended. The edge vouches for that last part only while its
feed of SessionEnded is connected and caught up (`EndedSessions.complete`); otherwise, and
when a token names a key that may not be looked up again yet, identity decides
(`authenticate`), as it did for every request before.
"""

import asyncio
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from uuid import UUID

from gosmed.contracts.base import utc_now
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.access import Principal
from gosmed.contracts.identity.tokens import (
    GET_JWKS,
    SESSION_ENDED,
    TOKEN_INVALID,
    EndedSession,
    GetJwks,
)
from gosmed.runtime import tokens
from gosmed.runtime.rpc import ServiceClient

PRUNE_EVERY = timedelta(minutes=1)


class KeySet:
    """Identity's public keys by `kid`: loaded at start, and again when a token names a key
    not known yet, at most once per `min_interval` seconds (made-up key ids cost identity
    one call per interval, not one per request). No request waits behind another's lookup."""

    def __init__(self, min_interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.min_interval = min_interval
        self._clock = clock
        self._keys: tokens.Keys = {}
        self._loaded_at: float | None = None
        self._lock = asyncio.Lock()

    async def load(self, identity: ServiceClient) -> None:
        self._loaded_at = self._clock()  # a failed load counts too: identity is not hammered
        self._keys = tokens.keys_of(await identity.call(GET_JWKS, GetJwks()))

    async def keys_for(self, kid: str, identity: ServiceClient) -> tokens.Keys | None:
        """The current keys, looked up again if `kid` is not among them; None when it is
        unknown and may not be looked up yet."""
        if kid in self._keys:
            return self._keys
        if self._lock.locked():
            # A lookup is in flight (identity may be slow or down): identity decides on this
            # token in one call, rather than this request waiting out that lookup first and
            # then, should it fail, calling identity again (two RPC timeouts in a row).
            return None
        async with self._lock:  # one lookup for a burst of tokens of a new key
            if kid in self._keys:
                return self._keys
            if self._loaded_at is not None and self._clock() - self._loaded_at < self.min_interval:
                return None
            await self.load(identity)
        return self._keys


class EndedSessions:
    """Sessions identity announced as ended, each kept until its last token expires. The set
    is `complete` only while the feed is connected and has caught up after its last gap."""

    def __init__(self) -> None:
        self._until: dict[UUID, datetime] = {}
        self._next_prune = utc_now()
        self.complete = False

    def __contains__(self, session_id: UUID) -> bool:
        return session_id in self._until

    def add(self, session_id: UUID, tokens_expire_by: datetime, now: datetime) -> None:
        if tokens_expire_by > now:
            self._until[session_id] = max(tokens_expire_by, self._until.get(session_id, now))
        if now >= self._next_prune:
            self._until = {s: until for s, until in self._until.items() if until > now}
            self._next_prune = now + PRUNE_EVERY

    def caught_up(self, sessions: Iterable[EndedSession], now: datetime) -> None:
        """Identity's list of ended sessions after a gap: from now on the set is complete."""
        for session in sessions:
            self.add(session.session_id, session.tokens_expire_by, now)
        self.complete = True

    def interrupt(self) -> None:
        """The feed lost its connection: announcements may be missed until it catches up."""
        self.complete = False


class TokenVerifier:
    def __init__(
        self, keys: KeySet, ended: EndedSessions, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.keys = keys
        self.ended = ended
        self.clock = clock

    async def principal(self, token: str, identity: ServiceClient) -> Principal | None:
        """The person behind a token checked here, or None when this replica cannot vouch
        for it now (then identity must); an invalid token or an ended session is refused."""
        if not self.ended.complete:
            return None
        kid = tokens.key_id(token)
        if kid is None:
            raise ServiceError(ErrorCode.UNAUTHENTICATED, TOKEN_INVALID)
        keys = await self.keys.keys_for(kid, identity)
        if keys is None:
            return None
        claims = tokens.verify(token, keys, self.clock())
        if claims is None:
            raise ServiceError(ErrorCode.UNAUTHENTICATED, TOKEN_INVALID)
        if claims.sid in self.ended:
            raise ServiceError(ErrorCode.UNAUTHENTICATED, SESSION_ENDED)
        return claims.principal()
