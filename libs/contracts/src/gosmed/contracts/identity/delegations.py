"""Powers of attorney (and a teenager's consent for a parent), and TOTP enrolment."""

from datetime import date
from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import Field, model_validator

from gosmed.contracts.base import Contract, Message
from gosmed.contracts.identity.access import Action
from gosmed.contracts.rpc import Rpc
from gosmed.contracts.topology import Service
from gosmed.contracts.types import Snils


class DelegationBasis(StrEnum):
    """What a power of attorney rests on."""

    GUARDIAN_DECISION = "guardian_decision"
    NOTARIZED = "notarized"
    QUALIFIED_SIGNATURE = "qualified_signature"
    MINOR_CONSENT = "minor_consent"


class DelegationStatus(StrEnum):
    AWAITING_AGENT = "awaiting_agent"
    PENDING_VERIFICATION = "pending_verification"
    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"


class CreateDelegation(Message):
    """The patient (`principal_id`) lets the agent act for them within `scopes`.

    `minor_consent` is a patient from 15 letting a parent see their data (in force at once).
    Any other basis waits for the agent to accept it (`awaiting_agent`: the answer is the same
    whether or not the SNILS has an account) and then for an operator to verify it. The
    patient's account must be confirmed, and their second factor fresh: passed at the login of
    `session_id` a short while ago, or a TOTP `code` sent with the request.
    """

    principal_id: UUID
    agent_snils: Snils = Field(description="SNILS of the agent's account.")
    basis: DelegationBasis
    scopes: frozenset[Action] = Field(min_length=1)
    valid_from: date
    valid_until: date
    register_number: str | None = Field(
        default=None, min_length=1, max_length=64, description="Notary register number."
    )
    session_id: UUID | None = Field(
        default=None, description="The patient's session (its login is the fresh factor)."
    )
    code: str | None = Field(
        default=None, pattern=r"^[0-9]{6}$", description="A TOTP code: the fresh factor itself."
    )

    @model_validator(mode="after")
    def _consistent(self) -> "CreateDelegation":
        if self.valid_until < self.valid_from:
            raise ValueError("срок действия заканчивается раньше, чем начинается")
        if self.basis == DelegationBasis.NOTARIZED and not self.register_number:
            raise ValueError("для нотариальной доверенности нужен номер в реестре")
        return self


class DelegationView(Contract):
    """One delegation as its viewer may see it. While it is `awaiting_agent`, the agent is not
    named: `agent_id` is the nil UUID, `agent_name` is empty and `agent_snils` is the masked
    SNILS it was given to; the agent's name appears once they accept."""

    delegation_id: str
    principal_id: UUID
    principal_name: str
    agent_id: UUID
    agent_name: str
    basis: DelegationBasis
    scopes: tuple[Action, ...]
    valid_from: date
    valid_until: date
    status: DelegationStatus
    register_number: str | None = None
    my_role: Literal["principal", "agent", "operator"]
    agent_snils: str | None = Field(default=None, description="Masked SNILS of the agent.")


class DelegationsView(Contract):
    delegations: tuple[DelegationView, ...]


class ListDelegations(Message):
    """The delegations where the account is principal or agent."""

    account_id: UUID


class DelegationRequest(Message):
    """Get, revoke or verify one delegation as `account_id`."""

    account_id: UUID
    delegation_id: str = Field(min_length=1, max_length=64)


class GetDelegation(DelegationRequest):
    pass


class RevokeDelegation(DelegationRequest):
    """The principal withdraws it or the agent renounces it; effective on the next request."""


class AcceptDelegation(DelegationRequest):
    """The agent (the account with the SNILS it was given to) accepts it."""


class VerifyDelegation(DelegationRequest):
    """An operator confirms a notarized power of attorney or a guardian's decision."""


class StartTotpEnrolment(Message):
    """A new authenticator app: the password is always needed, and the current factor: a code
    of the app being replaced, or (for a first app) a fresh login of `session_id`."""

    account_id: UUID
    password: str | None = Field(default=None, max_length=256)
    code: str | None = Field(default=None, pattern=r"^[0-9]{6}$", description="Current app's code.")
    session_id: UUID | None = Field(default=None, description="The session asking.")


class TotpEnrolment(Contract):
    """The new secret, as text, otpauth:// URI and QR code; active after the first valid code."""

    secret: str
    otpauth_uri: str
    qr_svg: str


class ConfirmTotp(Message):
    """The first code of the new app; the other sessions of the account then end."""

    account_id: UUID
    code: str = Field(pattern=r"^[0-9]{6}$")
    session_id: UUID | None = Field(default=None, description="The session kept open.")


class TotpConfirmed(Contract):
    enabled: Literal[True] = True


CREATE_DELEGATION = Rpc(Service.IDENTITY, "create-delegation", CreateDelegation, DelegationView)
LIST_DELEGATIONS = Rpc(Service.IDENTITY, "list-delegations", ListDelegations, DelegationsView)
GET_DELEGATION = Rpc(Service.IDENTITY, "get-delegation", GetDelegation, DelegationView)
REVOKE_DELEGATION = Rpc(Service.IDENTITY, "revoke-delegation", RevokeDelegation, DelegationView)
ACCEPT_DELEGATION = Rpc(Service.IDENTITY, "accept-delegation", AcceptDelegation, DelegationView)
VERIFY_DELEGATION = Rpc(Service.IDENTITY, "verify-delegation", VerifyDelegation, DelegationView)
START_TOTP_ENROLMENT = Rpc(
    Service.IDENTITY, "start-totp-enrolment", StartTotpEnrolment, TotpEnrolment
)
CONFIRM_TOTP = Rpc(Service.IDENTITY, "confirm-totp", ConfirmTotp, TotpConfirmed)
