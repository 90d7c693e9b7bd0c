"""Security-relevant events (OWASP ASVS 16.3) as structured log entries on `gosmed.security`.

One call per event: `security_event("login_failed", phone=mask_phone(p), address=mask_ip(a))`.
Callers pass personal data already masked; every value is masked again as text on the way out.
In JSON logs the fields appear under `"security"`; in text logs as `key=value` pairs.
"""

import logging
from typing import Final

from gosmed.runtime.masking import mask_text

SECURITY_LOGGER: Final = "gosmed.security"
_logger = logging.getLogger(SECURITY_LOGGER)

Value = str | int | bool | None


def security_event(event: str, **fields: Value) -> None:
    """Log one security event with its fields (masked), at INFO on `gosmed.security`."""
    clean = {key: mask_text(str(value)) for key, value in fields.items() if value is not None}
    pairs = " ".join(f"{key}={value}" for key, value in clean.items())
    _logger.info("security %s %s", event, pairs, extra={"security": {"event": event, **clean}})


def mask_ip(address: str | None) -> str | None:
    """«203.0.113.45» -> «203.0.113.x»; IPv6 keeps its first four groups."""
    if not address:
        return None
    if ":" in address:
        return ":".join(address.split(":")[:4]) + ":x"
    head, _, _ = address.rpartition(".")
    return f"{head}.x" if head else address
