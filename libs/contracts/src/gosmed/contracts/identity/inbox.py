"""The citizen's notification inbox (edge -> identity RPCs)."""

from uuid import UUID

from pydantic import AwareDatetime, Field

from gosmed.contracts.base import Contract, Message
from gosmed.contracts.rpc import Rpc
from gosmed.contracts.topology import Service


class ListNotifications(Message):
    account_id: UUID
    limit: int = Field(default=50, ge=1, le=200)


class NotificationView(Contract):
    notification_id: UUID
    title: str
    body: str
    category: str
    link: str | None
    created_at: AwareDatetime
    read: bool


class NotificationsView(Contract):
    """The newest notifications first, and how many of all are unread."""

    notifications: tuple[NotificationView, ...]
    unread: int


class MarkNotificationRead(Message):
    account_id: UUID
    notification_id: UUID


class NotificationMarked(Contract):
    notification_id: UUID


LIST_NOTIFICATIONS = Rpc(
    Service.IDENTITY, "list-notifications", ListNotifications, NotificationsView
)
MARK_NOTIFICATION_READ = Rpc(
    Service.IDENTITY, "mark-notification-read", MarkNotificationRead, NotificationMarked
)
