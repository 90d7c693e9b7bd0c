"""`/readyz` on fake services: public, it says ready or not and names what is down, nothing
more (no versions, no kind of store); the full report only with the details setting."""

from typing import Any

import httpx
import pytest

from gosmed.contracts import topology
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.rpc import ReplyT, RequestT, Rpc
from gosmed.contracts.system import DependencyState, DependencyStatus, PingReply, ping
from gosmed.edge.main import create_app
from gosmed.edge.settings import EdgeSettings
from gosmed.runtime.testing import FakeRpc

VERSION = "7.3.1"


class Services(FakeRpc):
    """Every service answers its ping, with a version and an embedded store."""

    connected = True

    def __init__(self) -> None:
        super().__init__()
        for service in topology.Service:
            self.reply(
                ping(service),
                PingReply(
                    service=service.value,
                    version=VERSION,
                    dependencies={
                        "broker": DependencyStatus(state=DependencyState.UP),
                        "store": DependencyStatus(
                            state=DependencyState.DEGRADED, detail="embedded store"
                        ),
                    },
                ),
            )

    async def call(
        self, rpc: Rpc[RequestT, ReplyT], request: RequestT, timeout: float | None = None
    ) -> ReplyT:
        return await super().call(rpc, request)


@pytest.fixture
def services() -> Services:
    return Services()


async def readyz(services: Services, **settings: Any) -> httpx.Response:
    app = create_app(EdgeSettings(**settings))
    app.state.rpc = services  # no broker: the lifespan does not run
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://edge") as http:
        return await http.get("/readyz")


async def test_public_readiness_says_ready_and_nothing_else(services: Services) -> None:
    response = await readyz(services)
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}
    assert VERSION not in response.text
    assert "embedded" not in response.text


async def test_public_unreadiness_names_what_is_down_without_versions(
    services: Services,
) -> None:
    services.fail(
        ping(topology.Service.REGISTRY),
        ServiceError(ErrorCode.SERVICE_UNAVAILABLE, "registry.rpc.ping is not answered."),
    )
    response = await readyz(services)
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "not_ready"
    assert body["down"] == ["registry"]
    assert "registry" in body["detail"]
    assert VERSION not in response.text
    assert "embedded" not in response.text
    assert "services" not in body


async def test_a_broker_that_is_down_is_named(services: Services) -> None:
    services.connected = False
    response = await readyz(services)
    assert response.status_code == 503
    assert response.json()["down"] == ["broker"]
    assert "брокер" in response.json()["detail"]


async def test_with_the_details_setting_versions_and_dependencies_are_reported(
    services: Services,
) -> None:
    response = await readyz(services, readiness_details=True)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["broker"] == "up"
    assert body["session_feed"] == "catching_up"
    assert set(body["services"]) == {s.value for s in topology.Service}
    for status in body["services"].values():
        assert status["version"] == VERSION
        assert status["dependencies"]["store"]["detail"] == "embedded store"
