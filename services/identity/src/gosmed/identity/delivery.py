"""Delivery channels: the SMS gateway adapter and e-mail over SMTP."""

import asyncio
import json
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib


class DeliveryError(Exception):
    """The gateway or the mail relay did not take the message; try again later."""


class JsonLinesSmsGateway:
    """Development SMS gateway: appends each SMS as a JSON line to a file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as outbox:
            outbox.write(line + "\n")

    async def send(self, phone: str, text: str, sent_at: datetime) -> None:
        line = json.dumps(
            {"to": phone, "text": text, "sent_at": sent_at.isoformat()}, ensure_ascii=False
        )
        await asyncio.to_thread(self._append, line)


class SmtpMailer:
    """Plain SMTP delivery (aiosmtplib); TLS and credentials belong to the relay it talks to."""

    def __init__(self, host: str, port: int, sender: str, timeout: float = 10.0) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.timeout = timeout

    async def send(self, to: str, subject: str, text: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(text)
        try:
            await aiosmtplib.send(message, hostname=self.host, port=self.port, timeout=self.timeout)
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryError(type(exc).__name__) from exc
