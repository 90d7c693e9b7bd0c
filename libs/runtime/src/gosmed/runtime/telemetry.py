"""OpenTelemetry set-up: one tracer provider per process, OTLP export when configured."""

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter


def create_tracer_provider(
    service: str,
    *,
    otlp_endpoint: str | None = None,
    exporter: SpanExporter | None = None,
) -> TracerProvider:
    """A provider named `gosmed-<service>`; spans go to OTLP and/or to `exporter` (tests)."""
    provider = TracerProvider(resource=Resource.create({"service.name": f"gosmed-{service}"}))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{otlp_endpoint}/v1/traces"))
        )
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def install_tracer_provider(provider: TracerProvider) -> None:
    """Make `provider` the process-wide default (once per process, at start)."""
    trace.set_tracer_provider(provider)
