"""Feedback routes on a fake RPC caller: what each route sends and how answers map to HTTP."""

from datetime import UTC, date, datetime
from uuid import uuid4

import httpx
import pytest

from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.feedback.ratings import RatedSubject
from gosmed.contracts.feedback.reviews import (
    COMPARE_RATINGS,
    DECIDE,
    GET_RATING,
    LIST_MODERATION,
    LIST_REVIEWS,
    WITHDRAW_REVIEW,
    WRITE_REVIEW,
    ModerationQueue,
    Rating,
    RatingComparison,
    Review,
    ReviewsPage,
    ReviewStatus,
    Withdrawn,
)
from gosmed.runtime.testing import FakeRpc

from .support import BEARER, PRINCIPAL

RECORD = uuid4()
PATH = f"/api/v1/patients/me/services/{RECORD}/review"


def review(status: ReviewStatus = ReviewStatus.PENDING) -> Review:
    return Review(
        id=uuid4(),
        record_id=RECORD,
        patient_id=PRINCIPAL.account_id,
        score=5,
        text="Спасибо.",
        status=status,
        organization_id=uuid4(),
        service_name="Приём терапевта",
        rendered_on=date(2026, 2, 1),
        submitted_at=datetime(2026, 2, 2, tzinfo=UTC),
    )


async def test_post_writes_the_review_for_the_caller_and_answers_201(
    client: httpx.AsyncClient, rpc: FakeRpc
) -> None:
    rpc.reply(WRITE_REVIEW, review())
    response = await client.post(PATH, json={"score": 5, "text": "Спасибо."}, headers=BEARER)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "pending"
    [sent] = rpc.sent(WRITE_REVIEW)
    assert sent.context.actor_id == sent.context.patient_id == PRINCIPAL.account_id
    assert (sent.record_id, sent.score, sent.edit) == (RECORD, 5, False)


async def test_put_edits_and_delete_withdraws(client: httpx.AsyncClient, rpc: FakeRpc) -> None:
    rpc.reply(WRITE_REVIEW, review())
    rpc.reply(WITHDRAW_REVIEW, Withdrawn(review_id=uuid4()))
    edited = await client.put(PATH, json={"score": 3, "text": "Хуже."}, headers=BEARER)
    assert edited.status_code == 200
    assert rpc.sent(WRITE_REVIEW)[0].edit is True
    withdrawn = await client.delete(PATH, headers=BEARER)
    assert withdrawn.status_code == 204
    assert rpc.sent(WITHDRAW_REVIEW)[0].record_id == RECORD


@pytest.mark.parametrize("score", [0, 6])
async def test_score_outside_1_to_5_is_422(
    client: httpx.AsyncClient, rpc: FakeRpc, score: int
) -> None:
    response = await client.post(PATH, json={"score": score, "text": "x"}, headers=BEARER)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"
    assert rpc.sent(WRITE_REVIEW) == []


async def test_service_errors_map_to_409_and_404(client: httpx.AsyncClient, rpc: FakeRpc) -> None:
    rpc.fail(WRITE_REVIEW, ServiceError(ErrorCode.CONFLICT, "Отзыв на эту услугу уже написан."))
    response = await client.post(PATH, json={"score": 5, "text": "x"}, headers=BEARER)
    assert (response.status_code, response.json()["code"]) == (409, "conflict")
    rpc.fail(WRITE_REVIEW, ServiceError(ErrorCode.NOT_FOUND, "Запись не найдена."))
    response = await client.post(PATH, json={"score": 5, "text": "x"}, headers=BEARER)
    assert response.status_code == 404


async def test_writing_needs_a_login(client: httpx.AsyncClient) -> None:
    response = await client.post(PATH, json={"score": 5, "text": "x"})
    assert response.status_code == 401


async def test_moderation_passes_the_callers_roles(client: httpx.AsyncClient, rpc: FakeRpc) -> None:
    rpc.reply(LIST_MODERATION, ModerationQueue(items=(), pending_count=0, overdue_count=0))
    rpc.reply(DECIDE, review(ReviewStatus.REJECTED))
    response = await client.get("/api/v1/moderation/reviews?status=pending", headers=BEARER)
    assert response.status_code == 200
    assert response.json()["overdue_count"] == 0
    [listed] = rpc.sent(LIST_MODERATION)
    assert listed.context.roles == PRINCIPAL.roles
    review_id = uuid4()
    rejected = await client.post(
        f"/api/v1/moderation/reviews/{review_id}/reject",
        json={"reason": "Не о услуге"},
        headers=BEARER,
    )
    assert rejected.status_code == 200
    [decided] = rpc.sent(DECIDE)
    assert (decided.review_id, decided.approve, decided.reason) == (review_id, False, "Не о услуге")


async def test_public_reads_need_no_login(client: httpx.AsyncClient, rpc: FakeRpc) -> None:
    organization, other = uuid4(), uuid4()
    rating = Rating(
        subject=RatedSubject.ORGANIZATION,
        subject_id=organization,
        average=4.5,
        count=2,
        distribution={1: 0, 2: 0, 3: 0, 4: 1, 5: 1},
    )
    rpc.reply(LIST_REVIEWS, ReviewsPage(items=()))
    rpc.reply(GET_RATING, rating)
    rpc.reply(COMPARE_RATINGS, RatingComparison(items=(rating, rating)))

    listed = await client.get(
        f"/api/v1/reviews?organization_id={organization}&score=5&from=2026-01-01"
    )
    assert listed.status_code == 200
    [query] = rpc.sent(LIST_REVIEWS)
    assert (query.organization_id, query.score, query.date_from) == (
        organization,
        5,
        date(2026, 1, 1),
    )
    got = await client.get(f"/api/v1/organizations/{organization}/rating")
    assert got.json()["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1}
    specialist = await client.get(f"/api/v1/specialists/{organization}/rating")
    assert specialist.status_code == 200
    assert rpc.sent(GET_RATING)[1].subject is RatedSubject.SPECIALIST
    compared = await client.get(
        f"/api/v1/ratings/compare?organization_id={organization}&organization_id={other}"
    )
    assert compared.status_code == 200
    one = await client.get(f"/api/v1/ratings/compare?organization_id={organization}")
    assert one.status_code == 422
    assert len(rpc.sent(COMPARE_RATINGS)) == 1
