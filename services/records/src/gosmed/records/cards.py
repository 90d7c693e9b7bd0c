"""The read model of registry cards: records keeps the names, addresses and specialties a list
shows, so a list page makes no registry call and still shows cards while the registry is down.

Fed by the registry's OrganizationUpdated and SpecialistUpdated events (newest `updated_at`
wins), copied whole from the registry at start-up, and completed from the registry when a page
meets a card it lacks.
"""

import asyncio
import logging
from collections.abc import Set
from dataclasses import dataclass
from uuid import UUID

from gosmed.contracts.registry.organizations import LIST_ORGANIZATIONS, OrganizationUpdated
from gosmed.contracts.registry.specialists import LIST_SPECIALISTS, SpecialistUpdated
from gosmed.records.cards_repository import CardsRepository
from gosmed.records.domain import OrganizationSummary, SpecialistSummary
from gosmed.records.ports import Registry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FoundCards:
    """The cards of a page by id (None: the registry does not know the id); `complete` is False
    when some are missing because the registry did not answer."""

    organizations: dict[UUID, OrganizationSummary | None]
    specialists: dict[UUID, SpecialistSummary | None]
    complete: bool


class Cards:
    def __init__(self, store: CardsRepository, registry: Registry) -> None:
        self.store = store
        self.registry = registry

    async def organization_updated(self, event: OrganizationUpdated) -> None:
        await self.store.save_organizations([event.organization])

    async def specialist_updated(self, event: SpecialistUpdated) -> None:
        await self.store.save_specialists([event.specialist])

    async def find(self, organization_ids: Set[UUID], specialist_ids: Set[UUID]) -> FoundCards:
        """The kept cards; those not kept yet are asked of the registry in one batch call per
        kind and kept."""
        organizations, specialists = await self.store.find(organization_ids, specialist_ids)
        lacking_organizations = organization_ids - organizations.keys()
        lacking_specialists = specialist_ids - specialists.keys()
        if not lacking_organizations and not lacking_specialists:
            return FoundCards(organizations, specialists, complete=True)
        fetched_organizations, fetched_specialists = await asyncio.gather(
            self.registry.organizations(lacking_organizations),
            self.registry.specialists(lacking_specialists),
        )
        unknown_organizations: Set[UUID] = frozenset()
        unknown_specialists: Set[UUID] = frozenset()
        if fetched_organizations is not None:
            await self.store.save_organizations(fetched_organizations.values())
            organizations |= {
                i: OrganizationSummary.of(c) for i, c in fetched_organizations.items()
            }
            unknown_organizations = lacking_organizations - fetched_organizations.keys()
        if fetched_specialists is not None:
            await self.store.save_specialists(fetched_specialists.values())
            specialists |= {i: SpecialistSummary.of(c) for i, c in fetched_specialists.items()}
            unknown_specialists = lacking_specialists - fetched_specialists.keys()
        await self.store.save_unknown(unknown_organizations, unknown_specialists)
        organizations |= dict.fromkeys(unknown_organizations)
        specialists |= dict.fromkeys(unknown_specialists)
        complete = fetched_organizations is not None and fetched_specialists is not None
        return FoundCards(organizations, specialists, complete)

    async def backfill(self) -> None:
        """Copy every card from the registry, a page at a time, waiting for it if need be."""
        organizations = specialists = 0
        async for organization_page in self.registry.pages(LIST_ORGANIZATIONS):
            await self.store.save_organizations(organization_page.items)
            organizations += len(organization_page.items)
        async for specialist_page in self.registry.pages(LIST_SPECIALISTS):
            await self.store.save_specialists(specialist_page.items)
            specialists += len(specialist_page.items)
        log.info(
            "registry cards copied: %d organizations, %d specialists", organizations, specialists
        )
