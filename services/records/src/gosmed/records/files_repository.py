"""Mongo mapping of the EMK's uploaded files; the bytes are stored sealed."""

from typing import Any
from uuid import UUID

from motor.motor_asyncio import AsyncIOMotorDatabase
from pymongo import ASCENDING, DESCENDING

from gosmed.contracts.records.files import FileView
from gosmed.runtime.crypto import KeyRing, Sealed


def _context(patient_id: UUID, file_id: UUID) -> bytes:
    """What a file's seal is bound to: it opens for this patient and file only."""
    return f"emk-file:{patient_id}:{file_id}".encode()


class FilesRepository:
    """Uploaded files by patient; the content sealed with the records key ring."""

    def __init__(self, database: AsyncIOMotorDatabase[Any], keys: KeyRing) -> None:
        self.files = database["emk_files"]
        self.keys = keys

    async def ensure_indexes(self) -> None:
        await self.files.create_index(
            [("patient_id", ASCENDING), ("date", DESCENDING), ("uploaded_at", DESCENDING)]
        )

    async def add(self, patient_id: UUID, view: FileView, content: bytes) -> None:
        sealed = self.keys.seal(content, _context(patient_id, view.id))
        await self.files.insert_one(
            {
                "_id": str(view.id),
                "patient_id": str(patient_id),
                **view.model_dump(mode="json", exclude={"id", "uploaded_at"}),
                "uploaded_at": view.uploaded_at,
                "content": sealed.text(),
            }
        )

    async def list(self, patient_id: UUID) -> list[FileView]:
        cursor = self.files.find({"patient_id": str(patient_id)}, {"content": 0}).sort(
            [("date", DESCENDING), ("uploaded_at", DESCENDING)]
        )
        return [_view(doc) async for doc in cursor]

    async def usage(self, patient_id: UUID) -> tuple[int, int]:
        """How many files the patient keeps and how many bytes they take."""
        found = await self.list(patient_id)
        return len(found), sum(f.size for f in found)

    async def get(self, patient_id: UUID, file_id: UUID) -> tuple[FileView, bytes] | None:
        doc = await self.files.find_one({"_id": str(file_id), "patient_id": str(patient_id)})
        if doc is None:
            return None
        content = self.keys.open(Sealed.parse(doc["content"]), _context(patient_id, file_id))
        return _view(doc), content

    async def delete(self, patient_id: UUID, file_id: UUID) -> FileView | None:
        doc = await self.files.find_one_and_delete(
            {"_id": str(file_id), "patient_id": str(patient_id)}, {"content": 0}
        )
        return None if doc is None else _view(doc)


def _view(doc: dict[str, Any]) -> FileView:
    return FileView.model_validate({**doc, "id": doc["_id"]})
