from opentelemetry.sdk.trace import TracerProvider

from gosmed.contracts.base import utc_now
from gosmed.contracts.topology import Service
from gosmed.runtime.rpc import RpcClient, ServiceClient
from gosmed.runtime.service import ServiceRuntime, build_service
from gosmed.scheduling import handlers
from gosmed.scheduling.ports import Identity, Registry
from gosmed.scheduling.repository import AppointmentsRepository, SlotsRepository
from gosmed.scheduling.service import Booking, Schedules
from gosmed.scheduling.settings import SchedulingSettings


def create(
    tracer_provider: TracerProvider | None = None, settings: SchedulingSettings | None = None
) -> ServiceRuntime:
    settings = settings or SchedulingSettings()
    runtime = build_service(Service.SCHEDULING, settings, tracer_provider=tracer_provider)
    slots = SlotsRepository(runtime.store.database)
    appointments = AppointmentsRepository(runtime.store.database)
    runtime.relay.add(appointments.outbox)
    rpc = RpcClient(
        settings.amqp_url, timeout=settings.rpc_timeout, tracer_provider=tracer_provider
    )
    booking = Booking(
        slots,
        appointments,
        Identity(ServiceClient(Service.IDENTITY, rpc)),
        Registry(ServiceClient(Service.REGISTRY, rpc)),
        runtime.relay,
        clock=utc_now,
    )
    handlers.register(runtime, Schedules(slots), booking)

    async def start() -> None:
        await rpc.connect()
        await slots.ensure_indexes()
        await appointments.ensure_indexes()

    runtime.on_startup(start)
    runtime.app.after_shutdown(rpc.close)
    return runtime
