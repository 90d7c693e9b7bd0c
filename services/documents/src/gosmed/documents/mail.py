"""E-mail of a document over SMTP (aiosmtplib), retried with a growing delay."""

import asyncio
import logging
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attachment:
    filename: str
    media_type: str
    content: bytes


@dataclass(frozen=True)
class SmtpMailer:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    attempts: int = 4
    retry_delay: float = 1.0

    async def send(self, to: str, subject: str, body: str, attachment: Attachment) -> None:
        """Send, retrying on connection and server errors; the last error propagates."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        main_type, _, sub_type = attachment.media_type.partition("/")
        message.add_attachment(
            attachment.content, maintype=main_type, subtype=sub_type, filename=attachment.filename
        )
        delay = self.retry_delay
        for attempt in range(1, self.attempts + 1):
            try:
                await aiosmtplib.send(
                    message,
                    hostname=self.host,
                    port=self.port,
                    username=self.username,
                    password=self.password,
                    start_tls=self.starttls,
                    timeout=30,
                )
                return
            except (aiosmtplib.SMTPException, OSError) as exc:
                if attempt == self.attempts:
                    raise
                log.warning(
                    "e-mail attempt %d of %d failed (%s); retrying in %.1f s",
                    attempt,
                    self.attempts,
                    type(exc).__name__,
                    delay,
                )
                await asyncio.sleep(delay)
                delay *= 2
