"""MongoDB mapping of the registry's aggregates, with versioned (newest wins) writes.

Every card is stored with its `updated_at` at the top level: a write applies only where the
stored version is older (one conditional update, no read-then-write), so redeliveries and
out-of-order updates change nothing. `pending_event_id` is the outbox: the message id of the
event a change owes, written together with the change and cleared once the event is out.
"""

import re
import uuid
from collections.abc import AsyncGenerator, Iterable, Mapping
from datetime import date, datetime
from typing import Any
from uuid import UUID

from motor.motor_asyncio import (
    AsyncIOMotorCollection,
    AsyncIOMotorCursor,
    AsyncIOMotorDatabase,
)
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import BulkWriteError, DuplicateKeyError

from gosmed.contracts.registry.catalog import MedicalService, ServiceCategory
from gosmed.contracts.registry.organizations import OrganizationCard
from gosmed.contracts.registry.specialists import SpecialistCard, SpecialistProfile
from gosmed.contracts.registry.specialties import Specialty
from gosmed.contracts.registry.tariffs import Tariff
from gosmed.registry.domain import city_key, index_terms

Document = dict[str, Any]
OPEN_ENDED = "9999-12-31"


async def _write_if_newer(
    collection: AsyncIOMotorCollection[Document], key: str, updated_at: datetime, fields: Document
) -> Document | None:
    """Store `fields` under `key` unless a version as new or newer is stored; the stored
    document if written, None if not."""
    update = {"$set": {**fields, "updated_at": updated_at}}
    newer = {"_id": key, "updated_at": {"$lt": updated_at}}
    after = ReturnDocument.AFTER
    try:
        written: Document | None = await collection.find_one_and_update(
            newer, update, upsert=True, return_document=after
        )
    except DuplicateKeyError:
        # The key exists with a version as new or newer, or a concurrent first write won
        # the insert: only an update of an older version may still apply.
        written = await collection.find_one_and_update(newer, update, return_document=after)
    return written


async def _seed(collection: AsyncIOMotorCollection[Document], documents: list[Document]) -> None:
    """Insert documents whose keys are not stored yet (seeding is repeatable)."""
    try:
        await collection.insert_many(documents, ordered=False)
    except BulkWriteError as error:
        if any(e.get("code") != 11000 for e in error.details.get("writeErrors", [])):
            raise


def _owe_event() -> Document:
    return {"pending_event_id": str(uuid.uuid4())}


def _event_id(document: Mapping[str, Any]) -> UUID:
    return UUID(document["pending_event_id"])


OWES_EVENT = {"pending_event_id": {"$exists": True}}


async def _event_published(
    collection: AsyncIOMotorCollection[Document], key: str, event_id: UUID
) -> None:
    """Clear the outbox unless a later change owes a new event meanwhile."""
    await collection.update_one(
        {"_id": key, "pending_event_id": str(event_id)}, {"$unset": {"pending_event_id": ""}}
    )


def _all_of(conditions: list[Document]) -> Document:
    """A filter matching every non-empty condition (MongoDB refuses an empty `$and`)."""
    parts = [c for c in conditions if c]
    return {"$and": parts} if parts else {}


def _after(cursor: list[str] | None, sort_field: str) -> Document:
    """Documents sorted after a cursor position `[sort value, _id]`."""
    if cursor is None:
        return {}
    value, key = cursor
    return {"$or": [{sort_field: {"$gt": value}}, {sort_field: value, "_id": {"$gt": key}}]}


def _in_id_order(
    collection: AsyncIOMotorCollection[Document], after: UUID | None, limit: int
) -> AsyncIOMotorCursor[Document]:
    """Up to `limit` documents with an id after `after`, in id order (a page of a full copy)."""
    query = {} if after is None else {"_id": {"$gt": str(after)}}
    return collection.find(query).sort("_id", ASCENDING).limit(limit)


class OrganizationRepository:
    def __init__(self, database: AsyncIOMotorDatabase[Document]) -> None:
        self._collection: AsyncIOMotorCollection[Document] = database["organizations"]

    async def ensure_indexes(self) -> None:
        await self._collection.create_index([("sort_name", ASCENDING), ("_id", ASCENDING)])
        await self._collection.create_index("terms")
        await self._collection.create_index("city_key")
        await self._collection.create_index("specializations")
        await self._collection.create_index("pending_event_id", sparse=True)

    @staticmethod
    def _document(card: OrganizationCard) -> Document:
        return {
            "card": card.model_dump(mode="json"),
            "sort_name": card.short_name.lower(),
            "terms": index_terms(card.short_name, card.full_name),
            "city_key": city_key(card.address.city),
            "specializations": [s.value for s in card.specializations],
        }

    async def save_if_newer(self, card: OrganizationCard) -> UUID | None:
        """Store the card unless the stored one is as new; the id of the event the change
        owes, or None when nothing changed."""
        fields = {**self._document(card), **_owe_event()}
        written = await _write_if_newer(self._collection, str(card.id), card.updated_at, fields)
        return None if written is None else _event_id(written)

    async def seed(self, cards: Iterable[OrganizationCard]) -> None:
        await _seed(
            self._collection,
            [{"_id": str(c.id), "updated_at": c.updated_at, **self._document(c)} for c in cards],
        )

    async def get_many(self, ids: Iterable[UUID]) -> list[OrganizationCard]:
        found = self._collection.find({"_id": {"$in": [str(i) for i in ids]}})
        return [OrganizationCard.model_validate(d["card"]) async for d in found]

    async def in_id_order(self, after: UUID | None, limit: int) -> list[OrganizationCard]:
        found = _in_id_order(self._collection, after, limit)
        return [OrganizationCard.model_validate(d["card"]) async for d in found]

    async def search(
        self,
        *,
        terms: list[str],
        city: str | None,
        specialization: Specialty | None,
        after: list[str] | None,
    ) -> AsyncGenerator[tuple[OrganizationCard, list[str]], None]:
        """Matching cards in name order from `after` on, each with its cursor position."""
        conditions: list[Document] = [_after(after, "sort_name")]
        if terms:
            conditions.append({"terms": {"$all": terms}})
        if city is not None:
            conditions.append({"city_key": city_key(city)})
        if specialization is not None:
            conditions.append({"specializations": specialization.value})
        found = self._collection.find(_all_of(conditions)).sort(
            [("sort_name", ASCENDING), ("_id", ASCENDING)]
        )
        async for document in found:
            card = OrganizationCard.model_validate(document["card"])
            yield card, [document["sort_name"], document["_id"]]

    async def pending_events(
        self, card_id: UUID | None = None
    ) -> list[tuple[UUID, OrganizationCard]]:
        """Cards (all, or the one with `card_id`) whose latest change is not announced yet,
        with the event's message id."""
        query = OWES_EVENT if card_id is None else {"_id": str(card_id), **OWES_EVENT}
        found = self._collection.find(query)
        return [(_event_id(d), OrganizationCard.model_validate(d["card"])) async for d in found]

    async def event_published(self, card: OrganizationCard, event_id: UUID) -> None:
        await _event_published(self._collection, str(card.id), event_id)


class SpecialistRepository:
    def __init__(self, database: AsyncIOMotorDatabase[Document]) -> None:
        self._collection: AsyncIOMotorCollection[Document] = database["specialists"]

    async def ensure_indexes(self) -> None:
        await self._collection.create_index("pending_event_id", sparse=True)

    @staticmethod
    def _card(document: Mapping[str, Any]) -> SpecialistCard:
        return SpecialistCard.model_validate(
            {
                **document["profile"],
                "rating": document.get("rating"),
                "reviews_count": document.get("reviews_count", 0),
            }
        )

    async def save_if_newer(self, profile: SpecialistProfile) -> tuple[UUID, SpecialistCard] | None:
        """Store the profile unless the stored one is as new, leaving the rating as it is; the
        event the change owes with the card as stored, or None when nothing changed."""
        fields = {"profile": profile.model_dump(mode="json"), **_owe_event()}
        written = await _write_if_newer(
            self._collection, str(profile.id), profile.updated_at, fields
        )
        return None if written is None else (_event_id(written), self._card(written))

    async def save_rating_if_newer(
        self, specialist_id: UUID, average: float | None, reviews_count: int, as_of: datetime
    ) -> tuple[UUID, SpecialistCard] | None:
        """Store a rating unless a newer one is stored (or the specialist is unknown): the
        event the change owes with the card as stored, or None when nothing changed."""
        written: Document | None = await self._collection.find_one_and_update(
            {
                "_id": str(specialist_id),
                "$or": [{"rating_as_of": {"$lt": as_of}}, {"rating_as_of": None}],
            },
            {
                "$set": {
                    "rating": average,
                    "reviews_count": reviews_count,
                    "rating_as_of": as_of,
                    **_owe_event(),
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        return None if written is None else (_event_id(written), self._card(written))

    async def exists(self, specialist_id: UUID) -> bool:
        return await self._collection.count_documents({"_id": str(specialist_id)}, limit=1) > 0

    async def seed(self, cards: Iterable[SpecialistCard]) -> None:
        await _seed(
            self._collection,
            [
                {
                    "_id": str(c.id),
                    "updated_at": c.updated_at,
                    "profile": SpecialistProfile.model_validate(c, from_attributes=True).model_dump(
                        mode="json"
                    ),
                    "rating": c.rating,
                    "reviews_count": c.reviews_count,
                }
                for c in cards
            ],
        )

    async def get_many(self, ids: Iterable[UUID]) -> list[SpecialistCard]:
        found = self._collection.find({"_id": {"$in": [str(i) for i in ids]}})
        return [self._card(d) async for d in found]

    async def in_id_order(self, after: UUID | None, limit: int) -> list[SpecialistCard]:
        return [self._card(d) async for d in _in_id_order(self._collection, after, limit)]

    async def get(self, specialist_id: UUID) -> SpecialistCard | None:
        document = await self._collection.find_one({"_id": str(specialist_id)})
        return None if document is None else self._card(document)

    async def pending_events(
        self, card_id: UUID | None = None
    ) -> list[tuple[UUID, SpecialistCard]]:
        """Cards (all, or the one with `card_id`) whose latest change is not announced yet,
        with the event's message id."""
        query = OWES_EVENT if card_id is None else {"_id": str(card_id), **OWES_EVENT}
        return [(_event_id(d), self._card(d)) async for d in self._collection.find(query)]

    async def event_published(self, card: SpecialistCard, event_id: UUID) -> None:
        await _event_published(self._collection, str(card.id), event_id)


class NomenclatureRepository:
    def __init__(self, database: AsyncIOMotorDatabase[Document]) -> None:
        self._collection: AsyncIOMotorCollection[Document] = database["services"]

    async def ensure_indexes(self) -> None:
        await self._collection.create_index("terms")
        await self._collection.create_index([("category", ASCENDING), ("_id", ASCENDING)])

    @staticmethod
    def _document(service: MedicalService) -> Document:
        return {
            "service": service.model_dump(mode="json"),
            "terms": index_terms(service.name),
            "category": service.category.value,
        }

    async def save_if_newer(self, service: MedicalService) -> bool:
        written = await _write_if_newer(
            self._collection, service.code, service.updated_at, self._document(service)
        )
        return written is not None

    async def seed(self, services: Iterable[MedicalService]) -> None:
        await _seed(
            self._collection,
            [{"_id": s.code, "updated_at": s.updated_at, **self._document(s)} for s in services],
        )

    async def exists(self, code: str) -> bool:
        return await self._collection.count_documents({"_id": code}, limit=1) > 0

    async def search(
        self,
        *,
        terms: list[str],
        code_prefix: str | None,
        category: ServiceCategory | None,
        after: str | None,
        limit: int,
    ) -> list[MedicalService]:
        """Up to `limit` matching entries in code order after the code `after`."""
        conditions: list[Document] = [{"_id": {"$gt": after}} if after is not None else {}]
        if code_prefix is not None:
            conditions.append({"_id": {"$regex": "^" + re.escape(code_prefix)}})
        if terms:
            conditions.append({"terms": {"$all": terms}})
        if category is not None:
            conditions.append({"category": category.value})
        found = self._collection.find(_all_of(conditions)).sort("_id", ASCENDING).limit(limit)
        return [MedicalService.model_validate(d["service"]) async for d in found]


def _tariff_key(tariff: Tariff) -> str:
    scope = (
        f"region:{tariff.region_code}" if tariff.region_code else f"org:{tariff.organization_id}"
    )
    return f"{tariff.service_code}|{scope}|{tariff.effective_from.isoformat()}"


class TariffRepository:
    def __init__(self, database: AsyncIOMotorDatabase[Document]) -> None:
        self._collection: AsyncIOMotorCollection[Document] = database["tariffs"]

    async def ensure_indexes(self) -> None:
        await self._collection.create_index(
            [
                ("service_code", ASCENDING),
                ("organization_id", ASCENDING),
                ("region_code", ASCENDING),
                ("effective_from", DESCENDING),
            ]
        )

    @staticmethod
    def _document(tariff: Tariff) -> Document:
        return {
            "tariff": tariff.model_dump(mode="json"),
            "service_code": tariff.service_code,
            "organization_id": str(tariff.organization_id) if tariff.organization_id else None,
            "region_code": tariff.region_code,
            # ISO dates compare as strings; an open end sorts after every date.
            "effective_from": tariff.effective_from.isoformat(),
            "effective_to": tariff.effective_to.isoformat() if tariff.effective_to else OPEN_ENDED,
        }

    async def save_if_newer(self, tariff: Tariff) -> bool:
        written = await _write_if_newer(
            self._collection, _tariff_key(tariff), tariff.updated_at, self._document(tariff)
        )
        return written is not None

    async def seed(self, tariffs: Iterable[Tariff]) -> None:
        await _seed(
            self._collection,
            [
                {"_id": _tariff_key(t), "updated_at": t.updated_at, **self._document(t)}
                for t in tariffs
            ],
        )

    async def in_force(
        self,
        service_code: str,
        on: date,
        *,
        organization_id: UUID | None = None,
        region_code: str | None = None,
    ) -> Tariff | None:
        """The latest-starting tariff of one scope (an organization or a region) covering `on`."""
        day = on.isoformat()
        found = await self._collection.find_one(
            {
                "service_code": service_code,
                "organization_id": str(organization_id) if organization_id else None,
                "region_code": region_code,
                "effective_from": {"$lte": day},
                "effective_to": {"$gte": day},
            },
            sort=[("effective_from", DESCENDING)],
        )
        return None if found is None else Tariff.model_validate(found["tariff"])
