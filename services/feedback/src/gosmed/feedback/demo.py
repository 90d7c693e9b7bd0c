"""Published reviews of the registry's demo clinics, so ratings are not empty after
`make run`. Seeded at start when `GOSMED_DEMO_DATA=1`; seeding twice changes nothing."""

import logging
import random
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid5

from gosmed.contracts.feedback.ratings import RATING_CHANGED, RatedSubject, RatingChanged
from gosmed.contracts.feedback.reviews import ReviewStatus
from gosmed.feedback.domain import Aggregate, ReviewEntity
from gosmed.feedback.repository import ReviewsRepository
from gosmed.runtime.outbox import OutboxEntry

log = logging.getLogger(__name__)
DEMO_NAMESPACE = UUID("0b6f3c1e-9a52-4d7e-8c41-5e2f7a9d1c30")
PUBLISHED = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
AUTHORS = ("Мария К.", "Алексей С.", "Ольга П.", "Дмитрий В.", "Наталья М.", "Игорь Л.")
TEXTS = {
    5: "Врач внимательный, всё подробно объяснил, приём начался вовремя.",
    4: "Хороший специалист, но пришлось подождать в очереди около получаса.",
    3: "Приём прошёл нормально, хотелось бы больше времени на вопросы.",
    2: "Долго ждали приёма, рекомендации дали очень кратко.",
    1: "Приём перенесли без предупреждения, пришлось приходить ещё раз.",
}
SCORES = (5, 5, 5, 4, 4, 3, 2, 1)


def demo_reviews() -> list[ReviewEntity]:
    """A few reviews of up to three doctors of each Moscow demo clinic (deterministic)."""
    from gosmed.contracts.registry.specialties import SPECIALIST_TITLES
    from gosmed.registry import demo  # the registry's deterministic demo data set

    rng = random.Random(20260115)  # noqa: S311 (demo data, not secrets)
    clinics = [o for o in demo.organizations() if o.address.region_code == "77"]
    staff = demo.specialists()
    reviews = []
    for clinic in clinics:
        doctors = [s for s in staff if s.organization_id == clinic.id][:3]
        for doctor in doctors:
            for index in range(rng.randint(2, 4)):
                score = rng.choice(SCORES)
                key = f"{doctor.id}/{index}"
                when = PUBLISHED - timedelta(days=rng.randint(1, 90))
                reviews.append(
                    ReviewEntity(
                        id=uuid5(DEMO_NAMESPACE, f"review/{key}"),
                        record_id=uuid5(DEMO_NAMESPACE, f"record/{key}"),
                        patient_id=uuid5(DEMO_NAMESPACE, f"patient/{key}"),
                        author=rng.choice(AUTHORS),
                        score=score,
                        text=TEXTS[score],
                        status=ReviewStatus.PUBLISHED,
                        problems=(),
                        organization_id=clinic.id,
                        specialist_id=doctor.id,
                        specialty=doctor.specialty.value,
                        service_name=f"Приём ({SPECIALIST_TITLES[doctor.specialty]})",
                        rendered_on=date(when.year, when.month, when.day),
                        submitted_at=when + timedelta(hours=1),
                        published_at=when + timedelta(hours=5),
                    )
                )
    return reviews


def rating_events(reviews: list[ReviewEntity], as_of: datetime) -> list[OutboxEntry]:
    scores: dict[tuple[RatedSubject, UUID], list[int]] = {}
    for review in reviews:
        scores.setdefault((RatedSubject.ORGANIZATION, review.organization_id), []).append(
            review.score
        )
        if review.specialist_id is not None:
            scores.setdefault((RatedSubject.SPECIALIST, review.specialist_id), []).append(
                review.score
            )
    entries = []
    for (subject, subject_id), given in scores.items():
        aggregate = Aggregate.of(given)
        event = RatingChanged(
            subject=subject,
            subject_id=subject_id,
            average=aggregate.average,
            reviews_count=aggregate.count,
            as_of=as_of,
        )
        entries.append(OutboxEntry.event(RATING_CHANGED, event))
    return entries


async def seed(repository: ReviewsRepository, now: datetime) -> UUID | None:
    """Store the demo reviews not stored yet and, when any were new, the ratings they make
    (in the outbox of the first); the review owing the events, to flush."""
    try:
        reviews = demo_reviews()
    except ImportError:  # an image without the registry's demo data set
        log.warning("no demo reviews: the registry's demo data set is not installed")
        return None
    if not await repository.seed(reviews):
        return None
    await repository.owe(reviews[0].id, *rating_events(reviews, now))
    log.info("seeded %d demo reviews", len(reviews))
    return reviews[0].id
