"""Cross-cutting behaviour of the edge app: request ids, CORS, OpenAPI, liveness."""

import httpx


async def test_healthz_answers_without_any_service(live_client: httpx.AsyncClient) -> None:
    response = await live_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}


async def test_well_formed_request_id_is_echoed(live_client: httpx.AsyncClient) -> None:
    response = await live_client.get("/healthz", headers={"X-Request-ID": "portal-42.a_b"})
    assert response.headers["x-request-id"] == "portal-42.a_b"


async def test_malformed_request_id_is_replaced(live_client: httpx.AsyncClient) -> None:
    response = await live_client.get("/healthz", headers={"X-Request-ID": "bad id\r\nx: y"})
    assert response.headers["x-request-id"] != "bad id\r\nx: y"
    assert len(response.headers["x-request-id"]) == 32


async def test_cors_allows_configured_frontend_origin_only(live_client: httpx.AsyncClient) -> None:
    allowed = await live_client.options(
        "/healthz",
        headers={"Origin": "https://portal.example", "Access-Control-Request-Method": "GET"},
    )
    assert allowed.headers["access-control-allow-origin"] == "https://portal.example"
    other = await live_client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


async def test_openapi_document_is_served(live_client: httpx.AsyncClient) -> None:
    document = (await live_client.get("/openapi.json")).json()
    assert document["info"]["title"] == "gosmed edge API"
    assert document["servers"][0]["url"] == "/api/v1"
    assert "/organizations" in document["paths"]
    assert "/readyz" not in document["paths"]  # a probe for orchestrators, not the client API
