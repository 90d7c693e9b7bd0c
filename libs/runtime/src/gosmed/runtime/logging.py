"""Structured logging that never writes personal identifiers, codes or tokens."""

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Final

_MASKS: Final = (
    # JWTs and bearer tokens
    (re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+"), "<jwt>"),
    (re.compile(r"(?i)(bearer\s+)\S+"), r"\1<token>"),
    # e-mail: keep the first letter and the domain
    (re.compile(r"\b([\w.+-])[\w.+-]*@([\w-]+\.[\w.-]+)\b"), r"\1***@\2"),
    # phones: +7 or 8 followed by 10 digits with optional separators
    (
        re.compile(r"(?<!\d)(?:\+7|8)[\s(-]*\d{3}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*(\d{2})(?!\d)"),
        r"+7***\1",
    ),
    # SNILS, formatted or bare 11 digits
    (re.compile(r"(?<!\d)\d{3}-\d{3}-\d{3}[ -]\d{2}(?!\d)"), "<snils>"),
    # long digit runs: OMS policies (16), SNILS (11), INN of a person (12), one-time codes (6)
    # (not inside ids such as UUIDs, whose groups can be all digits)
    (re.compile(r"(?<![\w-])(?:\d{16}|\d{12}|\d{11}|\d{6})(?![\w-])"), "<number>"),
)


def mask(text: str) -> str:
    """Replace personal identifiers, secrets and codes in free text."""
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


class MaskingFilter(logging.Filter):
    """Renders each record's message once, masked, so no formatter sees the raw arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask(record.getMessage())
        record.args = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = mask(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class MaskedTextFormatter(logging.Formatter):
    def formatException(self, ei: object) -> str:  # noqa: N802 (stdlib name)
        return mask(super().formatException(ei))  # type: ignore[arg-type]


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
