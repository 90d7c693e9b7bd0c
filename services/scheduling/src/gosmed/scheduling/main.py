from opentelemetry.sdk.trace import TracerProvider

from gosmed.contracts.topology import Service
from gosmed.runtime.service import ServiceRuntime, build_service
from gosmed.scheduling.settings import SchedulingSettings


def create(
    tracer_provider: TracerProvider | None = None, settings: SchedulingSettings | None = None
) -> ServiceRuntime:
    return build_service(
        Service.SCHEDULING, settings or SchedulingSettings(), tracer_provider=tracer_provider
    )
