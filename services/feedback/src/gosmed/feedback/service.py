"""Use cases of reviews: writing (patients), moderation (operators), clinics' answers, public
reading."""

import logging
from collections.abc import Callable
from datetime import datetime
from uuid import UUID, uuid4

from gosmed.contracts.access import AccessContext, Role
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.feedback.ratings import RATING_CHANGED, RatedSubject, RatingChanged
from gosmed.contracts.feedback.reviews import (
    AnswerAccepted,
    AnswerOutcome,
    AnswerReview,
    AnswerReviewForOrganization,
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
    Withdrawn,
    WithdrawReview,
    WriteReview,
)
from gosmed.contracts.identity.access import AUTHORIZE, Action, Authorize
from gosmed.contracts.identity.notifications import (
    NOTIFY_QUEUE,
    SendNotification,
)
from gosmed.contracts.identity.organizations import OrganizationAction
from gosmed.contracts.records.details import GET_SERVICE, GetRenderedService
from gosmed.contracts.records.intake import RecordStatus
from gosmed.feedback.domain import (
    MODERATION_LIMIT,
    Aggregate,
    ReviewEntity,
    author_name,
    check_length,
    new_review,
)
from gosmed.feedback.repository import CHANGED_MEANWHILE, PublicFilter, ReviewsRepository
from gosmed.runtime.broker import RefusedError
from gosmed.runtime.cursor import decode_cursor, encode_cursor
from gosmed.runtime.organizations import act_for_organization
from gosmed.runtime.outbox import OutboxEntry, Relay
from gosmed.runtime.rpc import ServiceClient

log = logging.getLogger(__name__)
RECORD_NOT_FOUND = "Запись об оказанной услуге не найдена."
REVIEW_NOT_FOUND = "Отзыв не найден."
NOT_COMPLETED = "Отзыв можно оставить только на завершённую услугу."
OPERATORS_ONLY = "Модерировать отзывы могут только операторы портала."
ANSWER_ATTEMPTS = 3


class Reviews:
    def __init__(
        self,
        reviews: ReviewsRepository,
        identity: ServiceClient,
        records: ServiceClient,
        relay: Relay | None,
        clock: Callable[[], datetime],
    ) -> None:
        self.reviews = reviews
        self.identity = identity
        self.records = records
        self.relay = relay
        self.clock = clock
        self.overdue = 0  # as last counted, for the metric

    async def _flush(self, review_id: UUID) -> None:
        if self.relay is not None:
            await self.relay.flush(self.reviews.outbox, str(review_id))

    async def _authorized_patient(self, context: AccessContext) -> UUID:
        """The patient the actor may write reviews for; a stranger learns nothing (404)."""
        decision = await self.identity.call(
            AUTHORIZE, Authorize(context=context, action=Action.WRITE_REVIEWS)
        )
        if decision.allowed and decision.patient is not None:
            return decision.patient.account_id
        if context.acts_for_self:
            raise ServiceError(ErrorCode.FORBIDDEN, decision.reason or None)
        raise ServiceError(ErrorCode.NOT_FOUND, RECORD_NOT_FOUND)

    # --- writing -------------------------------------------------------------------------

    async def write(self, request: WriteReview) -> Review:
        check_length(request.text)
        patient_id = await self._authorized_patient(request.context)
        stored = await self.reviews.by_record(request.record_id)
        if stored is not None and stored.review.patient_id != patient_id:
            raise ServiceError(ErrorCode.NOT_FOUND, RECORD_NOT_FOUND)
        now = self.clock()
        if request.edit:
            if stored is None or stored.review.status is ReviewStatus.WITHDRAWN:
                raise ServiceError(ErrorCode.NOT_FOUND, REVIEW_NOT_FOUND)
            before = stored.review
            review = before.rewritten(request.score, request.text, now)
            await self.reviews.replace(
                review, stored.revision, *await self._ratings_owed(before, review)
            )
            await self._flush(review.id)
            return review.view()
        if stored is not None and stored.review.status is not ReviewStatus.WITHDRAWN:
            raise ServiceError(
                ErrorCode.CONFLICT,
                "Отзыв на эту услугу уже написан; его можно изменить или отозвать.",
            )
        detail = await self.records.call(
            GET_SERVICE, GetRenderedService(context=request.context, record_id=request.record_id)
        )
        if detail.item.status != RecordStatus.COMPLETED.value:
            raise ServiceError(ErrorCode.CONFLICT, NOT_COMPLETED)
        item = detail.item
        review = new_review(
            review_id=stored.review.id if stored else uuid4(),
            record_id=request.record_id,
            patient_id=patient_id,
            author=author_name(detail.patient.full_name),
            score=request.score,
            text=request.text,
            organization_id=item.organization_id,
            specialist_id=item.specialist_id,
            specialty=item.specialist_specialty,
            service_name=item.service_name,
            rendered_on=item.rendered_on,
            now=now,
        )
        if stored is None:
            await self.reviews.insert(review)
        else:
            await self.reviews.replace(review, stored.revision)
        log.info("review %s written: %s", review.id, review.status.value)
        return review.view()

    async def withdraw(self, request: WithdrawReview) -> Withdrawn:
        patient_id = await self._authorized_patient(request.context)
        stored = await self.reviews.by_record(request.record_id)
        if (
            stored is None
            or stored.review.patient_id != patient_id
            or stored.review.status is ReviewStatus.WITHDRAWN
        ):
            raise ServiceError(ErrorCode.NOT_FOUND, REVIEW_NOT_FOUND)
        before = stored.review
        review = ReviewEntity(**{**before.__dict__, "status": ReviewStatus.WITHDRAWN})
        await self.reviews.replace(
            review, stored.revision, *await self._ratings_owed(before, review)
        )
        await self._flush(review.id)
        return Withdrawn(review_id=review.id)

    # --- moderation ----------------------------------------------------------------------

    @staticmethod
    def _operator(context: AccessContext) -> None:
        if Role.OPERATOR not in context.roles:
            raise ServiceError(ErrorCode.FORBIDDEN, OPERATORS_ONLY)

    async def moderation_queue(self, request: ListModeration) -> ModerationQueue:
        self._operator(request.context)
        now = self.clock()
        items = await self.reviews.oldest(request.status, request.limit)
        pending = await self.reviews.count(ReviewStatus.PENDING)
        self.overdue = await self.reviews.count(ReviewStatus.PENDING, now - MODERATION_LIMIT)
        return ModerationQueue(
            items=tuple(review.moderation(now) for review in items),
            pending_count=pending,
            overdue_count=self.overdue,
        )

    async def decide(self, request: Decide) -> Review:
        self._operator(request.context)
        stored = await self.reviews.get(request.review_id)
        if stored is None:
            raise ServiceError(ErrorCode.NOT_FOUND, REVIEW_NOT_FOUND)
        before = stored.review
        review = before.decided(request.approve, request.reason, self.clock())
        notice = _decision_notice(review)
        await self.reviews.replace(
            review,
            stored.revision,
            *await self._ratings_owed(before, review),
            OutboxEntry.command(NOTIFY_QUEUE, notice),
        )
        await self._flush(review.id)
        log.info("review %s %s by an operator", review.id, review.status.value)
        return review.view()

    # --- clinics' answers ----------------------------------------------------------------

    async def answer(self, organization_id: UUID, request: AnswerReview) -> AnswerAccepted:
        """The clinic of `organization_id` (the door's sender) answers a published review of
        its own organization; the review's author is told."""
        for _ in range(ANSWER_ATTEMPTS):
            stored = await self.reviews.get(request.review_id)
            if stored is None or stored.review.status is not ReviewStatus.PUBLISHED:
                raise ServiceError(
                    ErrorCode.NOT_FOUND, f"Опубликованный отзыв {request.review_id} не найден."
                )
            if stored.review.organization_id != organization_id:
                raise RefusedError(
                    ErrorCode.FORBIDDEN,
                    f"Отзыв {request.review_id} написан о другой организации: клиника "
                    f"{organization_id} может отвечать только на отзывы о себе.",
                )
            review, outcome = stored.review.answered(request.text, request.occurred_at)
            assert review.answer is not None
            accepted = AnswerAccepted(
                review_id=review.id, outcome=outcome, answered_at=review.answer.answered_at
            )
            if outcome is AnswerOutcome.UNCHANGED:
                return accepted
            try:
                await self.reviews.replace(
                    review,
                    stored.revision,
                    OutboxEntry.command(NOTIFY_QUEUE, _answer_notice(review)),
                )
            except ServiceError as error:
                if error.code is ErrorCode.CONFLICT:
                    continue  # changed meanwhile (an operator, another answer): read it again
                raise
            await self._flush(review.id)
            log.info("review %s answered by its clinic: %s", review.id, outcome.value)
            return accepted
        raise ServiceError(ErrorCode.CONFLICT, CHANGED_MEANWHILE)

    async def answer_for_organization(self, request: AnswerReviewForOrganization) -> AnswerAccepted:
        """A staff member answers in the clinic's name (identity decides and journals), as the
        clinic's integration does through the door; another clinic's review is not found."""
        await act_for_organization(
            self.identity,
            request.context,
            request.organization_id,
            OrganizationAction.REPLY_REVIEWS,
            f"ответ на отзыв {request.review_id}",
        )
        try:
            return await self.answer(request.organization_id, request)
        except RefusedError as refused:
            if refused.code == ErrorCode.FORBIDDEN:
                raise ServiceError(
                    ErrorCode.NOT_FOUND, f"Опубликованный отзыв {request.review_id} не найден."
                ) from None
            raise ServiceError(refused.code, refused.message) from None

    # --- ratings -------------------------------------------------------------------------

    async def _ratings_owed(self, before: ReviewEntity, after: ReviewEntity) -> list[OutboxEntry]:
        """The RatingChanged events (specialist and organization) a change of a published
        review owes, computed from the other published scores and this review's new state."""
        was, now = before.status is ReviewStatus.PUBLISHED, after.status is ReviewStatus.PUBLISHED
        if not was and not now:
            return []
        subjects = [(RatedSubject.ORGANIZATION, after.organization_id)]
        if after.specialist_id is not None:
            subjects.append((RatedSubject.SPECIALIST, after.specialist_id))
        entries = []
        as_of = self.clock()
        for subject, subject_id in subjects:
            scores = await self.reviews.published_scores(subject, subject_id)
            if was and before.score in scores:
                scores.remove(before.score)
            if now:
                scores.append(after.score)
            aggregate = Aggregate.of(scores)
            event = RatingChanged(
                subject=subject,
                subject_id=subject_id,
                average=aggregate.average,
                reviews_count=aggregate.count,
                as_of=as_of,
            )
            entries.append(OutboxEntry.event(RATING_CHANGED, event))
        return entries

    async def rating(self, request: GetRating) -> Rating:
        return await self._rating(request.subject, request.subject_id)

    async def _rating(self, subject: RatedSubject, subject_id: UUID) -> Rating:
        aggregate = Aggregate.of(await self.reviews.published_scores(subject, subject_id))
        return Rating(
            subject=subject,
            subject_id=subject_id,
            average=aggregate.average,
            count=aggregate.count,
            distribution=aggregate.distribution,
        )

    async def compare(self, request: CompareRatings) -> RatingComparison:
        return RatingComparison(
            items=tuple(
                [
                    await self._rating(RatedSubject.ORGANIZATION, organization_id)
                    for organization_id in dict.fromkeys(request.organization_ids)
                ]
            )
        )

    # --- public reading ------------------------------------------------------------------

    async def list_published(self, request: ListReviews) -> ReviewsPage:
        after = None
        if request.cursor:
            published_at, review_id = decode_cursor(request.cursor, datetime.fromisoformat, UUID)
            after = (datetime.fromisoformat(published_at), review_id)
        where = PublicFilter(
            organization_id=request.organization_id,
            specialist_id=request.specialist_id,
            specialty=request.specialty,
            score=request.score,
            date_from=request.date_from,
            date_to=request.date_to,
        )
        found = await self.reviews.published_page(where, after, request.limit + 1)
        page = found[: request.limit]
        cursor = None
        if len(found) > request.limit and page[-1].published_at is not None:
            cursor = encode_cursor(page[-1].published_at.isoformat(), str(page[-1].id))
        return ReviewsPage(items=tuple(r.public() for r in page), next_cursor=cursor)


def _answer_notice(review: ReviewEntity) -> SendNotification:
    assert review.answer is not None
    return SendNotification(
        recipient_account_id=review.patient_id,
        title="Клиника ответила на ваш отзыв",
        body=f"Ответ на ваш отзыв об услуге «{review.service_name}»: {review.answer.text}"[:4000],
        category="review_answered",
        link=f"/patients/me/services/{review.record_id}",
    )


def _decision_notice(review: ReviewEntity) -> SendNotification:
    if review.status is ReviewStatus.PUBLISHED:
        title, body = (
            "Ваш отзыв опубликован",
            f"Отзыв на услугу «{review.service_name}» прошёл модерацию и опубликован.",
        )
    else:
        title, body = (
            "Ваш отзыв отклонён",
            f"Отзыв на услугу «{review.service_name}» не опубликован. "
            f"Причина: {review.rejection_reason}",
        )
    return SendNotification(
        recipient_account_id=review.patient_id,
        title=title,
        body=body[:4000],
        category="review_moderated",
        link=f"/patients/me/services/{review.record_id}",
    )
