"""Corrections end to end: the patient disputes a record through the edge, the clinic gets
the request on its own queue and answers through the clinics' door (accepting with a new
version of the record, or rejecting with a reason); the patient reads the outcome in the list,
the record's detail and the inbox."""

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import aio_pika
import httpx
import pytest

from gosmed.contracts import demo, topology
from gosmed.contracts.records.corrections import (
    CORRECTION_ANSWERS,
    CORRECTION_ATTACHMENTS,
    MAX_ATTACHMENT_BYTES,
    AnswerCorrection,
    CorrectionAttachmentFile,
    CorrectionRequested,
    FetchCorrectionAttachment,
)
from gosmed.contracts.records.intake import ReportRenderedServices
from gosmed.records.domain import record_id
from gosmed.records.simulator import Catalogue, history, publish, reports
from gosmed.runtime.testing import clinic_connection
from tests.conftest import free_port
from tests.e2e.identity_support import DEMO_ENV, login, patient_id
from tests.e2e.mail_support import Mailbox, letter_about, serve_mailbox

CATALOGUE = Catalogue.demo()
CLINIC, OTHER_CLINIC = CATALOGUE.clinics[0].id, CATALOGUE.clinics[1].id
ANSWERS = topology.command_queue(topology.Service.RECORDS, CORRECTION_ANSWERS)
REQUESTS = topology.clinic_queue(CLINIC, topology.CLINIC_CORRECTIONS)
SMTP_PORT = free_port()
CLOCK_FILE = Path(f"/tmp/gosmed-corrections-clock-{uuid.uuid4().hex[:8]}")


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    yield from serve_mailbox(SMTP_PORT)


@pytest.fixture
def moved_clock() -> Iterator[Path]:
    """The clock of corrections, moved by the seconds written to the file; back after."""
    CLOCK_FILE.write_text("0")
    yield CLOCK_FILE
    CLOCK_FILE.write_text("0")


@pytest.fixture(scope="module")
def stack_env(mailbox: Mailbox) -> dict[str, str]:
    return {
        **DEMO_ENV,
        "GOSMED_IDENTITY_SMTP_PORT": str(SMTP_PORT),
        "GOSMED_IDENTITY_DELIVERY_POLL_SECONDS": "0.2",
        "GOSMED_RECORDS_CORRECTION_CLOCK_OFFSET_FILE": str(CLOCK_FILE),
        "GOSMED_RECORDS_CORRECTION_SWEEP_SECONDS": "0.5",
    }


def report_one(amqp_url: str) -> ReportRenderedServices:
    """A new record of the demo patient from the first demo clinic, stored by records."""
    services = history(demo.PATIENT, 1, CATALOGUE, clinic=CLINIC, prefix=uuid.uuid4().hex[:8])
    report = next(reports(services))
    asyncio.run(publish(amqp_url, [report]))
    return report


def path_of(report: ReportRenderedServices, patient: str = "me") -> str:
    ident = record_id(report.organization_id, report.services[0].clinic_record_id)
    return f"/api/v1/patients/{patient}/services/{ident}"


async def take_request(amqp_url: str, correction_id: str) -> CorrectionRequested:
    """The request as the clinic reads it from its own queue (others left by earlier tests
    are skipped)."""
    async with clinic_connection(amqp_url, CLINIC) as clinic:
        queue = await clinic.channel.get_queue(REQUESTS)
        for _ in range(500):
            message = await queue.get(fail=False, no_ack=True)
            if message is None:
                await asyncio.sleep(0.02)
                continue
            request = CorrectionRequested.model_validate_json(message.body)
            if str(request.correction_id) == correction_id:
                return request
    raise AssertionError("the clinic got no CorrectionRequested")


async def answer_as(amqp_url: str, organization_id: UUID, answer: AnswerCorrection) -> None:
    async with clinic_connection(amqp_url, organization_id) as clinic:
        door = await clinic.channel.get_exchange(topology.CLINIC_INTAKE_EXCHANGE, ensure=False)
        await door.publish(
            aio_pika.Message(
                answer.model_dump_json().encode(),
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=str(answer.message_id),
                user_id=clinic.user,
            ),
            routing_key=ANSWERS,
            mandatory=True,
        )


async def dead_letter_of(amqp_url: str, message_id: str) -> dict[str, Any]:
    """The headers of the dead letter of the answer `message_id`."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(topology.dead_letter_queue(ANSWERS))
        for _ in range(500):
            message = await queue.get(fail=False, no_ack=True)
            if message is None:
                await asyncio.sleep(0.02)
            elif message.message_id == message_id:
                return dict(message.headers)
    raise AssertionError("no dead letter")


async def fetch_as(
    amqp_url: str, organization_id: UUID, correction_id: str, attachment_id: str
) -> tuple[bool, bytes]:
    """A clinic asks for a request's file through the door: (answered with the file, bytes or
    the error's body)."""
    fetch = FetchCorrectionAttachment(
        correction_id=UUID(correction_id), attachment_id=UUID(attachment_id)
    )
    async with clinic_connection(amqp_url, organization_id) as clinic:
        replies = await clinic.channel.get_queue(
            topology.clinic_queue(organization_id, topology.CLINIC_REPLIES)
        )
        door = await clinic.channel.get_exchange(topology.CLINIC_INTAKE_EXCHANGE, ensure=False)
        correlation_id = uuid.uuid4().hex
        await door.publish(
            aio_pika.Message(
                fetch.model_dump_json().encode(),
                content_type="application/json",
                message_id=str(fetch.message_id),
                correlation_id=correlation_id,
                reply_to=replies.name,
                user_id=clinic.user,
            ),
            routing_key=topology.command_queue(topology.Service.RECORDS, CORRECTION_ATTACHMENTS),
            mandatory=True,
        )
        for _ in range(500):
            message = await replies.get(fail=False, no_ack=True)
            if message is None:
                await asyncio.sleep(0.02)
            elif message.correlation_id == correlation_id:
                if (message.headers or {}).get(topology.HEADER_REPLY_STATUS):
                    return False, message.body
                return True, CorrectionAttachmentFile.model_validate_json(message.body).content
    raise AssertionError("no answer to FetchCorrectionAttachment")


def correction(edge: httpx.Client, ident: str, until: str) -> dict[str, Any]:
    """The request once its status is `until` (the answer travels through the broker)."""
    headers = login(edge, demo.PATIENT)
    for _ in range(500):  # 10 s
        response = edge.get(f"/api/v1/patients/me/corrections/{ident}", headers=headers)
        assert response.status_code == 200, response.text
        if response.json()["status"] == until:
            found: dict[str, Any] = response.json()
            return found
        asyncio.run(asyncio.sleep(0.02))
    raise AssertionError(f"the request did not become {until}")


def test_file_then_the_clinic_accepts_with_a_new_version(
    edge: httpx.Client, amqp_url: str, mailbox: Mailbox
) -> None:
    report = report_one(amqp_url)
    wrong = report.services[0]
    headers = login(edge, demo.PATIENT)
    body = {"changes": {"rendered_on": "2025-10-01"}, "comment": "Приём был 1 октября"}

    filed = edge.post(f"{path_of(report)}/corrections", json=body, headers=headers)
    second = edge.post(f"{path_of(report)}/corrections", json=body, headers=headers)
    stranger = edge.post(
        f"{path_of(report, patient_id(demo.PATIENT))}/corrections",
        json=body,
        headers=login(edge, demo.CHILD_OVER_15),
    )

    assert filed.status_code == 201, filed.text
    view = filed.json()
    assert view["status"] == "sent"
    assert view["changes"] == [
        {"field": "rendered_on", "current": wrong.rendered_on.isoformat(), "proposed": "2025-10-01"}
    ]
    assert view["due_on"] > view["filed_at"][:10]
    assert (second.status_code, second.json()["code"]) == (409, "conflict")
    assert stranger.status_code == 404, stranger.text
    request = asyncio.run(take_request(amqp_url, view["id"]))
    assert (request.clinic_record_id, request.number) == (wrong.clinic_record_id, view["number"])
    assert request.changes.rendered_on is not None

    # another clinic may not answer: its answer is dead-lettered with the reason
    intruder = AnswerCorrection(correction_id=request.correction_id, accepted=True)
    asyncio.run(answer_as(amqp_url, OTHER_CLINIC, intruder))
    headers_of_dead = asyncio.run(dead_letter_of(amqp_url, str(intruder.message_id)))
    assert headers_of_dead[topology.HEADER_ERROR_CODE] == "organization_mismatch"
    still = edge.get(f"/api/v1/patients/me/corrections/{view['id']}", headers=headers)
    assert still.json()["status"] == "sent"  # refused at the door, the request stays open

    # the clinic sends the corrected version through the normal intake, then accepts
    corrected = wrong.model_copy(
        update={"version": wrong.version + 1, "rendered_on": request.changes.rendered_on}
    )
    asyncio.run(
        publish(
            amqp_url,
            [report.model_copy(update={"services": (corrected,), "message_id": uuid.uuid4()})],
        )
    )
    accept = AnswerCorrection(correction_id=request.correction_id, accepted=True)
    asyncio.run(answer_as(amqp_url, CLINIC, accept))

    closed = correction(edge, view["id"], "accepted")
    assert closed["answered_at"] is not None
    assert closed["overdue"] is False
    listed = edge.get("/api/v1/patients/me/services", headers=headers).json()
    [item] = [i for i in listed["items"] if i["id"] == view["record_id"]]
    assert item["rendered_on"] == "2025-10-01"
    detail = edge.get(path_of(report), headers=headers).json()
    assert [v["version"] for v in detail["history"]] == [wrong.version, wrong.version + 1]
    assert [(c["id"], c["status"]) for c in detail["corrections"]] == [(view["id"], "accepted")]
    inbox = edge.get("/api/v1/me/notifications", headers=headers).json()
    assert any(
        view["number"] in n["title"] and "принято" in n["title"] for n in inbox["notifications"]
    )
    letter = letter_about(mailbox, view["number"])
    assert letter["To"] == demo.PATIENT.email
    assert "принято" in str(letter["Subject"])


def test_a_rejection_carries_its_reason_and_an_open_request_may_be_withdrawn(
    edge: httpx.Client, amqp_url: str, mailbox: Mailbox
) -> None:
    report = report_one(amqp_url)
    headers = login(edge, demo.PATIENT)
    url = f"{path_of(report)}/corrections"
    filed = edge.post(url, json={"comment": "Такой услуги не было"}, headers=headers).json()
    request = asyncio.run(take_request(amqp_url, filed["id"]))
    reason = "Услуга подтверждена подписью пациента в медицинской карте"
    reject = AnswerCorrection(correction_id=request.correction_id, accepted=False, reason=reason)
    asyncio.run(answer_as(amqp_url, CLINIC, reject))

    rejected = correction(edge, filed["id"], "rejected")
    assert rejected["reason"] == reason
    inbox = edge.get("/api/v1/me/notifications", headers=headers).json()
    assert any(reason in n["body"] for n in inbox["notifications"])
    assert reason in letter_about(mailbox, filed["number"]).get_content()

    again = edge.post(url, json={"changes": {"service_name": "Другая услуга"}}, headers=headers)
    assert again.status_code == 201, again.text  # the rejected one is closed
    withdrawn = edge.post(
        f"/api/v1/patients/me/corrections/{again.json()['id']}/withdraw", headers=headers
    )
    assert withdrawn.json()["status"] == "withdrawn"
    listed = edge.get("/api/v1/patients/me/corrections", headers=headers).json()
    statuses = {i["id"]: i["status"] for i in listed["items"]}
    assert statuses[filed["id"]] == "rejected"
    assert statuses[again.json()["id"]] == "withdrawn"


def test_an_unanswered_request_becomes_overdue_on_a_moved_clock(
    edge: httpx.Client, amqp_url: str, moved_clock: Path, mailbox: Mailbox
) -> None:
    report = report_one(amqp_url)
    headers = login(edge, demo.PATIENT)
    filed = edge.post(
        f"{path_of(report)}/corrections", json={"comment": "Не было"}, headers=headers
    ).json()
    url = f"/api/v1/patients/me/corrections/{filed['id']}"
    operator = login(edge, demo.OPERATOR)
    overdue = "/api/v1/operator/corrections?status=overdue"
    assert edge.get(url, headers=headers).json()["overdue"] is False
    assert filed["id"] not in {i["id"] for i in edge.get(overdue, headers=operator).json()["items"]}

    moved_clock.write_text(str(20 * 24 * 3600))  # 20 days on: past any 5 working days

    assert edge.get(url, headers=headers).json()["overdue"] is True
    listed = edge.get(overdue, headers=operator)
    assert listed.status_code == 200, listed.text
    assert filed["id"] in {i["id"] for i in listed.json()["items"]}
    stats = edge.get(
        f"/api/v1/operator/organizations/{CLINIC}/corrections-stats", headers=operator
    ).json()
    assert stats["overdue"] >= 1
    assert edge.get(overdue, headers=headers).status_code == 403  # a citizen
    # the sweep tells the patient once that the clinic is late
    deadline = time.monotonic() + 15
    while not (late := edge.get(url, headers=headers).json())["escalated_at"]:
        assert time.monotonic() < deadline, "not escalated"
        time.sleep(0.1)  # polling the edge, as `eventually` polls
    inbox = edge.get("/api/v1/me/notifications", headers=headers).json()
    assert any(
        late["number"] in n["title"] and "срок ответа истёк" in n["title"]
        for n in inbox["notifications"]
    )
    assert "срок ответа истёк" in str(letter_about(mailbox, filed["number"])["Subject"])


PDF = b"%PDF-1.7\n" + bytes(range(256)) * 64
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16
ELF = b"\x7fELF\x02\x01\x01" + bytes(4096)


def test_files_go_with_the_request_and_the_clinic_fetches_them_unchanged(
    edge: httpx.Client, amqp_url: str
) -> None:
    report = report_one(amqp_url)
    headers = login(edge, demo.PATIENT)
    upload = "/api/v1/patients/me/correction-attachments"

    pdf = edge.post(upload, files={"file": ("выписка.pdf", PDF)}, headers=headers)
    png = edge.post(upload, files={"file": ("фото.png", PNG, "image/png")}, headers=headers)
    renamed = edge.post(upload, files={"file": ("справка.pdf", ELF)}, headers=headers)
    large = edge.post(
        upload,
        files={"file": ("скан.pdf", b"%PDF-" + bytes(MAX_ATTACHMENT_BYTES))},
        headers=headers,
    )
    stranger = edge.post(
        f"/api/v1/patients/{patient_id(demo.PATIENT)}/correction-attachments",
        files={"file": ("выписка.pdf", PDF)},
        headers=login(edge, demo.CHILD_OVER_15),
    )

    assert pdf.status_code == 201, pdf.text
    assert (pdf.json()["media_type"], pdf.json()["size"]) == ("application/pdf", len(PDF))
    assert png.json()["media_type"] == "image/png"
    assert (renamed.status_code, renamed.json()["code"]) == (415, "unsupported_file_type")
    assert renamed.headers["content-type"] == "application/problem+json"
    assert (large.status_code, large.json()["code"]) == (413, "file_too_large")
    assert stranger.status_code == 404, stranger.text
    ids = [pdf.json()["id"], png.json()["id"]]
    filed = edge.post(
        f"{path_of(report)}/corrections",
        json={"comment": "Прилагаю выписку", "attachment_ids": ids},
        headers=headers,
    )
    assert filed.status_code == 201, filed.text
    assert [a["id"] for a in filed.json()["attachments"]] == ids
    request = asyncio.run(take_request(amqp_url, filed.json()["id"]))
    assert [str(a.id) for a in request.attachments] == ids

    for ident, content in zip(ids, (PDF, PNG), strict=True):
        assert asyncio.run(fetch_as(amqp_url, CLINIC, filed.json()["id"], ident)) == (
            True,
            content,
        )
    answered, error = asyncio.run(fetch_as(amqp_url, OTHER_CLINIC, filed.json()["id"], ids[0]))
    assert not answered
    assert b"not_found" in error
    reused = edge.post(  # a file goes with one request only
        f"{path_of(report_one(amqp_url))}/corrections",
        json={"comment": "Ещё раз", "attachment_ids": ids[:1]},
        headers=headers,
    )
    assert (reused.status_code, reused.json()["code"]) == (422, "validation_failed")
