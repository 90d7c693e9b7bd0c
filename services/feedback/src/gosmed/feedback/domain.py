"""Reviews and their rules: the automatic check, the moderation limit, ratings, how authors
are shown. No broker or driver imports."""

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from uuid import UUID

import phonenumbers

from gosmed.contracts.errors import ErrorCode, ErrorDetail, ServiceError
from gosmed.contracts.feedback.reviews import (
    MAX_TEXT,
    MODERATION_HOURS,
    AnswerOutcome,
    CheckProblem,
    ClinicAnswer,
    ModerationItem,
    PublicReview,
    Review,
    ReviewStatus,
)
from gosmed.feedback.obscenity import obscene

MODERATION_LIMIT = timedelta(hours=MODERATION_HOURS)
SCORES = (1, 2, 3, 4, 5)

# What the automatic check finds, by code; the message names what was checked («Отзыв»,
# «Ответ клиники»).
FINDINGS = {
    "phone": "содержит номер телефона.",
    "email": "содержит адрес электронной почты.",
    "snils": "содержит СНИЛС.",
    "document_number": "содержит номер документа (паспорта, полиса или другого).",
    "link": "содержит ссылку.",
    "obscene_language": "содержит нецензурную лексику.",
}
REVIEW = "Отзыв"
ANSWER = "Ответ клиники"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", re.UNICODE)
_SNILS = re.compile(r"(?<!\d)\d{3}[- ]?\d{3}[- ]?\d{3}[- ]?\d{2}(?!\d)")
# A passport (4 + 6 digits), an OMS policy (16 digits) or any other run of 8+ digits.
_DOCUMENT = re.compile(r"(?<!\d)(\d{2} ?\d{2} ?№? ?\d{6}|\d{8,})(?!\d)")
_LINK = re.compile(
    r"(https?://|www\.|\b[\w-]+\.(ru|рф|com|net|org|info|su|io|me|biz|online|site)\b)",
    re.IGNORECASE | re.UNICODE,
)


def _has_phone(text: str) -> bool:
    matcher = phonenumbers.PhoneNumberMatcher(text, "RU", leniency=phonenumbers.Leniency.VALID)
    return any(True for _ in matcher)


def check_text(text: str, subject: str = REVIEW) -> tuple[CheckProblem, ...]:
    """The automatic check before moderation: personal data, obscene language, links."""
    codes: list[str] = []
    without_emails = _EMAIL.sub(" ", text)
    if without_emails != text:
        codes.append("email")
    if _SNILS.search(without_emails):
        codes.append("snils")
    elif _has_phone(without_emails):
        codes.append("phone")
    elif _DOCUMENT.search(without_emails):
        codes.append("document_number")
    if _LINK.search(without_emails):
        codes.append("link")
    if obscene(text):
        codes.append("obscene_language")
    return tuple(CheckProblem(code=code, message=f"{subject} {FINDINGS[code]}") for code in codes)


def check_length(text: str) -> None:
    if len(text) > MAX_TEXT:
        raise ServiceError(
            ErrorCode.VALIDATION_FAILED,
            f"Текст отзыва должен быть не длиннее {MAX_TEXT} символов, сейчас {len(text)}.",
        )


def author_name(full_name: str) -> str:
    """«Фамилия Имя Отчество» shown as «Имя Ф.»: first name and the initial of the surname."""
    parts = full_name.split()
    if len(parts) >= 2:
        return f"{parts[1]} {parts[0][0]}."
    return f"{parts[0]}" if parts else "Пациент"


@dataclass(frozen=True)
class ReviewEntity:
    id: UUID
    record_id: UUID
    patient_id: UUID
    author: str
    score: int
    text: str
    status: ReviewStatus
    problems: tuple[CheckProblem, ...]
    organization_id: UUID
    specialist_id: UUID | None
    specialty: str | None
    service_name: str
    rendered_on: date
    submitted_at: datetime
    published_at: datetime | None = None
    rejection_reason: str | None = None
    answer: ClinicAnswer | None = None

    def view(self) -> Review:
        return Review(
            id=self.id,
            record_id=self.record_id,
            patient_id=self.patient_id,
            score=self.score,
            text=self.text,
            status=self.status,
            problems=self.problems,
            rejection_reason=self.rejection_reason,
            organization_id=self.organization_id,
            specialist_id=self.specialist_id,
            service_name=self.service_name,
            rendered_on=self.rendered_on,
            submitted_at=self.submitted_at,
            published_at=self.published_at,
            answer=self.answer,
        )

    def public(self) -> PublicReview:
        assert self.published_at is not None
        return PublicReview(
            id=self.id,
            score=self.score,
            text=self.text,
            author=self.author,
            organization_id=self.organization_id,
            specialist_id=self.specialist_id,
            specialty=self.specialty,
            service_name=self.service_name,
            rendered_on=self.rendered_on,
            published_at=self.published_at,
            answer=self.answer,
        )

    def rewritten(self, score: int, text: str, now: datetime) -> "ReviewEntity":
        """The author's new text goes through the check and moderation again."""
        problems = check_text(text)
        return replace(
            self,
            score=score,
            text=text,
            problems=problems,
            status=ReviewStatus.FAILED_CHECK if problems else ReviewStatus.PENDING,
            submitted_at=now,
            published_at=None,
            rejection_reason=None,
        )

    def decided(self, approve: bool, reason: str | None, now: datetime) -> "ReviewEntity":
        if self.status is not ReviewStatus.PENDING:
            raise ServiceError(ErrorCode.CONFLICT, "Отзыв уже не ждёт модерации.")
        if approve:
            return replace(self, status=ReviewStatus.PUBLISHED, published_at=now)
        if not reason or not reason.strip():
            raise ServiceError(ErrorCode.VALIDATION_FAILED, "Укажите причину отклонения отзыва.")
        return replace(self, status=ReviewStatus.REJECTED, rejection_reason=reason.strip())

    def answered(self, text: str, at: datetime) -> tuple["ReviewEntity", AnswerOutcome]:
        """The clinic's answer `text`, written at `at`, shown under this published review: it
        replaces an older answer; an answer as old as or older than the shown one changes
        nothing (a re-sent or late message). A text the automatic check stops is refused with
        every reason."""
        if self.status is not ReviewStatus.PUBLISHED:
            raise ServiceError(ErrorCode.NOT_FOUND, f"Опубликованный отзыв {self.id} не найден.")
        if problems := check_text(text, ANSWER):
            raise ServiceError(
                ErrorCode.VALIDATION_FAILED,
                "Ответ не прошёл автоматическую проверку: "
                + " ".join(problem.message for problem in problems),
                tuple(ErrorDetail(field="text", code=p.code, message=p.message) for p in problems),
            )
        if self.answer is not None and self.answer.answered_at >= at:
            return self, AnswerOutcome.UNCHANGED
        outcome = AnswerOutcome.ADDED if self.answer is None else AnswerOutcome.REPLACED
        return replace(self, answer=ClinicAnswer(text=text, answered_at=at)), outcome

    def moderation(self, now: datetime) -> ModerationItem:
        due = self.submitted_at + MODERATION_LIMIT
        left = int((due - now).total_seconds())
        return ModerationItem(review=self.view(), due_at=due, seconds_left=left, overdue=now >= due)


def new_review(
    *,
    review_id: UUID,
    record_id: UUID,
    patient_id: UUID,
    author: str,
    score: int,
    text: str,
    organization_id: UUID,
    specialist_id: UUID | None,
    specialty: str | None,
    service_name: str,
    rendered_on: date,
    now: datetime,
) -> ReviewEntity:
    check_length(text)
    problems = check_text(text)
    return ReviewEntity(
        id=review_id,
        record_id=record_id,
        patient_id=patient_id,
        author=author,
        score=score,
        text=text,
        status=ReviewStatus.FAILED_CHECK if problems else ReviewStatus.PENDING,
        problems=problems,
        organization_id=organization_id,
        specialist_id=specialist_id,
        specialty=specialty,
        service_name=service_name,
        rendered_on=rendered_on,
        submitted_at=now,
    )


@dataclass(frozen=True)
class Aggregate:
    """The published scores of one subject."""

    distribution: dict[int, int]

    @classmethod
    def of(cls, scores: Iterable[int]) -> "Aggregate":
        counts = dict.fromkeys(SCORES, 0)
        for score in scores:
            counts[score] += 1
        return cls(counts)

    @property
    def count(self) -> int:
        return sum(self.distribution.values())

    @property
    def average(self) -> float | None:
        if not self.count:
            return None
        total = sum(score * n for score, n in self.distribution.items())
        return round(total / self.count, 1)
