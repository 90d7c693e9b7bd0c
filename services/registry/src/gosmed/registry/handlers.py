"""The registry's subscribers: RPC queries, clinics' upsert commands, rating events."""

from functools import partial

from gosmed.contracts import topology
from gosmed.contracts.feedback.ratings import RATING_CHANGED, RatingChanged
from gosmed.contracts.registry.catalog import SEARCH_SERVICES, UPSERT_SERVICE, UpsertService
from gosmed.contracts.registry.organizations import (
    GET_ORGANIZATIONS,
    LIST_ORGANIZATIONS,
    SEARCH_ORGANIZATIONS,
    UPSERT_ORGANIZATION,
    UpsertOrganization,
)
from gosmed.contracts.registry.specialists import (
    GET_SPECIALISTS,
    LIST_SPECIALISTS,
    UPSERT_SPECIALIST,
    UpsertSpecialist,
)
from gosmed.contracts.registry.tariffs import GET_TARIFF, UPSERT_TARIFF, UpsertTariff
from gosmed.registry.service import Registry
from gosmed.runtime.service import ServiceRuntime


def register(runtime: ServiceRuntime, registry: Registry) -> None:
    runtime.on_startup(partial(registry.prepare, demo_data=runtime.settings.demo_data))
    serve = runtime.serve
    serve(GET_ORGANIZATIONS, registry.get_organizations)
    serve(SEARCH_ORGANIZATIONS, registry.search_organizations)
    serve(GET_SPECIALISTS, registry.get_specialists)
    serve(LIST_ORGANIZATIONS, registry.list_organizations)
    serve(LIST_SPECIALISTS, registry.list_specialists)
    serve(SEARCH_SERVICES, registry.search_services)
    serve(GET_TARIFF, registry.get_tariff)

    def command_queue(command: str) -> str:
        return topology.command_queue(topology.Service.REGISTRY, command)

    async def upsert_organization(command: UpsertOrganization) -> None:
        await registry.upsert_organization(command.organization)

    async def upsert_specialist(command: UpsertSpecialist) -> None:
        await registry.upsert_specialist(command.specialist)

    async def upsert_service(command: UpsertService) -> None:
        await registry.upsert_service(command.service)

    async def upsert_tariff(command: UpsertTariff) -> None:
        await registry.upsert_tariff(command.tariff)

    consume = runtime.consume
    consume(command_queue(UPSERT_ORGANIZATION), UpsertOrganization, upsert_organization)
    consume(command_queue(UPSERT_SPECIALIST), UpsertSpecialist, upsert_specialist)
    consume(command_queue(UPSERT_SERVICE), UpsertService, upsert_service)
    consume(command_queue(UPSERT_TARIFF), UpsertTariff, upsert_tariff)
    consume(
        topology.event_queue(topology.Service.REGISTRY, RATING_CHANGED),
        RatingChanged,
        registry.update_rating,
        routing_key=RATING_CHANGED,
    )
