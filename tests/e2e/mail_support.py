"""A real SMTP server (aiosmtpd) that keeps the letters identity delivers, for e2e tests.

In a test module:

    SMTP_PORT = free_port()

    @pytest.fixture(scope="module")
    def mailbox() -> Iterator[Mailbox]:
        yield from serve_mailbox(SMTP_PORT)

and `GOSMED_IDENTITY_SMTP_PORT` set to `SMTP_PORT` in `stack_env`.
"""

import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class Mailbox:
    """An SMTP server's letters, as identity delivers them."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        letter = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(letter, EmailMessage)
        self.messages.append(letter)
        return "250 OK"

    def about(self, text: str) -> list[EmailMessage]:
        """The letters whose subject contains `text`."""
        return [m for m in self.messages if text in str(m["Subject"])]


def serve_mailbox(port: int) -> Iterator[Mailbox]:
    """A mailbox served on 127.0.0.1:`port` while the generator is open."""
    found = Mailbox()
    controller = Controller(found, hostname="127.0.0.1", port=port)
    controller.start()
    yield found
    controller.stop()


def letter_about(mailbox: Mailbox, text: str, within: float = 15.0) -> EmailMessage:
    """The newest letter whose subject contains `text` (delivery is asynchronous)."""
    deadline = time.monotonic() + within
    while not (found := mailbox.about(text)):
        assert time.monotonic() < deadline, f"no e-mail about {text}"
        time.sleep(0.1)  # polling the SMTP server's mailbox with a deadline
    return found[-1]
