"""The registry's use cases: versioned upserts that announce changes, batch-gets, searches and
the tariff in force."""

from collections.abc import Callable, Sequence
from contextlib import aclosing
from datetime import datetime
from uuid import UUID

from gosmed.contracts.base import utc_now
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.feedback.ratings import RatedSubject, RatingChanged
from gosmed.contracts.registry.catalog import MedicalService, SearchServices, ServicePage
from gosmed.contracts.registry.organizations import (
    GetOrganizations,
    ListCards,
    OrganizationCard,
    OrganizationList,
    OrganizationPage,
    OrganizationsView,
    SearchOrganizations,
)
from gosmed.contracts.registry.specialists import (
    GetSpecialists,
    SpecialistCard,
    SpecialistList,
    SpecialistProfile,
    SpecialistsView,
)
from gosmed.contracts.registry.tariffs import GetTariff, Tariff, TariffView
from gosmed.registry import demo
from gosmed.registry.domain import code_prefix, is_open, query_terms
from gosmed.registry.repository import (
    NomenclatureRepository,
    OrganizationRepository,
    SpecialistRepository,
    TariffRepository,
)
from gosmed.runtime.cursor import decode_cursor, encode_cursor
from gosmed.runtime.outbox import Relay


def _no_words() -> ServiceError:
    return ServiceError(
        ErrorCode.VALIDATION_FAILED, "В запросе нет слов для поиска: нужно хотя бы две буквы."
    )


def _next_after(found: Sequence[OrganizationCard | SpecialistCard], limit: int) -> UUID | None:
    """The last id of a page when `found` (up to `limit + 1` cards) shows there is more."""
    return found[limit - 1].id if len(found) > limit else None


class Registry:
    def __init__(
        self,
        organizations: OrganizationRepository,
        specialists: SpecialistRepository,
        nomenclature: NomenclatureRepository,
        tariffs: TariffRepository,
        relay: Relay,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.organizations = organizations
        self.specialists = specialists
        self.nomenclature = nomenclature
        self.tariffs = tariffs
        self.relay = relay
        self._clock = clock
        relay.add(organizations.outbox)
        relay.add(specialists.outbox)

    async def prepare(self, *, demo_data: bool) -> None:
        """At start: indexes and the demo data set if asked for."""
        for repository in (self.organizations, self.nomenclature, self.tariffs):
            await repository.ensure_indexes()
        if demo_data:
            await self.organizations.seed(demo.organizations())
            await self.specialists.seed(demo.specialists())
            await self.nomenclature.seed(demo.nomenclature())
            await self.tariffs.seed(demo.tariffs())

    async def upsert_organization(self, card: OrganizationCard) -> None:
        """Store a newer card; the event announcing it is written with it and sent at once
        (or by the relay, if the broker does not take it now)."""
        if await self.organizations.save_if_newer(card):
            await self.relay.flush(self.organizations.outbox, str(card.id))

    async def upsert_specialist(self, profile: SpecialistProfile) -> None:
        """Refuse a profile whose organization or department the registry does not know."""
        organizations = await self.organizations.get_many([profile.organization_id])
        if not organizations:
            raise ServiceError(
                ErrorCode.VALIDATION_FAILED,
                "specialist.organization_id: организация не найдена в реестре",
            )
        departments = {d.id for d in organizations[0].departments}
        if profile.department_id is not None and profile.department_id not in departments:
            raise ServiceError(
                ErrorCode.VALIDATION_FAILED,
                "specialist.department_id: у организации нет такого подразделения",
            )
        if await self.specialists.save_if_newer(profile):
            await self.relay.flush(self.specialists.outbox, str(profile.id))

    async def update_rating(self, change: RatingChanged) -> None:
        """Show a specialist's or an organization's new average score and count."""
        if change.subject is RatedSubject.ORGANIZATION:
            if not await self.organizations.save_rating_if_newer(
                change.subject_id, change.average, change.reviews_count, change.as_of
            ) and not await self.organizations.exists(change.subject_id):
                raise ServiceError(
                    ErrorCode.VALIDATION_FAILED, "subject_id: организация не найдена в реестре"
                )
            return
        if await self.specialists.save_rating_if_newer(
            change.subject_id, change.average, change.reviews_count, change.as_of
        ):
            await self.relay.flush(self.specialists.outbox, str(change.subject_id))
        elif not await self.specialists.exists(change.subject_id):
            raise ServiceError(
                ErrorCode.VALIDATION_FAILED, "subject_id: специалист не найден в реестре"
            )

    async def upsert_service(self, service: MedicalService) -> None:
        await self.nomenclature.save_if_newer(service)

    async def upsert_tariff(self, tariff: Tariff) -> None:
        """Refuse a tariff of an unknown service or organization."""
        if not await self.nomenclature.exists(tariff.service_code):
            raise ServiceError(
                ErrorCode.VALIDATION_FAILED,
                "tariff.service_code: такой услуги нет в номенклатуре",
            )
        if tariff.organization_id is not None and not await self.organizations.get_many(
            [tariff.organization_id]
        ):
            raise ServiceError(
                ErrorCode.VALIDATION_FAILED,
                "tariff.organization_id: организация не найдена в реестре",
            )
        await self.tariffs.save_if_newer(tariff)

    async def get_organizations(self, query: GetOrganizations) -> OrganizationsView:
        wanted = list(dict.fromkeys(query.ids))
        found = {card.id: card for card in await self.organizations.get_many(wanted)}
        return OrganizationsView(
            items=tuple(found[i] for i in wanted if i in found),
            missing=tuple(i for i in wanted if i not in found),
        )

    async def get_specialists(self, query: GetSpecialists) -> SpecialistsView:
        wanted = list(dict.fromkeys(query.ids))
        found = {card.id: card for card in await self.specialists.get_many(wanted)}
        return SpecialistsView(
            items=tuple(found[i] for i in wanted if i in found),
            missing=tuple(i for i in wanted if i not in found),
        )

    async def list_organizations(self, query: ListCards) -> OrganizationList:
        found = await self.organizations.in_id_order(query.after, query.limit + 1)
        return OrganizationList(
            items=tuple(found[: query.limit]), next_after=_next_after(found, query.limit)
        )

    async def list_specialists(self, query: ListCards) -> SpecialistList:
        found = await self.specialists.in_id_order(query.after, query.limit + 1)
        return SpecialistList(
            items=tuple(found[: query.limit]), next_after=_next_after(found, query.limit)
        )

    async def search_organizations(self, query: SearchOrganizations) -> OrganizationPage:
        """One page in name order; `open_now` is decided per card at the current instant."""
        terms = query_terms(query.q) if query.q else []
        if query.q and not terms:
            raise _no_words()
        after = list(decode_cursor(query.cursor, str, UUID)) if query.cursor else None
        now = self._clock()
        found: list[tuple[OrganizationCard, list[str]]] = []
        matches = self.organizations.search(
            terms=terms, city=query.city, specialization=query.specialization, after=after
        )
        async with aclosing(matches):
            async for card, position in matches:
                if query.open_now and not is_open(card.working_hours, now):
                    continue
                found.append((card, position))
                if len(found) > query.limit:
                    break
        page = found[: query.limit]
        more = len(found) > query.limit
        return OrganizationPage(
            items=tuple(card for card, _ in page),
            next_cursor=encode_cursor(*page[-1][1]) if more else None,
        )

    async def search_services(self, query: SearchServices) -> ServicePage:
        """Entries in code order: by code prefix when the query is a code, else by words."""
        prefix = code_prefix(query.q) if query.q else None
        terms = query_terms(query.q) if query.q and prefix is None else []
        if query.q and prefix is None and not terms:
            raise _no_words()
        after = decode_cursor(query.cursor, str)[0] if query.cursor else None
        found = await self.nomenclature.search(
            terms=terms,
            code_prefix=prefix,
            category=query.category,
            after=after,
            limit=query.limit + 1,
        )
        page = found[: query.limit]
        more = len(found) > query.limit
        return ServicePage(
            items=tuple(page), next_cursor=encode_cursor(page[-1].code) if more else None
        )

    async def get_tariff(self, query: GetTariff) -> TariffView:
        """The organization's own tariff, else its region's; unknown service or organization
        is not found."""
        if not await self.nomenclature.exists(query.service_code):
            raise ServiceError(
                ErrorCode.NOT_FOUND, f"Услуги с кодом {query.service_code} нет в номенклатуре."
            )
        region_code = query.region_code
        if query.organization_id is not None:
            organizations = await self.organizations.get_many([query.organization_id])
            if not organizations:
                raise ServiceError(ErrorCode.NOT_FOUND, "Организация не найдена в реестре.")
            own = await self.tariffs.in_force(
                query.service_code, query.on, organization_id=query.organization_id
            )
            if own is not None:
                return TariffView(tariff=own)
            region_code = region_code or organizations[0].address.region_code
        if region_code is None:
            raise ServiceError(
                ErrorCode.VALIDATION_FAILED, "Укажите регион или организацию для поиска тарифа."
            )
        regional = await self.tariffs.in_force(
            query.service_code, query.on, region_code=region_code
        )
        return TariffView(tariff=regional)
