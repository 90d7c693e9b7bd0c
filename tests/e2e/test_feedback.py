"""Reviews end to end through the real edge and broker: a clinic reports a service, the
patient reviews it, the automatic check, an operator approves, the public list and the
ratings on the registry's cards; the refusals; the 24-hour limit on a hand-moved clock; the
clinic's answer through the clinics' door."""

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest

from gosmed.contracts import demo, topology
from gosmed.contracts.errors import ErrorReply
from gosmed.contracts.feedback.reviews import ANSWER_REVIEW_QUEUE, AnswerAccepted, AnswerReview
from gosmed.contracts.records.intake import ReportRenderedServices
from gosmed.identity.demo import account_id
from gosmed.records.domain import record_id
from gosmed.records.simulator import Catalogue, history, publish, reports
from gosmed.runtime.testing import clinic_connection, eventually
from tests.e2e.identity_support import DEMO_ENV, login

CATALOGUE = Catalogue.demo()
CLOCK_FILE = Path(f"/tmp/gosmed-feedback-clock-{uuid.uuid4().hex[:8]}")


@pytest.fixture(scope="module")
def stack_env() -> dict[str, str]:
    CLOCK_FILE.write_text("0")
    return {**DEMO_ENV, "GOSMED_FEEDBACK_CLOCK_OFFSET_FILE": str(CLOCK_FILE)}


def reported(amqp_url: str, clinic_index: int, count: int = 6) -> list[tuple[str, Any]]:
    """New completed services of the demo patient from one clinic: (record id, service)."""
    clinic = CATALOGUE.clinics[clinic_index].id
    services = history(demo.PATIENT, count, CATALOGUE, clinic=clinic, prefix=uuid.uuid4().hex[:8])
    report: ReportRenderedServices = next(reports(services))
    asyncio.run(publish(amqp_url, [report]))
    return [
        (str(record_id(report.organization_id, s.clinic_record_id)), s) for s in report.services
    ]


def with_doctor(amqp_url: str, clinic_index: int) -> tuple[str, Any]:
    for ident, service in reported(amqp_url, clinic_index):
        if service.specialist_id is not None:
            return ident, service
    raise AssertionError("the simulator gave no service with a doctor")


def path(ident: str, patient: str = "me") -> str:
    return f"/api/v1/patients/{patient}/services/{ident}/review"


def until(condition: Callable[[], bool], what: str) -> None:
    asyncio.run(eventually(condition, what, seconds=15))


def test_write_check_approve_publish_and_ratings_on_the_cards(
    edge: httpx.Client, amqp_url: str
) -> None:
    patient, operator = login(edge, demo.PATIENT), login(edge, demo.OPERATOR)
    ident, service = with_doctor(amqp_url, clinic_index=0)
    text = "Внимательный врач, всё подробно объяснил."

    written = edge.post(path(ident), json={"score": 4, "text": text}, headers=patient)
    assert written.status_code == 201, written.text
    review = written.json()
    assert (review["status"], review["problems"]) == ("pending", [])

    again = edge.post(path(ident), json={"score": 5, "text": "Ещё раз"}, headers=patient)
    assert again.status_code == 409, again.text

    citizen_queue = edge.get("/api/v1/moderation/reviews", headers=patient)
    assert citizen_queue.status_code == 403
    queue = edge.get("/api/v1/moderation/reviews?status=pending", headers=operator).json()
    [item] = [i for i in queue["items"] if i["review"]["id"] == review["id"]]
    assert item["overdue"] is False
    assert 0 < item["seconds_left"] <= 24 * 3600

    approved = edge.post(f"/api/v1/moderation/reviews/{review['id']}/approve", headers=operator)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "published"

    public = edge.get("/api/v1/reviews", params={"specialist_id": str(service.specialist_id)})
    assert public.status_code == 200, public.text
    [shown] = [r for r in public.json()["items"] if r["id"] == review["id"]]
    assert shown["author"] == "Анна И."
    assert shown["text"] == text
    assert shown["service_name"]
    assert shown["rendered_on"] == service.rendered_on.isoformat()

    specialist = str(service.specialist_id)
    rating = edge.get(f"/api/v1/specialists/{specialist}/rating").json()
    assert rating["count"] >= 1
    assert rating["distribution"]["4"] >= 1
    organization = review["organization_id"]
    organization_rating = edge.get(f"/api/v1/organizations/{organization}/rating").json()
    assert organization_rating["distribution"]["4"] >= 1

    def cards_show_the_ratings() -> bool:
        card = edge.get(f"/api/v1/specialists/{specialist}").json()
        clinic = edge.get(f"/api/v1/organizations/{organization}").json()
        return (card["rating"], card["reviews_count"]) == (
            rating["average"],
            rating["count"],
        ) and (clinic["rating"], clinic["reviews_count"]) == (
            organization_rating["average"],
            organization_rating["count"],
        )

    until(cards_show_the_ratings, "the registry's cards show feedback's ratings")


def test_refusals_long_text_phone_and_stranger(edge: httpx.Client, amqp_url: str) -> None:
    patient = login(edge, demo.PATIENT)
    (first, _), (second, _), *_ = reported(amqp_url, clinic_index=1)

    too_long = edge.post(path(first), json={"score": 5, "text": "а" * 501}, headers=patient)
    assert too_long.status_code == 422, too_long.text
    assert too_long.headers["content-type"] == "application/problem+json"
    assert "500 символов" in too_long.json()["detail"]
    bad_score = edge.post(path(first), json={"score": 6, "text": "Хорошо"}, headers=patient)
    assert bad_score.status_code == 422

    stranger = login(edge, demo.CHILD_OVER_15)
    foreign = edge.post(
        path(first, str(account_id(demo.PATIENT))),
        json={"score": 1, "text": "Плохо"},
        headers=stranger,
    )
    assert foreign.status_code == 404, foreign.text
    assert foreign.json()["code"] == "not_found"

    with_phone = edge.post(
        path(second), json={"score": 5, "text": "Звоните: +7 916 123-45-67"}, headers=patient
    )
    assert with_phone.status_code == 201, with_phone.text
    failed = with_phone.json()
    assert failed["status"] == "failed_check"
    assert [p["code"] for p in failed["problems"]] == ["phone"]
    operator = login(edge, demo.OPERATOR)
    queue = edge.get("/api/v1/moderation/reviews", headers=operator).json()
    assert failed["id"] not in {i["review"]["id"] for i in queue["items"]}
    public = edge.get("/api/v1/reviews", params={"limit": 100}).json()
    assert failed["id"] not in {r["id"] for r in public["items"]}


def test_overdue_appears_on_a_hand_moved_clock(edge: httpx.Client, amqp_url: str) -> None:
    patient, operator = login(edge, demo.PATIENT), login(edge, demo.OPERATOR)
    (ident, _), *_ = reported(amqp_url, clinic_index=2)
    written = edge.post(path(ident), json={"score": 3, "text": "Долго ждали."}, headers=patient)
    assert written.status_code == 201, written.text
    review_id = written.json()["id"]

    CLOCK_FILE.write_text(str(24 * 3600 + 60))
    try:
        queue = edge.get("/api/v1/moderation/reviews", headers=operator).json()
    finally:
        CLOCK_FILE.write_text("0")
    [item] = [i for i in queue["items"] if i["review"]["id"] == review_id]
    assert item["overdue"] is True
    assert item["seconds_left"] < 0
    assert item["review"]["status"] == "pending"  # never published by itself
    assert queue["overdue_count"] >= 1


def test_demo_clinics_have_ratings_on_their_cards(edge: httpx.Client) -> None:
    clinic = str(CATALOGUE.clinics[5].id)
    rating = edge.get(f"/api/v1/organizations/{clinic}/rating").json()
    assert rating["count"] > 0
    assert sum(rating["distribution"].values()) == rating["count"]
    reviews = edge.get("/api/v1/reviews", params={"organization_id": clinic}).json()["items"]
    assert len(reviews) == min(rating["count"], 20)

    def card_shows_it() -> bool:
        card = edge.get(f"/api/v1/organizations/{clinic}").json()
        return bool(card["rating"] == rating["average"])

    until(card_shows_it, "the demo clinic's card shows its rating")


async def answer_through_the_door(
    amqp_url: str, organization_id: uuid.UUID, answer: AnswerReview
) -> aio_pika.abc.AbstractIncomingMessage:
    """Publish `answer` as the clinic of `organization_id` and wait for gosmed's reply in the
    clinic's own replies queue."""
    async with clinic_connection(amqp_url, organization_id) as clinic:
        replies = topology.clinic_queue(organization_id, topology.CLINIC_REPLIES)
        queue = await clinic.channel.get_queue(replies, ensure=False)
        door = await clinic.channel.get_exchange(topology.CLINIC_INTAKE_EXCHANGE, ensure=False)
        correlation_id = uuid.uuid4().hex
        await door.publish(
            aio_pika.Message(
                answer.model_dump_json().encode(),
                content_type="application/json",
                user_id=clinic.user,
                reply_to=replies,
                correlation_id=correlation_id,
            ),
            ANSWER_REVIEW_QUEUE,
            mandatory=True,
        )
        async with asyncio.timeout(15):
            while True:
                reply = await queue.get(fail=False, no_ack=True)
                if reply is not None and reply.correlation_id == correlation_id:
                    return reply
                if reply is None:
                    await asyncio.sleep(0.05)


def test_a_clinic_answers_its_published_review_and_another_clinic_cannot(
    edge: httpx.Client, amqp_url: str
) -> None:
    patient, operator = login(edge, demo.PATIENT), login(edge, demo.OPERATOR)
    (ident, _), *_ = reported(amqp_url, clinic_index=3)
    written = edge.post(path(ident), json={"score": 5, "text": "Всё хорошо."}, headers=patient)
    assert written.status_code == 201, written.text
    review = written.json()
    approved = edge.post(f"/api/v1/moderation/reviews/{review['id']}/approve", headers=operator)
    assert approved.status_code == 200, approved.text
    own, other = CATALOGUE.clinics[3].id, CATALOGUE.clinics[4].id
    assert review["organization_id"] == str(own)

    def shown() -> Any:
        page = edge.get("/api/v1/reviews", params={"organization_id": str(own), "limit": 100})
        [item] = [r for r in page.json()["items"] if r["id"] == review["id"]]
        return item["answer"]

    review_id = uuid.UUID(review["id"])
    foreign = AnswerReview(review_id=review_id, text="Отвечаем за чужую клинику.")
    refused = asyncio.run(answer_through_the_door(amqp_url, other, foreign))
    assert (refused.headers or {})[topology.HEADER_REPLY_STATUS] == topology.REPLY_STATUS_ERROR
    error = ErrorReply.model_validate_json(refused.body)
    assert error.code == "forbidden"
    assert "другой организации" in error.message
    assert shown() is None

    text = "Спасибо, что выбрали нас! Будем рады видеть вас снова."
    accepted = asyncio.run(
        answer_through_the_door(amqp_url, own, AnswerReview(review_id=review_id, text=text))
    )
    assert AnswerAccepted.model_validate_json(accepted.body).outcome == "added"
    assert shown()["text"] == text

    def author_told() -> bool:
        inbox = edge.get("/api/v1/me/notifications", headers=patient).json()
        return any(text in n["body"] for n in inbox["notifications"])

    until(author_told, "the review's author finds the clinic's answer in the inbox")
