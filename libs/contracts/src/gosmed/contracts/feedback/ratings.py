"""Rating aggregates the feedback service announces; the registry shows them on cards."""

from enum import StrEnum
from uuid import UUID

from pydantic import AwareDatetime, Field

from gosmed.contracts import topology
from gosmed.contracts.base import Message

RATING_CHANGED = topology.event_key(topology.Service.FEEDBACK, "rating-changed")


class RatedSubject(StrEnum):
    SPECIALIST = "specialist"
    ORGANIZATION = "organization"


class RatingChanged(Message):
    """A subject's average score after a review was published or withdrawn."""

    subject: RatedSubject
    subject_id: UUID = Field(description="Registry id of the specialist or organization.")
    average: float | None = Field(ge=1, le=5, description="None when no review remains.")
    reviews_count: int = Field(ge=0)
    as_of: AwareDatetime = Field(
        description="When the aggregate was computed; an older one never replaces a newer one."
    )
