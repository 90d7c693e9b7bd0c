"""MongoDB mapping of records, their versions, consents, clinic syncs and the access journal."""

from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from motor.motor_asyncio import AsyncIOMotorDatabase
from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from gosmed.contracts.access import LegalBasis
from gosmed.contracts.records.details import RecordVersionView
from gosmed.contracts.records.intake import ReportedService
from gosmed.contracts.records.journal import AccessLogEntry
from gosmed.contracts.records.views import RenderedServiceView
from gosmed.contracts.registry.catalog import ServiceCategory
from gosmed.contracts.types import DateRange
from gosmed.records.domain import (
    ClinicSync,
    DataConsent,
    Position,
    is_restricted,
    record_id,
    search_text,
)

Document = dict[str, Any]
# `position` is "<rendered_on>|<id>": one key orders newest first and is the page cursor.
NEWEST_FIRST = ("position", DESCENDING)


@dataclass(frozen=True)
class RecordFilter:
    """Which of a patient's records a reader gets; empty sets mean «any»."""

    patient_snils: str
    organization_ids: frozenset[UUID] | None = None
    categories: frozenset[ServiceCategory] = frozenset()
    period: DateRange | None = None
    specialist_ids: frozenset[UUID] = frozenset()
    coverage: frozenset[str] = frozenset()
    words: list[str] = field(default_factory=list)
    include_restricted: bool = True
    record_ids: frozenset[UUID] | None = None

    def query(self) -> Document:
        query: Document = {"patient_snils": self.patient_snils}
        if self.organization_ids is not None:
            query["organization_id"] = {"$in": sorted(str(i) for i in self.organization_ids)}
        if self.categories:
            query["category"] = {"$in": sorted(c.value for c in self.categories)}
        if self.period is not None:
            query["rendered_on"] = {
                "$gte": self.period.start.isoformat(),
                "$lte": self.period.end.isoformat(),
            }
        if self.specialist_ids:
            query["specialist_id"] = {"$in": sorted(str(i) for i in self.specialist_ids)}
        if self.coverage:
            query["coverage.kind"] = {"$in": sorted(self.coverage)}
        if self.words:
            query["$and"] = [{"search_text": {"$regex": word}} for word in self.words]
        if not self.include_restricted:
            query["restricted"] = False
        if self.record_ids is not None:
            query["_id"] = {"$in": sorted(str(i) for i in self.record_ids)}
        return query


@dataclass(frozen=True)
class Stored:
    """The outcome of writing one reported service."""

    record_id: UUID
    created: bool
    updated: bool
    announced: bool


class RecordsRepository:
    """Records keyed by (organization, clinic record id), each version kept in
    `record_versions`; a version replaces the current one only when it is newer."""

    def __init__(self, database: AsyncIOMotorDatabase[Any]) -> None:
        self.records = database["records"]
        self.versions = database["record_versions"]

    async def ensure_indexes(self) -> None:
        await self.records.create_index([("patient_snils", ASCENDING), NEWEST_FIRST])
        await self.versions.create_index([("record_id", ASCENDING), ("version", ASCENDING)])

    async def store(self, organization_id: UUID, item: ReportedService, now: datetime) -> Stored:
        """Write a version idempotently: a redelivery, re-send or older version changes nothing.

        The record's `_id` is derived from (organization, clinic record id), so the primary key
        is the unique natural key; a new record is one insert, a newer version one conditional
        update (no read-then-write)."""
        ident = record_id(organization_id, item.clinic_record_id)
        document = _document(organization_id, ident, item, now)
        with suppress(DuplicateKeyError):  # this version is already kept
            await self.versions.insert_one(
                {"_id": f"{ident}:{item.version}", "record_id": str(ident), **document}
            )
        try:
            await self.records.insert_one({"_id": str(ident), **document, "announced": False})
        except DuplicateKeyError:
            pass
        else:
            return Stored(ident, created=True, updated=False, announced=False)
        result = await self.records.update_one(
            {"_id": str(ident), "version": {"$lt": item.version}}, {"$set": document}
        )
        if result.modified_count:
            return Stored(ident, created=False, updated=True, announced=True)
        current = await self.records.find_one({"_id": str(ident)}, {"announced": 1})
        announced = bool(current and current.get("announced", True))
        return Stored(ident, created=False, updated=False, announced=announced)

    async def mark_announced(self, ids: list[UUID]) -> None:
        # `announced` first: the embedded store tests conditions in order, and few are False.
        await self.records.update_many(
            {"announced": False, "_id": {"$in": [str(i) for i in ids]}},
            {"$set": {"announced": True}},
        )

    async def page(
        self, where: RecordFilter, after: Position | None, limit: int
    ) -> list[RenderedServiceView]:
        query = where.query()
        if after is not None:
            query["position"] = {"$lt": after.value}
        # Find the page's range on the sort key alone, then read just that range: the
        # embedded store copies every document a query matches, so it matches few.
        keys = self.records.find(query, projection={"position": 1}).sort([NEWEST_FIRST])
        positions = [doc["position"] async for doc in keys.limit(limit)]
        if not positions:
            return []
        query["position"] = {"$gte": positions[-1], "$lte": positions[0]}
        page = self.records.find(query, projection=VIEW_FIELDS).sort([NEWEST_FIRST])
        return [_view(doc) async for doc in page]

    async def count(self, query: Document) -> int:
        return int(await self.records.count_documents(query))

    async def get(self, patient_snils: str, ident: UUID) -> tuple[RenderedServiceView, Document]:
        """A record of this patient with its raw fields; KeyError if it is not theirs."""
        doc = await self.records.find_one({"_id": str(ident), "patient_snils": patient_snils})
        if doc is None:
            raise KeyError(ident)
        return _view(doc), doc

    async def versions_of(self, ident: UUID) -> list[RecordVersionView]:
        cursor = self.versions.find({"record_id": str(ident)}).sort("version", ASCENDING)
        return [RecordVersionView.model_validate(doc) async for doc in cursor]

    async def count_hidden_by_consent(self, patient_snils: str, consent: DataConsent) -> int:
        if consent.all_clinics:
            return 0
        allowed = sorted(str(i) for i in consent.organization_ids)
        return await self.count(
            {"patient_snils": patient_snils, "organization_id": {"$nin": allowed}}
        )

    async def count_restricted(self, patient_snils: str, consent: DataConsent) -> int:
        query: Document = {"patient_snils": patient_snils, "restricted": True}
        if not consent.all_clinics:
            query["organization_id"] = {"$in": sorted(str(i) for i in consent.organization_ids)}
        return await self.count(query)

    async def organizations_of(self, patient_snils: str) -> list[UUID]:
        ids = await self.records.distinct("organization_id", {"patient_snils": patient_snils})
        return sorted(UUID(i) for i in ids)


VIEW_FIELDS = {
    name: 1
    for name in (
        "rendered_on",
        "start_time",
        "end_time",
        "service_code",
        "service_name",
        "category",
        "organization_id",
        "specialist_id",
        "department_name",
        "diagnosis_code",
        "diagnosis_text",
        "procedures",
        "outcome",
        "cost",
        "coverage",
        "status",
    )
}


def _document(organization_id: UUID, ident: UUID, item: ReportedService, now: datetime) -> Document:
    diagnosis = item.diagnosis
    return {
        "position": Position(item.rendered_on.isoformat(), str(ident)).value,
        "organization_id": str(organization_id),
        "clinic_record_id": item.clinic_record_id,
        "version": item.version,
        "reported_at": now,
        "patient_snils": item.patient_snils,
        "patient_oms_policy": item.patient_oms_policy,
        "department_id": str(item.department_id) if item.department_id else None,
        "department_name": item.department_name,
        "specialist_id": str(item.specialist_id) if item.specialist_id else None,
        "service_code": item.service_code,
        "service_name": item.service_name,
        "category": item.category.value,
        "rendered_on": item.rendered_on.isoformat(),
        "start_time": item.start_time.isoformat() if item.start_time else None,
        "end_time": item.end_time.isoformat() if item.end_time else None,
        "diagnosis_code": diagnosis.code if diagnosis else None,
        "diagnosis_text": diagnosis.text if diagnosis else None,
        "procedures": list(item.procedures),
        "outcome": item.outcome,
        "cost": item.cost.model_dump(mode="json"),
        "coverage": item.coverage.model_dump(mode="json"),
        "status": item.status.value,
        "restricted": is_restricted(diagnosis.code if diagnosis else None),
        "search_text": search_text(
            item.service_name,
            item.service_code,
            diagnosis.code if diagnosis else None,
            diagnosis.text if diagnosis else None,
            item.department_name,
            *item.procedures,
        ),
    }


def _view(doc: Document) -> RenderedServiceView:
    return RenderedServiceView.model_validate(
        {
            **{k: v for k, v in doc.items() if k in VIEW_FIELDS},
            "id": doc["_id"],
            "procedures": tuple(doc.get("procedures") or ()),
        }
    )


class ConsentsRepository:
    """One consent per patient (by SNILS, as clinics report patients)."""

    def __init__(self, database: AsyncIOMotorDatabase[Any]) -> None:
        self.consents = database["data_consents"]

    async def get(self, patient_snils: str) -> DataConsent:
        doc = await self.consents.find_one({"_id": patient_snils})
        if doc is None:
            return DataConsent()
        return DataConsent(
            all_clinics=doc["all_clinics"],
            organization_ids=frozenset(UUID(i) for i in doc["organization_ids"]),
            updated_at=doc["updated_at"],
        )

    async def put(self, patient_snils: str, consent: DataConsent, actor_id: UUID) -> None:
        await self.consents.update_one(
            {"_id": patient_snils},
            {
                "$set": {
                    "all_clinics": consent.all_clinics,
                    "organization_ids": sorted(str(i) for i in consent.organization_ids),
                    "updated_at": consent.updated_at,
                    "updated_by": str(actor_id),
                }
            },
            upsert=True,
        )


class SyncRepository:
    """Where each clinic takes re-send requests, and each patient's exchange with each clinic."""

    def __init__(self, database: AsyncIOMotorDatabase[Any]) -> None:
        self.channels = database["clinic_channels"]
        self.syncs = database["clinic_syncs"]

    async def ensure_indexes(self) -> None:
        await self.syncs.create_index([("patient_snils", ASCENDING)])

    async def reported(
        self, organization_id: UUID, sync_queue: str | None, snils: set[str], now: datetime
    ) -> None:
        if sync_queue:
            await self.channels.update_one(
                {"_id": str(organization_id)}, {"$set": {"sync_queue": sync_queue}}, upsert=True
            )
        for patient in sorted(snils):
            await self.syncs.update_one(
                {"_id": f"{patient}/{organization_id}"},
                {
                    "$set": {"last_report_at": now},
                    "$setOnInsert": {
                        "patient_snils": patient,
                        "organization_id": str(organization_id),
                    },
                },
                upsert=True,
            )

    async def sync_queue(self, organization_id: UUID) -> str | None:
        doc = await self.channels.find_one({"_id": str(organization_id)})
        return doc["sync_queue"] if doc else None

    async def of_patient(self, patient_snils: str) -> list[ClinicSync]:
        return [
            ClinicSync(
                organization_id=UUID(doc["organization_id"]),
                requested_at=doc.get("requested_at"),
                last_report_at=doc.get("last_report_at"),
            )
            async for doc in self.syncs.find({"patient_snils": patient_snils})
        ]

    async def requested(self, patient_snils: str, organization_id: UUID, now: datetime) -> None:
        await self.syncs.update_one(
            {"_id": f"{patient_snils}/{organization_id}"},
            {
                "$set": {"requested_at": now},
                "$setOnInsert": {
                    "patient_snils": patient_snils,
                    "organization_id": str(organization_id),
                },
            },
            upsert=True,
        )


class JournalRepository:
    """The access journal: insert and read only; nothing here edits or deletes an entry."""

    def __init__(self, database: AsyncIOMotorDatabase[Any]) -> None:
        self.entries = database["access_journal"]

    async def ensure_indexes(self) -> None:
        await self.entries.create_index([("patient_id", ASCENDING), ("at", DESCENDING)])

    async def add(
        self,
        *,
        patient_id: UUID,
        actor_id: UUID,
        basis: LegalBasis | None,
        basis_document_id: str | None,
        basis_label: str,
        what: str,
        record_ids: list[UUID],
        at: datetime,
    ) -> None:
        await self.entries.insert_one(
            {
                "_id": str(uuid4()),
                "patient_id": str(patient_id),
                "actor_id": str(actor_id),
                "basis": basis.value if basis else None,
                "basis_document_id": basis_document_id,
                "basis_label": basis_label,
                "what": what,
                "record_ids": [str(i) for i in record_ids[:100]],
                "record_count": len(record_ids),
                "at": at,
            }
        )

    async def page(
        self, patient_id: UUID, after: Position | None, limit: int
    ) -> list[AccessLogEntry]:
        query: Document = {"patient_id": str(patient_id)}
        if after is not None:
            at = after.moment
            query["$or"] = [{"at": {"$lt": at}}, {"at": at, "_id": {"$lt": after.ident}}]
        cursor = (
            self.entries.find(query).sort([("at", DESCENDING), ("_id", DESCENDING)]).limit(limit)
        )
        return [AccessLogEntry.model_validate({**doc, "id": doc["_id"]}) async for doc in cursor]
