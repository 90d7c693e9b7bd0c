"""Rendered services end to end: a clinic publishes over the broker, the patient (or whoever
their legal basis allows) reads through the edge, every read is journaled."""

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any
from uuid import UUID

import aio_pika
import httpx
import pytest

from gosmed.contracts import demo, topology
from gosmed.contracts.access import AccessContext
from gosmed.contracts.errors import ServiceError
from gosmed.contracts.records.intake import (
    RENDERED_SERVICES,
    Diagnosis,
    ReportAccepted,
    ReportRenderedServices,
    RequestClinicSync,
)
from gosmed.contracts.records.queries import (
    EXPORT_SERVICES,
    ExportRenderedServices,
    RenderedServicesExport,
)
from gosmed.contracts.records.views import Cost, CostKind, Coverage, CoverageKind
from gosmed.contracts.registry.catalog import ServiceCategory
from gosmed.contracts.topology import CLINIC_INTAKE_EXCHANGE
from gosmed.identity.demo import account_id
from gosmed.records.domain import is_restricted, record_id
from gosmed.records.simulator import Catalogue, history, publish, reports
from gosmed.runtime.devstack import DevStack
from gosmed.runtime.rpc import RpcClient
from gosmed.runtime.testing import clinic_connection, poll_next_message
from tests.e2e.identity_support import DEMO_ENV, login

PROBLEM_JSON = "application/problem+json"
QUEUE = topology.command_queue(topology.Service.RECORDS, RENDERED_SERVICES)
CATALOGUE = Catalogue.demo()
CLINICS = {card.id: card for card in CATALOGUE.clinics}


@pytest.fixture(scope="module")
def stack_env() -> dict[str, str]:
    return DEMO_ENV


def clinic_report(
    person: demo.DemoPerson, count: int, clinic_index: int, *, sync_queue: str | None = None
) -> ReportRenderedServices:
    """A report of `count` new services of `person` from one demo clinic (unique record ids)."""
    clinic = CATALOGUE.clinics[clinic_index].id
    services = history(person, count, CATALOGUE, clinic=clinic, prefix=uuid.uuid4().hex[:8])
    return next(reports(services, sync_queue=sync_queue))


def send(amqp_url: str, *batches: ReportRenderedServices) -> list[ReportAccepted]:
    """Publish as the clinic does and wait until records has stored each report."""
    return asyncio.run(publish(amqp_url, list(batches)))


def ids_of(report: ReportRenderedServices) -> set[str]:
    return {str(record_id(report.organization_id, s.clinic_record_id)) for s in report.services}


SPECIALTIES = {
    card.id: card.specialty for cards in CATALOGUE.specialists.values() for card in cards
}


def unrestricted_ids(report: ReportRenderedServices) -> set[str]:
    """Records in no restricted category (by diagnosis, service code or the doctor's
    specialty): those a representative sees too."""
    return {
        str(record_id(report.organization_id, s.clinic_record_id))
        for s in report.services
        if not is_restricted(
            s.diagnosis.code if s.diagnosis else None,
            s.service_code,
            SPECIALTIES.get(s.specialist_id) if s.specialist_id else None,
            s.category,
        )
    }


def services(
    edge: httpx.Client, person: demo.DemoPerson, patient: str = "me", **params: Any
) -> Any:
    response = edge.get(
        f"/api/v1/patients/{patient}/services", params=params, headers=login(edge, person)
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_clinic_message_appears_in_the_list_with_the_clinic_and_doctor(
    edge: httpx.Client, amqp_url: str
) -> None:
    report = clinic_report(demo.PATIENT, 4, clinic_index=0)
    [accepted] = send(amqp_url, report)
    assert accepted.created == 4

    page = services(edge, demo.PATIENT, organization_id=str(report.organization_id))

    assert {item["id"] for item in page["items"]} == ids_of(report)
    card = CLINICS[report.organization_id]
    for item in page["items"]:
        assert item["organization_name"] == card.short_name
        assert item["organization_address"] == card.address.one_line
    with_doctor = [i for i in page["items"] if i["specialist_id"]]
    assert with_doctor
    assert all(i["specialist_name"] for i in with_doctor)
    days = [item["rendered_on"] for item in page["items"]]
    assert days == sorted(days, reverse=True)  # newest first, ISO 8601
    assert page["patient"]["snils"] == demo.PATIENT.snils
    assert page["notices"] == []


def test_same_message_twice_gives_one_record(edge: httpx.Client, amqp_url: str) -> None:
    report = clinic_report(demo.CHILD_OVER_15, 2, clinic_index=1)
    first, again = send(amqp_url, report, report)

    assert (first.created, again.created, again.unchanged) == (2, 0, 2)
    page = services(edge, demo.CHILD_OVER_15, organization_id=str(report.organization_id))
    assert sorted(item["id"] for item in page["items"]) == sorted(ids_of(report))


def test_newer_version_updates_the_record_and_keeps_its_history(
    edge: httpx.Client, amqp_url: str
) -> None:
    report = clinic_report(demo.PATIENT, 1, clinic_index=2)
    item = report.services[0]
    repriced = item.model_copy(
        update={"version": 2, "cost": Cost(kind=CostKind.EXACT, amount=123_400)}
    )
    send(amqp_url, report)
    [updated] = send(amqp_url, report.model_copy(update={"services": (repriced,)}))
    assert updated.updated == 1

    [ident] = ids_of(report)
    response = edge.get(f"/api/v1/patients/me/services/{ident}", headers=login(edge, demo.PATIENT))

    assert response.status_code == 200, response.text
    detail = response.json()
    assert detail["item"]["cost"] == {"kind": "exact", "amount": 123_400, "comment": None}
    assert [v["version"] for v in detail["history"]] == [1, 2]
    assert [row["cost"] for row in detail["cost_history"]] == [
        item.cost.model_dump(mode="json"),
        {"kind": "exact", "amount": 123_400, "comment": None},
    ]
    assert detail["organization"]["id"] == str(report.organization_id)
    assert detail["clinic_record_id"] == item.clinic_record_id


def test_invalid_message_is_dead_lettered_and_the_consumer_goes_on(
    edge: httpx.Client, amqp_url: str
) -> None:
    async def publish_invalid_and_read_dead_letter() -> aio_pika.abc.AbstractIncomingMessage:
        connection = await aio_pika.connect(amqp_url)
        report = clinic_report(demo.PATIENT, 1, clinic_index=3)
        async with connection, clinic_connection(amqp_url, report.organization_id) as clinic:
            channel = await connection.channel()
            dead = await channel.get_queue(topology.dead_letter_queue(QUEUE))
            await dead.purge()
            body = json.loads(report.model_dump_json())
            body["services"][0]["rendered_on"] = "31.12.2025"
            body["services"][0]["cost"] = {"kind": "exact"}
            door = await clinic.channel.get_exchange(CLINIC_INTAKE_EXCHANGE, ensure=False)
            await door.publish(
                aio_pika.Message(
                    json.dumps(body).encode(), message_id="bad-report", user_id=clinic.user
                ),
                QUEUE,
            )
            return await poll_next_message(dead, within=10)

    dead = asyncio.run(publish_invalid_and_read_dead_letter())

    assert dead.message_id == "bad-report"
    headers = dead.headers or {}
    assert headers[topology.HEADER_ERROR_CODE] == "validation_failed"
    reason = str(headers[topology.HEADER_ERROR_REASON])
    assert "services.0.rendered_on" in reason
    assert "services.0.cost" in reason
    valid = clinic_report(demo.PATIENT, 1, clinic_index=3)
    [accepted] = send(amqp_url, valid)
    assert accepted.created == 1
    page = services(edge, demo.PATIENT, organization_id=str(valid.organization_id))
    assert ids_of(valid) <= {item["id"] for item in page["items"]}


def access_log(edge: httpx.Client, person: demo.DemoPerson, patient: str = "me") -> Any:
    response = edge.get(f"/api/v1/patients/{patient}/access-log", headers=login(edge, person))
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_another_patients_record_is_404_to_a_stranger_and_journaled_nowhere(
    edge: httpx.Client, amqp_url: str
) -> None:
    report = clinic_report(demo.PATIENT, 1, clinic_index=4)
    send(amqp_url, report)
    [ident] = ids_of(report)
    patient = account_id(demo.PATIENT)
    stranger = demo.CHILD_OVER_15
    before = access_log(edge, demo.PATIENT)

    for path in (f"/patients/{patient}/services/{ident}", f"/patients/{patient}/services"):
        response = edge.get(f"/api/v1{path}", headers=login(edge, stranger))
        assert response.status_code == 404, response.text
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.json()["code"] == "not_found"
    # the stranger's own record id under their own account: also 404, no hint it exists
    mine = edge.get(f"/api/v1/patients/me/services/{ident}", headers=login(edge, stranger))
    assert mine.status_code == 404

    after = access_log(edge, demo.PATIENT)
    stranger_id = str(account_id(stranger))
    assert not [e for e in after if e["actor_id"] == stranger_id]
    assert len(after) == len(before)
    assert not [e for e in access_log(edge, stranger) if ident in e["record_ids"]]


def test_parent_sees_the_childs_records_and_the_journal_shows_the_parents_basis(
    edge: httpx.Client, amqp_url: str
) -> None:
    report = clinic_report(demo.CHILD_UNDER_15, 3, clinic_index=5)
    send(amqp_url, report)
    child = account_id(demo.CHILD_UNDER_15)

    page = services(edge, demo.PARENT, str(child))

    assert unrestricted_ids(report) <= {item["id"] for item in page["items"]}
    assert page["patient"]["snils"] == demo.CHILD_UNDER_15.snils
    [entry, *_] = access_log(edge, demo.PARENT, str(child))
    assert entry["actor_id"] == str(account_id(demo.PARENT))
    assert entry["basis"] == "parent_of_minor"
    assert entry["what"] == "list"
    assert set(entry["record_ids"]) >= unrestricted_ids(report)


def test_restricted_diagnosis_is_hidden_from_a_representative_but_not_the_patient(
    edge: httpx.Client, amqp_url: str
) -> None:
    report = clinic_report(demo.PATIENT, 1, clinic_index=6)
    item = report.services[0].model_copy(
        update={"diagnosis": Diagnosis(code="F41.1", text="Тревожное расстройство")}
    )
    send(amqp_url, report.model_copy(update={"services": (item,)}))
    [ident] = ids_of(report)
    patient = str(account_id(demo.PATIENT))

    own = services(edge, demo.PATIENT, organization_id=str(report.organization_id))
    delegated = services(edge, demo.REPRESENTATIVE, patient)

    assert ident in {i["id"] for i in own["items"]}
    assert ident not in {i["id"] for i in delegated["items"]}
    [hidden] = [n for n in delegated["notices"] if n["code"] == "restricted_hidden"]
    assert hidden.get("count") is None  # a number would tell of psychiatric care
    assert "restricted_hidden" not in {n["code"] for n in own["notices"]}
    detail = edge.get(
        f"/api/v1/patients/{patient}/services/{ident}", headers=login(edge, demo.REPRESENTATIVE)
    )
    assert detail.status_code == 404
    [entry, *_] = access_log(edge, demo.PATIENT)
    assert entry["basis"] == "power_of_attorney"
    assert "77 АА 1234567" in entry["basis_label"]


def test_without_consent_records_are_kept_but_not_shown_and_the_answer_says_so(
    edge: httpx.Client, amqp_url: str
) -> None:
    report = clinic_report(demo.CHILD_OVER_15, 2, clinic_index=2)
    send(amqp_url, report)
    headers = login(edge, demo.CHILD_OVER_15)
    other_clinic = str(CATALOGUE.clinics[0].id)

    chosen = edge.put(
        "/api/v1/patients/me/consents",
        json={"all_clinics": False, "organization_ids": [other_clinic]},
        headers=headers,
    )
    assert chosen.status_code == 200, chosen.text
    hidden = services(edge, demo.CHILD_OVER_15)
    restored = edge.put("/api/v1/patients/me/consents", json={"all_clinics": True}, headers=headers)
    shown = services(edge, demo.CHILD_OVER_15)

    assert not ids_of(report) & {i["id"] for i in hidden["items"]}
    [consent_notice] = [n for n in hidden["notices"] if n["code"] == "consent_missing"]
    assert consent_notice["count"] >= 2
    assert restored.json()["all_clinics"] is True
    assert ids_of(report) <= {i["id"] for i in shown["items"]}
    bad = edge.put("/api/v1/patients/me/consents", json={"all": True}, headers=headers)
    assert bad.status_code == 422
    assert bad.headers["content-type"] == PROBLEM_JSON


def test_filters_presets_text_and_cursor_pages(edge: httpx.Client, amqp_url: str) -> None:
    report = clinic_report(demo.CHILD_OVER_15, 24, clinic_index=3)
    send(amqp_url, report)
    org = str(report.organization_id)

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"organization_id": org, "limit": 5}
        if cursor:
            params["cursor"] = cursor
        page = services(edge, demo.CHILD_OVER_15, **params)
        seen += [i["rendered_on"] + i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 24
    assert seen == sorted(seen, reverse=True)

    labs = services(edge, demo.CHILD_OVER_15, organization_id=org, category="laboratory")
    assert labs["items"]
    assert {i["category"] for i in labs["items"]} == {"laboratory"}
    oms = services(edge, demo.CHILD_OVER_15, organization_id=org, coverage="oms")
    assert {i["coverage"]["kind"] for i in oms["items"]} == {"oms"}
    word = report.services[0].service_name.split()[0]
    found = services(edge, demo.CHILD_OVER_15, organization_id=org, q=word.upper())
    assert all(word.lower() in i["service_name"].lower() for i in found["items"])
    assert found["items"]
    span = services(edge, demo.CHILD_OVER_15, **{"from": "2025-01-01", "to": "2025-12-31"})
    assert all(i["rendered_on"].startswith("2025") for i in span["items"])
    year = services(edge, demo.CHILD_OVER_15, period="last_year", limit=100)
    assert len(year["items"]) < len(seen)

    headers = login(edge, demo.CHILD_OVER_15)
    for params in ({"from": "2025-02-01", "to": "2025-01-01"}, {"cursor": "nonsense"}):
        response = edge.get("/api/v1/patients/me/services", params=params, headers=headers)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == PROBLEM_JSON


def test_refresh_asks_each_clinic_once_and_the_list_says_processing(
    edge: httpx.Client, amqp_url: str
) -> None:
    organization_id = CATALOGUE.clinics[0].id
    sync_queue = topology.clinic_queue(organization_id, topology.CLINIC_SYNC_REQUESTS)

    async def empty() -> None:
        async with clinic_connection(amqp_url, organization_id) as clinic:
            await (await clinic.channel.get_queue(sync_queue)).purge()

    asyncio.run(empty())
    report = clinic_report(demo.INSPECTOR, 1, clinic_index=0, sync_queue=sync_queue)
    assert report.organization_id == organization_id
    send(amqp_url, report)
    headers = login(edge, demo.INSPECTOR)
    edge.put("/api/v1/patients/me/consents", json={"all_clinics": True}, headers=headers)

    first = edge.post("/api/v1/patients/me/services:refresh", headers=headers)
    again = edge.post("/api/v1/patients/me/services:refresh", headers=headers)

    assert first.status_code == 200, first.text
    [status] = first.json()["clinics"]
    assert status["organization_id"] == str(report.organization_id)
    assert status["state"] == "requested"
    assert status["organization_name"] == CLINICS[report.organization_id].short_name
    assert [c["state"] for c in again.json()["clinics"]] == ["already_requested"]
    assert "processing" in {n["code"] for n in services(edge, demo.INSPECTOR)["notices"]}

    async def answer_as_the_clinic() -> list[RequestClinicSync]:
        async with clinic_connection(amqp_url, organization_id) as clinic:
            queue = await clinic.channel.get_queue(sync_queue)
            requests = []
            while (message := await queue.get(fail=False, no_ack=True)) is not None:
                requests.append(RequestClinicSync.model_validate_json(message.body))
            return requests

    requests = asyncio.run(answer_as_the_clinic())
    assert [r.patient_snils for r in requests] == [demo.INSPECTOR.snils]  # one, not two
    send(amqp_url, report)
    assert "processing" not in {n["code"] for n in services(edge, demo.INSPECTOR)["notices"]}


def test_export_for_documents_is_authorized_and_journaled(
    edge: httpx.Client, amqp_url: str
) -> None:
    report = clinic_report(demo.CHILD_OVER_15, 3, clinic_index=4)
    send(amqp_url, report)
    teen = account_id(demo.CHILD_OVER_15)
    one = sorted(ids_of(report))[0]

    async def export(actor: UUID, **filters: Any) -> RenderedServicesExport:
        rpc = RpcClient(amqp_url)
        await rpc.connect()
        try:
            context = AccessContext(actor_id=actor, patient_id=teen)
            return await rpc.call(
                EXPORT_SERVICES, ExportRenderedServices(context=context, **filters)
            )
        finally:
            await rpc.close()

    everything = asyncio.run(export(teen))
    single = asyncio.run(export(teen, record_ids=(UUID(one),)))

    assert ids_of(report) <= {str(i.id) for i in everything.items}
    assert [str(i.id) for i in single.items] == [one]
    assert single.items[0].organization_name == CLINICS[report.organization_id].short_name
    assert not single.truncated
    [entry, *_] = access_log(edge, demo.CHILD_OVER_15)
    assert (entry["what"], entry["record_ids"]) == ("export", [one])
    with pytest.raises(ServiceError, match="Пациент не найден"):
        asyncio.run(export(account_id(demo.PATIENT)))


def test_access_log_cannot_be_edited_or_deleted(edge: httpx.Client) -> None:
    headers = login(edge, demo.PATIENT)
    for method in ("DELETE", "PUT", "PATCH", "POST"):
        response = edge.request(method, "/api/v1/patients/me/access-log", headers=headers)
        assert response.status_code == 405
    representative = edge.get(
        f"/api/v1/patients/{account_id(demo.PATIENT)}/access-log",
        headers=login(edge, demo.REPRESENTATIVE),
    )
    assert representative.status_code == 403


@pytest.fixture
def stop_registry(stack: DevStack, edge: httpx.Client) -> Iterator[Callable[[], None]]:
    """Stops the registry for good when the test calls it; started again after the test."""
    stopped: list[str] = []

    def stop() -> None:
        stack.stop_process("registry")
        stopped.append("registry")

    yield stop
    if not stopped:
        return
    stack.start_process("registry")
    deadline = time.monotonic() + 30
    while edge.get("/readyz").status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.2)


def wait_for_log(stack: DevStack, process: str, line: str, within: float = 30) -> None:
    assert stack.log_dir is not None
    log = stack.log_dir / f"{process}.log"
    deadline = time.monotonic() + within
    while line not in log.read_text(errors="replace"):
        assert time.monotonic() < deadline, f"{process} did not log «{line}»"
        time.sleep(0.2)


def test_registry_stopped_leaves_the_list_with_its_cards_and_the_detail_without(
    stack: DevStack, edge: httpx.Client, amqp_url: str, stop_registry: Callable[[], None]
) -> None:
    report = clinic_report(demo.PATIENT, 2, clinic_index=5)
    unlisted = clinic_report(demo.PATIENT, 1, clinic_index=5).model_copy(
        update={"organization_id": uuid.uuid4()}  # a clinic the registry does not know
    )
    send(amqp_url, report, unlisted)
    wait_for_log(stack, "records", "registry cards copied")  # records' start-up copy

    stop_registry()
    page = services(edge, demo.PATIENT, organization_id=str(report.organization_id))

    assert {item["id"] for item in page["items"]} == ids_of(report)
    card = CLINICS[report.organization_id]
    assert {item["organization_name"] for item in page["items"]} == {card.short_name}
    assert {item["organization_address"] for item in page["items"]} == {card.address.one_line}
    doctors = [i["specialist_name"] for i in page["items"] if i["specialist_id"]]
    assert doctors
    assert all(doctors)
    assert "registry_unavailable" not in {n["code"] for n in page["notices"]}
    lacking = services(edge, demo.PATIENT, organization_id=str(unlisted.organization_id))
    assert [item["organization_name"] for item in lacking["items"]] == [None]
    assert "registry_unavailable" in {n["code"] for n in lacking["notices"]}
    [ident, *_] = ids_of(report)
    detail = edge.get(f"/api/v1/patients/me/services/{ident}", headers=login(edge, demo.PATIENT))
    assert detail.status_code == 200
    assert detail.json()["organization"] is None  # the full card is the registry's to give


def test_price_check_flags_a_charge_above_the_tariff_with_its_document(
    edge: httpx.Client, amqp_url: str
) -> None:
    private = CATALOGUE.clinics[6]  # a private clinic with its own price list in the registry
    [paid_service, *_] = CATALOGUE.services[ServiceCategory.PAID]
    report = clinic_report(demo.PATIENT, 1, clinic_index=6)
    item = report.services[0].model_copy(
        update={
            "service_code": paid_service.code,
            "service_name": paid_service.name,
            "category": ServiceCategory.PAID,
            "rendered_on": date(2026, 3, 2),
            "cost": Cost(kind=CostKind.EXACT, amount=99_000_000),
            "coverage": Coverage(kind=CoverageKind.PAID_BY_PATIENT),
        }
    )
    send(amqp_url, report.model_copy(update={"services": (item,)}))
    [ident] = ids_of(report)

    response = edge.get(f"/api/v1/patients/me/services/{ident}", headers=login(edge, demo.PATIENT))

    assert response.status_code == 200, response.text
    detail = response.json()
    tariff = detail["tariff"]
    assert tariff["service_code"] == paid_service.code
    assert tariff["organization_id"] == str(private.id)
    [flag] = detail["price_flags"]
    assert flag["code"] == "above_tariff"
    assert tariff["document"]["number"] in flag["message"]


def test_a_new_record_reaches_the_patients_inbox_through_identity(
    edge: httpx.Client, amqp_url: str
) -> None:
    headers = login(edge, demo.CHILD_OVER_15)

    def record_notices() -> list[Any]:
        response = edge.get("/api/v1/me/notifications", headers=headers)
        assert response.status_code == 200, response.text
        return [n for n in response.json()["notifications"] if n["category"] == "record_added"]

    before = len(record_notices())
    send(amqp_url, clinic_report(demo.CHILD_OVER_15, 2, clinic_index=1))

    deadline = time.monotonic() + 10
    while len(notices := record_notices()) == before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(notices) == before + 1  # one notice for the report, not one per record
    assert "2" in notices[0]["body"]
    assert notices[0]["link"] == "/patients/me/services"


def test_the_patients_journal_names_the_representative_and_the_insurers_organization(
    edge: httpx.Client, amqp_url: str
) -> None:
    report = clinic_report(demo.PATIENT, 1, clinic_index=6)
    send(amqp_url, report)
    patient = str(account_id(demo.PATIENT))

    services(edge, demo.REPRESENTATIVE, patient)
    [by_insurer, by_representative, *_] = [
        entry for entry in services_then_log(edge, patient) if entry["actor"]
    ]

    assert by_representative["actor"]["label"] == "Смирнова О. П."
    assert "77 АА 1234567" in by_representative["basis_label"]
    assert by_insurer["actor"]["organization"] == "АО «Страховая компания»"
    assert by_insurer["actor"]["role"] == "insurer"
    assert by_insurer["actor"]["label"].startswith("Кузнецов А. В.")


def services_then_log(edge: httpx.Client, patient: str) -> Any:
    """The insurer reads the patient's services; then the patient's journal, newest first."""
    services(edge, demo.INSURER, patient)
    return access_log(edge, demo.PATIENT)
