"""Demo reviews: published, for the demo clinics, seeded once, with their ratings announced."""

import uuid

from gosmed.contracts.feedback.ratings import RATING_CHANGED, RatedSubject, RatingChanged
from gosmed.contracts.feedback.reviews import ReviewStatus
from gosmed.feedback import demo
from gosmed.feedback.repository import ReviewsRepository
from gosmed.runtime.store import open_store


async def test_demo_reviews_are_published_seeded_once_and_announce_ratings() -> None:
    store = open_store(None, f"feedback_{uuid.uuid4().hex[:8]}")
    repository = ReviewsRepository(store.database)
    await repository.ensure_indexes()
    reviews = demo.demo_reviews()
    assert reviews
    assert all(r.status is ReviewStatus.PUBLISHED for r in reviews)

    owing = await demo.seed(repository, demo.PUBLISHED)
    assert owing is not None
    assert await demo.seed(repository, demo.PUBLISHED) is None  # nothing new the second time

    [owed] = await repository.outbox.pending()
    events = [RatingChanged.model_validate_json(e.body) for e in owed.entries]
    assert {e.routing_key for e in owed.entries} == {RATING_CHANGED}
    organizations = {r.organization_id for r in reviews}
    assert {e.subject_id for e in events if e.subject is RatedSubject.ORGANIZATION} == organizations
    first = reviews[0].organization_id
    scores = await repository.published_scores(RatedSubject.ORGANIZATION, first)
    [event] = [e for e in events if e.subject_id == first]
    assert event.reviews_count == len(scores) > 0
