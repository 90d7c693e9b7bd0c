import uvicorn

from gosmed.edge.main import create_app
from gosmed.edge.settings import EdgeSettings
from gosmed.runtime.logging import setup_logging
from gosmed.runtime.telemetry import create_tracer_provider, install_tracer_provider

settings = EdgeSettings()
setup_logging("edge", settings.log_level, settings.log_format)
provider = create_tracer_provider("edge", otlp_endpoint=settings.otlp_endpoint)
install_tracer_provider(provider)
uvicorn.run(
    create_app(settings, tracer_provider=provider),
    host=settings.host,
    port=settings.port,
    log_config=None,
    # Forwarded headers are read by the edge itself, only from GOSMED_EDGE_TRUSTED_PROXIES.
    proxy_headers=False,
    access_log=False,
    timeout_graceful_shutdown=10,
)
provider.shutdown()
