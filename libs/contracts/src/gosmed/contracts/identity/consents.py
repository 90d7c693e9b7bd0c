"""Insurers' access (contract, patient's consent, confirmed request) and inspectors' orders."""

from datetime import date
from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

from gosmed.contracts.base import Contract, Message
from gosmed.contracts.identity.access import Action
from gosmed.contracts.rpc import Rpc
from gosmed.contracts.topology import Service
from gosmed.contracts.types import Snils


class CreateInsurerConsent(Message):
    """The patient consents to an insurer reading their data under a contract."""

    patient_id: UUID
    insurer_snils: Snils = Field(description="SNILS of the insurer's representative account.")
    contract_number: str = Field(min_length=1, max_length=64)
    contract_valid_until: date
    consent_valid_until: date
    scopes: frozenset[Action] = Field(min_length=1, description="Read-only actions only.")


class RequestStatus(StrEnum):
    NONE = "none"
    REQUESTED = "requested"
    CONFIRMED = "confirmed"


class InsurerConsentView(Contract):
    consent_id: str
    insurer_id: UUID
    insurer_name: str
    patient_id: UUID
    patient_name: str
    contract_number: str
    contract_valid_until: date
    consent_valid_until: date
    scopes: tuple[Action, ...]
    revoked: bool
    request_status: RequestStatus
    request_confirmed_until: AwareDatetime | None = None
    my_role: Literal["patient", "insurer"]


class InsurerConsentsView(Contract):
    consents: tuple[InsurerConsentView, ...]


class ListInsurerConsents(Message):
    """Consents where the account is the patient or the insurer."""

    account_id: UUID


class InsurerConsentRequest(Message):
    """Get, revoke (patient), request access (insurer) or confirm the request (patient)."""

    account_id: UUID
    consent_id: str = Field(min_length=1, max_length=64)


class CreateInspectorOrder(Message):
    """An operator registers a state inspector's order: read-only, for the patients it names."""

    operator_id: UUID
    inspector_snils: Snils
    number: str = Field(min_length=1, max_length=64)
    order_date: date
    patient_snils: frozenset[Snils] = Field(min_length=1, max_length=1000)
    scopes: frozenset[Action] = Field(min_length=1)
    valid_from: date
    valid_until: date

    @model_validator(mode="after")
    def _period(self) -> "CreateInspectorOrder":
        if self.valid_until < self.valid_from:
            raise ValueError("срок действия приказа заканчивается раньше, чем начинается")
        return self


class InspectorOrderView(Contract):
    order_id: str
    inspector_id: UUID
    inspector_name: str
    number: str
    order_date: date
    patient_ids: tuple[UUID, ...]
    scopes: tuple[Action, ...]
    valid_from: date
    valid_until: date
    revoked: bool


class InspectorOrdersView(Contract):
    orders: tuple[InspectorOrderView, ...]


class ListInspectorOrders(Message):
    """An inspector's own orders; an operator sees all."""

    account_id: UUID


class InspectorOrderRequest(Message):
    account_id: UUID
    order_id: str = Field(min_length=1, max_length=64)


CREATE_INSURER_CONSENT = Rpc(
    Service.IDENTITY, "create-insurer-consent", CreateInsurerConsent, InsurerConsentView
)
LIST_INSURER_CONSENTS = Rpc(
    Service.IDENTITY, "list-insurer-consents", ListInsurerConsents, InsurerConsentsView
)
GET_INSURER_CONSENT = Rpc(
    Service.IDENTITY, "get-insurer-consent", InsurerConsentRequest, InsurerConsentView
)
REVOKE_INSURER_CONSENT = Rpc(
    Service.IDENTITY, "revoke-insurer-consent", InsurerConsentRequest, InsurerConsentView
)
REQUEST_INSURER_ACCESS = Rpc(
    Service.IDENTITY, "request-insurer-access", InsurerConsentRequest, InsurerConsentView
)
CONFIRM_INSURER_REQUEST = Rpc(
    Service.IDENTITY, "confirm-insurer-request", InsurerConsentRequest, InsurerConsentView
)
CREATE_INSPECTOR_ORDER = Rpc(
    Service.IDENTITY, "create-inspector-order", CreateInspectorOrder, InspectorOrderView
)
LIST_INSPECTOR_ORDERS = Rpc(
    Service.IDENTITY, "list-inspector-orders", ListInspectorOrders, InspectorOrdersView
)
GET_INSPECTOR_ORDER = Rpc(
    Service.IDENTITY, "get-inspector-order", InspectorOrderRequest, InspectorOrderView
)
REVOKE_INSPECTOR_ORDER = Rpc(
    Service.IDENTITY, "revoke-inspector-order", InspectorOrderRequest, InspectorOrderView
)
