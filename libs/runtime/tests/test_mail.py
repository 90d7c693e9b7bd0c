"""The one SMTP mailer against a real SMTP server (aiosmtpd): retried until the relay takes
the letter, `DeliveryError` once every try failed."""

import email
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from gosmed.runtime.mail import Attachment, DeliveryError, SmtpMailer


class FlakyRelay:
    """Answers «try again later» to the first `refusals` letters, then takes them."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.letters: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refusals > 0:
            self.refusals -= 1
            return "451 Requested action aborted: try again later"
        letter = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(letter, EmailMessage)
        self.letters.append(letter)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def relay() -> Iterator[tuple[FlakyRelay, int]]:
    handler = FlakyRelay(refusals=2)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


async def test_a_refused_letter_is_retried_and_sent_once(relay: tuple[FlakyRelay, int]) -> None:
    handler, port = relay
    mailer = SmtpMailer("127.0.0.1", port, "Госуслуги <no-reply@gosmed.example>", retry_delay=0)

    await mailer.send(
        "anna@example.ru",
        "Выписка",
        "Во вложении.",
        Attachment("a.pdf", "application/pdf", b"%PDF"),
    )

    (letter,) = handler.letters
    assert letter["To"] == "anna@example.ru"
    assert letter["Subject"] == "Выписка"
    (attachment,) = letter.iter_attachments()
    assert attachment.get_filename() == "a.pdf"
    assert attachment.get_content() == b"%PDF"


async def test_every_try_failing_is_a_delivery_error(relay: tuple[FlakyRelay, int]) -> None:
    handler, port = relay
    mailer = SmtpMailer("127.0.0.1", port, "no-reply@gosmed.example", attempts=2, retry_delay=0)

    with pytest.raises(DeliveryError, match="SMTPDataError"):
        await mailer.send("anna@example.ru", "Код для входа", "Код: 123456")

    assert handler.letters == []
    assert handler.refusals == 0  # both tries reached the relay
