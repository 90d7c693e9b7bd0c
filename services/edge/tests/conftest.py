"""Two edges for the tests. `client` (with `app` and `rpc`): the edge on a fake RPC caller, no
broker, where identity takes the bearer token for `support.PRINCIPAL`; a test file with other
settings or another caller overrides a fixture locally. `live_client` (with `live_app` and
`edge_settings`): the edge with its lifespan, connected to the real broker of the tests' vhost."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from gosmed.contracts.identity.access import AUTHENTICATE
from gosmed.edge.main import create_app
from gosmed.edge.settings import EdgeSettings
from gosmed.runtime.testing import FakeRpc

from .support import PRINCIPAL


def http(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://edge")


@pytest.fixture
def rpc() -> FakeRpc:
    fake = FakeRpc()
    fake.reply(AUTHENTICATE, PRINCIPAL)
    return fake


@pytest.fixture
def app(rpc: FakeRpc) -> FastAPI:
    application = create_app(EdgeSettings())
    application.state.rpc = rpc  # the lifespan (which connects to the broker) does not run
    return application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with http(app) as client:
        yield client


@pytest.fixture
def edge_settings(amqp_url: str) -> EdgeSettings:
    return EdgeSettings(
        amqp_url=amqp_url,
        ping_timeout=0.3,
        cors_origins=["https://portal.example"],
        max_body_bytes=4096,
        max_file_body_bytes=4096,
        max_attachment_body_bytes=4096,
        max_emk_upload_body_bytes=4096,
    )


@pytest.fixture
async def live_app(edge_settings: EdgeSettings) -> AsyncIterator[FastAPI]:
    application = create_app(edge_settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def live_client(live_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with http(live_app) as client:
        yield client
