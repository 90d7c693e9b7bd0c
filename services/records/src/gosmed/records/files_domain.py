"""Rules of the EMK's uploaded files: what a file is by its bytes, and the patient's quota.
No I/O here."""

from dataclasses import dataclass

from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.records.files import MAX_FILE_BYTES, FileMediaType

_SIGNATURES: tuple[tuple[bytes, FileMediaType], ...] = (
    (b"%PDF-", FileMediaType.PDF),
    (b"\xff\xd8\xff", FileMediaType.JPEG),
    (b"\x89PNG\r\n\x1a\n", FileMediaType.PNG),
)


def media_type_of(content: bytes) -> FileMediaType:
    """The type of a file by its leading bytes (its name and declared type are not believed)."""
    for signature, media_type in _SIGNATURES:
        if content.startswith(signature):
            return media_type
    raise ServiceError(ErrorCode.UNSUPPORTED_FILE_TYPE)


@dataclass(frozen=True)
class Quota:
    """How many files and bytes one patient may keep."""

    max_files: int
    max_bytes: int

    def check(self, files: int, used_bytes: int, adding: int) -> None:
        """Refuse a file of `adding` bytes to a patient who keeps `files` files of `used_bytes`."""
        if adding > MAX_FILE_BYTES:
            raise ServiceError(ErrorCode.FILE_TOO_LARGE)
        if files + 1 > self.max_files or used_bytes + adding > self.max_bytes:
            raise ServiceError(
                ErrorCode.QUOTA_EXCEEDED,
                f"Место для файлов медкарты исчерпано (не более {self.max_files} файлов и "
                f"{self.max_bytes // (1024 * 1024)} МБ): удалите ненужные файлы.",
            )
