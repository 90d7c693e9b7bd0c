"""Rules of a correction request's files: PDF, JPEG or PNG (by their first bytes, whatever
the name says), at most `MAX_ATTACHMENT_BYTES` each. No I/O here."""

from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.records.corrections import MAX_ATTACHMENT_BYTES, AttachmentType

SIGNATURES: tuple[tuple[bytes, AttachmentType], ...] = (
    (b"%PDF-", AttachmentType.PDF),
    (b"\xff\xd8\xff", AttachmentType.JPEG),
    (b"\x89PNG\r\n\x1a\n", AttachmentType.PNG),
)
UNSUPPORTED = "Приложить можно только файлы PDF, JPEG или PNG."
TOO_LARGE = f"Файл больше {MAX_ATTACHMENT_BYTES // (1024 * 1024)} МБ."


def attachment_type(content: bytes) -> AttachmentType:
    """The type of an acceptable file; UNSUPPORTED_FILE_TYPE or FILE_TOO_LARGE otherwise."""
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise ServiceError(ErrorCode.FILE_TOO_LARGE, TOO_LARGE)
    for signature, media_type in SIGNATURES:
        if content.startswith(signature):
            return media_type
    raise ServiceError(ErrorCode.UNSUPPORTED_FILE_TYPE, UNSUPPORTED)


def sealing_context(attachment_id: str) -> bytes:
    """What a file's ciphertext is bound to: it opens only as this attachment."""
    return f"gosmed.records.correction-attachment:{attachment_id}".encode()
