"""Notification requests any service sends; identity owns the contacts and delivers."""

from enum import StrEnum
from uuid import UUID

from pydantic import Field, model_validator

from gosmed.contracts import topology
from gosmed.contracts.base import Message
from gosmed.contracts.types import Snils

SEND_NOTIFICATION = "send-notification"
NOTIFY_QUEUE = topology.command_queue(topology.Service.IDENTITY, SEND_NOTIFICATION)
"""identity's queue of `SendNotification`: every service that tells a citizen sends here."""


class NotificationChannel(StrEnum):
    INBOX = "inbox"
    SMS = "sms"
    EMAIL = "email"


class SendNotification(Message):
    """Put a notice in a citizen's inbox and deliver it by the channels asked for.

    The recipient is an account id or, for senders that only know the patient by SNILS (clinic
    data), a SNILS; identity drops requests for SNILS it has no account for.
    """

    recipient_account_id: UUID | None = None
    recipient_snils: Snils | None = None
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=4000)
    channels: frozenset[NotificationChannel] = frozenset({NotificationChannel.INBOX})
    category: str = Field(default="general", max_length=64, description="e.g. `record_added`.")
    link: str | None = Field(default=None, max_length=500, description="Portal path to open.")

    @model_validator(mode="after")
    def _one_recipient(self) -> "SendNotification":
        if (self.recipient_account_id is None) == (self.recipient_snils is None):
            raise ValueError("нужен ровно один получатель: account id или СНИЛС")
        return self
