"""RabbitMQ's own message size cap sits above every limit the services check, and above the
largest reply they send."""

from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from gosmed.contracts.documents.requests import (
    MAX_FILE_BYTES,
    DocumentFile,
    DocumentFormat,
    DocumentKind,
    DocumentStatus,
    DocumentView,
)
from gosmed.contracts.limits import DEFAULT_MESSAGE_BYTES, MIB, QUEUE_MESSAGE_BYTES

RABBITMQ_CONF = Path(__file__).resolve().parents[2] / "deploy" / "rabbitmq" / "rabbitmq.conf"


def max_message_size() -> int:
    for line in RABBITMQ_CONF.read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "max_message_size":
            return int(value)
    raise AssertionError("rabbitmq.conf sets no max_message_size")


def test_rabbitmq_cap_is_above_every_queue_limit() -> None:
    cap = max_message_size()
    assert max(DEFAULT_MESSAGE_BYTES, *QUEUE_MESSAGE_BYTES.values()) < cap <= 64 * MIB


def test_rabbitmq_cap_is_above_the_largest_document_file_reply() -> None:
    now = datetime.now(UTC)
    document = DocumentView(
        document_id=UUID(int=0),
        number="ж" * 64,
        kind=DocumentKind.STATEMENT,
        format=DocumentFormat.PDF,
        status=DocumentStatus.READY,
        created_at=now,
        expires_at=now,
        sha256="0" * 64,
        size=MAX_FILE_BYTES,
    )
    reply = DocumentFile(
        document=document,
        filename="ж" * 100 + ".pdf",
        media_type="application/pdf",
        content=b"\xff" * MAX_FILE_BYTES,
    )
    assert len(reply.model_dump_json().encode()) < max_message_size()
