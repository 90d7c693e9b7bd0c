"""The demo clinics answer corrections: the decision, and a run on the real broker against an
in-process records service."""

import asyncio
import time
from contextlib import suppress
from datetime import UTC, date, datetime
from uuid import UUID, uuid4

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel

from gosmed.contracts import topology
from gosmed.contracts.demo import PATIENT
from gosmed.contracts.records.corrections import (
    ChangeView,
    CorrectionChanges,
    CorrectionRequested,
    CorrectionStatus,
)
from gosmed.records.correction_rules import Correction
from gosmed.records.correction_simulator import (
    CHECKED,
    NOT_OURS,
    OTHER_CLINIC,
    answer_pending,
    decide,
    demo_records,
    silent_clinic,
    watch,
)
from gosmed.records.corrections_repository import CorrectionsRepository
from gosmed.records.domain import record_id
from gosmed.records.simulator import DEMO_COUNT, Catalogue, history, publish, reports
from gosmed.runtime.service import ServiceRuntime
from gosmed.runtime.testing import clinic_connection


def request_of(
    clinic: UUID, clinic_record_id: str, *, reject: bool, **changes: object
) -> CorrectionRequested:
    ident = uuid4()
    while (ident.int % 4 == 0) != reject:
        ident = uuid4()
    return CorrectionRequested(
        correction_id=ident,
        number="И-20251029-000000",
        organization_id=clinic,
        record_id=record_id(clinic, clinic_record_id),
        clinic_record_id=clinic_record_id,
        version=1,
        patient_snils=PATIENT.snils,
        changes=CorrectionChanges.model_validate(changes),
        due_on=date(2025, 11, 6),
    )


def test_decisions(catalogue: Catalogue) -> None:
    records = demo_records(catalogue)
    service = next(iter(records.values()))
    organization = catalogue.clinics[0].id

    accepted = decide(
        request_of(
            organization, service.clinic_record_id, reject=False, rendered_on=date(2025, 10, 1)
        ),
        records,
    )
    assert accepted.accepted
    assert accepted.corrected is not None
    assert accepted.corrected.rendered_on == date(2025, 10, 1)
    assert accepted.corrected.version == service.version + 1
    assert accepted.corrected.service_code == service.service_code

    assert decide(request_of(organization, service.clinic_record_id, reject=True), records) == (
        decide(request_of(organization, service.clinic_record_id, reject=True), records)
    )
    assert (
        decide(request_of(organization, service.clinic_record_id, reject=True), records).reason
        == CHECKED
    )
    assert decide(request_of(organization, "unknown", reject=False), records).reason == NOT_OURS
    moved = request_of(
        organization, service.clinic_record_id, reject=False, organization_id=uuid4()
    )
    assert decide(moved, records).reason == OTHER_CLINIC
    assert silent_clinic(catalogue) == catalogue.clinics[-1].id


@pytest.mark.parametrize("watching", [False, True], ids=["once", "watch"])
async def test_a_demo_clinic_accepts_with_the_corrected_version(
    records: ServiceRuntime,
    channel: AbstractChannel,
    amqp_url: str,
    catalogue: Catalogue,
    watching: bool,
) -> None:
    """Run once (drain the queues) or watching (`make run`): the request is answered."""
    organization = catalogue.clinics[0].id
    service = history(PATIENT, DEMO_COUNT, catalogue)[organization][0]
    await publish(amqp_url, list(reports({organization: [service]})))
    request = request_of(
        organization, service.clinic_record_id, reject=False, rendered_on=date(2025, 10, 1)
    )
    store = CorrectionsRepository(records.store.database)
    await store.insert(
        Correction(
            id=request.correction_id,
            number=request.number,
            record_id=request.record_id,
            organization_id=organization,
            patient_snils=PATIENT.snils,
            status=CorrectionStatus.SENT,
            changes=(ChangeView(field="rendered_on", current="x", proposed="2025-10-01"),),
            comment=None,
            filed_at=datetime(2025, 10, 29, tzinfo=UTC),
            due_on=request.due_on,
        )
    )
    queue = topology.clinic_queue(organization, topology.CLINIC_CORRECTIONS)
    async with clinic_connection(amqp_url, organization) as clinic:  # makes its queues
        await (await clinic.channel.get_queue(queue)).purge()
    await channel.default_exchange.publish(
        aio_pika.Message(request.model_dump_json().encode()), routing_key=queue
    )

    watcher = asyncio.create_task(watch(amqp_url, catalogue)) if watching else None
    if watcher is None:
        assert await answer_pending(amqp_url, catalogue) >= 1

    deadline = time.monotonic() + 20
    while (found := await store.get(request.correction_id)) is None or found.open:
        assert time.monotonic() < deadline, "the answer did not close the request"
        await asyncio.sleep(0.02)  # polling the store, as `eventually` polls
    if watcher is not None:
        watcher.cancel()
        with suppress(asyncio.CancelledError):
            await watcher
    assert found.status == CorrectionStatus.ACCEPTED
    kept = await records.store.database["records"].find_one({"_id": str(request.record_id)})
    assert kept is not None
    assert (kept["rendered_on"], kept["version"]) == ("2025-10-01", service.version + 1)
