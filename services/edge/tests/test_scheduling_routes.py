"""Scheduling routes on a fake RPC caller: what each route sends and how answers map to HTTP."""

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import httpx
from icalendar import Calendar

from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.registry.specialties import Specialty
from gosmed.contracts.scheduling.appointments import (
    BOOK_APPOINTMENT,
    CANCEL_APPOINTMENT,
    GET_APPOINTMENT,
    LIST_APPOINTMENTS,
    LIST_FREE_SLOTS,
    Appointment,
    AppointmentList,
    AppointmentStatus,
    Place,
    SlotsPage,
)
from gosmed.contracts.scheduling.schedules import Preparation, SlotKind
from gosmed.runtime.testing import FakeRpc

from .support import BEARER, PRINCIPAL

STARTS = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


def appointment(status: AppointmentStatus = AppointmentStatus.BOOKED) -> Appointment:
    return Appointment(
        id=uuid4(),
        patient_id=PRINCIPAL.account_id,
        slot_id=uuid4(),
        status=status,
        starts_at=STARTS,
        ends_at=STARTS + timedelta(minutes=20),
        place=Place(
            organization_id=uuid4(),
            organization_name="ГП № 7",
            organization_address="125047, г. Москва, ул. Тверская, д. 1",
            specialist_id=uuid4(),
            doctor_name="Смирнов Олег Петрович",
            specialty=Specialty.THERAPY,
            department="Терапия",
            room="214",
        ),
        service_code="B03.016.003",
        kind=SlotKind.PROCEDURE,
        preparation=(Preparation(service_code="B03.016.003", text="Натощак, с 8 до 10."),),
        booked_at=STARTS - timedelta(days=1),
    )


async def test_slots_pass_every_filter_and_need_a_login(
    client: httpx.AsyncClient, rpc: FakeRpc
) -> None:
    rpc.reply(LIST_FREE_SLOTS, SlotsPage(items=()))
    organization = uuid4()
    params = {
        "organization_id": str(organization),
        "specialty": "therapy",
        "service_code": "B01.047.001",
        "from": "2026-03-02",
        "to": "2026-03-05",
        "limit": "5",
        "cursor": "abc",
    }
    response = await client.get("/api/v1/scheduling/slots", params=params, headers=BEARER)
    assert response.status_code == 200, response.text
    [sent] = rpc.sent(LIST_FREE_SLOTS)
    assert sent.organization_id == organization
    assert sent.specialty is Specialty.THERAPY
    assert (sent.date_from, sent.date_to) == (date(2026, 3, 2), date(2026, 3, 5))
    assert (sent.limit, sent.cursor, sent.service_code) == (5, "abc", "B01.047.001")
    anonymous = await client.get("/api/v1/scheduling/slots")
    assert anonymous.status_code == 401


async def test_booking_answers_201_with_the_card_and_409_when_taken(
    client: httpx.AsyncClient, rpc: FakeRpc
) -> None:
    rpc.reply(BOOK_APPOINTMENT, appointment())
    slot_id = uuid4()
    path = "/api/v1/patients/me/appointments"
    booked = await client.post(path, json={"slot_id": str(slot_id)}, headers=BEARER)
    assert booked.status_code == 201, booked.text
    assert booked.json()["place"]["room"] == "214"
    [sent] = rpc.sent(BOOK_APPOINTMENT)
    assert sent.slot_id == slot_id
    assert sent.context.patient_id == sent.context.actor_id == PRINCIPAL.account_id
    rpc.fail(BOOK_APPOINTMENT, ServiceError(ErrorCode.SLOT_TAKEN, "Это время уже заняли."))
    taken = await client.post(path, json={"slot_id": str(slot_id)}, headers=BEARER)
    assert taken.status_code == 409
    assert taken.headers["content-type"].startswith("application/problem+json")
    assert taken.json()["code"] == "slot_taken"


async def test_booking_for_someone_else_names_them_and_a_stranger_gets_404(
    client: httpx.AsyncClient, rpc: FakeRpc
) -> None:
    child = uuid4()
    rpc.fail(BOOK_APPOINTMENT, ServiceError(ErrorCode.NOT_FOUND, "Пациент не найден."))
    response = await client.post(
        f"/api/v1/patients/{child}/appointments", json={"slot_id": str(uuid4())}, headers=BEARER
    )
    assert response.status_code == 404
    assert rpc.sent(BOOK_APPOINTMENT)[0].context.patient_id == child


async def test_list_get_and_cancel(client: httpx.AsyncClient, rpc: FakeRpc) -> None:
    card = appointment()
    rpc.reply(LIST_APPOINTMENTS, AppointmentList(items=(card,)))
    rpc.reply(GET_APPOINTMENT, card)
    rpc.reply(CANCEL_APPOINTMENT, appointment(AppointmentStatus.CANCELLED))
    base = "/api/v1/patients/me/appointments"
    listed = await client.get(
        base, params={"status": "booked", "cursor": "abc", "limit": 2}, headers=BEARER
    )
    assert listed.status_code == 200
    [sent] = rpc.sent(LIST_APPOINTMENTS)
    assert (sent.status, sent.cursor, sent.limit) == (AppointmentStatus.BOOKED, "abc", 2)
    got = await client.get(f"{base}/{card.id}", headers=BEARER)
    assert got.json()["id"] == str(card.id)
    cancelled = await client.delete(f"{base}/{card.id}", headers=BEARER)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert rpc.sent(CANCEL_APPOINTMENT)[0].appointment_id == card.id


async def test_the_calendar_event_parses_with_the_address_room_and_preparation(
    client: httpx.AsyncClient, rpc: FakeRpc
) -> None:
    card = appointment()
    rpc.reply(GET_APPOINTMENT, card)
    response = await client.get(
        f"/api/v1/patients/me/appointments/{card.id}/calendar.ics", headers=BEARER
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    [event] = Calendar.from_ical(response.content).walk("VEVENT")
    assert event.decoded("dtstart") == STARTS
    assert "ул. Тверская" in str(event["location"])
    assert "кабинет 214" in str(event["location"])
    assert "Натощак, с 8 до 10." in str(event["description"])
    assert str(event["uid"]) == f"{card.id}@gosmed"
