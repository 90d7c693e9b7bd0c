"""Mongo mapping of patients' shares with doctors."""

from datetime import datetime
from typing import Any
from uuid import UUID

from pymongo import ASCENDING, DESCENDING

from gosmed.contracts.identity.shares import ShareScope
from gosmed.identity.domain import Share

Document = dict[str, Any]


def _share(doc: Document) -> Share:
    return Share(
        id=doc["_id"],
        patient_id=UUID(doc["patient_id"]),
        specialist_id=UUID(doc["specialist_id"]),
        scopes=frozenset(ShareScope(s) for s in doc["scopes"]),
        created_at=doc["created_at"],
        expires_at=doc["expires_at"],
        revoked_at=doc.get("revoked_at"),
    )


class SharesRepository:
    """Shares by patient (their list) and by specialist (what a doctor may read)."""

    def __init__(self, database: Any) -> None:
        self.shares = database["shares"]

    async def ensure_indexes(self) -> None:
        await self.shares.create_index([("patient_id", ASCENDING), ("created_at", DESCENDING)])
        await self.shares.create_index([("specialist_id", ASCENDING), ("expires_at", ASCENDING)])

    async def add(self, share: Share) -> None:
        await self.shares.insert_one(
            {
                "_id": share.id,
                "patient_id": str(share.patient_id),
                "specialist_id": str(share.specialist_id),
                "scopes": sorted(s.value for s in share.scopes),
                "created_at": share.created_at,
                "expires_at": share.expires_at,
                "revoked_at": share.revoked_at,
            }
        )

    async def of_patient(self, patient_id: UUID) -> list[Share]:
        cursor = self.shares.find({"patient_id": str(patient_id)}).sort("created_at", DESCENDING)
        return [_share(d) async for d in cursor]

    async def to_specialist(self, specialist_id: UUID, now: datetime) -> list[Share]:
        """The specialist's shares in force at `now`."""
        cursor = self.shares.find(
            {"specialist_id": str(specialist_id), "revoked_at": None, "expires_at": {"$gt": now}}
        )
        return [_share(d) async for d in cursor]

    async def revoke(self, patient_id: UUID, share_id: str, now: datetime) -> Share | None:
        """End a share of the patient still in force; None when there is none to end."""
        found = await self.shares.find_one_and_update(
            {"_id": share_id, "patient_id": str(patient_id), "revoked_at": None},
            {"$set": {"revoked_at": now}},
            return_document=True,
        )
        return _share(found) if found else None

    async def get(self, patient_id: UUID, share_id: str) -> Share | None:
        found = await self.shares.find_one({"_id": share_id, "patient_id": str(patient_id)})
        return _share(found) if found else None
