"""Subscribers: contract in, use case, contract out."""

from gosmed.contracts.feedback.reviews import (
    COMPARE_RATINGS,
    DECIDE,
    GET_RATING,
    LIST_MODERATION,
    LIST_REVIEWS,
    WITHDRAW_REVIEW,
    WRITE_REVIEW,
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
