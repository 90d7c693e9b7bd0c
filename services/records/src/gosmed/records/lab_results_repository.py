"""MongoDB mapping of lab results: analyte values, notes and files sealed before they reach the
store (`gosmed.runtime.crypto.KeyRing`; the key id is kept in each sealed value).

A result is keyed by (organization, clinic result id); a version replaces the stored one only
when it is newer. Its files live in `lab_files`, one document per format, each with the version
that wrote it. A result that became ready owes the patient's notice in its outbox, written by the
same write."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from motor.motor_asyncio import AsyncIOMotorDatabase
from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from gosmed.contracts.identity.notifications import NOTIFY_QUEUE
from gosmed.contracts.records.lab import (
    Analyte,
    LabChangeKind,
    LabFileFormat,
    LabResultSummary,
    LabStatus,
    ReportedLabResult,
)
from gosmed.contracts.types import DateRange
from gosmed.records.domain import Outcome, Position
from gosmed.records.lab_rules import (
    available_until,
    becomes_ready,
    has_flags,
    lab_result_id,
    ready_notice,
    restricted_study,
)
from gosmed.runtime.crypto import KeyRing, Sealed
from gosmed.runtime.outbox import Outbox, OutboxEntry, push

Document = dict[str, Any]
NEWEST_FIRST = ("position", DESCENDING)


@dataclass(frozen=True)
class LabFilter:
    patient_snils: str
    status: LabStatus | None = None
    period: DateRange | None = None
    include_restricted: bool = False

    def query(self) -> Document:
        query: Document = {"patient_snils": self.patient_snils, "deleted": {"$ne": True}}
        if self.status is not None:
            query["status"] = self.status.value
        if self.period is not None:
            query["ordered_on"] = {
                "$gte": self.period.start.isoformat(),
                "$lte": self.period.end.isoformat(),
            }
        if not self.include_restricted:
            query["restricted"] = False
        return query


@dataclass(frozen=True)
class PendingChange:
    """A deletion or a new note waiting for the SMS code (its id is the code's id)."""

    id: UUID
    result_id: UUID
    actor_id: UUID
    kind: LabChangeKind
    note: str | None
    expires_at: datetime


@dataclass(frozen=True)
class StoredLabResult:
    """A result as read back, its sealed fields opened."""

    summary: LabResultSummary
    patient_snils: str
    clinic_result_id: str
    specialist_name: str | None
    collected_at: datetime | None
    analytes: tuple[Analyte, ...]
    files: frozenset[str]
    restricted: bool


class LabResultsRepository:
    def __init__(self, database: AsyncIOMotorDatabase[Any], keys: KeyRing) -> None:
        self.results = database["lab_results"]
        self.files = database["lab_files"]
        self.keys = keys
        self.changes = database["lab_changes"]  # deletions and notes waiting for their code
        self.outbox = Outbox(self.results)  # the patient's notice of a ready result

    async def ensure_indexes(self) -> None:
        await self.results.create_index([("patient_snils", ASCENDING), NEWEST_FIRST])
        await self.results.create_index("ready_at", sparse=True)
        await self.files.create_index("result_id")
        await self.outbox.ensure_index()
        await self.changes.create_index("expires_at", expireAfterSeconds=0)

    async def store(
        self, organization_id: UUID, result: ReportedLabResult, now: datetime
    ) -> tuple[Outcome, str]:
        """Write one reported result idempotently: its files first, then the result (a newer
        version only). Returns the outcome and the result's id."""
        ident = str(lab_result_id(organization_id, result.clinic_result_id))
        kept = await self.results.find_one({"_id": ident}, {"version": 1, "status": 1})
        if kept is not None and kept["version"] >= result.version:
            return Outcome.UNCHANGED, ident
        await self._store_files(ident, result)
        document = self._document(organization_id, ident, result, now)
        before = LabStatus(kept["status"]) if kept is not None else None
        update: Document = {"$set": document}
        if becomes_ready(before, result.status):
            entry = OutboxEntry.command(NOTIFY_QUEUE, ready_notice(result.patient_snils, result))
            update |= push(entry)
        try:
            written = await self.results.update_one(
                {"_id": ident, "version": {"$lt": result.version}}, update, upsert=kept is None
            )
        except DuplicateKeyError:  # another writer stored a version meanwhile
            return await self.store(organization_id, result, now)
        if written.matched_count == 0 and written.upserted_id is None:
            return Outcome.UNCHANGED, ident
        return (Outcome.CREATED if kept is None else Outcome.UPDATED), ident

    async def _store_files(self, ident: str, result: ReportedLabResult) -> None:
        for fmt, content in ((LabFileFormat.PDF, result.pdf), (LabFileFormat.XML, result.xml)):
            key = f"{ident}:{fmt.value}"
            if content is None:
                await self.files.delete_one({"_id": key, "version": {"$lt": result.version}})
                continue
            sealed = self.keys.seal(content, key.encode()).text()
            try:
                await self.files.update_one(
                    {"_id": key, "version": {"$lt": result.version}},
                    {"$set": {"result_id": ident, "version": result.version, "sealed": sealed}},
                    upsert=True,
                )
            except DuplicateKeyError:  # a newer version's file is kept
                continue

    def _document(
        self, organization_id: UUID, ident: str, result: ReportedLabResult, now: datetime
    ) -> Document:
        analytes = json.dumps([a.model_dump(mode="json") for a in result.analytes])
        return {
            "position": Position(result.ordered_on.isoformat(), ident).value,
            "organization_id": str(organization_id),
            "clinic_result_id": result.clinic_result_id,
            "version": result.version,
            "reported_at": now,
            "patient_snils": result.patient_snils,
            "specialist_id": str(result.specialist_id) if result.specialist_id else None,
            "specialist_name": result.specialist_name,
            "study_code": result.study_code,
            "study_name": result.study_name,
            "status": result.status.value,
            "ordered_on": result.ordered_on.isoformat(),
            "collected_at": result.collected_at,
            "ready_at": result.ready_at,
            "restricted": restricted_study(result.study_code),
            "has_flags": has_flags(result.analytes),
            "analytes": self.keys.seal_text(analytes, f"{ident}:analytes"),
            "formats": sorted(
                f.value
                for f, content in ((LabFileFormat.PDF, result.pdf), (LabFileFormat.XML, result.xml))
                if content is not None
            ),
        }

    async def page(
        self, where: LabFilter, after: Position | None, limit: int
    ) -> list[StoredLabResult]:
        query = where.query()
        if after is not None:
            query["position"] = {"$lt": after.value}
        found = self.results.find(query).sort([NEWEST_FIRST]).limit(limit)
        return [self._stored(doc) async for doc in found]

    async def get(self, patient_snils: str, ident: UUID) -> StoredLabResult:
        """A result of this patient (not deleted by them); KeyError if there is none."""
        doc = await self.results.find_one(
            {"_id": str(ident), "patient_snils": patient_snils, "deleted": {"$ne": True}}
        )
        if doc is None:
            raise KeyError(ident)
        return self._stored(doc)

    async def file(self, ident: UUID, fmt: LabFileFormat) -> bytes | None:
        key = f"{ident}:{fmt.value}"
        doc = await self.files.find_one({"_id": key})
        if doc is None:
            return None
        return self.keys.open(Sealed.parse(doc["sealed"]), key.encode())

    async def ready_between(
        self, patient_snils: str, start: datetime | None, end: datetime | None
    ) -> list[StoredLabResult]:
        """Ready results of a patient, oldest first (for an export of values)."""
        ready: Document = {"$ne": None}
        if start is not None:
            ready["$gte"] = start
        if end is not None:
            ready["$lt"] = end
        query = {
            "patient_snils": patient_snils,
            "deleted": {"$ne": True},
            "status": LabStatus.READY.value,
            "ready_at": ready,
        }
        found = self.results.find(query).sort("ready_at", ASCENDING)
        return [self._stored(doc) async for doc in found]

    async def erase_files_ready_before(self, cutoff: datetime) -> int:
        """Erase the files and values of results ready before `cutoff` (past 12 months); the
        result itself stays, to answer 410. Returns how many results were erased."""
        expired = self.results.find(
            {"ready_at": {"$lt": cutoff}, "expired": {"$ne": True}}, {"_id": 1}
        )
        idents = [doc["_id"] async for doc in expired]
        if not idents:
            return 0
        await self.files.delete_many({"result_id": {"$in": idents}})
        await self.results.update_many(
            {"_id": {"$in": idents}},
            {"$set": {"expired": True, "analytes": None, "formats": []}},
        )
        return len(idents)

    async def pend(self, change: PendingChange) -> None:
        """Keep a change until its code confirms it (or it expires)."""
        ident = str(change.id)
        note = change.note
        await self.changes.insert_one(
            {
                "_id": ident,
                "result_id": str(change.result_id),
                "actor_id": str(change.actor_id),
                "kind": change.kind.value,
                "note": self.keys.seal_text(note, f"{ident}:note") if note is not None else None,
                "expires_at": change.expires_at,
            }
        )

    async def pending(self, ident: UUID, result_id: UUID, actor_id: UUID) -> PendingChange | None:
        doc = await self.changes.find_one(
            {"_id": str(ident), "result_id": str(result_id), "actor_id": str(actor_id)}
        )
        if doc is None:
            return None
        note = doc.get("note")
        return PendingChange(
            id=ident,
            result_id=result_id,
            actor_id=actor_id,
            kind=LabChangeKind(doc["kind"]),
            note=self.keys.open_text(note, f"{ident}:note") if note else None,
            expires_at=_aware(doc["expires_at"]) or doc["expires_at"],
        )

    async def apply(self, change: PendingChange) -> None:
        """Delete the result from the patient's view (its values and files erased), or set
        its note; the change is done once."""
        ident = str(change.result_id)
        if change.kind == LabChangeKind.DELETE:
            await self.files.delete_many({"result_id": ident})
            update: Document = {"deleted": True, "analytes": None, "formats": [], "note": None}
        else:
            note = change.note
            update = {"note": self.keys.seal_text(note, f"{ident}:note") if note else None}
        await self.results.update_one({"_id": ident}, {"$set": update})
        await self.changes.delete_one({"_id": str(change.id)})

    def _stored(self, doc: Document) -> StoredLabResult:
        ident = doc["_id"]
        sealed = doc.get("analytes")
        analytes = (
            tuple(
                Analyte.model_validate(a)
                for a in json.loads(self.keys.open_text(sealed, f"{ident}:analytes"))
            )
            if sealed
            else ()
        )
        ready_at = _aware(doc.get("ready_at"))
        note = doc.get("note")
        return StoredLabResult(
            summary=LabResultSummary(
                id=UUID(ident),
                organization_id=UUID(doc["organization_id"]),
                study_code=doc["study_code"],
                study_name=doc["study_name"],
                status=LabStatus(doc["status"]),
                ordered_on=doc["ordered_on"],
                ready_at=ready_at,
                available_until=available_until(ready_at),
                has_flags=doc["has_flags"],
                note=self.keys.open_text(note, f"{ident}:note") if note else None,
            ),
            patient_snils=doc["patient_snils"],
            clinic_result_id=doc["clinic_result_id"],
            specialist_name=doc.get("specialist_name"),
            collected_at=_aware(doc.get("collected_at")),
            analytes=analytes,
            files=frozenset(doc.get("formats") or ()),
            restricted=doc["restricted"],
        )


def _aware(moment: datetime | None) -> datetime | None:
    """MongoDB gives naive UTC datetimes back."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
