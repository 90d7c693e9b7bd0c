"""The benchmarks' instruments: CPU time and children from /proc, and a load bounded in time."""

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.bench import procfs
from tests.bench.common import measure

BUSY = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\n"
IDLE = "import time; time.sleep(30)"


@pytest.fixture
def idle_child() -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen([sys.executable, "-c", IDLE])
    yield child
    child.kill()
    child.wait()


def test_cpu_seconds_counts_a_busy_process_and_not_an_idle_one(
    idle_child: subprocess.Popen[bytes],
) -> None:
    busy = subprocess.Popen([sys.executable, "-c", BUSY + "time.sleep(30)"])
    try:
        deadline = time.monotonic() + 20
        while procfs.cpu_seconds(busy.pid) < 0.3:
            assert time.monotonic() < deadline, "the busy child's CPU time never reached 0.3 s"
            time.sleep(0.05)
    finally:
        busy.kill()
        busy.wait()
    assert procfs.cpu_seconds(idle_child.pid) < 0.3


def test_children_are_found_with_their_command_lines(idle_child: subprocess.Popen[bytes]) -> None:
    found = procfs.children(idle_child.pid)
    assert found == {}
    assert procfs.children(os.getpid())[idle_child.pid] == [sys.executable, "-c", IDLE]


async def test_a_load_bounded_in_time_stops_starting_calls() -> None:
    async def call() -> None:
        await asyncio.sleep(0.01)  # 4 in flight: at most 400 per second

    result = await measure("bounded", call, total=10_000, concurrency=4, seconds=0.3)
    assert 4 <= len(result.latencies) <= 4 * 31
    assert result.elapsed < 1
