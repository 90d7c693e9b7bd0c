"""Notification requests on the broker reach the inbox (through the edge), the SMS gateway's
file and a real SMTP server; e-mail is retried until the server is up."""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path
from typing import Any, TypeVar

import aio_pika
import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from gosmed.contracts import demo, topology
from gosmed.contracts.identity.notifications import (
    SEND_NOTIFICATION,
    NotificationChannel,
    SendNotification,
)
from gosmed.identity.demo import account_id
from tests.conftest import free_port
from tests.e2e.identity_support import DEMO_ENV, login

QUEUE = topology.command_queue(topology.Service.IDENTITY, SEND_NOTIFICATION)
SMTP_PORT = free_port()
T = TypeVar("T")


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture(scope="module")
def sms_outbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sms") / "outbox.jsonl"


@pytest.fixture(scope="module")
def stack_env(sms_outbox: Path) -> dict[str, str]:
    return {
        **DEMO_ENV,
        "GOSMED_IDENTITY_SMS_OUTBOX_PATH": str(sms_outbox),
        "GOSMED_IDENTITY_SMTP_PORT": str(SMTP_PORT),
        "GOSMED_IDENTITY_DELIVERY_POLL_SECONDS": "0.2",
        "GOSMED_IDENTITY_DELIVERY_RETRY_SECONDS": "0.3",
        "GOSMED_IDENTITY_DELIVERY_RETRY_MAX_SECONDS": "1",
    }


@pytest.fixture
async def channel(amqp_url: str) -> AsyncIterator[aio_pika.abc.AbstractChannel]:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        yield await connection.channel(publisher_confirms=True)


@pytest.fixture
def late_smtp_server() -> Iterator[Callable[[], Mailbox]]:
    """Starts the SMTP server only when the test asks for it."""
    controllers: list[Controller] = []

    def start() -> Mailbox:
        mailbox = Mailbox()
        controllers.append(Controller(mailbox, hostname="127.0.0.1", port=SMTP_PORT))
        controllers[-1].start()
        return mailbox

    yield start
    for controller in controllers:
        controller.stop()


async def publish(channel: aio_pika.abc.AbstractChannel, body: bytes, message_id: str) -> None:
    await channel.default_exchange.publish(
        aio_pika.Message(
            body,
            content_type="application/json",
            message_id=message_id,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        ),
        routing_key=QUEUE,
        mandatory=True,
    )


async def eventually(probe: Callable[[], T | None], within: float = 10.0) -> T:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if (found := probe()) is not None:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"nothing after {within} s")


def inbox(edge: httpx.Client, person: demo.DemoPerson) -> dict[str, Any]:
    response = edge.get("/api/v1/me/notifications", headers=login(edge, person))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def mark_read(edge: httpx.Client, person: demo.DemoPerson, notification_id: str) -> httpx.Response:
    path = f"/api/v1/me/notifications/{notification_id}/read"
    return edge.post(path, headers=login(edge, person))


async def test_a_notice_reaches_the_inbox_and_the_phone(
    edge: httpx.Client, channel: aio_pika.abc.AbstractChannel, sms_outbox: Path
) -> None:
    notice = SendNotification(
        recipient_account_id=account_id(demo.PATIENT),
        title="Новая запись о медицинской услуге",
        body="Клиника передала сведения о приёме терапевта.",
        channels=frozenset({NotificationChannel.INBOX, NotificationChannel.SMS}),
        category="record_added",
        link="/records",
    )
    unread_before = inbox(edge, demo.PATIENT)["unread"]
    await publish(channel, notice.model_dump_json().encode(), str(notice.message_id))

    def listed() -> dict[str, Any] | None:
        entries = inbox(edge, demo.PATIENT)["notifications"]
        return next((n for n in entries if n["notification_id"] == str(notice.message_id)), None)

    entry = await eventually(listed)
    assert entry["title"] == notice.title
    assert entry["read"] is False
    assert inbox(edge, demo.PATIENT)["unread"] == unread_before + 1

    def texted() -> dict[str, Any] | None:
        if not sms_outbox.exists():
            return None
        lines = [json.loads(line) for line in sms_outbox.read_text().splitlines()]
        return next((m for m in lines if notice.title in m["text"]), None)

    sms = await eventually(texted)
    assert sms["to"] == demo.PATIENT.phone

    other = mark_read(edge, demo.REPRESENTATIVE, str(notice.message_id))
    assert other.status_code == 404  # someone else's notice does not exist for them
    assert mark_read(edge, demo.PATIENT, str(notice.message_id)).status_code == 204
    assert inbox(edge, demo.PATIENT)["unread"] == unread_before
    assert mark_read(edge, demo.PATIENT, "nope").status_code == 422


async def test_a_notice_by_snils_published_twice_is_stored_once(
    edge: httpx.Client, channel: aio_pika.abc.AbstractChannel
) -> None:
    notice = SendNotification(
        recipient_snils=demo.CHILD_OVER_15.snils,
        title="Результат анализа готов",
        body="Результат анализа крови опубликован.",
    )
    body = notice.model_dump_json().encode()
    await publish(channel, body, str(notice.message_id))
    await publish(channel, body, str(notice.message_id))
    ghost = SendNotification(recipient_snils="11111111145", title="x", body="x")
    await publish(channel, ghost.model_dump_json().encode(), str(ghost.message_id))

    def stored() -> list[dict[str, Any]] | None:
        entries = [
            n
            for n in inbox(edge, demo.CHILD_OVER_15)["notifications"]
            if n["notification_id"] == str(notice.message_id)
        ]
        return entries or None

    assert len(await eventually(stored)) == 1
    await asyncio.sleep(0.5)
    assert len(await eventually(stored)) == 1


async def test_email_is_retried_until_the_smtp_server_answers(
    edge: httpx.Client,
    channel: aio_pika.abc.AbstractChannel,
    late_smtp_server: Callable[[], Mailbox],
) -> None:
    notice = SendNotification(
        recipient_account_id=account_id(demo.PARENT),
        title="Напоминание о приёме",
        body="Завтра в 10:00 приём педиатра.",
        channels=frozenset({NotificationChannel.EMAIL}),
    )
    await publish(channel, notice.model_dump_json().encode(), str(notice.message_id))
    await asyncio.sleep(1.5)  # several delivery rounds fail: nothing listens on the SMTP port yet
    mailbox = late_smtp_server()
    letter = await eventually(lambda: next(iter(mailbox.messages), None))
    assert letter["To"] == demo.PARENT.email
    assert letter["Subject"] == notice.title
    payload = letter.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert "Завтра в 10:00" in payload.decode()
    await asyncio.sleep(0.5)
    assert len(mailbox.messages) == 1  # delivered once, not again


async def test_an_invalid_request_is_dead_lettered_with_its_reason_and_the_next_one_served(
    edge: httpx.Client, channel: aio_pika.abc.AbstractChannel
) -> None:
    await publish(channel, b'{"title": "no recipient", "body": "x"}', "bad-request-1")
    dead_letters = await channel.get_queue(topology.dead_letter_queue(QUEUE), ensure=False)

    async def dead_letter() -> aio_pika.abc.AbstractIncomingMessage:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            message = await dead_letters.get(fail=False, no_ack=True)
            if message is not None and message.message_id == "bad-request-1":
                return message
            await asyncio.sleep(0.1)
        raise AssertionError("no dead letter")

    message = await dead_letter()
    headers = message.headers or {}
    assert headers[topology.HEADER_ERROR_CODE] == "validation_failed"
    assert "получатель" in str(headers[topology.HEADER_ERROR_REASON])

    notice = SendNotification(
        recipient_account_id=account_id(demo.INSPECTOR), title="После ошибки", body="Работает."
    )
    await publish(channel, notice.model_dump_json().encode(), str(notice.message_id))

    def titles() -> list[str] | None:
        return [n["title"] for n in inbox(edge, demo.INSPECTOR)["notifications"]] or None

    assert await eventually(titles) == ["После ошибки"]
