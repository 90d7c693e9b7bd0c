"""E-mail over SMTP (aiosmtplib), retried with exponential backoff (tenacity)."""

import logging
from dataclasses import dataclass, fields
from email.message import EmailMessage
from typing import Self

import aiosmtplib
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings
from tenacity import (
    AsyncRetrying,
    before_sleep_log,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """The mail relay (or another gateway) did not take the message; try again later."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    media_type: str
    content: bytes


class SmtpSettings(BaseSettings):
    """The SMTP relay of a service that sends mail (fields under the service's env prefix)."""

    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_sender: str = "Госуслуги <no-reply@gosmed.example>"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = Field(
        default=False,
        description="Upgrade to TLS with STARTTLS (submission, port 587); refused if the relay "
        "does not offer it. The relay's certificate is verified against the system's CAs "
        "(`SSL_CERT_FILE` adds a private CA).",
    )
    smtp_implicit_tls: bool = Field(
        default=False,
        description="TLS from the first byte (SMTPS, port 465), the certificate verified alike.",
    )
    smtp_timeout: float = Field(default=30.0, gt=0, description="Seconds per try.")
    smtp_attempts: int = Field(default=4, ge=1, le=20, description="Tries per e-mail.")
    smtp_retry_delay: float = Field(
        default=1.0, ge=0, description="Seconds before the second try; doubles after each."
    )

    @model_validator(mode="after")
    def _one_kind_of_tls(self) -> Self:
        if self.smtp_starttls and self.smtp_implicit_tls:
            raise ValueError("SMTP: STARTTLS or implicit TLS, not both")
        return self


@dataclass(frozen=True)
class SmtpMailer:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    implicit_tls: bool = False
    timeout: float = 30.0
    attempts: int = 4
    retry_delay: float = 1.0

    @classmethod
    def configured(cls, settings: SmtpSettings) -> "SmtpMailer":
        """The mailer of a service's `smtp_*` settings."""
        return cls(**{f.name: getattr(settings, f"smtp_{f.name}") for f in fields(cls)})

    async def send(
        self, to: str, subject: str, body: str, attachment: Attachment | None = None
    ) -> None:
        """Send, retrying on connection and server errors; `DeliveryError` after the last try."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        if attachment is not None:
            main_type, _, sub_type = attachment.media_type.partition("/")
            message.add_attachment(
                attachment.content,
                maintype=main_type,
                subtype=sub_type,
                filename=attachment.filename,
            )
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=self.retry_delay),
            retry=retry_if_exception_type((aiosmtplib.SMTPException, OSError)),
            before_sleep=before_sleep_log(log, logging.WARNING),
            reraise=True,
        )
        try:
            await retrying(
                aiosmtplib.send,
                message,
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                start_tls=self.starttls,  # False: never, not even opportunistically
                use_tls=self.implicit_tls,
                timeout=self.timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryError(type(exc).__name__) from exc
