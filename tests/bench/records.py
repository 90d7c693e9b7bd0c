"""Records: (a) the list endpoint through the edge, requests per second and latency with 32
concurrent clients for a patient with 1,000 records; (b) intake, records per second from the
clinic's publish to stored (the report's answer is sent after the write), for 20,000 records,
and the CPU time the records process spent per record meanwhile (Linux: from /proc).

Everything runs as `make run` runs it: every service a process, the edge, the real broker."""

import os
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from gosmed.contracts import demo
from gosmed.contracts.types import snils_check_digits
from gosmed.records.simulator import Catalogue, history, publish, reports
from gosmed.runtime.devstack import DevStack
from tests.bench import procfs
from tests.bench.common import BENCH_AMQP_URL, HEADER, LOAD_ENV, measure
from tests.conftest import free_port
from tests.e2e.identity_support import login

INTAKE_RECORDS = int(os.environ.get("GOSMED_BENCH_RECORDS_INTAKE", "20000"))
PATIENT_RECORDS = int(os.environ.get("GOSMED_BENCH_RECORDS_PATIENT", "1000"))
LIST_REQUESTS = int(os.environ.get("GOSMED_BENCH_RECORDS_LIST", "1000"))
CLIENTS = 32
# A patient of the benchmark alone (no account): the intake load does not touch demo people.
BENCH_PATIENT = replace(
    demo.PATIENT, key="bench", snils="900000001" + snils_check_digits("900000001")
)


async def run() -> None:
    stack = DevStack(
        edge_port=free_port(),
        env=LOAD_ENV,
        log_dir=Path(tempfile.mkdtemp()),
    )
    stack.start()
    try:
        stack.wait_ready()
        catalogue = Catalogue.demo()
        reader = demo.CHILD_OVER_15  # has the demo consent to receive clinic data
        await publish(
            BENCH_AMQP_URL,
            list(reports(history(reader, PATIENT_RECORDS, catalogue, prefix="bench"))),
        )
        print(f"\nRecords list: GET /patients/me/services, {PATIENT_RECORDS} records\n{HEADER}")
        with httpx.Client(base_url=stack.base_url, timeout=30) as sync_client:
            headers = login(sync_client, reader)
        async with httpx.AsyncClient(
            base_url=stack.base_url,
            headers=headers,
            timeout=30,
            limits=httpx.Limits(max_connections=CLIENTS),
        ) as client:

            async def list_page() -> None:
                response = await client.get("/api/v1/patients/me/services")
                assert response.status_code == 200, response.text

            await measure("warm-up", list_page, total=20, concurrency=4)
            for clients, total in ((1, 100), (CLIENTS, LIST_REQUESTS)):
                result = await measure(
                    f"list, {clients} clients, 20 per page with cards",
                    list_page,
                    total=total,
                    concurrency=clients,
                )
                print(result.row(), flush=True)

        print(f"\nRecords intake: {await intake(catalogue, stack.pid('records'))}", flush=True)
    finally:
        stack.stop()


@dataclass(frozen=True)
class Intake:
    stored: int
    reports: int
    seconds: float
    records_cpu: float | None = None  # CPU seconds the records process spent meanwhile

    @property
    def rate(self) -> float:
        return self.stored / self.seconds

    def __str__(self) -> str:
        cpu = (
            ""
            if self.records_cpu is None
            else f", records CPU {self.records_cpu / self.stored * 1e6:.0f} µs/record"
        )
        return (
            f"{self.stored} records in {self.reports} reports, publish to stored: "
            f"{self.seconds:.1f} s, {self.rate:.0f} records/s{cpu}"
        )


async def intake(catalogue: Catalogue, records_pid: int | None = None) -> Intake:
    """Publish INTAKE_RECORDS records of BENCH_PATIENT as clinics would (reports of
    up to 500) and wait for every answer, which records sends once the report is stored;
    with the records process's id (on Linux), also its CPU time meanwhile."""
    batches = list(reports(history(BENCH_PATIENT, INTAKE_RECORDS, catalogue, prefix="load")))
    pid = records_pid if procfs.PROC.exists() else None
    cpu = procfs.cpu_seconds(pid) if pid else 0.0
    started = time.perf_counter()
    answers = await publish(BENCH_AMQP_URL, batches)
    elapsed = time.perf_counter() - started
    used = procfs.cpu_seconds(pid) - cpu if pid else None
    return Intake(
        sum(a.created + a.updated + a.unchanged for a in answers), len(batches), elapsed, used
    )
