"""The notification inbox and its deliveries by SMS and e-mail, retried until they succeed."""

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from gosmed.contracts.base import utc_now
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.inbox import (
    ListNotifications,
    MarkNotificationRead,
    NotificationMarked,
    NotificationsView,
    NotificationView,
)
from gosmed.contracts.identity.notifications import NotificationChannel, SendNotification
from gosmed.identity.domain import retry_delay
from gosmed.identity.repository import AccountRepository
from gosmed.identity.service import Clock, Mailer, SmsGateway
from gosmed.identity.settings import IdentitySettings
from gosmed.runtime.mail import DeliveryError

log = logging.getLogger(__name__)

PENDING, SENT = "pending", "sent"
SMS_MAX_LENGTH = 480


@dataclass(frozen=True)
class Delivery:
    id: str
    channel: NotificationChannel
    to: str
    subject: str
    text: str
    failures: int


class NotificationRepository:
    """Inbox entries (id = the request's message_id) and their pending deliveries."""

    def __init__(self, database: Any) -> None:
        self.inbox = database["notifications"]
        self.deliveries = database["deliveries"]

    async def ensure_indexes(self) -> None:
        await self.inbox.create_index([("account_id", ASCENDING), ("created_at", DESCENDING)])
        await self.deliveries.create_index([("status", ASCENDING), ("due_at", ASCENDING)])

    async def add(self, notification_id: UUID, entry: dict[str, Any]) -> None:
        """Store once: a redelivered or duplicate request changes nothing."""
        try:
            await self.inbox.insert_one({"_id": str(notification_id), **entry})
        except DuplicateKeyError:
            return

    async def add_delivery(self, delivery: Delivery, now: datetime) -> None:
        try:
            await self.deliveries.insert_one(
                {
                    "_id": delivery.id,
                    "channel": delivery.channel.value,
                    "to": delivery.to,
                    "subject": delivery.subject,
                    "text": delivery.text,
                    "failures": 0,
                    "status": PENDING,
                    "due_at": now,
                }
            )
        except DuplicateKeyError:
            return

    async def claim_due(self, now: datetime, lease: timedelta) -> Delivery | None:
        """Take one due delivery, hiding it for `lease` so no other relay sends it too."""
        doc = await self.deliveries.find_one_and_update(
            {"status": PENDING, "due_at": {"$lte": now}},
            {"$set": {"due_at": now + lease}},
            sort=[("due_at", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            return None
        return Delivery(
            id=doc["_id"],
            channel=NotificationChannel(doc["channel"]),
            to=doc["to"],
            subject=doc["subject"],
            text=doc["text"],
            failures=doc["failures"],
        )

    async def mark_sent(self, delivery_id: str, now: datetime) -> None:
        await self.deliveries.update_one(
            {"_id": delivery_id}, {"$set": {"status": SENT, "sent_at": now}}
        )

    async def retry_later(self, delivery_id: str, due_at: datetime, error: str) -> None:
        await self.deliveries.update_one(
            {"_id": delivery_id},
            {"$set": {"due_at": due_at, "last_error": error}, "$inc": {"failures": 1}},
        )

    async def newest(self, account_id: UUID, limit: int) -> list[dict[str, Any]]:
        cursor = self.inbox.find({"account_id": str(account_id)}).sort("created_at", DESCENDING)
        return [doc async for doc in cursor.limit(limit)]

    async def unread(self, account_id: UUID) -> int:
        count: int = await self.inbox.count_documents(
            {"account_id": str(account_id), "read_at": None}
        )
        return count

    async def mark_read(self, account_id: UUID, notification_id: UUID, now: datetime) -> bool:
        """Only the recipient's own entry; False when there is none."""
        mine = {"_id": str(notification_id), "account_id": str(account_id)}
        await self.inbox.update_one({**mine, "read_at": None}, {"$set": {"read_at": now}})
        found: int = await self.inbox.count_documents(mine, limit=1)
        return found > 0


class NotificationService:
    def __init__(
        self,
        notifications: NotificationRepository,
        accounts: AccountRepository,
        settings: IdentitySettings,
        sms: SmsGateway,
        mailer: Mailer,
        clock: Clock = utc_now,
    ) -> None:
        self.notifications = notifications
        self.accounts = accounts
        self.settings = settings
        self.sms = sms
        self.mailer = mailer
        self.clock = clock

    async def accept(self, request: SendNotification) -> None:
        """Put the notice in the inbox and queue its SMS/e-mail deliveries; a SNILS without an
        account is dropped."""
        if request.recipient_account_id is not None:
            account = await self.accounts.get(request.recipient_account_id)
        else:
            account = await self.accounts.by_snils(request.recipient_snils or "")
        if account is None:
            log.info("notification %s: no such recipient, dropped", request.message_id)
            return
        now = self.clock()
        for channel, contact in (
            (NotificationChannel.SMS, account.phone),
            (NotificationChannel.EMAIL, account.email),
        ):
            if channel in request.channels and contact:
                text = request.body + (f"\n{request.link}" if request.link else "")
                if channel == NotificationChannel.SMS:
                    text = f"{request.title}. {text}"[:SMS_MAX_LENGTH]
                delivery = Delivery(
                    f"{request.message_id}:{channel.value}",
                    channel,
                    contact,
                    request.title,
                    text,
                    0,
                )
                await self.notifications.add_delivery(delivery, now)
        await self.notifications.add(
            request.message_id,
            {
                "account_id": str(account.id),
                "title": request.title,
                "body": request.body,
                "category": request.category,
                "link": request.link,
                "created_at": request.occurred_at,
                "read_at": None,
            },
        )

    async def list(self, request: ListNotifications) -> NotificationsView:
        docs = await self.notifications.newest(request.account_id, request.limit)
        return NotificationsView(
            notifications=tuple(
                NotificationView(
                    notification_id=UUID(d["_id"]),
                    title=d["title"],
                    body=d["body"],
                    category=d["category"],
                    link=d["link"],
                    created_at=d["created_at"],
                    read=d["read_at"] is not None,
                )
                for d in docs
            ),
            unread=await self.notifications.unread(request.account_id),
        )

    async def mark_read(self, request: MarkNotificationRead) -> NotificationMarked:
        if not await self.notifications.mark_read(
            request.account_id, request.notification_id, self.clock()
        ):
            raise ServiceError(ErrorCode.NOT_FOUND, "Уведомление не найдено.")
        return NotificationMarked(notification_id=request.notification_id)

    async def deliver_due(self) -> int:
        """Send every delivery that is due; a failure is retried later with backoff."""
        sent = 0
        lease = timedelta(seconds=60)
        while (delivery := await self.notifications.claim_due(self.clock(), lease)) is not None:
            try:
                if delivery.channel == NotificationChannel.SMS:
                    await self.sms.send(delivery.to, delivery.text, self.clock())
                else:
                    await self.mailer.send(delivery.to, delivery.subject, delivery.text)
            except DeliveryError as exc:
                delay = retry_delay(
                    delivery.failures + 1,
                    self.settings.delivery_retry_seconds,
                    self.settings.delivery_retry_max_seconds,
                )
                due_at = self.clock() + timedelta(seconds=delay)
                await self.notifications.retry_later(delivery.id, due_at, str(exc))
                log.warning(
                    "delivery %s by %s failed (%s), retry in %.0f s",
                    delivery.id,
                    delivery.channel.value,
                    exc,
                    delay,
                )
                continue
            await self.notifications.mark_sent(delivery.id, self.clock())
            sent += 1
        return sent

    async def relay_forever(self) -> None:
        """The background relay: look for due deliveries every `delivery_poll_seconds`."""
        while True:
            try:
                await self.deliver_due()
            except Exception:  # the relay must outlive any one failure
                log.exception("delivery relay round failed")
            await asyncio.sleep(self.settings.delivery_poll_seconds)
