"""Changing the authenticator app on the embedded store: a live token is not enough. The
password and the current factor are needed; the new app, once confirmed, ends the other
sessions (announced to the edges) and the account holder is told."""

import logging
from datetime import timedelta
from typing import Any

import pyotp
import pytest

from gosmed.contracts import demo
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.delegations import ConfirmTotp, StartTotpEnrolment
from gosmed.contracts.identity.inbox import ListNotifications
from gosmed.contracts.identity.tokens import SessionEndReason
from gosmed.identity import demo as identity_demo
from gosmed.identity.announcements import SessionAnnouncer
from gosmed.identity.authenticator import CHANGED_TITLE, AuthenticatorService
from gosmed.identity.credentials import TokenSigner
from gosmed.identity.login import LoginService
from gosmed.identity.notifications import NotificationRepository, NotificationService
from gosmed.identity.service import Repositories
from gosmed.identity.settings import IdentitySettings

from .support import Clock, Letters, Mailbox, Phone, refused
from .test_service import Events, start, with_sms

PATIENT = identity_demo.account_id(demo.PATIENT)
SETTINGS = IdentitySettings(slowdown_seconds=0, lock_after_failures=3, step_up_seconds=600)


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def phone() -> Phone:
    return Phone()


@pytest.fixture
def login(repos: Repositories, clock: Clock, phone: Phone, events: Events) -> LoginService:
    signer = TokenSigner.load(None, SETTINGS.access_token_ttl)
    announcer = SessionAnnouncer(repos.sessions, events.publish, SETTINGS, clock)
    return LoginService(repos, signer, SETTINGS, phone, Mailbox(), announcer, clock)


@pytest.fixture
def notifications(
    repos: Repositories, database: Any, clock: Clock, phone: Phone
) -> NotificationService:
    inbox = NotificationRepository(database)
    return NotificationService(inbox, repos.accounts, SETTINGS, phone, Letters(), clock)


@pytest.fixture
def authenticator(
    repos: Repositories,
    clock: Clock,
    events: Events,
    notifications: NotificationService,
) -> AuthenticatorService:
    announcer = SessionAnnouncer(repos.sessions, events.publish, SETTINGS, clock)
    return AuthenticatorService(repos, SETTINGS, announcer, notifications, clock)


def details(caught: pytest.ExceptionInfo[ServiceError]) -> list[str]:
    return [d.code for d in caught.value.details]


async def test_a_live_token_alone_does_not_replace_the_app(
    authenticator: AuthenticatorService, clock: Clock
) -> None:
    current = pyotp.TOTP(demo.PATIENT.totp_secret or "")
    attempts: list[tuple[dict[str, Any], str]] = [
        ({}, "password_required"),
        ({"password": "not-the-password"}, "wrong_password"),
        ({"password": demo.PATIENT.password}, "current_code_required"),
    ]
    for fields, code in attempts:
        with pytest.raises(ServiceError) as caught:
            await authenticator.start(StartTotpEnrolment(account_id=PATIENT, **fields))
        assert caught.value.code == ErrorCode.FORBIDDEN
        assert details(caught) == [code]
    wrong = f"{(int(current.at(clock())) + 1) % 1_000_000:06d}"
    with pytest.raises(ServiceError) as caught:
        await authenticator.start(
            StartTotpEnrolment(account_id=PATIENT, password=demo.PATIENT.password, code=wrong)
        )
    assert details(caught) == ["wrong_code"]
    # the third failure locks further tries for a while, even with the right answers
    third = StartTotpEnrolment(account_id=PATIENT, password="wrong-again")
    await refused(authenticator.start(third), ErrorCode.RATE_LIMITED)
    await refused(
        authenticator.start(
            StartTotpEnrolment(
                account_id=PATIENT, password=demo.PATIENT.password, code=current.at(clock())
            )
        ),
        ErrorCode.RATE_LIMITED,
    )


async def test_a_confirmed_new_app_ends_the_other_sessions_and_tells_the_holder(
    authenticator: AuthenticatorService,
    login: LoginService,
    notifications: NotificationService,
    repos: Repositories,
    phone: Phone,
    events: Events,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="gosmed.security")
    here = await with_sms(login, phone, await start(login))
    elsewhere = await with_sms(login, phone, await start(login))
    code = pyotp.TOTP(demo.PATIENT.totp_secret or "").at(clock())
    enrolment = await authenticator.start(
        StartTotpEnrolment(
            account_id=PATIENT,
            password=demo.PATIENT.password,
            code=code,
            session_id=here.session_id,
        )
    )
    new_app = pyotp.TOTP(enrolment.secret)
    clock.advance(30)
    await authenticator.confirm(
        ConfirmTotp(account_id=PATIENT, code=new_app.at(clock()), session_id=here.session_id)
    )

    account = await repos.accounts.get(PATIENT)
    assert account is not None
    assert account.totp_secret == enrolment.secret
    assert [(e.session_id, e.reason) for e in events.published] == [
        (elsewhere.session_id, SessionEndReason.REVOKED)
    ]
    live = await repos.sessions.live(
        PATIENT, clock(), timedelta(seconds=SETTINGS.session_idle_timeout)
    )
    assert [s.id for s in live] == [here.session_id]

    inbox = await notifications.list(ListNotifications(account_id=PATIENT))
    assert [n.title for n in inbox.notifications] == [CHANGED_TITLE]
    before = len(phone.texts)
    assert await notifications.deliver_due() == 2  # SMS and e-mail
    assert CHANGED_TITLE in phone.texts[before][1]

    events_logged = [r.security for r in caplog.records if hasattr(r, "security")]
    replaced = next(e for e in events_logged if e["event"] == "authenticator_replaced")
    assert replaced["account_id"] == str(PATIENT)
    assert replaced["sessions_ended"] == "1"
    assert enrolment.secret not in caplog.text


async def test_a_first_app_needs_the_password_and_a_fresh_login(
    authenticator: AuthenticatorService,
    login: LoginService,
    database: Any,
    phone: Phone,
    clock: Clock,
) -> None:
    await database["accounts"].update_one({"_id": str(PATIENT)}, {"$set": {"totp_secret": None}})
    session = await with_sms(login, phone, await start(login))
    request = StartTotpEnrolment(
        account_id=PATIENT, password=demo.PATIENT.password, session_id=session.session_id
    )
    clock.advance(601)
    with pytest.raises(ServiceError) as caught:
        await authenticator.start(request)
    assert details(caught) == ["second_factor_required"]
    fresh = await with_sms(login, phone, await start(login))
    enrolment = await authenticator.start(
        request.model_copy(update={"session_id": fresh.session_id})
    )
    assert enrolment.otpauth_uri.startswith("otpauth://totp/")
