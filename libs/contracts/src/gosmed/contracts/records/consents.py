"""The patient's consent to receive data from clinics: all clinics or chosen ones."""

from uuid import UUID

from pydantic import AwareDatetime, Field

from gosmed.contracts.access import AccessContext
from gosmed.contracts.base import Contract, Message
from gosmed.contracts.rpc import Rpc
from gosmed.contracts.topology import Service


class GetDataConsent(Message):
    context: AccessContext


class SetDataConsent(Message):
    """Replace the consent; without one, clinics' records are kept but not shown."""

    context: AccessContext
    all_clinics: bool = Field(description="Receive data from every clinic.")
    organization_ids: frozenset[UUID] = Field(
        default=frozenset(), max_length=1000, description="Clinics chosen when not all."
    )


class DataConsentView(Contract):
    all_clinics: bool
    organization_ids: frozenset[UUID]
    updated_at: AwareDatetime | None = Field(default=None, description="None: never given.")


GET_CONSENT = Rpc(Service.RECORDS, "get-consent", GetDataConsent, DataConsentView)
SET_CONSENT = Rpc(Service.RECORDS, "set-consent", SetDataConsent, DataConsentView)
