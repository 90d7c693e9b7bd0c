"""RPC round trips to a real service process: FastStream's `broker.request()` against
gosmed's `RpcClient`, one at a time and with 200 requests in flight."""

import os
import tempfile
from pathlib import Path

from faststream.rabbit import RabbitBroker

from gosmed.contracts.system import Ping, PingReply, ping
from gosmed.contracts.topology import Service
from gosmed.runtime.devstack import DevStack
from gosmed.runtime.rpc import RpcClient
from tests.bench.common import BENCH_AMQP_URL, HEADER, measure

PING = ping(Service.REGISTRY)
QUEUE = PING.queue
SEQUENTIAL = int(os.environ.get("GOSMED_BENCH_RPC_SEQUENTIAL", "1000"))
PARALLEL = int(os.environ.get("GOSMED_BENCH_RPC_PARALLEL", "5000"))
IN_FLIGHT = 200


async def run() -> None:
    stack = DevStack(env={"GOSMED_AMQP_URL": BENCH_AMQP_URL}, log_dir=Path(tempfile.mkdtemp()))
    stack.start_process(Service.REGISTRY.value)
    broker = RabbitBroker(BENCH_AMQP_URL, log_level=10)
    rpc = RpcClient(BENCH_AMQP_URL)
    try:
        await broker.start()
        await rpc.connect()
        await _wait_for_service(rpc)

        async def faststream_call() -> None:
            reply = await broker.request(Ping().model_dump(mode="json"), QUEUE, timeout=10)
            PingReply.model_validate_json(reply.body)

        async def gosmed_call() -> None:
            await rpc.call(PING, Ping(), timeout=10)

        print(f"\nRPC: ping to the registry service process ({QUEUE})\n{HEADER}")
        for label, call in (
            ("FastStream broker.request()", faststream_call),
            ("gosmed RpcClient", gosmed_call),
        ):
            await measure(label, call, total=100, concurrency=10)  # warm-up
            for total, in_flight in ((SEQUENTIAL, 1), (PARALLEL, IN_FLIGHT)):
                result = await measure(
                    f"{label}, {in_flight} in flight", call, total=total, concurrency=in_flight
                )
                print(result.row(), flush=True)
    finally:
        await rpc.close()
        await broker.stop()
        stack.stop()


async def _wait_for_service(rpc: RpcClient) -> None:
    from gosmed.contracts.errors import ServiceError

    for _ in range(100):
        try:
            await rpc.call(PING, Ping(), timeout=0.5)
            return
        except ServiceError:
            continue
    raise RuntimeError("the registry service did not answer")
