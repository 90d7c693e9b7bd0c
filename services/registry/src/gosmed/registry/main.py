from opentelemetry.sdk.trace import TracerProvider

from gosmed.contracts.topology import Service
from gosmed.registry import handlers
from gosmed.registry.repository import (
    NomenclatureRepository,
    OrganizationRepository,
    SpecialistRepository,
    TariffRepository,
)
from gosmed.registry.service import Registry
from gosmed.registry.settings import RegistrySettings
from gosmed.runtime.service import ServiceRuntime, build_service


def create(
    tracer_provider: TracerProvider | None = None, settings: RegistrySettings | None = None
) -> ServiceRuntime:
    runtime = build_service(
        Service.REGISTRY, settings or RegistrySettings(), tracer_provider=tracer_provider
    )
    database = runtime.store.database
    registry = Registry(
        OrganizationRepository(database),
        SpecialistRepository(database),
        NomenclatureRepository(database),
        TariffRepository(database),
        relay=runtime.relay,
    )
    handlers.register(runtime, registry)
    return runtime
