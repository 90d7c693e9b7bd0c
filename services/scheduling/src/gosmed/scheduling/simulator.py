"""A clinic simulator for schedules: the Moscow demo clinics publish the next 14 days of their
doctors' slots through the clinics' door, as a clinic's information system would (its own
broker user, exchange `gosmed.clinic-intake`, routing key `scheduling.publish-schedule`).

    python -m gosmed.scheduling.simulator            # the demo schedules (`make run`)

Slot ids and versions are fixed, so running it again changes nothing. Some slots are published
as already taken at the clinic itself.
"""

import argparse
import asyncio
import logging
import sys
import zlib
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from urllib.parse import unquote, urlsplit
from uuid import UUID

import aio_pika

from gosmed.contracts import topology
from gosmed.contracts.scheduling.schedules import (
    MAX_SLOTS,
    PUBLISH_SCHEDULE,
    ClinicSlot,
    Preparation,
    PublishSchedule,
    ScheduleAccepted,
    SlotKind,
)
from gosmed.runtime.broker_access import BrokerAccess, BrokerAccessSettings
from gosmed.runtime.settings import CommonSettings
from gosmed.scheduling.domain import MOSCOW

log = logging.getLogger(__name__)
DAYS = 14
CLINICS = 3
SPECIALISTS_PER_CLINIC = 4
FIRST, LAST, STEP = time(9, 0), time(13, 0), timedelta(minutes=30)
VISIT_CODE = "B01.047.001"  # приём (осмотр, консультация) врача-терапевта первичный
TEST_CODE = "B03.016.003"  # общий (клинический) анализ крови развёрнутый
FASTING = "Анализ сдаётся натощак: не есть 8–12 часов, утром можно пить воду."
QUEUE = topology.command_queue(topology.Service.SCHEDULING, PUBLISH_SCHEDULE)


def demo_schedules(today: date, days: int = DAYS) -> list[PublishSchedule]:
    """The next `days` working days' slots of the first Moscow demo clinics, in batches."""
    from gosmed.registry import demo  # the registry's deterministic demo data set

    clinics = [o for o in demo.organizations() if o.address.region_code == "77"][:CLINICS]
    staff: dict[UUID, list[UUID]] = defaultdict(list)
    specialties = {}
    for card in demo.specialists():
        if len(staff[card.organization_id]) < SPECIALISTS_PER_CLINIC:
            staff[card.organization_id].append(card.id)
            specialties[card.id] = card.specialty
    batches = []
    for clinic in clinics:
        slots = [
            slot
            for specialist in staff[clinic.id]
            for slot in _slots(specialist, specialties[specialist], today, days)
        ]
        batches += [
            PublishSchedule(organization_id=clinic.id, slots=tuple(slots[i : i + MAX_SLOTS]))
            for i in range(0, len(slots), MAX_SLOTS)
        ]
    return batches


def _slots(specialist: UUID, specialty: object, today: date, days: int) -> Iterator[ClinicSlot]:
    for offset in range(1, days + 1):
        day = today + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        starts = datetime.combine(day, FIRST, MOSCOW)
        room = f"{100 + zlib.crc32(specialist.bytes) % 300}"
        while starts.time() < LAST:
            ident = f"demo-{specialist}-{starts:%Y%m%d%H%M}"
            fasting = starts.time() < time(10, 0)
            yield ClinicSlot.model_validate(
                {
                    "clinic_slot_id": ident,
                    "version": 1,
                    "specialist_id": specialist,
                    "specialty": specialty,
                    "department": "Поликлиническое отделение",
                    "starts_at": starts,
                    "ends_at": starts + STEP,
                    "room": room,
                    "service_codes": (VISIT_CODE, TEST_CODE) if fasting else (VISIT_CODE,),
                    "kind": SlotKind.FIRST_VISIT if fasting else SlotKind.REPEAT,
                    "preparations": (Preparation(service_code=TEST_CODE, text=FASTING),)
                    if fasting
                    else (),
                    "taken": zlib.crc32(ident.encode()) % 4 == 0,
                }
            )
            starts += STEP


async def publish(amqp_url: str, schedules: list[PublishSchedule]) -> list[ScheduleAccepted]:
    """Each clinic's schedules over its own connection (made as `clinic add` makes it), one at a
    time, each answered on the clinic's reply queue; the answers in order."""
    answers = []
    access = BrokerAccess(BrokerAccessSettings(amqp_url=amqp_url))
    for schedule in schedules:
        url = await asyncio.to_thread(access.add_clinic, schedule.organization_id)
        user = unquote(urlsplit(url).username or "")
        replies_name = topology.clinic_queue(schedule.organization_id, topology.CLINIC_REPLIES)
        connection = await aio_pika.connect(url)
        async with connection:
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            replies = await channel.get_queue(replies_name, ensure=False)
            door = await channel.get_exchange(topology.CLINIC_INTAKE_EXCHANGE, ensure=False)
            await door.publish(
                aio_pika.Message(
                    schedule.model_dump_json().encode(),
                    message_id=str(schedule.message_id),
                    correlation_id=str(schedule.message_id),
                    user_id=user,
                    reply_to=replies_name,
                    content_type="application/json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                QUEUE,
            )
            async with asyncio.timeout(60):
                while True:
                    message = await replies.get(fail=False, no_ack=True)
                    if message is None:
                        await asyncio.sleep(0.1)
                    elif message.correlation_id == str(schedule.message_id):
                        answers.append(ScheduleAccepted.model_validate_json(message.body))
                        break
    return answers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--days", type=int, default=DAYS, help="days ahead (default 14)")
    args = parser.parse_args(argv)
    schedules = demo_schedules(datetime.now(MOSCOW).date(), args.days)
    answers = asyncio.run(publish(CommonSettings().amqp_url, schedules))
    changed = sum(a.changed for a in answers)
    slots = sum(len(s.slots) for s in schedules)
    print(
        f"schedule simulator: {len(schedules)} schedules, {slots} slots, {changed} changed",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
