"""One trace spans the edge and the services for one request (in-memory span exporter).

The edge and all six services run in this process against the real broker, sharing one
tracer provider, so every span of the request lands in one exporter.
"""

from collections.abc import AsyncIterator
from importlib import import_module

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from gosmed.contracts.system import DependencyState
from gosmed.edge.main import create_app
from gosmed.edge.settings import EdgeSettings
from gosmed.runtime.devstack import SERVICES
from gosmed.runtime.service import ServiceRuntime
from gosmed.runtime.telemetry import create_tracer_provider
from gosmed.runtime.testing import eventually


def all_up(runtimes: list[ServiceRuntime]) -> bool:
    """Every dependency a service reports beside broker and store is up (documents' renderer
    warms up in the background)."""
    return all(
        status().state is DependencyState.UP
        for runtime in runtimes
        for status in runtime.dependencies.values()
    )


@pytest.fixture
async def traced_edge(
    amqp_url: str,
) -> AsyncIterator[tuple[httpx.AsyncClient, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = create_tracer_provider("test", exporter=exporter)
    runtimes: list[ServiceRuntime] = []
    for name in SERVICES:
        module = import_module(f"gosmed.{name}.main")
        settings = import_module(f"gosmed.{name}.settings")
        settings_class = getattr(settings, f"{name.capitalize()}Settings")
        runtime: ServiceRuntime = module.create(provider, settings_class(amqp_url=amqp_url))
        await runtime.start()
        runtimes.append(runtime)
    app = create_app(EdgeSettings(amqp_url=amqp_url), tracer_provider=provider)
    try:
        async with app.router.lifespan_context(app):
            # The edge's own start-up calls (identity's keys, the ended sessions) are traces
            # of their own: wait for them, then keep only what the test's request causes.
            await eventually(lambda: app.state.session_feed.ended.complete, "edge caught up")
            await eventually(lambda: all_up(runtimes), "documents' renderer warm", seconds=60)
            exporter.clear()
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://edge") as client:
                yield client, exporter
    finally:
        for runtime in runtimes:
            await runtime.stop()


async def test_one_trace_id_across_edge_and_services(
    traced_edge: tuple[httpx.AsyncClient, InMemorySpanExporter],
) -> None:
    client, exporter = traced_edge
    response = await client.get("/readyz")
    assert response.status_code == 200

    spans = exporter.get_finished_spans()
    (request_span,) = [s for s in spans if s.kind == SpanKind.SERVER]
    trace_id = request_span.context.trace_id
    consumers = [s for s in spans if s.kind == SpanKind.CONSUMER]
    consumed_queues = {
        str((s.attributes or {}).get("messaging.rabbitmq.destination.routing_key"))
        for s in consumers
    }
    assert {f"{name}.rpc.ping" for name in SERVICES} <= consumed_queues, consumed_queues
    assert {s.context.trace_id for s in consumers} == {trace_id}
    # the service spans hang under the edge's publish spans, not under new roots
    assert all(s.parent is not None for s in consumers)
