"""What an uploaded file is by its bytes, and the patient's quota."""

import pytest

from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.records.files import MAX_FILE_BYTES, FileMediaType
from gosmed.records.files_domain import Quota, media_type_of


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"%PDF-1.7\n", FileMediaType.PDF),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", FileMediaType.JPEG),
        (b"\x89PNG\r\n\x1a\n\x00\x00", FileMediaType.PNG),
    ],
)
def test_type_is_recognised_by_the_leading_bytes(head: bytes, expected: FileMediaType) -> None:
    assert media_type_of(head + b"rest") == expected


@pytest.mark.parametrize("content", [b"\x7fELF\x02\x01", b"MZ\x90\x00", b"GIF89a", b"PDF-1.4"])
def test_anything_else_is_unsupported(content: bytes) -> None:
    with pytest.raises(ServiceError) as refused:
        media_type_of(content)
    assert refused.value.code == ErrorCode.UNSUPPORTED_FILE_TYPE


def test_quota_counts_files_and_bytes_and_the_size_limit() -> None:
    quota = Quota(max_files=2, max_bytes=100)
    quota.check(files=1, used_bytes=50, adding=50)
    for files, used, adding, code in [
        (2, 10, 1, ErrorCode.QUOTA_EXCEEDED),
        (0, 60, 41, ErrorCode.QUOTA_EXCEEDED),
        (0, 0, MAX_FILE_BYTES + 1, ErrorCode.FILE_TOO_LARGE),
    ]:
        with pytest.raises(ServiceError) as refused:
            quota.check(files=files, used_bytes=used, adding=adding)
        assert refused.value.code == code
