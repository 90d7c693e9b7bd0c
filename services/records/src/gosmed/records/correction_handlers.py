"""Subscribers of corrections: the patient's RPCs, and the clinics' answers through the door."""

from gosmed.contracts import topology
from gosmed.contracts.records.corrections import (
    ANSWER_CORRECTION_FOR_ORGANIZATION,
    CORRECTION_ANSWERS,
    CORRECTION_ATTACHMENTS,
    FILE_CORRECTION,
    GET_CORRECTION,
    GET_CORRECTION_STATS,
    GET_ORGANIZATION_CORRECTION_STATS,
    LIST_CORRECTIONS,
    LIST_OPERATOR_CORRECTIONS,
    LIST_ORGANIZATION_CORRECTIONS,
    UPLOAD_CORRECTION_ATTACHMENT,
    WITHDRAW_CORRECTION,
    AnswerCorrection,
    CorrectionAnswered,
    CorrectionAttachmentFile,
    FetchCorrectionAttachment,
)
from gosmed.records.corrections import Corrections
from gosmed.runtime.service import ServiceRuntime


def register(runtime: ServiceRuntime, corrections: Corrections) -> None:

    async def answer(body: AnswerCorrection) -> CorrectionAnswered:
        organization_id = runtime.sending_clinic()
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

    async def fetch(body: FetchCorrectionAttachment) -> CorrectionAttachmentFile:
        organization_id = runtime.sending_clinic()
        return await corrections.fetch(organization_id, body)

    runtime.consume(
        topology.command_queue(runtime.name, CORRECTION_ATTACHMENTS),
        FetchCorrectionAttachment,
        fetch,
        description="Clinics fetch a file the patient attached to a correction request "
        "addressed to them, through the exchange `gosmed.clinic-intake` with the AMQP `user_id` "
        "of the clinic and `reply_to` = its replies queue.",
        reply=CorrectionAttachmentFile,
        from_clinics=True,
    )
    runtime.serve(UPLOAD_CORRECTION_ATTACHMENT, corrections.upload)
    runtime.serve(FILE_CORRECTION, corrections.file)
    runtime.serve(LIST_CORRECTIONS, corrections.list_of_patient)
    runtime.serve(GET_CORRECTION, corrections.get)
    runtime.serve(WITHDRAW_CORRECTION, corrections.withdraw)
    runtime.serve(LIST_OPERATOR_CORRECTIONS, corrections.overdue)
    runtime.serve(GET_CORRECTION_STATS, corrections.stats)
    runtime.serve(ANSWER_CORRECTION_FOR_ORGANIZATION, corrections.answer_for_organization)
    runtime.serve(LIST_ORGANIZATION_CORRECTIONS, corrections.of_organization)
    runtime.serve(GET_ORGANIZATION_CORRECTION_STATS, corrections.stats_for_organization)
