"""Login by SMS code as the first factor, over the embedded store with a hand-moved clock: the
code's limits (6 digits, 5 minutes, single use, 5 tries, resend interval), the locks, no
enumeration of phones, and a second factor that is the app or the e-mail, never the SMS."""

import asyncio
import logging
import re
from dataclasses import dataclass, field
from datetime import date
from uuid import uuid4

import pyotp
import pytest

from gosmed.contracts import demo
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.access import ConfirmationLevel
from gosmed.contracts.identity.auth import (
    LoginChallenge,
    SecondFactor,
    SendLoginCode,
    SmsLoginStarted,
    StartLogin,
    StartSmsLogin,
    VerifyLogin,
    VerifySmsLogin,
)
from gosmed.contracts.identity.tokens import SessionEnded
from gosmed.identity.announcements import SessionAnnouncer
from gosmed.identity.credentials import TokenSigner
from gosmed.identity.domain import Account
from gosmed.identity.login import LoginService
from gosmed.identity.service import Repositories
from gosmed.identity.settings import IdentitySettings

from .support import Clock, Phone, refused

HOME = "192.0.2.10"
ATTACKER = "198.51.100.66"
PAIR_LIMIT, RESEND, TRIES = 6, 30, 5
UNKNOWN = "+79160000099"
PATIENT_PHONE = demo.PATIENT.phone or ""


@dataclass
class Letters:
    """Stands in for the mailer: keeps (to, body) of each letter."""

    sent: list[tuple[str, str]] = field(default_factory=list)

    async def send(self, to: str, subject: str, body: str) -> None:
        self.sent.append((to, body))

    def last_code(self) -> str:
        (code,) = re.findall(r"\b\d{6}\b", self.sent[-1][1])
        return str(code)


async def publish(event: SessionEnded) -> None:
    return None


@pytest.fixture
def phone() -> Phone:
    return Phone()


@pytest.fixture
def letters() -> Letters:
    return Letters()


@pytest.fixture
def login(repos: Repositories, clock: Clock, phone: Phone, letters: Letters) -> LoginService:
    settings = IdentitySettings(
        slowdown_seconds=0,
        lock_after_failures=PAIR_LIMIT,
        lock_seconds=60,
        code_resend_interval=RESEND,
        code_max_tries=TRIES,
    )
    signer = TokenSigner.load(None, settings.access_token_ttl)
    announcer = SessionAnnouncer(repos.sessions, publish, settings, clock)
    return LoginService(repos, signer, settings, phone, letters, announcer, clock)


async def send(login: LoginService, number: str = PATIENT_PHONE, address: str = HOME) -> str:
    started = await login.start_by_sms(StartSmsLogin(phone=number, client_address=address))
    return str(started.challenge_id)


def sms_code(challenge_id: str, code: str, address: str = HOME) -> VerifySmsLogin:
    return VerifySmsLogin(challenge_id=challenge_id, code=code, client_address=address)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def first_step(login: LoginService, phone: Phone) -> LoginChallenge:
    challenge_id = await send(login)
    return await login.verify_sms(sms_code(challenge_id, phone.last_code()))


def second(attempt: LoginChallenge, factor: SecondFactor, code: str) -> VerifyLogin:
    return VerifyLogin(attempt_id=attempt.attempt_id, factor=factor, code=code, client_address=HOME)


async def test_an_sms_code_then_the_app_opens_a_session(
    login: LoginService, phone: Phone, clock: Clock
) -> None:
    challenge_id = await send(login)
    [(to, text)] = phone.texts
    assert to == PATIENT_PHONE
    assert re.fullmatch(r"Код для входа: \d{6}\. Никому его не сообщайте\.", text)
    attempt = await login.verify_sms(sms_code(challenge_id, phone.last_code()))
    assert attempt.factors == (SecondFactor.TOTP, SecondFactor.EMAIL)
    code = pyotp.TOTP(demo.PATIENT.totp_secret or "").at(clock())
    tokens = await login.verify(second(attempt, SecondFactor.TOTP, code))
    assert tokens.access_token


async def test_an_sms_code_then_an_email_code_opens_a_session(
    login: LoginService, phone: Phone, letters: Letters
) -> None:
    attempt = await first_step(login, phone)
    send_email = SendLoginCode(
        attempt_id=attempt.attempt_id, factor=SecondFactor.EMAIL, client_address=HOME
    )
    sent = await login.send_code(send_email)
    assert sent.destination == "a***@example.ru"
    tokens = await login.verify(second(attempt, SecondFactor.EMAIL, letters.last_code()))
    assert tokens.refresh_token


async def test_an_sms_second_factor_after_an_sms_first_step_is_refused(
    login: LoginService, phone: Phone
) -> None:
    attempt = await first_step(login, phone)
    texts = len(phone.texts)
    send_sms = SendLoginCode(
        attempt_id=attempt.attempt_id, factor=SecondFactor.SMS, client_address=HOME
    )
    message = await refused(login.send_code(send_sms), ErrorCode.FACTOR_NOT_ALLOWED)
    assert "приложением-аутентификатором" in message
    assert len(phone.texts) == texts  # no second SMS went out
    reused = second(attempt, SecondFactor.SMS, phone.last_code())
    await refused(login.verify(reused), ErrorCode.FACTOR_NOT_ALLOWED)


async def test_after_a_password_the_sms_second_factor_is_still_offered(
    login: LoginService, phone: Phone
) -> None:
    attempt = await login.start(
        StartLogin(phone=PATIENT_PHONE, password=demo.PATIENT.password or "", client_address=HOME)
    )
    assert SecondFactor.SMS in attempt.factors
    await login.send_code(
        SendLoginCode(attempt_id=attempt.attempt_id, factor=SecondFactor.SMS, client_address=HOME)
    )
    assert await login.verify(second(attempt, SecondFactor.SMS, phone.last_code()))


async def test_an_account_without_app_or_email_is_told_to_use_its_password(
    login: LoginService, repos: Repositories, phone: Phone
) -> None:
    number = "+79165550011"
    await repos.accounts.add(
        Account(
            id=uuid4(),
            full_name="Орлов Пётр Ильич",
            birth_date=date(1970, 1, 2),
            snils="55566677788",
            oms_policy=None,
            phone=number,
            email=None,
            confirmation_level=ConfirmationLevel.CONFIRMED,
        )
    )
    challenge_id = await send(login, number)
    verify = sms_code(challenge_id, phone.last_code())
    message = await refused(login.verify_sms(verify), ErrorCode.NO_SECOND_FACTOR)
    assert "Войдите по паролю" in message
    await refused(login.verify_sms(verify), ErrorCode.UNAUTHENTICATED)  # the code is spent


async def test_the_code_is_single_use(login: LoginService, phone: Phone) -> None:
    challenge_id = await send(login)
    code = phone.last_code()
    assert await login.verify_sms(sms_code(challenge_id, code))
    message = await refused(
        login.verify_sms(sms_code(challenge_id, code)), ErrorCode.UNAUTHENTICATED
    )
    assert "Начните вход заново" in message


async def test_the_right_code_sent_concurrently_passes_once(
    login: LoginService, phone: Phone
) -> None:
    challenge_id = await send(login)
    verify = sms_code(challenge_id, phone.last_code())
    answers = await asyncio.gather(
        *(login.verify_sms(verify) for _ in range(5)), return_exceptions=True
    )
    passed = [a for a in answers if isinstance(a, LoginChallenge)]
    assert len(passed) == 1
    assert all(
        isinstance(a, ServiceError) and a.code == ErrorCode.UNAUTHENTICATED
        for a in answers
        if a not in passed
    )


async def test_the_code_expires_after_five_minutes(
    login: LoginService, phone: Phone, clock: Clock
) -> None:
    challenge_id = await send(login)
    clock.advance(login.settings.code_ttl)
    await refused(
        login.verify_sms(sms_code(challenge_id, phone.last_code())), ErrorCode.UNAUTHENTICATED
    )


async def test_five_wrong_codes_end_the_challenge(login: LoginService, phone: Phone) -> None:
    challenge_id = await send(login)
    right = phone.last_code()
    messages = [
        await refused(
            login.verify_sms(sms_code(challenge_id, wrong(right))), ErrorCode.UNAUTHENTICATED
        )
        for _ in range(TRIES)
    ]
    assert messages[0] == "Неверный или просроченный код. Осталось попыток: 4."
    assert messages[-1] == "Превышено число попыток ввода кода. Начните вход заново."
    late = await refused(login.verify_sms(sms_code(challenge_id, right)), ErrorCode.UNAUTHENTICATED)
    assert late == messages[-1]


async def test_wrong_codes_count_towards_the_login_lock_of_passwords(
    login: LoginService, phone: Phone, clock: Clock
) -> None:
    challenge_id = await send(login, address=ATTACKER)
    guess = wrong(phone.last_code())
    for _ in range(TRIES):
        await refused(
            login.verify_sms(sms_code(challenge_id, guess, ATTACKER)), ErrorCode.UNAUTHENTICATED
        )
    wrong_password = StartLogin(phone=PATIENT_PHONE, password="wrong", client_address=ATTACKER)
    await refused(login.start(wrong_password), ErrorCode.RATE_LIMITED)  # the 6th failure
    clock.advance(RESEND)
    await refused(send(login, address=ATTACKER), ErrorCode.RATE_LIMITED)
    assert await send(login, address=HOME)  # the owner, elsewhere, is not locked out


async def test_a_lock_ends_the_open_challenges_it_covers(
    login: LoginService, phone: Phone, clock: Clock
) -> None:
    challenge_id = await send(login, address=ATTACKER)
    code = phone.last_code()
    wrong_password = StartLogin(phone=PATIENT_PHONE, password="wrong", client_address=ATTACKER)
    for _ in range(PAIR_LIMIT - 1):
        await refused(login.start(wrong_password), ErrorCode.UNAUTHENTICATED)
    await refused(login.start(wrong_password), ErrorCode.RATE_LIMITED)
    await refused(login.verify_sms(sms_code(challenge_id, code, ATTACKER)), ErrorCode.RATE_LIMITED)
    clock.advance(61)  # the lock is over, the code still within its 5 minutes
    message = await refused(
        login.verify_sms(sms_code(challenge_id, code, HOME)), ErrorCode.UNAUTHENTICATED
    )
    assert "Начните вход заново" in message


async def test_a_new_code_waits_for_the_resend_interval_known_phone_or_not(
    login: LoginService, phone: Phone, clock: Clock
) -> None:
    await send(login)
    await send(login, UNKNOWN)
    clock.advance(RESEND - 1)
    known = await refused(send(login), ErrorCode.RATE_LIMITED)
    unknown = await refused(send(login, UNKNOWN), ErrorCode.RATE_LIMITED)
    assert known == unknown
    clock.advance(1)
    assert await send(login)
    assert len(phone.texts) == 2


async def test_an_unknown_phone_gets_the_same_answer_and_no_sms(
    login: LoginService, phone: Phone
) -> None:
    known = await login.start_by_sms(StartSmsLogin(phone=PATIENT_PHONE, client_address=HOME))
    unknown = await login.start_by_sms(StartSmsLogin(phone=UNKNOWN, client_address=HOME))
    assert isinstance(unknown, SmsLoginStarted)
    assert unknown.expires_at == known.expires_at
    assert unknown.resend_after == known.resend_after
    assert [to for to, _ in phone.texts] == [PATIENT_PHONE]
    guess = wrong(phone.last_code())  # wrong for the known phone; any is for the unknown
    answers = [
        await refused(
            login.verify_sms(sms_code(str(c.challenge_id), guess)), ErrorCode.UNAUTHENTICATED
        )
        for c in (known, unknown)
    ]
    assert answers[0] == answers[1]


async def test_no_code_or_phone_is_logged(
    login: LoginService, phone: Phone, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    challenge_id = await send(login)
    code = phone.last_code()
    await refused(login.verify_sms(sms_code(challenge_id, wrong(code))), ErrorCode.UNAUTHENTICATED)
    await login.verify_sms(sms_code(challenge_id, code))
    assert "login_failed" in caplog.text
    for secret in (code, PATIENT_PHONE, HOME):
        assert secret not in caplog.text
