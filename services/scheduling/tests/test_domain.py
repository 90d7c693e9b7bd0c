"""Booking rules, free of storage and messaging."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.registry.specialties import Specialty
from gosmed.contracts.scheduling.appointments import Appointment, AppointmentStatus, Place
from gosmed.contracts.scheduling.schedules import ClinicSlot, Preparation, SlotKind
from gosmed.runtime.cursor import encode_cursor
from gosmed.scheduling.domain import (
    ListPosition,
    Phase,
    Slot,
    SlotStatus,
    check_bookable,
    check_cancellable,
    chosen_service,
    day_key,
    preparation_for,
    slot_id_of,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ORGANIZATION = uuid4()
SPECIALIST = uuid4()


def clinic_slot(**changes: object) -> ClinicSlot:
    fields: dict[str, object] = {
        "clinic_slot_id": "s-1",
        "version": 1,
        "specialist_id": SPECIALIST,
        "specialty": Specialty.THERAPY,
        "department": "Терапевтическое отделение",
        "starts_at": NOW + timedelta(days=1),
        "ends_at": NOW + timedelta(days=1, minutes=20),
        "room": "214",
        "service_codes": ("B01.047.001", "B03.016.003"),
        "kind": SlotKind.FIRST_VISIT,
        "preparations": (Preparation(service_code="B03.016.003", text="Натощак."),),
    }
    return ClinicSlot.model_validate(fields | changes)


def slot(**changes: object) -> Slot:
    return Slot.of(ORGANIZATION, clinic_slot(**changes))


def appointment(starts_at: datetime, status: AppointmentStatus) -> Appointment:
    return Appointment(
        id=uuid4(),
        patient_id=uuid4(),
        slot_id=uuid4(),
        status=status,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=20),
        place=Place(
            organization_id=ORGANIZATION,
            specialist_id=SPECIALIST,
            specialty=Specialty.THERAPY,
            department="Терапия",
            room="1",
        ),
        kind=SlotKind.REPEAT,
        booked_at=NOW,
    )


def test_a_slot_keeps_its_portal_id_across_re_sends_and_differs_between_clinics() -> None:
    assert slot().id == slot(version=7).id == slot_id_of(ORGANIZATION, "s-1")
    assert slot_id_of(uuid4(), "s-1") != slot().id


def test_a_slot_the_clinic_says_is_taken_is_not_offered() -> None:
    assert slot().status == SlotStatus.FREE
    assert slot(taken=True).status == SlotStatus.BOOKED


def test_a_slot_must_end_after_it_starts() -> None:
    with pytest.raises(ValueError, match="ends_at"):
        clinic_slot(ends_at=NOW)


def test_a_free_future_slot_is_bookable() -> None:
    assert check_bookable(slot(), NOW).clinic_slot_id == "s-1"


@pytest.mark.parametrize(
    ("candidate", "code"),
    [
        (None, ErrorCode.NOT_FOUND),
        (slot(withdrawn=True), ErrorCode.NOT_FOUND),
        (slot(starts_at=NOW, ends_at=NOW + timedelta(minutes=20)), ErrorCode.SLOT_IN_PAST),
        (slot(taken=True), ErrorCode.SLOT_TAKEN),
    ],
)
def test_missing_withdrawn_past_and_taken_slots_are_not_bookable(
    candidate: Slot | None, code: ErrorCode
) -> None:
    with pytest.raises(ServiceError) as raised:
        check_bookable(candidate, NOW)
    assert raised.value.code is code


def test_the_service_booked_is_one_of_the_slot_and_brings_its_preparation() -> None:
    assert chosen_service(slot(), None) == "B01.047.001"
    assert chosen_service(slot(), "B03.016.003") == "B03.016.003"
    with pytest.raises(ServiceError):
        chosen_service(slot(), "A00.000.000")
    assert [p.text for p in preparation_for(slot(), "B03.016.003")] == ["Натощак."]
    assert preparation_for(slot(), "B01.047.001") == ()


def test_one_active_appointment_per_patient_specialist_and_moscow_day() -> None:
    patient = uuid4()
    late_evening = datetime(2026, 3, 2, 20, 30, tzinfo=UTC)  # 23:30 in Moscow
    after_midnight = datetime(2026, 3, 2, 21, 30, tzinfo=UTC)  # 00:30 next day in Moscow
    morning = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    assert day_key(patient, SPECIALIST, late_evening) == day_key(patient, SPECIALIST, morning)
    assert day_key(patient, SPECIALIST, after_midnight) != day_key(patient, SPECIALIST, morning)
    assert day_key(patient, uuid4(), morning) != day_key(patient, SPECIALIST, morning)


def test_cancelling_is_allowed_until_the_start_and_only_once() -> None:
    check_cancellable(appointment(NOW + timedelta(minutes=1), AppointmentStatus.BOOKED), NOW)
    for late in (NOW, NOW - timedelta(hours=1)):
        with pytest.raises(ServiceError) as started:
            check_cancellable(appointment(late, AppointmentStatus.BOOKED), NOW)
        assert started.value.code is ErrorCode.APPOINTMENT_STARTED
    with pytest.raises(ServiceError, match="отменена") as cancelled:
        check_cancellable(appointment(NOW + timedelta(days=1), AppointmentStatus.CANCELLED), NOW)
    assert cancelled.value.code is ErrorCode.APPOINTMENT_CANCELLED


def test_a_list_cursor_keeps_its_boundary_and_a_forged_one_is_refused() -> None:
    last = appointment(NOW + timedelta(days=1), AppointmentStatus.BOOKED)
    position = ListPosition.after(NOW, last)
    assert position.phase is Phase.UPCOMING
    assert ListPosition.decode(position.encode()) == position
    assert ListPosition.after(NOW + timedelta(days=2), last).phase is Phase.PAST
    naive = encode_cursor(NOW.replace(tzinfo=None).isoformat(), "past", NOW.isoformat(), "x")
    for forged in ("nonsense", encode_cursor("a", "b"), naive):
        with pytest.raises(ServiceError) as refused:
            ListPosition.decode(forged)
        assert refused.value.code is ErrorCode.VALIDATION_FAILED
