"""Representatives of organizations end to end: the demo staff member of «ГП № 7» acts for the
clinic on its power of attorney (ДОВ-ГП7-2026-001) through the real edge and broker, with the
same use cases as the clinic's broker integration; not for another clinic, not beyond the
scopes granted, not after the power of attorney is revoked; every decision in the
organization's journal."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from gosmed.contracts import demo
from gosmed.contracts.records.intake import ReportRenderedServices
from gosmed.identity.demo import STAFF_POWER_OF_ATTORNEY_NUMBER
from gosmed.records.domain import record_id
from gosmed.records.simulator import Catalogue, history, publish, reports
from gosmed.registry import demo as registry_demo
from gosmed.runtime.testing import eventually
from tests.e2e.identity_support import DEMO_ENV, login

CATALOGUE = Catalogue.demo()
CLINIC, OTHER_CLINIC = CATALOGUE.clinics[0].id, CATALOGUE.clinics[1].id


@pytest.fixture(scope="module")
def stack_env() -> dict[str, str]:
    return DEMO_ENV


def report_one(amqp_url: str) -> str:
    """A new completed record of the demo patient from «ГП № 7»: its id."""
    services = history(demo.PATIENT, 1, CATALOGUE, clinic=CLINIC, prefix=uuid.uuid4().hex[:8])
    report: ReportRenderedServices = next(reports(services))
    asyncio.run(publish(amqp_url, [report]))
    return str(record_id(report.organization_id, report.services[0].clinic_record_id))


def of(organization: uuid.UUID, rest: str) -> str:
    return f"/api/v1/organizations/{organization}/{rest}"


def journal(edge: httpx.Client, headers: dict[str, str], organization: uuid.UUID) -> Any:
    response = edge.get(of(organization, "journal"), headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_the_demo_clinic_is_the_registry_entry_of_the_staff_organization() -> None:
    assert CLINIC == demo.STAFF_ORGANIZATION_ID
    assert CATALOGUE.clinics[0].short_name == "ГП № 7"


def test_staff_answer_a_correction_of_their_clinic_and_not_of_another(
    edge: httpx.Client, amqp_url: str
) -> None:
    patient, staff = login(edge, demo.PATIENT), login(edge, demo.CLINIC_STAFF)
    record = report_one(amqp_url)
    filed = edge.post(
        f"/api/v1/patients/me/services/{record}/corrections",
        json={"comment": "Такой услуги не было"},
        headers=patient,
    )
    assert filed.status_code == 201, filed.text
    correction = filed.json()

    listed = edge.get(of(CLINIC, "corrections"), headers=staff)
    assert listed.status_code == 200, listed.text
    assert correction["id"] in [c["id"] for c in listed.json()["items"]]

    answer_url = f"corrections/{correction['id']}/answer"
    reason = "Услуга подтверждена подписью пациента в медицинской карте"
    foreign = edge.post(
        of(OTHER_CLINIC, answer_url), json={"accepted": False, "reason": reason}, headers=staff
    )
    foreign_list = edge.get(of(OTHER_CLINIC, "corrections"), headers=staff)
    by_patient = edge.get(of(CLINIC, "corrections"), headers=patient)
    no_reason = edge.post(of(CLINIC, answer_url), json={"accepted": False}, headers=staff)
    for refused in (foreign, foreign_list, by_patient):
        assert (refused.status_code, refused.json()["code"]) == (403, "not_organization_staff")
    assert "не уполномочены" in foreign.json()["detail"]
    assert no_reason.status_code == 422, no_reason.text

    answered = edge.post(
        of(CLINIC, answer_url), json={"accepted": False, "reason": reason}, headers=staff
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "rejected"
    seen = edge.get(f"/api/v1/patients/me/corrections/{correction['id']}", headers=patient)
    assert (seen.json()["status"], seen.json()["reason"]) == ("rejected", reason)
    again = edge.post(
        of(CLINIC, answer_url), json={"accepted": True}, headers=staff
    )  # closed: the clinic's door says the same
    assert again.status_code == 409, again.text

    stats = edge.get(of(CLINIC, "corrections-stats"), headers=staff)
    assert stats.status_code == 200, stats.text
    assert stats.json()["rejected"] >= 1

    entries = journal(edge, staff, CLINIC)
    answers = [e for e in entries if e["subject"] and correction["id"] in e["subject"]]
    assert {(e["action"], e["allowed"]) for e in answers} == {("answer_corrections", True)}
    assert all(e["actor_name"] == "Морозова Т. Н." for e in answers)
    assert all(STAFF_POWER_OF_ATTORNEY_NUMBER in e["basis_label"] for e in answers)

    # the attempt for the other clinic is in that clinic's journal (operators read it)
    operator = login(edge, demo.OPERATOR)
    [attempt] = [
        e
        for e in journal(edge, operator, OTHER_CLINIC)
        if e["subject"] and correction["id"] in e["subject"]
    ]
    assert (attempt["allowed"], attempt["actor_name"]) == (False, "Морозова Т. Н.")


def test_staff_reply_to_a_review_of_their_clinic(edge: httpx.Client, amqp_url: str) -> None:
    patient, operator = login(edge, demo.PATIENT), login(edge, demo.OPERATOR)
    staff = login(edge, demo.CLINIC_STAFF)
    record = report_one(amqp_url)
    written = edge.post(
        f"/api/v1/patients/me/services/{record}/review",
        json={"score": 4, "text": "Приняли вовремя."},
        headers=patient,
    )
    assert written.status_code == 201, written.text
    review = written.json()
    approved = edge.post(f"/api/v1/moderation/reviews/{review['id']}/approve", headers=operator)
    assert approved.status_code == 200, approved.text

    text = "Спасибо за отзыв! Ждём вас снова."
    url = f"reviews/{review['id']}/answer"
    foreign = edge.post(of(OTHER_CLINIC, url), json={"text": text}, headers=staff)
    answered = edge.post(of(CLINIC, url), json={"text": text}, headers=staff)

    assert (foreign.status_code, foreign.json()["code"]) == (403, "not_organization_staff")
    assert answered.status_code == 200, answered.text
    assert answered.json()["outcome"] == "added"
    page = edge.get("/api/v1/reviews", params={"organization_id": str(CLINIC), "limit": 100})
    [shown] = [r for r in page.json()["items"] if r["id"] == review["id"]]
    assert shown["answer"]["text"] == text

    def author_told() -> bool:
        inbox = edge.get("/api/v1/me/notifications", headers=patient).json()
        return any(text in n["body"] for n in inbox["notifications"])

    asyncio.run(eventually(author_told, "the author finds the clinic's answer", seconds=15))
    [entry] = [
        e for e in journal(edge, staff, CLINIC) if e["subject"] and review["id"] in e["subject"]
    ]
    assert (entry["action"], entry["allowed"]) == ("reply_reviews", True)


def test_a_scope_not_granted_is_refused_and_journaled(edge: httpx.Client) -> None:
    staff = login(edge, demo.CLINIC_STAFF)
    slot = {
        "clinic_slot_id": f"staff-{uuid.uuid4().hex[:8]}",
        "version": 1,
        "specialist_id": str(uuid.uuid4()),
        "specialty": "therapy",
        "department": "Терапевтическое отделение",
        "starts_at": "2027-01-11T09:00:00+03:00",
        "ends_at": "2027-01-11T09:20:00+03:00",
        "room": "214",
        "service_codes": ["B01.047.001"],
        "kind": "first_visit",
    }
    refused = edge.post(of(CLINIC, "slots"), json={"slots": [slot]}, headers=staff)

    assert (refused.status_code, refused.json()["code"]) == (403, "not_organization_staff")
    assert STAFF_POWER_OF_ATTORNEY_NUMBER in refused.json()["detail"]
    latest = journal(edge, staff, CLINIC)
    assert any(e["action"] == "manage_schedules" and not e["allowed"] for e in latest)
    authorised = edge.get(of(CLINIC, "staff"), headers=staff)
    assert authorised.status_code == 200, authorised.text
    [authority] = authorised.json()["items"]
    assert authority["power_of_attorney_number"] == STAFF_POWER_OF_ATTORNEY_NUMBER
    assert authority["staff_name"] == "Морозова Т. Н."
    assert "manage_schedules" not in authority["scopes"]


def test_an_operator_grants_a_power_of_attorney_for_schedules_and_revokes_it(
    edge: httpx.Client,
) -> None:
    operator, parent = login(edge, demo.OPERATOR), login(edge, demo.PARENT)
    specialist = next(s for s in registry_demo.specialists() if s.organization_id == CLINIC)
    day = (datetime.now(UTC) + timedelta(days=20)).date()
    room = f"К-{uuid.uuid4().hex[:6]}"
    slot = {
        "clinic_slot_id": f"staff-{room}",
        "version": 1,
        "specialist_id": str(specialist.id),
        "specialty": specialist.specialty.value,
        "department": "Терапевтическое отделение",
        "starts_at": f"{day}T10:00:00+03:00",
        "ends_at": f"{day}T10:20:00+03:00",
        "room": room,
        "service_codes": ["B01.047.001"],
        "kind": "first_visit",
    }
    number = f"ДОВ-ГП7-{uuid.uuid4().hex[:6]}"
    authority = {
        "staff_snils": demo.PARENT.snils,
        "number": number,
        "scopes": ["manage_schedules"],
        "valid_from": str(day - timedelta(days=30)),
        "valid_until": str(day),
    }

    def rooms() -> list[str]:
        params = {"specialist_id": str(specialist.id), "from": str(day), "to": str(day)}
        page = edge.get("/api/v1/scheduling/slots", params=params, headers=parent)
        assert page.status_code == 200, page.text
        return [item["place"]["room"] for item in page.json()["items"]]

    by_staff = edge.post(
        of(CLINIC, "staff"), json=authority, headers=login(edge, demo.CLINIC_STAFF)
    )
    no_account = edge.post(of(OTHER_CLINIC, "staff"), json=authority, headers=operator)
    granted = edge.post(of(CLINIC, "staff"), json=authority, headers=operator)
    assert (by_staff.status_code, by_staff.json()["code"]) == (403, "forbidden")
    assert no_account.status_code == 404, no_account.text
    assert granted.status_code == 201, granted.text
    assert granted.json()["staff_name"] == "Петров С. И."

    published = edge.post(of(CLINIC, "slots"), json={"slots": [slot]}, headers=parent)
    assert published.status_code == 200, published.text
    assert published.json()["changed"] == 1
    assert room in rooms()
    withdrawn_slot = {**slot, "version": 2, "withdrawn": True}
    withdrawn = edge.post(of(CLINIC, "slots"), json={"slots": [withdrawn_slot]}, headers=parent)
    assert withdrawn.json()["changed"] == 1
    assert room not in rooms()

    revoked = edge.delete(of(CLINIC, f"staff/{number}"), headers=operator)
    assert revoked.json()["revoked"] is True
    after = edge.post(of(CLINIC, "slots"), json={"slots": [slot]}, headers=parent)
    assert (after.status_code, after.json()["code"]) == (403, "not_organization_staff")
    assert "отозвана" in after.json()["detail"]
    mine = [e for e in journal(edge, operator, CLINIC) if e["actor_name"] == "Петров С. И."]
    assert [e["allowed"] for e in mine] == [False, True, True]
    assert all(number in e["basis_label"] for e in mine if e["allowed"])
