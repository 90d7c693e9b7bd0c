"""Intake fails after its write on 5 % of the reports and the broker delivers them again
(issue 17, item 6c): every service is stored once, announced once, and each report gives its
patient one notice."""

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from aio_pika.abc import AbstractQueue
from faststream.exceptions import NackMessage

from gosmed.contracts.demo import PATIENT
from gosmed.contracts.identity.notifications import SendNotification
from gosmed.contracts.records.intake import RecordAdded, ReportAccepted, ReportRenderedServices
from gosmed.records.domain import record_id
from gosmed.records.service import Intake
from gosmed.records.simulator import Catalogue, Clinic, history, reports
from gosmed.runtime.service import ServiceRuntime

from .test_intake import drain

REPORTS, PER_REPORT, FAIL_EVERY = 100, 5, 20  # 5 of the 100 reports fail once

Report = Callable[[Intake, ReportRenderedServices], Coroutine[Any, Any, ReportAccepted]]


@pytest.fixture
def failing_once(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Message ids whose first delivery fails after the write (the test fills it in). Asked for
    before `records`, so the service subscribes the failing handler."""
    fail: set[str] = set()
    report: Report = Intake.report

    async def report_then_fail(self: Intake, message: ReportRenderedServices) -> ReportAccepted:
        answer = await report(self, message)
        if str(message.message_id) in fail:
            fail.discard(str(message.message_id))
            raise NackMessage(requeue=True)  # as a crash before the ack: delivered again
        return answer

    monkeypatch.setattr(Intake, "report", report_then_fail)
    return fail


async def until(queue: AbstractQueue, count: int, within: float = 30.0) -> list[bytes]:
    """`count` messages from `queue`, then whatever else arrives within a second."""
    bodies: list[bytes] = []
    deadline = asyncio.get_running_loop().time() + within
    while len(bodies) < count:
        assert asyncio.get_running_loop().time() < deadline, f"{len(bodies)} of {count}"
        bodies += await drain(queue, within=0.2)
    return bodies + await drain(queue, within=1.0)


async def test_reports_failing_after_their_write_are_stored_and_announced_once(
    failing_once: set[str],
    records: ServiceRuntime,
    clinic: Clinic,
    catalogue: Catalogue,
    events: AbstractQueue,
    notifications: AbstractQueue,
) -> None:
    services = history(PATIENT, REPORTS * PER_REPORT, catalogue, clinic=catalogue.clinics[0].id)
    [(organization_id, items)] = services.items()
    batches = [
        next(reports({organization_id: items[n : n + PER_REPORT]}))
        for n in range(0, len(items), PER_REPORT)
    ]
    failing = {str(batch.message_id) for batch in batches[::FAIL_EVERY]}
    failing_once.update(failing)

    answers = await asyncio.wait_for(
        asyncio.gather(*[await clinic.send(batch) for batch in batches]), 60
    )

    assert not failing_once, "a report meant to fail was not delivered"
    by_report = {str(b.message_id): a for b, a in zip(batches, answers, strict=True)}
    assert {(a.created, a.unchanged) for m, a in by_report.items() if m in failing} == {(0, 5)}
    assert {(a.created, a.unchanged) for m, a in by_report.items() if m not in failing} == {(5, 0)}
    stored = records.store.database["records"]
    assert await stored.count_documents({}) == REPORTS * PER_REPORT
    added = [RecordAdded.model_validate_json(b) for b in await until(events, len(items))]
    assert sorted(str(e.record_id) for e in added) == sorted(
        str(record_id(organization_id, s.clinic_record_id)) for s in items
    )
    notices = [SendNotification.model_validate_json(b) for b in await until(notifications, 100)]
    assert len(notices) == REPORTS
    assert {n.recipient_snils for n in notices} == {PATIENT.snils}
