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
    PENDING_VERIFICATION = "pending_verification"
    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"


class CreateDelegation(Message):
    """The patient (`principal_id`) lets the agent act for them within `scopes`.

    `minor_consent` is a patient from 15 letting a parent see their data; a notarized power of
    attorney or a guardian's decision stays pending until an operator verifies it.
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

    @model_validator(mode="after")
    def _consistent(self) -> "CreateDelegation":
        if self.valid_until < self.valid_from:
            raise ValueError("срок действия заканчивается раньше, чем начинается")
        if self.basis == DelegationBasis.NOTARIZED and not self.register_number:
            raise ValueError("для нотариальной доверенности нужен номер в реестре")
        return self


class DelegationView(Contract):
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


class VerifyDelegation(DelegationRequest):
    """An operator confirms a notarized power of attorney or a guardian's decision."""


class StartTotpEnrolment(Message):
    account_id: UUID


class TotpEnrolment(Contract):
    """The new secret, as text, otpauth:// URI and QR code; active after the first valid code."""

    secret: str
    otpauth_uri: str
    qr_svg: str


class ConfirmTotp(Message):
    account_id: UUID
    code: str = Field(pattern=r"^[0-9]{6}$")


class TotpConfirmed(Contract):
    enabled: Literal[True] = True


CREATE_DELEGATION = Rpc(Service.IDENTITY, "create-delegation", CreateDelegation, DelegationView)
LIST_DELEGATIONS = Rpc(Service.IDENTITY, "list-delegations", ListDelegations, DelegationsView)
GET_DELEGATION = Rpc(Service.IDENTITY, "get-delegation", GetDelegation, DelegationView)
REVOKE_DELEGATION = Rpc(Service.IDENTITY, "revoke-delegation", RevokeDelegation, DelegationView)
VERIFY_DELEGATION = Rpc(Service.IDENTITY, "verify-delegation", VerifyDelegation, DelegationView)
START_TOTP_ENROLMENT = Rpc(
    Service.IDENTITY, "start-totp-enrolment", StartTotpEnrolment, TotpEnrolment
)
CONFIRM_TOTP = Rpc(Service.IDENTITY, "confirm-totp", ConfirmTotp, TotpConfirmed)
