"""The EMK end to end through the real edge and broker: a patient's uploaded files (kept
sealed by records), refused by their bytes or size; shares with a doctor, decided by identity
and journaled by records; prescriptions and referrals clinics report through the door."""

import asyncio
import io
import itertools
import json
import re
import subprocess
import uuid
import zlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import aio_pika
import httpx
import pytest
from pypdf import PdfReader
from pypdf.generic import ContentStream

from gosmed.contracts import demo, topology
from gosmed.contracts.records.intake import ReportAccepted
from gosmed.contracts.records.lab import ReportedLabResult, ReportLabResults
from gosmed.contracts.records.prescriptions import (
    ReportedPrescription,
    ReportedReferral,
    ReportPrescriptions,
    ReportReferrals,
)
from gosmed.contracts.topology import CLINIC_INTAKE_EXCHANGE
from gosmed.documents.charts import HEIGHT_INCHES, WIDTH_INCHES
from gosmed.records.lab_simulator import demo_laboratory, demo_results
from gosmed.records.lab_simulator import send as send_lab_results
from gosmed.records.prescription_simulator import (
    PRESCRIPTIONS_QUEUE,
    REFERRALS_QUEUE,
    Report,
    publish,
)
from gosmed.records.simulator import Catalogue
from gosmed.records.simulator import history as service_history
from gosmed.records.simulator import publish as publish_services
from gosmed.records.simulator import reports as service_reports
from gosmed.runtime.devstack import DevStack
from gosmed.runtime.testing import clinic_connection, poll_next_message
from tests.e2e.identity_support import DEMO_ENV, account_id, login
from tests.e2e.test_documents import wait_ready

PROBLEM_JSON = "application/problem+json"
CLINICS = [card.id for card in Catalogue.demo().clinics]
FILES = "/api/v1/patients/me/emk/files"


@pytest.fixture(scope="module")
def stack_env() -> dict[str, str]:
    return DEMO_ENV


def a_pdf() -> bytes:
    """A small one-page PDF."""
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def a_jpeg() -> bytes:
    """A JPEG-signed picture with bytes of every value (the round trip must keep them all)."""
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 40 + b"\xff\xd9"


def upload(
    edge: httpx.Client,
    person: demo.DemoPerson,
    content: bytes,
    filename: str,
    *,
    kind: str = "lab_result",
    patient: str = "me",
) -> httpx.Response:
    return edge.post(
        f"/api/v1/patients/{patient}/emk/files",
        headers=login(edge, person),
        files={"file": (filename, io.BytesIO(content), "application/octet-stream")},
        data={"title": f"Файл {filename}", "date": "2026-03-14", "kind": kind},
        timeout=60,
    )


def problem_code(response: httpx.Response) -> Any:
    assert response.headers["content-type"] == PROBLEM_JSON, response.text
    return response.json()["code"]


@pytest.mark.parametrize(
    ("content", "filename", "media_type"),
    [(a_pdf(), "анализ крови.pdf", "application/pdf"), (a_jpeg(), "снимок.jpg", "image/jpeg")],
    ids=["pdf", "jpeg"],
)
def test_uploaded_file_downloads_byte_identical_with_its_type_and_name(
    edge: httpx.Client, content: bytes, filename: str, media_type: str
) -> None:
    created = upload(edge, demo.PATIENT, content, filename)
    assert created.status_code == 201, created.text
    view = created.json()
    assert (view["media_type"], view["size"], view["kind"]) == (
        media_type,
        len(content),
        "lab_result",
    )

    listed = edge.get(FILES, headers=login(edge, demo.PATIENT))
    assert listed.status_code == 200, listed.text
    assert view["id"] in {item["id"] for item in listed.json()["items"]}

    got = edge.get(f"{FILES}/{view['id']}", headers=login(edge, demo.PATIENT), timeout=60)
    assert got.status_code == 200, got.text
    assert got.content == content
    assert got.headers["content-type"] == media_type
    assert got.headers["content-disposition"].startswith("attachment; filename*=UTF-8''")

    deleted = edge.delete(f"{FILES}/{view['id']}", headers=login(edge, demo.PATIENT))
    assert deleted.status_code == 200, deleted.text
    gone = edge.get(f"{FILES}/{view['id']}", headers=login(edge, demo.PATIENT))
    assert gone.status_code == 404


def test_renamed_executable_is_refused_by_its_bytes(edge: httpx.Client) -> None:
    elf = b"\x7fELF\x02\x01\x01\x00" + zlib.compress(b"not a picture" * 100)
    response = upload(edge, demo.PATIENT, elf, "photo.jpg", kind="image")
    assert response.status_code == 415, response.text
    assert problem_code(response) == "unsupported_file_type"


def test_file_over_10_mb_is_refused(edge: httpx.Client) -> None:
    big = a_pdf() + b"\0" * (11 * 1024 * 1024)
    response = upload(edge, demo.PATIENT, big, "big.pdf")
    assert response.status_code == 413, response.text
    assert problem_code(response) in {"file_too_large", "payload_too_large"}
    just_over = a_pdf() + b"\0" * (10 * 1024 * 1024 - len(a_pdf()) + 1)
    response = upload(edge, demo.PATIENT, just_over, "just-over.pdf")
    assert response.status_code == 413, response.text
    assert problem_code(response) == "file_too_large"


def test_a_stranger_can_neither_upload_nor_read_a_patients_files(edge: httpx.Client) -> None:
    created = upload(edge, demo.PATIENT, a_pdf(), "private.pdf")
    assert created.status_code == 201, created.text
    patient = account_id(edge, demo.PATIENT)
    stranger = demo.CHILD_OVER_15
    paths = (
        f"/api/v1/patients/{patient}/emk/files",
        f"/api/v1/patients/{patient}/emk/files/{created.json()['id']}",
    )
    for path in paths:
        response = edge.get(path, headers=login(edge, stranger))
        assert response.status_code == 404, response.text
    refused = upload(edge, stranger, a_pdf(), "x.pdf", patient=patient)
    assert refused.status_code == 404, refused.text


def shares_path(patient: str = "me") -> str:
    return f"/api/v1/patients/{patient}/shares"


def open_share(edge: httpx.Client, scopes: list[str], days: int = 30) -> dict[str, Any]:
    expires_at = datetime.now(UTC) + timedelta(days=days)
    response = edge.post(
        shares_path(),
        headers=login(edge, demo.PATIENT),
        json={
            "specialist_id": str(demo.DOCTOR_SPECIALIST_ID),
            "scopes": scopes,
            "expires_at": expires_at.isoformat(),
        },
    )
    assert response.status_code == 201, response.text
    share: dict[str, Any] = response.json()
    return share


def revoke(edge: httpx.Client, share: dict[str, Any]) -> None:
    response = edge.delete(
        f"{shares_path()}/{share['share_id']}", headers=login(edge, demo.PATIENT)
    )
    assert response.status_code == 200, response.text
    assert response.json()["active"] is False


def test_the_demo_doctor_is_a_registry_specialist(edge: httpx.Client) -> None:
    card = edge.get(f"/api/v1/specialists/{demo.DOCTOR_SPECIALIST_ID}")
    assert card.status_code == 200, card.text
    assert card.json()["full_name"] == demo.DOCTOR.full_name


def test_a_share_longer_than_90_days_or_by_a_stranger_is_refused(edge: httpx.Client) -> None:
    body = {
        "specialist_id": str(demo.DOCTOR_SPECIALIST_ID),
        "scopes": ["services"],
        "expires_at": (datetime.now(UTC) + timedelta(days=91)).isoformat(),
    }
    too_long = edge.post(shares_path(), headers=login(edge, demo.PATIENT), json=body)
    assert too_long.status_code == 422, too_long.text
    patient = account_id(edge, demo.PATIENT)
    body["expires_at"] = (datetime.now(UTC) + timedelta(days=5)).isoformat()
    stranger = edge.post(shares_path(patient), headers=login(edge, demo.CHILD_OVER_15), json=body)
    assert stranger.status_code == 404, stranger.text


def test_the_doctor_reads_exactly_the_shared_scopes_until_the_share_is_revoked(
    edge: httpx.Client,
) -> None:
    created = upload(edge, demo.PATIENT, a_pdf(), "выписка.pdf", kind="discharge_summary")
    assert created.status_code == 201, created.text
    patient = account_id(edge, demo.PATIENT)
    doctor = login(edge, demo.DOCTOR)
    services = f"/api/v1/patients/{patient}/services"
    files = f"/api/v1/patients/{patient}/emk/files"
    assert edge.get(services, headers=doctor).status_code == 404  # nothing shared yet

    share = open_share(edge, ["services"])
    assert share["active"] is True
    listed = edge.get(shares_path(), headers=login(edge, demo.PATIENT)).json()["items"]
    assert share["share_id"] in {s["share_id"] for s in listed}
    seen = edge.get(services, headers=doctor)
    assert seen.status_code == 200, seen.text
    assert seen.json()["patient"]["snils"] == demo.PATIENT.snils
    assert edge.get(files, headers=doctor).status_code == 404  # files were not shared
    assert edge.get(f"{files}/{created.json()['id']}", headers=doctor).status_code == 404

    files_share = open_share(edge, ["files"])
    shared_files = edge.get(files, headers=doctor)
    assert shared_files.status_code == 200, shared_files.text
    assert created.json()["id"] in {f["id"] for f in shared_files.json()["items"]}

    journal = edge.get(
        f"/api/v1/patients/{patient}/access-log", headers=login(edge, demo.PATIENT)
    ).json()["items"]
    doctor_id = account_id(edge, demo.DOCTOR)
    reads = [e for e in journal if e["actor_id"] == doctor_id]
    assert {(e["what"], e["basis"], e["basis_document_id"]) for e in reads} >= {
        ("list", "share", share["share_id"]),
        ("files", "share", files_share["share_id"]),
    }

    revoke(edge, share)
    revoke(edge, files_share)
    assert edge.get(services, headers=doctor).status_code == 404
    assert edge.get(files, headers=doctor).status_code == 404


@pytest.fixture(scope="module")
def demo_lab_results(stack: DevStack, amqp_url: str) -> tuple[ReportedLabResult, ...]:
    """The demo patient's lab results (glucose, cholesterol and haemoglobin on several dates),
    reported by the demo laboratory through the clinics' door as `make run` loads them."""
    results = demo_results(demo.PATIENT, datetime.now(UTC).date(), prefix="emk-e2e")
    report = ReportLabResults(organization_id=demo_laboratory(Catalogue.demo()), results=results)
    accepted = asyncio.run(send_lab_results(amqp_url, report))
    assert accepted.created + accepted.unchanged == len(results)
    return results


@pytest.fixture(scope="module")
def demo_visits(stack: DevStack, amqp_url: str) -> None:
    """The demo patient consents to clinic data and the demo clinics report 24 services over
    three years, answered once records has written them."""
    with httpx.Client(base_url=stack.base_url, timeout=30) as edge:
        consent = edge.put(
            "/api/v1/patients/me/consents",
            json={"all_clinics": True},
            headers=login(edge, demo.PATIENT),
        )
        assert consent.status_code == 200, consent.text
    services = service_history(demo.PATIENT, 24, Catalogue.demo(), prefix="emk-e2e")
    answers = asyncio.run(publish_services(amqp_url, list(service_reports(services))))
    assert sum(a.created + a.unchanged for a in answers) == 24


def test_a_doctor_shared_only_lab_results_reads_them_but_not_files_until_revoked(
    edge: httpx.Client, demo_lab_results: tuple[ReportedLabResult, ...]
) -> None:
    created = upload(edge, demo.PATIENT, a_pdf(), "анализы.pdf")
    assert created.status_code == 201, created.text
    patient = account_id(edge, demo.PATIENT)
    doctor = login(edge, demo.DOCTOR)
    lab_results = f"/api/v1/patients/{patient}/lab-results"
    files = f"/api/v1/patients/{patient}/emk/files"
    assert edge.get(lab_results, headers=doctor).status_code == 404  # nothing shared yet

    share = open_share(edge, ["lab_results"])
    seen = edge.get(lab_results, params={"limit": 100}, headers=doctor)
    assert seen.status_code == 200, seen.text
    studies = {item["study_name"] for item in seen.json()["items"]}
    assert {r.study_name for r in demo_lab_results} <= studies
    assert edge.get(files, headers=doctor).status_code == 404  # files were not shared
    assert edge.get(f"{files}/{created.json()['id']}", headers=doctor).status_code == 404

    journal = edge.get(
        f"/api/v1/patients/{patient}/access-log", headers=login(edge, demo.PATIENT)
    ).json()["items"]
    doctor_id = account_id(edge, demo.DOCTOR)
    reads = {
        (e["what"], e["basis"], e["basis_document_id"])
        for e in journal
        if e["actor_id"] == doctor_id
    }
    assert ("lab-list", "share", share["share_id"]) in reads
    assert not {what for what, _, basis_id in reads if basis_id == share["share_id"]} - {"lab-list"}

    revoke(edge, share)
    assert edge.get(lab_results, headers=doctor).status_code == 404
    assert edge.get(files, headers=doctor).status_code == 404


def chart_boxes(pdf: bytes) -> list[int]:
    """Per page, how many boxes with a chart's proportions are drawn: WeasyPrint clips every
    picture it draws to its box (`x y w h re W n`, then the picture's own drawing), so a page
    with two charts has two such boxes (the QR code's is square, the tables' are not)."""
    reader = PdfReader(io.BytesIO(pdf))
    ratio = WIDTH_INCHES / HEIGHT_INCHES
    counts = []
    for page in reader.pages:
        operations = ContentStream(page.get_contents(), reader).operations
        boxes = [
            (float(operands[2]), float(operands[3]))
            for (operands, operator), (_, following) in itertools.pairwise(operations)
            if operator == b"re" and following in (b"W", b"W*")
        ]
        counts.append(
            sum(1 for width, height in boxes if height and abs(width / height - ratio) < 0.01)
        )
    return counts


def test_the_dynamics_report_charts_each_asked_analyte_and_verifies(
    edge: httpx.Client,
    demo_lab_results: tuple[ReportedLabResult, ...],
    demo_visits: None,
    tmp_path: Path,
) -> None:
    today = datetime.now(UTC).date()
    start = today - timedelta(days=330)
    listed = edge.get(
        "/api/v1/patients/me/services",
        params={"from": start.isoformat(), "to": today.isoformat(), "limit": 100},
        headers=login(edge, demo.PATIENT),
    )
    assert listed.status_code == 200, listed.text
    visit_days = {date.fromisoformat(i["rendered_on"]) for i in listed.json()["items"]}
    assert visit_days  # the demo history has visits in the period
    asked = edge.post(
        "/api/v1/patients/me/documents",
        headers=login(edge, demo.PATIENT),
        json={
            "kind": "dynamics",
            "format": "pdf",
            "from": start.isoformat(),
            "to": today.isoformat(),
            "analytes": ["GLU", "718-7"],  # glucose by the laboratory's code, haemoglobin by LOINC
        },
    )
    assert asked.status_code == 202, asked.text
    document = wait_ready(edge, asked.json()["document_id"], within=120)
    assert document["kind"] == "dynamics"

    pdf = edge.get(
        f"/api/v1/documents/{document['document_id']}/file", headers=login(edge, demo.PATIENT)
    )
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    path = tmp_path / "dynamics.pdf"
    path.write_bytes(pdf.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert "ДИНАМИКА ЛАБОРАТОРНЫХ ПОКАЗАТЕЛЕЙ" in text
    assert "Глюкоза, ммоль/л" in text
    assert "Гемоглобин, г/л" in text
    assert "Холестерин" not in text  # not asked for
    assert "7.2 (вне нормы)" in text  # the demo glucose 100 days ago
    assert document["number"] in text
    assert sum(chart_boxes(pdf.content)) == 2  # one chart per asked analyte
    _, visits = text.split("Визиты за период")
    assert {day.strftime("%d.%m.%Y") for day in visit_days} <= set(
        re.findall(r"\d\d\.\d\d\.\d{4}", visits)
    )

    verified = edge.get(f"/api/v1/verify/{document['document_id']}")
    assert verified.status_code == 200, verified.text
    assert verified.json()["genuine"] is True
    assert verified.json()["kind"] == "dynamics"
    same_file = edge.post(f"/api/v1/verify/{document['document_id']}", content=pdf.content)
    assert same_file.json()["file_matches"] is True


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"analytes": ["GLU", "NO-SUCH"]}, "no_lab_values"),
        ({"from": "2019-01-01", "to": "2019-12-31"}, "no_lab_values"),
        ({"from": "2026-05-01", "to": "2026-01-01"}, "validation_failed"),
        ({"from": "2026-05-01"}, "validation_failed"),
        ({"format": "xlsx"}, "validation_failed"),
    ],
    ids=["unknown-analyte", "no-values", "to-before-from", "from-alone", "not-pdf"],
)
def test_a_dynamics_report_that_cannot_be_made_is_a_problem(
    edge: httpx.Client,
    demo_lab_results: tuple[ReportedLabResult, ...],
    body: dict[str, Any],
    code: str,
) -> None:
    response = edge.post(
        "/api/v1/patients/me/documents",
        headers=login(edge, demo.PATIENT),
        json={"kind": "dynamics", **body},
    )
    assert response.status_code == 422, response.text
    assert problem_code(response) == code
    assert response.json()["detail"]


def clinic_prescription(
    clinic: UUID, version: int = 1, dose: str = "500 мг"
) -> ReportPrescriptions:
    return ReportPrescriptions(
        organization_id=clinic,
        prescriptions=(
            ReportedPrescription(
                clinic_prescription_id=f"rx-{uuid.uuid4().hex[:12]}",
                version=version,
                patient_snils=demo.PATIENT.snils,
                medicine="Метформин",
                dose=dose,
                schedule="2 раза в день",
                issued_on=date(2026, 11, 28),
                start_on=date(2026, 11, 28),
                preferential=True,
            ),
        ),
    )


def report_as_clinic(amqp_url: str, *reports: tuple[str, Report]) -> list[ReportAccepted]:
    return asyncio.run(publish(amqp_url, list(reports)))


def test_clinic_prescriptions_and_referrals_reach_the_patient_once_and_versioned(
    edge: httpx.Client, amqp_url: str
) -> None:
    clinic = CLINICS[2]
    first = clinic_prescription(clinic)
    referral = ReportReferrals(
        organization_id=clinic,
        referrals=(
            ReportedReferral(
                clinic_referral_id=f"ref-{uuid.uuid4().hex[:12]}",
                patient_snils=demo.PATIENT.snils,
                to_whom="Врач-кардиолог",
                reason="Консультация по поводу давления",
                issued_on=date(2026, 11, 29),
                valid_until=date(2026, 12, 29),
            ),
        ),
    )
    answers = report_as_clinic(
        amqp_url,
        (PRESCRIPTIONS_QUEUE, first),
        (PRESCRIPTIONS_QUEUE, first),
        (REFERRALS_QUEUE, referral),
    )
    assert [(a.created, a.unchanged) for a in answers] == [(1, 0), (0, 1), (1, 0)]
    newer = first.model_copy(
        update={
            "prescriptions": (
                first.prescriptions[0].model_copy(update={"version": 2, "dose": "850 мг"}),
            )
        }
    )
    [updated] = report_as_clinic(amqp_url, (PRESCRIPTIONS_QUEUE, newer))
    assert updated.updated == 1

    headers = login(edge, demo.PATIENT)
    page = edge.get("/api/v1/patients/me/prescriptions", params={"limit": 100}, headers=headers)
    assert page.status_code == 200, page.text
    mine = [p for p in page.json()["items"] if p["organization_id"] == str(clinic)]
    doses = {
        p["dose"] for p in mine if p["medicine"] == "Метформин" and p["issued_on"] == "2026-11-28"
    }
    assert "850 мг" in doses
    assert "500 мг" not in doses
    assert all(p["preferential"] for p in mine if p["medicine"] == "Метформин")
    referrals = edge.get("/api/v1/patients/me/referrals", headers=headers)
    assert referrals.status_code == 200, referrals.text
    assert "Консультация по поводу давления" in {r["reason"] for r in referrals.json()["items"]}
    stranger = edge.get(
        f"/api/v1/patients/{account_id(edge, demo.PATIENT)}/prescriptions",
        headers=login(edge, demo.CHILD_OVER_15),
    )
    assert stranger.status_code == 404


def test_prescriptions_page_with_a_cursor(edge: httpx.Client, amqp_url: str) -> None:
    clinic = CLINICS[1]
    report_as_clinic(
        amqp_url, *((PRESCRIPTIONS_QUEUE, clinic_prescription(clinic)) for _ in range(3))
    )
    headers = login(edge, demo.PATIENT)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = edge.get("/api/v1/patients/me/prescriptions", params=params, headers=headers).json()
        seen.extend(p["id"] for p in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) >= 3


def test_an_invalid_prescription_is_dead_lettered_with_its_reason(amqp_url: str) -> None:
    report = clinic_prescription(CLINICS[0])

    async def publish_invalid() -> aio_pika.abc.AbstractIncomingMessage:
        connection = await aio_pika.connect(amqp_url)
        async with connection, clinic_connection(amqp_url, report.organization_id) as clinic:
            channel = await connection.channel()
            dead = await channel.get_queue(topology.dead_letter_queue(PRESCRIPTIONS_QUEUE))
            await dead.purge()
            body = json.loads(report.model_dump_json())
            body["prescriptions"][0]["start_on"] = "31.12.2025"
            door = await clinic.channel.get_exchange(CLINIC_INTAKE_EXCHANGE, ensure=False)
            await door.publish(
                aio_pika.Message(
                    json.dumps(body).encode(), message_id="bad-rx", user_id=clinic.user
                ),
                PRESCRIPTIONS_QUEUE,
            )
            return await poll_next_message(dead, within=10)

    dead = asyncio.run(publish_invalid())
    headers = dead.headers or {}
    assert headers[topology.HEADER_ERROR_CODE] == "validation_failed"
    assert "prescriptions.0.start_on" in str(headers[topology.HEADER_ERROR_REASON])
    assert demo.PATIENT.snils not in str(headers[topology.HEADER_ERROR_REASON])
