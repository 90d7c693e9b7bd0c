"""The list page before and after Platform v2 (issue 9), in one run: GET
/api/v1/patients/me/services?limit=50 at 32 clients for a patient with 1,000 records, on the
demo data and again with 20,000 more records of another patient, plus intake, for two systems
one after the other: "baseline", a git revision checked out into a temporary folder
(GOSMED_BENCH_BASELINE, default b0dc305, the landed main before Platform v2), and "current",
this checkout. Each runs as `make run` runs it, by its own launcher, on the embedded store.

Besides latency it shows the CPU time per request of each process (/proc, before and after
the load), so it needs Linux and, for RabbitMQ's figure, the broker on this machine."""

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

import httpx

from gosmed.contracts import demo
from gosmed.records.simulator import Catalogue, history, publish, reports
from tests.bench import procfs
from tests.bench.common import BENCH_AMQP_URL, LOAD_ENV, Measurement, measure
from tests.bench.records import CLIENTS, INTAKE_RECORDS, PATIENT_RECORDS, Intake, intake
from tests.bench.systems import Checkout, System, checkout, this_checkout
from tests.conftest import free_port
from tests.e2e.identity_support import bearer, new_session

BASELINE = os.environ.get("GOSMED_BENCH_BASELINE", "b0dc305")
LIST_REQUESTS = int(os.environ.get("GOSMED_BENCH_LISTPAGE_REQUESTS", "2000"))
LIST_SECONDS = float(os.environ.get("GOSMED_BENCH_LISTPAGE_SECONDS", "60"))
# Edge ports of the two systems, e.g. "8105,8106"; free ports when unset.
PORTS = os.environ.get("GOSMED_BENCH_EDGE_PORTS", "")
PAGE = "/api/v1/patients/me/services?limit=50"
READER = demo.PATIENT  # her 1,000 records begin with the 120 of the demo data (same generator)
SERVICES = ("edge", "identity", "records", "registry")
RABBITMQ = "RabbitMQ"
CLIENT = "client"  # this process: the load generator and nothing else while it measures
OTHERS = "others"  # the system's other services (documents, scheduling, feedback)
# Before a load, wait (at most SETTLE_SECONDS) until the services use less than this share of
# one CPU, so work left from loading the data is not counted.
QUIET = 0.05
SETTLE_SECONDS = 60.0
# The targets for the current system.
SPEEDUP = 5.0
P99_MS = 250.0
REGISTRY_MS = 0.5  # "≈ 0": a fiftieth of the 25 ms of CPU a list request cost before
INTAKE_RATE = 3000.0
STARTED = time.monotonic()


@dataclass(frozen=True)
class Load:
    measurement: Measurement
    cpu_ms: dict[str, float]  # CPU milliseconds per request, by process


@dataclass(frozen=True)
class Result:
    system: str
    revision: str
    demo_store: Load
    large_store: Load
    intake: Intake


def progress(message: str) -> None:
    elapsed = int(time.monotonic() - STARTED)
    print(f"[{elapsed // 60:02d}:{elapsed % 60:02d}] {message}", flush=True)


async def run() -> None:
    ports = [int(p) for p in PORTS.split(",") if p] or [free_port(), free_port()]
    progress(f"listpage: checking out {BASELINE} into a temporary folder (uv sync --frozen)")
    with TemporaryDirectory(prefix="gosmed-listpage-") as logs:
        with checkout(BASELINE) as baseline_tree:
            baseline = await bench_system("baseline", baseline_tree, ports[0], Path(logs))
        current = await bench_system("current", this_checkout(), ports[-1], Path(logs))
    report(baseline, current)


async def bench_system(name: str, tree: Checkout, port: int, logs: Path) -> Result:
    system = System(tree, edge_port=port, env=LOAD_ENV, log=logs / f"{name}.log")
    progress(f"{name} ({tree.revision}): starting with demo data on port {port}")
    with system.running():
        catalogue = Catalogue.demo()
        progress(f"{name}: up; {PATIENT_RECORDS} records of {READER.key}, published as clinics")
        answers = await publish(
            BENCH_AMQP_URL, list(reports(history(READER, PATIENT_RECORDS, catalogue)))
        )
        stored = sum(a.created + a.updated + a.unchanged for a in answers)
        if stored != PATIENT_RECORDS:
            raise RuntimeError(f"{name}: {stored} records of {READER.key}, not {PATIENT_RECORDS}")
        pids = {**system.processes(), CLIENT: os.getpid()}
        if broker := procfs.rabbitmq():
            pids[RABBITMQ] = broker
        with httpx.Client(base_url=system.base_url, timeout=30) as login_client:
            headers = bearer(new_session(login_client, READER))
        async with httpx.AsyncClient(
            base_url=system.base_url,
            headers=headers,
            timeout=30,
            limits=httpx.Limits(max_connections=CLIENTS),
        ) as client:

            async def list_page() -> None:
                response = await client.get(PAGE)
                assert response.status_code == 200, response.text

            first = (await client.get(PAGE)).json()
            if len(first["items"]) != 50:
                raise RuntimeError(f"{name}: the first page has {len(first['items'])} items")
            demo_store = await load(f"{name}, demo store", list_page, pids)
            progress(f"{name}: intake of {INTAKE_RECORDS:,} records of another patient")
            taken = await intake(catalogue, pids["records"])
            progress(f"{name}: intake: {taken}")
            large_store = await load(f"{name}, + {INTAKE_RECORDS:,} records", list_page, pids)
    progress(f"{name}: stopped")
    return Result(name, tree.revision, demo_store, large_store, taken)


async def settle(pids: dict[str, int]) -> None:
    """Wait until the system's services are quiet (the broker has others' work too)."""
    services = [pid for name, pid in pids.items() if name not in (CLIENT, RABBITMQ)]
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        before = sum(map(procfs.cpu_seconds, services))
        await asyncio.sleep(1.0)  # a sampling interval
        if sum(map(procfs.cpu_seconds, services)) - before < QUIET:
            return
    progress(f"the services still use more than {QUIET:.0%} of a CPU; measuring anyway")


async def load(label: str, call: Callable[[], Awaitable[None]], pids: dict[str, int]) -> Load:
    """Wait for quiet, warm up, then the measured load; CPU time of each process over it."""
    await settle(pids)
    await measure("warm-up", call, total=20, concurrency=4)
    progress(
        f"{label}: {LIST_REQUESTS} requests or {LIST_SECONDS:g} s, {CLIENTS} clients "
        f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    )
    before = {name: procfs.cpu_seconds(pid) for name, pid in pids.items()}
    result = await measure(
        label, call, total=LIST_REQUESTS, concurrency=CLIENTS, seconds=LIST_SECONDS
    )
    count = len(result.latencies)
    cpu_ms: dict[str, float] = {}
    for name, pid in pids.items():
        key = name if name in (*SERVICES, RABBITMQ, CLIENT) else OTHERS
        cpu_ms[key] = cpu_ms.get(key, 0.0) + (procfs.cpu_seconds(pid) - before[name]) * 1000 / count
    progress(
        f"{label}: {count} requests, {result.rate:.1f} req/s, "
        f"p50 {result.percentile(50):.0f} ms, p99 {result.percentile(99):.0f} ms"
    )
    return Load(result, cpu_ms)


COLUMNS = (*SERVICES, RABBITMQ, OTHERS)
HEADER = (
    f"{'system':<10}{'requests':>9}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}  CPU ms/request:"
    + "".join(f"{name:>10}" for name in COLUMNS)
    + f"{'sum':>8}{'(client)':>10}"
)


def row(system: str, load: Load) -> str:
    m, cpu = load.measurement, load.cpu_ms
    cells = "".join(f"{cpu[n]:>10.2f}" if n in cpu else f"{'n/a':>10}" for n in COLUMNS)
    return (
        f"{system:<10}{len(m.latencies):>9}{m.rate:>8.1f}{m.percentile(50):>8.0f}"
        f"{m.percentile(99):>8.0f}  {'':15}{cells}"
        f"{sum(cpu.get(n, 0.0) for n in COLUMNS):>8.2f}{cpu[CLIENT]:>10.2f}"
    )


def fact(target: str, holds: bool, measured: str) -> str:
    return f"  {target}: {'holds' if holds else 'does not hold'} ({measured})"


def table(store: str, baseline: Load, current: Load) -> float:
    """Both systems' rows on one store; the ratio of their throughputs."""
    print(f"\nStore: {store}\n{HEADER}\n{row('baseline', baseline)}\n{row('current', current)}")
    speedup = current.measurement.rate / baseline.measurement.rate
    print(f"current/baseline req/s: {speedup:.2f}x")
    return speedup


def report(baseline: Result, current: Result) -> None:
    print(
        f"\nList page GET {PAGE}, {CLIENTS} concurrent clients, as {READER.full_name} "
        f"with {PATIENT_RECORDS:,} records; at most {LIST_REQUESTS:,} requests or "
        f"{LIST_SECONDS:g} s per row.\nbaseline = {baseline.revision}, "
        f"current = {current.revision} (this checkout); embedded store (mongomock)."
    )
    speedup = table(
        f"the demo data of `make run` + the patient's {PATIENT_RECORDS:,} records",
        baseline.demo_store,
        current.demo_store,
    )
    p99 = current.demo_store.measurement.percentile(99)
    registry = current.demo_store.cpu_ms["registry"]
    print("Issue 9 targets, current system:")
    print(fact(f"throughput >= {SPEEDUP:g}x baseline", speedup >= SPEEDUP, f"{speedup:.2f}x"))
    print(fact(f"p99 <= {P99_MS:g} ms", p99 <= P99_MS, f"{p99:.0f} ms"))
    print(
        fact(
            f"registry CPU/request ≈ 0 (< {REGISTRY_MS:g} ms)",
            registry < REGISTRY_MS,
            f"{registry:.2f} ms",
        )
    )
    table(
        f"the above + {INTAKE_RECORDS:,} records of another patient (no target)",
        baseline.large_store,
        current.large_store,
    )
    print(
        "The embedded store (mongomock) scans whole collections, which a real MongoDB with the "
        "declared indexes does not."
    )

    print(f"\nIntake: {INTAKE_RECORDS:,} records in reports of up to 500, publish -> stored")
    for result in (baseline, current):
        print(f"{result.system:<10}{result.intake}")
    rate = current.intake.rate
    print(fact(f"current >= {INTAKE_RATE:g} records/s", rate >= INTAKE_RATE, f"{rate:.0f}"))
    print(
        "\nCPU ms/request: CPU time (user + system) of each process over the load / requests. "
        f"{RABBITMQ} is the whole beam.smp of the broker, so its figure includes anything else "
        f"on the broker (other vhosts, other users). {OTHERS}: the system's other services "
        "(documents, scheduling, feedback). (client): this load generator, not in the sum."
    )
