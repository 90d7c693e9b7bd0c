"""The demo clinics answer the patients' correction requests waiting on their queues
(`clinic.<org>.corrections`), then exit: most are accepted (the corrected record is sent
with a higher version first, as a clinic's information system would), some are rejected with a
reason, and the last demo clinic never answers, so its requests become overdue.

    python -m gosmed.records.correction_simulator [--watch]

With `--watch` it keeps answering as requests come (`make run` runs it so).
"""

import argparse
import asyncio
import sys
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass
from uuid import UUID

import aio_pika
from aio_pika.abc import (
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)

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


Records = dict[str, ReportedService]


@dataclass(frozen=True)
class Decision:
    accepted: bool
    reason: str | None = None
    corrected: ReportedService | None = None


def silent_clinic(catalogue: Catalogue) -> UUID:
    """The demo clinic that never answers."""
    return catalogue.clinics[-1].id


def demo_records(catalogue: Catalogue) -> Records:
    """The demo clinics' own records by their clinic record id (the simulator's history)."""
    return {
        service.clinic_record_id: service
        for person in PATIENTS_WITH_HISTORY
        for services in history(person, DEMO_COUNT, catalogue).values()
        for service in services
    }


def decide(request: CorrectionRequested, records: Records) -> Decision:
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


class DemoClinic:
    """A demo clinic's own connection: takes requests from its queue and answers them
    through the clinics' door."""

    def __init__(
        self, clinic: Clinic, queue: AbstractQueue, door: AbstractExchange, records: Records
    ) -> None:
        self.clinic = clinic
        self.queue = queue
        self.door = door
        self.records = records

    @classmethod
    async def open(
        cls,
        connection: AbstractRobustConnection,
        organization_id: UUID,
        user: str,
        records: Records,
    ) -> "DemoClinic":
        """On the clinic's own connection (`user` is its broker user)."""
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        clinic = await Clinic.open(channel, organization_id, user)
        queue = await channel.get_queue(
            topology.clinic_queue(organization_id, topology.CLINIC_CORRECTIONS)
        )
        door = await channel.get_exchange(topology.CLINIC_INTAKE_EXCHANGE, ensure=False)
        return cls(clinic, queue, door, records)

    async def drain(self) -> int:
        """Answer every request waiting now; how many."""
        answered = 0
        while (message := await self.queue.get(fail=False)) is not None:
            await self.answer(message)
            answered += 1
        return answered

    async def answer(self, message: AbstractIncomingMessage) -> None:
        """Send the corrected record first when accepting, then the answer; acked once
        answered (redelivered if this fails)."""
        async with message.process(requeue=True):
            request = CorrectionRequested.model_validate_json(message.body)
            decision = decide(request, self.records)
            if decision.corrected is not None:
                report = ReportRenderedServices(
                    organization_id=self.clinic.organization_id, services=(decision.corrected,)
                )
                await asyncio.wait_for(await self.clinic.send(report), timeout=60)
            answer = AnswerCorrection(
                correction_id=request.correction_id,
                accepted=decision.accepted,
                reason=decision.reason,
            )
            await self.door.publish(
                aio_pika.Message(
                    answer.model_dump_json().encode(),
                    content_type="application/json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    message_id=str(answer.message_id),
                    user_id=self.clinic.user,
                ),
                routing_key=ANSWERS,
                mandatory=True,
            )


async def answering_clinics(
    amqp_url: str, catalogue: Catalogue, stack: AsyncExitStack
) -> list[DemoClinic]:
    """The demo clinics that answer (all but the silent one), open until `stack` closes."""
    records = demo_records(catalogue)
    silent = silent_clinic(catalogue)
    clinics = []
    for card in catalogue.clinics:
        if card.id != silent:
            url = await asyncio.to_thread(clinic_url, amqp_url, card.id)
            connection = await stack.enter_async_context(await aio_pika.connect_robust(url))
            clinics.append(await DemoClinic.open(connection, card.id, user_of(url), records))
    return clinics


async def answer_pending(amqp_url: str, catalogue: Catalogue) -> int:
    """Answer every request waiting for the demo clinics (but the silent one); how many."""
    async with AsyncExitStack() as stack:
        clinics = await answering_clinics(amqp_url, catalogue, stack)
        return sum([await clinic.drain() for clinic in clinics])


async def watch(amqp_url: str, catalogue: Catalogue) -> None:
    """Answer requests as they come, until cancelled (`make run`)."""
    async with AsyncExitStack() as stack:
        for clinic in await answering_clinics(amqp_url, catalogue, stack):
            await clinic.queue.consume(clinic.answer)
        await asyncio.Future()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--watch", action="store_true", help="keep answering requests as they come")
    arguments = parser.parse_args(argv)
    amqp_url, catalogue = CommonSettings().amqp_url, Catalogue.demo()
    if arguments.watch:
        with suppress(KeyboardInterrupt):
            asyncio.run(watch(amqp_url, catalogue))
        return 0
    answered = asyncio.run(answer_pending(amqp_url, catalogue))
    print(f"clinic simulator: {answered} correction requests answered", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
