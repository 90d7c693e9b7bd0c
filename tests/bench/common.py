"""Helpers shared by the benchmarks: latency statistics and a table printer."""

import os
import statistics
import time
from collections.abc import Awaitable, Callable

BENCH_AMQP_URL = os.environ.get(
    "GOSMED_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/gosmed-test"
)
# Environment of a whole system under load (as `make run`, with the demo data).
LOAD_ENV = {
    "GOSMED_AMQP_URL": BENCH_AMQP_URL,
    "GOSMED_DEMO_DATA": "1",
    "GOSMED_LOG_LEVEL": "WARNING",
    # 32 clients queue up on two cores: measure their latency rather than cut it at 5 s
    "GOSMED_EDGE_RPC_TIMEOUT": "30",
    "GOSMED_RECORDS_RPC_TIMEOUT": "20",
    "GOSMED_IDENTITY_ACCESS_TOKEN_TTL": "3600",  # one session for the whole run
}


class Measurement:
    def __init__(self, label: str, latencies: list[float], elapsed: float) -> None:
        self.label = label
        self.latencies = sorted(latencies)
        self.elapsed = elapsed

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed

    def percentile(self, p: float) -> float:
        index = min(len(self.latencies) - 1, round(p / 100 * (len(self.latencies) - 1)))
        return self.latencies[index] * 1000

    def row(self) -> str:
        return (
            f"{self.label:<48} {len(self.latencies):>7} {self.rate:>10.0f} "
            f"{self.percentile(50):>9.2f} {self.percentile(99):>9.2f} "
            f"{statistics.fmean(self.latencies) * 1000:>9.2f}"
        )


HEADER = f"{'benchmark':<48} {'count':>7} {'per s':>10} {'p50 ms':>9} {'p99 ms':>9} {'mean ms':>9}"


async def measure(
    label: str,
    call: Callable[[], Awaitable[object]],
    *,
    total: int,
    concurrency: int,
    seconds: float | None = None,
) -> Measurement:
    """Run `total` calls with at most `concurrency` in flight, starting none after `seconds`
    if given; time each and the whole."""
    import asyncio

    latencies: list[float] = []
    remaining = total
    deadline = None if seconds is None else time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0 and (deadline is None or time.perf_counter() < deadline):
            remaining -= 1
            started = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Measurement(label, latencies, time.perf_counter() - started)
