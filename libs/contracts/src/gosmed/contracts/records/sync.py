"""«Обновить»: ask each clinic that served the patient to re-send its data."""

from enum import StrEnum
from uuid import UUID

from pydantic import AwareDatetime, Field

from gosmed.contracts.access import AccessContext
from gosmed.contracts.base import Contract, Message
from gosmed.contracts.rpc import Rpc
from gosmed.contracts.topology import Service


class SyncState(StrEnum):
    REQUESTED = "requested"
    ALREADY_REQUESTED = "already_requested"
    NO_CHANNEL = "no_channel"
    UNREACHABLE = "unreachable"


class RefreshServices(Message):
    context: AccessContext


class ClinicSyncStatus(Contract):
    organization_id: UUID
    organization_name: str | None = None
    state: SyncState
    requested_at: AwareDatetime | None = Field(default=None, description="Last request sent.")
    last_report_at: AwareDatetime | None = Field(
        default=None, description="Last time the clinic reported this patient's services."
    )


class RefreshReport(Contract):
    clinics: tuple[ClinicSyncStatus, ...]


REFRESH_SERVICES = Rpc(Service.RECORDS, "refresh-services", RefreshServices, RefreshReport)
