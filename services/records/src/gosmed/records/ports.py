"""The other services records talks to: identity (authorize, and the queue of its
notifications), the registry (cards, tariffs) and clinics (re-send requests). What intake
announces goes through the outbox (`gosmed.records.repository`)."""

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import date
from typing import TypeVar
from uuid import UUID

from aio_pika.exceptions import DeliveryError
from faststream.rabbit import RabbitBroker
from pydantic import ValidationError
from tenacity import AsyncRetrying, before_sleep_log, retry_if_exception, wait_exponential

from gosmed.contracts import topology
from gosmed.contracts.access import AccessContext
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.access import AUTHORIZE, AccessDecision, Action, Authorize
from gosmed.contracts.identity.notifications import NOTIFY_QUEUE
from gosmed.contracts.identity.organizations import OrganizationAction, OrganizationDecision
from gosmed.contracts.records.intake import RequestClinicSync
from gosmed.contracts.registry.organizations import (
    GET_ORGANIZATIONS,
    MAX_BATCH,
    GetOrganizations,
    ListCards,
    OrganizationCard,
    OrganizationList,
)
from gosmed.contracts.registry.specialists import (
    GET_SPECIALISTS,
    GetSpecialists,
    SpecialistCard,
    SpecialistList,
)
from gosmed.contracts.registry.tariffs import GET_TARIFF, GetTariff, Tariff
from gosmed.contracts.rpc import ReplyT, RequestT, Rpc
from gosmed.runtime.broker import durable_queue
from gosmed.runtime.organizations import act_for_organization
from gosmed.runtime.rpc import ServiceClient
from gosmed.runtime.settings import CommonSettings

log = logging.getLogger(__name__)
Service = topology.Service
CardListT = TypeVar("CardListT", OrganizationList, SpecialistList)
TRANSIENT = frozenset({ErrorCode.SERVICE_UNAVAILABLE, ErrorCode.TIMEOUT})


class Identity:
    """Access decisions on the original person's rights."""

    def __init__(self, identity: ServiceClient) -> None:
        self.identity = identity

    async def authorize(self, context: AccessContext, action: Action) -> AccessDecision:
        return await self.identity.call(AUTHORIZE, Authorize(context=context, action=action))

    async def act_for_organization(
        self,
        context: AccessContext,
        organization_id: UUID,
        action: OrganizationAction,
        subject: str | None = None,
    ) -> OrganizationDecision:
        """Identity's (journaled) decision that a staff member acts for the organization;
        `not_organization_staff` when not."""
        return await act_for_organization(self.identity, context, organization_id, action, subject)


class Registry:
    """Cards and tariffs; None means the registry did not answer (callers degrade, not fail)."""

    def __init__(self, registry: ServiceClient) -> None:
        self.registry = registry

    async def organizations(self, ids: Iterable[UUID]) -> dict[UUID, OrganizationCard] | None:
        requests = [GetOrganizations(ids=chunk) for chunk in _chunks(ids)]
        views = await self._gather(GET_ORGANIZATIONS, requests)
        return None if views is None else {c.id: c for view in views for c in view.items}

    async def specialists(self, ids: Iterable[UUID]) -> dict[UUID, SpecialistCard] | None:
        requests = [GetSpecialists(ids=chunk) for chunk in _chunks(ids)]
        views = await self._gather(GET_SPECIALISTS, requests)
        return None if views is None else {c.id: c for view in views for c in view.items}

    async def pages(self, rpc: Rpc[ListCards, CardListT]) -> AsyncIterator[CardListT]:
        """Every page of a full list of cards, in id order; a page is asked again, after
        growing pauses, until the registry answers (it may start after records)."""
        after: UUID | None = None
        while True:
            retrying = AsyncRetrying(
                wait=wait_exponential(multiplier=0.2, max=30),
                retry=retry_if_exception(_transient),
                before_sleep=before_sleep_log(log, logging.WARNING),
            )
            page: CardListT = await retrying(self.registry.call, rpc, ListCards(after=after))
            yield page
            if (after := page.next_after) is None:
                return

    async def _gather(
        self, rpc: Rpc[RequestT, ReplyT], requests: Sequence[RequestT]
    ) -> list[ReplyT] | None:
        """The batch calls in parallel (one per page of a list), or None if any failed."""
        try:
            return list(await asyncio.gather(*(self.registry.call(rpc, r) for r in requests)))
        except ServiceError as error:
            log.warning("registry %s unavailable: %s", rpc.method, error.code.value)
            return None

    async def tariff(self, service_code: str, on: date, organization_id: UUID) -> Tariff | None:
        try:
            request = GetTariff(service_code=service_code, on=on, organization_id=organization_id)
        except ValidationError:
            return None  # not a nomenclature code: no tariff can apply
        try:
            view = await self.registry.call(GET_TARIFF, request)
        except ServiceError as error:
            log.warning("registry tariff unavailable: %s", error.code.value)
            return None
        return view.tariff


class Sender:
    """What records sends outside the outbox: re-send requests to clinics, whose outcome the
    refresh reports at once; and the declaration of identity's notification queue."""

    def __init__(self, broker: RabbitBroker, settings: CommonSettings) -> None:
        self.broker = broker
        self.settings = settings

    async def declare(self) -> None:
        """Check that identity's notification queue exists: the broker setup declares it, so
        notifications wait there even while identity is down or not yet started (records may
        not declare another service's queue)."""
        await self.broker.declare_queue(durable_queue(NOTIFY_QUEUE, self.settings, declare=False))

    async def request_sync(self, queue: str, request: RequestClinicSync) -> bool:
        """False when the clinic's queue does not exist (nobody would read the request)."""
        try:
            await self.broker.publish(
                request, queue, persist=True, message_id=str(request.message_id)
            )
        except DeliveryError:
            return False
        return True


def _chunks(ids: Iterable[UUID]) -> list[tuple[UUID, ...]]:
    unique = sorted(set(ids))
    return [tuple(unique[i : i + MAX_BATCH]) for i in range(0, len(unique), MAX_BATCH)]


def _transient(error: BaseException) -> bool:
    return isinstance(error, ServiceError) and error.code in TRANSIENT
