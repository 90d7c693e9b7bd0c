import logging

from gosmed.runtime.logging import JsonFormatter, MaskingFilter


def test_masking_filter_masks_arguments_before_formatting() -> None:
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "user %s logged in", ("+79123456789",), None
    )
    assert MaskingFilter().filter(record)
    line = JsonFormatter().format(record)
    assert "9123456" not in line
    assert '"level": "INFO"' in line
