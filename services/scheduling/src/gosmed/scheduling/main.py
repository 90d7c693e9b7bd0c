import asyncio
from datetime import timedelta

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
        reminder_lead=timedelta(seconds=settings.reminder_lead_seconds),
    )
    handlers.register(runtime, Schedules(slots, booking), booking)
    background: list[asyncio.Task[None]] = []

    async def start() -> None:
        await rpc.connect()
        await slots.ensure_indexes()
        await appointments.ensure_indexes()
        background.append(
            asyncio.create_task(booking.remind_forever(settings.reminder_poll_seconds))
        )

    async def stop_background() -> None:
        for task in background:
            task.cancel()

    runtime.on_startup(start)
    runtime.on_stopping(stop_background)
    runtime.on_shutdown(rpc.close)
    return runtime
