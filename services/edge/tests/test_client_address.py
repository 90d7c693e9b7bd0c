"""Which address the edge passes to identity as the client's: forwarded headers count only
from the configured proxies."""

from ipaddress import ip_network
from uuid import uuid4

import httpx
import pytest

from gosmed.contracts.base import utc_now
from gosmed.contracts.identity.auth import START_LOGIN, LoginChallenge, SecondFactor
from gosmed.edge.client_address import client_address
from gosmed.edge.main import create_app
from gosmed.edge.settings import EdgeSettings
from gosmed.runtime.testing import FakeRpc

PROXIES = [ip_network("10.0.0.0/8"), ip_network("2001:db8:ff::/48")]


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    assert client_address("10.0.0.5", ["198.51.100.7"], []) == "10.0.0.5"


def test_an_untrusted_peer_cannot_name_another_address() -> None:
    assert client_address("203.0.113.9", ["198.51.100.7"], PROXIES) == "203.0.113.9"


def test_a_trusted_proxy_hands_over_to_the_address_it_forwarded_for() -> None:
    assert client_address("10.0.0.5", ["198.51.100.7"], PROXIES) == "198.51.100.7"
    assert client_address("2001:db8:ff::2", ["[2001:db8::7]:443"], PROXIES) == "2001:db8::7"


def test_entries_a_client_wrote_itself_before_the_proxy_are_not_believed() -> None:
    # The client sent "X-Forwarded-For: 192.0.2.1"; the proxy appended the real peer.
    forwarded = ["192.0.2.1, 198.51.100.7"]
    assert client_address("10.0.0.5", forwarded, PROXIES) == "198.51.100.7"


def test_a_chain_of_trusted_proxies_is_walked_to_the_first_untrusted_hop() -> None:
    forwarded = ["198.51.100.7, 10.1.2.3", "10.4.5.6:8080"]
    assert client_address("10.0.0.5", forwarded, PROXIES) == "198.51.100.7"


def test_an_unreadable_hop_stops_at_the_last_trustworthy_address() -> None:
    assert client_address("10.0.0.5", ["198.51.100.7, unknown"], PROXIES) == "10.0.0.5"
    assert client_address("10.0.0.5", ["::ffff:198.51.100.7"], PROXIES) == "198.51.100.7"
    assert client_address(None, ["198.51.100.7"], PROXIES) == "unknown"


def test_the_setting_takes_a_json_list_or_comma_separated_ranges(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GOSMED_EDGE_TRUSTED_PROXIES", "10.0.0.0/8, 172.16.0.0/12")
    assert [str(n) for n in EdgeSettings().trusted_proxies] == ["10.0.0.0/8", "172.16.0.0/12"]
    monkeypatch.setenv("GOSMED_EDGE_TRUSTED_PROXIES", '["2001:db8::/32"]')
    assert [str(n) for n in EdgeSettings().trusted_proxies] == ["2001:db8::/32"]
    monkeypatch.delenv("GOSMED_EDGE_TRUSTED_PROXIES")
    assert EdgeSettings().trusted_proxies == []


@pytest.fixture
def rpc() -> FakeRpc:
    fake = FakeRpc()
    fake.reply(
        START_LOGIN,
        LoginChallenge(attempt_id=uuid4(), factors=(SecondFactor.SMS,), expires_at=utc_now()),
    )
    return fake


async def login_from(rpc: FakeRpc, peer: str, headers: dict[str, str]) -> str:
    """The client address the login route sends to identity for a request from `peer`."""
    app = create_app(EdgeSettings(trusted_proxies=["10.0.0.0/8"]))
    app.state.rpc = rpc  # the lifespan (which connects to the broker) does not run
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://edge") as http:
        body = {"phone": "+79161000001", "password": "secret-of-the-test"}
        response = await http.post("/api/v1/auth/login", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return rpc.sent(START_LOGIN)[-1].client_address


async def test_login_passes_identity_the_address_a_trusted_proxy_forwarded_for(
    rpc: FakeRpc,
) -> None:
    forwarded = {"X-Forwarded-For": "198.51.100.7"}
    assert await login_from(rpc, "10.0.0.5", forwarded) == "198.51.100.7"
    assert await login_from(rpc, "203.0.113.9", forwarded) == "203.0.113.9"
    assert await login_from(rpc, "10.0.0.5", {}) == "10.0.0.5"
