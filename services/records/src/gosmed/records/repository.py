"""MongoDB mapping of records, their versions, consents, clinic syncs and the access journal.

A new record's RecordAdded is written in the record document's outbox, and a patient's notice
of a report's new records in the outbox of their counts document, by the same bulk writes that
store the records and the counts (`gosmed.runtime.outbox`)."""

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from motor.motor_asyncio import AsyncIOMotorCollection, AsyncIOMotorDatabase
from pymongo import ASCENDING, DESCENDING, InsertOne, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from gosmed.contracts import topology
from gosmed.contracts.access import Actor, LegalBasis
from gosmed.contracts.identity.notifications import NOTIFY_QUEUE
from gosmed.contracts.records.details import RecordVersionView
from gosmed.contracts.records.intake import RECORD_ADDED, ReportedService
from gosmed.contracts.records.journal import AccessLogEntry
from gosmed.contracts.records.views import RenderedServiceView
from gosmed.contracts.registry.catalog import ServiceCategory
from gosmed.contracts.types import DateRange
from gosmed.records.domain import (
    RESTRICTED_SERVICE_CODES,
    ClinicSync,
    DataConsent,
    HiddenSpecialists,
    Kept,
    OrganizationCounts,
    Outcome,
    PatientCounts,
    Position,
    Reported,
    Tally,
    is_restricted,
    new_records_notice,
    plan_batch,
    record_added,
    record_id,
    search_text,
)
from gosmed.runtime.outbox import Outbox, OutboxEntry, outbox_of, push

Document = dict[str, Any]
# `position` is "<rendered_on>|<id>": one key orders newest first and is the page cursor.
NEWEST_FIRST = ("position", DESCENDING)
KEPT_FIELDS = {"version": 1, "patient_snils": 1, "organization_id": 1, "restricted": 1}
RECORD_ADDED_KEY = topology.event_key(topology.Service.RECORDS, RECORD_ADDED)
# Batch tokens a patient's counts remember: more than the batches in flight at once.
KEEP_TOKENS = 256
DUPLICATE_KEY = 11000


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
    hidden_specialists: HiddenSpecialists = field(default_factory=HiddenSpecialists)
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
            # `restricted` is stored at intake; the service code is checked here too for
            # records stored before it counted, and the doctors' specialties come from the
            # registry's cards at read time
            query["restricted"] = False
            hidden: list[Document] = [
                {"service_code": {"$regex": RESTRICTED_SERVICE_CODES.pattern, "$options": "i"}}
            ]
            if self.hidden_specialists.always:
                hidden.append({"specialist_id": {"$in": _ids(self.hidden_specialists.always)}})
            if self.hidden_specialists.outside_prevention:
                hidden.append(
                    {
                        "specialist_id": {"$in": _ids(self.hidden_specialists.outside_prevention)},
                        "category": {"$ne": ServiceCategory.PREVENTION.value},
                    }
                )
            query["$nor"] = hidden
        if self.record_ids is not None:
            query["_id"] = {"$in": sorted(str(i) for i in self.record_ids)}
        return query


@dataclass(frozen=True)
class Written:
    """What writing a batch did: each service's outcome (in order), and the keys of the
    documents whose outbox it wrote: the new records (`RecordsRepository.outbox`) and the
    counts of their patients (`RecordsRepository.notices`)."""

    outcomes: list[Outcome]
    new_records: list[str]
    patients: list[str]


class RecordsRepository:
    """Records keyed by (organization, clinic record id), each version kept in
    `record_versions`; a version replaces the current one only when it is newer. Each
    patient's records are counted per organization in `patient_counts`."""

    def __init__(self, database: AsyncIOMotorDatabase[Any]) -> None:
        self.records = database["records"]
        self.versions = database["record_versions"]
        self.counts = database["patient_counts"]
        self.outbox = Outbox(self.records)  # RecordAdded of each new record
        self.notices = Outbox(self.counts)  # a patient's notices of new records

    async def ensure_indexes(self) -> None:
        await self.records.create_index([("patient_snils", ASCENDING), NEWEST_FIRST])
        await self.versions.create_index([("record_id", ASCENDING), ("version", ASCENDING)])

    async def store_batch(
        self,
        organization_id: UUID,
        services: Sequence[ReportedService],
        token: str,
        now: datetime,
    ) -> Written:
        """Write a batch idempotently: a redelivery, a re-send or an older version changes
        nothing. One find of what is kept, then bulk writes: the counts, every version, the
        records (inserts and conditional updates).

        The record's `_id` is derived from (organization, clinic record id), so the primary key
        is the unique natural key. The counts are written first, each patient's at most once
        per `token` (the report's message id): a batch redelivered after a failure part-way
        finds the records as they were, and finds its counts (and notices) already applied.
        Each inserted record carries its RecordAdded; each patient with new records gets one
        notice with their counts."""
        idents = [record_id(organization_id, s.clinic_record_id) for s in services]
        kept = await self._kept(idents)
        plan = plan_batch(
            [
                Reported(i, s.version, _tally(organization_id, s))
                for i, s in zip(idents, services, strict=True)
            ],
            kept,
        )
        new = {i: services[index] for i, index in plan.winners.items() if i not in kept}
        added = Counter(service.patient_snils for service in new.values())
        await self._count(plan.counts, token, added)
        documents = [
            _document(organization_id, i, s, now) for i, s in zip(idents, services, strict=True)
        ]
        await self._keep_versions(idents, documents)
        await self._write(
            {ident: documents[index] for ident, index in plan.winners.items()},
            {
                ident: OutboxEntry.event(
                    RECORD_ADDED_KEY, record_added(ident, organization_id, service)
                )
                for ident, service in new.items()
            },
        )
        return Written(plan.outcomes, [str(i) for i in new], sorted(added))

    async def _kept(self, idents: list[UUID]) -> dict[UUID, Kept]:
        found = self.records.find(
            {"_id": {"$in": sorted({str(i) for i in idents})}}, projection=KEPT_FIELDS
        )
        return {
            UUID(doc["_id"]): Kept(
                version=doc["version"],
                tally=Tally(doc["patient_snils"], UUID(doc["organization_id"]), doc["restricted"]),
            )
            async for doc in found
        }

    async def _count(
        self, changes: Counter[Tally], token: str, added: Counter[str] | None = None
    ) -> None:
        """Apply the changes of the counts and push each patient's notice of `added` new
        records, both once per `token`."""
        added = added or Counter()
        increments: dict[str, Counter[str]] = defaultdict(Counter)
        for tally, change in changes.items():
            path = f"organizations.{tally.organization_id}"
            increments[tally.patient_snils][f"{path}.records"] += change
            if tally.restricted:
                increments[tally.patient_snils][f"{path}.restricted"] += change

        def count(patient: str, upsert: bool) -> UpdateOne:
            update: Document = {"$push": {"applied": {"$each": [token], "$slice": -KEEP_TOKENS}}}
            if inc := {k: n for k, n in increments[patient].items() if n}:
                update["$inc"] = inc
            if added[patient]:
                notice = new_records_notice(patient, added[patient])
                update["$push"] |= push(OutboxEntry.command(NOTIFY_QUEUE, notice))["$push"]
            return UpdateOne({"_id": patient, "applied": {"$ne": token}}, update, upsert=upsert)

        patients = sorted(
            {p for p, inc in increments.items() if any(inc.values())} | set(added.keys())
        )
        # A duplicate key on the upsert: the patient's document exists, either holding this
        # token already or created meanwhile by another batch; without the upsert, the update
        # then applies exactly when the token is not there yet.
        await _bulk(
            self.counts,
            [count(p, upsert=True) for p in patients],
            lambda index: count(patients[index], upsert=False),
        )

    async def _keep_versions(self, idents: list[UUID], documents: list[Document]) -> None:
        """Every reported version goes into the history once (the first one reported wins)."""
        history: dict[str, Document] = {}
        for ident, document in zip(idents, documents, strict=True):
            key = f"{ident}:{document['version']}"
            history.setdefault(key, {"_id": key, "record_id": str(ident), **document})
        await _bulk(self.versions, [InsertOne(d) for d in history.values()], None)

    async def _write(self, changed: dict[UUID, Document], new: dict[UUID, OutboxEntry]) -> None:
        """Insert the `new` records, each with the event it owes, and replace older versions
        of the kept ones; a record another writer created meanwhile (and announced) is then
        replaced only if this version is newer."""
        idents = list(changed)

        def newer(ident: UUID) -> UpdateOne:
            document = changed[ident]
            return UpdateOne(
                {"_id": str(ident), "version": {"$lt": document["version"]}}, {"$set": document}
            )

        await _bulk(
            self.records,
            [
                InsertOne({"_id": str(i), **changed[i], **outbox_of(new[i])})
                if i in new
                else newer(i)
                for i in idents
            ],
            lambda index: newer(idents[index]),
        )

    async def counts_of(self, patient_snils: str) -> PatientCounts:
        doc = await self.counts.find_one({"_id": patient_snils}, {"organizations": 1})
        return PatientCounts(
            {
                UUID(org): OrganizationCounts(c.get("records", 0), c.get("restricted", 0))
                for org, c in (doc or {}).get("organizations", {}).items()
            }
        )

    async def count_all(self) -> None:
        """Count every patient's records afresh when nothing is counted yet (a store written
        before the counts existed); intake keeps them from then on."""
        if await self.counts.find_one({}) is not None:
            return
        groups = self.records.aggregate(
            [
                {
                    "$group": {
                        "_id": {
                            "patient": "$patient_snils",
                            "organization": "$organization_id",
                            "restricted": "$restricted",
                        },
                        "n": {"$sum": 1},
                    }
                }
            ]
        )
        counts = Counter[Tally]()
        async for group in groups:
            key = group["_id"]
            counts[Tally(key["patient"], UUID(key["organization"]), key["restricted"])] = group["n"]
        await self._count(counts, "count-all")

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

    async def get(self, patient_snils: str, ident: UUID) -> tuple[RenderedServiceView, Document]:
        """A record of this patient with its raw fields; KeyError if it is not theirs."""
        doc = await self.records.find_one({"_id": str(ident), "patient_snils": patient_snils})
        if doc is None:
            raise KeyError(ident)
        return _view(doc), doc

    async def versions_of(self, ident: UUID) -> list[RecordVersionView]:
        cursor = self.versions.find({"record_id": str(ident)}).sort("version", ASCENDING)
        return [RecordVersionView.model_validate(doc) async for doc in cursor]

    async def specialists_of(self, patient_snils: str) -> set[UUID]:
        ids = await self.records.distinct("specialist_id", {"patient_snils": patient_snils})
        return {UUID(i) for i in ids if i}

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


async def _bulk(
    collection: AsyncIOMotorCollection[Any],
    operations: list[InsertOne[Document] | UpdateOne],
    on_duplicate: Callable[[int], UpdateOne] | None,
) -> None:
    """One unordered bulk write. Operations that hit a duplicate key are redone as
    `on_duplicate(index)` says, or dropped when it is None (the document is already there)."""
    if not operations:
        return
    try:
        await collection.bulk_write(operations, ordered=False)
    except BulkWriteError as error:
        errors = error.details.get("writeErrors", [])
        if error.details.get("writeConcernErrors") or any(
            e["code"] != DUPLICATE_KEY for e in errors
        ):
            raise
        if on_duplicate is not None:
            await _bulk(collection, [on_duplicate(e["index"]) for e in errors], None)


def _ids(ids: frozenset[UUID]) -> list[str]:
    return sorted(str(i) for i in ids)


def _restricted(service: ReportedService) -> bool:
    """Restricted by what the report itself says (diagnosis, service code); the doctor's
    specialty is the registry's and is checked at read time."""
    code = service.diagnosis.code if service.diagnosis else None
    return is_restricted(code, service.service_code)


def _tally(organization_id: UUID, service: ReportedService) -> Tally:
    return Tally(service.patient_snils, organization_id, _restricted(service))


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
        "restricted": _restricted(item),
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
        actor: Actor | None,
        basis: LegalBasis | None,
        basis_document_id: str | None,
        basis_label: str,
        what: str,
        record_ids: list[UUID],
        at: datetime,
        entry_id: UUID | None = None,
        appointment_id: UUID | None = None,
    ) -> None:
        """Journal one access; an entry with the id of the message that announced it is
        written once, however often that message comes."""
        try:
            await self.entries.insert_one(
                {
                    "_id": str(entry_id or uuid4()),
                    "patient_id": str(patient_id),
                    "actor_id": str(actor_id),
                    "actor": actor.model_dump(mode="json") if actor else None,
                    "basis": basis.value if basis else None,
                    "basis_document_id": basis_document_id,
                    "basis_label": basis_label,
                    "what": what,
                    "record_ids": [str(i) for i in record_ids[:100]],
                    "record_count": len(record_ids),
                    "appointment_id": str(appointment_id) if appointment_id else None,
                    "at": at,
                }
            )
        except DuplicateKeyError:
            if entry_id is None:
                raise

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
