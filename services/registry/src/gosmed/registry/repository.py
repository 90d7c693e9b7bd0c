"""MongoDB mapping of the registry's aggregates, with versioned (newest wins) writes.

Every card is stored with its `updated_at` at the top level: a write applies only where the
stored version is older, so redeliveries and out-of-order updates change nothing. A change of an
organization or a specialist is written together with the event that announces it, in the
document's outbox (`gosmed.runtime.outbox`). Most writes are one conditional update; a
specialist's is a read, then a write if the document is unchanged (see `SpecialistRepository`).
"""

import re
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
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt

from gosmed.contracts.registry.catalog import MedicalService, ServiceCategory
from gosmed.contracts.registry.organizations import (
    ORGANIZATION_UPDATED,
    OrganizationCard,
    OrganizationUpdated,
)
from gosmed.contracts.registry.specialists import (
    SPECIALIST_UPDATED,
    SpecialistCard,
    SpecialistProfile,
    SpecialistUpdated,
)
from gosmed.contracts.registry.specialties import Specialty
from gosmed.contracts.registry.tariffs import Tariff
from gosmed.registry.domain import city_key, index_terms
from gosmed.runtime.outbox import Outbox, OutboxEntry, outbox_of, push

Document = dict[str, Any]
OPEN_ENDED = "9999-12-31"


async def _write_if_newer(
    collection: AsyncIOMotorCollection[Document],
    key: str,
    updated_at: datetime,
    fields: Document,
    *owed: OutboxEntry,
) -> bool:
    """Store `fields` (and the messages `owed`) under `key` unless a version as new or newer
    is stored; whether it was written."""
    update = {"$set": {**fields, "updated_at": updated_at}, **(push(*owed) if owed else {})}
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
    return written is not None


async def _seed(collection: AsyncIOMotorCollection[Document], documents: list[Document]) -> None:
    """Insert documents whose keys are not stored yet (seeding is repeatable)."""
    try:
        await collection.insert_many(documents, ordered=False)
    except BulkWriteError as error:
        if any(e.get("code") != 11000 for e in error.details.get("writeErrors", [])):
            raise


def _stored_time(moment: datetime) -> datetime:
    """`moment` as the store keeps it (BSON dates have milliseconds)."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class _ChangedError(Exception):
    """The document changed between reading it and writing to it."""


def _while_changed() -> AsyncRetrying:
    return AsyncRetrying(
        retry=retry_if_exception_type(_ChangedError), stop=stop_after_attempt(10), reraise=True
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


RATING_FIELDS = {"rating", "reviews_count"}


def _organization(document: Mapping[str, Any]) -> OrganizationCard:
    """The clinic's card with the rating feedback announced."""
    return OrganizationCard.model_validate(
        {
            **document["card"],
            "rating": document.get("rating"),
            "reviews_count": document.get("reviews_count", 0),
        }
    )


class OrganizationRepository:
    def __init__(self, database: AsyncIOMotorDatabase[Document]) -> None:
        self._collection: AsyncIOMotorCollection[Document] = database["organizations"]
        self.outbox = Outbox(self._collection)

    async def ensure_indexes(self) -> None:
        await self._collection.create_index([("sort_name", ASCENDING), ("_id", ASCENDING)])
        await self._collection.create_index("terms")
        await self._collection.create_index("city_key")
        await self._collection.create_index("specializations")

    @staticmethod
    def _document(card: OrganizationCard) -> Document:
        return {
            "card": card.model_dump(mode="json", exclude=RATING_FIELDS),
            "sort_name": card.short_name.lower(),
            "terms": index_terms(card.short_name, card.full_name),
            "city_key": city_key(card.address.city),
            "specializations": [s.value for s in card.specializations],
        }

    async def save_if_newer(self, card: OrganizationCard) -> bool:
        """Store the card unless the stored one is as new, with the event announcing it;
        whether it was stored."""
        event = OrganizationUpdated(organization=card)
        return await _write_if_newer(
            self._collection,
            str(card.id),
            card.updated_at,
            self._document(card),
            OutboxEntry.event(ORGANIZATION_UPDATED, event),
        )

    async def seed(self, cards: Iterable[OrganizationCard]) -> None:
        await _seed(
            self._collection,
            [{"_id": str(c.id), "updated_at": c.updated_at, **self._document(c)} for c in cards],
        )

    async def save_rating_if_newer(
        self, organization_id: UUID, average: float | None, reviews_count: int, as_of: datetime
    ) -> bool:
        """Store a rating unless a newer one is stored or the organization is unknown;
        whether it was stored."""
        written = await self._collection.update_one(
            {
                "_id": str(organization_id),
                "$or": [
                    {"rating_as_of": {"$exists": False}},
                    {"rating_as_of": {"$lt": _stored_time(as_of)}},
                ],
            },
            {"$set": {"rating": average, "reviews_count": reviews_count, "rating_as_of": as_of}},
        )
        return written.matched_count > 0

    async def exists(self, organization_id: UUID) -> bool:
        return await self._collection.count_documents({"_id": str(organization_id)}, limit=1) > 0

    async def get_many(self, ids: Iterable[UUID]) -> list[OrganizationCard]:
        found = self._collection.find({"_id": {"$in": [str(i) for i in ids]}})
        return [_organization(d) async for d in found]

    async def in_id_order(self, after: UUID | None, limit: int) -> list[OrganizationCard]:
        found = _in_id_order(self._collection, after, limit)
        return [_organization(d) async for d in found]

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
            card = _organization(document)
            yield card, [document["sort_name"], document["_id"]]


class SpecialistRepository:
    """A specialist's profile (from clinics) and rating (from feedback) change apart, and each
    change announces the whole card: a write reads the document, then stores the change and
    its event only if the document is still as read (its `revision`), else reads again."""

    def __init__(self, database: AsyncIOMotorDatabase[Document]) -> None:
        self._collection: AsyncIOMotorCollection[Document] = database["specialists"]
        self.outbox = Outbox(self._collection)

    @staticmethod
    def _card(document: Mapping[str, Any]) -> SpecialistCard:
        return SpecialistCard.model_validate(
            {
                **document["profile"],
                "rating": document.get("rating"),
                "reviews_count": document.get("reviews_count", 0),
            }
        )

    async def save_if_newer(self, profile: SpecialistProfile) -> bool:
        """Store the profile unless the stored one is as new, leaving the rating as it is;
        whether it was stored."""
        saved: bool = await _while_changed()(self._save_profile, profile)
        return saved

    async def _save_profile(self, profile: SpecialistProfile) -> bool:
        stored = await self._collection.find_one({"_id": str(profile.id)})
        if stored is not None and stored["updated_at"] >= _stored_time(profile.updated_at):
            return False
        fields = {"profile": profile.model_dump(mode="json"), "updated_at": profile.updated_at}
        await self._change(str(profile.id), stored, fields)
        return True

    async def save_rating_if_newer(
        self, specialist_id: UUID, average: float | None, reviews_count: int, as_of: datetime
    ) -> bool:
        """Store a rating unless a newer one is stored or the specialist is unknown; whether
        it was stored."""
        saved: bool = await _while_changed()(
            self._save_rating, specialist_id, average, reviews_count, as_of
        )
        return saved

    async def _save_rating(
        self, specialist_id: UUID, average: float | None, reviews_count: int, as_of: datetime
    ) -> bool:
        stored = await self._collection.find_one({"_id": str(specialist_id)})
        if stored is None:
            return False
        rated = stored.get("rating_as_of")
        if rated is not None and rated >= _stored_time(as_of):
            return False
        fields = {"rating": average, "reviews_count": reviews_count, "rating_as_of": as_of}
        await self._change(str(specialist_id), stored, fields)
        return True

    async def _change(self, key: str, stored: Document | None, fields: Document) -> None:
        """Write `fields` and the event announcing the card they make, if the document is
        still as `stored` (None: not there yet); `_ChangedError` otherwise."""
        card = self._card({**(stored or {}), **fields})
        event = OutboxEntry.event(SPECIALIST_UPDATED, SpecialistUpdated(specialist=card))
        if stored is None:
            try:
                await self._collection.insert_one(
                    {"_id": key, **fields, "revision": 1, **outbox_of(event)}
                )
            except DuplicateKeyError:
                raise _ChangedError from None
            return
        written = await self._collection.update_one(
            {"_id": key, "revision": stored.get("revision")},
            {"$set": fields, "$inc": {"revision": 1}, **push(event)},
        )
        if written.matched_count == 0:
            raise _ChangedError

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
        return await _write_if_newer(
            self._collection, service.code, service.updated_at, self._document(service)
        )

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
        return await _write_if_newer(
            self._collection, _tariff_key(tariff), tariff.updated_at, self._document(tariff)
        )

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
