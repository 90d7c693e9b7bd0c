from opentelemetry.sdk.trace import TracerProvider

from gosmed.contracts.topology import Service
from gosmed.documents.settings import DocumentsSettings
from gosmed.runtime.service import ServiceRuntime, build_service


def create(
    tracer_provider: TracerProvider | None = None, settings: DocumentsSettings | None = None
) -> ServiceRuntime:
    return build_service(
        Service.DOCUMENTS, settings or DocumentsSettings(), tracer_provider=tracer_provider
    )
