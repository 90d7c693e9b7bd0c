"""Login and sessions over the embedded store with a hand-moved clock: expiries without sleeping."""

from dataclasses import dataclass, field
from datetime import timedelta

import pyotp
import pytest

from gosmed.contracts import demo
from gosmed.contracts.errors import ErrorCode
from gosmed.contracts.identity.access import Authenticate
from gosmed.contracts.identity.auth import (
    EndSessions,
    RefreshSession,
    SecondFactor,
    SendLoginCode,
    SessionTokens,
    StartLogin,
    VerifyLogin,
)
from gosmed.contracts.identity.tokens import ListEndedSessions, SessionEnded, SessionEndReason
from gosmed.identity import demo as identity_demo
from gosmed.identity.announcements import SessionAnnouncer
from gosmed.identity.credentials import TokenSigner
from gosmed.identity.login import LoginService
from gosmed.identity.service import Repositories
from gosmed.identity.settings import IdentitySettings

from .support import Clock, Mailbox, Phone, refused

ADDRESS = "192.0.2.10"


@pytest.fixture
def phone() -> Phone:
    return Phone()


@dataclass
class Events:
    """Stands in for the broker: keeps each published SessionEnded, or fails while `down`."""

    published: list[SessionEnded] = field(default_factory=list)
    down: bool = False

    async def publish(self, event: SessionEnded) -> None:
        if self.down:
            raise ConnectionError("broker away")
        self.published.append(event)


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def login(repos: Repositories, clock: Clock, phone: Phone, events: Events) -> LoginService:
    settings = IdentitySettings(
        slowdown_seconds=0, lock_after_failures=3, lock_seconds=60, code_resend_interval=30
    )
    signer = TokenSigner.load(None, settings.access_token_ttl)
    announcer = SessionAnnouncer(repos.sessions, events.publish, settings, clock)
    return LoginService(repos, signer, settings, phone, Mailbox(), announcer, clock)


async def start(login: LoginService, person: demo.DemoPerson = demo.PATIENT) -> str:
    challenge = await login.start(
        StartLogin(phone=person.phone, password=person.password, client_address=ADDRESS)
    )
    return str(challenge.attempt_id)


async def with_sms(login: LoginService, phone: Phone, attempt_id: str) -> SessionTokens:
    await login.send_code(
        SendLoginCode(attempt_id=attempt_id, factor=SecondFactor.SMS, client_address=ADDRESS)
    )
    return await login.verify(
        VerifyLogin(
            attempt_id=attempt_id,
            factor=SecondFactor.SMS,
            code=phone.last_code(),
            client_address=ADDRESS,
        )
    )


async def test_an_sms_code_expires_after_five_minutes(
    login: LoginService, phone: Phone, clock: Clock
) -> None:
    attempt_id = await start(login)
    await login.send_code(
        SendLoginCode(attempt_id=attempt_id, factor=SecondFactor.SMS, client_address=ADDRESS)
    )
    clock.advance(301)
    late = VerifyLogin(
        attempt_id=attempt_id,
        factor=SecondFactor.SMS,
        code=phone.last_code(),
        client_address=ADDRESS,
    )
    message = await refused(login.verify(late), ErrorCode.UNAUTHENTICATED)
    assert message.startswith("Неверный или просроченный код.")


async def test_a_resend_waits_for_the_interval(
    login: LoginService, phone: Phone, clock: Clock
) -> None:
    attempt_id = await start(login)
    send = SendLoginCode(attempt_id=attempt_id, factor=SecondFactor.SMS, client_address=ADDRESS)
    await login.send_code(send)
    clock.advance(29)
    await refused(login.send_code(send), ErrorCode.RATE_LIMITED)
    clock.advance(1)
    sent = await login.send_code(send)
    assert sent.destination == "+7***0001"
    assert len(phone.texts) == 2


async def test_a_lock_ends_after_its_time(login: LoginService, clock: Clock) -> None:
    wrong = StartLogin(phone=demo.PATIENT.phone, password="wrong", client_address=ADDRESS)
    await refused(login.start(wrong), ErrorCode.UNAUTHENTICATED)
    await refused(login.start(wrong), ErrorCode.UNAUTHENTICATED)
    await refused(login.start(wrong), ErrorCode.RATE_LIMITED)
    await refused(start(login), ErrorCode.RATE_LIMITED)
    clock.advance(61)
    assert await start(login)


async def test_the_access_token_dies_after_its_lifetime(
    login: LoginService, phone: Phone, clock: Clock
) -> None:
    tokens = await with_sms(login, phone, await start(login))
    principal = await login.authenticate(Authenticate(access_token=tokens.access_token))
    assert principal.account_id == identity_demo.account_id(demo.PATIENT)
    clock.advance(login.settings.access_token_ttl + 1)
    message = await refused(
        login.authenticate(Authenticate(access_token=tokens.access_token)),
        ErrorCode.UNAUTHENTICATED,
    )
    assert message == "Токен доступа недействителен или истёк."


async def test_an_idle_session_ends_and_cannot_be_refreshed(
    login: LoginService, phone: Phone, clock: Clock
) -> None:
    tokens = await with_sms(login, phone, await start(login))
    clock.advance(login.settings.session_idle_timeout + 1)
    await refused(
        login.refresh(RefreshSession(refresh_token=tokens.refresh_token, client_address=ADDRESS)),
        ErrorCode.UNAUTHENTICATED,
    )


async def test_an_active_session_still_ends_at_the_absolute_timeout(
    login: LoginService, phone: Phone, clock: Clock
) -> None:
    tokens = await with_sms(login, phone, await start(login))
    step = login.settings.access_token_ttl - 10
    elapsed = 0
    while elapsed + step < login.settings.session_absolute_timeout:
        clock.advance(step)
        elapsed += step
        tokens = await login.refresh(
            RefreshSession(refresh_token=tokens.refresh_token, client_address=ADDRESS)
        )
    clock.advance(step)
    await refused(
        login.refresh(RefreshSession(refresh_token=tokens.refresh_token, client_address=ADDRESS)),
        ErrorCode.UNAUTHENTICATED,
    )


async def test_a_login_attempt_expires(login: LoginService, clock: Clock) -> None:
    attempt_id = await start(login)
    clock.advance(login.settings.login_attempt_ttl)
    code = pyotp.TOTP(demo.PATIENT.totp_secret or "").at(clock())
    late = VerifyLogin(
        attempt_id=attempt_id, factor=SecondFactor.TOTP, code=code, client_address=ADDRESS
    )
    message = await refused(login.verify(late), ErrorCode.UNAUTHENTICATED)
    assert "Начните вход заново" in message


async def test_a_totp_code_of_an_earlier_step_than_the_last_used_one_is_refused(
    login: LoginService, clock: Clock
) -> None:
    totp = pyotp.TOTP(demo.PATIENT.totp_secret or "")
    current = totp.timecode(clock())

    async def verify(step: int) -> SessionTokens:
        return await login.verify(
            VerifyLogin(
                attempt_id=await start(login),
                factor=SecondFactor.TOTP,
                code=totp.generate_otp(step),
                client_address=ADDRESS,
            )
        )

    assert await verify(current)
    await refused(verify(current - 1), ErrorCode.UNAUTHENTICATED)
    assert await verify(current + 1)
    await refused(verify(current + 1), ErrorCode.UNAUTHENTICATED)


# --- SessionEnded: how the edge learns that a token's session is over -------------------------


def refresh_of(tokens: SessionTokens) -> RefreshSession:
    return RefreshSession(refresh_token=tokens.refresh_token, client_address=ADDRESS)


async def test_a_logout_is_announced_with_how_long_its_tokens_live(
    login: LoginService, phone: Phone, clock: Clock, events: Events
) -> None:
    opened_at = clock()
    tokens = await with_sms(login, phone, await start(login))
    clock.advance(10)
    patient = identity_demo.account_id(demo.PATIENT)
    request = EndSessions(account_id=patient, session_id=tokens.session_id, logout=True)
    assert (await login.end_sessions(request)).ended == 1
    [event] = events.published
    assert (event.session_id, event.account_id) == (tokens.session_id, patient)
    assert event.reason == SessionEndReason.LOGOUT
    ttl = timedelta(seconds=login.settings.access_token_ttl)
    stored = timedelta(milliseconds=1)  # what the store keeps of a time
    assert abs(event.ended_at - clock()) < stored
    assert abs(event.tokens_expire_by - (opened_at + ttl)) < stored
    message = await refused(
        login.authenticate(Authenticate(access_token=tokens.access_token)),
        ErrorCode.UNAUTHENTICATED,
    )
    assert message == "Сеанс завершён или истёк. Войдите снова."


async def test_ending_all_sessions_announces_each_as_revoked(
    login: LoginService, phone: Phone, events: Events
) -> None:
    first = await with_sms(login, phone, await start(login))
    second = await with_sms(login, phone, await start(login))
    await login.end_sessions(EndSessions(account_id=identity_demo.account_id(demo.PATIENT)))
    assert {(e.session_id, e.reason) for e in events.published} == {
        (first.session_id, SessionEndReason.REVOKED),
        (second.session_id, SessionEndReason.REVOKED),
    }


async def test_a_reused_refresh_token_is_announced_and_a_timed_out_one_as_idle(
    login: LoginService, phone: Phone, clock: Clock, events: Events
) -> None:
    first = await with_sms(login, phone, await start(login))
    await login.refresh(refresh_of(first))
    await refused(login.refresh(refresh_of(first)), ErrorCode.UNAUTHENTICATED)
    assert [(e.session_id, e.reason) for e in events.published] == [
        (first.session_id, SessionEndReason.REFRESH_REUSED)
    ]
    idle = await with_sms(login, phone, await start(login))
    clock.advance(login.settings.session_idle_timeout + 1)
    await refused(login.refresh(refresh_of(idle)), ErrorCode.UNAUTHENTICATED)
    assert events.published[-1].session_id == idle.session_id
    assert events.published[-1].reason == SessionEndReason.IDLE_TIMEOUT


async def test_the_sweep_ends_idle_sessions_and_publishes_what_could_not_be_published(
    login: LoginService, phone: Phone, clock: Clock, events: Events
) -> None:
    announcer = login.announcer
    busy = await with_sms(login, phone, await start(login))
    idle = await with_sms(login, phone, await start(login))
    step = login.settings.access_token_ttl - 10
    for _ in range(login.settings.session_idle_timeout // step):
        clock.advance(step)
        busy = await login.refresh(refresh_of(busy))  # a refresh is the activity
    clock.advance(step)
    events.down = True
    await announcer.sweep()
    assert events.published == []
    events.down = False
    await announcer.sweep()
    [event] = events.published
    assert (event.session_id, event.reason) == (idle.session_id, SessionEndReason.IDLE_TIMEOUT)
    await announcer.sweep()
    assert len(events.published) == 1  # published once the broker took it
    assert await login.refresh(refresh_of(busy))


async def test_ended_sessions_are_listed_while_their_tokens_live(
    login: LoginService, phone: Phone, clock: Clock
) -> None:
    tokens = await with_sms(login, phone, await start(login))
    patient = identity_demo.account_id(demo.PATIENT)
    await login.end_sessions(EndSessions(account_id=patient, session_id=tokens.session_id))
    listed = await login.announcer.ended_sessions(ListEndedSessions())
    assert [s.session_id for s in listed.sessions] == [tokens.session_id]
    clock.advance(login.settings.access_token_ttl)
    assert (await login.announcer.ended_sessions(ListEndedSessions())).sessions == ()
