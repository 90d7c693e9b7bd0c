"""Subscribers of corrections: the patient's RPCs, and the clinics' answers through the door."""

from uuid import UUID

from gosmed.contracts import topology
from gosmed.contracts.errors import ErrorCode
from gosmed.contracts.records.corrections import (
    CORRECTION_ANSWERS,
    FILE_CORRECTION,
    GET_CORRECTION,
    GET_CORRECTION_STATS,
    LIST_CORRECTIONS,
    LIST_OPERATOR_CORRECTIONS,
    WITHDRAW_CORRECTION,
    AnswerCorrection,
    CorrectionAnswered,
)
from gosmed.records.corrections import Corrections
from gosmed.runtime.broker import RefusedError
from gosmed.runtime.broker_access import clinic_of_user, vhost_of
from gosmed.runtime.service import ServiceRuntime


def answering_clinic(vhost: str, user_id: str | None, reply_to: str | None) -> UUID:
    """The organization of the clinic that sent an answer; refused (dead-lettered with the
    reason) when the sender is no clinic or asks for a reply on a queue not its own."""
    organization_id = clinic_of_user(vhost, user_id) if user_id else None
    if organization_id is None:
        raise RefusedError(
            ErrorCode.CLINIC_UNKNOWN if user_id else ErrorCode.CLINIC_UNIDENTIFIED,
            f"Пользователь брокера {user_id} не является пользователем клиники."
            if user_id
            else "Сообщение без свойства user_id: укажите в нём пользователя брокера клиники.",
        )
    own = topology.clinic_queue_prefix(organization_id)
    if reply_to and not reply_to.startswith(own):
        raise RefusedError(
            ErrorCode.CLINIC_QUEUE_FORBIDDEN,
            f"reply_to {reply_to} не очередь клиники {organization_id}: "
            f"допустимы только очереди {own}*.",
        )
    return organization_id


def register(runtime: ServiceRuntime, corrections: Corrections) -> None:
    vhost = vhost_of(runtime.settings.amqp_url)

    async def answer(body: AnswerCorrection) -> CorrectionAnswered:
        message = runtime.incoming()
        organization_id = answering_clinic(vhost, message.user_id, message.reply_to)
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
