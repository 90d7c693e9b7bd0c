"""Registry: (a) public reads through the edge with 32 concurrent clients (nomenclature search
by words, organization search with open-now, one organization's card); (b) batch-get of 200
specialists over RPC, one round trip each; (c) intake, specialist upserts per second from the
clinic's publish until the last one is readable.

Everything runs as `make run` runs it: every service a process, the edge, the real broker, the
registry's demo data set. Run: `python -m tests.bench.registry`."""

import asyncio
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import aio_pika
import httpx

from gosmed.contracts import topology
from gosmed.contracts.registry.specialists import (
    GET_SPECIALISTS,
    UPSERT_SPECIALIST,
    GetSpecialists,
    SpecialistProfile,
    UpsertSpecialist,
)
from gosmed.registry import demo
from gosmed.runtime.devstack import DevStack
from gosmed.runtime.rpc import RpcClient
from tests.bench.common import BENCH_AMQP_URL, HEADER, measure
from tests.conftest import free_port

CLIENTS = 32
READS = 1000
BATCHES = 300
UPSERTS = 2000


async def run() -> None:
    stack = DevStack(
        edge_port=free_port(),
        env={
            "GOSMED_AMQP_URL": BENCH_AMQP_URL,
            "GOSMED_DEMO_DATA": "1",
            "GOSMED_LOG_LEVEL": "WARNING",
        },
        log_dir=Path(tempfile.mkdtemp()),
    )
    stack.start()
    try:
        stack.wait_ready()
        await _reads(stack)
        await _batch_get()
        await _intake(stack)
    finally:
        stack.stop()


async def _reads(stack: DevStack) -> None:
    organization = demo.organizations()[0]
    paths = {
        "GET /catalog/services?q=прием врача": "/api/v1/catalog/services?q=прием%20врача",
        "GET /organizations?city=Москва&open_now=true": (
            "/api/v1/organizations?city=Москва&open_now=true"
        ),
        "GET /organizations/{id}": f"/api/v1/organizations/{organization.id}",
    }
    print(f"\nRegistry reads through the edge, {CLIENTS} clients\n{HEADER}")
    async with httpx.AsyncClient(
        base_url=stack.base_url, timeout=30, limits=httpx.Limits(max_connections=CLIENTS)
    ) as client:
        for label, path in paths.items():

            async def read(path: str = path) -> None:
                response = await client.get(path)
                assert response.status_code == 200, response.text

            await measure("warm-up", read, total=100, concurrency=CLIENTS)
            result = await measure(label, read, total=READS, concurrency=CLIENTS)
            print(result.row(), flush=True)


async def _batch_get() -> None:
    rpc = RpcClient(BENCH_AMQP_URL)
    await rpc.connect()
    ids = tuple(s.id for s in demo.specialists()[:200])

    async def batch() -> None:
        view = await rpc.call(GET_SPECIALISTS, GetSpecialists(ids=ids), timeout=30)
        assert len(view.items) == len(ids)

    try:
        result = await measure("RPC get-specialists, 200 ids", batch, total=BATCHES, concurrency=8)
        print(result.row(), flush=True)
    finally:
        await rpc.close()


async def _intake(stack: DevStack) -> None:
    """Every upsert renames a demo specialist with a newer `updated_at`."""
    specialists = demo.specialists()
    queue = topology.command_queue(topology.Service.REGISTRY, UPSERT_SPECIALIST)
    messages = []
    for n in range(UPSERTS):
        card = specialists[n % len(specialists)]
        profile = SpecialistProfile.model_validate(card.model_dump(exclude={"rating"}))
        renamed = profile.model_copy(
            update={
                "full_name": f"{card.full_name} ({n})",
                "updated_at": card.updated_at + timedelta(seconds=n + 1),
            }
        )
        messages.append((renamed, UpsertSpecialist(specialist=renamed).model_dump_json()))
    last = messages[-1][0]
    connection = await aio_pika.connect(BENCH_AMQP_URL)
    async with connection, httpx.AsyncClient(base_url=stack.base_url, timeout=30) as client:
        channel = await connection.channel(publisher_confirms=True)
        started = time.perf_counter()
        await asyncio.gather(
            *(
                channel.default_exchange.publish(
                    aio_pika.Message(
                        body.encode(),
                        content_type="application/json",
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    ),
                    routing_key=queue,
                )
                for _, body in messages
            )
        )
        published = time.perf_counter() - started
        while True:
            response = await client.get(f"/api/v1/specialists/{last.id}")
            if response.json()["full_name"] == last.full_name:
                break
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
    print(
        f"\nRegistry intake: {UPSERTS} specialist upserts, published in {published:.2f} s, "
        f"last readable after {elapsed:.2f} s: {UPSERTS / elapsed:.0f} upserts/s "
        "(each a versioned write plus its specialist-updated event)",
        flush=True,
    )


if __name__ == "__main__":
    asyncio.run(run())
