"""Use cases on the embedded store, with identity and records as a FakeRpc."""

import uuid
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from gosmed.contracts.access import AccessContext, LegalBasis, Role
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.feedback.ratings import RATING_CHANGED, RatedSubject, RatingChanged
from gosmed.contracts.feedback.reviews import (
    AnswerOutcome,
    AnswerReview,
    AnswerReviewForOrganization,
    CompareRatings,
    Decide,
    GetRating,
    ListModeration,
    ListReviews,
    ReviewStatus,
    WithdrawReview,
    WriteReview,
)
from gosmed.contracts.identity.access import AUTHORIZE, AccessDecision, Authorize, PatientRef
from gosmed.contracts.identity.notifications import NOTIFY_QUEUE, SendNotification
from gosmed.contracts.identity.organizations import (
    AUTHORIZE_ORGANIZATION_ACTION,
    AuthorizeOrganizationAction,
    OrganizationAction,
    OrganizationDecision,
)
from gosmed.contracts.records.details import (
    GET_SERVICE,
    GetRenderedService,
    RenderedServiceDetail,
)
from gosmed.contracts.records.views import (
    Cost,
    CostKind,
    Coverage,
    CoverageKind,
    RenderedServiceView,
)
from gosmed.contracts.registry.catalog import ServiceCategory
from gosmed.contracts.topology import Service
from gosmed.feedback.repository import ReviewsRepository
from gosmed.feedback.service import Reviews
from gosmed.runtime.broker import RefusedError
from gosmed.runtime.rpc import ServiceClient
from gosmed.runtime.store import open_store
from gosmed.runtime.testing import FakeRpc

PATIENT = uuid4()
ORGANIZATION = uuid4()
SPECIALIST = uuid4()
OPERATOR = AccessContext(actor_id=uuid4(), roles=frozenset({Role.OPERATOR}))


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def detail(record_id: UUID, status: str = "completed") -> RenderedServiceDetail:
    return RenderedServiceDetail(
        patient=PatientRef(
            account_id=PATIENT,
            snils="112-233-445 95",
            full_name="Иванова Анна Сергеевна",
            birth_date=date(1985, 4, 12),
        ),
        item=RenderedServiceView(
            id=record_id,
            rendered_on=date(2026, 2, 20),
            service_code="B01.047.001",
            service_name="Приём терапевта",
            category=ServiceCategory.OUTPATIENT_VISIT,
            organization_id=ORGANIZATION,
            specialist_id=SPECIALIST,
            specialist_specialty="therapist",
            cost=Cost(kind=CostKind.FREE),
            coverage=Coverage(kind=CoverageKind.OMS),
            status=status,
        ),
        clinic_record_id="c-1",
        history=(),
        cost_history=(),
    )


@pytest.fixture
def rpc() -> FakeRpc:
    fake = FakeRpc()

    async def authorize(request: Authorize) -> AccessDecision:
        context = request.context
        allowed = context.actor_id == PATIENT and context.patient_id in (None, PATIENT)
        return AccessDecision(
            allowed=allowed,
            actor_id=context.actor_id,
            patient=PatientRef(
                account_id=PATIENT,
                snils="112-233-445 95",
                full_name="Иванова Анна Сергеевна",
                birth_date=date(1985, 4, 12),
            )
            if allowed
            else None,
            basis=LegalBasis.OWN_ACCOUNT if allowed else None,
            reason="" if allowed else "нет доступа",
        )

    async def get_service(request: GetRenderedService) -> RenderedServiceDetail:
        return detail(request.record_id)

    fake.answer(AUTHORIZE, authorize)
    fake.answer(GET_SERVICE, get_service)
    return fake


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def repository() -> ReviewsRepository:
    store = open_store(None, f"feedback_{uuid.uuid4().hex[:8]}")
    repo = ReviewsRepository(store.database)
    await repo.ensure_indexes()
    return repo


@pytest.fixture
def reviews(repository: ReviewsRepository, rpc: FakeRpc, clock: Clock) -> Reviews:
    return Reviews(
        repository,
        ServiceClient(Service.IDENTITY, rpc),
        ServiceClient(Service.RECORDS, rpc),
        None,
        clock,
    )


def mine() -> AccessContext:
    return AccessContext(actor_id=PATIENT, patient_id=PATIENT)


def write(record_id: UUID, text: str = "Внимательный врач.", score: int = 5) -> WriteReview:
    return WriteReview(context=mine(), record_id=record_id, score=score, text=text)


async def owed(repository: ReviewsRepository) -> list[tuple[str, str]]:
    return [(e.routing_key, e.body) for o in await repository.outbox.pending() for e in o.entries]


async def test_write_check_approve_publishes_and_announces_both_ratings(
    reviews: Reviews, repository: ReviewsRepository, rpc: FakeRpc
) -> None:
    record = uuid4()
    written = await reviews.write(write(record))
    assert written.status is ReviewStatus.PENDING
    [authorized] = rpc.sent(AUTHORIZE)
    assert authorized.action.value == "write_reviews"
    assert await owed(repository) == []  # nothing published yet

    approved = await reviews.decide(Decide(context=OPERATOR, review_id=written.id, approve=True))
    assert approved.status is ReviewStatus.PUBLISHED

    entries = await owed(repository)
    events = [RatingChanged.model_validate_json(b) for k, b in entries if k == RATING_CHANGED]
    assert {(e.subject, e.subject_id, e.average, e.reviews_count) for e in events} == {
        (RatedSubject.ORGANIZATION, ORGANIZATION, 5.0, 1),
        (RatedSubject.SPECIALIST, SPECIALIST, 5.0, 1),
    }
    [notice] = [SendNotification.model_validate_json(b) for k, b in entries if k == NOTIFY_QUEUE]
    assert notice.recipient_account_id == PATIENT
    assert "опубликован" in notice.title

    page = await reviews.list_published(ListReviews(organization_id=ORGANIZATION))
    [public] = page.items
    assert public.author == "Анна И."
    assert (public.service_name, public.rendered_on) == ("Приём терапевта", date(2026, 2, 20))
    rating = await reviews.rating(GetRating(subject=RatedSubject.SPECIALIST, subject_id=SPECIALIST))
    assert (rating.average, rating.count, rating.distribution[5]) == (5.0, 1, 1)


async def test_second_review_of_a_record_is_a_conflict(reviews: Reviews) -> None:
    record = uuid4()
    await reviews.write(write(record))
    with pytest.raises(ServiceError) as error:
        await reviews.write(write(record))
    assert error.value.code is ErrorCode.CONFLICT


async def test_a_stranger_gets_not_found_and_records_is_not_asked(
    reviews: Reviews, rpc: FakeRpc
) -> None:
    stranger = AccessContext(actor_id=uuid4(), patient_id=PATIENT)
    with pytest.raises(ServiceError) as error:
        await reviews.write(WriteReview(context=stranger, record_id=uuid4(), score=4, text="x"))
    assert error.value.code is ErrorCode.NOT_FOUND
    assert rpc.sent(GET_SERVICE) == []


async def test_only_a_completed_record_can_be_reviewed(reviews: Reviews, rpc: FakeRpc) -> None:
    async def in_progress(request: GetRenderedService) -> RenderedServiceDetail:
        return detail(request.record_id, status="in_progress")

    rpc.answer(GET_SERVICE, in_progress)
    with pytest.raises(ServiceError) as error:
        await reviews.write(write(uuid4()))
    assert error.value.code is ErrorCode.CONFLICT


async def test_a_review_with_a_phone_is_not_queued_for_moderation(reviews: Reviews) -> None:
    failed = await reviews.write(write(uuid4(), "Звоните мне: +7 916 123-45-67"))
    assert failed.status is ReviewStatus.FAILED_CHECK
    assert [p.code for p in failed.problems] == ["phone"]
    queue = await reviews.moderation_queue(ListModeration(context=OPERATOR))
    assert queue.items == ()
    with pytest.raises(ServiceError):
        await reviews.decide(Decide(context=OPERATOR, review_id=failed.id, approve=True))


async def test_queue_is_oldest_first_with_overdue_on_a_moved_clock(
    reviews: Reviews, clock: Clock
) -> None:
    first = await reviews.write(write(uuid4()))
    clock.now += timedelta(hours=2)
    second = await reviews.write(write(uuid4()))
    clock.now += timedelta(hours=23)
    queue = await reviews.moderation_queue(ListModeration(context=OPERATOR))
    assert [i.review.id for i in queue.items] == [first.id, second.id]
    assert [i.overdue for i in queue.items] == [True, False]
    assert queue.items[1].seconds_left == 3600
    assert (queue.pending_count, queue.overdue_count) == (2, 1)
    assert reviews.overdue == 1
    assert queue.items[0].review.status is ReviewStatus.PENDING  # never auto-published


async def test_only_operators_moderate(reviews: Reviews) -> None:
    with pytest.raises(ServiceError) as error:
        await reviews.moderation_queue(ListModeration(context=mine()))
    assert error.value.code is ErrorCode.FORBIDDEN


async def test_reject_notifies_with_the_reason(
    reviews: Reviews, repository: ReviewsRepository
) -> None:
    written = await reviews.write(write(uuid4()))
    rejected = await reviews.decide(
        Decide(context=OPERATOR, review_id=written.id, approve=False, reason="Не о услуге")
    )
    assert rejected.rejection_reason == "Не о услуге"
    [(_, body)] = await owed(repository)
    assert "Не о услуге" in SendNotification.model_validate_json(body).body


async def test_withdrawing_a_published_review_lowers_the_rating(
    reviews: Reviews, repository: ReviewsRepository
) -> None:
    record_a, record_b = uuid4(), uuid4()
    a = await reviews.write(write(record_a, score=5))
    b = await reviews.write(write(record_b, score=2))
    for review in (a, b):
        await reviews.decide(Decide(context=OPERATOR, review_id=review.id, approve=True))
    organization = GetRating(subject=RatedSubject.ORGANIZATION, subject_id=ORGANIZATION)
    assert (await reviews.rating(organization)).average == 3.5

    await reviews.withdraw(WithdrawReview(context=mine(), record_id=record_a))

    rating = await reviews.rating(organization)
    assert (rating.average, rating.count) == (2.0, 1)
    events = [
        RatingChanged.model_validate_json(body)
        for key, body in await owed(repository)
        if key == RATING_CHANGED
    ]
    last = max(
        (e for e in events if e.subject is RatedSubject.ORGANIZATION), key=lambda e: e.occurred_at
    )
    assert (last.average, last.reviews_count) == (2.0, 1)
    compared = await reviews.compare(CompareRatings(organization_ids=(ORGANIZATION, uuid4())))
    assert [r.count for r in compared.items] == [1, 0]


async def test_editing_goes_back_to_moderation(reviews: Reviews) -> None:
    record = uuid4()
    written = await reviews.write(write(record))
    await reviews.decide(Decide(context=OPERATOR, review_id=written.id, approve=True))
    edited = await reviews.write(
        WriteReview(context=mine(), record_id=record, score=3, text="Потом хуже.", edit=True)
    )
    assert edited.status is ReviewStatus.PENDING
    assert (await reviews.list_published(ListReviews())).items == ()


async def test_pages_follow_the_cursor(reviews: Reviews, clock: Clock) -> None:
    for _ in range(3):
        written = await reviews.write(write(uuid4()))
        clock.now += timedelta(minutes=1)
        await reviews.decide(Decide(context=OPERATOR, review_id=written.id, approve=True))
    first = await reviews.list_published(ListReviews(limit=2))
    assert len(first.items) == 2
    assert first.next_cursor
    second = await reviews.list_published(ListReviews(limit=2, cursor=first.next_cursor))
    assert len(second.items) == 1
    assert second.next_cursor is None
    dates = [r.published_at for r in (*first.items, *second.items)]
    assert dates == sorted(dates, reverse=True)


# --- clinics' answers ----------------------------------------------------------------------


async def published(reviews: Reviews, repository: ReviewsRepository) -> UUID:
    written = await reviews.write(write(uuid4()))
    await reviews.decide(Decide(context=OPERATOR, review_id=written.id, approve=True))
    owed_now = await repository.outbox.pending()
    await repository.outbox.remove({o.key: [e.message_id for e in o.entries] for o in owed_now})
    return written.id


def answer(review_id: UUID, text: str, at: datetime) -> AnswerReview:
    return AnswerReview(review_id=review_id, text=text, occurred_at=at)


async def test_the_clinic_answers_its_published_review_and_the_author_is_told(
    reviews: Reviews, repository: ReviewsRepository, clock: Clock
) -> None:
    review_id = await published(reviews, repository)
    first = await reviews.answer(
        ORGANIZATION, answer(review_id, "Спасибо за отзыв!", clock.now + timedelta(minutes=1))
    )
    assert first.outcome is AnswerOutcome.ADDED
    [(key, body)] = await owed(repository)
    notice = SendNotification.model_validate_json(body)
    assert (key, notice.recipient_account_id) == (NOTIFY_QUEUE, PATIENT)
    assert "Спасибо за отзыв!" in notice.body

    later = clock.now + timedelta(hours=1)
    second = await reviews.answer(ORGANIZATION, answer(review_id, "Ждём вас снова.", later))
    assert second.outcome is AnswerOutcome.REPLACED
    late = await reviews.answer(
        ORGANIZATION, answer(review_id, "Старый ответ", clock.now + timedelta(minutes=2))
    )
    assert (late.outcome, late.answered_at) == (AnswerOutcome.UNCHANGED, later)

    [shown] = (await reviews.list_published(ListReviews(organization_id=ORGANIZATION))).items
    assert shown.answer is not None
    assert (shown.answer.text, shown.answer.answered_at) == ("Ждём вас снова.", later)


async def test_another_clinic_cannot_answer_and_nothing_is_shown(
    reviews: Reviews, repository: ReviewsRepository, clock: Clock
) -> None:
    review_id = await published(reviews, repository)
    other = uuid4()
    with pytest.raises(RefusedError) as refused:
        await reviews.answer(other, answer(review_id, "Это не наш отзыв", clock.now))
    assert refused.value.code is ErrorCode.FORBIDDEN
    assert str(other) in refused.value.message
    [shown] = (await reviews.list_published(ListReviews(organization_id=ORGANIZATION))).items
    assert shown.answer is None
    assert await owed(repository) == []


async def test_unknown_or_unpublished_reviews_cannot_be_answered(
    reviews: Reviews, clock: Clock
) -> None:
    pending = await reviews.write(write(uuid4()))
    for review_id in (uuid4(), pending.id):
        with pytest.raises(ServiceError) as error:
            await reviews.answer(ORGANIZATION, answer(review_id, "Спасибо!", clock.now))
        assert error.value.code is ErrorCode.NOT_FOUND


async def test_an_answer_the_check_stops_is_refused_with_every_reason(
    reviews: Reviews, repository: ReviewsRepository, clock: Clock
) -> None:
    review_id = await published(reviews, repository)
    text = "Пишите на help@clinic.ru, звоните +7 916 123-45-67, сайт www.clinic.ru"
    with pytest.raises(ServiceError) as error:
        await reviews.answer(ORGANIZATION, answer(review_id, text, clock.now))
    assert error.value.code is ErrorCode.VALIDATION_FAILED
    assert [d.code for d in error.value.details] == ["email", "phone", "link"]
    assert "Ответ клиники содержит номер телефона." in error.value.message
    [shown] = (await reviews.list_published(ListReviews(organization_id=ORGANIZATION))).items
    assert shown.answer is None


def test_an_answer_is_at_most_1000_characters() -> None:
    AnswerReview(review_id=uuid4(), text="а" * 1000)
    with pytest.raises(ValueError, match="1000"):
        AnswerReview(review_id=uuid4(), text="а" * 1001)


STAFF = AccessContext(actor_id=uuid4())


def staff_decisions(rpc: FakeRpc, allowed: bool) -> None:
    """Identity's decisions on STAFF acting for ORGANIZATION (any other is refused)."""

    async def decide(request: AuthorizeOrganizationAction) -> OrganizationDecision:
        return OrganizationDecision(
            allowed=allowed and request.organization_id == ORGANIZATION,
            actor_id=request.context.actor_id,
            organization_id=request.organization_id,
            action=request.action,
            reason="" if allowed else "не уполномочены",
        )

    rpc.answer(AUTHORIZE_ORGANIZATION_ACTION, decide)


async def test_staff_answer_in_the_clinics_name_on_identitys_decision(
    reviews: Reviews, repository: ReviewsRepository, rpc: FakeRpc, clock: Clock
) -> None:
    staff_decisions(rpc, allowed=True)
    review_id = await published(reviews, repository)
    request = AnswerReviewForOrganization(
        context=STAFF, organization_id=ORGANIZATION, review_id=review_id, text="Спасибо!"
    )

    accepted = await reviews.answer_for_organization(request)

    assert accepted.outcome is AnswerOutcome.ADDED
    [asked] = rpc.sent(AUTHORIZE_ORGANIZATION_ACTION)
    assert (asked.action, asked.organization_id) == (
        OrganizationAction.REPLY_REVIEWS,
        ORGANIZATION,
    )
    assert asked.subject is not None
    assert str(review_id) in asked.subject
    [shown] = (await reviews.list_published(ListReviews(organization_id=ORGANIZATION))).items
    assert shown.answer is not None
    assert shown.answer.text == "Спасибо!"


async def test_staff_of_another_clinic_find_no_review_and_no_staff_are_refused(
    reviews: Reviews, repository: ReviewsRepository, rpc: FakeRpc
) -> None:
    review_id = await published(reviews, repository)
    other = uuid4()

    async def decide(request: AuthorizeOrganizationAction) -> OrganizationDecision:
        return OrganizationDecision(
            allowed=request.organization_id == other,
            actor_id=request.context.actor_id,
            organization_id=request.organization_id,
            action=request.action,
        )

    rpc.answer(AUTHORIZE_ORGANIZATION_ACTION, decide)
    foreign = AnswerReviewForOrganization(
        context=STAFF, organization_id=other, review_id=review_id, text="Не наш отзыв"
    )
    with pytest.raises(ServiceError) as not_found:
        await reviews.answer_for_organization(foreign)
    staff_decisions(rpc, allowed=False)
    with pytest.raises(ServiceError) as refused:
        await reviews.answer_for_organization(
            foreign.model_copy(update={"organization_id": ORGANIZATION})
        )

    assert not_found.value.code is ErrorCode.NOT_FOUND
    assert refused.value.code is ErrorCode.NOT_ORGANIZATION_STAFF
    assert await owed(repository) == []
