"""MongoDB mapping of correction requests' files, sealed at rest (AES-GCM, one data key per
file, bound to the attachment's id: `gosmed.runtime.crypto`). A file is uploaded unclaimed
(removed after a day if no request takes it) and claimed once by the request that names it."""

from datetime import datetime
from typing import Any
from uuid import UUID

from motor.motor_asyncio import AsyncIOMotorDatabase

from gosmed.contracts.records.corrections import AttachmentType, CorrectionAttachment
from gosmed.records.attachments import sealing_context
from gosmed.runtime.crypto import KeyRing, Sealed

UNCLAIMED_SECONDS = 24 * 3600


class AttachmentsRepository:
    def __init__(self, database: AsyncIOMotorDatabase[Any], keys: KeyRing) -> None:
        self.attachments = database["correction_attachments"]
        self.keys = keys

    async def ensure_indexes(self) -> None:
        await self.attachments.create_index(
            "uploaded_at",
            expireAfterSeconds=UNCLAIMED_SECONDS,
            partialFilterExpression={"unclaimed": True},
        )

    async def add(
        self, attachment: CorrectionAttachment, patient_snils: str, content: bytes, now: datetime
    ) -> None:
        ident = str(attachment.id)
        sealed = self.keys.seal(content, sealing_context(ident)).text()
        await self.attachments.insert_one(
            {
                "_id": ident,
                "patient_snils": patient_snils,
                "filename": attachment.filename,
                "media_type": attachment.media_type.value,
                "size": attachment.size,
                "sealed": sealed,
                "uploaded_at": now,
                "unclaimed": True,
            }
        )

    async def claim(
        self, patient_snils: str, ids: tuple[UUID, ...], correction_id: UUID
    ) -> list[CorrectionAttachment] | None:
        """Give the patient's unclaimed files `ids` to the request; None (and nothing claimed)
        unless every one of them was theirs and free."""
        if not ids:
            return []
        wanted = [str(i) for i in ids]
        await self.attachments.update_many(
            {"_id": {"$in": wanted}, "patient_snils": patient_snils, "unclaimed": True},
            {"$set": {"correction_id": str(correction_id)}, "$unset": {"unclaimed": ""}},
        )
        found = {
            doc["_id"]: doc
            async for doc in self.attachments.find(
                {"_id": {"$in": wanted}, "correction_id": str(correction_id)},
                {"sealed": False},
            )
        }
        if len(found) != len(set(wanted)):
            await self.release(correction_id)
            return None
        return [_attachment(found[i]) for i in dict.fromkeys(wanted)]

    async def release(self, correction_id: UUID) -> None:
        """The request was not filed after all: its files are free again."""
        await self.attachments.update_many(
            {"correction_id": str(correction_id)},
            {"$set": {"unclaimed": True}, "$unset": {"correction_id": ""}},
        )

    async def content(self, attachment_id: UUID, correction_id: UUID) -> bytes | None:
        """The file's bytes, if it belongs to the request."""
        ident = str(attachment_id)
        doc = await self.attachments.find_one({"_id": ident, "correction_id": str(correction_id)})
        if doc is None:
            return None
        return self.keys.open(Sealed.parse(doc["sealed"]), sealing_context(ident))


def _attachment(doc: dict[str, Any]) -> CorrectionAttachment:
    return CorrectionAttachment(
        id=UUID(doc["_id"]),
        filename=doc["filename"],
        media_type=AttachmentType(doc["media_type"]),
        size=doc["size"],
    )
