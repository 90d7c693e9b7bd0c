"""RabbitMQ restarts while a clinic publishes (issue 17, item 6a).

The clinic publishes 10,000 rendered services in reports of 100, persistent, with publisher
confirms, and re-sends a report whose publish failed or was not confirmed, as the records
README asks clinics to. Meanwhile the broker is stopped for five seconds and started again
(`rabbitmqctl stop_app; sleep 5; rabbitmqctl start_app`). Afterwards exactly the 10,000
services are stored, none twice, and the API answers 200 again within 30 s of the broker's
return, with no process restarted by hand.

The broker is a node of this test's own (tests/chaos/broker_node.py), so the restart touches
nothing else on the machine.
"""

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import aio_pika
import httpx
import pytest
from aio_pika.exceptions import AMQPError

from gosmed.contracts import demo, topology
from gosmed.contracts.records.intake import RENDERED_SERVICES, ReportRenderedServices
from gosmed.contracts.topology import CLINIC_INTAKE_EXCHANGE
from gosmed.records.simulator import user_of
from gosmed.runtime.broker_access import BrokerAccess, BrokerAccessSettings
from gosmed.runtime.devstack import SERVICES, DevStack
from tests.chaos.broker_node import BrokerNode
from tests.e2e.identity_support import DEMO_ENV, login
from tests.e2e.test_records import clinic_report, ids_of

REPORTS, PER_REPORT = 100, 100
RESTART_AFTER = 20  # reports confirmed before the broker goes down
PACE = 0.1  # seconds between a clinic's reports: publishing spans the restart
DOWN_FOR = 5.0  # seconds the broker stays stopped: the fault itself, not a wait for anything
API_BACK_WITHIN = 30.0
STORED_WITHIN = 300.0
QUEUE = topology.command_queue(topology.Service.RECORDS, RENDERED_SERVICES)
ROUTES = ("/api/v1/organizations?limit=5", "/api/v1/patients/me/services?limit=5")

pytestmark = pytest.mark.skipif(
    not BrokerNode.available(), reason="needs rabbitmq-server on this machine for a node of its own"
)


@pytest.fixture(scope="module")
def broker() -> Iterator[BrokerNode]:
    node = BrokerNode("gosmed-chaos")
    node.start()
    yield node
    node.stop()


@pytest.fixture(scope="module")
def amqp_url(broker: BrokerNode) -> str:
    """The stack of this module runs on the test's own broker node (set up as `make test`
    sets up its vhost, through the node's own management API)."""
    BrokerAccess(BrokerAccessSettings(amqp_url=broker.url, admin_url=broker.admin_url)).setup()
    return broker.url


@pytest.fixture(scope="module")
def stack_env(broker: BrokerNode) -> dict[str, str]:
    return {**DEMO_ENV, "GOSMED_BROKER_ADMIN_URL": broker.admin_url}


@dataclass
class Clinic:
    """Publishes reports one after another until each is confirmed; counts the re-sends. Each
    clinic reports on its own broker user (made by `clinic add`), through the clinics' door."""

    url: str
    admin_url: str
    confirmed: int = 0
    resends: int = 0

    async def publish(self, reports: list[ReportRenderedServices]) -> None:
        channels: dict[UUID, tuple[aio_pika.abc.AbstractChannel, str]] = {}
        connections: list[aio_pika.abc.AbstractRobustConnection] = []
        access = BrokerAccess(BrokerAccessSettings(amqp_url=self.url, admin_url=self.admin_url))
        try:
            for organization_id in {report.organization_id for report in reports}:
                url = await asyncio.to_thread(access.add_clinic, organization_id)
                connections.append(connection := await aio_pika.connect_robust(url))
                channel = await connection.channel(publisher_confirms=True)
                channels[organization_id] = (channel, user_of(url))
            for report in reports:
                await self._until_confirmed(*channels[report.organization_id], report)
                self.confirmed += 1
                await asyncio.sleep(PACE)  # a clinic's steady trickle, so the restart hits it
        finally:
            for opened in connections:
                await opened.close()

    async def _until_confirmed(
        self, channel: aio_pika.abc.AbstractChannel, user: str, report: ReportRenderedServices
    ) -> None:
        message = aio_pika.Message(
            report.model_dump_json().encode(),
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=str(report.message_id),
            user_id=user,
        )
        while True:
            try:
                async with asyncio.timeout(10):
                    door = await channel.get_exchange(CLINIC_INTAKE_EXCHANGE, ensure=False)
                    await door.publish(message, QUEUE, mandatory=True)
                return
            except (AMQPError, ConnectionError, RuntimeError, TimeoutError):
                self.resends += 1
                await asyncio.sleep(0.5)  # back off before the re-send; the robust channel reopens


def stored_ids(edge: httpx.Client) -> list[str]:
    """Every service id in the patient's list, page after page (repeats kept, to count them)."""
    ids: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        response = edge.get(
            "/api/v1/patients/me/services", params=params, headers=login(edge, demo.PATIENT)
        )
        assert response.status_code == 200, response.text
        page = response.json()
        ids += [item["id"] for item in page["items"]]
        if not (cursor := page["next_cursor"]):
            return ids


def readiness_for(stack: DevStack, seconds: float) -> set[int]:
    """The statuses `/readyz` answers over `seconds` (the broker's outage)."""
    statuses: set[int] = set()
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        statuses.add(stack.readiness()[0])
        time.sleep(0.2)
    return statuses


def answers_200(edge: httpx.Client) -> bool:
    try:
        statuses = [
            edge.get(route, headers=login(edge, demo.PATIENT)).status_code for route in ROUTES
        ]
    except httpx.TransportError:
        return False
    return statuses == [200, 200]


@pytest.mark.timeout(900)
async def test_a_broker_restart_loses_no_report_and_the_api_comes_back_by_itself(
    broker: BrokerNode, stack: DevStack, edge: httpx.Client, capsys: pytest.CaptureFixture[str]
) -> None:
    before = set(await asyncio.to_thread(stored_ids, edge))
    reports = [clinic_report(demo.PATIENT, PER_REPORT, clinic_index=n % 6) for n in range(REPORTS)]
    expected = set().union(*(ids_of(report) for report in reports))
    assert len(expected) == REPORTS * PER_REPORT

    clinic = Clinic(broker.url, broker.admin_url)
    publishing = asyncio.ensure_future(clinic.publish(reports))
    deadline = time.monotonic() + 120
    while clinic.confirmed < RESTART_AFTER:
        assert time.monotonic() < deadline, "the clinic could not publish before the restart"
        assert not publishing.done(), publishing
        await asyncio.sleep(0.05)
    await asyncio.to_thread(broker.stop_app)
    readiness = await asyncio.to_thread(readiness_for, stack, DOWN_FOR)
    await asyncio.to_thread(broker.start_app)
    back = time.monotonic()

    while not await asyncio.to_thread(answers_200, edge):
        assert time.monotonic() - back < API_BACK_WITHIN, "the API did not come back in 30 s"
        await asyncio.sleep(0.2)
    api_back = time.monotonic() - back

    async with asyncio.timeout(STORED_WITHIN):
        await publishing
    deadline = time.monotonic() + STORED_WITHIN
    while not expected <= set(stored := await asyncio.to_thread(stored_ids, edge)):
        assert time.monotonic() < deadline, f"{len(expected - set(stored))} services not stored"
        await asyncio.sleep(1.0)
    stored_after = time.monotonic() - back

    with capsys.disabled():
        print(
            f"\n\nbroker restart: API answered 200 {api_back:.1f} s after the broker's return; "
            f"{len(expected)} services stored {stored_after:.1f} s after it; "
            f"{clinic.resends} re-sends by the clinic\n"
        )
    assert 503 in readiness, f"/readyz while the broker was down: {readiness}"
    assert 500 not in readiness, f"/readyz while the broker was down: {readiness}"
    assert clinic.resends > 0, "the restart did not hit the clinic's publishing"
    assert len(stored) == len(set(stored)), "a service is listed twice"
    assert set(stored) - before == expected, "services other than the reported ones appeared"
    restarted = {name: stack.supervisor.restarts(name) for name in (*SERVICES, "edge")}
    assert not any(restarted.values()), f"processes had to be restarted: {restarted}"
