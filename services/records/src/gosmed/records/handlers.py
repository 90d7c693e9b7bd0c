"""Subscribers: contract in, use case, contract out."""

from gosmed.contracts import topology
from gosmed.contracts.records.consents import GET_CONSENT, SET_CONSENT
from gosmed.contracts.records.details import GET_SERVICE
from gosmed.contracts.records.files import DELETE_FILE, GET_FILE, LIST_FILES, UPLOAD_FILE
from gosmed.contracts.records.intake import (
    RENDERED_SERVICES,
    ReportAccepted,
    ReportRenderedServices,
)
from gosmed.contracts.records.journal import GET_ACCESS_LOG
from gosmed.contracts.records.queries import EXPORT_SERVICES, LIST_SERVICES
from gosmed.contracts.records.sync import REFRESH_SERVICES
from gosmed.contracts.registry.organizations import ORGANIZATION_UPDATED, OrganizationUpdated
from gosmed.contracts.registry.specialists import SPECIALIST_UPDATED, SpecialistUpdated
from gosmed.contracts.scheduling.journal import APPOINTMENT_ACTED_FOR, AppointmentActedFor
from gosmed.records import correction_handlers
from gosmed.records.cards import Cards
from gosmed.records.corrections import Corrections
from gosmed.records.files import Files
from gosmed.records.service import Intake, Reading
from gosmed.runtime.service import ServiceRuntime


def register(
    runtime: ServiceRuntime,
    intake: Intake,
    reading: Reading,
    cards: Cards,
    corrections: Corrections,
    files: Files,
) -> None:
    async def report(body: ReportRenderedServices) -> ReportAccepted:
        runtime.sending_clinic(claimed=body.organization_id, sync_queue=body.sync_queue)
        return await intake.report(body)

    runtime.consume(
        topology.command_queue(runtime.name, RENDERED_SERVICES),
        ReportRenderedServices,
        report,
        description="Clinics report rendered services (one or a batch of up to 500), "
        "through the exchange `gosmed.clinic-intake` with the AMQP `user_id` of the clinic.",
        reply=ReportAccepted,
        from_clinics=True,
    )
    serve = runtime.serve
    serve(LIST_SERVICES, reading.list_services)
    serve(GET_SERVICE, corrections.detail)  # the detail with the record's corrections
    serve(EXPORT_SERVICES, reading.export_services)
    serve(REFRESH_SERVICES, reading.refresh)
    serve(GET_CONSENT, reading.consent)
    serve(SET_CONSENT, reading.set_consent)
    serve(GET_ACCESS_LOG, reading.access_log)
    serve(UPLOAD_FILE, files.upload)
    serve(LIST_FILES, files.list)
    serve(GET_FILE, files.get)
    serve(DELETE_FILE, files.delete)
    runtime.consume(
        topology.event_queue(runtime.name, ORGANIZATION_UPDATED),
        OrganizationUpdated,
        cards.organization_updated,
        description="Keep the name and address of an organization that lists show.",
        routing_key=ORGANIZATION_UPDATED,
    )
    runtime.consume(
        topology.event_queue(runtime.name, SPECIALIST_UPDATED),
        SpecialistUpdated,
        cards.specialist_updated,
        description="Keep the name and specialty of a specialist that lists show.",
        routing_key=SPECIALIST_UPDATED,
    )
    runtime.consume(
        topology.event_queue(runtime.name, APPOINTMENT_ACTED_FOR),
        AppointmentActedFor,
        reading.journal_acted_for,
        description="Journal a booking or cancellation made for the patient by someone else.",
        routing_key=APPOINTMENT_ACTED_FOR,
    )
    correction_handlers.register(runtime, corrections)
