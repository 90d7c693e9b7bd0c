"""The demo clinics answer the patients' correction requests waiting on their queues
(`clinic.<org>.corrections`), then exit: most are accepted (the corrected record is sent
with a higher version first, as a clinic's information system would), some are rejected with a
reason, and the last demo clinic never answers, so its requests become overdue.

    python -m gosmed.records.correction_simulator
"""

import asyncio
import sys
from dataclasses import dataclass
from uuid import UUID

import aio_pika

from gosmed.contracts import topology
from gosmed.contracts.demo import PATIENTS_WITH_HISTORY
from gosmed.contracts.records.corrections import (
    CORRECTION_ANSWERS,
    AnswerCorrection,
    CorrectionRequested,
)
from gosmed.contracts.records.intake import ReportedService, ReportRenderedServices
from gosmed.records.simulator import DEMO_COUNT, Catalogue, Clinic, clinic_url, history, user_of
from gosmed.runtime.settings import CommonSettings

ANSWERS = topology.command_queue(topology.Service.RECORDS, CORRECTION_ANSWERS)
REJECT_EVERY = 4
"""About one request in this many is rejected (by its id, so the same one every run)."""
NOT_OURS = "Запись не найдена в информационной системе клиники."
CHECKED = "Сведения проверены по медицинской карте: запись верна."
OTHER_CLINIC = "Услуга оказана нашей организацией; исправить организацию в записи нельзя."


@dataclass(frozen=True)
class Decision:
    accepted: bool
    reason: str | None = None
    corrected: ReportedService | None = None


def silent_clinic(catalogue: Catalogue) -> UUID:
    """The demo clinic that never answers."""
    return catalogue.clinics[-1].id


def demo_records(catalogue: Catalogue) -> dict[str, ReportedService]:
    """The demo clinics' own records by their clinic record id (the simulator's history)."""
    return {
        service.clinic_record_id: service
        for person in PATIENTS_WITH_HISTORY
        for services in history(person, DEMO_COUNT, catalogue).values()
        for service in services
    }


def decide(request: CorrectionRequested, records: dict[str, ReportedService]) -> Decision:
    """How a demo clinic answers: reject one in `REJECT_EVERY`, a request to move the record
    to another organization, or one of a record it does not have; accept the rest with the
    record corrected as proposed."""
    service = records.get(request.clinic_record_id)
    if service is None:
        return Decision(False, NOT_OURS)
    if request.changes.organization_id not in (None, request.organization_id):
        return Decision(False, OTHER_CLINIC)
    if request.correction_id.int % REJECT_EVERY == 0:
        return Decision(False, CHECKED)
    proposed = request.changes.model_dump(exclude_none=True, exclude={"organization_id"})
    corrected = ReportedService.model_validate(
        service.model_dump() | proposed | {"version": max(request.version, service.version) + 1}
    )
    return Decision(True, corrected=corrected)


async def answer_pending(amqp_url: str, catalogue: Catalogue) -> int:
    """Answer every request waiting for the demo clinics (but the silent one); how many."""
    records = demo_records(catalogue)
    silent = silent_clinic(catalogue)
    answered = 0
    for card in catalogue.clinics:
        if card.id != silent:
            answered += await _answer_as(amqp_url, card.id, records)
    return answered


async def _answer_as(
    amqp_url: str, organization_id: UUID, records: dict[str, ReportedService]
) -> int:
    url = await asyncio.to_thread(clinic_url, amqp_url, organization_id)
    connection = await aio_pika.connect_robust(url)
    answered = 0
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        clinic = await Clinic.open(channel, organization_id, user_of(url))
        queue = await channel.get_queue(
            topology.clinic_queue(organization_id, topology.CLINIC_CORRECTIONS)
        )
        door = await channel.get_exchange(topology.CLINIC_INTAKE_EXCHANGE, ensure=False)
        while (message := await queue.get(fail=False)) is not None:
            async with message.process():  # acked once answered: redelivered if this fails
                request = CorrectionRequested.model_validate_json(message.body)
                decision = decide(request, records)
                if decision.corrected is not None:
                    report = ReportRenderedServices(
                        organization_id=organization_id, services=(decision.corrected,)
                    )
                    await asyncio.wait_for(await clinic.send(report), timeout=60)
                answer = AnswerCorrection(
                    correction_id=request.correction_id,
                    accepted=decision.accepted,
                    reason=decision.reason,
                )
                await door.publish(
                    aio_pika.Message(
                        answer.model_dump_json().encode(),
                        content_type="application/json",
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        message_id=str(answer.message_id),
                        user_id=clinic.user,
                    ),
                    routing_key=ANSWERS,
                    mandatory=True,
                )
                answered += 1
    return answered


def main() -> int:
    answered = asyncio.run(answer_pending(CommonSettings().amqp_url, Catalogue.demo()))
    print(f"clinic simulator: {answered} correction requests answered", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
