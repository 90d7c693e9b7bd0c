"""Booking through the whole system (edge -> scheduling -> identity, registry; the slot's
conditional update): throughput and latency of bookings under 32 concurrent clients, each
booking a slot of its own; then 32 clients racing for each of a set of slots (one 201 each)."""

import asyncio
import itertools
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import httpx

from gosmed.contracts import demo
from gosmed.contracts.scheduling.schedules import MAX_SLOTS, ClinicSlot, PublishSchedule, SlotKind
from gosmed.runtime.devstack import DevStack
from gosmed.scheduling import simulator
from gosmed.scheduling.domain import slot_id_of
from tests.bench.common import BENCH_AMQP_URL, HEADER, LOAD_ENV, Measurement, measure
from tests.e2e.identity_support import login

BOOKINGS = int(os.environ.get("GOSMED_BENCH_BOOKINGS", "1000"))
RACES = int(os.environ.get("GOSMED_BENCH_BOOKING_RACES", "20"))
CLIENTS = 32


def _schedules(count: int) -> list[PublishSchedule]:
    """`count` slots, each of its own doctor and day, so any patient may book any of them."""
    from gosmed.registry import demo as registry_demo

    specialists = registry_demo.specialists()
    first = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0)
    prefix = f"bench-{time.time_ns()}"
    combos = itertools.product(range(1, 60), specialists)
    slots: dict[UUID, list[ClinicSlot]] = {}
    for number, (days, specialist) in zip(range(count), combos, strict=False):
        starts = first + timedelta(days=days)
        slots.setdefault(specialist.organization_id, []).append(
            ClinicSlot(
                clinic_slot_id=f"{prefix}-{number}",
                version=1,
                specialist_id=specialist.id,
                specialty=specialist.specialty,
                department="Поликлиническое отделение",
                starts_at=starts,
                ends_at=starts + timedelta(minutes=20),
                room="101",
                service_codes=("B01.047.001",),
                kind=SlotKind.FIRST_VISIT,
            )
        )
    return [
        PublishSchedule(organization_id=organization, slots=tuple(batch[i : i + MAX_SLOTS]))
        for organization, batch in slots.items()
        for i in range(0, len(batch), MAX_SLOTS)
    ]


async def run() -> None:
    stack = DevStack(env=LOAD_ENV, log_dir=Path(tempfile.mkdtemp()))
    stack.start()
    try:
        stack.wait_ready(timeout=90)
        schedules = _schedules(BOOKINGS + RACES)
        await simulator.publish(BENCH_AMQP_URL, schedules)
        slot_ids = [
            str(slot_id_of(schedule.organization_id, slot.clinic_slot_id))
            for schedule in schedules
            for slot in schedule.slots
        ]
        people = [p for p in demo.PEOPLE if p.password and p.confirmed]
        with httpx.Client(base_url=stack.base_url, timeout=60) as edge:
            sessions = [login(edge, person) for person in people]
        own, raced = slot_ids[:BOOKINGS], slot_ids[BOOKINGS:]
        async with httpx.AsyncClient(base_url=stack.base_url, timeout=60) as client:
            queue = iter(own)
            turns = itertools.cycle(sessions)

            async def book_one() -> None:
                response = await client.post(
                    "/api/v1/patients/me/appointments",
                    json={"slot_id": next(queue)},
                    headers=next(turns),
                )
                assert response.status_code == 201, response.text

            print(f"\nScheduling: bookings through the edge\n{HEADER}")
            result = await measure(
                f"book a free slot, {CLIENTS} clients",
                book_one,
                total=BOOKINGS,
                concurrency=CLIENTS,
            )
            print(result.row(), flush=True)
            latencies: list[float] = []
            winners = 0
            started = time.perf_counter()
            for slot_id in raced:

                async def race(headers: dict[str, str], slot_id: str = slot_id) -> int:
                    began = time.perf_counter()
                    response = await client.post(
                        "/api/v1/patients/me/appointments",
                        json={"slot_id": slot_id},
                        headers=headers,
                    )
                    latencies.append(time.perf_counter() - began)
                    return response.status_code

                statuses = await asyncio.gather(
                    *(race(s) for s in itertools.islice(turns, CLIENTS))
                )
                winners += statuses.count(201)
                assert set(statuses) <= {201, 409}, statuses
            raced_result = Measurement(
                f"{CLIENTS} clients racing for one slot ({RACES} slots)",
                latencies,
                time.perf_counter() - started,
            )
            print(raced_result.row(), flush=True)
            print(f"winners: {winners} of {RACES} slots (one each expected)", flush=True)
    finally:
        stack.stop()
