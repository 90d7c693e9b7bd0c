"""Intake on the real broker: clinic reports are stored once, versioned, announced, and
invalid ones dead-lettered with every reason while the consumer goes on."""

import asyncio
import json
import logging

import pytest
from aio_pika.abc import AbstractChannel, AbstractQueue

from gosmed.contracts import topology
from gosmed.contracts.demo import CHILD_OVER_15, PATIENT
from gosmed.contracts.identity.notifications import SEND_NOTIFICATION, SendNotification
from gosmed.contracts.limits import DEFAULT_MESSAGE_BYTES, REPORT_MESSAGE_BYTES
from gosmed.contracts.records.intake import (
    RENDERED_SERVICES,
    RecordAdded,
    ReportRenderedServices,
)
from gosmed.contracts.records.views import Cost, CostKind
from gosmed.records.domain import record_id
from gosmed.records.simulator import Catalogue, Clinic, history, reports
from gosmed.runtime.service import ServiceRuntime
from gosmed.runtime.testing import poll_next_message

Service = topology.Service
NOTIFY_QUEUE = topology.command_queue(Service.IDENTITY, SEND_NOTIFICATION)
REPORTS_QUEUE = topology.command_queue(Service.RECORDS, RENDERED_SERVICES)


async def drain(queue: AbstractQueue, within: float = 1.0) -> list[bytes]:
    bodies: list[bytes] = []
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        message = await queue.get(fail=False, no_ack=True)
        if message is None:
            await asyncio.sleep(0.05)
        else:
            bodies.append(message.body)
    return bodies


def one_report(catalogue: Catalogue, count: int = 3, prefix: str = "t") -> ReportRenderedServices:
    services = history(PATIENT, count, catalogue, clinic=catalogue.clinics[0].id, prefix=prefix)
    return next(reports(services))


async def test_report_is_stored_announced_and_answered(
    records: ServiceRuntime,
    clinic: Clinic,
    catalogue: Catalogue,
    events: AbstractQueue,
    notifications: AbstractQueue,
) -> None:
    report = one_report(catalogue, count=3)

    accepted = await asyncio.wait_for(await clinic.send(report), 10)

    assert (accepted.created, accepted.updated, accepted.unchanged) == (3, 0, 0)
    stored = await records.store.database["records"].count_documents({})
    assert stored == 3
    added = [RecordAdded.model_validate_json(b) for b in await drain(events)]
    assert {e.record_id for e in added} == {
        record_id(report.organization_id, s.clinic_record_id) for s in report.services
    }
    notices = [SendNotification.model_validate_json(b) for b in await drain(notifications)]
    assert len(notices) == 1  # one notice per patient per report
    assert notices[0].recipient_snils == PATIENT.snils
    assert "3" in notices[0].body


async def test_same_message_twice_gives_one_record_and_one_announcement(
    records: ServiceRuntime,
    clinic: Clinic,
    catalogue: Catalogue,
    events: AbstractQueue,
    notifications: AbstractQueue,
) -> None:
    report = one_report(catalogue, count=2)
    first = await asyncio.wait_for(await clinic.send(report), 10)
    again = await asyncio.wait_for(await clinic.send(report), 10)

    assert first.created == 2
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert await records.store.database["records"].count_documents({}) == 2
    assert len(await drain(events)) == 2
    assert len(await drain(notifications)) == 1


async def test_newer_version_updates_and_keeps_history_older_changes_nothing(
    records: ServiceRuntime, clinic: Clinic, catalogue: Catalogue, notifications: AbstractQueue
) -> None:
    report = one_report(catalogue, count=1)
    item = report.services[0]
    newer = item.model_copy(
        update={"version": 2, "cost": Cost(kind=CostKind.EXACT, amount=250_000)}
    )
    await asyncio.wait_for(await clinic.send(report), 10)
    updated = await asyncio.wait_for(
        await clinic.send(report.model_copy(update={"services": (newer,)})), 10
    )
    stale = await asyncio.wait_for(await clinic.send(report), 10)

    assert updated.updated == 1
    assert stale.unchanged == 1
    ident = str(record_id(report.organization_id, item.clinic_record_id))
    current = await records.store.database["records"].find_one({"_id": ident})
    assert current is not None
    assert current["version"] == 2
    assert current["cost"] == {"kind": "exact", "amount": 250_000, "comment": None}
    versions = records.store.database["record_versions"].find({"record_id": ident})
    assert sorted([v["version"] async for v in versions]) == [1, 2]


async def test_invalid_report_is_dead_lettered_with_every_reason_and_the_clinic_told(
    records: ServiceRuntime,
    clinic: Clinic,
    channel: AbstractChannel,
    catalogue: Catalogue,
    notifications: AbstractQueue,
) -> None:
    dead = await channel.declare_queue(
        topology.dead_letter_queue(REPORTS_QUEUE),
        durable=True,
        passive=True,
    )
    body = json.loads(one_report(catalogue, count=2).model_dump_json())
    body["services"][0]["patient_snils"] = "11223344500"
    body["services"][1]["diagnosis"] = {"code": "J6X", "text": "?"}

    with pytest.raises(RuntimeError, match="report rejected"):
        await asyncio.wait_for(await clinic.send_json(json.dumps(body).encode(), "bad-1"), 10)

    message = await poll_next_message(dead, within=5)
    reason = str((message.headers or {})[topology.HEADER_ERROR_REASON])
    assert "services.0.patient_snils: контрольное число СНИЛС не совпадает" in reason
    assert "services.1.diagnosis.code: код МКБ-10 должен иметь вид" in reason
    assert message.message_id == "bad-1"
    assert await records.store.database["records"].count_documents({}) == 0
    # the consumer goes on
    accepted = await asyncio.wait_for(await clinic.send(one_report(catalogue, prefix="ok")), 10)
    assert accepted.created == 3


async def test_report_whose_reply_queue_is_gone_is_stored_and_its_answer_dropped(
    records: ServiceRuntime,
    clinic: Clinic,
    channel: AbstractChannel,
    catalogue: Catalogue,
    notifications: AbstractQueue,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="gosmed.runtime.broker")
    dead = await channel.declare_queue(
        topology.dead_letter_queue(REPORTS_QUEUE), durable=True, passive=True
    )
    # The clinic's reply queue is gone (removed by the clinic) before records answered.
    gone = topology.clinic_queue(clinic.organization_id, "gone")
    report = one_report(catalogue, count=2)
    await clinic.send_json(report.model_dump_json().encode(), str(report.message_id), reply_to=gone)

    async with asyncio.timeout(5):
        while not (logged := [r for r in caplog.records if REPORTS_QUEUE in r.getMessage()]):
            await asyncio.sleep(0.05)
    assert logged[0].levelno == logging.WARNING
    assert gone in logged[0].getMessage()
    assert await records.store.database["records"].count_documents({}) == 2
    assert await dead.get(fail=False) is None
    # the consumer goes on, and the clinic re-sending the report learns it was kept
    again = await asyncio.wait_for(await clinic.send(report), 10)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


async def test_report_over_its_queue_limit_is_dead_lettered_unread_and_a_large_one_stored(
    records: ServiceRuntime,
    clinic: Clinic,
    channel: AbstractChannel,
    catalogue: Catalogue,
    notifications: AbstractQueue,
) -> None:
    dead = await channel.declare_queue(
        topology.dead_letter_queue(REPORTS_QUEUE), durable=True, passive=True
    )
    too_large = b" " * (REPORT_MESSAGE_BYTES + 1)

    with pytest.raises(RuntimeError, match="Сообщение слишком большое"):
        await asyncio.wait_for(await clinic.send_json(too_large, "huge-1"), 10)

    message = await poll_next_message(dead, within=5)
    assert message.message_id == "huge-1"
    assert (message.headers or {})[topology.HEADER_ERROR_CODE] == "message_too_large"
    # a report larger than the default limit of other queues is read as usual
    wordy = ("Подробно описанная процедура " * 10,) * 50
    report = one_report(catalogue, count=60, prefix="wordy")
    report = report.model_copy(
        update={
            "services": tuple(s.model_copy(update={"procedures": wordy}) for s in report.services)
        }
    )
    assert len(report.model_dump_json().encode()) > DEFAULT_MESSAGE_BYTES
    accepted = await asyncio.wait_for(await clinic.send(report), 10)
    assert accepted.created == 60


def test_history_spans_three_years_all_categories_and_every_payment(catalogue: Catalogue) -> None:
    items = [s for batch in history(CHILD_OVER_15, 120, catalogue).values() for s in batch]
    assert len({s.category for s in items}) == 8
    assert len({(s.cost.kind, s.coverage.kind) for s in items}) >= 5
    assert (max(s.rendered_on for s in items) - min(s.rendered_on for s in items)).days > 900
    assert len({s.clinic_record_id for s in items}) == 120
    assert items == [s for batch in history(CHILD_OVER_15, 120, catalogue).values() for s in batch]
