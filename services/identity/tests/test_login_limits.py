"""Login locks and limits on the embedded store with a hand-moved clock: every step checks the
locks, open attempts are capped and ended by a lock, and locks are per phone and address."""

import re
from dataclasses import dataclass, field
from datetime import datetime

import pytest

from gosmed.contracts import demo
from gosmed.contracts.errors import ErrorCode
from gosmed.contracts.identity.auth import (
    SecondFactor,
    SendLoginCode,
    StartLogin,
    VerifyLogin,
)
from gosmed.contracts.identity.tokens import SessionEnded
from gosmed.identity.announcements import SessionAnnouncer
from gosmed.identity.credentials import TokenSigner
from gosmed.identity.service import LoginService, Repositories
from gosmed.identity.settings import IdentitySettings

from .support import Clock, refused

HOME = "192.0.2.10"  # the owner's address
ATTACKER = "198.51.100.66"
PAIR_LIMIT, PHONE_LIMIT, ADDRESS_LIMIT, OPEN_LIMIT = 3, 8, 6, 4


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


async def publish(event: SessionEnded) -> None:
    return None


@pytest.fixture
def phone() -> Phone:
    return Phone()


@pytest.fixture
def login(repos: Repositories, clock: Clock, phone: Phone) -> LoginService:
    settings = IdentitySettings(
        slowdown_seconds=0,
        lock_after_failures=PAIR_LIMIT,
        phone_lock_after_failures=PHONE_LIMIT,
        address_lock_after_failures=ADDRESS_LIMIT,
        max_open_login_attempts=OPEN_LIMIT,
        lock_seconds=60,
        code_resend_interval=0,
    )
    signer = TokenSigner.load(None, settings.access_token_ttl)
    announcer = SessionAnnouncer(repos.sessions, publish, settings, clock)
    return LoginService(repos, signer, settings, phone, Mailbox(), announcer, clock)


async def start(
    login: LoginService, address: str = HOME, person: demo.DemoPerson = demo.PATIENT
) -> str:
    challenge = await login.start(
        StartLogin(phone=person.phone, password=person.password, client_address=address)
    )
    return str(challenge.attempt_id)


def wrong_password(address: str, person_phone: str = demo.PATIENT.phone or "") -> StartLogin:
    return StartLogin(phone=person_phone, password="wrong", client_address=address)


async def send_sms(login: LoginService, attempt_id: str, address: str = HOME) -> None:
    await login.send_code(
        SendLoginCode(attempt_id=attempt_id, factor=SecondFactor.SMS, client_address=address)
    )


def sms(attempt_id: str, code: str, address: str = HOME) -> VerifyLogin:
    return VerifyLogin(
        attempt_id=attempt_id, factor=SecondFactor.SMS, code=code, client_address=address
    )


async def lock_pair(login: LoginService, address: str) -> None:
    for _ in range(PAIR_LIMIT - 1):
        await refused(login.start(wrong_password(address)), ErrorCode.UNAUTHENTICATED)
    await refused(login.start(wrong_password(address)), ErrorCode.RATE_LIMITED)


async def test_a_right_code_opens_no_session_once_the_phone_is_locked_at_that_address(
    login: LoginService, phone: Phone
) -> None:
    """The finding of issue 10 (H1): attempts opened with a stolen password kept their code
    tries after the lock, and a right code opened a session."""
    attempts = [await start(login, ATTACKER) for _ in range(2)]
    await send_sms(login, attempts[0], ATTACKER)
    code = phone.last_code()
    await lock_pair(login, ATTACKER)
    await refused(login.verify(sms(attempts[0], code, ATTACKER)), ErrorCode.RATE_LIMITED)
    await refused(send_sms(login, attempts[1], ATTACKER), ErrorCode.RATE_LIMITED)
