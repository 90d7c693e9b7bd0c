"""The service's ports onto the broker: records and identity over RPC, our own commands."""

from dataclasses import dataclass
from uuid import UUID

from faststream.rabbit import RabbitBroker

from gosmed.contracts import topology
from gosmed.contracts.base import Message
from gosmed.contracts.documents.requests import (
    DELIVER_DOCUMENT_EMAIL,
    RENDER_DOCUMENT,
    DeliverDocumentEmail,
    RenderDocument,
)
from gosmed.contracts.identity.auth import GET_PROFILE, GetProfile
from gosmed.contracts.identity.notifications import SEND_NOTIFICATION, SendNotification
from gosmed.contracts.records.queries import (
    EXPORT_SERVICES,
    ExportRenderedServices,
    RenderedServicesExport,
)
from gosmed.contracts.topology import Service
from gosmed.runtime.broker import durable_queue
from gosmed.runtime.rpc import ServiceClient
from gosmed.runtime.settings import CommonSettings

NOTIFY_QUEUE = topology.command_queue(Service.IDENTITY, SEND_NOTIFICATION)


@dataclass
class RecordsGateway:
    records: ServiceClient

    async def export(self, request: ExportRenderedServices) -> RenderedServicesExport:
        return await self.records.call(EXPORT_SERVICES, request)


@dataclass
class ProfilesGateway:
    identity: ServiceClient

    async def email_of(self, account_id: UUID) -> str | None:
        profile = await self.identity.call(GET_PROFILE, GetProfile(account_id=account_id))
        return profile.email


@dataclass
class BrokerCommands:
    broker: RabbitBroker
    settings: CommonSettings

    async def declare(self) -> None:
        """Declare identity's notification queue as identity does, so notifications wait there
        even while identity is down or not started yet."""
        await self.broker.declare_queue(durable_queue(NOTIFY_QUEUE, self.settings))

    async def render(self, command: RenderDocument) -> None:
        await self._send(topology.command_queue(Service.DOCUMENTS, RENDER_DOCUMENT), command)

    async def deliver_email(self, command: DeliverDocumentEmail) -> None:
        await self._send(topology.command_queue(Service.DOCUMENTS, DELIVER_DOCUMENT_EMAIL), command)

    async def notify(self, notification: SendNotification) -> None:
        await self._send(NOTIFY_QUEUE, notification)

    async def _send(self, queue: str, message: Message) -> None:
        await self.broker.publish(
            message, routing_key=queue, persist=True, message_id=str(message.message_id)
        )
