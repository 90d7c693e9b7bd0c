from opentelemetry.sdk.trace import TracerProvider

from gosmed.contracts.topology import Service
from gosmed.registry.settings import RegistrySettings
from gosmed.runtime.service import ServiceRuntime, build_service


def create(
    tracer_provider: TracerProvider | None = None, settings: RegistrySettings | None = None
) -> ServiceRuntime:
    return build_service(
        Service.REGISTRY, settings or RegistrySettings(), tracer_provider=tracer_provider
    )
