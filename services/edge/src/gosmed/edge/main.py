"""The HTTP edge: authenticates, fans out RPCs in parallel, aggregates, answers problem+json."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace import TracerProvider

from gosmed.contracts.errors import ServiceError
from gosmed.contracts.identity.tokens import (
    LIST_ENDED_SESSIONS,
    EndedSessionsView,
    ListEndedSessions,
)
from gosmed.contracts.topology import Service
from gosmed.edge import health
from gosmed.edge.access_tokens import EndedSessions, KeySet, TokenVerifier
from gosmed.edge.middleware import BodyLimitMiddleware, NoStoreMiddleware, RequestIdMiddleware
from gosmed.edge.openapi import install_openapi
from gosmed.edge.problems import install_problem_handlers
from gosmed.edge.routes import ROUTERS
from gosmed.edge.session_feed import SessionFeed
from gosmed.edge.settings import EdgeSettings
from gosmed.runtime.rpc import RpcClient, ServiceClient

API_PREFIX = "/api/v1"
VERIFY_FILE_PREFIX = f"{API_PREFIX}/verify/"
"""`POST /verify/{id}` takes a document file: its body limit is `max_file_body_bytes`."""
ATTACHMENT_PATH = rf"{API_PREFIX}/patients/[^/]+/correction-attachments$"
"""A patient's file for a correction request: its body limit is `max_attachment_body_bytes`."""
EMK_UPLOAD_PATH = rf"{API_PREFIX}/patients/[^/]+/emk/files$"
"""`POST /patients/{id}/emk/files` takes a patient's file: its limit is
`max_emk_upload_body_bytes`."""
log = logging.getLogger(__name__)


def create_app(
    settings: EdgeSettings | None = None, *, tracer_provider: TracerProvider | None = None
) -> FastAPI:
    settings = settings or EdgeSettings()
    rpc = RpcClient(
        settings.amqp_url, timeout=settings.rpc_timeout, tracer_provider=tracer_provider
    )
    keys = KeySet(settings.jwks_min_refresh_seconds)
    ended = EndedSessions()

    def identity() -> ServiceClient:
        return ServiceClient(Service.IDENTITY, app.state.rpc)

    async def catch_up() -> EndedSessionsView:
        return await identity().call(LIST_ENDED_SESSIONS, ListEndedSessions())

    feed = SessionFeed(settings, ended, catch_up)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await rpc.connect()
        await feed.start()
        try:
            await keys.load(identity())
        except ServiceError as exc:  # identity starts later: its keys are asked for on use
            log.warning("identity's keys not loaded at start: %s", exc.code.value)
        yield
        await feed.close()
        await rpc.close()

    app = FastAPI(
        title="gosmed edge API",
        summary="Сведения об оказанных медицинских услугах: API для клиентских приложений.",
        version=version("gosmed-edge"),
        lifespan=lifespan,
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.rpc = rpc
    app.state.tokens = TokenVerifier(keys, ended)
    app.state.session_feed = feed
    install_problem_handlers(app)
    install_openapi(app, API_PREFIX)
    app.include_router(health.router)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)

    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        larger={
            VERIFY_FILE_PREFIX: settings.max_file_body_bytes,
            ATTACHMENT_PATH: settings.max_attachment_body_bytes,
            EMK_UPLOAD_PATH: settings.max_emk_upload_body_bytes,
        },
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID"],
        )
    app.add_middleware(NoStoreMiddleware)  # outside the body limit and CORS: on their answers too
    app.add_middleware(RequestIdMiddleware)
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=tracer_provider, excluded_urls="/healthz"
    )
    return app
