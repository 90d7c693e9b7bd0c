"""Booking end to end through the real edge and broker: a clinic publishes its schedule through
the door, a patient sees the free slots and books one, a second booking of it is refused with
409, the clinic hears of the booking, and cancelling frees the slot again; the calendar event,
parsed as iCalendar, shows the time, doctor, address, room and preparation. A parent books for a
young child and cancels (the child's access journal shows both with the parent and the legal
basis), a representative without the right learns nothing (404); a patient's appointments come
in pages without overlap."""

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from icalendar import Calendar

from gosmed.contracts import demo, topology
from gosmed.contracts.scheduling.schedules import (
    PUBLISH_SCHEDULE,
    AppointmentBooked,
    AppointmentCancelled,
    ClinicSlot,
    Preparation,
    PublishSchedule,
    ScheduleAccepted,
    SlotKind,
)
from gosmed.identity.demo import account_id
from gosmed.registry import demo as registry_demo
from gosmed.runtime.testing import clinic_connection, eventually
from gosmed.scheduling import simulator
from tests.e2e.identity_support import DEMO_ENV, login, patient_id

ORGANIZATION = registry_demo.organizations()[0]
SPECIALISTS = [s for s in registry_demo.specialists() if s.organization_id == ORGANIZATION.id]
QUEUE = topology.command_queue(topology.Service.SCHEDULING, PUBLISH_SCHEDULE)
REPLIES = topology.clinic_queue(ORGANIZATION.id, topology.CLINIC_REPLIES)
APPOINTMENTS = topology.clinic_queue(ORGANIZATION.id, topology.CLINIC_APPOINTMENTS)
SLOTS = "/api/v1/scheduling/slots"
RACERS = 20
PARENT_NAME = "Петров С. И."  # demo.PARENT as identity names an actor in the journal


@pytest.fixture(scope="module")
def sms_outbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sms") / "outbox.jsonl"


@pytest.fixture(scope="module")
def stack_env(sms_outbox: Path) -> dict[str, str]:
    return {
        **DEMO_ENV,
        "GOSMED_IDENTITY_DEMO_CITIZENS": str(RACERS),
        "GOSMED_IDENTITY_SMS_OUTBOX_PATH": str(sms_outbox),
        # Every appointment of these tests (days ahead) is due for its reminder at once.
        "GOSMED_SCHEDULING_REMINDER_LEAD_SECONDS": str(30 * 86400),
        "GOSMED_SCHEDULING_REMINDER_POLL_SECONDS": "0.3",
    }


def slots(specialist_index: int, count: int, days_ahead: int = 3) -> tuple[ClinicSlot, ...]:
    specialist = SPECIALISTS[specialist_index]
    first = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0) + timedelta(
        days=days_ahead
    )
    prefix = uuid.uuid4().hex[:8]
    return tuple(
        ClinicSlot(
            clinic_slot_id=f"{prefix}-{n}",
            version=1,
            specialist_id=specialist.id,
            specialty=specialist.specialty,
            department="Поликлиническое отделение",
            starts_at=first + timedelta(minutes=20 * n),
            ends_at=first + timedelta(minutes=20 * (n + 1)),
            room=f"2{n:02d}",
            service_codes=("B01.047.001",),
            kind=SlotKind.FIRST_VISIT,
            preparations=(Preparation(service_code="B01.047.001", text="Возьмите полис ОМС."),),
        )
        for n in range(count)
    )


def publish(amqp_url: str, *schedule: ClinicSlot) -> ScheduleAccepted:
    """Publish as the clinic does (its own user, through the door) and wait for the answer;
    the clinic's queue of appointment messages is emptied first."""

    async def run() -> ScheduleAccepted:
        async with clinic_connection(amqp_url, ORGANIZATION.id) as clinic:
            await (await clinic.channel.get_queue(APPOINTMENTS, ensure=False)).purge()
        message = PublishSchedule(organization_id=ORGANIZATION.id, slots=schedule)
        [answer] = await simulator.publish(amqp_url, [message])
        return answer

    return asyncio.run(run())


def clinic_hears(amqp_url: str, count: int) -> list[bytes]:
    """The next `count` messages on the clinic's appointments queue."""

    async def run() -> list[bytes]:
        async with clinic_connection(amqp_url, ORGANIZATION.id) as clinic:
            queue = await clinic.channel.get_queue(APPOINTMENTS, ensure=False)
            bodies: list[bytes] = []
            async with asyncio.timeout(30):
                while len(bodies) < count:
                    message = await queue.get(fail=False, no_ack=True)
                    if message is None:
                        await asyncio.sleep(0.1)
                    else:
                        bodies.append(message.body)
            return bodies

    return asyncio.run(run())


def free_ids(edge: httpx.Client, headers: dict[str, str], **params: Any) -> list[str]:
    response = edge.get(SLOTS, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_publish_see_book_refuse_the_second_and_cancel_to_free(
    edge: httpx.Client, amqp_url: str
) -> None:
    schedule = slots(0, 3)
    accepted = publish(amqp_url, *schedule)
    assert (accepted.changed, accepted.unchanged) == (3, 0)
    assert publish(amqp_url, *schedule).unchanged == 3  # a re-send changes nothing
    patient = login(edge, demo.PATIENT)
    specialist = str(SPECIALISTS[0].id)
    page = edge.get(SLOTS, params={"specialist_id": specialist}, headers=patient).json()
    assert [item["place"]["room"] for item in page["items"]] == ["200", "201", "202"]
    first = page["items"][0]
    assert first["place"]["organization_name"] == ORGANIZATION.short_name
    assert first["place"]["doctor_name"] == SPECIALISTS[0].full_name

    booked = edge.post(
        "/api/v1/patients/me/appointments", json={"slot_id": first["id"]}, headers=patient
    )
    assert booked.status_code == 201, booked.text
    card = booked.json()
    assert card["status"] == "booked"
    assert card["preparation"][0]["text"] == "Возьмите полис ОМС."
    assert first["id"] not in free_ids(edge, patient, specialist_id=specialist)

    other = login(edge, demo.CHILD_OVER_15)
    again = edge.post(
        "/api/v1/patients/me/appointments", json={"slot_id": first["id"]}, headers=other
    )
    assert again.status_code == 409, again.text
    assert again.json()["code"] == "slot_taken"

    [heard] = clinic_hears(amqp_url, 1)
    told = AppointmentBooked.model_validate_json(heard)
    assert told.appointment_id == uuid.UUID(card["id"])
    assert told.patient.snils == demo.PATIENT.snils

    path = f"/api/v1/patients/me/appointments/{card['id']}"
    cancelled = edge.delete(path, headers=patient)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert first["id"] in free_ids(edge, patient, specialist_id=specialist)
    [heard] = clinic_hears(amqp_url, 1)
    assert AppointmentCancelled.model_validate_json(heard).appointment_id == told.appointment_id

    calendar = edge.get(f"{path}/calendar.ics", headers=patient)
    assert calendar.status_code == 200
    assert calendar.headers["content-type"].startswith("text/calendar")
    [event] = Calendar.from_ical(calendar.content).walk("VEVENT")
    assert event.decoded("dtstart") == datetime.fromisoformat(first["starts_at"])
    assert event.decoded("dtend") == datetime.fromisoformat(first["ends_at"])
    assert str(event["summary"]) == f"Приём: {SPECIALISTS[0].full_name} (Поликлиническое отделение)"
    location = str(event["location"])
    assert ORGANIZATION.short_name in location
    assert ORGANIZATION.address.one_line in location
    assert "кабинет 200" in location
    assert "Подготовка: Возьмите полис ОМС." in str(event["description"])
    assert str(event["status"]) == "CANCELLED"


def test_a_parent_books_for_a_young_child_and_a_representative_without_the_right_gets_404(
    edge: httpx.Client, amqp_url: str
) -> None:
    publish(amqp_url, *slots(1, 2, days_ahead=4))
    parent = login(edge, demo.PARENT)
    [first, second] = free_ids(edge, parent, specialist_id=str(SPECIALISTS[1].id))
    child = patient_id(demo.CHILD_UNDER_15)
    booked = edge.post(
        f"/api/v1/patients/{child}/appointments", json={"slot_id": first}, headers=parent
    )
    assert booked.status_code == 201, booked.text
    assert booked.json()["patient_id"] == child
    listed = edge.get(f"/api/v1/patients/{child}/appointments", headers=parent).json()
    assert [a["id"] for a in listed["items"]] == [booked.json()["id"]]
    appointment = booked.json()["id"]
    cancelled = edge.delete(f"/api/v1/patients/{child}/appointments/{appointment}", headers=parent)
    assert cancelled.status_code == 200, cancelled.text

    def journaled() -> list[Any]:
        response = edge.get(f"/api/v1/patients/{child}/access-log", headers=parent)
        assert response.status_code == 200, response.text
        return [e for e in response.json()["items"] if e["appointment_id"] == appointment]

    asyncio.run(eventually(lambda: len(journaled()) == 2, "the child's journal", seconds=30))
    assert [(e["what"], e["basis"], e["actor_id"], e["actor"]["name"]) for e in journaled()] == [
        ("cancel_appointment", "parent_of_minor", str(account_id(demo.PARENT)), PARENT_NAME),
        ("book_appointment", "parent_of_minor", str(account_id(demo.PARENT)), PARENT_NAME),
    ]

    representative = login(edge, demo.REPRESENTATIVE)  # a power of attorney without booking
    principal = str(account_id(demo.PATIENT))
    refused = edge.post(
        f"/api/v1/patients/{principal}/appointments",
        json={"slot_id": second},
        headers=representative,
    )
    assert refused.status_code == 404, refused.text
    assert second in free_ids(edge, parent, specialist_id=str(SPECIALISTS[1].id))


def test_a_patients_appointments_come_in_pages_without_overlap(
    edge: httpx.Client, amqp_url: str
) -> None:
    citizen = login(edge, demo.extra_citizens(RACERS)[0])
    specialist = str(SPECIALISTS[6].id)
    booked: list[str] = []
    for days_ahead in (11, 9, 10):
        publish(amqp_url, *slots(6, 1, days_ahead=days_ahead))
        [slot_id] = free_ids(edge, citizen, specialist_id=specialist)
        response = edge.post(
            "/api/v1/patients/me/appointments", json={"slot_id": slot_id}, headers=citizen
        )
        assert response.status_code == 201, response.text
        booked.append(response.json()["id"])
    path = "/api/v1/patients/me/appointments"
    everything = edge.get(path, params={"limit": 100}, headers=citizen).json()
    assert everything["next_cursor"] is None
    first = edge.get(path, params={"limit": 2}, headers=citizen).json()
    assert first["next_cursor"]
    second = edge.get(
        path, params={"limit": 2, "cursor": first["next_cursor"]}, headers=citizen
    ).json()
    pages = [[a["id"] for a in page["items"]] for page in (first, second)]
    assert len(pages[0]) == 2
    assert not set(pages[0]) & set(pages[1])
    assert pages[0] + pages[1] == [a["id"] for a in everything["items"]]
    soonest_first = [booked[1], booked[2], booked[0]]  # days 9, 10, 11
    assert [i for i in pages[0] + pages[1] if i in booked] == soonest_first
    forged = edge.get(path, params={"cursor": "forged"}, headers=citizen)
    assert forged.status_code == 422, forged.text


def texts_to(outbox: Path, phone: str) -> list[str]:
    if not outbox.exists():
        return []
    lines = [json.loads(line) for line in outbox.read_text().splitlines()]
    return [line["text"] for line in lines if line["to"] == phone]


def reminders_to(outbox: Path, phone: str) -> list[str]:
    return [t for t in texts_to(outbox, phone) if t.startswith("Напоминание")]


def test_twenty_different_patients_racing_for_one_slot_through_the_edge_one_wins(
    edge: httpx.Client, amqp_url: str
) -> None:
    publish(amqp_url, *slots(2, 1, days_ahead=5))
    sessions = [login(edge, person) for person in demo.extra_citizens(RACERS)]
    [slot_id] = free_ids(edge, sessions[0], specialist_id=str(SPECIALISTS[2].id))

    async def race() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=edge.base_url, timeout=60) as client:
            return await asyncio.gather(
                *(
                    client.post(
                        "/api/v1/patients/me/appointments",
                        json={"slot_id": slot_id},
                        headers=headers,
                    )
                    for headers in sessions
                )
            )

    responses = asyncio.run(race())
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (RACERS - 1), [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"slot_taken"}
    assert slot_id not in free_ids(edge, sessions[0], specialist_id=str(SPECIALISTS[2].id))


def test_the_reminder_sms_carries_the_preparation_and_goes_out_once(
    edge: httpx.Client, amqp_url: str, sms_outbox: Path
) -> None:
    teen = login(edge, demo.CHILD_OVER_15)
    phone = demo.CHILD_OVER_15.phone or ""
    for count, (index, days_ahead) in enumerate(((3, 6), (4, 7)), start=1):
        publish(amqp_url, *slots(index, 1, days_ahead=days_ahead))
        [slot_id] = free_ids(edge, teen, specialist_id=str(SPECIALISTS[index].id))
        booked = edge.post(
            "/api/v1/patients/me/appointments", json={"slot_id": slot_id}, headers=teen
        )
        assert booked.status_code == 201, booked.text

        def reminded(count: int = count) -> bool:
            return len(reminders_to(sms_outbox, phone)) >= count

        asyncio.run(eventually(reminded, "the reminder SMS", seconds=30))
    # The second reminder went out after the first was claimed: the first is still single.
    reminders = reminders_to(sms_outbox, phone)
    assert len(reminders) == 2
    assert "кабинет 200" in reminders[0]
    assert all("Возьмите полис ОМС." in t for t in reminders)
    assert all(ORGANIZATION.address.one_line in t for t in reminders)


def test_a_slot_the_clinic_withdraws_cancels_the_booking_and_tells_the_patient(
    edge: httpx.Client, amqp_url: str
) -> None:
    [slot] = slots(5, 1, days_ahead=8)
    publish(amqp_url, slot)
    inspector = login(edge, demo.INSPECTOR)
    [slot_id] = free_ids(edge, inspector, specialist_id=str(SPECIALISTS[5].id))
    booked = edge.post(
        "/api/v1/patients/me/appointments", json={"slot_id": slot_id}, headers=inspector
    )
    assert booked.status_code == 201, booked.text
    withdrawn = slot.model_copy(update={"version": 2, "withdrawn": True})
    assert publish(amqp_url, withdrawn).changed == 1
    path = f"/api/v1/patients/me/appointments/{booked.json()['id']}"
    card = edge.get(path, headers=inspector).json()
    assert (card["status"], card["cancel_reason"]) == ("cancelled", "withdrawn")
    assert slot_id not in free_ids(edge, inspector, specialist_id=str(SPECIALISTS[5].id))

    def told() -> bool:
        inbox = edge.get("/api/v1/me/notifications", headers=inspector).json()
        return any(n["title"] == "Приём отменён клиникой" for n in inbox["notifications"])

    asyncio.run(eventually(told, "the patient's notice of the withdrawal", seconds=30))
