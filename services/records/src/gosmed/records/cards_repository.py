"""MongoDB mapping of records' copy of the registry cards a list shows.

One collection holds both kinds, keyed `organization:<id>` and `specialist:<id>`, so the cards
of a page are one lookup by primary key. `version` is the card's `updated_at` in microseconds
since the epoch (a BSON date keeps only milliseconds): a card is written only over an older
version, in one conditional update, so redeliveries and out-of-order events change nothing. A
card the registry does not know is kept as version -1 with no fields, so pages stop asking the
registry for it; any real card replaces it.
"""

from collections.abc import Collection, Iterable
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from motor.motor_asyncio import AsyncIOMotorDatabase
from pymongo.errors import DuplicateKeyError

from gosmed.contracts.registry.organizations import OrganizationCard
from gosmed.contracts.registry.specialists import SpecialistCard
from gosmed.contracts.registry.specialties import Specialty
from gosmed.records.domain import OrganizationSummary, SpecialistSummary

Document = dict[str, Any]
ORGANIZATION, SPECIALIST = "organization", "specialist"
UNKNOWN = -1
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _key(kind: str, ident: UUID) -> str:
    return f"{kind}:{ident}"


def _version(updated_at: datetime) -> int:
    return (updated_at - EPOCH) // timedelta(microseconds=1)


class CardsRepository:
    def __init__(self, database: AsyncIOMotorDatabase[Any]) -> None:
        self.cards = database["registry_cards"]

    async def find(
        self, organization_ids: Collection[UUID], specialist_ids: Collection[UUID]
    ) -> tuple[dict[UUID, OrganizationSummary | None], dict[UUID, SpecialistSummary | None]]:
        """The copies kept of these cards (None: the registry does not know the id); an id
        with no copy is left out."""
        keys = [_key(ORGANIZATION, i) for i in organization_ids]
        keys += [_key(SPECIALIST, i) for i in specialist_ids]
        organizations: dict[UUID, OrganizationSummary | None] = {}
        specialists: dict[UUID, SpecialistSummary | None] = {}
        if not keys:
            return organizations, specialists
        async for doc in self.cards.find({"_id": {"$in": keys}}):
            kind, ident = doc["_id"].split(":")
            known = doc["version"] != UNKNOWN
            if kind == ORGANIZATION:
                organizations[UUID(ident)] = (
                    OrganizationSummary(name=doc["name"], address=doc["address"]) if known else None
                )
            else:
                specialists[UUID(ident)] = (
                    SpecialistSummary(name=doc["name"], specialty=Specialty(doc["specialty"]))
                    if known
                    else None
                )
        return organizations, specialists

    async def save_organizations(self, cards: Iterable[OrganizationCard]) -> None:
        for card in cards:
            summary = OrganizationSummary.of(card)
            await self._save_if_newer(
                _key(ORGANIZATION, card.id),
                _version(card.updated_at),
                {"name": summary.name, "address": summary.address},
            )

    async def save_specialists(self, cards: Iterable[SpecialistCard]) -> None:
        for card in cards:
            summary = SpecialistSummary.of(card)
            await self._save_if_newer(
                _key(SPECIALIST, card.id),
                _version(card.updated_at),
                {"name": summary.name, "specialty": summary.specialty.value},
            )

    async def save_unknown(
        self, organization_ids: Iterable[UUID], specialist_ids: Iterable[UUID]
    ) -> None:
        """Remember ids the registry does not know, unless a card of them is kept by now."""
        keys = [_key(ORGANIZATION, i) for i in organization_ids]
        keys += [_key(SPECIALIST, i) for i in specialist_ids]
        for key in keys:
            with suppress(DuplicateKeyError):  # a concurrent write stored the id first
                await self.cards.update_one(
                    {"_id": key}, {"$setOnInsert": {"version": UNKNOWN}}, upsert=True
                )

    async def _save_if_newer(self, key: str, version: int, fields: Document) -> None:
        newer = {"_id": key, "version": {"$lt": version}}
        update = {"$set": {"version": version, **fields}}
        try:
            await self.cards.update_one(newer, update, upsert=True)
        except DuplicateKeyError:
            # The stored copy is as new or newer, or a concurrent first write won the insert:
            # only an update of an older version may still apply.
            await self.cards.update_one(newer, update)
