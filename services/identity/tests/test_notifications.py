"""Deliveries over the embedded store with a hand-moved clock: retried with backoff, never lost,
sent once."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest

from gosmed.contracts import demo
from gosmed.contracts.identity.inbox import ListNotifications
from gosmed.contracts.identity.notifications import NotificationChannel, SendNotification
from gosmed.identity import demo as identity_demo
from gosmed.identity.notifications import NotificationRepository, NotificationService
from gosmed.identity.service import Repositories
from gosmed.identity.settings import IdentitySettings
from gosmed.runtime.mail import DeliveryError

from .support import Clock


@dataclass
class FlakyMailRelay:
    """Refuses the first `failures` letters, then takes them."""

    failures: int
    sent: list[tuple[str, str]] = field(default_factory=list)

    async def send(self, to: str, subject: str, body: str) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise DeliveryError("SMTPConnectError")
        self.sent.append((to, subject))


class NoSms:
    async def send(self, phone: str, text: str, sent_at: datetime) -> None:
        raise AssertionError("no SMS asked for")


@pytest.fixture
async def setup(
    database: Any, repos: Repositories, clock: Clock
) -> tuple[NotificationService, FlakyMailRelay, Clock]:
    inbox = NotificationRepository(database)
    await inbox.ensure_indexes()
    relay = FlakyMailRelay(failures=3)
    settings = IdentitySettings(delivery_retry_seconds=10, delivery_retry_max_seconds=30)
    return NotificationService(inbox, repos.accounts, settings, NoSms(), relay, clock), relay, clock


async def test_a_failed_email_is_retried_with_backoff_until_sent_once(
    setup: tuple[NotificationService, FlakyMailRelay, Clock],
) -> None:
    service, relay, clock = setup
    notice = SendNotification(
        recipient_account_id=identity_demo.account_id(demo.PATIENT),
        title="Документ готов",
        body="Выписка сформирована.",
        channels=frozenset({NotificationChannel.INBOX, NotificationChannel.EMAIL}),
    )
    await service.accept(notice)
    await service.accept(notice)  # a redelivered request changes nothing

    waits = []
    for _ in range(3):  # refused three times: 10, 20, then 30 s (capped) later
        assert await service.deliver_due() == 0
        assert await service.deliver_due() == 0  # not due again at once
        due = await service.notifications.deliveries.find_one({})
        waits.append((due["due_at"] - clock.now).total_seconds())
        clock.now = due["due_at"]
    assert waits == [10, 20, 30]
    assert await service.deliver_due() == 1
    assert relay.sent == [(demo.PATIENT.email, "Документ готов")]
    clock.now += timedelta(days=1)
    assert await service.deliver_due() == 0

    listed = await service.list(ListNotifications(account_id=notice.recipient_account_id))
    assert [n.title for n in listed.notifications] == ["Документ готов"]
    assert listed.unread == 1


async def test_a_notice_for_an_unknown_snils_is_dropped(
    setup: tuple[NotificationService, FlakyMailRelay, Clock],
) -> None:
    service, _, _ = setup
    await service.accept(SendNotification(recipient_snils="11111111145", title="x", body="x"))
    assert await service.notifications.inbox.count_documents({}) == 0
    assert await service.deliver_due() == 0
