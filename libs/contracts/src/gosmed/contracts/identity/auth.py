"""Login with two factors, sessions and the caller's own profile (edge -> identity RPCs)."""

from datetime import date
from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from gosmed.contracts.access import LegalBasis, Role
from gosmed.contracts.base import Contract, Message
from gosmed.contracts.identity.access import Action, ConfirmationLevel, PatientRef
from gosmed.contracts.rpc import Rpc
from gosmed.contracts.topology import Service
from gosmed.contracts.types import MobilePhone

CLIENT_ADDRESS = Field(max_length=64, description="Network address of the citizen's client.")


class SecondFactor(StrEnum):
    TOTP = "totp"
    SMS = "sms"
    EMAIL = "email"


class StartLogin(Message):
    """First step: phone and password; the answer never tells whether the phone is known."""

    phone: MobilePhone = Field(description="Mobile phone the account is registered with.")
    password: str = Field(min_length=1, max_length=256)
    client_address: str = CLIENT_ADDRESS


class LoginChallenge(Contract):
    """The first factor passed (the password, or an SMS code): finish with one of `factors`
    before `expires_at`."""

    attempt_id: UUID
    factors: tuple[SecondFactor, ...]
    expires_at: AwareDatetime


class StartSmsLogin(Message):
    """First step without a password: a one-time code by SMS to the phone. The answer is the
    same whether or not the phone is known (an unknown one gets no SMS)."""

    phone: MobilePhone = Field(description="Mobile phone the account is registered with.")
    client_address: str = CLIENT_ADDRESS


class SmsLoginStarted(Contract):
    """A code is on its way (if the phone has an account): pass it with `challenge_id` before
    `expires_at`; a new code for this phone no sooner than `resend_after`."""

    challenge_id: UUID
    expires_at: AwareDatetime
    resend_after: AwareDatetime


class VerifySmsLogin(Message):
    """The SMS code of the first step; the answer is a login challenge whose second factors
    are never the SMS code again."""

    challenge_id: UUID
    code: str = Field(pattern=r"^[0-9]{6}$", description="Six-digit one-time code.")
    client_address: str = CLIENT_ADDRESS


class SendLoginCode(Message):
    """Send a one-time code of a login attempt by SMS or e-mail (resend is throttled)."""

    attempt_id: UUID
    factor: Literal[SecondFactor.SMS, SecondFactor.EMAIL]
    client_address: str = CLIENT_ADDRESS


class LoginCodeSent(Contract):
    factor: SecondFactor
    destination: str = Field(description="Masked phone or e-mail the code went to.")
    expires_at: AwareDatetime
    resend_after: AwareDatetime


class VerifyLogin(Message):
    """Second step: the code of one factor; success opens a session."""

    attempt_id: UUID
    factor: SecondFactor
    code: str = Field(pattern=r"^[0-9]{6}$", description="Six-digit one-time code.")
    device: str = Field(default="", max_length=200, description="Client's User-Agent.")
    client_address: str = CLIENT_ADDRESS


class SessionTokens(Contract):
    """A short-lived access token (JWT) and a single-use refresh token."""

    session_id: UUID
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 (the scheme name)
    expires_in: int = Field(description="Seconds the access token stays valid.")


class RefreshSession(Message):
    """Rotate a refresh token; a token used twice ends its whole session."""

    refresh_token: str = Field(min_length=1, max_length=200)
    client_address: str = CLIENT_ADDRESS


class EndSessions(Message):
    """Log out: end one session of the account, or all of them when `session_id` is None."""

    account_id: UUID
    session_id: UUID | None = None
    logout: bool = Field(
        default=False, description="The session ends itself (logout), not revoked from another."
    )


class SessionsEnded(Contract):
    ended: int


class ListSessions(Message):
    account_id: UUID
    current_session_id: UUID | None = None


class SessionView(Contract):
    session_id: UUID
    device: str
    client_address: str
    created_at: AwareDatetime
    last_seen_at: AwareDatetime
    current: bool


class SessionsView(Contract):
    sessions: tuple[SessionView, ...]


class GetProfile(Message):
    account_id: UUID


class Profile(Contract):
    """The citizen's own account as the portal shows it."""

    account_id: UUID
    full_name: str
    birth_date: date
    snils: str
    oms_policy: str | None
    phone: str | None
    email: str | None
    confirmation_level: ConfirmationLevel
    roles: frozenset[Role]
    totp_enabled: bool


class ListPatients(Message):
    """The patients an account may act for: itself, children, principals."""

    account_id: UUID


class ActablePatient(Contract):
    patient: PatientRef
    basis: LegalBasis
    basis_document_id: str | None = None
    basis_label: str
    scopes: tuple[Action, ...]
    valid_until: date | None = Field(default=None, description="Last day the basis holds.")


class PatientsView(Contract):
    patients: tuple[ActablePatient, ...]


START_LOGIN = Rpc(Service.IDENTITY, "start-login", StartLogin, LoginChallenge)
START_SMS_LOGIN = Rpc(Service.IDENTITY, "start-sms-login", StartSmsLogin, SmsLoginStarted)
VERIFY_SMS_LOGIN = Rpc(Service.IDENTITY, "verify-sms-login", VerifySmsLogin, LoginChallenge)
SEND_LOGIN_CODE = Rpc(Service.IDENTITY, "send-login-code", SendLoginCode, LoginCodeSent)
VERIFY_LOGIN = Rpc(Service.IDENTITY, "verify-login", VerifyLogin, SessionTokens)
REFRESH_SESSION = Rpc(Service.IDENTITY, "refresh-session", RefreshSession, SessionTokens)
END_SESSIONS = Rpc(Service.IDENTITY, "end-sessions", EndSessions, SessionsEnded)
LIST_SESSIONS = Rpc(Service.IDENTITY, "list-sessions", ListSessions, SessionsView)
GET_PROFILE = Rpc(Service.IDENTITY, "get-profile", GetProfile, Profile)
LIST_PATIENTS = Rpc(Service.IDENTITY, "list-patients", ListPatients, PatientsView)
