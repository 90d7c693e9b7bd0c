"""Helpers the identity tests share: a clock moved by hand, the check of a refusal and an
access decision asked for demo people."""

import re
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from gosmed.contracts import demo
from gosmed.contracts.access import AccessContext, LegalBasis
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.access import AccessDecision, Action, Authorize
from gosmed.identity.demo import account_id
from gosmed.identity.service import AccessService

REQUEST_DAYS = 7  # how long a patient's confirmation of an insurer's request lasts in the tests


@dataclass
class Clock:
    """Starts now, whole seconds (the store keeps milliseconds), and moves only when told."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 0, *, days: int = 0) -> None:
        self.now += timedelta(days=days, seconds=seconds)


async def refused(call: Awaitable[object], code: ErrorCode) -> str:
    """The Russian message of the ServiceError `call` raises, after checking its code."""
    with pytest.raises(ServiceError) as caught:
        await call
    assert caught.value.code == code
    return caught.value.message


async def authorize(
    access: AccessService,
    actor: demo.DemoPerson,
    patient: demo.DemoPerson | None,
    action: Action = Action.READ_SERVICES,
    *,
    basis: LegalBasis | None = None,
    document_id: str | None = None,
) -> AccessDecision:
    """The decision on `actor` doing `action` for `patient` (None: for themself)."""
    context = AccessContext(
        actor_id=account_id(actor),
        patient_id=account_id(patient) if patient else None,
        basis=basis,
        basis_document_id=document_id,
    )
    return await access.authorize(Authorize(context=context, action=action))


@dataclass
class Phone:
    """Stands in for the SMS gateway: keeps what was sent."""

    texts: list[tuple[str, str]] = field(default_factory=list)

    async def send(self, to: str, text: str, sent_at: datetime) -> None:
        self.texts.append((to, text))

    def last_code(self) -> str:
        (code,) = re.findall(r"\b\d{6}\b", self.texts[-1][1])
        return str(code)


class Mailbox:
    async def send(self, to: str, subject: str, text: str) -> None:
        raise AssertionError("these tests log in without e-mail")


@dataclass
class Letters:
    """Stands in for the mailer: keeps (to, subject) of each letter."""

    sent: list[tuple[str, str]] = field(default_factory=list)

    async def send(self, to: str, subject: str, body: str) -> None:
        self.sent.append((to, subject))
