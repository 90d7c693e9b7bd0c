from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from gosmed.edge.main import create_app
from gosmed.edge.settings import EdgeSettings


@pytest.fixture
def edge_settings(amqp_url: str) -> EdgeSettings:
    return EdgeSettings(
        amqp_url=amqp_url,
        ping_timeout=0.3,
        cors_origins=["https://portal.example"],
        max_body_bytes=4096,
        max_file_body_bytes=4096,
    )


@pytest.fixture
async def app(edge_settings: EdgeSettings) -> AsyncIterator[FastAPI]:
    application = create_app(edge_settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://edge") as http:
        yield http
