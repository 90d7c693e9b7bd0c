"""Edge routes served by the feedback service: reviews of rendered services, their
moderation, and the public reviews and ratings."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from gosmed.contracts.access import AccessContext
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.feedback.ratings import RatedSubject
from gosmed.contracts.feedback.reviews import (
    COMPARE_RATINGS,
    DECIDE,
    GET_RATING,
    LIST_MODERATION,
    LIST_REVIEWS,
    MAX_PAGE,
    MAX_TEXT_SENT,
    WITHDRAW_REVIEW,
    WRITE_REVIEW,
    CompareRatings,
    Decide,
    GetRating,
    ListModeration,
    ListReviews,
    ModerationQueue,
    Rating,
    RatingComparison,
    Review,
    ReviewsPage,
    ReviewStatus,
    WithdrawReview,
    WriteReview,
)
from gosmed.contracts.types import IsoDate
from gosmed.edge.deps import FeedbackDep, PrincipalDep, patient_context

router = APIRouter(tags=["feedback"])
REVIEW_PATH = "/patients/{patient_id}/services/{record_id}/review"


class ReviewBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: int = Field(ge=1, le=5, description="1-5 stars.")
    text: str = Field(
        max_length=MAX_TEXT_SENT,
        description="At most 500 characters; a longer text is refused with the reason.",
    )


class RejectBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500, description="Shown to the author.")


async def _write(
    patient_id: str,
    record_id: UUID,
    body: ReviewBody,
    principal: PrincipalDep,
    feedback: FeedbackDep,
    *,
    edit: bool,
) -> Review:
    request = WriteReview(
        context=patient_context(principal, patient_id),
        record_id=record_id,
        score=body.score,
        text=body.text,
        edit=edit,
    )
    return await feedback.call(WRITE_REVIEW, request)


@router.post(
    REVIEW_PATH,
    response_model=Review,
    status_code=status.HTTP_201_CREATED,
    summary="Написать отзыв на завершённую услугу (проверка, затем модерация)",
)
async def write_review(
    patient_id: str,
    record_id: UUID,
    body: ReviewBody,
    principal: PrincipalDep,
    feedback: FeedbackDep,
) -> Review:
    return await _write(patient_id, record_id, body, principal, feedback, edit=False)


@router.put(
    REVIEW_PATH,
    response_model=Review,
    summary="Изменить свой отзыв (снова проверка и модерация)",
)
async def edit_review(
    patient_id: str,
    record_id: UUID,
    body: ReviewBody,
    principal: PrincipalDep,
    feedback: FeedbackDep,
) -> Review:
    return await _write(patient_id, record_id, body, principal, feedback, edit=True)


@router.delete(REVIEW_PATH, status_code=status.HTTP_204_NO_CONTENT, summary="Отозвать свой отзыв")
async def withdraw_review(
    patient_id: str, record_id: UUID, principal: PrincipalDep, feedback: FeedbackDep
) -> Response:
    request = WithdrawReview(context=patient_context(principal, patient_id), record_id=record_id)
    await feedback.call(WITHDRAW_REVIEW, request)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _operator_context(principal: PrincipalDep) -> AccessContext:
    return AccessContext(
        actor_id=principal.account_id, session_id=principal.session_id, roles=principal.roles
    )


@router.get(
    "/moderation/reviews",
    response_model=ModerationQueue,
    summary="Очередь модерации отзывов: старые сначала, с остатком 24-часового срока",
)
async def moderation_queue(
    principal: PrincipalDep,
    feedback: FeedbackDep,
    review_status: Annotated[ReviewStatus, Query(alias="status")] = ReviewStatus.PENDING,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> ModerationQueue:
    request = ListModeration(
        context=_operator_context(principal), status=review_status, limit=limit
    )
    return await feedback.call(LIST_MODERATION, request)


@router.post(
    "/moderation/reviews/{review_id}/approve",
    response_model=Review,
    summary="Опубликовать отзыв",
)
async def approve_review(review_id: UUID, principal: PrincipalDep, feedback: FeedbackDep) -> Review:
    request = Decide(context=_operator_context(principal), review_id=review_id, approve=True)
    return await feedback.call(DECIDE, request)


@router.post(
    "/moderation/reviews/{review_id}/reject",
    response_model=Review,
    summary="Отклонить отзыв с причиной",
)
async def reject_review(
    review_id: UUID, body: RejectBody, principal: PrincipalDep, feedback: FeedbackDep
) -> Review:
    request = Decide(
        context=_operator_context(principal),
        review_id=review_id,
        approve=False,
        reason=body.reason,
    )
    return await feedback.call(DECIDE, request)


class ReviewQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organization_id: UUID | None = None
    specialist_id: UUID | None = None
    specialty: str | None = Field(default=None, max_length=100)
    score: int | None = Field(default=None, ge=1, le=5)
    date_from: IsoDate | None = Field(default=None, alias="from", description="ГГГГ-ММ-ДД")
    date_to: IsoDate | None = Field(default=None, alias="to", description="ГГГГ-ММ-ДД")
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=20, ge=1, le=MAX_PAGE)


@router.get(
    "/reviews",
    response_model=ReviewsPage,
    summary="Опубликованные отзывы, новые сначала (без входа)",
)
async def list_reviews(
    query: Annotated[ReviewQuery, Query()], feedback: FeedbackDep
) -> ReviewsPage:
    return await feedback.call(LIST_REVIEWS, ListReviews(**query.model_dump()))


@router.get(
    "/organizations/{organization_id}/rating",
    response_model=Rating,
    summary="Рейтинг организации: среднее, число отзывов, распределение оценок",
)
async def organization_rating(organization_id: UUID, feedback: FeedbackDep) -> Rating:
    request = GetRating(subject=RatedSubject.ORGANIZATION, subject_id=organization_id)
    return await feedback.call(GET_RATING, request)


@router.get(
    "/specialists/{specialist_id}/rating",
    response_model=Rating,
    summary="Рейтинг специалиста: среднее, число отзывов, распределение оценок",
)
async def specialist_rating(specialist_id: UUID, feedback: FeedbackDep) -> Rating:
    request = GetRating(subject=RatedSubject.SPECIALIST, subject_id=specialist_id)
    return await feedback.call(GET_RATING, request)


@router.get(
    "/ratings/compare",
    response_model=RatingComparison,
    summary="Сравнение рейтингов 2-5 организаций",
)
async def compare_ratings(
    feedback: FeedbackDep,
    organization_id: Annotated[
        list[UUID], Query(min_length=2, max_length=5, description="2–5 different organizations.")
    ] = [],  # noqa: B006 (FastAPI copies it)
) -> RatingComparison:
    ids = tuple(dict.fromkeys(organization_id))
    if not 2 <= len(ids) <= 5:
        raise ServiceError(
            ErrorCode.VALIDATION_FAILED, "Для сравнения укажите от 2 до 5 разных организаций."
        )
    return await feedback.call(COMPARE_RATINGS, CompareRatings(organization_ids=ids))
