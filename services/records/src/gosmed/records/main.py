import asyncio
import logging
from contextlib import suppress
from datetime import timedelta

from opentelemetry.sdk.trace import TracerProvider

from gosmed.contracts.base import utc_now
from gosmed.contracts.topology import Service
from gosmed.records import handlers, lab_handlers, prescription_handlers
from gosmed.records.attachments_repository import AttachmentsRepository
from gosmed.records.cards import Cards
from gosmed.records.cards_repository import CardsRepository
from gosmed.records.corrections import Corrections
from gosmed.records.corrections_repository import CorrectionsRepository
from gosmed.records.files import Files
from gosmed.records.files_domain import Quota
from gosmed.records.files_repository import FilesRepository
from gosmed.records.lab_results import LabResults
from gosmed.records.lab_results_repository import LabResultsRepository
from gosmed.records.ports import Documents, Identity, Registry, Sender
from gosmed.records.prescriptions import Prescriptions
from gosmed.records.prescriptions_repository import ClinicItemsRepository
from gosmed.records.repository import (
    ConsentsRepository,
    JournalRepository,
    RecordsRepository,
    SyncRepository,
)
from gosmed.records.service import Intake, Reading, Timing, give_demo_consents
from gosmed.records.settings import RecordsSettings
from gosmed.runtime.clock import moved_clock
from gosmed.runtime.crypto import configured_key_ring
from gosmed.runtime.rpc import RpcClient, ServiceClient
from gosmed.runtime.service import ServiceRuntime, build_service

log = logging.getLogger(__name__)


def create(
    tracer_provider: TracerProvider | None = None, settings: RecordsSettings | None = None
) -> ServiceRuntime:
    settings = settings or RecordsSettings()
    runtime = build_service(Service.RECORDS, settings, tracer_provider=tracer_provider)
    keys = configured_key_ring(
        settings.data_keys,
        setting="GOSMED_RECORDS_DATA_KEYS",
        production=settings.production,
        sealing="patients' files and lab values",
    )
    database = runtime.store.database
    keys = configured_key_ring(
        settings.data_keys,
        setting="GOSMED_RECORDS_DATA_KEYS",
        production=settings.production,
        sealing="patients' files and lab values",
    )
    records, consents = RecordsRepository(database), ConsentsRepository(database)
    syncs, journal = SyncRepository(database), JournalRepository(database)
    rpc = RpcClient(
        settings.amqp_url, timeout=settings.rpc_timeout, tracer_provider=tracer_provider
    )
    sender = Sender(runtime.broker, settings)
    registry = Registry(ServiceClient(Service.REGISTRY, rpc))
    cards = Cards(CardsRepository(database), registry)
    reading = Reading(
        records,
        consents,
        syncs,
        journal,
        Identity(ServiceClient(Service.IDENTITY, rpc)),
        registry,
        cards,
        sender,
        Timing(
            sync_cooldown=timedelta(seconds=settings.sync_cooldown_seconds),
            sync_answer_within=timedelta(seconds=settings.sync_answer_seconds),
        ),
    )
    corrections_store = CorrectionsRepository(database)
    attachments = AttachmentsRepository(database, keys)
    corrections = Corrections(
        corrections_store,
        attachments,
        reading,
        runtime.relay,
        clock=moved_clock(
            settings.correction_clock_offset_file,
            setting="GOSMED_RECORDS_CORRECTION_CLOCK_OFFSET_FILE",
            production=settings.production,
        ),
    )
    intake = Intake(records, syncs, runtime.relay)
    lab_store = LabResultsRepository(database, keys)
    renders = RpcClient(
        settings.amqp_url, timeout=settings.render_timeout, tracer_provider=tracer_provider
    )
    documents = Documents(ServiceClient(Service.DOCUMENTS, renders))
    lab = LabResults(lab_store, reading, cards, documents, runtime.relay)
    lab_handlers.register(runtime, lab)
    files_store = FilesRepository(database, keys)
    files = Files(files_store, reading, Quota(settings.emk_max_files, settings.emk_max_bytes))
    handlers.register(runtime, intake, reading, cards, corrections, files)
    prescribed = ClinicItemsRepository(database, "prescriptions")
    referred = ClinicItemsRepository(database, "referrals")
    prescription_handlers.register(runtime, Prescriptions(prescribed, referred, reading))
    backfill: list[asyncio.Task[None]] = []

    async def start() -> None:
        await rpc.connect()
        await renders.connect()
        await sender.declare()
        await records.ensure_indexes()
        await records.count_all()
        await syncs.ensure_indexes()
        await journal.ensure_indexes()
        await corrections_store.ensure_indexes()
        await attachments.ensure_indexes()
        await lab_store.ensure_indexes()
        await files_store.ensure_indexes()
        await prescribed.ensure_indexes()
        await referred.ensure_indexes()
        if settings.demo_data:
            await give_demo_consents(consents, utc_now())
        backfill.append(asyncio.create_task(_copy_cards(cards)))
        backfill.append(
            asyncio.create_task(_sweep_overdue(corrections, settings.correction_sweep_seconds))
        )
        backfill.append(asyncio.create_task(_erase_expired(lab, settings.lab_sweep_seconds)))

    async def stop_backfill() -> None:
        for task in backfill:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    runtime.on_startup(start)
    runtime.on_shutdown(stop_backfill)
    runtime.on_shutdown(rpc.close)
    runtime.on_shutdown(renders.close)
    return runtime


async def _copy_cards(cards: Cards) -> None:
    """The start-up copy of the registry's cards, in the background: the registry may start
    later, and until the copy is done a page completes its cards from the registry itself."""
    try:
        await cards.backfill()
    except Exception:  # the service runs on without it
        log.exception("copying the registry's cards failed; pages ask for missing ones")


async def _sweep_overdue(corrections: Corrections, every_seconds: float) -> None:
    """Escalate requests past their due day, now and every `every_seconds`."""
    while True:
        try:
            await corrections.escalate_overdue()
        except Exception:  # the next round tries again
            log.exception("escalating overdue corrections failed")
        await asyncio.sleep(every_seconds)


async def _erase_expired(lab: LabResults, every_seconds: float) -> None:
    """Erase the files of lab results past their 12 months, now and every `every_seconds`."""
    while True:
        try:
            erased = await lab.erase_expired()
            if erased:
                log.info("erased the files of %d expired lab results", erased)
        except Exception:  # the next round tries again
            log.exception("erasing expired lab results failed")
        await asyncio.sleep(every_seconds)
