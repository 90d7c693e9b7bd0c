"""Subscribers of corrections: the patient's RPCs, and the clinics' answers through the door."""

from gosmed.contracts import topology
from gosmed.contracts.records.corrections import (
    ANSWER_CORRECTION_FOR_ORGANIZATION,
    CORRECTION_ANSWERS,
    FILE_CORRECTION,
    GET_CORRECTION,
    GET_CORRECTION_STATS,
    GET_ORGANIZATION_CORRECTION_STATS,
    LIST_CORRECTIONS,
    LIST_OPERATOR_CORRECTIONS,
    LIST_ORGANIZATION_CORRECTIONS,
    WITHDRAW_CORRECTION,
    AnswerCorrection,
    CorrectionAnswered,
)
from gosmed.records.corrections import Corrections
from gosmed.runtime.broker_access import vhost_of
from gosmed.runtime.door import sending_clinic
from gosmed.runtime.service import ServiceRuntime


def register(runtime: ServiceRuntime, corrections: Corrections) -> None:
    vhost = vhost_of(runtime.settings.amqp_url)

    async def answer(body: AnswerCorrection) -> CorrectionAnswered:
        message = runtime.incoming()
        organization_id = sending_clinic(
            vhost, message.user_id, queues={"reply_to": message.reply_to}
        )
        return await corrections.answer(organization_id, body)

    runtime.consume(
        topology.command_queue(runtime.name, CORRECTION_ANSWERS),
        AnswerCorrection,
        answer,
        description="Clinics answer a patient's correction request (accepted, or rejected "
        "with a reason), through the exchange `gosmed.clinic-intake` with the AMQP `user_id` "
        "of the clinic. Only the clinic that reported the record may answer.",
        reply=CorrectionAnswered,
        from_clinics=True,
    )
    runtime.serve(FILE_CORRECTION, corrections.file)
    runtime.serve(LIST_CORRECTIONS, corrections.list_of_patient)
    runtime.serve(GET_CORRECTION, corrections.get)
    runtime.serve(WITHDRAW_CORRECTION, corrections.withdraw)
    runtime.serve(LIST_OPERATOR_CORRECTIONS, corrections.overdue)
    runtime.serve(GET_CORRECTION_STATS, corrections.stats)
    runtime.serve(ANSWER_CORRECTION_FOR_ORGANIZATION, corrections.answer_for_organization)
    runtime.serve(LIST_ORGANIZATION_CORRECTIONS, corrections.of_organization)
    runtime.serve(GET_ORGANIZATION_CORRECTION_STATS, corrections.stats_for_organization)
