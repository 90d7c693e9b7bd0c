"""The HTTP edge: authenticates, fans out RPCs in parallel, aggregates, answers problem+json."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace import TracerProvider

from gosmed.edge import health
from gosmed.edge.middleware import BodyLimitMiddleware, RequestIdMiddleware
from gosmed.edge.openapi import install_openapi
from gosmed.edge.problems import install_problem_handlers
from gosmed.edge.routes import ROUTERS
from gosmed.edge.settings import EdgeSettings
from gosmed.runtime.rpc import RpcClient

API_PREFIX = "/api/v1"


def create_app(
    settings: EdgeSettings | None = None, *, tracer_provider: TracerProvider | None = None
) -> FastAPI:
    settings = settings or EdgeSettings()
    rpc = RpcClient(settings.amqp_url, tracer_provider=tracer_provider)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await rpc.connect()
        yield
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
    install_problem_handlers(app)
    install_openapi(app, API_PREFIX)
    app.include_router(health.router)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)

    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID"],
        )
    app.add_middleware(RequestIdMiddleware)
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=tracer_provider, excluded_urls="/healthz"
    )
    return app
