"""Reviews in MongoDB: one document per review (one per record), with the outbox of the
events and notifications its changes owe."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from motor.motor_asyncio import AsyncIOMotorCollection, AsyncIOMotorDatabase
from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.feedback.ratings import RatedSubject
from gosmed.contracts.feedback.reviews import CheckProblem, ClinicAnswer, ReviewStatus
from gosmed.feedback.domain import ReviewEntity
from gosmed.runtime.outbox import Outbox, OutboxEntry, outbox_of, push

Document = dict[str, Any]
SUBJECT_FIELD = {
    RatedSubject.SPECIALIST: "specialist_id",
    RatedSubject.ORGANIZATION: "organization_id",
}
ALREADY_WRITTEN = "Отзыв на эту услугу уже написан; его можно изменить или отозвать."
CHANGED_MEANWHILE = "Отзыв изменился одновременно с этим действием; повторите его."


@dataclass(frozen=True)
class PublicFilter:
    organization_id: UUID | None = None
    specialist_id: UUID | None = None
    specialty: str | None = None
    score: int | None = None
    date_from: date | None = None
    date_to: date | None = None


def _store(review: ReviewEntity) -> Document:
    return {
        "_id": str(review.id),
        "record_id": str(review.record_id),
        "patient_id": str(review.patient_id),
        "author": review.author,
        "score": review.score,
        "text": review.text,
        "status": review.status.value,
        "problems": [p.model_dump() for p in review.problems],
        "organization_id": str(review.organization_id),
        "specialist_id": str(review.specialist_id) if review.specialist_id else None,
        "specialty": review.specialty,
        "service_name": review.service_name,
        "rendered_on": review.rendered_on.isoformat(),
        "submitted_at": review.submitted_at,
        "published_at": review.published_at,
        "rejection_reason": review.rejection_reason,
        "answer": review.answer.model_dump() if review.answer else None,
    }


def _load(document: Mapping[str, Any]) -> ReviewEntity:
    return ReviewEntity(
        id=UUID(document["_id"]),
        record_id=UUID(document["record_id"]),
        patient_id=UUID(document["patient_id"]),
        author=document["author"],
        score=document["score"],
        text=document["text"],
        status=ReviewStatus(document["status"]),
        problems=tuple(CheckProblem.model_validate(p) for p in document["problems"]),
        organization_id=UUID(document["organization_id"]),
        specialist_id=UUID(document["specialist_id"]) if document["specialist_id"] else None,
        specialty=document.get("specialty"),
        service_name=document["service_name"],
        rendered_on=date.fromisoformat(document["rendered_on"]),
        submitted_at=document["submitted_at"],
        published_at=document.get("published_at"),
        rejection_reason=document.get("rejection_reason"),
        answer=ClinicAnswer.model_validate(document["answer"]) if document.get("answer") else None,
    )


@dataclass(frozen=True)
class Stored:
    review: ReviewEntity
    revision: int


class ReviewsRepository:
    def __init__(self, database: AsyncIOMotorDatabase[Document]) -> None:
        self._collection: AsyncIOMotorCollection[Document] = database["reviews"]
        self.outbox = Outbox(self._collection)

    async def ensure_indexes(self) -> None:
        await self._collection.create_index("record_id", unique=True)
        await self._collection.create_index([("status", ASCENDING), ("submitted_at", ASCENDING)])
        await self._collection.create_index(
            [("status", ASCENDING), ("published_at", DESCENDING), ("_id", DESCENDING)]
        )
        await self._collection.create_index([("organization_id", ASCENDING), ("status", ASCENDING)])
        await self._collection.create_index([("specialist_id", ASCENDING), ("status", ASCENDING)])

    async def by_record(self, record_id: UUID) -> Stored | None:
        document = await self._collection.find_one({"record_id": str(record_id)})
        return None if document is None else Stored(_load(document), document["revision"])

    async def get(self, review_id: UUID) -> Stored | None:
        document = await self._collection.find_one({"_id": str(review_id)})
        return None if document is None else Stored(_load(document), document["revision"])

    async def insert(self, review: ReviewEntity, *entries: OutboxEntry) -> None:
        try:
            await self._collection.insert_one(
                {**_store(review), "revision": 1, **outbox_of(*entries)}
            )
        except DuplicateKeyError:
            raise ServiceError(ErrorCode.CONFLICT, ALREADY_WRITTEN) from None

    async def replace(self, review: ReviewEntity, revision: int, *entries: OutboxEntry) -> None:
        """Store the changed review and what it owes, if nobody changed it since it was read."""
        fields = _store(review)
        del fields["_id"]
        update: Document = {"$set": fields, "$inc": {"revision": 1}}
        if entries:
            update |= push(*entries)
        written = await self._collection.update_one(
            {"_id": str(review.id), "revision": revision}, update
        )
        if written.matched_count == 0:
            raise ServiceError(ErrorCode.CONFLICT, CHANGED_MEANWHILE)

    async def published_scores(self, subject: RatedSubject, subject_id: UUID) -> list[int]:
        found = self._collection.find(
            {SUBJECT_FIELD[subject]: str(subject_id), "status": ReviewStatus.PUBLISHED.value},
            {"score": 1},
        )
        return [document["score"] async for document in found]

    async def oldest(self, status: ReviewStatus, limit: int) -> list[ReviewEntity]:
        found = (
            self._collection.find({"status": status.value})
            .sort([("submitted_at", ASCENDING), ("_id", ASCENDING)])
            .limit(limit)
        )
        return [_load(document) async for document in found]

    async def count(self, status: ReviewStatus, submitted_before: datetime | None = None) -> int:
        query: Document = {"status": status.value}
        if submitted_before is not None:
            query["submitted_at"] = {"$lte": submitted_before}
        return await self._collection.count_documents(query)

    async def published_page(
        self, where: PublicFilter, after: tuple[datetime, str] | None, limit: int
    ) -> list[ReviewEntity]:
        query: Document = {"status": ReviewStatus.PUBLISHED.value}
        if where.organization_id:
            query["organization_id"] = str(where.organization_id)
        if where.specialist_id:
            query["specialist_id"] = str(where.specialist_id)
        if where.specialty:
            query["specialty"] = where.specialty
        if where.score:
            query["score"] = where.score
        rendered: Document = {}
        if where.date_from:
            rendered["$gte"] = where.date_from.isoformat()
        if where.date_to:
            rendered["$lte"] = where.date_to.isoformat()
        if rendered:
            query["rendered_on"] = rendered
        if after is not None:
            published_at, review_id = after
            query["$or"] = [
                {"published_at": {"$lt": published_at}},
                {"published_at": published_at, "_id": {"$lt": review_id}},
            ]
        found = (
            self._collection.find(query)
            .sort([("published_at", DESCENDING), ("_id", DESCENDING)])
            .limit(limit)
        )
        return [_load(document) async for document in found]

    async def owe(self, review_id: UUID, *entries: OutboxEntry) -> None:
        """Add messages to a review's outbox (demo seeding)."""
        await self._collection.update_one({"_id": str(review_id)}, push(*entries))

    async def seed(self, reviews: Iterable[ReviewEntity]) -> int:
        """Insert the reviews not stored yet (demo data); how many were new."""
        added = 0
        for review in reviews:
            try:
                await self._collection.insert_one({**_store(review), "revision": 1})
            except DuplicateKeyError:
                continue
            added += 1
        return added
