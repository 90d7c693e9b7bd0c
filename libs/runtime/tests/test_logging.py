import json
import logging

import pytest

from gosmed.runtime.logging import JsonFormatter, MaskingFilter
from gosmed.runtime.security_log import SECURITY_LOGGER, mask_ip, security_event


def test_masking_filter_masks_arguments_before_formatting() -> None:
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "user %s logged in", ("+79123456789",), None
    )
    assert MaskingFilter().filter(record)
    line = JsonFormatter().format(record)
    assert "9123456" not in line
    assert '"level": "INFO"' in line


def test_security_event_is_structured_and_masked(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger=SECURITY_LOGGER):
        security_event("login_failed", phone="+79123456789", address=mask_ip("203.0.113.45"))
    (record,) = caplog.records
    assert record.name == SECURITY_LOGGER
    assert MaskingFilter().filter(record)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["security"] == {
        "event": "login_failed",
        "phone": "+7***6789",
        "address": "203.0.113.x",
    }
    assert "9123456" not in entry["message"]
    assert "203.0.113.45" not in entry["message"]


def test_mask_ip_hides_the_host_part() -> None:
    assert mask_ip("10.1.2.3") == "10.1.2.x"
    assert mask_ip("2001:db8:85a3:8d3:1319:8a2e:370:7348") == "2001:db8:85a3:8d3:x"
    assert mask_ip(None) is None
