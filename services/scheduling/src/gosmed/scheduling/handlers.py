"""Subscribers: contract in, use case, contract out."""

from gosmed.contracts import topology
from gosmed.contracts.scheduling.appointments import (
    BOOK_APPOINTMENT,
    CANCEL_APPOINTMENT,
    GET_APPOINTMENT,
    LIST_APPOINTMENTS,
    LIST_FREE_SLOTS,
)
from gosmed.contracts.scheduling.schedules import (
    PUBLISH_SCHEDULE,
    PUBLISH_SCHEDULE_FOR_ORGANIZATION,
    PublishSchedule,
    ScheduleAccepted,
)
from gosmed.runtime.service import ServiceRuntime
from gosmed.scheduling.service import Booking, Schedules


def register(runtime: ServiceRuntime, schedules: Schedules, booking: Booking) -> None:

    async def publish(body: PublishSchedule) -> ScheduleAccepted:
        organization_id = runtime.sending_clinic(claimed=body.organization_id)
        return await schedules.publish(organization_id, body)

    runtime.consume(
        topology.command_queue(runtime.name, PUBLISH_SCHEDULE),
        PublishSchedule,
        publish,
        description="Clinics publish their schedules (one slot or a batch of up to 200), "
        "through the exchange `gosmed.clinic-intake` with the AMQP `user_id` of the clinic; "
        "idempotent and versioned per (organization, clinic slot id).",
        reply=ScheduleAccepted,
        from_clinics=True,
    )
    serve = runtime.serve
    serve(LIST_FREE_SLOTS, booking.free_slots)
    serve(BOOK_APPOINTMENT, booking.book)
    serve(LIST_APPOINTMENTS, booking.list)
    serve(GET_APPOINTMENT, booking.get)
    serve(CANCEL_APPOINTMENT, booking.cancel)
    serve(PUBLISH_SCHEDULE_FOR_ORGANIZATION, schedules.publish_for_organization)
