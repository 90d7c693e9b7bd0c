"""Edge routes served by the scheduling service: free slots, booking, appointments and their
calendar event."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status
from icalendar import Calendar, Event
from pydantic import BaseModel, ConfigDict, Field

from gosmed.contracts.registry.specialties import Specialty
from gosmed.contracts.scheduling.appointments import (
    BOOK_APPOINTMENT,
    CANCEL_APPOINTMENT,
    GET_APPOINTMENT,
    LIST_APPOINTMENTS,
    LIST_FREE_SLOTS,
    MAX_PAGE,
    Appointment,
    AppointmentList,
    AppointmentStatus,
    BookAppointment,
    CancelAppointment,
    GetAppointment,
    ListAppointments,
    ListFreeSlots,
    SlotsPage,
)
from gosmed.contracts.types import IsoDate
from gosmed.edge.deps import PrincipalDep, SchedulingDep, patient_context

router = APIRouter(tags=["scheduling"])
APPOINTMENTS = "/patients/{patient_id}/appointments"
APPOINTMENT = APPOINTMENTS + "/{appointment_id}"
CALENDAR = "text/calendar"


class BookingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slot_id: UUID = Field(description="`id` of a free slot from GET /scheduling/slots.")
    service_code: str | None = Field(
        default=None, max_length=50, description="One of the slot's services (its first if unset)."
    )


@router.get(
    "/scheduling/slots",
    response_model=SlotsPage,
    summary="Свободное время приёма: ближайшее сначала, с клиникой, адресом и врачом",
)
async def free_slots(
    _: PrincipalDep,
    scheduling: SchedulingDep,
    organization_id: UUID | None = None,
    specialist_id: UUID | None = None,
    specialty: Specialty | None = None,
    service_code: Annotated[str | None, Query(max_length=50)] = None,
    date_from: Annotated[IsoDate | None, Query(alias="from", description="ГГГГ-ММ-ДД")] = None,
    date_to: Annotated[IsoDate | None, Query(alias="to", description="ГГГГ-ММ-ДД")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
) -> SlotsPage:
    query = ListFreeSlots(
        organization_id=organization_id,
        specialist_id=specialist_id,
        specialty=specialty,
        service_code=service_code,
        date_from=date_from,
        date_to=date_to,
        cursor=cursor,
        limit=limit,
    )
    return await scheduling.call(LIST_FREE_SLOTS, query)


@router.post(
    APPOINTMENTS,
    response_model=Appointment,
    status_code=status.HTTP_201_CREATED,
    summary="Записаться на приём (для себя или того, за кого действуете)",
)
async def book(
    patient_id: str, body: BookingBody, principal: PrincipalDep, scheduling: SchedulingDep
) -> Appointment:
    request = BookAppointment(
        context=patient_context(principal, patient_id),
        slot_id=body.slot_id,
        service_code=body.service_code,
    )
    return await scheduling.call(BOOK_APPOINTMENT, request)


@router.get(
    APPOINTMENTS,
    response_model=AppointmentList,
    summary="Записи на приём: предстоящие сначала, по страницам (cursor, limit)",
)
async def appointments(
    patient_id: str,
    principal: PrincipalDep,
    scheduling: SchedulingDep,
    appointment_status: Annotated[AppointmentStatus | None, Query(alias="status")] = None,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> AppointmentList:
    query = ListAppointments(
        context=patient_context(principal, patient_id),
        status=appointment_status,
        cursor=cursor,
        limit=limit,
    )
    return await scheduling.call(LIST_APPOINTMENTS, query)


async def _appointment(
    patient_id: str, appointment_id: UUID, principal: PrincipalDep, scheduling: SchedulingDep
) -> Appointment:
    query = GetAppointment(
        context=patient_context(principal, patient_id), appointment_id=appointment_id
    )
    return await scheduling.call(GET_APPOINTMENT, query)


@router.get(APPOINTMENT, response_model=Appointment, summary="Запись на приём")
async def appointment(
    patient_id: str, appointment_id: UUID, principal: PrincipalDep, scheduling: SchedulingDep
) -> Appointment:
    return await _appointment(patient_id, appointment_id, principal, scheduling)


@router.delete(
    APPOINTMENT,
    response_model=Appointment,
    summary="Отменить запись (до начала приёма; время сразу освобождается)",
)
async def cancel(
    patient_id: str, appointment_id: UUID, principal: PrincipalDep, scheduling: SchedulingDep
) -> Appointment:
    request = CancelAppointment(
        context=patient_context(principal, patient_id), appointment_id=appointment_id
    )
    return await scheduling.call(CANCEL_APPOINTMENT, request)


@router.get(
    APPOINTMENT + "/calendar.ics",
    response_class=Response,
    responses={200: {"content": {CALENDAR: {}}}},
    summary="Событие календаря (iCalendar) с адресом и подготовкой",
)
async def calendar(
    patient_id: str, appointment_id: UUID, principal: PrincipalDep, scheduling: SchedulingDep
) -> Response:
    found = await _appointment(patient_id, appointment_id, principal, scheduling)
    return Response(
        calendar_event(found),
        media_type=CALENDAR,
        headers={"Content-Disposition": f'attachment; filename="appointment-{found.id}.ics"'},
    )


def calendar_event(appointment: Appointment) -> bytes:
    """One VEVENT: the time, the place (organization, address, room) and the preparation."""
    place = appointment.place
    event = Event()
    event.add("uid", f"{appointment.id}@gosmed")
    event.add("dtstamp", appointment.booked_at)
    event.add("dtstart", appointment.starts_at)
    event.add("dtend", appointment.ends_at)
    doctor = place.doctor_name or "врач"
    event.add("summary", f"Приём: {doctor} ({place.department})")
    where = [place.organization_name, place.organization_address, f"кабинет {place.room}"]
    event.add("location", ", ".join(p for p in where if p))
    lines = [f"Услуга: {appointment.service_code}"] if appointment.service_code else []
    lines += [f"Подготовка: {p.text}" for p in appointment.preparation]
    if lines:
        event.add("description", "\n".join(lines))
    if appointment.status is AppointmentStatus.CANCELLED:
        event.add("status", "CANCELLED")
    else:
        event.add("status", "CONFIRMED")
    calendar = Calendar()
    calendar.add("prodid", "-//gosmed//scheduling//RU")
    calendar.add("version", "2.0")
    calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical
