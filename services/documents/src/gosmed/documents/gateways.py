"""The service's ports onto the broker: records and identity over RPC, identity's queue."""

from dataclasses import dataclass
from uuid import UUID

from faststream.rabbit import RabbitBroker

from gosmed.contracts.access import AccessContext
from gosmed.contracts.identity.access import AUTHORIZE, AccessDecision, Action, Authorize
from gosmed.contracts.identity.auth import GET_PROFILE, GetProfile
from gosmed.contracts.identity.notifications import NOTIFY_QUEUE
from gosmed.contracts.records.lab import EXPORT_LAB_RESULTS, ExportLabValues, LabValuesExport
from gosmed.contracts.records.queries import (
    EXPORT_SERVICES,
    ExportRenderedServices,
    RenderedServicesExport,
)
from gosmed.runtime.broker import durable_queue
from gosmed.runtime.rpc import ServiceClient
from gosmed.runtime.settings import CommonSettings


@dataclass
class RecordsGateway:
    records: ServiceClient

    async def export(self, request: ExportRenderedServices) -> RenderedServicesExport:
        return await self.records.call(EXPORT_SERVICES, request)

    async def export_lab_values(self, request: ExportLabValues) -> LabValuesExport:
        return await self.records.call(EXPORT_LAB_RESULTS, request)


@dataclass
class AccessGateway:
    """Identity's decision on the original person's rights, asked on every access."""

    identity: ServiceClient

    async def authorize(self, context: AccessContext, action: Action) -> AccessDecision:
        return await self.identity.call(AUTHORIZE, Authorize(context=context, action=action))


@dataclass
class ProfilesGateway:
    identity: ServiceClient

    async def email_of(self, account_id: UUID) -> str | None:
        profile = await self.identity.call(GET_PROFILE, GetProfile(account_id=account_id))
        return profile.email


async def declare_notify_queue(broker: RabbitBroker, settings: CommonSettings) -> None:
    """Check that identity's notification queue exists: the broker setup declares it, so
    notifications wait there even while identity is down or not started yet (documents may
    not declare another service's queue)."""
    await broker.declare_queue(durable_queue(NOTIFY_QUEUE, settings, declare=False))
