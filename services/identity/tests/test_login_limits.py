"""Login locks and limits on the embedded store with a hand-moved clock: every step checks the
locks, open attempts are capped and ended by a lock, and locks are per phone and address."""

import logging

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
from gosmed.identity.login import LoginService
from gosmed.identity.service import Repositories
from gosmed.identity.settings import IdentitySettings
from gosmed.runtime.security_log import SECURITY_LOGGER

from .support import Clock, Mailbox, Phone, refused

HOME = "192.0.2.10"  # the owner's address
ATTACKER = "198.51.100.66"
PAIR_LIMIT, PHONE_LIMIT, ADDRESS_LIMIT, OPEN_LIMIT = 3, 8, 6, 4


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


async def test_attempts_a_lock_ended_stay_ended_after_the_lock(
    login: LoginService, phone: Phone, clock: Clock
) -> None:
    attempt_id = await start(login, ATTACKER)
    await send_sms(login, attempt_id, ATTACKER)
    code = phone.last_code()
    await lock_pair(login, ATTACKER)
    clock.advance(61)
    message = await refused(
        login.verify(sms(attempt_id, code, ATTACKER)), ErrorCode.UNAUTHENTICATED
    )
    assert "Начните вход заново" in message
    assert await start(login, ATTACKER)  # the lock is over: a new attempt may begin


async def test_open_attempts_are_capped_per_account(
    login: LoginService, phone: Phone, clock: Clock
) -> None:
    attempts = [await start(login) for _ in range(OPEN_LIMIT)]
    message = await refused(start(login, ATTACKER), ErrorCode.RATE_LIMITED)
    assert message.startswith("Слишком много незавершённых входов")
    await send_sms(login, attempts[0])
    await login.verify(sms(attempts[0], phone.last_code()))  # one finished: a place is free
    assert await start(login)
    await refused(start(login), ErrorCode.RATE_LIMITED)
    clock.advance(login.settings.login_attempt_ttl)  # the open ones expired
    assert await start(login)


async def test_a_stranger_guessing_from_elsewhere_does_not_lock_the_owner_out(
    login: LoginService, phone: Phone
) -> None:
    owners = await start(login, HOME)
    await lock_pair(login, ATTACKER)
    await refused(start(login, ATTACKER), ErrorCode.RATE_LIMITED)
    await send_sms(login, owners, HOME)  # the owner's open attempt was not ended
    assert await login.verify(sms(owners, phone.last_code(), HOME))
    assert await start(login, HOME)


async def test_wrong_codes_lock_the_pair_and_end_the_attempt_wherever_it_began(
    login: LoginService, phone: Phone
) -> None:
    elsewhere = await start(login, HOME)
    await send_sms(login, elsewhere, ATTACKER)
    code = phone.last_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(PAIR_LIMIT - 1):
        await refused(login.verify(sms(elsewhere, wrong, ATTACKER)), ErrorCode.UNAUTHENTICATED)
    await refused(login.verify(sms(elsewhere, wrong, ATTACKER)), ErrorCode.RATE_LIMITED)
    message = await refused(login.verify(sms(elsewhere, code, HOME)), ErrorCode.UNAUTHENTICATED)
    assert "Начните вход заново" in message  # ended by the lock, not only refused at ATTACKER


async def test_guesses_spread_over_addresses_lock_the_phone_everywhere(
    login: LoginService, phone: Phone
) -> None:
    owners = await start(login, HOME)
    addresses = [f"203.0.113.{n}" for n in range(PHONE_LIMIT)]
    for address in addresses[:-1]:
        await refused(login.start(wrong_password(address)), ErrorCode.UNAUTHENTICATED)
    await refused(login.start(wrong_password(addresses[-1])), ErrorCode.RATE_LIMITED)
    await refused(start(login, HOME), ErrorCode.RATE_LIMITED)
    await refused(send_sms(login, owners, HOME), ErrorCode.RATE_LIMITED)


async def test_failures_through_one_address_lock_it_but_not_other_addresses(
    login: LoginService, phone: Phone
) -> None:
    """Issue 10 (H2): many people behind one proxy used to share its address, so failures of
    some locked all. With the edge passing each client's own address, one address locking
    leaves the others alone; spraying from one address is still stopped."""
    proxy_user = await start(login, ATTACKER)
    phones = [f"+7916555{n:04d}" for n in range(ADDRESS_LIMIT)]
    for number in phones[:-1]:
        await refused(login.start(wrong_password(ATTACKER, number)), ErrorCode.UNAUTHENTICATED)
    await refused(login.start(wrong_password(ATTACKER, phones[-1])), ErrorCode.RATE_LIMITED)
    await refused(start(login, ATTACKER), ErrorCode.RATE_LIMITED)
    message = await refused(send_sms(login, proxy_user, HOME), ErrorCode.UNAUTHENTICATED)
    assert "Начните вход заново" in message  # the attempt begun at the locked address ended
    attempt_id = await start(login, HOME)
    await send_sms(login, attempt_id, HOME)
    assert await login.verify(sms(attempt_id, phone.last_code(), HOME))


async def test_locked_answers_are_the_same_for_known_and_unknown_phones(
    login: LoginService,
) -> None:
    unknown = "+79160000099"
    answers = []
    for number in (demo.PATIENT.phone or "", unknown):
        for _ in range(PAIR_LIMIT - 1):
            await refused(login.start(wrong_password(ATTACKER, number)), ErrorCode.UNAUTHENTICATED)
        answers.append(
            await refused(login.start(wrong_password(ATTACKER, number)), ErrorCode.RATE_LIMITED)
        )
        answers.append(
            await refused(login.start(wrong_password(ATTACKER, number)), ErrorCode.RATE_LIMITED)
        )
    assert len(set(answers)) == 1


def security_events(caplog: pytest.LogCaptureFixture) -> list[dict[str, str]]:
    return [r.__dict__["security"] for r in caplog.records if r.name == SECURITY_LOGGER]


async def test_logins_failures_locks_and_ended_attempts_are_logged_masked(
    login: LoginService, phone: Phone, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=SECURITY_LOGGER)
    attempt_id = await start(login, ATTACKER)
    await lock_pair(login, ATTACKER)
    await refused(send_sms(login, attempt_id, ATTACKER), ErrorCode.RATE_LIMITED)
    owners = await start(login, HOME)
    await send_sms(login, owners, HOME)
    await login.verify(sms(owners, phone.last_code(), HOME))

    masked_phone, attacker, home = "+7***0001", "198.51.100.x", "192.0.2.x"
    events = security_events(caplog)
    failed = [e for e in events if e["event"] == "login_failed"]
    assert [(e["step"], e["reason"]) for e in failed] == [
        ("password", "wrong_password"),
        ("password", "wrong_password"),
        ("password", "wrong_password"),
        ("send_code", "locked"),
    ]
    assert all((e["phone"], e["address"]) == (masked_phone, attacker) for e in failed)
    [started] = [e for e in events if e["event"] == "login_lock_started"]
    assert started == {
        "event": "login_lock_started",
        "lock": "pair",
        "phone": masked_phone,
        "address": attacker,
        "seconds": "60",
    }
    [ended] = [e for e in events if e["event"] == "login_attempts_ended"]
    assert (ended["reason"], ended["lock"], ended["attempts"]) == ("lock", "pair", "1")
    assert ended["address"] == attacker
    [succeeded] = [e for e in events if e["event"] == "login_succeeded"]
    assert (succeeded["phone"], succeeded["address"], succeeded["factor"]) == (
        masked_phone,
        home,
        "sms",
    )
    logged = caplog.text
    for personal in (demo.PATIENT.phone or "", ATTACKER, HOME, phone.last_code()):
        assert personal not in logged
