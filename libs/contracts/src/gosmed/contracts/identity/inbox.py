"""The citizen's notification inbox (edge -> identity RPCs)."""

from uuid import UUID

from pydantic import AwareDatetime, Field

from gosmed.contracts.base import Contract, Message

LIST_NOTIFICATIONS = "list-notifications"
MARK_NOTIFICATION_READ = "mark-notification-read"


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


class NotificationsView(Message):
    """The newest notifications first, and how many of all are unread."""

    notifications: tuple[NotificationView, ...]
    unread: int


class MarkNotificationRead(Message):
    account_id: UUID
    notification_id: UUID


class NotificationMarked(Message):
    notification_id: UUID
