"""Mongo mapping of support requests, their yearly number sequences and the outbox of the
answers' notices."""

from datetime import datetime
from typing import Any
from uuid import UUID

from pymongo import ASCENDING, ReturnDocument

from gosmed.contracts.identity.support import SupportRequestStatus, SupportTopic
from gosmed.identity.support_rules import SupportRequest
from gosmed.runtime.outbox import Outbox, OutboxEntry, push

Document = dict[str, Any]


def _request(doc: Document) -> SupportRequest:
    return SupportRequest(
        id=UUID(doc["_id"]),
        number=doc["number"],
        topic=SupportTopic(doc["topic"]),
        full_name=doc["full_name"],
        snils=doc["snils"],
        inn=doc["inn"],
        oms_policy=doc["oms_policy"],
        text=doc["text"],
        account_id=UUID(doc["account_id"]) if doc["account_id"] else None,
        created_at=doc["created_at"],
        status=SupportRequestStatus(doc["status"]),
        answer=doc.get("answer"),
        answered_at=doc.get("answered_at"),
    )


class SupportRepository:
    """Requests by id (the filing's message id: a repeated filing stores one), listed by
    status oldest first; one counter document per year numbers them."""

    def __init__(self, database: Any) -> None:
        self.requests = database["support_requests"]
        self.counters = database["support_counters"]
        self.outbox = Outbox(self.requests)

    async def ensure_indexes(self) -> None:
        await self.requests.create_index(
            [("status", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)]
        )

    async def next_sequence(self, year: int) -> int:
        """The year's next number, atomically (one upserting increment, safe on a real
        MongoDB with any number of replicas)."""
        counter = await self.counters.find_one_and_update(
            {"_id": f"support-requests-{year}"},
            {"$inc": {"value": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        value: int = counter["value"]
        return value

    async def get(self, request_id: UUID) -> SupportRequest | None:
        found = await self.requests.find_one({"_id": str(request_id)})
        return _request(found) if found else None

    async def add(self, request: SupportRequest) -> bool:
        """Store a new request; False when one with its id exists already."""
        result = await self.requests.update_one(
            {"_id": str(request.id)},
            {
                "$setOnInsert": {
                    "number": request.number,
                    "topic": request.topic.value,
                    "full_name": request.full_name,
                    "snils": request.snils,
                    "inn": request.inn,
                    "oms_policy": request.oms_policy,
                    "text": request.text,
                    "account_id": str(request.account_id) if request.account_id else None,
                    "created_at": request.created_at,
                    "status": request.status.value,
                }
            },
            upsert=True,
        )
        return result.upserted_id is not None

    async def page(
        self, status: SupportRequestStatus, limit: int, after: tuple[str, ...] | None = None
    ) -> list[SupportRequest]:
        """Requests of `status`, oldest first (then by id), after the page that ended at
        `after` (its creation time and id)."""
        query: Document = {"status": status.value}
        if after is not None:
            created, ident = datetime.fromisoformat(after[0]), after[1]
            query["$or"] = [
                {"created_at": {"$gt": created}},
                {"created_at": created, "_id": {"$gt": ident}},
            ]
        found = self.requests.find(query).sort([("created_at", 1), ("_id", 1)]).limit(limit)
        return [_request(doc) async for doc in found]

    async def answer(
        self, request_id: UUID, text: str, now: datetime, *entries: OutboxEntry
    ) -> SupportRequest | None:
        """Mark an open request answered, with the messages it owes in the same write; None
        when it is not open (unknown or answered already)."""
        update: Document = {
            "$set": {
                "status": SupportRequestStatus.ANSWERED.value,
                "answer": text,
                "answered_at": now,
            }
        }
        if entries:
            update |= push(*entries)
        found = await self.requests.find_one_and_update(
            {"_id": str(request_id), "status": SupportRequestStatus.OPEN.value},
            update,
            return_document=ReturnDocument.AFTER,
        )
        return _request(found) if found else None
