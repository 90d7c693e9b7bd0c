from opentelemetry.sdk.trace import TracerProvider

from gosmed.contracts.topology import Service
from gosmed.identity.settings import IdentitySettings
from gosmed.runtime.service import ServiceRuntime, build_service


def create(
    tracer_provider: TracerProvider | None = None, settings: IdentitySettings | None = None
) -> ServiceRuntime:
    return build_service(
        Service.IDENTITY, settings or IdentitySettings(), tracer_provider=tracer_provider
    )
