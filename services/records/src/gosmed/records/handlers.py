"""Subscribers: contract in, use case, contract out."""

from gosmed.contracts import topology
from gosmed.contracts.records.consents import GET_CONSENT, SET_CONSENT
from gosmed.contracts.records.intake import RENDERED_SERVICES
from gosmed.contracts.records.journal import GET_ACCESS_LOG
from gosmed.contracts.records.queries import EXPORT_SERVICES, GET_SERVICE, LIST_SERVICES
from gosmed.contracts.records.sync import REFRESH_SERVICES
from gosmed.records.service import Intake, Reading
from gosmed.runtime.service import ServiceRuntime


def register(runtime: ServiceRuntime, intake: Intake, reading: Reading) -> None:
    subscribe = runtime.broker.subscriber
    subscribe(
        runtime.queue(topology.command_queue(runtime.name, RENDERED_SERVICES)),
        title="records.rendered-services",
        description="Clinics report rendered services (one or a batch of up to 500).",
    )(intake.report)
    for method, use_case in (
        (LIST_SERVICES, reading.list_services),
        (GET_SERVICE, reading.get_service),
        (EXPORT_SERVICES, reading.export_services),
        (REFRESH_SERVICES, reading.refresh),
        (GET_CONSENT, reading.consent),
        (SET_CONSENT, reading.set_consent),
        (GET_ACCESS_LOG, reading.access_log),
    ):
        subscribe(runtime.rpc_queue(method), title=f"records.{method}")(use_case)
