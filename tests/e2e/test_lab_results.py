"""Lab results end to end: a clinic's laboratory reports through the door on the real broker,
the patient reads them through the edge (list, analytes, files); past 12 months a result answers
410; a stranger learns nothing."""

import asyncio
import email
import email.policy
import json
import re
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from fhir.resources.diagnosticreport import DiagnosticReport
from fhir.resources.observation import Observation

from gosmed.contracts import demo
from gosmed.contracts.records.lab import LabStatus, ReportedLabResult, ReportLabResults
from gosmed.identity.demo import account_id
from gosmed.records.lab_rules import lab_result_id
from gosmed.records.lab_simulator import (
    BIOCHEMISTRY,
    BLOOD_COUNT,
    RejectedError,
    cholesterol,
    demo_laboratory,
    glucose,
    haemoglobin,
    send,
    send_json,
    simple_pdf,
)
from gosmed.records.simulator import Catalogue
from tests.e2e.identity_support import DEMO_ENV, login

LAB = demo_laboratory(Catalogue.demo())
NOW = datetime.now(UTC)
LOINC = "http://loinc.org"


class Inbox:
    """What the SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[int, Inbox]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


@pytest.fixture(scope="module")
def sms_outbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sms") / "sms-outbox.jsonl"


@pytest.fixture(scope="module")
def stack_env(smtp: tuple[int, Inbox], sms_outbox: Path) -> dict[str, str]:
    port, _ = smtp
    return {
        **DEMO_ENV,
        "GOSMED_DOCUMENTS_SMTP_HOST": "127.0.0.1",
        "GOSMED_DOCUMENTS_SMTP_PORT": str(port),
        "GOSMED_IDENTITY_SMS_OUTBOX_PATH": str(sms_outbox),
    }


def last_sms_code(outbox: Path, phone: str) -> str:
    """The code in the newest SMS to `phone`, as its owner reads it."""
    texts = [json.loads(line) for line in outbox.read_text().splitlines()]
    newest: str = [t["text"] for t in texts if t["to"] == phone][-1]
    (code,) = re.findall(r"\b\d{6}\b", newest)
    return str(code)


def result(
    study: tuple[str, str], ready_days_ago: int | None, *analytes_: object, **extra: object
) -> ReportedLabResult:
    ready_at = NOW - timedelta(days=ready_days_ago) if ready_days_ago is not None else None
    return ReportedLabResult.model_validate(
        {
            "clinic_result_id": f"e2e-{uuid.uuid4().hex[:12]}",
            "patient_snils": demo.PATIENT.snils,
            "patient_oms_policy": demo.PATIENT.oms_policy,
            "study_code": study[0],
            "study_name": study[1],
            "ordered_on": (ready_at or NOW).date() - timedelta(days=1),
            "ready_at": ready_at,
            "status": LabStatus.READY if ready_at else LabStatus.IN_PROGRESS,
            "analytes": analytes_,
            **extra,
        }
    )


def report(*results: ReportedLabResult) -> ReportLabResults:
    return ReportLabResults(organization_id=LAB, results=results)


def ident(item: ReportedLabResult) -> str:
    return str(lab_result_id(LAB, item.clinic_result_id))


def get(edge: httpx.Client, path: str, person: demo.DemoPerson = demo.PATIENT) -> httpx.Response:
    return edge.get(f"/api/v1/patients/me/lab-results{path}", headers=login(edge, person))


def test_reported_results_appear_with_their_status_newest_first(
    edge: httpx.Client, amqp_url: str
) -> None:
    ready = result(BIOCHEMISTRY, 3, glucose("7.4"), cholesterol("5.0"))
    pending = result(BLOOD_COUNT, None)
    accepted = asyncio.run(send(amqp_url, report(ready, pending)))
    assert (accepted.created, accepted.unchanged) == (2, 0)

    page = get(edge, "?limit=100")
    assert page.status_code == 200, page.text
    items = {item["id"]: item for item in page.json()["items"]}
    assert items[ident(ready)]["status"] == "ready"
    assert items[ident(pending)]["status"] == "in_progress"
    assert items[ident(ready)]["has_flags"] is True
    assert items[ident(ready)]["organization_name"]
    days = [item["ordered_on"] for item in page.json()["items"]]
    assert days == sorted(days, reverse=True)

    detail = get(edge, f"/{ident(ready)}")
    assert detail.status_code == 200, detail.text
    analytes = {a["code"]: a for a in detail.json()["analytes"]}
    assert analytes["GLU"]["value"] == "7.4"
    assert analytes["GLU"]["flag"] == "high"
    assert analytes["GLU"]["loinc"] == "2345-7"
    assert analytes["GLU"]["reference_range"]["high"] == "6.1"
    assert analytes["CHOL"]["flag"] is None


def test_redelivery_changes_nothing_and_a_newer_version_replaces(
    edge: httpx.Client, amqp_url: str
) -> None:
    first = result(BLOOD_COUNT, None)
    once = asyncio.run(send(amqp_url, report(first)))
    again = asyncio.run(send(amqp_url, report(first)))
    ready = first.model_copy(
        update={
            "version": 2,
            "status": LabStatus.READY,
            "ready_at": NOW - timedelta(hours=1),
            "analytes": (haemoglobin("101"),),
        }
    )
    newer = asyncio.run(send(amqp_url, report(ready)))
    older = asyncio.run(send(amqp_url, report(first)))

    assert (once.created, again.unchanged, newer.updated, older.unchanged) == (1, 1, 1, 1)
    detail = get(edge, f"/{ident(first)}").json()
    assert detail["item"]["status"] == "ready"
    assert detail["analytes"][0]["flag"] == "low"


def test_the_laboratory_pdf_downloads_with_the_study_and_values(
    edge: httpx.Client, amqp_url: str, tmp_path: Path
) -> None:
    values = (glucose("5.3"), cholesterol("4.9"))
    pdf = simple_pdf([f"Study {BIOCHEMISTRY[0]}"] + [f"{a.code} {a.value}" for a in values])
    item = result(BIOCHEMISTRY, 1, *values, pdf=pdf)
    asyncio.run(send(amqp_url, report(item)))

    response = get(edge, f"/{ident(item)}/file?format=pdf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    path = tmp_path / "result.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert BIOCHEMISTRY[0] in text
    assert "GLU 5.3" in text
    assert "CHOL 4.9" in text


def test_without_the_laboratorys_file_documents_renders_pdf_and_fhir_xml(
    edge: httpx.Client, amqp_url: str, tmp_path: Path
) -> None:
    item = result(BIOCHEMISTRY, 2, glucose("6.8"), cholesterol("5.1"))
    asyncio.run(send(amqp_url, report(item)))

    pdf = get(edge, f"/{ident(item)}/file?format=pdf")
    assert pdf.status_code == 200, pdf.text
    path = tmp_path / "rendered.pdf"
    path.write_bytes(pdf.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert BIOCHEMISTRY[1][:20] in text
    assert "Глюкоза" in text
    assert "6.8" in text
    assert "5.1" in text

    xml = get(edge, f"/{ident(item)}/file?format=xml")
    assert xml.status_code == 200, xml.text
    assert xml.headers["content-type"].startswith("application/fhir+xml")
    diagnostic = DiagnosticReport.model_validate_xml(xml.content).model_dump(mode="json")
    assert diagnostic["code"]["text"] == BIOCHEMISTRY[1]
    observations = [
        Observation.model_validate(c).model_dump(mode="json") for c in diagnostic["contained"]
    ]
    values = {o["code"]["text"]: float(o["valueQuantity"]["value"]) for o in observations}
    assert values == {"Глюкоза": 6.8, "Холестерин общий": 5.1}
    loinc = {c["code"] for o in observations for c in o["code"]["coding"] if c["system"] == LOINC}
    assert loinc == {"2345-7", "2093-3"}


def test_email_arrives_with_the_file_attached(
    edge: httpx.Client, amqp_url: str, smtp: tuple[int, Inbox]
) -> None:
    _, inbox = smtp
    values = (glucose("5.5"),)
    pdf = simple_pdf([f"Study {BIOCHEMISTRY[0]}", "GLU 5.5"])
    own = result(BIOCHEMISTRY, 1, *values, pdf=pdf)
    rendered = result(BLOOD_COUNT, 1, haemoglobin("129"))
    asyncio.run(send(amqp_url, report(own, rendered)))
    headers = login(edge, demo.PATIENT)

    sent = edge.post(f"/api/v1/patients/me/lab-results/{ident(own)}/email", headers=headers)
    assert sent.status_code == 202, sent.text
    assert "@" in sent.json()["address"]
    xml = edge.post(
        f"/api/v1/patients/me/lab-results/{ident(rendered)}/email?format=xml", headers=headers
    )
    assert xml.status_code == 202, xml.text

    deadline = time.monotonic() + 30
    while len([m for m in inbox.messages if m["To"] == demo.PATIENT.email]) < 2:
        assert time.monotonic() < deadline, "the e-mails did not arrive"
        time.sleep(0.2)
    attachments = {
        a.get_content_type(): a.get_content()
        for m in inbox.messages
        if m["To"] == demo.PATIENT.email
        for a in m.iter_attachments()
    }
    assert attachments["application/pdf"] == pdf
    fhir = DiagnosticReport.model_validate_xml(attachments["application/fhir+xml"])
    assert fhir.model_dump(mode="json")["code"]["text"] == BLOOD_COUNT[1]


def test_a_result_past_twelve_months_answers_410(edge: httpx.Client, amqp_url: str) -> None:
    old = result(BLOOD_COUNT, 400, haemoglobin("130"))
    asyncio.run(send(amqp_url, report(old)))

    response = get(edge, f"/{ident(old)}")
    assert response.status_code == 410, response.text
    assert response.json()["code"] == "gone"
    assert "12 месяцев" in response.json()["detail"]
    assert get(edge, f"/{ident(old)}/file?format=pdf").status_code == 410


def test_a_stranger_gets_404(edge: httpx.Client, amqp_url: str) -> None:
    item = result(BLOOD_COUNT, 2, haemoglobin("127"))
    asyncio.run(send(amqp_url, report(item)))
    patient = account_id(demo.PATIENT)
    stranger = login(edge, demo.CHILD_OVER_15)

    for path in ("", f"/{ident(item)}", f"/{ident(item)}/file?format=pdf"):
        response = edge.get(f"/api/v1/patients/{patient}/lab-results{path}", headers=stranger)
        assert response.status_code == 404, response.text
    own = get(edge, f"/{ident(item)}", demo.CHILD_OVER_15)
    assert own.status_code == 404


def test_an_invalid_report_is_rejected_with_every_reason(amqp_url: str) -> None:
    bad = result(BLOOD_COUNT, 1, haemoglobin("120")).model_dump(mode="json")
    bad |= {"study_code": "", "version": 0}
    body = json.dumps(
        {
            "message_id": str(uuid.uuid4()),
            "organization_id": str(LAB),
            "occurred_at": NOW.isoformat(),
            "results": [bad],
        }
    )

    with pytest.raises(RejectedError) as caught:
        asyncio.run(send_json(amqp_url, LAB, body.encode()))

    reply = caught.value.reply
    assert reply.code == "validation_failed"
    fields = {detail.field for detail in reply.details}
    assert "results.0.study_code" in fields
    assert "results.0.version" in fields
    assert demo.PATIENT.snils not in reply.model_dump_json()


def test_deleting_needs_the_sms_code(edge: httpx.Client, amqp_url: str, sms_outbox: Path) -> None:
    item = result(BLOOD_COUNT, 5, haemoglobin("126"))
    asyncio.run(send(amqp_url, report(item)))
    headers = login(edge, demo.PATIENT)
    path = f"/api/v1/patients/me/lab-results/{ident(item)}"

    pending = edge.delete(path, headers=headers)
    assert pending.status_code == 202, pending.text
    assert get(edge, f"/{ident(item)}").status_code == 200  # nothing changed without the code
    confirmation = f"{path}/confirmations/{pending.json()['confirmation_id']}"
    code = last_sms_code(sms_outbox, demo.PATIENT.phone or "")
    wrong = "000000" if code != "000000" else "111111"
    refused = edge.post(confirmation, json={"code": wrong}, headers=headers)
    assert refused.status_code == 422, refused.text
    assert get(edge, f"/{ident(item)}").status_code == 200

    done = edge.post(confirmation, json={"code": code}, headers=headers)
    assert done.status_code == 200, done.text
    assert get(edge, f"/{ident(item)}").status_code == 404
    listed = get(edge, "?limit=100").json()["items"]
    assert ident(item) not in {i["id"] for i in listed}
    again = edge.post(confirmation, json={"code": code}, headers=headers)
    assert again.status_code == 404


def test_a_note_changes_only_with_the_sms_code(
    edge: httpx.Client, amqp_url: str, sms_outbox: Path
) -> None:
    item = result(BLOOD_COUNT, 6, haemoglobin("133"))
    asyncio.run(send(amqp_url, report(item)))
    headers = login(edge, demo.PATIENT)
    path = f"/api/v1/patients/me/lab-results/{ident(item)}"

    pending = edge.patch(path, json={"note": "сдавал натощак"}, headers=headers)
    assert pending.status_code == 202, pending.text
    assert get(edge, f"/{ident(item)}").json()["item"]["note"] is None
    code = last_sms_code(sms_outbox, demo.PATIENT.phone or "")
    confirmation = f"{path}/confirmations/{pending.json()['confirmation_id']}"
    done = edge.post(confirmation, json={"code": code}, headers=headers)
    assert done.status_code == 200, done.text
    assert get(edge, f"/{ident(item)}").json()["item"]["note"] == "сдавал натощак"
