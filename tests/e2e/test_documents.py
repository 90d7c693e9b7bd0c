"""Official documents through the real edge, with real login, real records fed by the clinic
simulator over the broker, and a real SMTP server (aiosmtpd) receiving the e-mails."""

import email
import email.policy
import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import httpx
import openpyxl
import pytest
from aiosmtpd.controller import Controller

from gosmed.contracts import demo
from gosmed.contracts.documents.requests import MAX_FILE_BYTES
from tests.e2e.identity_support import DEMO_ENV, login, patient_id

PROBLEM_JSON = "application/problem+json"
HISTORY = 12
# Longer than a loaded machine needs to render, so no document expires under a test (expiry:
# tests/e2e/test_documents_expiry.py).
TTL_SECONDS = 600


class Inbox:
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
def stack_env(smtp: tuple[int, Inbox]) -> dict[str, str]:
    port, _ = smtp
    return {
        **DEMO_ENV,
        "GOSMED_DOCUMENTS_SMTP_HOST": "127.0.0.1",
        "GOSMED_DOCUMENTS_SMTP_PORT": str(port),
        "GOSMED_DOCUMENTS_PUBLIC_BASE_URL": "https://gosmed.example",
        "GOSMED_DOCUMENTS_DOCUMENT_TTL_SECONDS": str(TTL_SECONDS),
    }


@pytest.fixture(scope="module")
def history(edge_module: httpx.Client, amqp_url: str) -> list[dict[str, Any]]:
    """The patient consents to clinic data, then a clinic reports services over the broker."""
    headers = login(edge_module, demo.PATIENT)
    consent = edge_module.put(
        "/api/v1/patients/me/consents", json={"all_clinics": True}, headers=headers
    )
    assert consent.status_code == 200, consent.text
    subprocess.run(
        [
            sys.executable,
            "-m",
            "gosmed.records.simulator",
            "--count",
            str(HISTORY),
            "--patient",
            demo.PATIENT.snils,
            "--prefix",
            "documents-e2e",
        ],
        env={**os.environ, "GOSMED_AMQP_URL": amqp_url},
        check=True,
        timeout=60,
    )
    deadline = time.monotonic() + 15
    while True:
        page = edge_module.get(
            "/api/v1/patients/me/services", params={"limit": 100}, headers=headers
        )
        assert page.status_code == 200, page.text
        items: list[dict[str, Any]] = page.json()["items"]
        if len(items) >= HISTORY or time.monotonic() > deadline:
            assert len(items) >= HISTORY
            return items
        time.sleep(0.2)


@pytest.fixture(scope="module")
def edge_module(stack: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        yield client


def request_document(edge: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = edge.post(
        "/api/v1/patients/me/documents", json=body, headers=login(edge, demo.PATIENT)
    )
    assert response.status_code == 202, response.text
    document: dict[str, Any] = response.json()
    assert document["status"] == "pending"
    assert response.headers["location"] == f"/api/v1/documents/{document['document_id']}"
    return document


def wait_ready(edge: httpx.Client, document_id: str, within: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        response = edge.get(f"/api/v1/documents/{document_id}", headers=login(edge, demo.PATIENT))
        assert response.status_code == 200, response.text
        document: dict[str, Any] = response.json()
        if document["status"] != "pending" or time.monotonic() > deadline:
            assert document["status"] == "ready", document
            return document
        time.sleep(0.05)


def fetch_file(edge: httpx.Client, document_id: str) -> httpx.Response:
    return edge.get(f"/api/v1/documents/{document_id}/file", headers=login(edge, demo.PATIENT))


def pdf_text(pdf: bytes, tmp_path: Any) -> str:
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


def test_statement_becomes_ready_and_reads_right(
    edge_module: httpx.Client, history: list[dict[str, Any]], tmp_path: Any
) -> None:
    # How fast is `make bench`'s business (tests.bench documents), not a timed assertion.
    document = request_document(edge_module, {"kind": "statement", "format": "pdf"})
    ready = wait_ready(edge_module, document["document_id"])

    response = fetch_file(edge_module, document["document_id"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert ready["sha256"] == response.headers["x-content-sha256"]
    text = pdf_text(response.content, tmp_path)
    assert demo.PATIENT.full_name in text
    assert "12.04.1985" in text
    assert f"Документ № {ready['number']}" in text
    assert "Страница 1 из" in text
    assert "Итого" in text
    newest = history[0]["rendered_on"]  # ГГГГ-ММ-ДД -> ДД.ММ.ГГГГ in the document
    assert ".".join(reversed(newest.split("-"))) in text


def test_public_verification_of_genuine_altered_and_revoked(
    edge_module: httpx.Client, history: list[dict[str, Any]]
) -> None:
    document = request_document(edge_module, {"kind": "statement"})
    ready = wait_ready(edge_module, document["document_id"])
    pdf = fetch_file(edge_module, document["document_id"]).content
    verify_url = f"/api/v1/verify/{document['document_id']}"

    public = edge_module.get(verify_url)  # no login
    assert public.status_code == 200, public.text
    check = public.json()
    assert check["genuine"] is True
    assert check["sha256"] == ready["sha256"]
    assert check["issued_to"] == "И****** А. С."
    assert check["number"] == ready["number"]

    same = edge_module.post(verify_url, content=pdf).json()
    assert same["genuine"] is True
    assert same["file_matches"] is True
    altered = bytearray(pdf)
    altered[len(altered) // 3] ^= 0x20
    forged = edge_module.post(verify_url, content=bytes(altered)).json()
    assert forged["genuine"] is False
    assert forged["file_matches"] is False
    assert "изменено" in forged["reason"]

    revoked = edge_module.post(
        f"/api/v1/documents/{document['document_id']}/revoke",
        headers=login(edge_module, demo.PATIENT),
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "revoked"
    after = edge_module.get(verify_url).json()
    assert after["genuine"] is False
    assert "отозван" in after["reason"]
    gone = fetch_file(edge_module, document["document_id"])
    assert gone.status_code == 410
    assert gone.headers["content-type"] == PROBLEM_JSON
    assert gone.json()["code"] == "document_revoked"


def test_xlsx_statement_has_typed_cells(
    edge_module: httpx.Client, history: list[dict[str, Any]]
) -> None:
    document = request_document(edge_module, {"kind": "statement", "format": "xlsx"})
    wait_ready(edge_module, document["document_id"])

    response = fetch_file(edge_module, document["document_id"])
    assert response.status_code == 200
    assert "spreadsheetml" in response.headers["content-type"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content))["Услуги"]
    assert sheet["A1"].value == "Дата"
    assert sheet.max_row == len(history) + 1
    assert sheet.auto_filter.ref is not None
    assert sheet["A2"].is_date
    assert all(
        cell.data_type == "n" or isinstance(cell.value, str)
        for (cell,) in sheet.iter_rows(min_row=2, min_col=8, max_col=8)
    )


def test_extract_and_employer_certificate(
    edge_module: httpx.Client, history: list[dict[str, Any]], tmp_path: Any
) -> None:
    record = history[0]
    extract = request_document(edge_module, {"kind": "extract", "record_id": record["id"]})
    wait_ready(edge_module, extract["document_id"])
    text = pdf_text(fetch_file(edge_module, extract["document_id"]).content, tmp_path)
    assert "ВЫПИСКА ОБ ОКАЗАННОЙ МЕДИЦИНСКОЙ УСЛУГЕ" in text
    assert record["service_code"] in text

    certificate = request_document(edge_module, {"kind": "certificate", "purpose": "employer"})
    wait_ready(edge_module, certificate["document_id"])
    text = pdf_text(fetch_file(edge_module, certificate["document_id"]).content, tmp_path)
    assert "по месту работы" in text
    diagnoses = {r["diagnosis_code"] for r in history if r.get("diagnosis_code")}
    assert diagnoses
    assert not any(code in text for code in diagnoses)


def test_email_arrives_with_the_pdf_attached(
    edge_module: httpx.Client, history: list[dict[str, Any]], smtp: tuple[int, Inbox]
) -> None:
    _, inbox = smtp
    document = request_document(edge_module, {"kind": "statement"})
    ready = wait_ready(edge_module, document["document_id"])
    pdf = fetch_file(edge_module, document["document_id"]).content

    response = edge_module.post(
        f"/api/v1/documents/{document['document_id']}/email",
        headers=login(edge_module, demo.PATIENT),
    )
    assert response.status_code == 202, response.text
    assert response.json()["email_status"] == "queued"

    deadline = time.monotonic() + 10
    while not any(ready["number"] in m["Subject"] for m in inbox.messages):
        assert time.monotonic() < deadline, "no e-mail arrived"
        time.sleep(0.1)
    (message,) = [m for m in inbox.messages if ready["number"] in m["Subject"]]
    assert message["To"] == demo.PATIENT.email
    (attachment,) = message.iter_attachments()
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == pdf
    deadline = time.monotonic() + 5
    while wait_ready(edge_module, document["document_id"])["email_status"] != "sent":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    link = f"/documents/{document['document_id']}"
    deadline = time.monotonic() + 10
    while True:  # identity puts the notice in the citizen's inbox
        inbox_page = edge_module.get(
            "/api/v1/me/notifications", headers=login(edge_module, demo.PATIENT)
        )
        assert inbox_page.status_code == 200, inbox_page.text
        notices = [n for n in inbox_page.json()["notifications"] if n["link"] == link]
        if notices or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    (notice,) = notices
    assert notice["category"] == "document_emailed"
    assert ready["number"] in notice["body"]
    assert "a***@example.ru" in notice["body"]


def test_another_person_cannot_see_or_revoke_the_document(
    edge_module: httpx.Client, history: list[dict[str, Any]]
) -> None:
    document = request_document(edge_module, {"kind": "statement"})
    other = login(edge_module, demo.PARENT)  # no legal basis for the patient
    base = f"/api/v1/documents/{document['document_id']}"

    for response in (
        edge_module.get(base, headers=other),
        edge_module.get(f"{base}/file", headers=other),
        edge_module.post(f"{base}/revoke", headers=other),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    patient_id = edge_module.get("/api/v1/me", headers=login(edge_module, demo.PATIENT)).json()[
        "account_id"
    ]
    denied = edge_module.post(
        f"/api/v1/patients/{patient_id}/documents", json={"kind": "statement"}, headers=other
    )
    # without a legal basis the patient does not exist for the caller (no enumeration)
    assert denied.status_code == 404, denied.text
    assert denied.headers["content-type"] == PROBLEM_JSON


def test_bad_requests_get_problem_json(edge_module: httpx.Client) -> None:
    headers = login(edge_module, demo.PATIENT)
    path = "/api/v1/patients/me/documents"

    unauthenticated = edge_module.post(path, json={"kind": "statement"})
    assert unauthenticated.status_code == 401
    for body, field in (
        ({"kind": "statement", "colour": "red"}, "colour"),
        ({"kind": "receipt"}, "kind"),
        ({"kind": "statement", "period": {"start": "2025-05-01", "end": "2025-01-01"}}, None),
        ({"kind": "extract"}, None),
        ({"kind": "certificate", "purpose": "employer", "record_id": None, "format": "doc"}, None),
    ):
        response = edge_module.post(path, json=body, headers=headers)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == PROBLEM_JSON
        problem = response.json()
        assert problem["code"] == "validation_failed"
        assert problem["detail"].startswith("Запрос не прошёл проверку")
        if field:
            assert field in problem["detail"]
    missing = edge_module.get("/api/v1/documents/not-a-uuid", headers=headers)
    assert missing.status_code == 404
    assert edge_module.get("/api/v1/verify/00000000-0000-4000-8000-000000000000").status_code == 404


def test_a_revoked_representative_can_no_longer_download_or_email_the_document(
    edge_module: httpx.Client, history: list[dict[str, Any]]
) -> None:
    # the demo power of attorney «demo-poa-active» lets the representative download documents
    agent = login(edge_module, demo.REPRESENTATIVE)
    requested = edge_module.post(
        f"/api/v1/patients/{patient_id(demo.PATIENT)}/documents",
        json={"kind": "statement"},
        headers=agent,
    )
    assert requested.status_code == 202, requested.text
    document_id = requested.json()["document_id"]
    wait_ready(edge_module, document_id)
    base = f"/api/v1/documents/{document_id}"
    before = edge_module.get(f"{base}/file", headers=agent)
    assert before.status_code == 200, before.text
    assert before.content.startswith(b"%PDF")

    revoked = edge_module.delete(
        "/api/v1/delegations/demo-poa-active", headers=login(edge_module, demo.PATIENT)
    )
    assert revoked.status_code == 200, revoked.text

    for response in (
        edge_module.get(f"{base}/file", headers=agent),
        edge_module.post(f"{base}/email", headers=agent),
        edge_module.get(base, headers=agent),
        edge_module.post(f"{base}/revoke", headers=agent),
    ):
        assert response.status_code == 403, response.text
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.json()["code"] == "forbidden"
        assert "основания" in response.json()["detail"]
    mine = fetch_file(edge_module, document_id)  # the patient keeps the document
    assert mine.status_code == 200
    assert mine.content == before.content


def test_verification_takes_a_file_as_large_as_the_largest_document(
    edge_module: httpx.Client, history: list[dict[str, Any]]
) -> None:
    document = request_document(edge_module, {"kind": "statement"})
    wait_ready(edge_module, document["document_id"])
    pdf = fetch_file(edge_module, document["document_id"]).content
    largest = pdf + b"\0" * (MAX_FILE_BYTES - len(pdf))  # the size limit of an issued file

    response = edge_module.post(f"/api/v1/verify/{document['document_id']}", content=largest)

    assert response.status_code == 200, response.text
    check = response.json()
    assert check["file_matches"] is False
    assert check["genuine"] is False
    too_large = edge_module.post(
        f"/api/v1/verify/{document['document_id']}", content=largest + b"\0"
    )
    assert too_large.status_code == 413
    assert too_large.headers["content-type"] == PROBLEM_JSON
