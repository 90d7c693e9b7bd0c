"""The registry's subscribers: RPC queries, clinics' upsert commands, rating events."""

from functools import partial

from gosmed.contracts import topology
from gosmed.contracts.feedback.ratings import RATING_CHANGED, RatingChanged
from gosmed.contracts.registry.catalog import (
    SEARCH_SERVICES,
    UPSERT_SERVICE,
    SearchServices,
    ServicePage,
    UpsertService,
)
from gosmed.contracts.registry.organizations import (
    GET_ORGANIZATIONS,
    SEARCH_ORGANIZATIONS,
    UPSERT_ORGANIZATION,
    GetOrganizations,
    OrganizationPage,
    OrganizationsView,
    SearchOrganizations,
    UpsertOrganization,
)
from gosmed.contracts.registry.specialists import (
    GET_SPECIALISTS,
    UPSERT_SPECIALIST,
    GetSpecialists,
    SpecialistsView,
    UpsertSpecialist,
)
from gosmed.contracts.registry.tariffs import (
    GET_TARIFF,
    UPSERT_TARIFF,
    GetTariff,
    TariffView,
    UpsertTariff,
)
from gosmed.registry.service import Registry
from gosmed.runtime.broker import EVENTS
from gosmed.runtime.service import ServiceRuntime


def register(runtime: ServiceRuntime, registry: Registry) -> None:
    broker = runtime.broker
    runtime.on_startup(partial(registry.prepare, demo_data=runtime.settings.demo_data))

    def command_queue(command: str) -> str:
        return topology.command_queue(topology.Service.REGISTRY, command)

    @broker.subscriber(runtime.rpc_queue(GET_ORGANIZATIONS), title="registry.get-organizations")
    async def get_organizations(query: GetOrganizations) -> OrganizationsView:
        return await registry.get_organizations(query)

    @broker.subscriber(
        runtime.rpc_queue(SEARCH_ORGANIZATIONS), title="registry.search-organizations"
    )
    async def search_organizations(query: SearchOrganizations) -> OrganizationPage:
        return await registry.search_organizations(query)

    @broker.subscriber(runtime.rpc_queue(GET_SPECIALISTS), title="registry.get-specialists")
    async def get_specialists(query: GetSpecialists) -> SpecialistsView:
        return await registry.get_specialists(query)

    @broker.subscriber(runtime.rpc_queue(SEARCH_SERVICES), title="registry.search-services")
    async def search_services(query: SearchServices) -> ServicePage:
        return await registry.search_services(query)

    @broker.subscriber(runtime.rpc_queue(GET_TARIFF), title="registry.get-tariff")
    async def get_tariff(query: GetTariff) -> TariffView:
        return await registry.get_tariff(query)

    @broker.subscriber(
        runtime.queue(command_queue(UPSERT_ORGANIZATION)), title="registry.upsert-organization"
    )
    async def upsert_organization(command: UpsertOrganization) -> None:
        await registry.upsert_organization(command.organization)

    @broker.subscriber(
        runtime.queue(command_queue(UPSERT_SPECIALIST)), title="registry.upsert-specialist"
    )
    async def upsert_specialist(command: UpsertSpecialist) -> None:
        await registry.upsert_specialist(command.specialist)

    @broker.subscriber(
        runtime.queue(command_queue(UPSERT_SERVICE)), title="registry.upsert-service"
    )
    async def upsert_service(command: UpsertService) -> None:
        await registry.upsert_service(command.service)

    @broker.subscriber(runtime.queue(command_queue(UPSERT_TARIFF)), title="registry.upsert-tariff")
    async def upsert_tariff(command: UpsertTariff) -> None:
        await registry.upsert_tariff(command.tariff)

    @broker.subscriber(
        runtime.queue(
            topology.event_queue(topology.Service.REGISTRY, RATING_CHANGED),
            routing_key=RATING_CHANGED,
        ),
        exchange=EVENTS,
        title="registry.on.rating-changed",
    )
    async def on_rating_changed(event: RatingChanged) -> None:
        await registry.update_rating(event)
