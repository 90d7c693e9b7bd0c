from datetime import timedelta

from opentelemetry.sdk.trace import TracerProvider

from gosmed.contracts.base import utc_now
from gosmed.contracts.topology import Service
from gosmed.records import handlers
from gosmed.records.ports import Identity, Outbox, Registry
from gosmed.records.repository import (
    ConsentsRepository,
    JournalRepository,
    RecordsRepository,
    SyncRepository,
)
from gosmed.records.service import Intake, Reading, Timing, give_demo_consents
from gosmed.records.settings import RecordsSettings
from gosmed.runtime.rpc import RpcClient
from gosmed.runtime.service import ServiceRuntime, build_service


def create(
    tracer_provider: TracerProvider | None = None, settings: RecordsSettings | None = None
) -> ServiceRuntime:
    settings = settings or RecordsSettings()
    runtime = build_service(Service.RECORDS, settings, tracer_provider=tracer_provider)
    database = runtime.store.database
    records, consents = RecordsRepository(database), ConsentsRepository(database)
    syncs, journal = SyncRepository(database), JournalRepository(database)
    rpc = RpcClient(settings.amqp_url, tracer_provider=tracer_provider)
    outbox = Outbox(runtime.broker, settings)
    reading = Reading(
        records,
        consents,
        syncs,
        journal,
        Identity(rpc, settings.rpc_timeout),
        Registry(rpc, settings.rpc_timeout),
        outbox,
        Timing(
            sync_cooldown=timedelta(seconds=settings.sync_cooldown_seconds),
            sync_answer_within=timedelta(seconds=settings.sync_answer_seconds),
        ),
    )
    handlers.register(runtime, Intake(records, syncs, outbox), reading)

    async def start() -> None:
        await rpc.connect()
        await outbox.declare()
        await records.ensure_indexes()
        await records.count_all()
        await syncs.ensure_indexes()
        await journal.ensure_indexes()
        if settings.demo_data:
            await give_demo_consents(consents, utc_now())

    runtime.on_startup(start)
    runtime.app.after_shutdown(rpc.close)  # once in-flight messages are done
    return runtime
