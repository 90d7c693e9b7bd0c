"""Every error the edge gives is RFC 9457 problem+json with a stable code and Russian text."""

from collections.abc import AsyncIterator

import httpx

from gosmed.contracts.errors import CLINIC_DOOR_CODES, ErrorCode
from gosmed.edge.problems import STATUS_BY_CODE

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert str(body["type"]).endswith(code)
    assert body["request_id"] == response.headers["x-request-id"]
    assert body["title"]
    assert body["detail"]
    return dict(body)


async def test_unknown_path_is_a_404_problem(live_client: httpx.AsyncClient) -> None:
    body = assert_problem(await live_client.get("/api/v1/no-such-thing"), 404, "not_found")
    assert body["detail"] == "Такого адреса нет."
    assert body["instance"] == "/api/v1/no-such-thing"


async def test_wrong_method_is_a_405_problem(live_client: httpx.AsyncClient) -> None:
    assert_problem(await live_client.post("/healthz"), 405, "method_not_allowed")


async def test_huge_body_is_refused_before_it_is_read_whole(live_client: httpx.AsyncClient) -> None:
    response = await live_client.post("/api/v1/anything", content=b"x" * 5000)
    assert_problem(response, 413, "payload_too_large")


async def test_streamed_huge_body_is_refused(live_client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * 1000

    response = await live_client.post("/api/v1/anything", content=chunks())
    assert_problem(response, 413, "payload_too_large")


async def test_readyz_without_services_is_a_503_naming_each(live_client: httpx.AsyncClient) -> None:
    # The edge under test runs alone: no service answers its ping within the timeout.
    body = assert_problem(await live_client.get("/readyz"), 503, "not_ready")
    assert body["down"] == [
        "identity",
        "records",
        "registry",
        "documents",
        "scheduling",
        "feedback",
    ]
    assert "registry" in str(body["detail"])
    assert "services" not in body, "details only with GOSMED_EDGE_READINESS_DETAILS"


def test_every_error_code_a_service_can_answer_has_an_http_status() -> None:
    """The clinic door's refusals go to clinics, never through the edge."""
    assert set(STATUS_BY_CODE) == set(ErrorCode) - CLINIC_DOOR_CODES
