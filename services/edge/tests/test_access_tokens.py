"""Tokens checked at the edge, on a fake RPC caller: which requests reach identity, which
tokens are taken and which refused. The feed of ended sessions is marked caught up by hand
here; tests/e2e/test_access_tokens.py runs the same on the real broker and services."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID, uuid4

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI

from gosmed.contracts.access import Role
from gosmed.contracts.base import utc_now
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.access import (
    AUTHENTICATE,
    ConfirmationLevel,
    PatientRef,
    Principal,
)
from gosmed.contracts.identity.tokens import (
    GET_JWKS,
    SESSION_ENDED,
    TOKEN_INVALID,
    AccessTokenClaims,
    Jwks,
)
from gosmed.contracts.records.queries import (
    LIST_SERVICES,
    ListRenderedServices,
    RenderedServicesPage,
)
from gosmed.edge.access_tokens import TokenVerifier
from gosmed.edge.main import create_app
from gosmed.edge.settings import EdgeSettings
from gosmed.runtime import tokens
from gosmed.runtime.testing import FakeRpc, eventually

ACCOUNT = uuid4()
SERVICES = "/api/v1/patients/me/services"


@dataclass
class Key:
    private: Ed25519PrivateKey

    @property
    def kid(self) -> str:
        return tokens.jwk_of(self.private.public_key()).kid

    def token(self, session_id: UUID | None = None, lifetime: int = 300, age: int = 0) -> str:
        issued = utc_now() - timedelta(seconds=age)
        claims = AccessTokenClaims(
            sub=ACCOUNT,
            sid=session_id or uuid4(),
            roles=frozenset({Role.CITIZEN, Role.INSURER}),
            confirmation_level=ConfirmationLevel.CONFIRMED,
            iat=int(issued.timestamp()),
            exp=int((issued + timedelta(seconds=lifetime)).timestamp()),
        )
        return tokens.sign(claims, self.private, self.kid)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


CURRENT, PREVIOUS, STRANGER = (Key(Ed25519PrivateKey.generate()) for _ in range(3))


@dataclass
class Identity:
    """The identity side of the fake: its published keys, changeable during a test."""

    rpc: FakeRpc
    keys: list[Key]

    async def jwks(self, _: object) -> Jwks:
        return Jwks(keys=tuple(tokens.jwk_of(k.private.public_key()) for k in self.keys))


async def own_services(request: ListRenderedServices) -> RenderedServicesPage:
    patient = PatientRef(
        account_id=request.context.actor_id,
        snils="112-233-445 95",
        full_name="Иванова Мария Петровна",
        birth_date=utc_now().date(),
    )
    return RenderedServicesPage(patient=patient, items=())


@pytest.fixture
def identity() -> Identity:
    fake = Identity(FakeRpc(), [CURRENT, PREVIOUS])
    fake.rpc.answer(GET_JWKS, fake.jwks)
    fake.rpc.answer(LIST_SERVICES, own_services)
    return fake


def edge(identity: Identity, jwks_min_refresh_seconds: float) -> FastAPI:
    app = create_app(EdgeSettings(jwks_min_refresh_seconds=jwks_min_refresh_seconds))
    app.state.rpc = identity.rpc  # the lifespan (which connects to the broker) does not run
    return app


def caught_up(app: FastAPI) -> TokenVerifier:
    verifier: TokenVerifier = app.state.tokens
    verifier.ended.caught_up((), utc_now())
    return verifier


@pytest.fixture
async def app(identity: Identity) -> FastAPI:
    application = edge(identity, jwks_min_refresh_seconds=0)
    caught_up(application)
    return application


def http(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://edge")


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with http(app) as client:
        yield client


async def test_authenticated_requests_make_no_call_to_identity(
    client: httpx.AsyncClient, identity: Identity
) -> None:
    session = uuid4()
    token = CURRENT.token(session)
    for _ in range(5):
        response = await client.get(SERVICES, headers=bearer(token))
        assert response.status_code == 200, response.text
    assert identity.rpc.sent(AUTHENTICATE) == []
    assert len(identity.rpc.sent(GET_JWKS)) == 1  # the keys, once
    sent = identity.rpc.sent(LIST_SERVICES)
    assert len(sent) == 5
    assert sent[0].context.actor_id == ACCOUNT
    assert sent[0].context.session_id == session
    assert sent[0].context.roles == {Role.CITIZEN, Role.INSURER}


async def test_a_token_of_the_previous_key_is_taken_during_a_rotation(
    client: httpx.AsyncClient, identity: Identity
) -> None:
    for key in (CURRENT, PREVIOUS):
        assert (await client.get(SERVICES, headers=bearer(key.token()))).status_code == 200
    assert identity.rpc.sent(AUTHENTICATE) == []


async def test_a_key_identity_starts_signing_with_is_looked_up_once(
    client: httpx.AsyncClient, identity: Identity
) -> None:
    assert (await client.get(SERVICES, headers=bearer(CURRENT.token()))).status_code == 200
    identity.keys = [STRANGER, CURRENT]  # rotated: a new signing key
    for _ in range(3):
        response = await client.get(SERVICES, headers=bearer(STRANGER.token()))
        assert response.status_code == 200, response.text
    assert len(identity.rpc.sent(GET_JWKS)) == 2
    assert identity.rpc.sent(AUTHENTICATE) == []


async def test_a_token_of_a_retired_or_unknown_key_is_refused(
    client: httpx.AsyncClient, identity: Identity
) -> None:
    identity.keys = [CURRENT]  # the previous key's tokens have all expired: retired
    for key in (PREVIOUS, STRANGER):
        response = await client.get(SERVICES, headers=bearer(key.token()))
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "unauthenticated"
        assert response.json()["detail"] == TOKEN_INVALID
    assert identity.rpc.sent(LIST_SERVICES) == []
    assert identity.rpc.sent(AUTHENTICATE) == []


async def test_unknown_keys_are_looked_up_at_most_once_per_interval(identity: Identity) -> None:
    app = edge(identity, jwks_min_refresh_seconds=60)
    caught_up(app)
    identity.rpc.fail(AUTHENTICATE, ServiceError(ErrorCode.UNAUTHENTICATED, TOKEN_INVALID))
    async with http(app) as client:
        for _ in range(3):
            response = await client.get(SERVICES, headers=bearer(STRANGER.token()))
            assert response.status_code == 401
    assert len(identity.rpc.sent(GET_JWKS)) == 1
    # within the interval identity decides on such a token
    assert len(identity.rpc.sent(AUTHENTICATE)) == 2


async def test_no_request_waits_behind_a_key_lookup_in_flight(identity: Identity) -> None:
    """While identity is slow to publish its keys (e.g. just restarting), a second token of an
    unknown key goes to identity at once: no request waits out one RPC timeout for the lookup
    and then another for its own call (seen as a 401 after 9.8 s in tests/chaos)."""
    app = edge(identity, jwks_min_refresh_seconds=0)
    caught_up(app)
    release = asyncio.Event()

    async def slow_jwks(request: object) -> Jwks:
        await release.wait()
        return await identity.jwks(request)

    identity.rpc.answer(GET_JWKS, slow_jwks)
    identity.rpc.fail(AUTHENTICATE, ServiceError(ErrorCode.UNAUTHENTICATED, TOKEN_INVALID))
    identity.keys = [STRANGER, CURRENT]
    async with http(app) as client:
        looking_up = asyncio.ensure_future(client.get(SERVICES, headers=bearer(STRANGER.token())))
        await eventually(lambda: len(identity.rpc.sent(GET_JWKS)) == 1, "the key lookup")
        async with asyncio.timeout(5):  # without the fix: waits for `release`, forever here
            second = await client.get(SERVICES, headers=bearer(STRANGER.token()))
        assert second.status_code == 401
        assert len(identity.rpc.sent(AUTHENTICATE)) == 1
        assert not looking_up.done()
        release.set()
        assert (await looking_up).status_code == 200
    assert len(identity.rpc.sent(GET_JWKS)) == 1


async def test_expired_tampered_and_malformed_tokens_are_refused(
    client: httpx.AsyncClient, identity: Identity
) -> None:
    header, payload, signature = CURRENT.token().split(".")
    for token in (
        CURRENT.token(lifetime=300, age=301),
        f"{header}.{payload}x.{signature}",
        "not-a-jwt",
    ):
        response = await client.get(SERVICES, headers=bearer(token))
        assert response.status_code == 401, token
        assert response.json()["detail"] == TOKEN_INVALID
    assert identity.rpc.sent(LIST_SERVICES) == []
    assert identity.rpc.sent(AUTHENTICATE) == []


async def test_a_token_for_another_audience_or_issued_in_the_future_is_refused(
    client: httpx.AsyncClient, identity: Identity
) -> None:
    claims = jwt.decode(CURRENT.token(), options={"verify_signature": False})
    future = utc_now() + timedelta(minutes=5)
    for changed in (
        {**claims, "aud": "gosmed-clinic-portal"},
        {k: v for k, v in claims.items() if k != "aud"},
        {k: v for k, v in claims.items() if k != "iat"},
        {**claims, "iat": int(future.timestamp()), "exp": int(future.timestamp()) + 300},
    ):
        token = jwt.encode(
            changed, CURRENT.private, algorithm="EdDSA", headers={"kid": CURRENT.kid}
        )
        response = await client.get(SERVICES, headers=bearer(token))
        assert response.status_code == 401, changed
        assert response.json()["detail"] == TOKEN_INVALID
    assert identity.rpc.sent(LIST_SERVICES) == []


async def test_a_token_of_an_announced_ended_session_is_refused(
    app: FastAPI, client: httpx.AsyncClient, identity: Identity
) -> None:
    session = uuid4()
    token = CURRENT.token(session)
    assert (await client.get(SERVICES, headers=bearer(token))).status_code == 200
    verifier: TokenVerifier = app.state.tokens
    verifier.ended.add(session, utc_now() + timedelta(seconds=300), utc_now())
    response = await client.get(SERVICES, headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["detail"] == SESSION_ENDED
    assert len(identity.rpc.sent(LIST_SERVICES)) == 1
    assert identity.rpc.sent(AUTHENTICATE) == []
    other = await client.get(SERVICES, headers=bearer(CURRENT.token()))
    assert other.status_code == 200  # other sessions are untouched


async def test_until_the_feed_has_caught_up_identity_checks_every_token(
    identity: Identity,
) -> None:
    app = edge(identity, jwks_min_refresh_seconds=0)  # not caught up
    principal = Principal(
        account_id=ACCOUNT,
        session_id=uuid4(),
        roles=frozenset({Role.CITIZEN}),
        confirmation_level=ConfirmationLevel.CONFIRMED,
    )
    identity.rpc.reply(AUTHENTICATE, principal)
    async with http(app) as client:
        token = CURRENT.token()
        assert (await client.get(SERVICES, headers=bearer(token))).status_code == 200
        assert [a.access_token for a in identity.rpc.sent(AUTHENTICATE)] == [token]
        caught_up(app)
        assert (await client.get(SERVICES, headers=bearer(token))).status_code == 200
        assert len(identity.rpc.sent(AUTHENTICATE)) == 1


async def test_the_key_set_is_public_and_cacheable(
    client: httpx.AsyncClient, identity: Identity
) -> None:
    response = await client.get("/api/v1/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=300"
    keys = response.json()["keys"]
    assert [k["kid"] for k in keys] == [CURRENT.kid, PREVIOUS.kid]
    for key in keys:
        assert set(key) == {"kty", "crv", "x", "kid", "use", "alg"}
        assert (key["kty"], key["crv"], key["use"], key["alg"]) == (
            "OKP",
            "Ed25519",
            "sig",
            "EdDSA",
        )
