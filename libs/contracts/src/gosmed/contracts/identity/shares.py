"""A patient's shares: a doctor (a registry specialist with a doctor account) reads chosen
parts of the patient's data until a day, or until the patient ends it."""

from enum import StrEnum
from uuid import UUID

from pydantic import AwareDatetime, Field

from gosmed.contracts.access import AccessContext
from gosmed.contracts.base import Contract, Message
from gosmed.contracts.rpc import Rpc
from gosmed.contracts.topology import Service

MAX_SHARE_DAYS = 90


class ShareScope(StrEnum):
    """What a share lets the doctor read."""

    SERVICES = "services"
    LAB_RESULTS = "lab_results"
    FILES = "files"


class CreateShare(Message):
    """Open the patient's chosen data to a doctor (only the patient, or a parent of a child
    under 15, does)."""

    context: AccessContext
    specialist_id: UUID = Field(description="The registry specialist whose account reads.")
    scopes: frozenset[ShareScope] = Field(min_length=1)
    expires_at: AwareDatetime = Field(description=f"At most {MAX_SHARE_DAYS} days ahead.")


class ShareView(Contract):
    share_id: UUID
    patient_id: UUID
    specialist_id: UUID
    scopes: tuple[ShareScope, ...]
    created_at: AwareDatetime
    expires_at: AwareDatetime
    revoked_at: AwareDatetime | None = None
    active: bool = Field(description="Neither revoked nor expired.")


class ListShares(Message):
    """The patient's shares, newest first."""

    context: AccessContext


class SharesView(Contract):
    items: tuple[ShareView, ...]


class RevokeShare(Message):
    """End a share: the doctor's next request is refused."""

    context: AccessContext
    share_id: UUID


CREATE_SHARE = Rpc(Service.IDENTITY, "create-share", CreateShare, ShareView)
LIST_SHARES = Rpc(Service.IDENTITY, "list-shares", ListShares, SharesView)
REVOKE_SHARE = Rpc(Service.IDENTITY, "revoke-share", RevokeShare, ShareView)
