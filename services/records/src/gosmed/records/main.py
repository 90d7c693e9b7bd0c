from opentelemetry.sdk.trace import TracerProvider

from gosmed.contracts.topology import Service
from gosmed.records.settings import RecordsSettings
from gosmed.runtime.service import ServiceRuntime, build_service


def create(
    tracer_provider: TracerProvider | None = None, settings: RecordsSettings | None = None
) -> ServiceRuntime:
    return build_service(
        Service.RECORDS, settings or RecordsSettings(), tracer_provider=tracer_provider
    )
