"""Slots and appointments in MongoDB.

- `slots`: one document per clinic slot, `_id` the portal's slot id (derived from the
  organization and the clinic's slot id, so re-sends land on the same document); a write
  applies only a newer `version`. Booking is one conditional update (`status: free` ->
  `booked`): of any number of concurrent bookings of a slot exactly one matches.
- `appointments`: one document per appointment with the outbox of what it owes (the clinic's
  AppointmentBooked/AppointmentCancelled, the patient's notices); `active_key` is unique:
  one active appointment per patient, specialist and day (a cancelled one gets a key of its
  own). A booking or cancellation made for someone else also owes `AppointmentActedFor`,
  which records keeps in the patient's access journal.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from motor.motor_asyncio import AsyncIOMotorCollection, AsyncIOMotorDatabase
from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from gosmed.contracts.registry.specialties import Specialty
from gosmed.contracts.scheduling.appointments import Appointment, AppointmentStatus
from gosmed.contracts.scheduling.schedules import Preparation, SlotKind
from gosmed.runtime.outbox import Outbox, OutboxEntry, outbox_of, push
from gosmed.scheduling.domain import Phase, Slot, SlotStatus

Document = dict[str, Any]
DUPLICATE_KEY = 11000
STORE_ONLY = frozenset({"_id", "outbox", "active_key", "remind_at", "reminded_at"})


@dataclass(frozen=True)
class SlotFilter:
    organization_id: UUID | None = None
    specialist_id: UUID | None = None
    specialty: Specialty | None = None
    service_code: str | None = None
    starts_from: datetime | None = None
    starts_before: datetime | None = None


def _slot_fields(slot: Slot) -> Document:
    return {
        "organization_id": str(slot.organization_id),
        "clinic_slot_id": slot.clinic_slot_id,
        "version": slot.version,
        "specialist_id": str(slot.specialist_id),
        "specialty": slot.specialty.value,
        "department": slot.department,
        "room": slot.room,
        "starts_at": slot.starts_at,
        "ends_at": slot.ends_at,
        "service_codes": list(slot.service_codes),
        "kind": slot.kind.value,
        "preparations": [p.model_dump() for p in slot.preparations],
        "withdrawn": slot.withdrawn,
    }


def _load_slot(document: Mapping[str, Any]) -> Slot:
    appointment_id = document.get("appointment_id")
    return Slot(
        id=UUID(document["_id"]),
        organization_id=UUID(document["organization_id"]),
        clinic_slot_id=document["clinic_slot_id"],
        version=document["version"],
        specialist_id=UUID(document["specialist_id"]),
        specialty=Specialty(document["specialty"]),
        department=document["department"],
        room=document["room"],
        starts_at=_aware(document["starts_at"]),
        ends_at=_aware(document["ends_at"]),
        service_codes=tuple(document["service_codes"]),
        kind=SlotKind(document["kind"]),
        preparations=tuple(Preparation.model_validate(p) for p in document["preparations"]),
        withdrawn=document["withdrawn"],
        status=document["status"],
        appointment_id=UUID(appointment_id) if appointment_id else None,
    )


def _aware(moment: datetime) -> datetime:
    """MongoDB gives naive UTC datetimes back (without tz_aware)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _store_appointment(appointment: Appointment) -> Document:
    document = appointment.model_dump(mode="json")
    document["_id"] = document.pop("id")
    # Datetimes as dates for MongoDB's ordering and range queries.
    document["starts_at"] = appointment.starts_at
    document["ends_at"] = appointment.ends_at
    return document


def _load_appointment(document: Mapping[str, Any]) -> Appointment:
    fields = {k: v for k, v in document.items() if k not in STORE_ONLY}
    fields["starts_at"] = _aware(fields["starts_at"])
    fields["ends_at"] = _aware(fields["ends_at"])
    return Appointment.model_validate({"id": document["_id"], **fields})


class SlotsRepository:
    def __init__(self, database: AsyncIOMotorDatabase[Document]) -> None:
        self._collection: AsyncIOMotorCollection[Document] = database["slots"]

    async def ensure_indexes(self) -> None:
        await self._collection.create_index(
            [("status", ASCENDING), ("starts_at", ASCENDING), ("_id", ASCENDING)]
        )
        await self._collection.create_index(
            [("organization_id", ASCENDING), ("clinic_slot_id", ASCENDING)], unique=True
        )
        await self._collection.create_index(
            [("specialist_id", ASCENDING), ("starts_at", ASCENDING)]
        )

    async def save(self, slots: Iterable[Slot]) -> int:
        """Write the slots whose version is newer than the stored one, in one bulk write; how
        many were written (added or changed). A booked slot stays booked."""
        writes = [
            UpdateOne(
                {"_id": str(slot.id), "version": {"$lt": slot.version}},
                {
                    "$set": _slot_fields(slot),
                    "$setOnInsert": {"status": slot.status, "appointment_id": None},
                },
                upsert=True,
            )
            for slot in slots
        ]
        if not writes:
            return 0
        try:
            result = await self._collection.bulk_write(writes, ordered=False)
        except BulkWriteError as error:
            # A stored version as new or newer: the filter missed and the upsert met the id.
            others = [e for e in error.details["writeErrors"] if e["code"] != DUPLICATE_KEY]
            if others:
                raise
            details = error.details
            return int(details.get("nUpserted", 0)) + int(details.get("nModified", 0))
        return result.upserted_count + result.modified_count

    async def get(self, slot_id: UUID) -> Slot | None:
        document = await self._collection.find_one({"_id": str(slot_id)})
        return None if document is None else _load_slot(document)

    async def booked_withdrawn(self, slot_ids: Iterable[UUID]) -> list[Slot]:
        """Of these slots, those the clinic withdrew while a patient held them."""
        found = self._collection.find(
            {
                "_id": {"$in": [str(i) for i in slot_ids]},
                "withdrawn": True,
                "status": SlotStatus.BOOKED,
                "appointment_id": {"$ne": None},
            }
        )
        return [_load_slot(document) async for document in found]

    async def take(self, slot_id: UUID, appointment_id: UUID, now: datetime) -> bool:
        """Book a free slot that has not started: true for exactly one of concurrent takers."""
        taken = await self._collection.find_one_and_update(
            {
                "_id": str(slot_id),
                "status": SlotStatus.FREE,
                "withdrawn": False,
                "starts_at": {"$gt": now},
            },
            {"$set": {"status": SlotStatus.BOOKED, "appointment_id": str(appointment_id)}},
            projection={"_id": 1},
        )
        return taken is not None

    async def release(self, slot_id: UUID, appointment_id: UUID) -> None:
        """Free the slot the appointment held (no other booking's)."""
        await self._collection.update_one(
            {"_id": str(slot_id), "appointment_id": str(appointment_id)},
            {"$set": {"status": SlotStatus.FREE, "appointment_id": None}},
        )

    async def free_page(
        self, where: SlotFilter, after: tuple[datetime, str] | None, limit: int
    ) -> list[Slot]:
        query: Document = {"status": SlotStatus.FREE, "withdrawn": False}
        if where.organization_id:
            query["organization_id"] = str(where.organization_id)
        if where.specialist_id:
            query["specialist_id"] = str(where.specialist_id)
        if where.specialty:
            query["specialty"] = where.specialty.value
        if where.service_code:
            query["service_codes"] = where.service_code
        starts: Document = {}
        if where.starts_from:
            starts["$gte"] = where.starts_from
        if where.starts_before:
            starts["$lt"] = where.starts_before
        if starts:
            query["starts_at"] = starts
        if after is not None:
            starts_at, slot_id = after
            query["$or"] = [
                {"starts_at": {"$gt": starts_at}},
                {"starts_at": starts_at, "_id": {"$gt": slot_id}},
            ]
        found = (
            self._collection.find(query)
            .sort([("starts_at", ASCENDING), ("_id", ASCENDING)])
            .limit(limit)
        )
        return [_load_slot(document) async for document in found]


class AppointmentsRepository:
    def __init__(self, database: AsyncIOMotorDatabase[Document]) -> None:
        self._collection: AsyncIOMotorCollection[Document] = database["appointments"]
        self.outbox = Outbox(self._collection)

    async def ensure_indexes(self) -> None:
        await self._collection.create_index("active_key", unique=True)
        await self._collection.create_index([("patient_id", ASCENDING), ("starts_at", ASCENDING)])
        await self._collection.create_index(
            [("status", ASCENDING), ("reminded_at", ASCENDING), ("remind_at", ASCENDING)]
        )

    async def insert(
        self, appointment: Appointment, active_key: str, remind_at: datetime, *owed: OutboxEntry
    ) -> bool:
        """False when the patient already holds an active appointment under `active_key`."""
        document = {
            **_store_appointment(appointment),
            "active_key": active_key,
            "remind_at": remind_at,
            "reminded_at": None,
            **outbox_of(*owed),
        }
        try:
            await self._collection.insert_one(document)
        except DuplicateKeyError:
            return False
        return True

    async def get(self, appointment_id: UUID) -> Appointment | None:
        document = await self._collection.find_one({"_id": str(appointment_id)})
        return None if document is None else _load_appointment(document)

    async def page_of_patient(
        self,
        patient_id: UUID,
        status: AppointmentStatus | None,
        boundary: datetime,
        phase: Phase,
        after: tuple[datetime, UUID] | None,
        limit: int,
    ) -> list[Appointment]:
        """Up to `limit` of the patient's appointments of one phase, after `after`: starting
        after `boundary` soonest first, or not after it latest first (ties by id)."""
        upcoming = phase is Phase.UPCOMING
        beyond = "$gt" if upcoming else "$lt"
        query: Document = {
            "patient_id": str(patient_id),
            "starts_at": {"$gt": boundary} if upcoming else {"$lte": boundary},
        }
        if status is not None:
            query["status"] = status.value
        if after is not None:
            starts_at, appointment_id = after
            query["$or"] = [
                {"starts_at": {beyond: starts_at}},
                {"starts_at": starts_at, "_id": {beyond: str(appointment_id)}},
            ]
        order = ASCENDING if upcoming else DESCENDING
        found = self._collection.find(query).sort([("starts_at", order), ("_id", order)])
        return [_load_appointment(document) async for document in found.limit(limit)]

    async def cancel(self, appointment: Appointment, *owed: OutboxEntry) -> bool:
        """Store the cancellation if the appointment was still booked (false: it was not)."""
        update: Document = {
            "$set": {
                "status": AppointmentStatus.CANCELLED.value,
                "cancelled_at": appointment.cancelled_at,
                "cancel_reason": appointment.cancel_reason,
                "active_key": f"cancelled:{appointment.id}",
            }
        }
        if owed:
            update |= push(*owed)
        written = await self._collection.update_one(
            {"_id": str(appointment.id), "status": AppointmentStatus.BOOKED.value}, update
        )
        return written.modified_count == 1

    async def due_reminder(self, now: datetime) -> Appointment | None:
        """The booked appointment whose reminder is due soonest and not yet claimed."""
        document = await self._collection.find_one(
            {
                "status": AppointmentStatus.BOOKED.value,
                "reminded_at": None,
                "remind_at": {"$lte": now},
                "starts_at": {"$gt": now},
            },
            sort=[("remind_at", ASCENDING)],
        )
        return None if document is None else _load_appointment(document)

    async def claim_reminder(self, appointment_id: UUID, now: datetime, sms: OutboxEntry) -> bool:
        """Mark the reminder sent and owe its SMS in one conditional write: of any number of
        workers that saw it due, one claims it, once; a restart finds it claimed or still due
        (a claimed reminder is in the outbox, which the relay delivers)."""
        written = await self._collection.update_one(
            {
                "_id": str(appointment_id),
                "status": AppointmentStatus.BOOKED.value,
                "reminded_at": None,
            },
            {"$set": {"reminded_at": now}} | push(sms),
        )
        return written.modified_count == 1
