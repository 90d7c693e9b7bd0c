from opentelemetry.sdk.trace import TracerProvider

from gosmed.contracts.topology import Service
from gosmed.feedback.settings import FeedbackSettings
from gosmed.runtime.service import ServiceRuntime, build_service


def create(
    tracer_provider: TracerProvider | None = None, settings: FeedbackSettings | None = None
) -> ServiceRuntime:
    return build_service(
        Service.FEEDBACK, settings or FeedbackSettings(), tracer_provider=tracer_provider
    )
