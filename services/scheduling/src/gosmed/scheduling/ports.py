"""The services scheduling asks: identity (access decisions) and the registry (the names and
addresses a slot shows, in one batch call per kind; missing while the registry is down)."""

import asyncio
import logging
from collections.abc import Set
from uuid import UUID

from gosmed.contracts.access import AccessContext
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.access import AUTHORIZE, AccessDecision, Action, Authorize
from gosmed.contracts.identity.organizations import OrganizationAction, OrganizationDecision
from gosmed.contracts.registry.organizations import (
    GET_ORGANIZATIONS,
    MAX_BATCH,
    GetOrganizations,
    OrganizationsView,
)
from gosmed.contracts.registry.specialists import (
    GET_SPECIALISTS,
    GetSpecialists,
    SpecialistsView,
)
from gosmed.runtime.organizations import act_for_organization
from gosmed.runtime.rpc import ServiceClient
from gosmed.scheduling.domain import Cards, OrganizationCard

log = logging.getLogger(__name__)


class Identity:
    def __init__(self, identity: ServiceClient) -> None:
        self.identity = identity

    async def authorize(self, context: AccessContext, action: Action) -> AccessDecision:
        return await self.identity.call(AUTHORIZE, Authorize(context=context, action=action))

    async def act_for_organization(
        self,
        context: AccessContext,
        organization_id: UUID,
        action: OrganizationAction,
        subject: str,
    ) -> OrganizationDecision:
        """Identity's (journaled) decision that a staff member acts for the organization;
        `not_organization_staff` when not."""
        return await act_for_organization(self.identity, context, organization_id, action, subject)


class Registry:
    def __init__(self, registry: ServiceClient) -> None:
        self.registry = registry

    async def cards(self, organization_ids: Set[UUID], specialist_ids: Set[UUID]) -> Cards:
        organizations, specialists = await asyncio.gather(
            self._organizations(organization_ids), self._specialists(specialist_ids)
        )
        return Cards(organizations, specialists)

    async def _organizations(self, ids: Set[UUID]) -> dict[UUID, OrganizationCard]:
        found: dict[UUID, OrganizationCard] = {}
        for chunk in _chunks(ids):
            view: OrganizationsView | None = await self._call_organizations(chunk)
            if view is None:
                return found
            for card in view.items:
                found[card.id] = OrganizationCard(card.short_name, card.address.one_line)
        return found

    async def _specialists(self, ids: Set[UUID]) -> dict[UUID, str]:
        found: dict[UUID, str] = {}
        for chunk in _chunks(ids):
            view: SpecialistsView | None = await self._call_specialists(chunk)
            if view is None:
                return found
            found |= {card.id: card.full_name for card in view.items}
        return found

    async def _call_organizations(self, ids: tuple[UUID, ...]) -> OrganizationsView | None:
        try:
            return await self.registry.call(GET_ORGANIZATIONS, GetOrganizations(ids=ids))
        except ServiceError as error:
            _unavailable(error)
            return None

    async def _call_specialists(self, ids: tuple[UUID, ...]) -> SpecialistsView | None:
        try:
            return await self.registry.call(GET_SPECIALISTS, GetSpecialists(ids=ids))
        except ServiceError as error:
            _unavailable(error)
            return None


def _unavailable(error: ServiceError) -> None:
    if error.code not in {ErrorCode.SERVICE_UNAVAILABLE, ErrorCode.TIMEOUT}:
        raise error
    log.warning("registry unavailable: %s", error.code.value)


def _chunks(ids: Set[UUID]) -> list[tuple[UUID, ...]]:
    unique = sorted(ids)
    return [tuple(unique[i : i + MAX_BATCH]) for i in range(0, len(unique), MAX_BATCH)]
