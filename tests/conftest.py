"""End-to-end harness: every service as its own process plus the edge, on the real broker."""

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gosmed.runtime.devstack import DevStack


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def stack_env() -> dict[str, str]:
    """Extra environment of the stack's processes; a test module overrides this fixture, e.g.
    with `{"GOSMED_DEMO_DATA": "1"}` to log in as the demo people."""
    return {}


@pytest.fixture(scope="module")
def stack(
    amqp_url: str, stack_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DevStack]:
    """The whole system, started once per test module and stopped after it.

    Logs of each process are in the module's temporary folder and are printed on failure to
    start.
    """
    log_dir: Path = tmp_path_factory.mktemp("stack-logs")
    running = DevStack(
        edge_port=free_port(),
        env={"GOSMED_AMQP_URL": amqp_url, "GOSMED_LOG_LEVEL": "INFO", **stack_env},
        log_dir=log_dir,
    )
    running.start()
    try:
        running.wait_ready(timeout=60)
    except Exception:
        running.stop()
        for log in sorted(log_dir.glob("*.log")):
            print(f"--- {log.name}\n{log.read_text()[-3000:]}")
        raise
    yield running
    running.stop()


@pytest.fixture
def edge(stack: DevStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.base_url, timeout=10) as client:
        yield client
