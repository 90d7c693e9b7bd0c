"""MongoDB mapping of correction requests. A request is inserted with its CorrectionRequested
for the clinic in its outbox, and an answer is written with the patient's notice in the same
update (`gosmed.runtime.outbox`). At most one open request per record: `open_record` is set
only while a request is open, under a unique sparse index."""

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from motor.motor_asyncio import AsyncIOMotorDatabase
from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.records.corrections import (
    OPEN_STATUSES,
    ChangeView,
    CorrectionAttachment,
    CorrectionStatus,
)
from gosmed.records.correction_rules import Correction, CorrectionFigures, answer_figures
from gosmed.runtime.outbox import Outbox, OutboxEntry, outbox_of, push

Document = dict[str, Any]
ALREADY_OPEN = "По этой записи уже есть заявление об исправлении, которое рассматривается."


class CorrectionsRepository:
    def __init__(self, database: AsyncIOMotorDatabase[Any]) -> None:
        self.corrections = database["corrections"]
        self.outbox = Outbox(self.corrections)  # CorrectionRequested, the patient's notices

    async def ensure_indexes(self) -> None:
        await self.corrections.create_index("open_record", unique=True, sparse=True)
        await self.corrections.create_index(
            [("patient_snils", ASCENDING), ("filed_at", DESCENDING)]
        )
        await self.corrections.create_index([("record_id", ASCENDING)])
        await self.corrections.create_index([("organization_id", ASCENDING)])
        await self.corrections.create_index(
            [("due_on", ASCENDING), ("_id", ASCENDING)],
            partialFilterExpression={"open_record": {"$exists": True}},
        )
        await self.outbox.ensure_index()

    async def insert(self, correction: Correction, *entries: OutboxEntry) -> None:
        """Store a new open request with what it owes; CONFLICT when the record has one open."""
        try:
            await self.corrections.insert_one(
                {**_document(correction), "open_record": str(correction.record_id)}
                | outbox_of(*entries)
            )
        except DuplicateKeyError:
            raise ServiceError(ErrorCode.CONFLICT, ALREADY_OPEN) from None

    async def open_of(self, record_id: UUID) -> Correction | None:
        found = await self.corrections.find_one({"open_record": str(record_id)})
        return _correction(found) if found else None

    async def get(self, ident: UUID) -> Correction | None:
        found = await self.corrections.find_one({"_id": str(ident)})
        return _correction(found) if found else None

    async def of_patient(self, patient_snils: str) -> list[Correction]:
        found = self.corrections.find({"patient_snils": patient_snils}).sort("filed_at", -1)
        return [_correction(doc) async for doc in found]

    async def of_record(self, record_id: UUID) -> list[Correction]:
        found = self.corrections.find({"record_id": str(record_id)}).sort("filed_at", -1)
        return [_correction(doc) async for doc in found]

    async def open_ones(
        self,
        due_before: date | None,
        organization_id: UUID | None,
        limit: int,
        after: tuple[str, ...] | None = None,
    ) -> list[Correction]:
        """Open requests (due before `due_before` when given: overdue), the oldest due first
        (then by id), after the page that ended at `after` (its due day and id)."""
        query: Document = {"open_record": {"$exists": True}}
        if due_before is not None:
            query["due_on"] = {"$lt": due_before.isoformat()}
        if organization_id is not None:
            query["organization_id"] = str(organization_id)
        if after is not None:
            due, ident = after
            query["$or"] = [{"due_on": {"$gt": due}}, {"due_on": due, "_id": {"$gt": ident}}]
        found = self.corrections.find(query).sort([("due_on", 1), ("_id", 1)]).limit(limit)
        return [_correction(doc) async for doc in found]

    async def escalate(
        self, due_before: date, now: datetime, notice: Callable[[Correction], OutboxEntry]
    ) -> list[str]:
        """Mark each open request due before `due_before` and not yet escalated, with its
        `notice` in the same write; the keys of those marked."""
        query: Document = {
            "open_record": {"$exists": True},
            "due_on": {"$lt": due_before.isoformat()},
            "escalated_at": None,
        }
        marked = []
        async for doc in self.corrections.find(query):
            correction = _correction(doc)
            done = await self.corrections.update_one(
                {"_id": doc["_id"], "escalated_at": None, "open_record": {"$exists": True}},
                {"$set": {"escalated_at": now}} | push(notice(correction)),
            )
            if done.modified_count:
                marked.append(doc["_id"])
        return marked

    async def figures(self, organization_id: UUID, today: date) -> CorrectionFigures:
        """A clinic's requests counted by the store (overdue: open and due before `today`)."""
        open_ = {"$in": ["$status", [s.value for s in OPEN_STATUSES]]}
        pipeline: list[Document] = [
            {"$match": {"organization_id": str(organization_id)}},
            {
                "$group": {
                    "_id": None,
                    "requests": {"$sum": 1},
                    "open": _count(open_),
                    **{
                        status.value: _count({"$eq": ["$status", status.value]})
                        for status in (
                            CorrectionStatus.ACCEPTED,
                            CorrectionStatus.REJECTED,
                            CorrectionStatus.WITHDRAWN,
                        )
                    },
                    "overdue": _count({"$and": [open_, {"$lt": ["$due_on", today.isoformat()]}]}),
                    "answered_late": _count({"$eq": ["$answered_late", True]}),
                    "answer_days": {"$push": "$answer_days"},
                }
            },
        ]
        async for found in self.corrections.aggregate(pipeline):
            days = tuple(d for d in found.pop("answer_days") if isinstance(d, int))
            del found["_id"]
            return CorrectionFigures(**found, answer_days=days)
        return CorrectionFigures()

    async def sent(self, ident: UUID) -> None:
        """The clinic's queue took the request (filed → sent; nothing if answered already)."""
        await self.corrections.update_one(
            {"_id": str(ident), "status": CorrectionStatus.FILED.value},
            {"$set": {"status": CorrectionStatus.SENT.value}},
        )

    async def close(self, was: Correction, now: Correction, *entries: OutboxEntry) -> bool:
        """Write the closed request (and what it owes) if it is still as `was` found it;
        False when another answer or a withdrawal came first."""
        update: Document = {
            "$set": {
                "status": now.status.value,
                "answered_at": now.answered_at,
                "reason": now.reason,
            },
            "$unset": {"open_record": ""},
        }
        if (figures := answer_figures(now)) is not None:
            update["$set"] |= dict(zip(("answer_days", "answered_late"), figures, strict=True))
        if entries:
            update |= push(*entries)
        done = await self.corrections.update_one(
            {
                "_id": str(was.id),
                "status": {"$in": [CorrectionStatus.FILED, CorrectionStatus.SENT]},
            },
            update,
        )
        return done.modified_count == 1


def _count(condition: Document) -> Document:
    return {"$sum": {"$cond": [condition, 1, 0]}}


def _document(c: Correction) -> Document:
    return {
        "_id": str(c.id),
        "number": c.number,
        "record_id": str(c.record_id),
        "organization_id": str(c.organization_id),
        "patient_snils": c.patient_snils,
        "status": c.status.value,
        "changes": [change.model_dump(mode="json") for change in c.changes],
        "comment": c.comment,
        "filed_at": c.filed_at,
        "due_on": c.due_on.isoformat(),
        "answered_at": c.answered_at,
        "reason": c.reason,
        "escalated_at": c.escalated_at,
        "attachments": [a.model_dump(mode="json") for a in c.attachments],
    }


def _correction(doc: Document) -> Correction:
    return Correction(
        id=UUID(doc["_id"]),
        number=doc["number"],
        record_id=UUID(doc["record_id"]),
        organization_id=UUID(doc["organization_id"]),
        patient_snils=doc["patient_snils"],
        status=CorrectionStatus(doc["status"]),
        changes=tuple(ChangeView.model_validate(c) for c in doc["changes"]),
        comment=doc.get("comment"),
        filed_at=_aware(doc["filed_at"]),
        due_on=date.fromisoformat(doc["due_on"]),
        answered_at=_aware(doc["answered_at"]) if doc.get("answered_at") else None,
        reason=doc.get("reason"),
        escalated_at=_aware(doc["escalated_at"]) if doc.get("escalated_at") else None,
        attachments=tuple(
            CorrectionAttachment.model_validate(a) for a in doc.get("attachments", ())
        ),
    )


def _aware(moment: datetime) -> datetime:
    """A naive datetime from a store not opened tz-aware is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
