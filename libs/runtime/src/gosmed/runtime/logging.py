"""Structured logging that never writes personal identifiers, codes or tokens."""

import json
import logging
import sys
from datetime import UTC, datetime

from gosmed.runtime.masking import mask_text


class MaskingFilter(logging.Filter):
    """Renders each record's message once, masked, so no formatter sees the raw arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_text(record.getMessage())
        record.args = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        security = getattr(record, "security", None)
        if security is not None:
            entry["security"] = security
        if record.exc_info:
            entry["exception"] = mask_text(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class MaskedTextFormatter(logging.Formatter):
    def formatException(self, ei: object) -> str:  # noqa: N802 (stdlib name)
        return mask_text(super().formatException(ei))  # type: ignore[arg-type]


def setup_logging(service: str, level: str = "INFO", fmt: str = "text") -> None:
    """Route all logging to stderr, masked; FastStream's per-message logs stay at DEBUG."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(MaskingFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            MaskedTextFormatter(f"%(asctime)s %(levelname)s {service} %(name)s: %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiormq and aio-pika are chatty at INFO about reconnects we already report ourselves.
    logging.getLogger("aiormq").setLevel(logging.WARNING)
    logging.getLogger("aio_pika").setLevel(logging.WARNING)
