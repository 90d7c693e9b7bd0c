"""The system's readiness as an operator sees it through the edge."""

import os
import signal
import time
from collections.abc import Callable

import httpx

from gosmed.runtime.devstack import DevStack


def wait_for(edge: httpx.Client, status: int, within: float) -> httpx.Response:
    deadline = time.monotonic() + within
    while True:
        response = edge.get("/readyz")
        if response.status_code == status or time.monotonic() > deadline:
            return response
        time.sleep(0.1)


def test_readyz_says_ready_without_versions(edge: httpx.Client) -> None:
    response = edge.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}  # details only with the setting


def test_stopped_service_is_named_within_5_seconds(stack: DevStack, edge: httpx.Client) -> None:
    stack.stop_process("registry")
    stopped_at = time.monotonic()
    try:
        response = wait_for(edge, 503, within=5)
        assert time.monotonic() - stopped_at < 5
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["code"] == "not_ready"
        assert body["down"] == ["registry"]  # and every other service is up
        assert "registry" in body["detail"]
    finally:
        stack.start_process("registry")
    assert wait_for(edge, 200, within=30).status_code == 200


def test_crashed_service_is_restarted_by_the_launcher_within_15_seconds(
    stack: DevStack, edge: httpx.Client
) -> None:
    crashed = stack.pid("registry")
    restarts = stack.supervisor.restarts("registry")
    os.kill(crashed, signal.SIGKILL)
    killed_at = time.monotonic()

    wait_until(lambda: stack.supervisor.restarts("registry") > restarts, within=15)
    response = wait_for(edge, 200, within=15)

    assert response.status_code == 200, response.text
    assert time.monotonic() - killed_at < 15
    assert stack.pid("registry") != crashed
    assert response.json() == {"status": "ready"}


def wait_until(condition: Callable[[], bool], within: float) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)
