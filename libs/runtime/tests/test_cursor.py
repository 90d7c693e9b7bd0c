"""Page cursors: opaque, round-tripping, and a forged one is a validation error."""

from datetime import date
from uuid import UUID

import pytest

from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.runtime.cursor import decode_cursor, encode_cursor


def test_a_position_round_trips() -> None:
    position = ("гп № 7", "6525844a-f8ea-5b3e-9a24-69beea9ae5e8")
    cursor = encode_cursor(*position)
    assert "гп" not in cursor
    assert decode_cursor(cursor, str, UUID) == position


@pytest.mark.parametrize(
    "forged",
    [
        "not-a-cursor",
        "W10",  # an empty list
        encode_cursor("2026-01-02"),  # too short
        encode_cursor("2026-01-02", "not-a-uuid"),
        encode_cursor("yesterday", "6525844a-f8ea-5b3e-9a24-69beea9ae5e8"),
        "WzEsMl0",  # [1,2]: numbers, not strings
        "__8",  # not UTF-8
    ],
)
def test_a_forged_cursor_is_a_validation_error(forged: str) -> None:
    with pytest.raises(ServiceError) as error:
        decode_cursor(forged, date.fromisoformat, UUID)
    assert error.value.code == ErrorCode.VALIDATION_FAILED
    assert error.value.message == "Некорректный курсор страницы (cursor)."
