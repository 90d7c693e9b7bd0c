"""Documents, their files and the number sequence in the service's own database.

Files are stored as bytes in the `document_files` collection (one database document per file,
capped by `max_file_bytes` below MongoDB's 16 MB limit): GridFS is not available in the
embedded store, and this keeps a document and its file in one place for backups.
"""

from datetime import datetime
from typing import Any
from uuid import UUID

from motor.motor_asyncio import AsyncIOMotorDatabase
from pymongo import ReturnDocument

from gosmed.contracts.documents.requests import (
    CertificatePurpose,
    DocumentFormat,
    DocumentKind,
    DocumentStatus,
    EmailStatus,
)
from gosmed.contracts.records.lab import LabValuesExport
from gosmed.contracts.records.queries import RenderedServicesExport
from gosmed.contracts.types import DateRange
from gosmed.documents.domain import Document, DocumentSource, DocumentSpec
from gosmed.runtime.outbox import Outbox, OutboxEntry, outbox_of, push


class DocumentRepository:
    def __init__(self, database: AsyncIOMotorDatabase[Any]) -> None:
        self._documents = database["documents"]
        self._files = database["document_files"]
        self._counters = database["counters"]
        self.outbox = Outbox(self._documents)

    async def ensure_indexes(self) -> None:
        await self._documents.create_index([("actor_id", 1), ("created_at", -1)])
        await self._documents.create_index([("patient_id", 1), ("created_at", -1)])
        await self._documents.create_index("number", unique=True)
        # Files leave the database when their document expires; the metadata stays, so the
        # document can still be verified.
        await self._files.create_index("expires_at", expireAfterSeconds=0)

    async def next_sequence(self) -> int:
        counter = await self._counters.find_one_and_update(
            {"_id": "document_number"},
            {"$inc": {"value": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        return int(counter["value"])

    async def add(self, document: Document, source: DocumentSource, render: OutboxEntry) -> None:
        """Store a pending document with what it is rendered from (dropped once rendered) and
        the command that renders it."""
        lab = {} if source.lab is None else {"lab_source": source.lab.model_dump_json()}
        await self._documents.insert_one(
            {
                **_to_record(document),
                "source": source.services.model_dump_json(),
                **lab,
                **outbox_of(render),
            }
        )

    async def get(self, document_id: UUID) -> Document | None:
        record = await self._documents.find_one(
            {"_id": str(document_id)}, {"source": 0, "lab_source": 0}
        )
        return None if record is None else _from_record(record)

    async def source(self, document_id: UUID) -> DocumentSource | None:
        record = await self._documents.find_one(
            {"_id": str(document_id)}, {"source": 1, "lab_source": 1}
        )
        if record is None or "source" not in record:
            return None
        lab = record.get("lab_source")
        return DocumentSource(
            services=RenderedServicesExport.model_validate_json(record["source"]),
            lab=None if lab is None else LabValuesExport.model_validate_json(lab),
        )

    async def mark_ready(self, document: Document, content: bytes) -> bool:
        """Store the file, then flip the pending document to ready; False if it was not
        pending (a redelivered render changes nothing)."""
        await self._files.replace_one(
            {"_id": str(document.id)},
            {"_id": str(document.id), "content": content, "expires_at": document.expires_at},
            upsert=True,
        )
        result = await self._documents.update_one(
            {"_id": str(document.id), "status": DocumentStatus.PENDING.value},
            {
                "$set": {
                    "status": DocumentStatus.READY.value,
                    "ready_at": document.ready_at,
                    "sha256": document.sha256,
                    "signature": document.signature,
                    "key_id": document.key_id,
                    "size": document.size,
                },
                "$unset": {"source": "", "lab_source": ""},
            },
        )
        return result.modified_count == 1

    async def mark_failed(self, document_id: UUID, reason: str) -> None:
        await self._documents.update_one(
            {"_id": str(document_id), "status": DocumentStatus.PENDING.value},
            {
                "$set": {"status": DocumentStatus.FAILED.value, "failure_reason": reason},
                "$unset": {"source": "", "lab_source": ""},
            },
        )

    async def revoke(self, document_id: UUID, at: datetime) -> None:
        await self._documents.update_one(
            {"_id": str(document_id), "status": {"$ne": DocumentStatus.REVOKED.value}},
            {"$set": {"status": DocumentStatus.REVOKED.value, "revoked_at": at}},
        )
        await self._files.delete_one({"_id": str(document_id)})

    async def queue_email(self, document_id: UUID, delivery: OutboxEntry) -> None:
        """Mark the e-mail queued, with the command that sends it."""
        await self._documents.update_one(
            {"_id": str(document_id)},
            {"$set": {"email_status": EmailStatus.QUEUED.value}, **push(delivery)},
        )

    async def email_failed(self, document_id: UUID) -> None:
        await self._documents.update_one(
            {"_id": str(document_id)}, {"$set": {"email_status": EmailStatus.FAILED.value}}
        )

    async def email_delivered(self, document_id: UUID, message_id: UUID) -> bool:
        found = await self._documents.count_documents(
            {"_id": str(document_id), "email_deliveries": str(message_id)}
        )
        return found > 0

    async def mark_email_sent(
        self, document_id: UUID, message_id: UUID, notice: OutboxEntry
    ) -> None:
        """Remember the delivery `message_id` as done, with the notice that tells the citizen."""
        await self._documents.update_one(
            {"_id": str(document_id)},
            {
                "$set": {"email_status": EmailStatus.SENT.value},
                "$addToSet": {"email_deliveries": str(message_id)},
                **push(notice),
            },
        )

    async def file(self, document_id: UUID) -> bytes | None:
        record = await self._files.find_one({"_id": str(document_id)})
        return None if record is None else bytes(record["content"])


def _to_record(document: Document) -> dict[str, Any]:
    spec = document.spec
    return {
        "_id": str(document.id),
        "number": document.number,
        "kind": spec.kind.value,
        "format": spec.format.value,
        "purpose": spec.purpose.value if spec.purpose else None,
        "period": spec.period.model_dump(mode="json") if spec.period else None,
        "actor_id": str(document.actor_id),
        "patient_id": str(document.patient_id),
        "patient_name": document.patient_name,
        "created_at": document.created_at,
        "expires_at": document.expires_at,
        "status": document.status.value,
    }


def _from_record(record: dict[str, Any]) -> Document:
    return Document(
        id=UUID(record["_id"]),
        number=record["number"],
        spec=DocumentSpec(
            kind=DocumentKind(record["kind"]),
            format=DocumentFormat(record["format"]),
            period=DateRange.model_validate(record["period"]) if record["period"] else None,
            purpose=CertificatePurpose(record["purpose"]) if record["purpose"] else None,
        ),
        actor_id=UUID(record["actor_id"]),
        patient_id=UUID(record["patient_id"]),
        patient_name=record["patient_name"],
        created_at=record["created_at"],
        expires_at=record["expires_at"],
        status=DocumentStatus(record["status"]),
        ready_at=record.get("ready_at"),
        revoked_at=record.get("revoked_at"),
        sha256=record.get("sha256"),
        signature=bytes(record["signature"]) if record.get("signature") else None,
        key_id=record.get("key_id"),
        size=record.get("size"),
        failure_reason=record.get("failure_reason"),
        email_status=EmailStatus(record["email_status"]) if record.get("email_status") else None,
    )
