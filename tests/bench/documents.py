"""Documents: time to a ready PDF through the whole system (edge -> documents -> records ->
process pool) for 10, 100 and 1,000 services, against WeasyPrint rendering the same HTML alone
in this process; and the edge's /healthz latency while 8 documents render at once."""

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx

from gosmed.contracts import demo
from gosmed.contracts.base import utc_now
from gosmed.contracts.documents.requests import DocumentFormat, DocumentKind
from gosmed.contracts.records.queries import RenderedServicesPage
from gosmed.contracts.records.views import RenderedServiceView
from gosmed.contracts.types import DateRange
from gosmed.documents.domain import DocumentSpec, compose
from gosmed.documents.rendering import html_to_pdf, render_html
from gosmed.runtime.devstack import DevStack
from tests.bench.common import BENCH_AMQP_URL, HEADER, Measurement
from tests.e2e.identity_support import DEMO_ENV, login

SIZES = (10, 100, 1000)
REPEATS = int(os.environ.get("GOSMED_BENCH_DOCUMENTS_REPEATS", "3"))
CONCURRENT = 8


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def run() -> None:
    stack = DevStack(
        edge_port=_free_port(),
        env={
            **DEMO_ENV,
            "GOSMED_AMQP_URL": BENCH_AMQP_URL,
            "GOSMED_LOG_LEVEL": "WARNING",
            "GOSMED_IDENTITY_ACCESS_TOKEN_TTL": "3600",  # the run outlasts a 5-minute token
        },
        log_dir=Path(tempfile.mkdtemp()),
    )
    stack.start()
    try:
        stack.wait_ready(timeout=90)
        with httpx.Client(base_url=stack.base_url, timeout=60) as edge:
            headers = login(edge, demo.PATIENT)
            _load_history(edge, headers)
            items, patient = _history(edge, headers)
        async with httpx.AsyncClient(base_url=stack.base_url, timeout=120) as client:
            await _time_to_ready(client, headers, items, patient)
            await _healthz_while_rendering(client, headers, items)
    finally:
        stack.stop()


def _load_history(edge: httpx.Client, headers: dict[str, str]) -> None:
    """Consent, then a clinic reports 1,000 services over the broker (clinic simulator)."""
    consent = edge.put("/api/v1/patients/me/consents", json={"all_clinics": True}, headers=headers)
    consent.raise_for_status()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "gosmed.records.simulator",
            "--count",
            str(max(SIZES)),
            "--patient",
            demo.PATIENT.snils,
            "--prefix",
            "bench",
        ],
        env={**os.environ, "GOSMED_AMQP_URL": BENCH_AMQP_URL},
        check=True,
    )


def _history(edge: httpx.Client, headers: dict[str, str]) -> tuple[list[RenderedServiceView], Any]:
    """Every service of the patient, newest first, as records shows them."""
    items: list[RenderedServiceView] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        response = edge.get("/api/v1/patients/me/services", params=params, headers=headers)
        response.raise_for_status()
        page = RenderedServicesPage.model_validate_json(response.content)
        items += page.items
        cursor = page.next_cursor
        if cursor is None:
            return items, page.patient


def _period_of(items: list[RenderedServiceView], count: int) -> DateRange:
    """The period of the newest `count` services (a few more when days are shared)."""
    newest = items[:count]
    return DateRange(
        start=min(i.rendered_on for i in newest), end=max(i.rendered_on for i in newest)
    )


async def _request(client: httpx.AsyncClient, headers: dict[str, str], period: DateRange) -> str:
    body = {"kind": "statement", "format": "pdf", "period": period.model_dump(mode="json")}
    response = await client.post("/api/v1/patients/me/documents", json=body, headers=headers)
    response.raise_for_status()
    document_id: str = response.json()["document_id"]
    return document_id


async def _until_ready(
    client: httpx.AsyncClient, headers: dict[str, str], document_id: str
) -> None:
    while True:
        response = await client.get(f"/api/v1/documents/{document_id}", headers=headers)
        response.raise_for_status()
        status = response.json()["status"]
        if status == "ready":
            return
        if status != "pending":
            raise RuntimeError(f"document {document_id} is {status}")
        await asyncio.sleep(0.02)


async def _time_to_ready(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    items: list[RenderedServiceView],
    patient: Any,
) -> None:
    print(f"\nDocuments: statement PDF, {REPEATS} runs each\n{HEADER}")
    for size in SIZES:
        period = _period_of(items, size)
        in_period = tuple(i for i in items if i.rendered_on in period)
        through_service: list[float] = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            await _until_ready(client, headers, await _request(client, headers, period))
            through_service.append(time.perf_counter() - started)
        print(
            Measurement(
                f"{len(in_period)} services: request -> ready",
                through_service,
                sum(through_service),
            ).row()
        )
        content = compose(
            DocumentSpec(DocumentKind.STATEMENT, DocumentFormat.PDF, period=period),
            document_id=uuid4(),
            number="СМУ-00000000-000000",
            issued_at=utc_now(),
            patient=patient,
            items=in_period,
            basis_label="",
            truncated=False,
            verify_url="http://127.0.0.1:8000/api/v1/verify/x",
        )
        html = render_html(content)
        html_to_pdf(html)  # warm-up: fonts, imports
        alone: list[float] = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            html_to_pdf(html)
            alone.append(time.perf_counter() - started)
        print(
            Measurement(f"{len(in_period)} services: WeasyPrint alone", alone, sum(alone)).row(),
            flush=True,
        )


async def _healthz_while_rendering(
    client: httpx.AsyncClient, headers: dict[str, str], items: list[RenderedServiceView]
) -> None:
    async def probe(path: str, until: asyncio.Event | None, total: int = 500) -> list[float]:
        latencies: list[float] = []
        while (until is not None and not until.is_set()) or (
            until is None and len(latencies) < total
        ):
            started = time.perf_counter()
            response = await client.get(path, headers=headers)
            response.raise_for_status()
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(0.01)
        return latencies

    started = time.perf_counter()
    idle = await probe("/healthz", None)
    idle_elapsed = time.perf_counter() - started
    period = _period_of(items, max(SIZES))
    ids = await asyncio.gather(*(_request(client, headers, period) for _ in range(CONCURRENT)))
    done = asyncio.Event()
    started = time.perf_counter()
    healthz = asyncio.create_task(probe("/healthz", done))
    status = asyncio.create_task(probe(f"/api/v1/documents/{ids[0]}", done))
    await asyncio.gather(*(_until_ready(client, headers, i) for i in ids))
    elapsed = time.perf_counter() - started
    done.set()
    print(
        f"\n/healthz of the edge, idle and while {CONCURRENT} statements of {max(SIZES)} "
        f"services render (all ready after {elapsed:.1f} s)\n{HEADER}"
    )
    print(Measurement("/healthz, idle", idle, idle_elapsed).row())
    print(Measurement(f"/healthz, {CONCURRENT} rendering", await healthz, elapsed).row())
    print(
        Measurement(f"GET /documents/{{id}}, {CONCURRENT} rendering", await status, elapsed).row(),
        flush=True,
    )
