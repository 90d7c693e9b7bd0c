"""Records: (a) the list endpoint through the edge, requests per second and latency with 32
concurrent clients for a patient with 1,000 records; (b) intake, records per second from the
clinic's publish to stored (the report's answer is sent after the write), for 20,000 records.

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

        print(f"\nRecords intake: {await intake(catalogue)}", flush=True)
    finally:
        stack.stop()


@dataclass(frozen=True)
class Intake:
    stored: int
    reports: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.stored / self.seconds

    def __str__(self) -> str:
        return (
            f"{self.stored} records in {self.reports} reports, publish to stored: "
            f"{self.seconds:.1f} s, {self.rate:.0f} records/s"
        )


async def intake(catalogue: Catalogue) -> Intake:
    """Publish INTAKE_RECORDS records of BENCH_PATIENT as clinics would (reports of
    up to 500) and wait for every answer, which records sends once the report is stored."""
    batches = list(reports(history(BENCH_PATIENT, INTAKE_RECORDS, catalogue, prefix="load")))
    started = time.perf_counter()
    answers = await publish(BENCH_AMQP_URL, batches)
    elapsed = time.perf_counter() - started
    return Intake(sum(a.created + a.updated + a.unchanged for a in answers), len(batches), elapsed)
