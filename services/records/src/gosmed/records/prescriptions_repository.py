"""Mongo mapping of prescriptions and referrals: one collection each, versioned per clinic id,
read by patient newest first."""

from enum import StrEnum
from typing import Any

from motor.motor_asyncio import AsyncIOMotorDatabase
from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from gosmed.records.domain import Position

Document = dict[str, Any]


class Stored(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


class ClinicItemsRepository:
    """Items clinics report for a patient (prescriptions or referrals), by their id."""

    def __init__(self, database: AsyncIOMotorDatabase[Any], name: str) -> None:
        self.items = database[name]

    async def ensure_indexes(self) -> None:
        await self.items.create_index([("patient_snils", ASCENDING), ("sort", DESCENDING)])

    async def put(self, ident: str, version: int, fields: Document, sort_key: str) -> Stored:
        """Store a newer version of the item `ident`; an older or the same one changes nothing
        (redelivery, duplicates)."""
        doc = {**fields, "version": version, "sort": f"{sort_key}|{ident}"}
        try:
            result = await self.items.update_one(
                {"_id": ident, "version": {"$lt": version}}, {"$set": doc}, upsert=True
            )
        except DuplicateKeyError:
            return Stored.UNCHANGED
        return Stored.CREATED if result.upserted_id is not None else Stored.UPDATED

    async def page(self, snils: str, after: Position | None, limit: int) -> list[Document]:
        query: Document = {"patient_snils": snils}
        if after is not None:
            query["sort"] = {"$lt": after.value}
        cursor = self.items.find(query).sort("sort", DESCENDING).limit(limit)
        return [{**doc, "id": doc["_id"]} async for doc in cursor]
