"""Access tokens checked at the edge: the claims identity signs, the keys it publishes (a JWK
set, RFC 7517) and the sessions it announces as ended, so that a logged-out token is refused
on its next request although its signature and lifetime are still good.
"""

from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from gosmed.contracts.access import Role
from gosmed.contracts.base import Contract, Message
from gosmed.contracts.identity.access import ConfirmationLevel, Principal
from gosmed.contracts.rpc import Rpc
from gosmed.contracts.topology import Service, event_key

ISSUER: Literal["gosmed-identity"] = "gosmed-identity"
# Who an access token is for: gosmed's client API (the edge, and identity's `authenticate`).
# A token of identity's for anything else must not open it.
AUDIENCE: Literal["gosmed-api"] = "gosmed-api"
ALGORITHM = "EdDSA"
# What the edge and identity answer for a token they refuse.
TOKEN_INVALID = "Токен доступа недействителен или истёк."  # noqa: S105 (a message)
SESSION_ENDED = "Сеанс завершён или истёк. Войдите снова."


class AccessTokenClaims(Contract):
    """The payload of an access token (a JWT signed with EdDSA, its key named by `kid` in the
    header): everything the edge needs to build the `Principal`. Roles and confirmation level
    are as of the token's issue; rights are decided by identity's `authorize` on every request."""

    iss: Literal["gosmed-identity"] = ISSUER
    aud: Literal["gosmed-api"] = Field(default=AUDIENCE, description="Audience: gosmed's API.")
    sub: UUID = Field(description="Account id.")
    sid: UUID = Field(description="Server-side session id.")
    roles: frozenset[Role]
    confirmation_level: ConfirmationLevel
    iat: int = Field(description="Issued at, seconds since the epoch.")
    exp: int = Field(description="Expires at, seconds since the epoch.")

    def principal(self) -> Principal:
        return Principal(
            account_id=self.sub,
            session_id=self.sid,
            roles=self.roles,
            confirmation_level=self.confirmation_level,
        )


class Jwk(Contract):
    """One public key of identity (RFC 8037: an Ed25519 key as an OKP JWK); `kid` is its
    RFC 7638 thumbprint."""

    kty: Literal["OKP"] = "OKP"
    crv: Literal["Ed25519"] = "Ed25519"
    x: str = Field(description="The public key, base64url without padding.")
    kid: str
    use: Literal["sig"] = "sig"
    alg: Literal["EdDSA"] = "EdDSA"


class Jwks(Contract):
    """The keys an access token may be signed with now: the signing key first, then the keys
    still accepted during a rotation."""

    keys: tuple[Jwk, ...]


class GetJwks(Message):
    """Ask identity for its public keys (the edge: at start and on an unknown `kid`)."""


class SessionEndReason(StrEnum):
    LOGOUT = "logout"
    REVOKED = "revoked"
    REFRESH_REUSED = "refresh_reused"
    IDLE_TIMEOUT = "idle_timeout"
    ABSOLUTE_TIMEOUT = "absolute_timeout"


class SessionEnded(Message):
    """A session ended: its access tokens must be refused from now on. Published to
    `gosmed.events` as `identity.session-ended.v1`."""

    session_id: UUID
    account_id: UUID
    reason: SessionEndReason
    ended_at: AwareDatetime
    tokens_expire_by: AwareDatetime = Field(
        description="No access token of the session is valid after this: a consumer keeps the "
        "session id until then, and may forget it afterwards."
    )


class ListEndedSessions(Message):
    """Every ended session whose access tokens have not all expired yet: what a consumer of
    SessionEnded asks for after a gap (its start, a broker reconnect)."""


class EndedSession(Contract):
    session_id: UUID
    tokens_expire_by: AwareDatetime


class EndedSessionsView(Contract):
    sessions: tuple[EndedSession, ...]


SESSION_ENDED_EVENT = event_key(Service.IDENTITY, "session-ended")
GET_JWKS = Rpc(Service.IDENTITY, "get-jwks", GetJwks, Jwks)
LIST_ENDED_SESSIONS = Rpc(
    Service.IDENTITY, "list-ended-sessions", ListEndedSessions, EndedSessionsView
)
