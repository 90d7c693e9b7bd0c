import logging

import pytest

from gosmed.runtime.logging import JsonFormatter, MaskingFilter, mask


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("login +7 912 345-67-89 ok", "345-67"),
        ("phone 89123456789", "9123456"),
        ("snils 112-233-445 95", "112-233"),
        ("snils 11223344595", "11223344595"),
        ("policy 7700000000000001", "7700000000000001"),
        ("code 483920 sent", "483920"),
        ("mail ivan.petrov@example.ru", "ivan.petrov"),
        ("Bearer abc.def.ghi", "abc.def.ghi"),
        ("token eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl", "eyJzdWIiOi"),
    ],
)
def test_mask_hides_personal_data_and_secrets(text: str, secret: str) -> None:
    assert secret not in mask(text)


def test_mask_keeps_ordinary_text_and_ids() -> None:
    assert mask("records 42 stored in 12 ms") == "records 42 stored in 12 ms"
    uuid = "4954c877-96ce-42d4-928b-125465123456"
    assert mask(f"document {uuid} ready") == f"document {uuid} ready"


def test_masking_filter_masks_arguments_before_formatting() -> None:
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "user %s logged in", ("+79123456789",), None
    )
    assert MaskingFilter().filter(record)
    line = JsonFormatter().format(record)
    assert "9123456" not in line
    assert '"level": "INFO"' in line
