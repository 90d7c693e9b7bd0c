"""The base every broker message derives from."""

from datetime import UTC, datetime
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


def utc_now() -> datetime:
    return datetime.now(UTC)


class Contract(BaseModel):
    """A frozen value model; unknown fields are ignored so that newer senders stay compatible."""

    model_config = ConfigDict(frozen=True, extra="ignore", use_enum_values=False)


class Message(Contract):
    """A command, event, query or reply that crosses the broker."""

    message_id: UUID = Field(
        default_factory=uuid4,
        description="Unique id of this message; consumers use it to drop duplicates.",
    )
    occurred_at: AwareDatetime = Field(
        default_factory=utc_now, description="When the sender created the message (UTC)."
    )
