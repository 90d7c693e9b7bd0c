from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.trace import TracerProvider

from gosmed.contracts.topology import Service
from gosmed.feedback import demo, handlers
from gosmed.feedback.repository import ReviewsRepository
from gosmed.feedback.service import Reviews
from gosmed.feedback.settings import FeedbackSettings
from gosmed.runtime.clock import moved_clock
from gosmed.runtime.rpc import RpcClient, ServiceClient
from gosmed.runtime.service import ServiceRuntime, build_service


def create(
    tracer_provider: TracerProvider | None = None, settings: FeedbackSettings | None = None
) -> ServiceRuntime:
    settings = settings or FeedbackSettings()
    clock = moved_clock(
        settings.clock_offset_file,
        setting="GOSMED_FEEDBACK_CLOCK_OFFSET_SECONDS / _FILE",
        production=settings.production,
        offset_seconds=settings.clock_offset_seconds,
    )
    runtime = build_service(Service.FEEDBACK, settings, tracer_provider=tracer_provider)
    repository = ReviewsRepository(runtime.store.database)
    runtime.relay.add(repository.outbox)
    rpc = RpcClient(
        settings.amqp_url, timeout=settings.rpc_timeout, tracer_provider=tracer_provider
    )
    reviews = Reviews(
        repository,
        ServiceClient(Service.IDENTITY, rpc),
        ServiceClient(Service.RECORDS, rpc),
        runtime.relay,
        clock=clock,
    )
    handlers.register(runtime, reviews)

    def overdue(_: CallbackOptions) -> list[Observation]:
        return [Observation(reviews.overdue)]

    metrics.get_meter("gosmed.feedback").create_observable_gauge(
        "gosmed.feedback.reviews_overdue",
        callbacks=[overdue],
        description="Reviews pending moderation past their 24-hour limit (as last counted).",
    )

    async def start() -> None:
        await rpc.connect()
        await repository.ensure_indexes()
        if settings.demo_data:
            seeded = await demo.seed(repository, clock())
            if seeded is not None:
                await runtime.relay.flush(repository.outbox, str(seeded))

    runtime.on_startup(start)
    runtime.on_shutdown(rpc.close)
    return runtime
