"""Booking through the whole system (edge -> scheduling -> identity, registry; the slot's
conditional update): throughput and latency of bookings under 32 concurrent clients, each a
different citizen (identity seeds them: GOSMED_IDENTITY_DEMO_CITIZENS) booking distinct slots,
with the CPU time per booking of each process (Linux: from /proc); then the same 32 citizens
racing for each of a set of slots (one 201 each)."""

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
from gosmed.runtime.devstack import SERVICES, DevStack
from gosmed.scheduling import simulator
from gosmed.scheduling.domain import slot_id_of
from tests.bench import procfs
from tests.bench.common import BENCH_AMQP_URL, HEADER, LOAD_ENV, Measurement
from tests.e2e.identity_support import login

BOOKINGS = int(os.environ.get("GOSMED_BENCH_BOOKINGS", "1000"))
RACES = int(os.environ.get("GOSMED_BENCH_BOOKING_RACES", "20"))
CLIENTS = 32
BOOK = "/api/v1/patients/me/appointments"
EDGE = "edge"
RABBITMQ = "RabbitMQ"
CLIENT = "client"  # this process: the load generator
COLUMNS = (EDGE, *SERVICES, RABBITMQ)


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


async def book_all(
    client: httpx.AsyncClient, sessions: list[dict[str, str]], slot_ids: list[str]
) -> Measurement:
    """Each session a client of its own, one booking at a time, each of the next slot not
    booked yet, until every slot is booked."""
    free = iter(slot_ids)
    latencies: list[float] = []

    async def citizen(headers: dict[str, str]) -> None:
        for slot_id in free:
            began = time.perf_counter()
            response = await client.post(BOOK, json={"slot_id": slot_id}, headers=headers)
            latencies.append(time.perf_counter() - began)
            assert response.status_code == 201, response.text

    started = time.perf_counter()
    await asyncio.gather(*(citizen(headers) for headers in sessions))
    label = f"book a free slot, {len(sessions)} citizens"
    return Measurement(label, latencies, time.perf_counter() - started)


def cpu_table(pids: dict[str, int], before: dict[str, float], count: int) -> str:
    """CPU milliseconds per booking of each process since `before`."""
    cpu = {
        name: (procfs.cpu_seconds(pid) - before[name]) * 1000 / count for name, pid in pids.items()
    }
    names = [n for n in COLUMNS if n in cpu]
    header = "CPU ms/booking:" + "".join(f"{n:>11}" for n in names) + f"{'sum':>9}{'(client)':>10}"
    cells = "".join(f"{cpu[n]:>11.2f}" for n in names)
    total = sum(cpu[n] for n in names)
    return f"{header}\n{'':15}{cells}{total:>9.2f}{cpu[CLIENT]:>10.2f}"


async def run() -> None:
    env = {**LOAD_ENV, "GOSMED_IDENTITY_DEMO_CITIZENS": str(CLIENTS)}
    stack = DevStack(env=env, log_dir=Path(tempfile.mkdtemp()))
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
        with httpx.Client(base_url=stack.base_url, timeout=60) as edge:
            sessions = [login(edge, person) for person in demo.extra_citizens(CLIENTS)]
        pids = {name: stack.pid(name) for name in (EDGE, *SERVICES)} | {CLIENT: os.getpid()}
        if broker := procfs.rabbitmq():
            pids[RABBITMQ] = broker
        own, raced = slot_ids[:BOOKINGS], slot_ids[BOOKINGS:]
        limits = httpx.Limits(max_connections=CLIENTS)
        async with httpx.AsyncClient(base_url=stack.base_url, timeout=60, limits=limits) as client:
            print(f"\nScheduling: bookings through the edge\n{HEADER}")
            before = {name: procfs.cpu_seconds(pid) for name, pid in pids.items()}
            result = await book_all(client, sessions, own)
            print(result.row(), flush=True)
            print(cpu_table(pids, before, len(result.latencies)), flush=True)
            latencies: list[float] = []
            winners = 0
            started = time.perf_counter()
            for slot_id in raced:

                async def race(headers: dict[str, str], slot_id: str = slot_id) -> int:
                    began = time.perf_counter()
                    response = await client.post(BOOK, json={"slot_id": slot_id}, headers=headers)
                    latencies.append(time.perf_counter() - began)
                    return response.status_code

                statuses = await asyncio.gather(*(race(s) for s in sessions))
                winners += statuses.count(201)
                assert set(statuses) <= {201, 409}, statuses
            raced_result = Measurement(
                f"{CLIENTS} citizens racing for one slot ({RACES} slots)",
                latencies,
                time.perf_counter() - started,
            )
            print(raced_result.row(), flush=True)
            print(f"winners: {winners} of {RACES} slots (one each expected)", flush=True)
            print(
                f"CPU ms/booking: CPU time (user + system) of each process over the {BOOKINGS} "
                f"bookings / bookings; {RABBITMQ} is the broker's whole beam.smp (other vhosts "
                "too); (client): this load generator, not in the sum.",
                flush=True,
            )
    finally:
        stack.stop()
