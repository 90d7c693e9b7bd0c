"""How large a message each queue accepts.

A larger message is dead-lettered before it is read, with the code `message_too_large` and the
sizes in its reason (and an `ErrorReply` when it has a `reply_to`). RabbitMQ's own
`max_message_size` (deploy/rabbitmq/rabbitmq.conf) caps every message, replies included, above
all of these.
"""

from gosmed.contracts import topology
from gosmed.contracts.documents.lab_reports import EMAIL_LAB_REPORT
from gosmed.contracts.documents.requests import MAX_FILE_BYTES, VERIFY_DOCUMENT
from gosmed.contracts.records.corrections import (
    MAX_ATTACHMENT_BYTES,
    UPLOAD_CORRECTION_ATTACHMENT,
)
from gosmed.contracts.records.intake import RENDERED_SERVICES
from gosmed.contracts.records.lab import LAB_RESULTS
from gosmed.contracts.scheduling.schedules import PUBLISH_SCHEDULE

MIB = 1024 * 1024
DEFAULT_MESSAGE_BYTES = MIB
"""Every queue not named below: far above any valid command, query or event."""
REPORT_MESSAGE_BYTES = 18 * MIB
"""A clinic's report: 500 services with every text at its limit in Cyrillic (two bytes a
letter in UTF-8) take 17.3 MiB."""
SCHEDULE_MESSAGE_BYTES = 4 * MIB
"""A clinic's schedule: 200 slots with five preparations each at their limit in Cyrillic
take about 2 MiB."""
LAB_MESSAGE_BYTES = 24 * MIB
"""A clinic's lab results: 8 MiB of files (base64: 10.7 MiB) and 50 results of 100 analytes
with every text at its limit in Cyrillic (about 10 MiB)."""
FILE_MESSAGE_BYTES = 4 * -(-MAX_FILE_BYTES // 3) + 64 * 1024
"""A message carrying a document file of the largest size kept, base64 in JSON."""
ATTACHMENT_MESSAGE_BYTES = 4 * -(-MAX_ATTACHMENT_BYTES // 3) + 64 * 1024
"""A patient's file for a correction request, base64 in JSON."""

QUEUE_MESSAGE_BYTES: dict[str, int] = {
    topology.command_queue(topology.Service.RECORDS, RENDERED_SERVICES): REPORT_MESSAGE_BYTES,
    topology.command_queue(topology.Service.RECORDS, LAB_RESULTS): LAB_MESSAGE_BYTES,
    VERIFY_DOCUMENT.queue: FILE_MESSAGE_BYTES,
    UPLOAD_CORRECTION_ATTACHMENT.queue: ATTACHMENT_MESSAGE_BYTES,
    EMAIL_LAB_REPORT.queue: FILE_MESSAGE_BYTES,  # the laboratory's file, at most 2 MiB
    topology.command_queue(topology.Service.SCHEDULING, PUBLISH_SCHEDULE): SCHEDULE_MESSAGE_BYTES,
}


def max_message_bytes(queue: str) -> int:
    """The largest message body, in bytes, that `queue` accepts."""
    return QUEUE_MESSAGE_BYTES.get(queue, DEFAULT_MESSAGE_BYTES)
