"""Subscribers: contract in, use case, contract out."""

from gosmed.contracts.feedback.reviews import (
    ANSWER_REVIEW_FOR_ORGANIZATION,
    ANSWER_REVIEW_QUEUE,
    COMPARE_RATINGS,
    DECIDE,
    GET_RATING,
    LIST_MODERATION,
    LIST_REVIEWS,
    WITHDRAW_REVIEW,
    WRITE_REVIEW,
    AnswerAccepted,
    AnswerReview,
)
from gosmed.feedback.service import Reviews
from gosmed.runtime.service import ServiceRuntime


def register(runtime: ServiceRuntime, reviews: Reviews) -> None:
    serve = runtime.serve
    serve(WRITE_REVIEW, reviews.write)
    serve(WITHDRAW_REVIEW, reviews.withdraw)
    serve(LIST_MODERATION, reviews.moderation_queue)
    serve(DECIDE, reviews.decide)
    serve(LIST_REVIEWS, reviews.list_published)
    serve(GET_RATING, reviews.rating)
    serve(COMPARE_RATINGS, reviews.compare)
    serve(ANSWER_REVIEW_FOR_ORGANIZATION, reviews.answer_for_organization)

    async def answer(body: AnswerReview) -> AnswerAccepted:
        clinic = runtime.sending_clinic()
        return await reviews.answer(clinic, body)

    runtime.consume(
        ANSWER_REVIEW_QUEUE,
        AnswerReview,
        answer,
        description="Clinics answer a published review of their organization, through the "
        "exchange `gosmed.clinic-intake` with the AMQP `user_id` of the clinic.",
        reply=AnswerAccepted,
        from_clinics=True,
    )
