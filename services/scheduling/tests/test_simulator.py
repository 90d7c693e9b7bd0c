"""The demo schedules: 14 days ahead, working days, fixed ids, some slots taken."""

from datetime import date

from gosmed.contracts.scheduling.schedules import MAX_SLOTS
from gosmed.scheduling.domain import local_day
from gosmed.scheduling.simulator import FASTING, demo_schedules

TODAY = date(2026, 3, 6)  # a Friday


def test_the_demo_clinics_publish_the_next_fourteen_days_working_days_only() -> None:
    schedules = demo_schedules(TODAY)
    slots = [slot for schedule in schedules for slot in schedule.slots]
    days = {local_day(slot.starts_at) for slot in slots}
    assert min(days) == date(2026, 3, 9)
    assert max(days) == date(2026, 3, 20)
    assert all(day.weekday() < 5 for day in days)
    assert len({s.organization_id for s in schedules}) == 3
    assert len({slot.specialist_id for slot in slots}) == 12
    assert all(len(schedule.slots) <= MAX_SLOTS for schedule in schedules)
    taken = [slot for slot in slots if slot.taken]
    assert 0 < len(taken) < len(slots) // 2
    assert any(p.text == FASTING for slot in slots for p in slot.preparations)


def test_running_it_again_sends_the_same_slots_and_versions() -> None:
    def keys(today: date) -> set[tuple[str, int]]:
        return {
            (slot.clinic_slot_id, slot.version)
            for schedule in demo_schedules(today)
            for slot in schedule.slots
        }

    assert keys(TODAY) == keys(TODAY)
