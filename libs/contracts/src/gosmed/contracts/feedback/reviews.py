"""Reviews of rendered services: writing (by the patient), moderation (by operators), clinics'
answers (through the clinics' door) and the public reading of published reviews and ratings."""

from datetime import date
from enum import StrEnum
from uuid import UUID

from pydantic import AwareDatetime, Field

from gosmed.contracts.access import AccessContext
from gosmed.contracts.base import Contract, Message
from gosmed.contracts.feedback.ratings import RatedSubject
from gosmed.contracts.rpc import Rpc
from gosmed.contracts.topology import Service, command_queue

MAX_TEXT = 500
# What a request may carry: longer texts are refused by the feedback service with a clear
# Russian message (a body that large is refused by the edge already).
MAX_TEXT_SENT = 4000
MAX_PAGE = 100
MODERATION_HOURS = 24
MAX_ANSWER = 1000
ANSWER_REVIEW = "answer-review"
ANSWER_REVIEW_QUEUE = command_queue(Service.FEEDBACK, ANSWER_REVIEW)
"""Clinics publish `AnswerReview` to `gosmed.clinic-intake` with this routing key."""


class ReviewStatus(StrEnum):
    """`failed_check`: the automatic check found something (not published, the author sees
    why); `pending`: waits for an operator; `published`; `rejected` by an operator;
    `withdrawn` by the author."""

    FAILED_CHECK = "failed_check"
    PENDING = "pending"
    PUBLISHED = "published"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class CheckProblem(Contract):
    """Why the automatic check stopped a review: a stable code and a Russian explanation."""

    code: str = Field(
        description="`phone`, `email`, `snils`, `document_number`, `obscene_language`, `link`."
    )
    message: str


class ClinicAnswer(Contract):
    """The clinic's answer shown under a published review (its latest one)."""

    text: str = Field(min_length=1, max_length=2000)
    answered_at: AwareDatetime = Field(description="The `occurred_at` of the clinic's message.")


class Review(Contract):
    """A review as its author sees it."""

    id: UUID
    record_id: UUID
    patient_id: UUID
    score: int = Field(ge=1, le=5)
    text: str
    status: ReviewStatus
    problems: tuple[CheckProblem, ...] = Field(
        default=(), description="Set when the automatic check failed."
    )
    rejection_reason: str | None = Field(default=None, description="An operator's reason.")
    organization_id: UUID
    specialist_id: UUID | None = None
    service_name: str
    rendered_on: date
    submitted_at: AwareDatetime = Field(description="Last written by the author.")
    published_at: AwareDatetime | None = None
    answer: ClinicAnswer | None = None


class WriteReview(Message):
    """Write (or, with `edit`, rewrite) the review of one of the patient's records."""

    context: AccessContext
    record_id: UUID
    score: int = Field(ge=1, le=5)
    text: str = Field(max_length=MAX_TEXT_SENT)
    edit: bool = Field(default=False, description="Rewrite the existing review.")


class WithdrawReview(Message):
    context: AccessContext
    record_id: UUID


class Withdrawn(Contract):
    review_id: UUID


class ListModeration(Message):
    """The moderation queue: oldest first (operators only)."""

    context: AccessContext
    status: ReviewStatus = ReviewStatus.PENDING
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)


class ModerationItem(Contract):
    review: Review
    due_at: AwareDatetime = Field(description="When the 24-hour limit ends.")
    seconds_left: int = Field(description="Until `due_at`; negative once overdue.")
    overdue: bool


class ModerationQueue(Contract):
    items: tuple[ModerationItem, ...]
    pending_count: int
    overdue_count: int = Field(description="Pending reviews past their 24-hour limit.")


class Decide(Message):
    """An operator approves (publishes) or rejects a pending review."""

    context: AccessContext
    review_id: UUID
    approve: bool
    reason: str | None = Field(default=None, max_length=500)


class AnswerReview(Message):
    """A clinic answers a published review of its own organization: published to the exchange
    `gosmed.clinic-intake` with routing key `feedback.answer-review` and the clinic's AMQP
    `user_id`. One answer per review: a later one (by `occurred_at`) replaces it. The text goes
    through the same automatic check as reviews (personal data, links, obscene language)."""

    review_id: UUID = Field(description="The `id` of a published review (`GET /reviews`).")
    text: str = Field(min_length=1, max_length=MAX_ANSWER)


class AnswerReviewForOrganization(AnswerReview):
    """A staff member of the clinic answers a published review of the clinic in its name (on
    the organization's power of attorney with the scope `reply_reviews`), as the clinic's broker
    integration would with `AnswerReview`."""

    context: AccessContext
    organization_id: UUID


class AnswerOutcome(StrEnum):
    """`added`: the review's first answer; `replaced`: it replaced an older answer;
    `unchanged`: the review already shows this answer or a later one (a re-sent or late
    message)."""

    ADDED = "added"
    REPLACED = "replaced"
    UNCHANGED = "unchanged"


class AnswerAccepted(Message):
    """The answer to `AnswerReview` (sent to the clinic's `reply_to`, if given)."""

    review_id: UUID
    outcome: AnswerOutcome
    answered_at: AwareDatetime = Field(description="When the answer now shown was written.")


class ListReviews(Message):
    """Published reviews, newest first (public)."""

    organization_id: UUID | None = None
    specialist_id: UUID | None = None
    specialty: str | None = Field(default=None, max_length=100)
    score: int | None = Field(default=None, ge=1, le=5)
    date_from: date | None = None
    date_to: date | None = None
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=20, ge=1, le=MAX_PAGE)


class PublicReview(Contract):
    id: UUID
    score: int
    text: str
    author: str = Field(description="First name and initial, e.g. «Анна И.».")
    organization_id: UUID
    specialist_id: UUID | None = None
    specialty: str | None = None
    service_name: str
    rendered_on: date
    published_at: AwareDatetime
    answer: ClinicAnswer | None = None


class ReviewsPage(Contract):
    items: tuple[PublicReview, ...]
    next_cursor: str | None = None


class GetRating(Message):
    subject: RatedSubject
    subject_id: UUID


class Rating(Contract):
    subject: RatedSubject
    subject_id: UUID
    average: float | None = Field(description="One decimal; None before any review.")
    count: int
    distribution: dict[int, int] = Field(description="How many reviews gave each score 1-5.")


class CompareRatings(Message):
    organization_ids: tuple[UUID, ...] = Field(min_length=2, max_length=5)


class RatingComparison(Contract):
    items: tuple[Rating, ...]


WRITE_REVIEW = Rpc(Service.FEEDBACK, "write-review", WriteReview, Review)
WITHDRAW_REVIEW = Rpc(Service.FEEDBACK, "withdraw-review", WithdrawReview, Withdrawn)
LIST_MODERATION = Rpc(Service.FEEDBACK, "list-moderation", ListModeration, ModerationQueue)
DECIDE = Rpc(Service.FEEDBACK, "decide", Decide, Review)
LIST_REVIEWS = Rpc(Service.FEEDBACK, "list-reviews", ListReviews, ReviewsPage)
GET_RATING = Rpc(Service.FEEDBACK, "get-rating", GetRating, Rating)
COMPARE_RATINGS = Rpc(Service.FEEDBACK, "compare-ratings", CompareRatings, RatingComparison)
ANSWER_REVIEW_FOR_ORGANIZATION = Rpc(
    Service.FEEDBACK,
    "answer-review-for-organization",
    AnswerReviewForOrganization,
    AnswerAccepted,
)
