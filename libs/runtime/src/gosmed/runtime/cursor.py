"""Opaque page cursors: the sort key of the last item a page showed, for the next page to
start after."""

import base64
import binascii
import json
from collections.abc import Callable

from gosmed.contracts.errors import ErrorCode, ServiceError


def encode_cursor(*position: str) -> str:
    text = json.dumps(position, ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *parts: Callable[[str], object]) -> tuple[str, ...]:
    """The position in `cursor`: one string per item of `parts`, each accepted by it (a
    parser such as `UUID` or `date.fromisoformat`, which raises ValueError on anything
    else); a forged or foreign cursor is a validation error."""
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(position, list) or len(position) != len(parts):
            raise ValueError(len(parts))
        for part, parse in zip(position, parts, strict=True):
            if not isinstance(part, str):
                raise ValueError(part)
            parse(part)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ServiceError(
            ErrorCode.VALIDATION_FAILED, "Некорректный курсор страницы (cursor)."
        ) from None
    return tuple(position)
