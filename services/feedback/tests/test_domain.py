"""The rules of reviews: the automatic check, length, moderation limit, ratings, authors."""

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.feedback.reviews import ReviewStatus
from gosmed.feedback.domain import Aggregate, ReviewEntity, author_name, check_text, new_review

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def codes(text: str) -> list[str]:
    return [problem.code for problem in check_text(text)]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Врач перезвонил сам, +7 916 123-45-67", "phone"),
        ("звоните 8 (916) 123 45 67 после обеда", "phone"),
        ("пишите на ivan.petrov@mail.ru", "email"),
        ("мой СНИЛС 112-233-445 95", "snils"),
        ("паспорт 45 10 123456 забыли вернуть", "document_number"),
        ("полис 7700000000000001 не нашли", "document_number"),
        ("подробности на https://example.ru/otzyv", "link"),
        ("смотрите www.clinic-reviews.com", "link"),
        ("ну и блядство в регистратуре", "obscene_language"),
        ("врач говно", "obscene_language"),
    ],
)
def test_the_check_finds_personal_data_obscenity_and_links(text: str, code: str) -> None:
    assert code in codes(text)


@pytest.mark.parametrize(
    "text",
    [
        "Хороший врач, приём 12 мая в 10:30, ждали 15 минут, кабинет 215.",
        "Бардак в регистратуре, но команда врачей отличная.",
        "Оскорблять персонал не хочу, но скипидаром пахло в коридоре.",
        "Оценка 5 из 5, рекомендую.",
    ],
)
def test_ordinary_reviews_pass_the_check(text: str) -> None:
    assert codes(text) == []


def review(text: str = "Всё хорошо, спасибо.") -> ReviewEntity:
    return new_review(
        review_id=uuid4(),
        record_id=uuid4(),
        patient_id=uuid4(),
        author="Анна И.",
        score=5,
        text=text,
        organization_id=uuid4(),
        specialist_id=None,
        specialty=None,
        service_name="Приём терапевта",
        rendered_on=date(2026, 2, 1),
        now=NOW,
    )


def test_501_characters_are_refused_with_a_russian_message() -> None:
    assert review("а" * 500).status is ReviewStatus.PENDING
    with pytest.raises(ServiceError) as error:
        review("а" * 501)
    assert error.value.code is ErrorCode.VALIDATION_FAILED
    assert "500 символов" in error.value.message


def test_a_review_that_fails_the_check_is_not_pending() -> None:
    failed = review("звоните +7 916 123-45-67")
    assert failed.status is ReviewStatus.FAILED_CHECK
    assert [p.code for p in failed.problems] == ["phone"]


def test_moderation_limit_is_24_hours_and_overdue_is_flagged_not_published() -> None:
    pending = review()
    before = pending.moderation(NOW + timedelta(hours=23, minutes=59))
    assert (before.overdue, before.seconds_left) == (False, 60)
    after = pending.moderation(NOW + timedelta(hours=24))
    assert after.overdue
    assert after.review.status is ReviewStatus.PENDING


def test_decisions() -> None:
    pending = review()
    published = pending.decided(True, None, NOW)
    assert published.status is ReviewStatus.PUBLISHED
    assert published.published_at == NOW
    with pytest.raises(ServiceError):
        pending.decided(False, " ", NOW)  # a rejection needs a reason
    with pytest.raises(ServiceError) as error:
        published.decided(False, "повтор", NOW)
    assert error.value.code is ErrorCode.CONFLICT


def test_rewriting_goes_back_to_moderation() -> None:
    published = review().decided(True, None, NOW)
    rewritten = published.rewritten(3, "Стало хуже.", NOW + timedelta(days=1))
    assert rewritten.status is ReviewStatus.PENDING
    assert rewritten.published_at is None


def test_aggregate_average_one_decimal_and_distribution() -> None:
    aggregate = Aggregate.of([5, 4, 4])
    assert aggregate.average == 4.3
    assert aggregate.count == 3
    assert aggregate.distribution == {1: 0, 2: 0, 3: 0, 4: 2, 5: 1}
    assert Aggregate.of([]).average is None


def test_author_is_first_name_and_initial() -> None:
    assert author_name("Иванова Анна Сергеевна") == "Анна И."
