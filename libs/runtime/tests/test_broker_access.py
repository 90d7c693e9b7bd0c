"""Broker users and rights: each service reaches only its own queues (on the real broker)."""

import os
import re
import stat
from pathlib import Path
from uuid import uuid4

import aio_pika
import pytest
from aiormq.exceptions import ChannelAccessRefused

from gosmed.contracts import topology
from gosmed.contracts.topology import Service
from gosmed.runtime.broker_access import (
    AdminError,
    BrokerAccess,
    BrokerAccessSettings,
    Passwords,
    clinic_of_user,
    password_variable,
    platform_user,
    service_permissions,
    user_prefix,
)
from tests.queues import FixedQueues

LOGIN_QUEUE = topology.rpc_queue(Service.IDENTITY, "start-login")


async def test_a_services_user_cannot_consume_another_services_queue(
    amqp_url: str, fixed_queues: FixedQueues
) -> None:
    await fixed_queues.take([LOGIN_QUEUE])
    urls = BrokerAccess(BrokerAccessSettings(amqp_url=amqp_url)).setup()
    identity = await aio_pika.connect(urls[Service.IDENTITY.value])
    async with identity:
        own = await (await identity.channel()).declare_queue(LOGIN_QUEUE, durable=True)
        records = await aio_pika.connect(urls[Service.RECORDS.value])
        async with records:
            queue = await (await records.channel()).get_queue(LOGIN_QUEUE, ensure=False)
            with pytest.raises(ChannelAccessRefused):
                await queue.get(fail=False)
        assert (await own.declare()).message_count == 0


def test_only_the_services_that_take_clinics_messages_bind_to_the_clinics_door() -> None:
    def binds_to_the_door(service: Service) -> bool:
        read = service_permissions(service).read
        return re.search(read, topology.CLINIC_INTAKE_EXCHANGE) is not None

    assert {s for s in Service if binds_to_the_door(s)} == {
        Service.RECORDS,
        Service.FEEDBACK,
        Service.SCHEDULING,
    }


def test_only_the_services_that_announce_events_publish_to_the_events_exchange() -> None:
    def publishes_events(service: Service) -> bool:
        write = service_permissions(service).write
        return re.search(write, topology.EVENTS_EXCHANGE) is not None

    assert {s for s in Service if not publishes_events(s)} == {Service.DOCUMENTS}


def test_user_names_carry_the_vhost_and_clinic_names_parse_back() -> None:
    organization_id = uuid4()
    assert user_prefix("/") == "gosmed"
    assert platform_user("gosmed-test", "edge") == "gosmed-test.edge"
    name = f"gosmed-test.clinic.{organization_id}"
    assert clinic_of_user("gosmed-test", name) == organization_id
    assert clinic_of_user("other", name) is None
    assert clinic_of_user("gosmed-test", "gosmed-test.records") is None


def test_generated_passwords_are_kept_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    passwords = Passwords(str(path))
    first = passwords.get("v.records")
    assert passwords.get("v.records") == first
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert passwords.get("v.records", fresh=True) != first


def test_without_a_secrets_file_platform_passwords_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    passwords = Passwords("")
    monkeypatch.setenv(password_variable("records"), "from-the-secret")
    assert password_variable("records") == "GOSMED_BROKER_PASSWORD_RECORDS"
    assert passwords.get("gosmed.records", env_name="records") == "from-the-secret"
    monkeypatch.delenv(password_variable("edge"), raising=False)
    with pytest.raises(AdminError, match="GOSMED_BROKER_PASSWORD_EDGE"):
        passwords.get("gosmed.edge", env_name="edge")  # never a password nobody knows
    assert passwords.get("gosmed.clinic.x") != passwords.get("gosmed.clinic.x")  # printed once
