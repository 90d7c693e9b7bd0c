"""The system's readiness as an operator sees it through the edge."""

import time

import httpx

from gosmed.runtime.devstack import SERVICES, DevStack


def wait_for(edge: httpx.Client, status: int, within: float) -> httpx.Response:
    deadline = time.monotonic() + within
    while True:
        response = edge.get("/readyz")
        if response.status_code == status or time.monotonic() > deadline:
            return response
        time.sleep(0.1)


def test_readyz_lists_all_six_services_up(edge: httpx.Client) -> None:
    response = edge.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["broker"] == "up"
    assert set(body["services"]) == set(SERVICES)
    for name, status in body["services"].items():
        assert status["state"] == "up", name
        assert status["version"] == "0.1.0"
        assert status["dependencies"]["broker"]["state"] == "up"


def test_killed_service_is_named_within_5_seconds_and_comes_back(
    stack: DevStack, edge: httpx.Client
) -> None:
    stack.kill("registry")
    killed_at = time.monotonic()
    response = wait_for(edge, 503, within=5)
    assert time.monotonic() - killed_at < 5
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "not_ready"
    assert body["services"]["registry"]["state"] == "down"
    assert "registry" in body["detail"]
    assert all(body["services"][s]["state"] == "up" for s in SERVICES if s != "registry")

    stack.start_process("registry")
    assert wait_for(edge, 200, within=30).status_code == 200
