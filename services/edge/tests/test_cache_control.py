"""No answer of the edge may be kept by a browser, proxy or CDN (tokens, medical and personal
data), except what a route declares public itself (identity's JWK set, not an operation of
the API)."""

import re
from collections.abc import AsyncIterator
from uuid import uuid4

import httpx
import pytest
from fastapi import FastAPI

from gosmed.contracts.identity.auth import REFRESH_SESSION, SessionTokens
from gosmed.contracts.identity.tokens import GET_JWKS, Jwks
from gosmed.contracts.records.queries import LIST_SERVICES, RenderedServicesPage
from gosmed.edge.main import API_PREFIX, create_app
from gosmed.edge.settings import EdgeSettings
from gosmed.runtime.testing import FakeRpc

from .support import BEARER, PATIENT

PROBES_AND_DOCS = [("GET", p) for p in ("/healthz", "/readyz", "/openapi.json", "/docs")]


@pytest.fixture
def app(rpc: FakeRpc) -> FastAPI:
    """conftest's, with a small body limit."""
    application = create_app(EdgeSettings(max_body_bytes=4096))
    application.state.rpc = rpc  # no broker: the lifespan does not run
    return application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """conftest's, but an exception in the app is an answer 500, checked like the others."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://edge") as http:
        yield http


def operations(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) of the API (its OpenAPI document), path parameters filled in."""
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", str(uuid4()), path))
        for path, item in app.openapi()["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]


async def test_every_answer_of_every_operation_is_no_store(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    checked = 0
    for method, path in [*operations(app), *PROBES_AND_DOCS]:
        body: dict[str, object] | None = {} if method in ("POST", "PUT", "PATCH") else None
        for headers in (BEARER, {}):
            response = await client.request(method, path, headers=headers, json=body)
            assert response.headers.get("cache-control") == "no-store", (
                method,
                path,
                response.status_code,
            )
            checked += 1
    assert checked > 60, "the routes were found"


async def test_the_public_key_set_keeps_its_own_caching(
    client: httpx.AsyncClient, rpc: FakeRpc
) -> None:
    rpc.reply(GET_JWKS, Jwks(keys=()))
    response = await client.get(f"{API_PREFIX}/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["cache-control"].startswith("public, max-age=")


async def test_medical_data_and_tokens_are_no_store(
    client: httpx.AsyncClient, rpc: FakeRpc
) -> None:
    rpc.reply(LIST_SERVICES, RenderedServicesPage(patient=PATIENT, items=()))
    services = await client.get(f"{API_PREFIX}/patients/me/services", headers=BEARER)
    assert services.status_code == 200
    assert services.headers["cache-control"] == "no-store"
    tokens = SessionTokens(
        session_id=uuid4(), access_token="a.b.c", refresh_token="r" * 20, expires_in=300
    )
    rpc.reply(REFRESH_SESSION, tokens)
    refreshed = await client.post(f"{API_PREFIX}/auth/refresh", json={"refresh_token": "r" * 20})
    assert refreshed.status_code == 200
    assert refreshed.headers["cache-control"] == "no-store"


async def test_errors_and_refused_bodies_are_no_store(client: httpx.AsyncClient) -> None:
    too_large = await client.post(f"{API_PREFIX}/auth/login", content=b"x" * 5000)
    assert too_large.status_code == 413
    assert too_large.headers["cache-control"] == "no-store"
    unknown = await client.get(f"{API_PREFIX}/no-such-route")
    assert unknown.status_code == 404
    assert unknown.headers["cache-control"] == "no-store"
