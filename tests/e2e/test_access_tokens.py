"""Access tokens checked at the edge, on the real broker and services: identity's published
keys (a rotation in progress: a current and a previous key), and a logout at one edge replica
refusing the token at another, which learns it from SessionEnded and asks identity nothing.

The stack's edge is replica A; replica B runs in this process on the same broker.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI

from gosmed.contracts import demo
from gosmed.contracts.identity.access import AUTHENTICATE
from gosmed.contracts.identity.tokens import (
    LIST_ENDED_SESSIONS,
    SESSION_ENDED,
    AccessTokenClaims,
)
from gosmed.contracts.rpc import ReplyT, RequestT, Rpc
from gosmed.edge.main import create_app
from gosmed.edge.session_feed import SessionFeed
from gosmed.edge.settings import EdgeSettings
from gosmed.runtime import tokens
from gosmed.runtime.devstack import DevStack
from gosmed.runtime.rpc import Caller
from gosmed.runtime.testing import close_connection_on_broker, eventually
from tests.e2e.identity_support import DEMO_ENV, bearer, new_session

CURRENT = Ed25519PrivateKey.generate()
PREVIOUS = Ed25519PrivateKey.generate()  # signed before the rotation; still accepted


def kid(key: Ed25519PrivateKey) -> str:
    return tokens.jwk_of(key.public_key()).kid


@pytest.fixture(scope="module")
def stack_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    keys = tmp_path_factory.mktemp("keys")
    current, previous = keys / "jwt.pem", keys / "jwt-previous.pub.pem"
    current.write_bytes(
        CURRENT.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    previous.write_bytes(
        PREVIOUS.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return {
        **DEMO_ENV,
        "GOSMED_IDENTITY_JWT_PRIVATE_KEY_PATH": str(current),
        "GOSMED_IDENTITY_JWT_ACCEPTED_KEY_PATHS": json.dumps([str(previous)]),
    }


def resigned(access_token: str, key: Ed25519PrivateKey) -> str:
    """The same claims (account, session, lifetime) signed with another key."""
    claims = AccessTokenClaims.model_validate(
        jwt.decode(access_token, options={"verify_signature": False})
    )
    return tokens.sign(claims, key, kid(key))


def test_the_key_set_is_published_with_the_signing_key_first(edge: httpx.Client) -> None:
    response = edge.get("/api/v1/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert "max-age=" in response.headers["cache-control"]
    keys = response.json()["keys"]
    assert [k["kid"] for k in keys] == [kid(CURRENT), kid(PREVIOUS)]
    assert {(k["kty"], k["crv"], k["alg"], k["use"]) for k in keys} == {
        ("OKP", "Ed25519", "EdDSA", "sig")
    }
    session = new_session(edge, demo.INSPECTOR)
    assert jwt.get_unverified_header(session["access_token"])["kid"] == kid(CURRENT)


def test_a_token_of_the_previous_key_is_taken_and_one_of_an_unknown_key_refused(
    edge: httpx.Client,
) -> None:
    session = new_session(edge, demo.OPERATOR)
    old = resigned(session["access_token"], PREVIOUS)
    assert edge.get("/api/v1/me", headers=bearer({"access_token": old})).status_code == 200
    forged = resigned(session["access_token"], Ed25519PrivateKey.generate())
    refused = edge.get("/api/v1/me", headers=bearer({"access_token": forged}))
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "unauthenticated"


class CountingCaller:
    """Replica B's RPC client, keeping the name of every RPC it sends."""

    def __init__(self, inner: Caller) -> None:
        self.inner = inner
        self.sent: list[str] = []

    async def call(self, rpc: Rpc[RequestT, ReplyT], request: RequestT) -> ReplyT:
        self.sent.append(rpc.queue)
        return await self.inner.call(rpc, request)


@pytest.fixture
async def replica(stack: DevStack, amqp_url: str) -> AsyncIterator[FastAPI]:
    """Edge replica B, caught up with identity's ended sessions."""
    app = create_app(EdgeSettings(amqp_url=amqp_url))
    app.state.rpc = CountingCaller(app.state.rpc)  # the lifespan connects the client inside
    async with app.router.lifespan_context(app):
        feed: SessionFeed = app.state.session_feed
        await eventually(lambda: feed.ended.complete, "replica B caught up")
        yield app


@pytest.fixture
async def replica_client(replica: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=replica)
    async with httpx.AsyncClient(transport=transport, base_url="http://replica-b") as client:
        yield client


async def logged_out_at_a_is_refused_at_b(
    stack: DevStack, replica: FastAPI, client: httpx.AsyncClient, person: demo.DemoPerson
) -> None:
    with httpx.Client(base_url=stack.base_url, timeout=10) as edge_a:
        session: dict[str, Any] = await asyncio.to_thread(new_session, edge_a, person)
    headers = bearer(session)
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=10) as edge_a:
        assert (await edge_a.post("/api/v1/auth/logout", headers=headers)).status_code == 204
        assert (await edge_a.get("/api/v1/me", headers=headers)).status_code == 401  # A, at once
    feed: SessionFeed = replica.state.session_feed
    session_id = UUID(session["session_id"])
    await eventually(lambda: session_id in feed.ended, "SessionEnded delivered to replica B")
    refused = await client.get("/api/v1/me", headers=headers)
    assert refused.status_code == 401
    assert refused.json()["detail"] == SESSION_ENDED


async def test_a_logout_at_one_replica_is_refused_at_another_without_asking_identity(
    stack: DevStack, replica: FastAPI, replica_client: httpx.AsyncClient
) -> None:
    await logged_out_at_a_is_refused_at_b(stack, replica, replica_client, demo.REPRESENTATIVE)
    assert AUTHENTICATE.queue not in replica.state.rpc.sent


async def test_the_feed_of_a_replica_comes_back_after_the_broker_drops_it(
    stack: DevStack, replica: FastAPI, replica_client: httpx.AsyncClient
) -> None:
    feed: SessionFeed = replica.state.session_feed
    sent: list[str] = replica.state.rpc.sent
    assert sent.count(LIST_ENDED_SESSIONS.queue) == 1
    await asyncio.to_thread(close_connection_on_broker, feed.name)
    await eventually(
        lambda: sent.count(LIST_ENDED_SESSIONS.queue) == 2 and feed.ended.complete,
        "replica B reconnected and caught up again",
    )
    await logged_out_at_a_is_refused_at_b(stack, replica, replica_client, demo.PARENT)
